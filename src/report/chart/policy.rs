//! Policy tracks of each cell's first seed: circuit-breaker states and retry-budget levels
//! over time, in separate panels since their units differ, and budgets of very different
//! sizes (hundreds of retries left against a few) on panels of their own.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::legend;
use super::overlap::{self, Layer};
use super::style::{self, INK};
use super::timeline::finish_legend;
use crate::compare::analysis::{Analysis, PolicyTrack};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::ops::Range;

/// A tick formatter chosen at run time.
type TickFormat = Box<dyn Fn(&f64) -> String>;

/// Tracks drawn per panel; the rest are left out (and the subtitle says so).
const MAX_TRACKS: usize = 6;

/// The breaker states' levels on the breaker panel's y axis, and their names.
const STATE_LEVELS: [(f64, &str); 3] = [(0.0, "closed"), (0.5, "half-open"), (1.0, "open")];

/// The breaker panel's y axis: the three states with a margin.
const BREAKER_RANGE: Range<f64> = -0.15..1.15;

/// Whether the chart applies: some cell has policy tracks.
pub fn applies(a: &Analysis) -> bool {
    a.cells.iter().any(|c| !c.policy_tracks.is_empty())
}

/// A track with its legend label.
struct Labelled<'a> {
    label: String,
    track: &'a PolicyTrack,
}

/// Draws the breaker panel above the budget panel (or just the one that has tracks).
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    let with_tracks: Vec<_> = a
        .cells
        .iter()
        .filter(|c| !c.policy_tracks.is_empty())
        .collect();
    let several = with_tracks.len() > 1;
    let (mut breakers, mut budgets) = (Vec::new(), Vec::new());
    for cell in &with_tracks {
        for track in &cell.policy_tracks {
            let label = if several {
                label(
                    track,
                    &cell.label(&a.sweep_paths),
                    !a.sweep_paths.is_empty(),
                )
            } else {
                track.site.clone()
            };
            let item = Labelled { label, track };
            if track.policy == "circuit_breaker" {
                breakers.push(item);
            } else {
                budgets.push(item);
            }
        }
    }
    let mut notes = vec!["Step lines: the state or level entered at each change".to_string()];
    if !budgets.is_empty() {
        notes.push("budgets in retries or tokens left".to_string());
    }
    if !several && let Some(cell) = with_tracks.first() {
        notes.push(format!("cell {}", cell.label(&a.sweep_paths)));
    }
    for (kind, items) in [("breaker", &breakers), ("budget", &budgets)] {
        if items.len() > MAX_TRACKS {
            notes.push(format!(
                "first {MAX_TRACKS} of {} {kind} tracks shown",
                items.len()
            ));
        }
    }
    let area = frame::titled(root, title, &notes.join("; "))?;
    let mut t = data::time_range(a).map_or(Bounds::default(), |r| {
        let mut b = Bounds::default();
        b.add(r.start);
        b.add(r.end);
        b
    });
    for item in breakers.iter().chain(&budgets) {
        for &(x, _) in &item.track.points {
            t.add(x);
        }
    }
    let (t0, t1) = t.get().unwrap_or((0.0, 1.0));
    let x_range = t0..if t1 > t0 { t1 } else { t0 + 1.0 };
    breakers.truncate(MAX_TRACKS);
    budgets.truncate(MAX_TRACKS);
    let mut panels: Vec<(Vec<Labelled<'_>>, Panel)> = Vec::new();
    if !breakers.is_empty() {
        panels.push((breakers, Panel::Breakers));
    }
    for group in by_scale(budgets) {
        panels.push((group, Panel::Budgets));
    }
    if panels.is_empty() {
        return Ok(());
    }
    for ((items, kind), part) in panels.iter().zip(area.split_evenly((panels.len(), 1))) {
        panel(&part, items, x_range.clone(), *kind)?;
    }
    Ok(())
}

/// Largest levels more than this many times apart put budget tracks on separate panels.
const SCALE_GAP: f64 = 10.0;

/// Budget tracks grouped by scale, in their order: a ratio budget (hundreds of retries left)
/// and a concurrency budget (a few) on one axis would flatten the small one onto zero. Two
/// groups at most: the tracks whose largest level is within [`SCALE_GAP`] of the largest
/// of all, and the rest.
fn by_scale(items: Vec<Labelled<'_>>) -> Vec<Vec<Labelled<'_>>> {
    let size = |item: &Labelled<'_>| {
        let levels = item.track.points.iter().map(|p| p.1.abs());
        levels.filter(|v| v.is_finite()).fold(0.0, f64::max)
    };
    let largest = items.iter().map(size).fold(0.0, f64::max);
    let (large, small): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|item| size(item) * SCALE_GAP >= largest);
    [large, small]
        .into_iter()
        .filter(|g| !g.is_empty())
        .collect()
}

/// A track's legend label when several cells have tracks: "breaker (web->api), variant
/// breaker", so a variant named like a policy cannot pass for the policy; "cell" instead of
/// "variant" in a sweep, whose cell labels carry the swept values too.
fn label(track: &PolicyTrack, cell: &str, sweep: bool) -> String {
    let kind = if track.policy == "circuit_breaker" {
        "breaker"
    } else {
        "budget"
    };
    let what = if sweep { "cell" } else { "variant" };
    format!("{kind} ({}), {what} {cell}", track.site)
}

/// Which panel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Panel {
    Breakers,
    Budgets,
}

/// Steps through `points` (sorted by time, finite only) up to `end`, nudged by `offset`.
fn steps(points: &[(f64, f64)], end: f64, offset: f64) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    pts.sort_by(|p, q| p.0.total_cmp(&q.0));
    let mut out = Vec::new();
    for (i, &(x, y)) in pts.iter().enumerate() {
        let next = pts.get(i + 1).map_or(end.max(x), |p| p.0);
        out.push((x, y + offset));
        out.push((next, y + offset));
    }
    out
}

/// One panel of tracks.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[Labelled<'_>],
    x_range: Range<f64>,
    kind: Panel,
) -> DrawResult<(), DB> {
    let mid = (items.len() as f64 - 1.0) / 2.0;
    let layers: Vec<Layer> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            // Breakers share three levels: nudge each track so overlapping ones stay visible.
            let offset = if kind == Panel::Breakers {
                (i as f64 - mid) * 0.025
            } else {
                0.0
            };
            let line = match kind {
                Panel::Breakers => steps(
                    &from_closed(&item.track.points, x_range.start),
                    x_range.end,
                    offset,
                ),
                Panel::Budgets => steps(&item.track.points, x_range.end, offset),
            };
            Layer {
                owner: i,
                group: 0,
                style: style::series_style(i),
                width: 2,
                runs: if line.is_empty() {
                    Vec::new()
                } else {
                    vec![line]
                },
            }
        })
        .collect();
    // Budget tracks that coincide (the same budget in two variants) nest; the legend names
    // a track hidden under a later one.
    let plan = overlap::plan(&layers, items.len());
    let labels: Vec<String> = items.iter().map(|item| item.label.clone()).collect();
    let styles: Vec<_> = layers.iter().map(|l| l.style).collect();
    let mut entries = plan.entries(&labels, &styles, 2);
    entries.extend(plan.nested_entry());
    let y_range = match kind {
        Panel::Breakers => BREAKER_RANGE,
        Panel::Budgets => {
            let mut b = Bounds::default();
            b.add(0.0);
            for item in items {
                for &(_, y) in &item.track.points {
                    b.add(y);
                }
            }
            let (lo, hi) = b.get().unwrap_or((0.0, 1.0));
            data::padded(lo, hi, 1.0, 0.0..f64::INFINITY)
        }
    };
    // Grid lines at round budget levels, or at the three breaker states only.
    let y_axis = match kind {
        Panel::Breakers => data::Ticked::at(y_range.clone(), STATE_LEVELS.map(|(l, _)| l).to_vec()),
        Panel::Budgets => data::ticked(y_range.clone(), 8),
    };
    let (plot_area, legend_panel) = legend::reserve_panel(area, &entries)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(10)
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(4)
        .x_label_area_size(40)
        .y_label_area_size(84)
        .build_cartesian_2d(x_range.clone(), y_axis)?;
    let x_span = x_range.end - x_range.start;
    let y_span = y_range.end - y_range.start;
    let x_fmt = |v: &f64| style::linear_tick(*v, x_span);
    let (y_desc, y_fmt): (&str, TickFormat) = match kind {
        Panel::Breakers => ("breaker state", Box::new(|_: &f64| String::new())),
        Panel::Budgets => (
            "budget left",
            Box::new(move |v: &f64| style::linear_tick(*v, y_span)),
        ),
    };
    frame::mesh(&mut chart, "time (s)", y_desc, &x_fmt, &*y_fmt)?;
    if kind == Panel::Breakers {
        state_labels(&chart, &plot_area.use_screen_coord(), &x_range)?;
    }
    let drawn = overlap::draw(&mut chart, &layers, &plan, <[_]>::to_vec)?;
    finish_legend(&chart, legend_panel, &entries, &drawn)
}

/// A breaker track from `start`: every breaker starts closed, and its track lists only
/// the changes, so it gains a closed step from `start` to its first change.
fn from_closed(points: &[(f64, f64)], start: f64) -> Vec<(f64, f64)> {
    let first = points
        .iter()
        .map(|p| p.0)
        .filter(|x| x.is_finite())
        .reduce(f64::min);
    let mut out = Vec::with_capacity(points.len() + 1);
    if first.is_none_or(|x| x > start) {
        out.push((start, STATE_LEVELS[0].0));
    }
    out.extend_from_slice(points);
    out
}

/// Writes "closed", "half-open" and "open" beside their grid lines.
fn state_labels<DB: DrawingBackend, X, Y>(
    chart: &frame::Chart<'_, DB, X, Y>,
    screen: &DrawingArea<DB, Shift>,
    x_range: &Range<f64>,
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let (px, _) = chart.plotting_area().get_pixel_range();
    for (level, name) in STATE_LEVELS {
        let (_, y) = chart.backend_coord(&(x_range.start, level));
        let s = style::anchored(&style::text(13.0, INK), HPos::Right, VPos::Center);
        screen.draw(&Text::new(name, (px.start - 12, y), s))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_policy_the_site_and_the_cell() {
        let track = PolicyTrack {
            site: "web->api".to_string(),
            policy: "retry_budget".to_string(),
            points: Vec::new(),
        };
        assert_eq!(
            label(&track, "breaker", false),
            "budget (web->api), variant breaker"
        );
        assert_eq!(
            label(&track, "base, rate_per_s=200", true),
            "budget (web->api), cell base, rate_per_s=200"
        );
    }

    #[test]
    fn budgets_of_different_scales_get_their_own_panels() {
        let track = |points: Vec<(f64, f64)>| PolicyTrack {
            site: "web->api".to_string(),
            policy: "retry_budget".to_string(),
            points,
        };
        let (ratio, envoy, other) = (
            track(vec![(0.0, 100.0), (1.0, 550.0)]),
            track(vec![(0.0, 3.0), (1.0, -1.2)]),
            track(vec![(0.0, 80.0)]),
        );
        let labelled = |t| Labelled {
            label: String::new(),
            track: t,
        };
        let groups = by_scale(vec![labelled(&ratio), labelled(&envoy), labelled(&other)]);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 1], "550 and 80 together, 3 apart");
        assert!(std::ptr::eq(groups[1][0].track, &envoy));
        assert_eq!(by_scale(vec![labelled(&ratio), labelled(&other)]).len(), 1);
        assert!(by_scale(Vec::new()).is_empty());
    }

    #[test]
    fn a_breaker_track_starts_closed() {
        assert_eq!(
            from_closed(&[(60.0, 1.0), (65.0, 0.5)], 30.0),
            vec![(30.0, 0.0), (60.0, 1.0), (65.0, 0.5)]
        );
        // A change at the very start needs no closed step before it; no change at all is
        // closed throughout.
        assert_eq!(from_closed(&[(30.0, 1.0)], 30.0), vec![(30.0, 1.0)]);
        assert_eq!(from_closed(&[], 30.0), vec![(30.0, 0.0)]);
    }

    #[test]
    fn steps_hold_each_value_until_the_next_change() {
        let s = steps(&[(0.0, 0.0), (2.0, 1.0), (f64::NAN, 0.5)], 5.0, 0.0);
        assert_eq!(s, vec![(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (5.0, 1.0)]);
    }
}
