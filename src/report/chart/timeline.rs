//! Availability and latency over time, one line per cell (the mean across seeds), with the
//! fault windows shaded.

use super::data::{self, Bounds};
use super::frame::{self, Chart, DrawResult};
use super::legend::{self, Entry, Swatch};
use super::overlap::{self, Layer, Plan};
use super::style::{self, INK, SeriesStyle};
use crate::compare::analysis::{Analysis, Cell};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;

/// Cells above which min-max bands are left out: more would muddy each other.
const MAX_BANDS: usize = 6;

/// Whether the time-series charts apply: some cell has a time series.
pub fn applies(a: &Analysis) -> bool {
    data::time_range(a).is_some()
}

/// The chart builder both time charts share, over `area`.
fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    a: &Analysis,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(if a.fault_windows.is_empty() { 12 } else { 42 })
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(6)
        .x_label_area_size(44)
        .y_label_area_size(70);
    b
}

/// "per 1 s bucket", or "per bucket" when the width is unknown.
fn per_bucket(a: &Analysis) -> String {
    if a.bucket_s.is_finite() && a.bucket_s > 0.0 {
        format!("per {} s bucket", style::log_tick(a.bucket_s))
    } else {
        "per bucket".to_string()
    }
}

/// The subtitle's note on fault shading, if there are faults.
fn fault_note(a: &Analysis) -> &'static str {
    if a.fault_windows.is_empty() {
        ""
    } else {
        "; grey: fault windows"
    }
}

/// Availability over time: the mean across seeds per bucket, a translucent min-max band
/// across seeds (up to six cells, with more than one seed), and the fault windows. The y
/// axis zooms to the data, padded a little past 0% and 100% so lines there stay visible.
pub fn availability<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    let bands = a.seeds > 1 && a.cells.len() <= MAX_BANDS;
    let subtitle = format!(
        "Line: mean across seeds {}{}{}",
        per_bucket(a),
        match (bands, a.cells.len() > 1) {
            (true, true) => "; shaded band in each line's colour: min-max across seeds",
            (true, false) => "; shaded band: min-max across seeds",
            (false, _) => "",
        },
        fault_note(a)
    );
    let area = frame::titled(root, title, &subtitle)?;
    let Some(x_range) = data::time_range(a) else {
        return Ok(());
    };
    let percent = |v: Option<f64>| v.map(|v| v * 100.0);
    let mut bounds = Bounds::default();
    for row in a.cells.iter().flat_map(|c| &c.timeline) {
        bounds.add_opt(percent(row.availability_mean));
        if bands {
            bounds.add_opt(percent(row.availability_min));
            bounds.add_opt(percent(row.availability_max));
        }
    }
    let (lo, hi) = bounds.get().unwrap_or((0.0, 100.0));
    let y_range = data::percent_range(lo, hi, 0.5);

    let layers: Vec<Layer> = a
        .cells
        .iter()
        .enumerate()
        .map(|(i, cell)| Layer {
            owner: i,
            group: 0,
            style: style::series_style(i),
            width: 2,
            runs: data::runs(
                cell.timeline
                    .iter()
                    .map(|r| (r.t_s, percent(r.availability_mean))),
            ),
        })
        .collect();
    let plan = overlap::plan(&layers, a.cells.len());
    let mut entries: Vec<Entry> = cells_legend(a, 2, &plan);
    if bands {
        // Each band is drawn in its line's colour (fault windows are the grey ones).
        let color = style::series_style(0).color;
        entries.push(Entry::with("min-max across seeds", Swatch::Band(color)));
    }
    entries.extend(plan.nested_entry());
    let (plot_area, panel) = legend::reserve_panel(&area, &entries)?;
    let mut chart = builder(&plot_area, a)
        .build_cartesian_2d(x_range.clone(), data::ticked(y_range.clone(), 8))?;
    let y_span = y_range.end - y_range.start;
    let x_span = x_range.end - x_range.start;
    let y_fmt = |v: &f64| style::percent_tick(*v, y_span);
    let x_fmt = |v: &f64| style::linear_tick(*v, x_span);
    frame::mesh(&mut chart, "time (s)", "availability (%)", &x_fmt, &y_fmt)?;
    frame::fault_windows(&mut chart, &plot_area.use_screen_coord(), &a.fault_windows)?;

    if bands {
        for (i, cell) in a.cells.iter().enumerate() {
            let color = style::series_style(i).color;
            for run in band_runs(cell) {
                let mut outline: Vec<(f64, f64)> = run.iter().map(|&(t, _, hi)| (t, hi)).collect();
                outline.extend(run.iter().rev().map(|&(t, lo, _)| (t, lo)));
                chart.draw_series(std::iter::once(Polygon::new(
                    outline,
                    style::fill(color, 0.16),
                )))?;
            }
        }
    }
    let drawn = overlap::draw(&mut chart, &layers, &plan, <[_]>::to_vec)?;
    finish_legend(&chart, panel, &entries, &drawn)
}

/// Latency over time: per cell, p99 as a thick line and p50 as a thin dashed line of the
/// same colour; a logarithmic y axis when the values span more than two decades.
pub fn latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    title: &str,
) -> DrawResult<(), DB> {
    // Clients that only send to queues get every answer at once: say so, rather than draw
    // lines hidden in the x axis with nothing to explain them.
    let latencies = a
        .cells
        .iter()
        .flat_map(|c| &c.timeline)
        .flat_map(|r| [r.p50_ms, r.p99_ms])
        .flatten();
    let all_zero = latencies.clone().next().is_some() && latencies.clone().all(|v| v == 0.0);
    let subtitle = format!(
        "Thick: p99, thin dashed: p50 (means across seeds {}){}{}",
        per_bucket(a),
        fault_note(a),
        if all_zero {
            "; every latency is 0 ms (a send to a queue is answered at once: queues.csv has the messages)"
        } else {
            ""
        }
    );
    let area = frame::titled(root, title, &subtitle)?;
    let Some(x_range) = data::time_range(a) else {
        return Ok(());
    };
    let mut bounds = Bounds::default();
    for row in a.cells.iter().flat_map(|c| &c.timeline) {
        for v in [row.p50_ms, row.p99_ms].into_iter().flatten() {
            if v > 0.0 {
                bounds.add(v);
            }
        }
    }
    let log_scale = matches!(bounds.get(), Some((lo, hi)) if hi / lo > 100.0);
    let layers = latency_layers(a, log_scale);
    let plan = overlap::plan(&layers, a.cells.len());
    let mut entries = cells_legend(a, 2, &plan);
    entries.push(Entry::line(
        "p99",
        style::SeriesStyle {
            color: INK,
            dash: style::Dash::Solid,
        },
        2,
    ));
    entries.push(Entry::with("p50", Swatch::ThinDashed(INK)));
    entries.extend(plan.nested_entry());
    let (plot_area, panel) = legend::reserve_panel(&area, &entries)?;
    let builder = builder(&plot_area, a);
    let x_span = x_range.end - x_range.start;
    let x_fmt = |v: &f64| style::linear_tick(*v, x_span);
    let y_desc = "latency (ms)";
    match bounds.get() {
        Some((lo, hi)) if log_scale => {
            let mut builder = builder;
            let mut chart =
                builder.build_cartesian_2d(x_range, data::decades(lo, hi).log_scale())?;
            frame::mesh(
                &mut chart,
                "time (s)",
                &format!("{y_desc}, log scale"),
                &x_fmt,
                &|v| style::log_tick(*v),
            )?;
            latency_lines(
                &mut chart,
                &plot_area.use_screen_coord(),
                a,
                (&layers, &plan),
                panel,
                &entries,
            )
        }
        found => {
            let (lo, hi) = found.unwrap_or((0.0, 1.0));
            let y_range = data::padded(lo.min(0.0), hi, 0.0, 0.0..f64::INFINITY);
            // Room below 0, so that a line at 0 ms shows above the x axis.
            let y_range = y_range.start - (y_range.end - y_range.start) * 0.03..y_range.end;
            let y_span = y_range.end - y_range.start;
            let mut builder = builder;
            let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
            frame::mesh(&mut chart, "time (s)", y_desc, &x_fmt, &|v| {
                style::linear_tick(*v, y_span)
            })?;
            latency_lines(
                &mut chart,
                &plot_area.use_screen_coord(),
                a,
                (&layers, &plan),
                panel,
                &entries,
            )
        }
    }
}

/// The lines of the latency chart in drawing order: per cell its p50 (thin, dashed), then
/// its p99. A logarithmic axis has no place for 0 ms; a linear one draws it.
fn latency_layers(a: &Analysis, log_scale: bool) -> Vec<Layer> {
    let positive = |v: Option<f64>| v.filter(|v| *v > 0.0 || !log_scale);
    let mut layers = Vec::new();
    for (i, cell) in a.cells.iter().enumerate() {
        let s = style::series_style(i);
        let p50 = SeriesStyle {
            color: s.color,
            dash: style::Dash::Dashed,
        };
        let runs = |f: fn(&crate::compare::analysis::TimelineRow) -> Option<f64>| {
            data::runs(cell.timeline.iter().map(|r| (r.t_s, positive(f(r)))))
        };
        layers.push(Layer {
            owner: i,
            group: 0,
            style: p50,
            width: 1,
            runs: runs(|r| r.p50_ms),
        });
        layers.push(Layer {
            owner: i,
            group: 1,
            style: s,
            width: 2,
            runs: runs(|r| r.p99_ms),
        });
    }
    layers
}

/// The fault windows, lines and legend of the latency chart, on either y scale.
fn latency_lines<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    canvas: &DrawingArea<DB, Shift>,
    a: &Analysis,
    (layers, plan): (&[Layer], &Plan),
    panel: Option<DrawingArea<DB, Shift>>,
    entries: &[Entry],
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    frame::fault_windows(chart, canvas, &a.fault_windows)?;
    let drawn = overlap::draw(chart, layers, plan, <[_]>::to_vec)?;
    finish_legend(chart, panel, entries, &drawn)
}

/// One legend entry per cell, with lines `width` pixels wide, noting those whose lines
/// `plan` finds hidden under later ones or empty.
pub fn cells_legend(a: &Analysis, width: u32, plan: &Plan) -> Vec<Entry> {
    let labels: Vec<String> = a.cells.iter().map(|c| c.label(&a.sweep_paths)).collect();
    let styles: Vec<SeriesStyle> = (0..a.cells.len()).map(style::series_style).collect();
    plan.entries(&labels, &styles, width)
}

/// Draws the legend in its panel, or inside the plot where it covers least of `drawn`.
pub fn finish_legend<DB: DrawingBackend, X, Y>(
    chart: &Chart<'_, DB, X, Y>,
    panel: Option<DrawingArea<DB, Shift>>,
    entries: &[Entry],
    drawn: &[Vec<(f64, f64)>],
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    match panel {
        Some(panel) => legend::draw_in_panel(&panel, entries),
        None => {
            let pixels: Vec<(i32, i32)> = data::samples(drawn)
                .iter()
                .map(|p| chart.backend_coord(p))
                .collect();
            let screen = chart.plotting_area().use_screen_coord();
            legend::draw_inside(&screen, entries, &pixels)
        }
    }
}

/// The runs of buckets with both a minimum and a maximum: (t, min %, max %).
fn band_runs(cell: &Cell) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for r in &cell.timeline {
        match (r.availability_min, r.availability_max) {
            (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && r.t_s.is_finite() => {
                current.push((r.t_s, lo * 100.0, hi * 100.0));
            }
            _ => {
                if current.len() > 1 {
                    out.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        out.push(current);
    }
    out
}
