//! The look shared by every chart: size, palette, line kinds, text styles and tick formats.

use super::font::FAMILY;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBAColor, RGBColor, ShapeStyle, TextStyle};

/// Width and height of every chart, in pixels.
pub const SIZE: (u32, u32) = (1000, 560);

/// Ten colours that stay apart for readers with common colour-vision deficiencies
/// (a darkened Tableau 10 without its pale yellow).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 115, 0),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

/// Text and axes.
pub const INK: RGBColor = RGBColor(33, 37, 41);
/// Subtitles and secondary text.
pub const MUTED: RGBColor = RGBColor(96, 103, 112);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(225, 228, 232);
/// Fault-window shading (used translucent).
pub const FAULT: RGBColor = RGBColor(110, 110, 110);

/// How a line is stroked, so that series sharing a colour beyond the palette stay apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    /// A continuous line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dots.
    Dotted,
}

/// The colour and stroke of one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesStyle {
    /// Its colour.
    pub color: RGBColor,
    /// Its stroke.
    pub dash: Dash,
}

/// The style of the `i`-th series: the palette's colours first, then the same colours
/// dashed, then dotted.
pub fn series_style(i: usize) -> SeriesStyle {
    let dash = match (i / PALETTE.len()) % 3 {
        0 => Dash::Solid,
        1 => Dash::Dashed,
        _ => Dash::Dotted,
    };
    SeriesStyle {
        color: PALETTE[i % PALETTE.len()],
        dash,
    }
}

/// A stroke of `color`, `width` pixels wide.
pub fn stroke(color: RGBColor, width: u32) -> ShapeStyle {
    color.stroke_width(width)
}

/// A translucent fill of `color`.
pub fn fill(color: RGBColor, alpha: f64) -> ShapeStyle {
    let c: RGBAColor = color.mix(alpha);
    c.filled()
}

/// Text of `size` pixels in `color`, anchored at its left and vertical centre.
pub fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Center),
    }
}

/// `style` anchored at `h` and `v`.
pub fn anchored(style: &TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// A tick label for a linear axis spanning `span`: as many decimals as the tick step needs
/// (one more than its magnitude, trailing zeros cut), so ticks read "99.5" and "100", not
/// "99.500" and "100.000".
pub fn linear_tick(v: f64, span: f64) -> String {
    let step = span.abs() / 8.0;
    let decimals = if step.is_finite() && step > 0.0 && step < 1.0 {
        (-step.log10().floor()) as usize + 1
    } else {
        0
    };
    trim_zeros(format!("{:.*}", decimals.min(6), v))
}

/// A tick label for a percentage axis spanning `span`: like [`linear_tick`], but blank
/// below 0% and above 100%, where the axis is only padding.
pub fn percent_tick(v: f64, span: f64) -> String {
    if (-1e-9..=100.0 + 1e-9).contains(&v) {
        linear_tick(v, span)
    } else {
        String::new()
    }
}

/// A tick label for a logarithmic axis: up to three significant digits ("0.05", "2", "1000").
pub fn log_tick(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 10.0 || a == 0.0 {
        0
    } else {
        ((-a.log10().floor()) as usize + 2).min(8)
    };
    trim_zeros(format!("{v:.decimals$}"))
}

/// "1.50" -> "1.5", "2.00" -> "2", "-0" -> "0".
fn trim_zeros(s: String) -> String {
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Seeds as words: "1 seed", "20 seeds".
pub fn seeds(n: usize) -> String {
    if n == 1 {
        "1 seed".to_string()
    } else {
        format!("{n} seeds")
    }
}

/// `s` cut to `max` characters by dropping its middle, with an ellipsis there when cut: the
/// start and the end of a label (a variant and its last swept value, a policy and its
/// variant) are what tell it apart from its neighbours.
pub fn truncate(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let tail = keep / 2;
    let mut out: String = chars[..keep - tail].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_have_no_silly_decimals() {
        assert_eq!(linear_tick(100.0, 2.0), "100");
        assert_eq!(linear_tick(99.75, 2.0), "99.75");
        assert_eq!(linear_tick(99.5, 5.0), "99.5");
        assert_eq!(linear_tick(120.0, 300.0), "120");
        assert_eq!(percent_tick(100.0, 2.0), "100");
        assert_eq!(percent_tick(100.5, 2.0), "");
        assert_eq!(percent_tick(-2.0, 100.0), "");
        assert_eq!(log_tick(1000.0), "1000");
        assert_eq!(log_tick(0.05), "0.05");
        assert_eq!(log_tick(2.0), "2");
        assert_eq!(log_tick(0.001), "0.001");
        assert_eq!(truncate("abcdef", 4), "ab…f");
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 1), "…");
        assert_eq!(
            truncate("12-workers, rate_per_s=790", 16),
            "12-worke…r_s=790"
        );
        assert_eq!(seeds(1), "1 seed");
    }

    #[test]
    fn styles_beyond_the_palette_differ_by_dash() {
        assert_ne!(series_style(0), series_style(10));
        assert_eq!(series_style(0).color, series_style(10).color);
        assert_eq!(series_style(25).dash, Dash::Dotted);
    }
}
