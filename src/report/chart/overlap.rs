//! Lines that coincide. Variants often behave exactly alike for a while (the same seed and no
//! fault yet, or every line at 100%), and a line drawn later then covers the earlier ones
//! completely: their legend entries would have no line to point to.
//!
//! Nothing here moves a value. Where segments of several lines coincide exactly, each is
//! drawn wider than the one drawn after it, [`STEP`] pixels per line below, so that every
//! line shows as a coloured rim around the next ("nested"), up to [`MAX_DEPTH`] rims. And a
//! line whose every drawn segment lies under a later line is named in its legend entry:
//! "base (hidden under no-retries)".
//!
//! Coincidence is exact equality of a segment's two end points (a lone point for a run of
//! one), within a group of lines of one kind: a p50 line never hides a p99 line.

use super::frame::{self, Chart, DrawResult};
use super::legend::{Entry, MAX_NOTED, Swatch};
use super::style::{self, SeriesStyle};
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Extra width, in pixels, of a line for each later line lying on it: one pixel of rim on
/// each side.
pub const STEP: u32 = 2;

/// Rims at most: on a segment shared by more than five lines, the five drawn last show
/// and those drawn before them are as wide as the fifth from the top, hidden there; a
/// segment is never wider than 8 pixels more than its line.
pub const MAX_DEPTH: u32 = 4;

/// One line of a chart in drawing order: whose it is, its kind, its look and its runs.
#[derive(Clone, Debug)]
pub struct Layer {
    /// The legend entry it belongs to.
    pub owner: usize,
    /// Its kind: only lines of one kind hide each other (p50 lines are thin and dashed).
    pub group: u8,
    /// Its colour and stroke.
    pub style: SeriesStyle,
    /// Its width where nothing lies on it.
    pub width: u32,
    /// Its unbroken runs of points, in data coordinates.
    pub runs: Vec<Vec<(f64, f64)>>,
}

/// A stretch of a layer drawn at one width.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    /// Its points (one point is drawn as a dot).
    pub points: Vec<(f64, f64)>,
    /// Its width in pixels.
    pub width: u32,
}

/// Whether a legend entry's lines can be seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cover {
    /// Some segment of it has no later line of another entry on it.
    Shown,
    /// Every segment it draws lies under a later line: the owners of the topmost of them,
    /// in drawing order.
    Hidden(Vec<usize>),
    /// It draws nothing.
    Empty,
}

/// How to draw a chart's layers and what its legend must say.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Per layer, its pieces in order.
    pub pieces: Vec<Vec<Piece>>,
    /// Per owner (legend entry), whether its lines can be seen.
    pub cover: Vec<Cover>,
    /// The colours of the first widened line and of the topmost line on it, when some
    /// line was widened.
    pub nested: Option<(RGBColor, RGBColor)>,
}

/// The bits of a segment, to find equal ones: -0 and 0 are one value.
type Key = (u8, [u64; 4]);

fn key(group: u8, a: (f64, f64), b: (f64, f64)) -> Key {
    let bits = |v: f64| if v == 0.0 { 0 } else { v.to_bits() };
    (group, [bits(a.0), bits(a.1), bits(b.0), bits(b.1)])
}

/// The segments of a run: its consecutive pairs, or the lone point as a pair with itself.
fn segments(run: &[(f64, f64)]) -> Vec<((f64, f64), (f64, f64))> {
    match run {
        [] => Vec::new(),
        [only] => vec![(*only, *only)],
        _ => run.windows(2).map(|w| (w[0], w[1])).collect(),
    }
}

/// Plans the drawing of `layers` (in drawing order) whose legend has `owners` entries.
pub fn plan(layers: &[Layer], owners: usize) -> Plan {
    // Every layer lying on each segment, in drawing order.
    let mut on: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for run in &layer.runs {
            for (a, b) in segments(run) {
                let list = on.entry(key(layer.group, a, b)).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }
    let later = |i: usize, a, b| -> &[usize] {
        let list = &on[&key(layers[i].group, a, b)];
        let at = list.partition_point(|&j| j <= i);
        &list[at..]
    };
    let mut nested = None;
    let mut pieces = Vec::with_capacity(layers.len());
    // Per owner: whether it drew anything, whether some segment has no other entry's line
    // on it, and the topmost layers lying on the others.
    let mut seen = vec![(false, false, Vec::new()); owners];
    for (i, layer) in layers.iter().enumerate() {
        let mut out: Vec<Piece> = Vec::new();
        for run in &layer.runs {
            let mut current: Option<Piece> = None;
            for (a, b) in segments(run) {
                let over = later(i, a, b);
                let depth = (over.len() as u32).min(MAX_DEPTH);
                let width = layer.width + STEP * depth;
                if let (Some(&top), None) = (over.last(), nested) {
                    nested = Some((layer.style.color, layers[top].style.color));
                }
                if let Some(s) = seen.get_mut(layer.owner) {
                    s.0 = true;
                    match over.iter().rev().find(|&&j| layers[j].owner != layer.owner) {
                        Some(&top) => {
                            if !s.2.contains(&top) {
                                s.2.push(top);
                            }
                        }
                        None => s.1 = true,
                    }
                }
                match &mut current {
                    Some(p) if p.width == width => p.points.push(b),
                    _ => {
                        out.extend(current.take());
                        let points = if run.len() == 1 { vec![a] } else { vec![a, b] };
                        current = Some(Piece { points, width });
                    }
                }
            }
            out.extend(current);
        }
        pieces.push(out);
    }
    let cover = seen
        .into_iter()
        .map(|(drew, on_top, mut tops)| {
            if !drew {
                Cover::Empty
            } else if on_top {
                Cover::Shown
            } else {
                tops.sort_unstable();
                let mut owners: Vec<usize> = Vec::new();
                for owner in tops.iter().map(|&j| layers[j].owner) {
                    if !owners.contains(&owner) {
                        owners.push(owner);
                    }
                }
                Cover::Hidden(owners)
            }
        })
        .collect();
    Plan {
        pieces,
        cover,
        nested,
    }
}

impl Plan {
    /// The note of legend entry `owner` among entries labelled `labels`: "hidden under
    /// no-retries" (naming the topmost lines over it), "no data", or `None` when its line
    /// shows.
    pub fn note(&self, owner: usize, labels: &[String]) -> Option<String> {
        match self.cover.get(owner)? {
            Cover::Shown => None,
            Cover::Empty => Some("no data".to_string()),
            Cover::Hidden(tops) => {
                let own = labels.get(owner).map_or("", String::as_str);
                let name = |j: &usize| reference(own, labels.get(*j).map_or("", String::as_str));
                Some(match tops.as_slice() {
                    [one] => format!("hidden under {}", name(one)),
                    [one, two] => format!("hidden under {} and {}", name(one), name(two)),
                    more => format!("hidden under {} later lines", more.len()),
                })
            }
        }
    }

    /// The notes of the legend entries `labels`: as [`Plan::note`] says when every label
    /// with its note fits in [`MAX_NOTED`] characters; otherwise (long cell labels of a
    /// sweep, policy tracks) a hidden line's note is only "hidden", for every entry alike,
    /// so that the legend does not take the plot's room.
    pub fn notes(&self, labels: &[String]) -> Vec<Option<String>> {
        let notes: Vec<Option<String>> = (0..labels.len()).map(|i| self.note(i, labels)).collect();
        let fits = notes.iter().zip(labels).all(|(note, label)| {
            note.as_ref()
                .is_none_or(|n| label.chars().count() + n.chars().count() + 3 <= MAX_NOTED)
        });
        if fits {
            return notes;
        }
        (0..labels.len())
            .map(|i| match self.cover.get(i) {
                Some(Cover::Hidden(_)) => Some("hidden".to_string()),
                _ => notes[i].clone(),
            })
            .collect()
    }

    /// Legend entries with line samples for `labels` in `styles`, `width` pixels wide,
    /// each with its note.
    pub fn entries(&self, labels: &[String], styles: &[SeriesStyle], width: u32) -> Vec<Entry> {
        labels
            .iter()
            .zip(styles)
            .zip(self.notes(labels))
            .map(|((label, &s), note)| {
                let swatch = Swatch::Line(s, width);
                match note {
                    Some(note) => Entry::noted(label, &note, swatch),
                    None => Entry::with(label.as_str(), swatch),
                }
            })
            .collect()
    }

    /// The legend entry explaining nested lines, when some were drawn.
    pub fn nested_entry(&self) -> Option<Entry> {
        self.nested
            .map(|(under, over)| Entry::with("coinciding lines", Swatch::Nested(under, over)))
    }
}

/// Draws `layers` as `plan` says, each piece passed through `thin` first; returns the
/// lines drawn.
pub fn draw<DB: DrawingBackend, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    layers: &[Layer],
    plan: &Plan,
    thin: impl Fn(&[(f64, f64)]) -> Vec<(f64, f64)>,
) -> DrawResult<Vec<Vec<(f64, f64)>>, DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let mut drawn = Vec::new();
    for (layer, pieces) in layers.iter().zip(&plan.pieces) {
        for piece in pieces {
            let points = thin(&piece.points);
            frame::line(chart, &points, layer.style, piece.width)?;
            drawn.push(points);
        }
    }
    Ok(drawn)
}

/// How the legend entry `own` names the entry `other`: in full, or, when both are cell
/// labels of a sweep ("base, rate_per_s=200"), by the parts that differ ("12-workers").
fn reference(own: &str, other: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (own.split(", ").collect(), other.split(", ").collect());
    let named = if a.len() == b.len() && a.len() > 1 {
        let differ: Vec<&str> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .map(|(_, y)| *y)
            .collect();
        if differ.is_empty() {
            other.to_string()
        } else {
            differ.join(", ")
        }
    } else {
        other.to_string()
    };
    style::truncate(&named, 28)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::style::series_style;

    fn layer(owner: usize, points: &[(f64, f64)]) -> Layer {
        Layer {
            owner,
            group: 0,
            style: series_style(owner),
            width: 2,
            runs: vec![points.to_vec()],
        }
    }

    #[test]
    fn a_line_under_a_later_one_is_widened_and_named() {
        let shared = [(0.0, 1.0), (1.0, 2.0), (2.0, 1.0)];
        let mut longer = shared.to_vec();
        longer.push((3.0, 5.0));
        let layers = [
            layer(0, &shared),
            layer(1, &[(0.0, 9.0)]),
            layer(2, &longer),
        ];
        let p = plan(&layers, 3);
        assert_eq!(
            p.cover,
            vec![Cover::Hidden(vec![2]), Cover::Shown, Cover::Shown]
        );
        assert_eq!(
            p.pieces[0],
            vec![Piece {
                points: shared.to_vec(),
                width: 4
            }]
        );
        // The later line is drawn plain, in one piece.
        assert_eq!(p.pieces[2].len(), 1);
        assert_eq!(p.pieces[2][0].width, 2);
        let labels = [
            "base".to_string(),
            "x".to_string(),
            "no-retries".to_string(),
        ];
        assert_eq!(
            p.note(0, &labels).as_deref(),
            Some("hidden under no-retries")
        );
        assert_eq!(p.note(2, &labels), None);
        assert!(p.nested.is_some());
    }

    #[test]
    fn partly_shared_lines_nest_only_where_they_coincide() {
        let a = [(0.0, 1.0), (1.0, 1.0), (2.0, 3.0)];
        let b = [(0.0, 1.0), (1.0, 1.0), (2.0, 4.0)];
        let c = [(0.0, 1.0), (1.0, 1.0), (2.0, 4.0)];
        let p = plan(&[layer(0, &a), layer(1, &b), layer(2, &c)], 3);
        let widths = |i: usize| p.pieces[i].iter().map(|x| x.width).collect::<Vec<_>>();
        assert_eq!(widths(0), vec![6, 2]);
        assert_eq!(widths(1), vec![4]);
        assert_eq!(widths(2), vec![2]);
        assert_eq!(p.cover[0], Cover::Shown);
        assert_eq!(p.cover[1], Cover::Hidden(vec![2]));
        // The pieces of a line join: the rim stops where the lines part.
        assert_eq!(p.pieces[0][0].points, vec![(0.0, 1.0), (1.0, 1.0)]);
        assert_eq!(p.pieces[0][1].points, vec![(1.0, 1.0), (2.0, 3.0)]);
    }

    #[test]
    fn rims_stop_at_the_deepest_and_kinds_do_not_mix() {
        let line = [(0.0, 1.0), (1.0, 1.0)];
        let layers: Vec<Layer> = (0..7).map(|i| layer(i, &line)).collect();
        let p = plan(&layers, 7);
        let widths: Vec<u32> = p.pieces.iter().map(|x| x[0].width).collect();
        assert_eq!(widths, vec![10, 10, 10, 8, 6, 4, 2]);
        let mut p50 = layer(0, &line);
        p50.group = 1;
        let p = plan(&[p50, layer(1, &line)], 2);
        assert_eq!(p.cover, vec![Cover::Shown, Cover::Shown]);
        assert!(p.nested.is_none());
    }

    #[test]
    fn lone_points_and_empty_lines() {
        let p = plan(
            &[
                layer(0, &[(1.0, -0.0)]),
                layer(1, &[(1.0, 0.0)]),
                layer(2, &[]),
            ],
            4,
        );
        assert_eq!(p.cover[0], Cover::Hidden(vec![1]));
        assert_eq!(p.cover[2], Cover::Empty);
        assert_eq!(p.cover[3], Cover::Empty);
        assert_eq!(p.pieces[0][0].points, vec![(1.0, -0.0)]);
        assert_eq!(p.pieces[0][0].width, 4);
    }

    #[test]
    fn names_are_short_and_sweeps_name_what_differs() {
        let labels: Vec<String> = [
            "base, rate_per_s=200",
            "12-workers, rate_per_s=200",
            "12-workers, rate_per_s=790",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(reference(&labels[0], &labels[1]), "12-workers");
        assert_eq!(reference(&labels[1], &labels[2]), "rate_per_s=790");
        assert_eq!(
            reference(&labels[0], &labels[2]),
            "12-workers, rate_per_s=790"
        );
        assert_eq!(reference("base", "no-retries"), "no-retries");
        let line = [(0.0, 1.0), (1.0, 1.0)];
        let p = plan(&[layer(0, &line), layer(1, &line), layer(2, &line)], 3);
        assert_eq!(
            p.note(0, &labels).as_deref(),
            Some("hidden under 12-workers, rate_per_s=790")
        );
        assert_eq!(
            p.note(1, &labels).as_deref(),
            Some("hidden under rate_per_s=790")
        );
    }
}
