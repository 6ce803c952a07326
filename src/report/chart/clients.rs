//! Availability per client: one category per client along the x axis, each cell a dot
//! (mean across seeds) with its 95% confidence interval, side by side, so a chart shows
//! who paid (the sheddable client, the flooding one) where the overall figures do not.

use super::data::{self, Bounds};
use super::frame::{self, DrawResult};
use super::legend::{self, Entry};
use super::style;
use super::timeline::finish_legend;
use crate::compare::analysis::Analysis;
use plotters::coord::Shift;
use plotters::prelude::*;

/// True when some cell has more than one client.
pub fn applies(a: &Analysis) -> bool {
    a.cells.iter().any(|c| c.clients.len() > 1)
}

/// The clients, in the order they first appear in the cells.
fn clients(a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in a.cells.iter().flat_map(|cell| &cell.clients) {
        if !out.contains(&c.name) {
            out.push(c.name.clone());
        }
    }
    out
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    let subtitle = "Dot: mean across seeds; bar: 95% confidence interval; one colour per cell";
    let area = frame::titled(root, title, subtitle)?;
    let names = clients(a);
    // A client's priority may differ between cells (a variant sets it): the per-client
    // table of the report gives it; the axis names the client.
    let labels: Vec<String> = names.iter().map(|n| style::truncate(n, 24)).collect();
    let mut ys = Bounds::default();
    for c in a.cells.iter().flat_map(|cell| &cell.clients) {
        ys.add_opt(c.availability.mean.map(|v| v * 100.0));
        if let Some((lo, hi)) = c.availability.ci {
            ys.add(lo * 100.0);
            ys.add(hi * 100.0);
        }
    }
    let (y_lo, y_hi) = ys.get().unwrap_or((0.0, 100.0));
    let y_range = data::percent_range(y_lo, y_hi, 0.5);
    let y_span = y_range.end - y_range.start;
    let x_range = -0.5..names.len().max(1) as f64 - 0.5;
    let entries: Vec<Entry> = a
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| Entry::line(c.label(&a.sweep_paths), style::series_style(i), 2))
        .collect();
    let (plot_area, panel) = legend::reserve_panel(&area, &entries)?;
    let (w, _) = plot_area.dim_in_pixel();
    let depth = frame::category_label_depth(&plot_area, &labels, w.saturating_sub(110))? + 20;
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(12)
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(6)
        .x_label_area_size(depth)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, data::ticked(y_range, 8))?;
    frame::mesh(
        &mut chart,
        "client",
        "availability (%)",
        &|_| String::new(),
        &|v| style::percent_tick(*v, y_span),
    )?;
    frame::category_labels(&chart, &plot_area.use_screen_coord(), &labels, depth - 20)?;
    // Cells side by side within each client's slot.
    let n = a.cells.len();
    let width = 0.6_f64.min(0.15 * n as f64);
    let mut drawn = Vec::new();
    for (i, cell) in a.cells.iter().enumerate() {
        let s = style::series_style(i);
        let shift = if n > 1 {
            (i as f64 / (n - 1) as f64 - 0.5) * width
        } else {
            0.0
        };
        for c in &cell.clients {
            let Some(x) = names.iter().position(|n| *n == c.name) else {
                continue;
            };
            let x = x as f64 + shift;
            if let Some((lo, hi)) = c.availability.ci {
                frame::error_bars(&mut chart, &[(x, lo * 100.0, hi * 100.0)], s.color, 4)?;
                drawn.push(vec![(x, lo * 100.0), (x, hi * 100.0)]);
            }
            if let Some(mean) = c.availability.mean {
                let p = (x, mean * 100.0);
                chart.draw_series(std::iter::once(Circle::new(p, 5, s.color.filled())))?;
                drawn.push(vec![p]);
            }
        }
    }
    finish_legend(&chart, panel, &entries, &drawn)
}
