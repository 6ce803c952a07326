//! One run: (scenario, seed) -> results. The one place where engine, model and metrics meet.

use crate::engine::{self, Limits, Scheduler, SimTime, Stop};
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

/// Why a run could not finish. Each message says what ran away and what to change.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The scenario's event budget ran out before the run drained.
    #[error(
        "the run with seed {seed} used its whole budget of {budget} events before every request ended, at {at}; \
         the work still going on: {doing}; raise `max_events` in the scenario, or shorten `duration`"
    )]
    BudgetExhausted {
        /// The run's seed.
        seed: u64,
        /// The budget that ran out.
        budget: u64,
        /// When, as simulated time.
        at: String,
        /// What the next events were about.
        doing: String,
    },
    /// More events, requests and timers were pending at once than `max_pending` allows.
    #[error(
        "the run with seed {seed} held {pending} pending events, requests and timers at {at}, more than `max_pending` = {limit}: \
         work arrives faster than it ends ({doing}); lower the load, add capacity or a timeout, or raise `max_pending`"
    )]
    TooManyPending {
        /// The run's seed.
        seed: u64,
        /// How many were pending.
        pending: u64,
        /// The limit.
        limit: u64,
        /// When, as simulated time.
        at: String,
        /// What the next events were about.
        doing: String,
    },
    /// Simulated time stood still for too many events (`max_events_at_one_time`), or while
    /// the pending work grew past `max_pending`: a zero-time loop.
    #[error(
        "in the run with seed {seed}, simulated time stood still at {at} for {limit} events: {doing}, with no simulated time passing; \
         give one of them a duration (a think time, a service time or a network latency)"
    )]
    TimeStandsStill {
        /// The run's seed.
        seed: u64,
        /// How many events passed with the clock standing still.
        limit: u64,
        /// When, as simulated time.
        at: String,
        /// What the events were about.
        doing: String,
    },
    /// A queue still changed so long after `duration` that its rows (one per bucket up to
    /// its last change) would pass `max_result_rows`.
    #[error(
        "the run with seed {seed} would write more than `max_result_rows` = {limit} result rows: queue `{queue}` still changed at {at}, \
         and queues.csv has a row per queue and bucket up to its last change; shorten what keeps messages going long after `duration` \
         (`drain`, a network latency, a consumer's service time), widen `bucket`, or raise `max_result_rows`"
    )]
    TooManyRows {
        /// The run's seed.
        seed: u64,
        /// The limit.
        limit: u64,
        /// The queue that needed a row past it.
        queue: String,
        /// When, as simulated time.
        at: String,
    },
    /// An event fell past the end of representable simulated time.
    #[error(
        "in the run with seed {seed}, an event would happen after the end of representable simulated time (about 584 years): {doing}; \
         a duration drawn for it is too large (a huge constant, or a distribution with a tail that heavy): bound it"
    )]
    TimeSaturated {
        /// The run's seed.
        seed: u64,
        /// What the saturated events were about.
        doing: String,
    },
}

/// Runs `scenario` with root seed `seed`, until every request sent has ended.
pub fn run_one(scenario: &Scenario, seed: u64) -> Result<RunResult, RunError> {
    run_with(scenario, seed, None).map(|(run, _)| run)
}

/// What a traced run gives: its result (the same as [`run_one`]'s), what the tracer
/// recorded, and the name of each fault's units (`api[1]`, or the fault's target for a link
/// or a partition).
pub struct TracedRun {
    /// The run's result.
    pub result: RunResult,
    /// The requests and fault changes recorded.
    pub recorded: crate::trace::Recorded,
    /// Per fault, the name of each unit.
    pub fault_units: Vec<Vec<String>>,
}

/// [`run_one`] with a tracer recording what `options` asks for.
pub fn run_traced(
    scenario: &Scenario,
    seed: u64,
    options: crate::trace::TraceOptions,
) -> Result<TracedRun, RunError> {
    let tracer = Box::new(crate::trace::Tracer::new(options));
    let (result, tracer) = run_with(scenario, seed, Some(tracer))?;
    let recorded = tracer.map(|t| t.finish()).expect("the tracer comes back");
    Ok(TracedRun {
        result,
        recorded,
        fault_units: crate::model::fault_unit_names(scenario),
    })
}

/// Runs `scenario` with `seed`, with `tracer` attached when given, and hands it back.
fn run_with(
    scenario: &Scenario,
    seed: u64,
    tracer: Option<Box<crate::trace::Tracer>>,
) -> Result<(RunResult, Option<Box<crate::trace::Tracer>>), RunError> {
    let mut sched = Scheduler::new();
    let mut model = Model::new(scenario, seed, &mut sched);
    if let Some(t) = tracer {
        model.attach_tracer(t);
    }
    let limits = Limits {
        max_events: scenario.max_events,
        max_pending: scenario.max_pending,
        max_events_at_one_time: scenario.max_events_at_one_time,
    };
    let stop = match engine::run(&mut model, &mut sched, SimTime::MAX, &limits) {
        // Rows refused by the last events, after the last check.
        Stop::Drained if model.out_of_rows().is_some() => Stop::Outgrown,
        stop => stop,
    };
    if stop != Stop::Drained {
        return Err(stopped(stop, &model, &sched, scenario, seed));
    }
    let requests_sent = model.requests_sent();
    let end_time = sched.now();
    let tracer = model.take_tracer();
    let metrics = model.finish(end_time);
    let windows = scenario.scheduled_outages();
    let run = RunResult {
        variant: BASE_VARIANT.to_string(),
        seed,
        recovery: recovery(&metrics.buckets, scenario.bucket.as_nanos(), &windows),
        metrics,
        events: sched.events_handled(),
        requests_sent,
        end_time,
    };
    Ok((run, tracer))
}

/// The error for a run that stopped with `stop` before draining.
fn stopped(
    stop: Stop,
    model: &Model,
    sched: &Scheduler<crate::model::Event>,
    scenario: &Scenario,
    seed: u64,
) -> RunError {
    let upcoming = engine::upcoming(sched, 256);
    let doing = |only_at: Option<SimTime>| {
        let mut seen: Vec<String> = Vec::new();
        for (t, e) in &upcoming {
            if only_at.is_some_and(|at| *t != at) {
                continue;
            }
            let d = model.describe(*e);
            if !seen.contains(&d) {
                seen.push(d);
            }
        }
        let more = seen.len().saturating_sub(4);
        seen.truncate(4);
        let mut text = seen.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more kinds"));
        }
        text
    };
    let at = format!(
        "{:.6} s of simulated time",
        sched.now().as_nanos() as f64 / 1e9
    );
    match stop {
        Stop::Outgrown => {
            let (queue, when) = model.out_of_rows().unwrap_or(("?", sched.now()));
            RunError::TooManyRows {
                seed,
                limit: scenario.max_result_rows,
                queue: queue.to_string(),
                at: format!("{:.6} s of simulated time", when.as_nanos() as f64 / 1e9),
            }
        }
        Stop::TimeStandsStill => RunError::TimeStandsStill {
            seed,
            limit: scenario.max_events_at_one_time,
            at,
            doing: doing(Some(sched.now())),
        },
        // Most of the growth without the clock moving: a zero-time loop, not an overload.
        Stop::TooManyPending {
            events_at_this_time,
            ..
        } if events_at_this_time > engine::CHECK_EVERY * 16 => RunError::TimeStandsStill {
            seed,
            limit: events_at_this_time,
            at,
            doing: doing(Some(sched.now())),
        },
        Stop::TooManyPending { pending, .. } => RunError::TooManyPending {
            seed,
            pending,
            limit: scenario.max_pending,
            at,
            doing: doing(None),
        },
        Stop::ReachedTime => RunError::TimeSaturated {
            seed,
            doing: doing(Some(SimTime::MAX)),
        },
        Stop::BudgetExhausted | Stop::Drained => RunError::BudgetExhausted {
            seed,
            budget: scenario.max_events,
            at,
            doing: doing(None),
        },
    }
}
