//! One run: (scenario, seed) -> results. The one place where engine, model and metrics meet.

use crate::engine::{self, Scheduler, SimTime, Stop};
use crate::metrics::RunMetrics;
use crate::metrics::recovery::{Recovery, recovery};
use crate::model::Model;
use crate::scenario::Scenario;

/// The variant name of a scenario run as written (variants come with comparisons).
pub const BASE_VARIANT: &str = "base";

/// Results of one run: plain data, independent of every other run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// Which variant of the scenario ran.
    pub variant: String,
    /// The run's root seed.
    pub seed: u64,
    /// What was measured.
    pub metrics: RunMetrics,
    /// Events handled.
    pub events: u64,
    /// Requests sent by clients, counted or not.
    pub requests_sent: u64,
    /// Simulated time when the last event was handled.
    pub end_time: SimTime,
    /// How long availability took to come back after the scheduled faults.
    pub recovery: Recovery,
}

/// Why a run could not finish.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The scenario's event budget ran out before the run drained.
    #[error(
        "the run with seed {seed} used its whole budget of {budget} events before every request ended; \
         raise `max_events` in the scenario or shorten `duration`"
    )]
    BudgetExhausted {
        /// The run's seed.
        seed: u64,
        /// The budget that ran out.
        budget: u64,
    },
}

/// Runs `scenario` with root seed `seed`, until every request sent has ended.
pub fn run_one(scenario: &Scenario, seed: u64) -> Result<RunResult, RunError> {
    let mut sched = Scheduler::new();
    let mut model = Model::new(scenario, seed, &mut sched);
    match engine::run(&mut model, &mut sched, SimTime::MAX, scenario.max_events) {
        Stop::Drained => {}
        Stop::ReachedTime | Stop::BudgetExhausted => {
            return Err(RunError::BudgetExhausted {
                seed,
                budget: scenario.max_events,
            });
        }
    }
    let requests_sent = model.requests_sent();
    let end_time = sched.now();
    let metrics = model.finish(end_time);
    let windows = scenario.scheduled_outages();
    Ok(RunResult {
        variant: BASE_VARIANT.to_string(),
        seed,
        recovery: recovery(&metrics.buckets, scenario.bucket.as_nanos(), &windows),
        metrics,
        events: sched.events_handled(),
        requests_sent,
        end_time,
    })
}
