//! stub
use super::frame::DrawResult;
use crate::compare::analysis::Analysis;
use plotters::coord::Shift;
use plotters::prelude::*;
pub fn applies(a: &Analysis) -> bool { a.cells.iter().any(|c| !c.latency_cdf.is_empty()) }
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &Analysis, title: &str, _s: Shown) -> DrawResult<(), DB> { super::frame::titled(root, title, &a.scenario)?; Ok(()) }
pub enum Shown { Availability, P99 }
pub fn x_name(a: &Analysis) -> String { a.sweep_paths.first().cloned().unwrap_or_default() }
