//! stub
use super::frame::DrawResult;
use crate::compare::analysis::Analysis;
use plotters::coord::Shift;
use plotters::prelude::*;
pub fn applies(a: &Analysis) -> bool { a.cells.iter().any(|c| !c.metrics.is_empty()) }
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &Analysis, title: &str) -> DrawResult<(), DB> { super::frame::titled(root, title, &a.scenario)?; Ok(()) }
