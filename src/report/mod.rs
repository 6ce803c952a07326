//! Reports: files and tables made from frozen run results. Never touches the engine.

pub mod aggregate;
pub mod atomic;
pub mod chart;
pub mod csv;
pub mod format;
pub mod histogram;
pub mod html;
pub mod junit;
pub mod manifest;
pub mod table;
pub mod verdicts;
