//! Thinning of long polylines before drawing: a latency distribution has a point per
//! histogram bin (thousands), far more than a chart can show, and every one of them would
//! land in the SVG.

/// The points of `line` needed to draw it to within `tolerance` pixels, where `to_px` maps a
/// point to pixel coordinates (Ramer-Douglas-Peucker). The first and last points are always
/// kept and the order is unchanged, so the result is deterministic; points that are not
/// finite in pixels cannot make it panic.
pub fn thin(
    line: &[(f64, f64)],
    to_px: impl Fn((f64, f64)) -> (f64, f64),
    tolerance: f64,
) -> Vec<(f64, f64)> {
    let n = line.len();
    if n <= 2 {
        return line.to_vec();
    }
    let px: Vec<(f64, f64)> = line.iter().map(|&p| to_px(p)).collect();
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0, n - 1)];
    while let Some((a, b)) = stack.pop() {
        let mut worst = (tolerance, None);
        for (i, &p) in px.iter().enumerate().take(b).skip(a + 1) {
            let d = distance(p, px[a], px[b]);
            if d > worst.0 {
                worst = (d, Some(i));
            }
        }
        if let (_, Some(i)) = worst {
            keep[i] = true;
            stack.push((i, b));
            stack.push((a, i));
        }
    }
    line.iter()
        .zip(keep)
        .filter_map(|(&p, k)| k.then_some(p))
        .collect()
}

/// The distance from `p` to the segment `a`-`b`.
fn distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_runs_collapse_and_corners_stay() {
        let mut line: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i), 0.0)).collect();
        line.extend((1..=100).map(|i| (100.0, f64::from(i))));
        let thinned = thin(&line, |p| p, 0.5);
        assert_eq!(thinned, vec![(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)]);
    }

    #[test]
    fn every_kept_point_is_an_original_and_the_ends_stay() {
        let line: Vec<(f64, f64)> = (0..1000)
            .map(|i| {
                let x = f64::from(i) / 10.0;
                (x, (x / 7.0).sin() * 40.0)
            })
            .collect();
        let thinned = thin(&line, |p| p, 0.5);
        assert!(thinned.len() < 100, "{} points", thinned.len());
        assert_eq!(thinned.first(), line.first());
        assert_eq!(thinned.last(), line.last());
        assert!(thinned.iter().all(|p| line.contains(p)));
        // Every dropped point lies within the tolerance of the thinned line.
        for &p in &line {
            let near = thinned
                .windows(2)
                .map(|w| distance(p, w[0], w[1]))
                .fold(f64::INFINITY, f64::min);
            assert!(near <= 0.5 + 1e-9, "{p:?} is {near} px away");
        }
    }

    #[test]
    fn odd_points_do_not_panic() {
        let line = [
            (0.0, 0.0),
            (f64::NAN, 1.0),
            (2.0, f64::INFINITY),
            (3.0, 0.0),
        ];
        let thinned = thin(&line, |p| p, 0.5);
        assert_eq!(thinned.first(), Some(&(0.0, 0.0)));
        assert_eq!(thinned.last(), Some(&(3.0, 0.0)));
        assert!(thin(&[], |p| p, 0.5).is_empty());
    }
}
