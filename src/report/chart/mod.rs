//! Charts of a study, drawn from [`Analysis`]: availability and latency over time, the
//! latency distribution, per-cell summaries with confidence intervals, sweep curves and
//! policy tracks. Each chart is drawn by one function generic over the plotters backend,
//! so its PNG and SVG come from the same code; output is deterministic. Lines that coincide
//! are drawn nested and named in the legend when hidden (module `overlap`), never moved.

mod cdf;
mod clients;
mod data;
mod font;
mod frame;
mod legend;
mod overlap;
mod policy;
mod style;
mod summary;
mod sweep;
mod thin;
mod timeline;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use crate::compare::analysis::Analysis;
use frame::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// A rendered chart: its file stem ("availability"), its title, and its SVG text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSvg {
    /// The file stem, also the figure's id in the report: `chart-NAME`.
    pub name: String,
    /// The title drawn on the chart.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Why a chart could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The bundled font did not load (a broken build).
    #[error("the bundled font assets/fonts/DejaVuSans.ttf could not be loaded")]
    Font,
    /// Drawing failed.
    #[error("drawing the {chart} chart failed: {message}")]
    Draw {
        /// The chart's name.
        chart: String,
        /// What plotters reported.
        message: String,
    },
    /// A file or directory could not be written.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The charts, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Availability,
    Latency,
    LatencyCdf,
    Summary,
    Clients,
    SweepAvailability,
    SweepP99,
    Policies,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Availability,
        Kind::Latency,
        Kind::LatencyCdf,
        Kind::Summary,
        Kind::Clients,
        Kind::SweepAvailability,
        Kind::SweepP99,
        Kind::Policies,
    ];

    /// The file stem.
    fn name(self) -> &'static str {
        match self {
            Kind::Availability => "availability",
            Kind::Latency => "latency",
            Kind::LatencyCdf => "latency-cdf",
            Kind::Summary => "summary",
            Kind::Clients => "clients",
            Kind::SweepAvailability => "sweep-availability",
            Kind::SweepP99 => "sweep-p99",
            Kind::Policies => "policies",
        }
    }

    /// Whether `a` has the data this chart shows.
    fn applies(self, a: &Analysis) -> bool {
        match self {
            Kind::Availability | Kind::Latency => timeline::applies(a),
            Kind::LatencyCdf => cdf::applies(a),
            Kind::Summary => !a.cells.is_empty(),
            Kind::Clients => clients::applies(a),
            Kind::SweepAvailability | Kind::SweepP99 => sweep::applies(a),
            Kind::Policies => policy::applies(a),
        }
    }

    /// The title: scenario, what is shown, and the seeds.
    fn title(self, a: &Analysis) -> String {
        let what = match self {
            Kind::Availability => "availability over time".to_string(),
            Kind::Latency => "latency over time".to_string(),
            Kind::LatencyCdf => "latency distribution, tail".to_string(),
            Kind::Summary => "availability and p99 per cell".to_string(),
            Kind::Clients => "availability per client".to_string(),
            Kind::SweepAvailability => format!("availability vs {}", sweep::x_name(a)),
            Kind::SweepP99 => format!("p99 latency vs {}", sweep::x_name(a)),
            Kind::Policies => "breaker states and retry budgets over time".to_string(),
        };
        let seeds = if self == Kind::Policies {
            "first seed of each cell".to_string()
        } else {
            style::seeds(a.seeds)
        };
        format!("{}: {what} ({seeds})", a.scenario)
    }

    /// Draws this chart of `a` on `root`.
    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        a: &Analysis,
    ) -> DrawResult<(), DB> {
        let title = self.title(a);
        match self {
            Kind::Availability => timeline::availability(root, a, &title),
            Kind::Latency => timeline::latency(root, a, &title),
            Kind::LatencyCdf => cdf::draw(root, a, &title),
            Kind::Summary => summary::draw(root, a, &title),
            Kind::Clients => clients::draw(root, a, &title),
            Kind::SweepAvailability => sweep::draw(root, a, &title, sweep::Shown::Availability),
            Kind::SweepP99 => sweep::draw(root, a, &title, sweep::Shown::P99),
            Kind::Policies => policy::draw(root, a, &title),
        }?;
        root.present()
    }

    /// `e` as a [`ChartError`] of this chart.
    fn error(self, e: impl std::fmt::Display) -> ChartError {
        ChartError::Draw {
            chart: self.name().to_string(),
            message: e.to_string(),
        }
    }
}

/// The charts that apply to `a`, in report order.
fn kinds(a: &Analysis) -> Vec<Kind> {
    Kind::ALL.into_iter().filter(|k| k.applies(a)).collect()
}

/// Every chart that applies to `a`, as SVG, in report order.
pub fn render_svgs(a: &Analysis) -> Result<Vec<ChartSvg>, ChartError> {
    font::ensure_registered()?;
    kinds(a)
        .into_iter()
        .map(|kind| {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, style::SIZE).into_drawing_area();
                kind.draw(&root, a).map_err(|e| kind.error(e))?;
            }
            Ok(ChartSvg {
                name: kind.name().to_string(),
                title: kind.title(a),
                svg,
            })
        })
        .collect()
}

/// Writes every chart that applies to `a` into `dir` as NAME.png and NAME.svg; returns the
/// paths written, PNG then SVG per chart, in report order.
pub fn write_charts(dir: &Path, a: &Analysis) -> Result<Vec<PathBuf>, ChartError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ChartError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let svgs = render_svgs(a)?;
    let mut written = Vec::new();
    for (kind, chart) in kinds(a).into_iter().zip(&svgs) {
        let png = dir.join(format!("{}.png", chart.name));
        let partial = crate::report::atomic::temporary(&png);
        {
            let root = BitMapBackend::new(&partial, style::SIZE).into_drawing_area();
            kind.draw(&root, a).map_err(|e| kind.error(e))?;
            root.present().map_err(|e| kind.error(e))?;
        }
        crate::report::atomic::commit_path(&partial, &png).map_err(io(&png))?;
        let svg = dir.join(format!("{}.svg", chart.name));
        crate::report::atomic::write(&svg, &chart.svg).map_err(io(&svg))?;
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}
