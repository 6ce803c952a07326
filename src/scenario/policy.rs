//! Call-path policies as validated plain data: what a client (for calls to its target) or a
//! service's call entry does about deadlines, retries, budgets, breakers and fallbacks.

use crate::engine::SimDuration;
use crate::policy::backoff::{Backoff, Jitter};
use crate::policy::breaker::BreakerSpec;
use crate::policy::budget::BudgetSpec;

/// Why a call failed, as policies name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The callee answered with an error.
    Error,
    /// No answer in time.
    Timeout,
    /// A full queue refused the call.
    Rejected,
    /// An open circuit breaker refused the call without sending it.
    ShortCircuited,
    /// A rate limiter refused the call.
    RateLimited,
    /// The caller's bulkhead was full.
    BulkheadFull,
    /// The callee shed the request.
    Shed,
}

/// A set of failure reasons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reasons(u8);

impl Reasons {
    /// No reason.
    pub const NONE: Reasons = Reasons(0);

    /// Every reason.
    pub const ALL: Reasons = Reasons(0b111_1111);

    /// Every failure reason's name, as scenario files write them.
    pub const NAMES: [&'static str; 7] = [
        "error",
        "timeout",
        "rejected",
        "short_circuited",
        "rate_limited",
        "bulkhead_full",
        "shed",
    ];

    fn bit(r: Reason) -> u8 {
        match r {
            Reason::Error => 1,
            Reason::Timeout => 2,
            Reason::Rejected => 4,
            Reason::ShortCircuited => 8,
            Reason::RateLimited => 16,
            Reason::BulkheadFull => 32,
            Reason::Shed => 64,
        }
    }

    /// This set with `r` added.
    pub fn with(self, r: Reason) -> Reasons {
        Reasons(self.0 | Self::bit(r))
    }

    /// True when `r` is in the set.
    pub fn contains(self, r: Reason) -> bool {
        self.0 & Self::bit(r) != 0
    }

    /// The failure reason named `name` in scenario files.
    pub fn parse(name: &str) -> Option<Reason> {
        match name {
            "error" => Some(Reason::Error),
            "timeout" => Some(Reason::Timeout),
            "rejected" => Some(Reason::Rejected),
            "short_circuited" => Some(Reason::ShortCircuited),
            "rate_limited" => Some(Reason::RateLimited),
            "bulkhead_full" => Some(Reason::BulkheadFull),
            "shed" => Some(Reason::Shed),
            _ => None,
        }
    }
}

/// Retries of failed attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (Resilience4j's `maxAttempts`).
    pub max_attempts: u32,
    /// Wait growth.
    pub backoff: Backoff,
    /// Wait randomisation.
    pub jitter: Jitter,
    /// Failure reasons that are retried.
    pub retry_on: Reasons,
    /// How a refusal's retry-after delay (the callee's `retry_after`) sets the wait.
    pub pushback: Pushback,
    /// Attempts after the first avoid the replicas already tried (Envoy's
    /// `previous_hosts` retry predicate), with one reselection.
    pub other_host: bool,
}

/// How a retry honours a server's retry-after delay (pushback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushback {
    /// Wait exactly the delay, and restart the backoff afterwards (gRPC's
    /// `grpc-retry-pushback-ms`: "retry after exactly that delay"; later backoff restarts
    /// from `initialBackoff`).
    Exact,
    /// Wait the longer of the delay and the computed backoff (the AWS SDKs' standard mode).
    AtLeast,
    /// Wait U(delay, 1.5 x delay) (Envoy's `rate_limited_retry_back_off`).
    Jittered,
    /// The computed backoff, as if no delay were given.
    Ignore,
}

impl Pushback {
    /// Each mode's name, as scenario files write them.
    pub const NAMES: [&'static str; 4] = ["exact", "at_least", "jittered", "ignore"];

    /// The mode named `name`.
    pub fn parse(name: &str) -> Option<Pushback> {
        match name {
            "exact" => Some(Pushback::Exact),
            "at_least" => Some(Pushback::AtLeast),
            "jittered" => Some(Pushback::Jittered),
            "ignore" => Some(Pushback::Ignore),
            _ => None,
        }
    }
}

/// When a hedged attempt goes out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeAfter {
    /// A fixed delay after the previous attempt.
    Fixed(SimDuration),
    /// The running percentile (0 < p < 1) of this call site's successful attempt latencies.
    Percentile(f64),
}

/// Hedged requests ("The Tail at Scale").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HedgePolicy {
    /// When each extra attempt goes out, if no answer has come.
    pub after: HedgeAfter,
    /// Extra attempts at most (1 to 4).
    pub max_extra: u32,
}

/// A policy that decides whether a call, or each of its attempts, may be sent: an
/// admission gate. Adding one (a bulkhead, a rate limiter) is a variant here and its step
/// in `model/admission.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// The circuit breaker.
    CircuitBreaker,
    /// The bulkhead.
    Bulkhead,
    /// The caller's rate limiter or adaptive throttle.
    RateLimit,
}

/// A caller's `rate_limit`: a limiter whose permits a call may wait for, or Google SRE's
/// adaptive throttle. Either refuses as `rate_limited`, without sending.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClientLimit {
    /// A token bucket, fixed or sliding window (Resilience4j's `RateLimiter` for the
    /// fixed window); a call waits up to `max_wait` for a permit.
    Limiter {
        /// The limiter.
        kind: crate::policy::rate_limit::LimiterKind,
        /// The longest wait for a permit (Resilience4j's `timeoutDuration`).
        max_wait: crate::engine::SimDuration,
    },
    /// Adaptive client-side throttling: reject with probability
    /// max(0, (requests - k x accepts) / (requests + 1)) over `window`.
    Throttle {
        /// The multiplier (2.0).
        k: f64,
        /// The window (2 minutes).
        window: crate::engine::SimDuration,
    },
}

/// A caller-side bulkhead (Resilience4j's `SemaphoreBulkhead`): at most `max_concurrent`
/// calls (or attempts, inside the retry) in flight; one beyond waits up to `max_wait` for a
/// slot, in arrival order (Resilience4j's fair semaphore), then fails as `bulkhead_full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkheadSpec {
    /// Slots (`maxConcurrentCalls`, 25).
    pub max_concurrent: u32,
    /// The longest wait for a slot (`maxWaitDuration`, 0).
    pub max_wait: crate::engine::SimDuration,
}

/// Where a gate sits in the order of policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Outside the retry: once for the whole logical call, which it sees as one outcome.
    Call,
    /// Inside the retry: before each attempt, which it sees one by one.
    Attempt,
}

/// Everything a call site does besides its per-attempt timeout.
#[derive(Clone, Debug, PartialEq)]
pub struct CallPolicy {
    /// Limit on the whole call: all attempts and waits.
    pub deadline: Option<SimDuration>,
    /// The callee drops an attempt at dequeue when its caller has already given up on it.
    pub propagate_deadline: bool,
    /// Retries.
    pub retry: Option<RetryPolicy>,
    /// Retry budget.
    pub budget: Option<BudgetSpec>,
    /// Circuit breaker.
    pub breaker: Option<BreakerSpec>,
    /// The admission gates, outermost first, each with its layer (as `order` places them;
    /// inside the retry by default).
    pub gates: Vec<(Gate, Layer)>,
    /// The failure reasons the breaker records as failures; the others it ignores, as
    /// neither a success nor a failure (Resilience4j's `recordExceptions` /
    /// `ignoreExceptions`). All reasons by default.
    pub breaker_record_on: Reasons,
    /// The breaker (with the site's budget and hedge estimate) is shared by every call
    /// entry of a replica to the same target that says so (`scope = "target"`), as gRPC
    /// and Envoy keep breaker state per upstream.
    pub breaker_per_target: bool,
    /// How the breaker's open period grows on repeated openings, if it does.
    pub breaker_growth: Option<crate::policy::breaker::OpenGrowth>,
    /// The breaker's timed transitions (Resilience4j's automatic half-open and maximum
    /// wait in half-open); none by default.
    pub breaker_timers: crate::policy::breaker::Timers,
    /// Failure reasons answered by a fallback (a degraded answer).
    pub fallback: Option<Reasons>,
    /// Hedging.
    pub hedge: Option<HedgePolicy>,
    /// The bulkhead.
    pub bulkhead: Option<BulkheadSpec>,
    /// The caller's rate limiter or adaptive throttle.
    pub rate_limit: Option<ClientLimit>,
}

impl CallPolicy {
    /// The gates of `layer`, outermost first.
    pub fn gates_of(&self, layer: Layer) -> impl Iterator<Item = Gate> + '_ {
        self.gates
            .iter()
            .filter(move |(_, l)| *l == layer)
            .map(|(g, _)| *g)
    }

    /// True when some gate sits outside the retry (it then holds one grant for the whole
    /// call, and attempts hold none of its).
    pub fn gates_outside_retry(&self) -> bool {
        self.gates.iter().any(|(_, l)| *l == Layer::Call)
    }

    /// True when the call site has no policy besides its per-attempt timeout.
    pub fn is_plain(&self) -> bool {
        self.deadline.is_none()
            && !self.propagate_deadline
            && self.retry.is_none()
            && self.budget.is_none()
            && self.breaker.is_none()
            && self.fallback.is_none()
            && self.hedge.is_none()
            && self.bulkhead.is_none()
            && self.rate_limit.is_none()
    }
}
