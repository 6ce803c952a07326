//! The latency distribution's tail: per cell, the fraction of successful requests slower
//! than x, on log-log axes.
//!
//! A plain CDF squeezes everything a reader cares about (p99, p99.9) into the last pixels
//! under 100%. Plotting 1 - CDF on a logarithmic axis gives each decade of the tail the same
//! height: the line crosses 10% at p90, 1% at p99 and 0.1% at p99.9, marked by labelled
//! reference lines (darker than the grid), so percentiles are read straight off the chart and the tails of the
//! cells compare at a glance. The logarithmic x axis keeps fast medians and slow tails on
//! one chart.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::legend;
use super::overlap::{self, Layer};
use super::style::{self, MUTED};
use super::thin;
use super::timeline::{cells_legend, finish_legend};
use crate::compare::analysis::{Analysis, Cell};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// How far, in pixels, a drawn line may stray from the full distribution: one point per
/// histogram bin would make the SVG hundreds of kilobytes without changing what it shows.
const THIN_PX: f64 = 0.35;

/// Whether the chart applies: some cell has a distribution with a plottable point.
pub fn applies(a: &Analysis) -> bool {
    a.cells.iter().any(|c| !tail(c).is_empty())
}

/// The cell's (latency ms, % slower) points where both are positive and finite.
fn tail(cell: &Cell) -> Vec<(f64, f64)> {
    cell.latency_cdf
        .iter()
        .map(|&(ms, f)| (ms, (1.0 - f) * 100.0))
        .filter(|&(ms, pct)| ms.is_finite() && pct.is_finite() && ms > 0.0 && pct > 0.0)
        .collect()
}

/// Where the x axis starts: the decade at or below the lowest p1 across cells (the first
/// point with at most 99% slower), so the few fastest requests, which can sit decades
/// below the rest, do not take the chart's width; `None` without points.
fn x_start(tails: &[Vec<(f64, f64)>]) -> Option<f64> {
    let mut lowest = Bounds::default();
    for t in tails {
        let p1 = t.iter().find(|&&(_, pct)| pct <= 99.0).or(t.first());
        lowest.add_opt(p1.map(|&(ms, _)| ms));
    }
    let (lo, _) = lowest.get()?;
    Some(10f64.powf(lo.log10().floor()))
}

/// `tail` from `start` on: the points below it are dropped and the curve begins at `start`
/// with the share slower than the last dropped point.
fn clip(tail: &[(f64, f64)], start: f64) -> Vec<(f64, f64)> {
    let first = tail.partition_point(|&(ms, _)| ms < start);
    let mut out = Vec::with_capacity(tail.len() - first + 1);
    if first > 0 && tail.get(first).is_none_or(|&(ms, _)| ms > start) {
        out.push((start, tail[first - 1].1));
    }
    out.extend_from_slice(&tail[first..]);
    out
}

/// Draws the tail chart.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    let subtitle = "Share of successful requests slower than x (1 - CDF), all seeds merged; \
                    a line crosses 1% at its p99 and 0.1% at its p99.9";
    let area = frame::titled(root, title, subtitle)?;
    let tails: Vec<Vec<(f64, f64)>> = a.cells.iter().map(tail).collect();
    let Some(start) = x_start(&tails) else {
        return Ok(());
    };
    let tails: Vec<Vec<(f64, f64)>> = tails.iter().map(|t| clip(t, start)).collect();
    let (mut xs, mut ys) = (Bounds::default(), Bounds::default());
    for &(ms, pct) in tails.iter().flatten() {
        xs.add(ms);
        ys.add(pct);
    }
    let (Some((_, x_hi)), Some((y_lo, _))) = (xs.get(), ys.get()) else {
        return Ok(());
    };
    // A hair below the decade, so the axis labels its first tick.
    let x_range = start * (1.0 - 1e-9)..(x_hi * 1.25).max(start * 10.0);
    let y_range = data::decades(y_lo.max(1e-4), 100.0);
    let layers: Vec<Layer> = tails
        .iter()
        .enumerate()
        .map(|(i, t)| Layer {
            owner: i,
            group: 0,
            style: style::series_style(i),
            width: 2,
            runs: if t.is_empty() {
                Vec::new()
            } else {
                vec![t.clone()]
            },
        })
        .collect();
    // Coincidence is found on the full distributions; each piece is thinned on its own, so
    // equal pieces stay equal.
    let plan = overlap::plan(&layers, a.cells.len());
    let mut entries = cells_legend(a, 2, &plan);
    entries.extend(plan.nested_entry());
    let (plot_area, panel) = legend::reserve_panel(&area, &entries)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(12)
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(6)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range.clone().log_scale(), y_range.clone().log_scale())?;
    frame::mesh(
        &mut chart,
        "latency (ms, log scale)",
        "requests slower than x (%, log scale)",
        &|v| style::log_tick(*v),
        &|v| style::log_tick(*v),
    )?;
    let screen = chart.plotting_area().use_screen_coord();
    let (px, _) = chart.plotting_area().get_pixel_range();
    for (pct, name) in [
        (10.0, "p90"),
        (1.0, "p99"),
        (0.1, "p99.9"),
        (0.01, "p99.99"),
    ] {
        if pct <= y_range.start || pct >= y_range.end {
            continue;
        }
        // Solid, not dashed: plotters writes every dash as its own SVG element.
        chart.draw_series(LineSeries::new(
            [(x_range.start, pct), (x_range.end, pct)],
            MUTED.mix(0.45).stroke_width(1),
        ))?;
        let (_, y) = chart.backend_coord(&(x_range.start, pct));
        let s = style::anchored(&style::text(12.0, MUTED), HPos::Left, VPos::Bottom);
        screen.draw(&Text::new(name, (px.start + 6, y - 2), s))?;
    }
    let (px, py) = chart.plotting_area().get_pixel_range();
    let to_px = |(ms, pct): (f64, f64)| {
        let along = |v: f64, r: &std::ops::Range<f64>| (v / r.start).ln() / (r.end / r.start).ln();
        (
            f64::from(px.start) + along(ms, &x_range) * f64::from(px.end - px.start),
            f64::from(py.end) - along(pct, &y_range) * f64::from(py.end - py.start),
        )
    };
    let lines = overlap::draw(&mut chart, &layers, &plan, |piece| {
        thin::thin(piece, to_px, THIN_PX)
    })?;
    finish_legend(&chart, panel, &entries, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_starts_a_decade_below_the_lowest_p1() {
        let fast = vec![(1e-5, 99.99), (0.3, 99.5), (0.4, 98.0), (20.0, 1.0)];
        let slow = vec![(2.0, 99.0), (50.0, 1.0)];
        assert_eq!(x_start(&[fast.clone(), slow]), Some(0.1));
        assert_eq!(x_start(&[]), None);
        assert_eq!(
            clip(&fast, 0.1),
            vec![(0.1, 99.99), (0.3, 99.5), (0.4, 98.0), (20.0, 1.0)]
        );
        assert_eq!(clip(&fast, 1e-6), fast);
        assert_eq!(clip(&fast, 0.3)[0], (0.3, 99.5));
    }
}
