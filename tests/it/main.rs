//! resim's integration tests, in one binary (one link step) with a module per concern.

mod common;

mod adaptive_concurrency;
mod bad_input;
mod bulkheads;
mod check;
mod cli;
mod compare;
mod conformance;
mod determinism;
mod error_output;
mod faults;
mod golden;
mod hunt;
mod limits;
mod links;
mod names;
mod policies;
mod pools;
mod priorities;
mod queues;
mod rate_limits;
mod regression;
mod routing;
mod scenarios;
mod shedding;
mod shrink;
mod telemetry;
mod theory;
mod trace;
