//! What every chart draws around its data: the title block, the mesh, lines with their dash
//! patterns, fault-window shading with labels, and category labels.

use super::style::{self, Dash, FAULT, GRID, INK, MUTED, SeriesStyle};
use crate::compare::analysis::FaultWindow;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, VPos};

/// What drawing on backend `DB` returns.
pub type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart whose axes both carry `f64` values (linear or logarithmic).
pub type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// Depth of a label area holding one line of horizontal category labels.
const FLAT_LABEL_DEPTH: u32 = 24;

/// Height of the title block, in pixels.
const TITLE_HEIGHT: u32 = 62;

/// Fills `root` white, writes `title` and the smaller `subtitle` under it, and returns the
/// area below them.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    root.fill(&WHITE)?;
    root.draw_text(title, &style::text(20.0, INK), (18, 18))?;
    root.draw_text(subtitle, &style::text(13.5, MUTED), (18, 44))?;
    Ok(root.split_vertically(TITLE_HEIGHT).1)
}

/// Draws the axes and grid with labelled axes and tick labels from the two formatters.
pub fn mesh<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    x_desc: &str,
    y_desc: &str,
    x_fmt: &dyn Fn(&f64) -> String,
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .x_labels(10)
        .y_labels(8)
        .label_style(style::text(13.0, INK))
        .axis_desc_style(style::text(14.0, INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED.stroke_width(1))
        .draw()
}

/// Draws one unbroken line (a single point becomes a dot) in `s`, `width` pixels wide.
pub fn line<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    points: &[(f64, f64)],
    s: SeriesStyle,
    width: u32,
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let shape = style::stroke(s.color, width);
    if let [only] = points {
        chart.draw_series(std::iter::once(Circle::new(
            *only,
            width + 2,
            s.color.filled(),
        )))?;
        return Ok(());
    }
    let pts = points.iter().copied();
    match s.dash {
        Dash::Solid => chart.draw_series(LineSeries::new(pts, shape))?,
        Dash::Dashed => chart.draw_series(DashedLineSeries::new(pts, 10, 6, shape))?,
        Dash::Dotted => chart.draw_series(DashedLineSeries::new(pts, 3, 4, shape))?,
    };
    Ok(())
}

/// Vertical error bars from `(x, lo, hi)`, with short caps `cap` pixels wide.
pub fn error_bars<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    bars: &[(f64, f64, f64)],
    color: RGBColor,
    cap: i32,
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let screen = chart.plotting_area().use_screen_coord();
    for &(x, lo, hi) in bars {
        if !(x.is_finite() && lo.is_finite() && hi.is_finite()) {
            continue;
        }
        let (px, top) = chart.backend_coord(&(x, hi));
        let (_, bottom) = chart.backend_coord(&(x, lo));
        let stroke = color.stroke_width(2);
        screen.draw(&PathElement::new(vec![(px, top), (px, bottom)], stroke))?;
        for y in [top, bottom] {
            screen.draw(&PathElement::new(
                vec![(px - cap, y), (px + cap, y)],
                stroke,
            ))?;
        }
    }
    Ok(())
}

/// `canvas` is an area in screen coordinates that holds the plot and its margins (drawing
/// clamps to an area, so labels outside the plot need it).
///
/// Shades each fault window grey across the plot (one without an end runs to the edge), and writes its label above the plot
/// (in up to two rows, so neighbouring windows' labels do not collide).
pub fn fault_windows<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    canvas: &DrawingArea<DB, Shift>,
    windows: &[FaultWindow],
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let xr = chart.x_range();
    let yr = chart.y_range();
    let visible: Vec<(f64, f64, &str)> = windows
        .iter()
        .filter(|w| w.start_s.is_finite() && !w.end_s.is_nan())
        .map(|w| {
            (
                w.start_s.max(xr.start),
                w.end_s.min(xr.end),
                w.label.as_str(),
            )
        })
        .filter(|(s, e, _)| e > s)
        .collect();
    chart.draw_series(visible.iter().map(|&(s, e, _)| {
        Rectangle::new([(s, yr.start), (e, yr.end)], style::fill(FAULT, 0.13))
    }))?;
    let screen = canvas;
    let (px_range, py_range) = chart.plotting_area().get_pixel_range();
    let label_style = style::text(12.0, MUTED);
    // Right edge of the last label in each row.
    let mut rows = [i32::MIN; 2];
    // The previous label's row and its window's right edge: overlapping windows alternate.
    let mut previous: Option<(usize, i32)> = None;
    for &(s, e, label) in &visible {
        let (x0, _) = chart.backend_coord(&(s, yr.start));
        let (x1, _) = chart.backend_coord(&(e, yr.start));
        for x in [x0, x1] {
            screen.draw(&PathElement::new(
                vec![(x, py_range.start), (x, py_range.end)],
                FAULT.mix(0.45).stroke_width(1),
            ))?;
        }
        let mut text = style::truncate(label, 40);
        let mut width = screen.estimate_text_size(&text, &label_style)?.0 as i32;
        let wanted = ((x0 + x1) / 2)
            .max(px_range.start + width / 2)
            .min(px_range.end - width / 2);
        let row = (0..rows.len())
            .filter(|&r| previous.is_none_or(|(pr, px1)| pr != r || x0 >= px1))
            .find(|&r| rows[r].saturating_add(14) <= wanted - width / 2)
            .unwrap_or(if rows[0] <= rows[1] { 0 } else { 1 });
        let left = (wanted - width / 2).max(rows[row].saturating_add(8));
        let mut max = text.chars().count();
        while left + width > px_range.end && max > 4 {
            max -= 2;
            text = style::truncate(label, max);
            width = screen.estimate_text_size(&text, &label_style)?.0 as i32;
        }
        let centre = left + width / 2;
        let y = py_range.start - 6 - 15 * row as i32;
        let s = style::anchored(&label_style, HPos::Center, VPos::Bottom);
        screen.draw(&Text::new(text, (centre, y), s))?;
        previous = Some((row, x1));
        rows[row] = centre + width / 2;
    }
    Ok(())
}

/// Labels go on `canvas`, an area in screen coordinates around the plot.
///
/// Writes `labels[i]` under x = i: horizontally when `depth` (from
/// [`category_label_depth`]) is one text line, otherwise turned to read upwards and cut to
/// fit `depth` pixels.
pub fn category_labels<DB: DrawingBackend, X, Y>(
    chart: &Chart<'_, DB, X, Y>,
    canvas: &DrawingArea<DB, Shift>,
    labels: &[String],
    depth: u32,
) -> DrawResult<(), DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let screen = canvas;
    let (_, py_range) = chart.plotting_area().get_pixel_range();
    let label_style = style::text(12.5, INK);
    let upright = depth > FLAT_LABEL_DEPTH;
    let y_range = chart.y_range();
    for (i, label) in labels.iter().enumerate() {
        let (x, _) = chart.backend_coord(&(i as f64, y_range.start));
        let y = py_range.end + 6;
        if !upright {
            let s = style::anchored(&label_style, HPos::Center, VPos::Top);
            screen.draw(&Text::new(label.as_str(), (x, y), s))?;
        } else {
            let (mut text, mut max) = (label.clone(), label.chars().count());
            while rendered_width(screen.estimate_text_size(&text, &label_style)?.0) as i32
                > depth as i32 - 10
                && max > 4
            {
                max -= 2;
                text = style::truncate(label, max);
            }
            let s = style::anchored(&label_style, HPos::Right, VPos::Center)
                .transform(FontTransform::Rotate270);
            screen.draw(&Text::new(text, (x, y), s))?;
        }
    }
    Ok(())
}

/// How long an upright label of estimated width `estimate` renders: the bundled font's
/// rotated glyphs run about a fifth longer than the estimate of the same text lying flat.
fn rendered_width(estimate: u32) -> u32 {
    estimate + estimate / 4
}

/// How deep the label area under `labels` must be: one text line when they fit side by side
/// in `width` pixels, otherwise the longest label turned upright (at most 190 pixels).
pub fn category_label_depth<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    width: u32,
) -> DrawResult<u32, DB> {
    let label_style = style::text(12.5, INK);
    let slot = width / labels.len().max(1) as u32;
    let mut longest = 0;
    for l in labels {
        longest = longest.max(area.estimate_text_size(l, &label_style)?.0);
    }
    Ok(if longest + 6 < slot {
        FLAT_LABEL_DEPTH
    } else {
        (rendered_width(longest) + 16).min(190)
    })
}
