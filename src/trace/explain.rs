//! One request's life in words: each hop, wait, attempt, timeout, retry, gate decision and
//! fallback, with its time, for `resim explain`.

use super::chrome::{replica_names, step_name};
use super::{JobEnd, RequestTrace, StepKind};
use crate::engine::{SimDuration, SimTime};
use crate::scenario::Scenario;

/// A time as seconds with microseconds.
fn at(t: SimTime) -> String {
    format!("{:.6} s", t.as_nanos() as f64 / 1e9)
}

/// A duration in milliseconds.
fn ms(d: SimDuration) -> String {
    format!("{:.3} ms", d.as_nanos() as f64 / 1e6)
}

/// The life of request `r` of a run of `scenario`, one line per step, in time order.
pub fn explain(scenario: &Scenario, r: &RequestTrace) -> String {
    let replicas = replica_names(scenario);
    let client = &scenario.clients[r.client];
    let name = |j: usize| replicas[r.jobs[j].replica].1.as_str();
    let caller = |parent: Option<u32>| match parent {
        None => format!("client {}", client.name),
        Some(p) => name(p as usize).to_string(),
    };
    let service = |j: usize| {
        let (s, _) = replicas[r.jobs[j].replica];
        scenario.services[s].name.as_str()
    };
    let mut lines: Vec<(SimTime, u64, String)> = Vec::new();
    for (k, j) in r.jobs.iter().enumerate() {
        lines.push((
            j.sent,
            j.order[0],
            format!(
                "{} sends attempt {} to {} (replica {})",
                caller(j.parent),
                j.attempt,
                service(k),
                name(k)
            ),
        ));
        let arrived = j.arrived.or(j.started);
        if let Some(a) = arrived {
            lines.push((
                a,
                j.order[1],
                format!(
                    "{} receives attempt {} after {} on the network",
                    name(k),
                    j.attempt,
                    ms(a - j.sent)
                ),
            ));
        }
        if let Some(s) = j.started {
            let waited = arrived.map_or(SimDuration::ZERO, |a| s - a);
            let work = j
                .worked
                .map_or(String::new(), |w| format!(", own work {}", ms(w - s)));
            lines.push((
                s,
                j.order[2],
                format!(
                    "{} starts serving attempt {} after waiting {} for a worker{work}",
                    name(k),
                    j.attempt,
                    ms(waited)
                ),
            ));
        }
        if let Some((t, end)) = j.ended {
            let (who, a) = (name(k), j.attempt);
            let mut text = match end {
                JobEnd::Answered(o) => format!("{who} answers attempt {a}: {}", o.name()),
                JobEnd::TurnedAway(o) => format!("{who} turns attempt {a} away: {}", o.name()),
                JobEnd::Dropped => {
                    format!("{who} drops attempt {a} unserved: its caller's deadline has passed")
                }
                JobEnd::Killed => format!("{who} crashes: the work of attempt {a} is lost"),
            };
            // Work still going on after the request ended answers nobody.
            if let Some((ended, _)) = r.ended
                && t > ended
            {
                text.push_str(&format!(" (too late: the request ended at {})", at(ended)));
            }
            lines.push((t, j.order[4], text));
        }
    }
    for step in &r.steps {
        let who = caller(step.at);
        let text = match step.kind {
            StepKind::Answer(a, o) => format!("{who} gets the answer to attempt {a}: {}", o.name()),
            k => format!("{who}: {}", step_name(k)),
        };
        lines.push((step.t, step.order, text));
    }
    // In time order, and at one instant in the order things happened.
    lines.sort_by_key(|l| (l.0, l.1));
    let mut out = format!(
        "request #{} from client {} to {}, sent at {}\n",
        r.id,
        client.name,
        scenario.dest_name(client.target),
        at(r.sent)
    );
    for (t, _, text) in lines {
        out.push_str(&format!("  {:>14}  {text}\n", at(t)));
    }
    match r.ended {
        Some((t, o)) => out.push_str(&format!(
            "ended at {}: {} after {} ({} attempt(s) and call(s) on replicas)\n",
            at(t),
            o.name(),
            ms(t - r.sent),
            r.jobs.len()
        )),
        None => out.push_str("did not end before the run stopped\n"),
    }
    out
}
