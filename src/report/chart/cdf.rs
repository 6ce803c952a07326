//! The latency distribution's tail: per cell, the fraction of successful requests slower
//! than x, on log-log axes.
//!
//! A plain CDF squeezes everything a reader cares about (p99, p99.9) into the last pixels
//! under 100%. Plotting 1 - CDF on a logarithmic axis gives each decade of the tail the same
//! height: the line crosses 10% at p90, 1% at p99 and 0.1% at p99.9, marked by labelled
//! reference lines, so percentiles are read straight off the chart and the tails of the
//! cells compare at a glance. The logarithmic x axis keeps fast medians and slow tails on
//! one chart.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::legend;
use super::style::{self, MUTED};
use super::timeline::{cells_legend, finish_legend};
use crate::compare::analysis::{Analysis, Cell};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

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
    let (mut xs, mut ys) = (Bounds::default(), Bounds::default());
    for &(ms, pct) in tails.iter().flatten() {
        xs.add(ms);
        ys.add(pct);
    }
    let (Some((x_lo, x_hi)), Some((y_lo, _))) = (xs.get(), ys.get()) else {
        return Ok(());
    };
    let x_range = (x_lo * 0.8)..(x_hi * 1.25).max(x_lo * 2.0);
    let y_range = data::decades(y_lo.max(1e-4), 100.0);
    let entries = cells_legend(a, 2);
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
        chart.draw_series(DashedLineSeries::new(
            [(x_range.start, pct), (x_range.end, pct)],
            4,
            4,
            MUTED.mix(0.7).stroke_width(1),
        ))?;
        let (_, y) = chart.backend_coord(&(x_range.start, pct));
        let s = style::anchored(&style::text(12.0, MUTED), HPos::Left, VPos::Bottom);
        screen.draw(&Text::new(name, (px.start + 6, y - 2), s))?;
    }
    for (i, t) in tails.iter().enumerate() {
        frame::line(&mut chart, t, style::series_style(i), 2)?;
    }
    finish_legend(&chart, panel, &entries, &tails)
}
