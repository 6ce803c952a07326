//! Legends drawn by hand: a white box with a border, inside the plot in the corner that
//! covers the fewest data points, or beside the plot when there are too many entries.

use super::frame::DrawResult;
use super::style::{self, Dash, INK, MUTED, SeriesStyle};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// Entries a legend may hold inside the plot; more go to a panel beside it.
pub const MAX_INSIDE: usize = 8;

/// Longest label shown, in characters.
const MAX_LABEL: usize = 46;
/// Longest label with a note ("base (hidden under no-retries)"), in characters.
pub const MAX_NOTED: usize = 52;
const ROW: i32 = 18;
const PAD: i32 = 8;
const SWATCH: i32 = 28;
const GAP: i32 = 6;
const FONT_SIZE: f64 = 12.5;

/// What an entry's sample looks like.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Swatch {
    /// A line in this style and width.
    Line(SeriesStyle, u32),
    /// A thin dashed line (p50 next to p99).
    ThinDashed(RGBColor),
    /// A translucent band.
    Band(RGBColor),
    /// A line of the first colour with a thinner one of the second on it: lines that
    /// coincide, drawn nested.
    Nested(RGBColor, RGBColor),
}

/// One legend row.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its text.
    pub label: String,
    /// Its sample.
    pub swatch: Swatch,
}

impl Entry {
    /// An entry with a line sample.
    pub fn line(label: impl Into<String>, s: SeriesStyle, width: u32) -> Entry {
        Entry {
            label: style::truncate(&label.into(), MAX_LABEL),
            swatch: Swatch::Line(s, width),
        }
    }

    /// An entry whose label carries a note in brackets, "base (hidden under no-retries)":
    /// the note is kept whole and the label shortened when the two are too long.
    pub fn noted(label: &str, note: &str, swatch: Swatch) -> Entry {
        let note = style::truncate(note, MAX_NOTED - 12);
        let room = MAX_NOTED.saturating_sub(note.chars().count() + 3);
        let label = style::truncate(label, room.clamp(8, MAX_LABEL));
        Entry {
            label: format!("{label} ({note})"),
            swatch,
        }
    }

    /// An entry with another sample.
    pub fn with(label: impl Into<String>, swatch: Swatch) -> Entry {
        Entry {
            label: style::truncate(&label.into(), MAX_LABEL),
            swatch,
        }
    }
}

/// The pixel size of a legend of `entries` laid out in `columns`.
fn size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    columns: usize,
) -> DrawResult<(i32, i32), DB> {
    let text = style::text(FONT_SIZE, INK);
    let mut widest = 0;
    for e in entries {
        widest = widest.max(area.estimate_text_size(&e.label, &text)?.0 as i32);
    }
    let rows = entries.len().div_ceil(columns.max(1)) as i32;
    let column = SWATCH + GAP + widest + PAD;
    Ok((PAD + column * columns as i32, 2 * PAD + ROW * rows - 4))
}

/// A plot area and, when the legend needs one, the panel beside it.
pub type PlotAndPanel<DB> = (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>);

/// Splits `area` into the plot and a legend panel at its right when `entries` are too many
/// to sit inside the plot; returns the plot area and, if split, the panel.
pub fn reserve_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> DrawResult<PlotAndPanel<DB>, DB> {
    if entries.len() <= MAX_INSIDE {
        return Ok((area.clone(), None));
    }
    let (w, h) = area.dim_in_pixel();
    let columns = panel_columns(entries.len(), h as i32);
    let (legend_w, _) = size(area, entries, columns)?;
    let legend_w = legend_w.min(w as i32 / 2) + 12;
    let (plot, panel) = area.split_horizontally(w as i32 - legend_w);
    Ok((plot, Some(panel)))
}

/// Columns needed to fit `n` rows in `height` pixels.
fn panel_columns(n: usize, height: i32) -> usize {
    let per_column = ((height - 40 - 2 * PAD) / ROW).max(1) as usize;
    n.div_ceil(per_column)
}

/// Draws `entries` in the panel from [`reserve_panel`], top-aligned with the plot.
pub fn draw_in_panel<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> DrawResult<(), DB> {
    let (_, h) = panel.dim_in_pixel();
    let columns = panel_columns(entries.len(), h as i32);
    let screen = panel.use_screen_coord();
    let (xr, yr) = panel.get_pixel_range();
    draw_box(&screen, entries, columns, (xr.start + 4, yr.start + 10))
}

/// Draws `entries` inside the plot area `plot` (screen coordinates), in the corner that
/// covers the fewest of the `points` (screen coordinates of the plotted data).
pub fn draw_inside<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    points: &[(i32, i32)],
) -> DrawResult<(), DB> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, h) = size(plot, entries, 1)?;
    let (xr, yr) = plot.get_pixel_range();
    let origin = best_corner(&xr, &yr, (w, h), points);
    draw_box(plot, entries, 1, origin)
}

/// The top-left pixel of the legend box in the corner of the plot that covers the fewest
/// points; ties go to upper right, upper left, lower right, lower left in that order.
fn best_corner(
    xr: &Range<i32>,
    yr: &Range<i32>,
    (w, h): (i32, i32),
    points: &[(i32, i32)],
) -> (i32, i32) {
    const INSET: i32 = 10;
    let left = xr.start + INSET;
    let right = (xr.end - INSET - w).max(left);
    let top = yr.start + INSET;
    let bottom = (yr.end - INSET - h).max(top);
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let covered = |&(x, y): &(i32, i32)| {
        points
            .iter()
            .filter(|&&(px, py)| px >= x - 4 && px <= x + w + 4 && py >= y - 4 && py <= y + h + 4)
            .count()
    };
    corners
        .iter()
        .enumerate()
        .min_by_key(|&(i, c)| (covered(c), i))
        .map_or(corners[0], |(_, c)| *c)
}

/// Draws the white, bordered box with its rows from `(x, y)` (screen coordinates).
fn draw_box<DB: DrawingBackend>(
    screen: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    columns: usize,
    (x, y): (i32, i32),
) -> DrawResult<(), DB> {
    let (w, h) = size(screen, entries, columns)?;
    screen.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        WHITE.mix(0.94).filled(),
    ))?;
    screen.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        MUTED.mix(0.6).stroke_width(1),
    ))?;
    let rows = entries.len().div_ceil(columns.max(1));
    let column_w = (w - PAD) / columns.max(1) as i32;
    let text = style::text(FONT_SIZE, INK);
    for (i, e) in entries.iter().enumerate() {
        let cx = x + PAD + column_w * (i / rows) as i32;
        let cy = y + PAD + ROW * (i % rows) as i32 + ROW / 2 - 2;
        swatch(screen, e.swatch, (cx, cy))?;
        screen.draw(&Text::new(
            e.label.as_str(),
            (cx + SWATCH + GAP, cy),
            text.clone(),
        ))?;
    }
    Ok(())
}

/// Draws one sample, `SWATCH` pixels wide, centred vertically on `cy`.
fn swatch<DB: DrawingBackend>(
    screen: &DrawingArea<DB, Shift>,
    kind: Swatch,
    (x, cy): (i32, i32),
) -> DrawResult<(), DB> {
    let segment = |dash: i32, gap: i32| -> Vec<Vec<(i32, i32)>> {
        let mut out = Vec::new();
        let mut at = x;
        while at < x + SWATCH {
            out.push(vec![(at, cy), ((at + dash).min(x + SWATCH), cy)]);
            at += dash + gap;
        }
        out
    };
    let (color, width, pieces) = match kind {
        Swatch::Line(s, width) => {
            let pieces = match s.dash {
                Dash::Solid => vec![vec![(x, cy), (x + SWATCH, cy)]],
                Dash::Dashed => segment(8, 5),
                Dash::Dotted => segment(3, 4),
            };
            (s.color, width, pieces)
        }
        Swatch::ThinDashed(color) => (color, 1, segment(6, 4)),
        Swatch::Nested(under, over) => {
            let piece = vec![(x, cy), (x + SWATCH, cy)];
            screen.draw(&PathElement::new(piece.clone(), under.stroke_width(6)))?;
            return screen.draw(&PathElement::new(piece, over.stroke_width(2)));
        }
        Swatch::Band(color) => {
            let rect = [(x, cy - 6), (x + SWATCH, cy + 6)];
            return screen.draw(&Rectangle::new(rect, style::fill(color, 0.25)));
        }
    };
    for piece in pieces {
        screen.draw(&PathElement::new(piece, color.stroke_width(width)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emptiest_corner_wins() {
        let (xr, yr) = (0..500, 0..300);
        // Data along the top: the legend goes to the lower right.
        let top: Vec<(i32, i32)> = (0..500).step_by(5).map(|x| (x, 20)).collect();
        assert_eq!(best_corner(&xr, &yr, (100, 50), &top), (390, 240));
        // No data: upper right.
        assert_eq!(best_corner(&xr, &yr, (100, 50), &[]), (390, 10));
        assert_eq!(panel_columns(30, 480), 2);
        assert_eq!(panel_columns(10, 480), 1);
    }
}
