//! Sweep curves: a metric against the first swept path's value, one line per variant (and
//! per combination of the other swept paths' values), with 95% confidence intervals.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::legend::{self, Entry};
use super::style;
use super::timeline::finish_legend;
use crate::compare::analysis::{Analysis, Cell};
use crate::compare::metric::Metric;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One cell on a line: x, mean, and its interval.
type SweepPoint = (f64, Option<f64>, Option<(f64, f64)>);

/// The metric a sweep chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Availability, in %.
    Availability,
    /// p99 latency, in ms.
    P99,
}

/// Whether sweep charts apply: the study has a sweep and cells.
pub fn applies(a: &Analysis) -> bool {
    !a.sweep_paths.is_empty() && !a.cells.is_empty()
}

/// The first swept path's short name ("rate_per_s").
pub fn x_name(a: &Analysis) -> String {
    let path = a.sweep_paths.first().map_or("", String::as_str);
    path.rsplit('.').next().unwrap_or(path).to_string()
}

/// Where a cell sits on the x axis.
enum XAxis {
    /// The first swept value as a number (durations in seconds).
    Numbers,
    /// Its position among the distinct first swept values, labelled with their text.
    Categories(Vec<String>),
}

impl XAxis {
    /// The axis for `a`: numbers when every cell has a numeric first value.
    fn of(a: &Analysis) -> XAxis {
        let numeric = a.cells.iter().all(|c| {
            c.point_numbers
                .first()
                .copied()
                .flatten()
                .is_some_and(f64::is_finite)
        });
        if numeric {
            return XAxis::Numbers;
        }
        let mut texts: Vec<String> = Vec::new();
        for c in &a.cells {
            let t = c.point.first().cloned().unwrap_or_default();
            if !texts.contains(&t) {
                texts.push(t);
            }
        }
        XAxis::Categories(texts)
    }

    /// The x of `cell`.
    fn x(&self, cell: &Cell) -> f64 {
        match self {
            XAxis::Numbers => cell.point_numbers.first().copied().flatten().unwrap_or(0.0),
            XAxis::Categories(texts) => {
                let t = cell.point.first().map_or("", String::as_str);
                texts.iter().position(|x| x == t).unwrap_or(0) as f64
            }
        }
    }
}

/// The cells grouped into lines: same variant and same values of the other swept paths,
/// in order of first appearance.
fn lines(a: &Analysis) -> Vec<(String, Vec<&Cell>)> {
    let mut out: Vec<(String, Vec<&Cell>)> = Vec::new();
    for cell in &a.cells {
        let mut label = cell.variant.clone();
        for (path, value) in a.sweep_paths.iter().zip(&cell.point).skip(1) {
            let short = path.rsplit('.').next().unwrap_or(path);
            label.push_str(&format!(", {short}={value}"));
        }
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, cells)) => cells.push(cell),
            None => out.push((label, vec![cell])),
        }
    }
    out
}

/// Draws `shown` against the first swept path.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
    shown: Shown,
) -> DrawResult<(), DB> {
    let subtitle = "Dot: mean across seeds; bar: 95% confidence interval; lines offset \
                    sideways a little so their bars stay apart";
    let area = frame::titled(root, title, subtitle)?;
    let (metric, scale, y_desc) = match shown {
        Shown::Availability => (Metric::Availability, 100.0, "availability (%)"),
        Shown::P99 => (Metric::P99Ms, 1.0, "p99 latency (ms)"),
    };
    let axis = XAxis::of(a);
    let groups = lines(a);
    let (mut xs, mut ys) = (Bounds::default(), Bounds::default());
    for cell in &a.cells {
        xs.add(axis.x(cell));
        let e = cell.metric(metric).estimate;
        ys.add_opt(e.mean.map(|v| v * scale));
        if let Some((lo, hi)) = e.ci {
            ys.add(lo * scale);
            ys.add(hi * scale);
        }
    }
    let (x_lo, x_hi) = xs.get().unwrap_or((0.0, 1.0));
    let x_range = match &axis {
        XAxis::Numbers => data::padded(x_lo, x_hi, 1.0, f64::NEG_INFINITY..f64::INFINITY),
        XAxis::Categories(_) => -0.5..x_hi + 0.5,
    };
    let dodge = (x_range.end - x_range.start) * 0.006;
    let (y_lo, y_hi) = ys.get().unwrap_or((0.0, 1.0));
    let y_range = if metric.is_fraction() {
        data::percent_range(y_lo, y_hi, 0.5)
    } else {
        data::padded(y_lo, y_hi, 0.0, 0.0..f64::INFINITY)
    };

    let entries: Vec<Entry> = groups
        .iter()
        .enumerate()
        .map(|(i, (label, _))| Entry::line(label.clone(), style::series_style(i), 2))
        .collect();
    let (plot_area, panel) = legend::reserve_panel(&area, &entries)?;
    let x_depth = match &axis {
        XAxis::Numbers => 44,
        XAxis::Categories(texts) => {
            let (w, _) = plot_area.dim_in_pixel();
            frame::category_label_depth(&plot_area, texts, w.saturating_sub(110))? + 20
        }
    };
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(12)
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(6)
        .x_label_area_size(x_depth)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range.clone(), data::ticked(y_range.clone(), 8))?;
    let (x_span, y_span) = (x_range.end - x_range.start, y_range.end - y_range.start);
    let path = a.sweep_paths.first().map_or("", String::as_str);
    let x_desc = match &axis {
        XAxis::Numbers
            if a.cells
                .iter()
                .any(|c| c.point.first().is_some_and(|t| t.parse::<f64>().is_err())) =>
        {
            format!("{path} (s)")
        }
        _ => path.to_string(),
    };
    let numbers = matches!(axis, XAxis::Numbers);
    let x_fmt = |v: &f64| {
        if numbers {
            style::linear_tick(*v, x_span)
        } else {
            String::new()
        }
    };
    frame::mesh(&mut chart, &x_desc, y_desc, &x_fmt, &|v| {
        if metric.is_fraction() {
            style::percent_tick(*v, y_span)
        } else {
            style::linear_tick(*v, y_span)
        }
    })?;
    if let XAxis::Categories(texts) = &axis {
        frame::category_labels(&chart, &plot_area.use_screen_coord(), texts, x_depth - 20)?;
    }
    let mut drawn = Vec::new();
    let mid = (groups.len() as f64 - 1.0) / 2.0;
    for (g, (_, cells)) in groups.iter().enumerate() {
        let s = style::series_style(g);
        let shift = (g as f64 - mid) * dodge;
        let mut points: Vec<SweepPoint> = cells
            .iter()
            .map(|c| {
                let e = c.metric(metric).estimate;
                let ci = e.ci.map(|(lo, hi)| (lo * scale, hi * scale));
                (axis.x(c) + shift, e.mean.map(|v| v * scale), ci)
            })
            .collect();
        points.sort_by(|p, q| p.0.total_cmp(&q.0));
        let bars: Vec<(f64, f64, f64)> = points
            .iter()
            .filter_map(|&(x, _, ci)| ci.map(|(lo, hi)| (x, lo, hi)))
            .collect();
        frame::error_bars(&mut chart, &bars, s.color, 4)?;
        let runs = data::runs(points.iter().map(|&(x, y, _)| (x, y)));
        for run in &runs {
            frame::line(&mut chart, run, s, 2)?;
            chart.draw_series(run.iter().map(|&p| Circle::new(p, 4, s.color.filled())))?;
        }
        drawn.extend(runs);
        drawn.extend(bars.iter().map(|&(x, lo, hi)| vec![(x, lo), (x, hi)]));
    }
    finish_legend(&chart, panel, &entries, &drawn)
}
