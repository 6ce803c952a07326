//! Per-cell summary: availability and p99 latency side by side, each a dot (mean across
//! seeds) with its 95% confidence interval, cells along the x axis.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::style::{self, GRID, INK, MUTED};
use crate::compare::analysis::Analysis;
use crate::compare::metric::Metric;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The mark on a cell's label when its paired difference from base is significant.
pub const MARK: &str = " *";

/// Draws the two panels.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    let subtitle = "Dot: mean across seeds; bar: 95% confidence interval; \
                    * paired difference from base (same seeds) is significant, 95% CI excludes 0";
    let area = frame::titled(root, title, subtitle)?;
    let panels = area.split_evenly((1, 2));
    for (panel, metric) in panels.iter().zip([Metric::Availability, Metric::P99Ms]) {
        panel_for(panel, a, metric)?;
    }
    Ok(())
}

/// One panel: `metric` per cell.
fn panel_for<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &Analysis,
    metric: Metric,
) -> DrawResult<(), DB> {
    let scale = if metric.is_fraction() { 100.0 } else { 1.0 };
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite()).map(|v| v * scale);
    let mut bounds = Bounds::default();
    let mut labels = Vec::new();
    for cell in &a.cells {
        let m = cell.metric(metric);
        bounds.add_opt(finite(m.estimate.mean));
        if let Some((lo, hi)) = m.estimate.ci {
            bounds.add_opt(finite(Some(lo)));
            bounds.add_opt(finite(Some(hi)));
        }
        let significant = m.diff.and_then(|d| d.significant) == Some(true);
        let mark = if significant { MARK } else { "" };
        labels.push(format!(
            "{}{mark}",
            style::truncate(&cell.label(&a.sweep_paths), 28)
        ));
    }
    let (lo, hi) = bounds.get().unwrap_or((0.0, 1.0));
    let caption = if metric.is_fraction() {
        "Availability"
    } else {
        "p99 latency"
    };
    let (y_range, y_desc) = if metric.is_fraction() {
        (data::percent_range(lo, hi, 0.5), "availability (%)")
    } else {
        (
            data::padded(lo, hi, 0.0, 0.0..f64::INFINITY),
            "p99 latency (ms)",
        )
    };
    let (w, _) = area.dim_in_pixel();
    let depth = frame::category_label_depth(area, &labels, w.saturating_sub(110))?;
    let n = a.cells.len().max(1);
    let x_range = -0.5..n as f64 - 0.5;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::text(15.0, INK))
        .margin_top(6)
        .margin_right(20)
        .margin_left(8)
        .margin_bottom(4)
        .x_label_area_size(depth)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, data::ticked(y_range.clone(), 8))?;
    let y_span = y_range.end - y_range.start;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|v| {
            if metric.is_fraction() {
                style::percent_tick(*v, y_span)
            } else {
                style::linear_tick(*v, y_span)
            }
        })
        .y_labels(8)
        .y_desc(y_desc)
        .label_style(style::text(13.0, INK))
        .axis_desc_style(style::text(14.0, INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED.stroke_width(1))
        .draw()?;
    for (i, cell) in a.cells.iter().enumerate() {
        let color = style::series_style(i).color;
        let e = cell.metric(metric).estimate;
        let Some(mean) = finite(e.mean) else {
            continue;
        };
        if let Some((lo, hi)) = e.ci
            && let (Some(lo), Some(hi)) = (finite(Some(lo)), finite(Some(hi)))
        {
            frame::error_bars(&mut chart, &[(i as f64, lo, hi)], color, 6)?;
        }
        chart.draw_series(std::iter::once(Circle::new(
            (i as f64, mean),
            5,
            color.filled(),
        )))?;
    }
    frame::category_labels(&chart, &area.use_screen_coord(), &labels, depth)
}
