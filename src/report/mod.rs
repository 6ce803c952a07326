//! Reports: files and tables made from frozen run results. Never touches the engine.

pub mod chart;
pub mod csv;
pub mod format;
pub mod html;
pub mod table;
