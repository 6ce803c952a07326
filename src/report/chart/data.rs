//! Small data helpers shared by the charts: finite bounds, padded ranges, round ticks and
//! unbroken runs of points.

use crate::compare::analysis::Analysis;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

/// The smallest and largest finite values seen; NaN and infinities are skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bounds {
    seen: Option<(f64, f64)>,
}

impl Bounds {
    /// Takes `v` into account when it is finite.
    pub fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.seen = Some(match self.seen {
                None => (v, v),
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
            });
        }
    }

    /// Takes `v` into account when it is present and finite.
    pub fn add_opt(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.add(v);
        }
    }

    /// The (smallest, largest) finite value, if any was seen.
    pub fn get(&self) -> Option<(f64, f64)> {
        self.seen
    }
}

/// `lo..hi` widened to at least `min_span`, padded by 6% on each side, then clamped to
/// `limits`.
pub fn padded(lo: f64, hi: f64, min_span: f64, limits: Range<f64>) -> Range<f64> {
    // A single value (one seed, one cell) gets a span of its own, centred on it.
    let min_span = if min_span > 0.0 || hi > lo {
        min_span
    } else {
        (lo.abs() * 0.1).max(1.0)
    };
    let (mut lo, mut hi) = (lo, hi);
    if hi - lo < min_span {
        let mid = (lo + hi) / 2.0;
        lo = mid - min_span / 2.0;
        hi = mid + min_span / 2.0;
    }
    let pad = (hi - lo) * 0.06;
    let lo = (lo - pad).max(limits.start);
    let hi = (hi + pad).min(limits.end);
    if hi > lo {
        lo..hi
    } else {
        let width = if min_span > 0.0 {
            min_span
        } else {
            (lo.abs() * 0.1).max(1.0)
        };
        lo..lo + width
    }
}

/// Round tick values inside `range`: the multiples of the finest step of 1, 2 or 5 times a
/// power of ten that gives at most `max` of them. Unlike plotters' own choice, this keeps a
/// round value that lies right at an end of the range (100% at the top of an availability
/// axis padded just past it).
pub fn round_ticks(range: &Range<f64>, max: usize) -> Vec<f64> {
    let span = range.end - range.start;
    if !(span > 0.0 && span.is_finite()) || max == 0 {
        return Vec::new();
    }
    let mut exponent = (span / max as f64).log10().floor() as i32 - 1;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * 10f64.powi(exponent);
            // A value a hair past an end (from rounding) still counts as inside.
            let eps = step * 1e-9;
            let first = ((range.start - eps) / step).ceil() as i64;
            let last = ((range.end + eps) / step).floor() as i64;
            if last - first < max as i64 {
                let at = |i: i64| (i as f64 * step).clamp(range.start, range.end);
                return (first..=last).map(at).collect();
            }
        }
        exponent += 1;
    }
}

/// `range` as a plotters axis whose ticks (and grid lines) are [`round_ticks`].
pub fn ticked(range: Range<f64>, max: usize) -> Ticked {
    let ticks = round_ticks(&range, max);
    Ticked::at(range, ticks)
}

/// A linear axis with ticks (and grid lines) at given values, and no light grid lines.
/// (plotters' own `WithKeyPoints` does not carry the label formatting its axes need.)
#[derive(Clone)]
pub struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// `range` with ticks at `ticks`.
    pub fn at(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Ticked {
            inner: range.into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type ValueType = f64;
    // Every chart sets its own label formatter; this only satisfies plotters' bounds.
    type FormatOption = DefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// A range for percentages from `lo` to `hi`: zoomed to the data (at least `min_span` wide)
/// within 0-100%, then padded past 0 or 100 when it reaches them, so a line at exactly 0% is
/// not hidden in the x axis and one at 100% does not run along the plot's edge. Label its
/// ticks with [`super::style::percent_tick`], which leaves those beyond 0-100% blank.
pub fn percent_range(lo: f64, hi: f64, min_span: f64) -> Range<f64> {
    let r = padded(lo, hi, min_span, 0.0..100.0);
    let pad = (r.end - r.start) * 0.04;
    r.start.min(lo - pad)..r.end.max(hi + pad)
}

/// A logarithmic range covering `lo..hi` (both positive), widened to whole decades.
pub fn decades(lo: f64, hi: f64) -> Range<f64> {
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil());
    if hi > lo { lo..hi } else { lo..lo * 10.0 }
}

/// The runs of consecutive points whose value is present and finite: a missing value
/// breaks the line instead of joining its neighbours.
pub fn runs(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if x.is_finite() && y.is_finite() => current.push((x, y)),
            _ => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The time axis of the time-series charts: from the first bucket's start to the last
/// bucket's end, in seconds; `None` when no cell has a time series.
pub fn time_range(a: &Analysis) -> Option<Range<f64>> {
    let mut b = Bounds::default();
    for row in a.cells.iter().flat_map(|c| &c.timeline) {
        b.add(row.t_s);
    }
    let (lo, hi) = b.get()?;
    let bucket = if a.bucket_s.is_finite() && a.bucket_s > 0.0 {
        a.bucket_s
    } else {
        1.0
    };
    Some(lo.min(0.0)..hi + bucket)
}

/// Points along the polylines `lines`, with a few more between each pair, so a legend can
/// see where lines run and not only where their vertices are.
pub fn samples(lines: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for line in lines {
        for pair in line.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            for k in 0..4 {
                let f = f64::from(k) / 4.0;
                out.push((x0 + (x1 - x0) * f, y0 + (y1 - y0) * f));
            }
        }
        out.extend(line.last().copied());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_missing_and_non_finite_values() {
        let r = runs([
            (0.0, Some(1.0)),
            (1.0, Some(2.0)),
            (2.0, None),
            (3.0, Some(f64::INFINITY)),
            (4.0, Some(3.0)),
        ]);
        assert_eq!(r, vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(4.0, 3.0)]]);
    }

    #[test]
    fn percent_ranges_leave_room_around_0_and_100() {
        let r = percent_range(0.0, 100.0, 0.5);
        assert!(r.start < -1.0 && r.end > 101.0, "{r:?}");
        let r = percent_range(100.0, 100.0, 0.5);
        assert!(r.start < 99.9 && r.end > 100.005, "{r:?}");
        let r = percent_range(40.0, 60.0, 0.5);
        assert!(r.start > 0.0 && r.end < 100.0, "{r:?}");
    }

    #[test]
    fn round_ticks_keep_a_round_value_at_an_end() {
        // The quickstart's availability axis: plotters' own ticks stopped at 99.8.
        let r = percent_range(98.5, 100.0, 0.5);
        let ticks = round_ticks(&r, 8);
        assert_eq!(ticks.len(), 8, "{r:?}: {ticks:?}");
        assert!((ticks[0] - 98.6).abs() < 1e-9 && (ticks[7] - 100.0).abs() < 1e-9);
        assert_eq!(
            round_ticks(&(-4.0..104.0), 8),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(round_ticks(&(-0.15..1.15), 3), vec![0.0, 0.5, 1.0]);
        assert_eq!(round_ticks(&(-0.15..1.15), 2), vec![0.0, 1.0]);
        assert_eq!(round_ticks(&(0.0..1.0), 0), Vec::<f64>::new());
        assert_eq!(round_ticks(&(1.0..1.0), 8), Vec::<f64>::new());
        for (lo, hi) in [(0.001, 0.0013), (3.0, 250.0), (-7.5, 12.0), (1e6, 3.7e9)] {
            let t = round_ticks(&(lo..hi), 8);
            assert!(!t.is_empty() && t.len() <= 8, "{lo}..{hi}: {t:?}");
            assert!(t.iter().all(|v| (lo..=hi).contains(v)), "{lo}..{hi}: {t:?}");
        }
    }

    #[test]
    fn ranges_never_collapse() {
        let r = padded(100.0, 100.0, 1.0, 0.0..100.0);
        assert!(r.start < 100.0 && r.end == 100.0, "{r:?}");
        let r = padded(5.0, 5.0, 0.0, 0.0..f64::INFINITY);
        assert!(r.end > r.start, "{r:?}");
        let r = padded(29.5, 29.5, 0.0, 0.0..f64::INFINITY);
        assert!(
            r.start < 29.0 && r.end > 30.0,
            "one value sits mid-range: {r:?}"
        );
        assert_eq!(decades(3.0, 250.0), 1.0..1000.0);
        assert_eq!(decades(10.0, 10.0), 10.0..100.0);
        let mut b = Bounds::default();
        b.add(f64::NAN);
        b.add(f64::INFINITY);
        assert_eq!(b.get(), None);
    }
}
