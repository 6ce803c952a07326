//! `resim shrink`: a failing run of a scenario turned into the smallest scenario that still
//! fails with the same seed, as a file a team can commit as a regression test.
//!
//! The file is first made to stand alone: the variant's settings are applied, variants and
//! sweep removed, the seed written in, and `[expect]` reduced to the expectations the run
//! breaks, checked on that one seed. Random faults (MTBF, chaos monkey) become the
//! scheduled faults the seed gave them, so that the timings survive the edits that follow.
//! Then, keeping every edit after which the run still fails (delta debugging): faults are
//! removed (in halves, then quarters, ... then one by one), shortened, the load lowered and
//! the run shortened. Each try is one run; the search is sequential, so its result does not
//! depend on the machine.

use crate::compare::Metric;
use crate::engine::{SimDuration, SimTime};
use crate::hunt::{Miss, misses};
use crate::run::run_one;
use crate::scenario::Study;
use crate::scenario::expect::{metric_keys, metric_of_key};
use crate::scenario::fault::FaultTiming;
use crate::trace::{Select, TraceOptions};
use toml::{Table, Value};

/// What to shrink.
pub struct ShrinkRequest<'a> {
    /// The scenario's text.
    pub text: &'a str,
    /// Its path as given: data files are relative to it.
    pub file: &'a str,
    /// The failing seed.
    pub seed: u64,
    /// The variant that fails (`base`: the file as written).
    pub variant: &'a str,
    /// The sweep point that fails (its position, from 0; 0 without a sweep).
    pub point: usize,
}

/// The smallest scenario found.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// Its TOML text, without the header comment.
    pub toml: String,
    /// What was removed or changed, one line each.
    pub changes: Vec<String>,
    /// What the shrunk scenario's run breaks.
    pub misses: Vec<Miss>,
    /// Runs tried.
    pub tries: usize,
}

/// How a run fails: the expectations it breaks, or a limit it hit.
#[derive(Clone, Debug, PartialEq)]
enum Failing {
    Misses(Vec<Miss>),
    RunError(String),
}

/// Shrinks `req`; the error says why it cannot (the seed passes, the variant is unknown).
pub fn shrink(req: &ShrinkRequest, on_try: &dyn Fn(usize)) -> Result<Shrunk, String> {
    let study = Study::from_text(req.text, req.file).map_err(|e| e.to_string())?;
    if !study.variants.iter().any(|v| v == req.variant) {
        return Err(study.no_variant(req.variant));
    }
    if req.point >= study.points.len() {
        return Err(study.no_point(req.point));
    }
    let seed = i64::try_from(req.seed).map_err(|_| {
        format!(
            "seed {} is above {}, the largest a scenario file can name; expected a smaller seed",
            req.seed,
            i64::MAX
        )
    })?;
    let mut doc: Table = req
        .text
        .parse()
        .map_err(|e| format!("the scenario is not TOML: {e}"))?;
    let mut changes = Vec::new();
    if req.variant != crate::run::BASE_VARIANT {
        apply_variant(&mut doc, req.variant)?;
        changes.push(format!("variant \"{}\" applied to the file", req.variant));
    }
    // The sweep point's values, written in before the sweep goes.
    for (path, value) in study.sweep_paths.iter().zip(&study.points[req.point]) {
        let v = format!("v = {}", value.text)
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(value.text.clone()));
        *reach(&mut doc, path)? = v;
        changes.push(format!(
            "sweep point {}: `{path}` = {}",
            req.point, value.text
        ));
    }
    for (key, what) in [("variant", "[[variant]] tables"), ("sweep", "[sweep]")] {
        if doc.remove(key).is_some() {
            changes.push(format!("{what} removed"));
        }
    }
    doc.insert("seed".into(), Value::Integer(seed));
    // The expectations this seed breaks, checked on this seed alone.
    let cell = study
        .cells
        .iter()
        .find(|c| c.variant == req.variant && c.point == req.point)
        .ok_or("the variant has no cell")?;
    let expectations = study.expectations.for_variant(req.variant);
    let first = match run_one(&cell.scenario, req.seed) {
        Err(e) => {
            return Err(format!(
                "the run with seed {} stops at a limit ({e}); shrink works on broken expectations, and a scenario that stops at a limit is better fixed as the message says",
                req.seed
            ));
        }
        Ok(run) => {
            let m = misses(&expectations, &crate::compare::RunRow::of(&run));
            if m.is_empty() {
                return Err(format!(
                    "the run with seed {} meets every expectation of variant \"{}\"; nothing to shrink (find a failing seed with `resim hunt`)",
                    req.seed, req.variant
                ));
            }
            Failing::Misses(m)
        }
    };
    let mut expect = Table::new();
    if let Failing::Misses(m) = &first {
        for miss in m {
            expect.insert(
                key_of(miss.metric).into(),
                Value::String(miss.expected.clone()),
            );
        }
    }
    expect.insert("seeds".into(), Value::Integer(1));
    doc.insert("expect".into(), Value::Table(expect));

    let mut s = Shrinker {
        file: req.file,
        seed: req.seed,
        first,
        tries: 0,
        on_try,
    };
    if !s.fails(&doc) {
        return Err("the scenario made to stand alone (variant applied, sweep removed) no longer fails; shrink the variant's file as written instead".into());
    }
    s.replay_random_faults(&mut doc, &mut changes);
    s.remove_faults(&mut doc, &mut changes);
    s.shorten_faults(&mut doc, &mut changes);
    s.lower_load(&mut doc, &mut changes);
    s.shorten_run(&mut doc, &mut changes);
    s.remove_faults(&mut doc, &mut changes);
    s.round_fault_times(&mut doc, &mut changes);
    let last = s.failing(&doc).unwrap_or(Failing::Misses(Vec::new()));
    Ok(Shrunk {
        toml: toml::to_string(&doc).map_err(|e| e.to_string())?,
        changes,
        misses: match last {
            Failing::Misses(m) => m,
            Failing::RunError(_) => Vec::new(),
        },
        tries: s.tries,
    })
}

/// The `[expect]` key of `metric`.
fn key_of(metric: Metric) -> &'static str {
    metric_keys()
        .into_iter()
        .find(|k| metric_of_key(k) == Some(metric))
        .unwrap_or("availability")
}

/// Runs candidates and says whether they still fail the way the first run did.
struct Shrinker<'a> {
    file: &'a str,
    seed: u64,
    first: Failing,
    tries: usize,
    on_try: &'a dyn Fn(usize),
}

impl Shrinker<'_> {
    /// How `doc` fails with the seed, if it is a valid scenario that fails.
    fn failing(&mut self, doc: &Table) -> Option<Failing> {
        self.tries += 1;
        (self.on_try)(self.tries);
        let text = toml::to_string(doc).ok()?;
        let study = Study::from_text(&text, self.file).ok()?;
        let expectations = study.expectations.for_variant(crate::run::BASE_VARIANT);
        match run_one(&study.base, self.seed) {
            Err(e) => Some(Failing::RunError(e.to_string())),
            Ok(run) => {
                let m = misses(&expectations, &crate::compare::RunRow::of(&run));
                (!m.is_empty()).then_some(Failing::Misses(m))
            }
        }
    }

    /// True when `doc` fails as the first run did: it breaks an expectation with a value
    /// (or without one only where the first run had none either: removing every fault
    /// leaves `recovery` without a value, which is no failure a fix could clear).
    fn fails(&mut self, doc: &Table) -> bool {
        match (self.failing(doc), &self.first) {
            (Some(Failing::Misses(now)), Failing::Misses(first)) => now.iter().any(|m| {
                m.observed.is_some_and(f64::is_finite)
                    || first
                        .iter()
                        .any(|f| f.metric == m.metric && f.observed == m.observed)
            }),
            (Some(Failing::RunError(_)), Failing::RunError(_)) => true,
            _ => false,
        }
    }

    /// Random faults become the scheduled faults this seed gave them.
    fn replay_random_faults(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        let Some(text) = toml::to_string(doc).ok() else {
            return;
        };
        let Ok(study) = Study::from_text(&text, self.file) else {
            return;
        };
        let s = &study.base;
        // Crashes, hangs and slowdowns act the same whenever they start; errors, loss and
        // latency draw per request from the fault's own stream, which a replay would change.
        let random: Vec<usize> = (0..s.faults.len())
            .filter(|&f| {
                let kind = s.faults[f].kind.name();
                (matches!(s.faults[f].timing, FaultTiming::Random { .. })
                    && matches!(kind, "crash" | "hang" | "slow"))
                    || kind == "chaos_monkey"
            })
            .collect();
        let mut taken: Vec<String> = s.faults.iter().map(|f| f.name.clone()).collect();
        if random.is_empty() {
            return;
        }
        let options = TraceOptions {
            from: SimTime::ZERO,
            to: SimTime::ZERO,
            select: Select::All,
            limit: 0,
        };
        let Ok(traced) = crate::run::run_traced(s, self.seed, options) else {
            return;
        };
        let Some(Value::Array(faults)) = doc.get("fault").cloned() else {
            return;
        };
        let mut out = Vec::new();
        let mut replayed = 0;
        for (f, entry) in faults.into_iter().enumerate() {
            if !random.contains(&f) {
                out.push(entry);
                continue;
            }
            let windows = windows(&traced.recorded.faults, f);
            replayed += windows.len();
            let units = &traced.fault_units[f];
            for (k, (unit, start, end)) in windows.into_iter().enumerate() {
                let mut e = entry.as_table().cloned().unwrap_or_default();
                for key in [
                    "mtbf",
                    "mttr",
                    "up_time",
                    "down_time",
                    "at",
                    "for",
                    "interval",
                    "downtime",
                    "targets",
                    "fraction",
                ] {
                    e.remove(key);
                }
                let name = &s.faults[f].name;
                let mut n = k + 1;
                while taken.contains(&format!("{name}-{n}")) {
                    n += 1;
                }
                taken.push(format!("{name}-{n}"));
                e.insert("name".into(), Value::String(format!("{name}-{n}")));
                if e.get("kind").and_then(Value::as_str) == Some("chaos_monkey") {
                    e.insert("kind".into(), Value::String("crash".into()));
                }
                let unit_name = &units[unit as usize];
                if unit_name.ends_with(']') {
                    e.insert("target".into(), Value::String(unit_name.clone()));
                }
                e.insert("at".into(), Value::String(exact(start.as_nanos())));
                if let Some(end) = end {
                    e.insert("for".into(), Value::String(exact((end - start).as_nanos())));
                }
                out.push(Value::Table(e));
            }
        }
        let mut candidate = doc.clone();
        set_faults(&mut candidate, out);
        if self.fails(&candidate) {
            *doc = candidate;
            changes.push(format!(
                "{} random fault(s) replaced by the {replayed} scheduled fault window(s) seed {} gave them",
                random.len(),
                self.seed
            ));
        } else {
            changes.push(
                "random faults kept: replayed as scheduled faults, the run no longer failed".into(),
            );
        }
    }

    /// Removes faults while the run still fails: in halves, then smaller chunks, down to one
    /// at a time (ddmin's complement step).
    fn remove_faults(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        let mut faults = faults_of(doc);
        if faults.is_empty() {
            return;
        }
        let before = faults.len();
        let mut none = doc.clone();
        set_faults(&mut none, Vec::new());
        if self.fails(&none) {
            *doc = none;
            changes.push(format!(
                "all {before} fault(s) removed: the run fails without them"
            ));
            return;
        }
        let mut n = 2usize;
        while faults.len() >= 2 {
            let chunk = faults.len().div_ceil(n);
            let mut reduced = false;
            for i in 0..faults.len().div_ceil(chunk) {
                let mut keep = faults.clone();
                keep.drain(i * chunk..((i + 1) * chunk).min(faults.len()));
                let mut candidate = doc.clone();
                set_faults(&mut candidate, keep.clone());
                if self.fails(&candidate) {
                    faults = keep;
                    *doc = candidate;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                if n >= faults.len() {
                    break;
                }
                n = (2 * n).min(faults.len());
            }
        }
        if faults.len() < before {
            changes.push(format!(
                "{} of {before} fault(s) removed; the {} left are each needed",
                before - faults.len(),
                faults.len()
            ));
        }
    }

    /// Halves each fault's `for` (up to six times) while the run still fails.
    fn shorten_faults(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        let mut shortened = 0;
        for i in 0..faults_of(doc).len() {
            for _ in 0..6 {
                let faults = faults_of(doc);
                let Some(d) = faults[i].get("for").and_then(Value::as_str).and_then(ns_of) else {
                    break;
                };
                if d < 2_000_000 {
                    break;
                }
                let mut f = faults.clone();
                if let Some(t) = f[i].as_table_mut() {
                    t.insert("for".into(), Value::String(exact(d / 2)));
                }
                let mut candidate = doc.clone();
                set_faults(&mut candidate, f);
                if !self.fails(&candidate) {
                    break;
                }
                *doc = candidate;
                shortened += 1;
            }
        }
        if shortened > 0 {
            changes.push(format!("fault durations halved {shortened} time(s)"));
        }
    }

    /// Rounds every fault's `at` and `for` to whole milliseconds, for people, if the run
    /// still fails so.
    fn round_fault_times(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        let mut faults = faults_of(doc);
        let duration = doc
            .get("duration")
            .and_then(Value::as_str)
            .and_then(ns_of)
            .unwrap_or(u64::MAX);
        let mut changed = false;
        for f in faults.iter_mut().filter_map(Value::as_table_mut) {
            for key in ["at", "for"] {
                let Some(ns) = f.get(key).and_then(Value::as_str).and_then(ns_of) else {
                    continue;
                };
                let rounded = (ns + 500_000) / 1_000_000 * 1_000_000;
                let fits = key == "for" || rounded < duration;
                if rounded != ns && rounded > 0 && fits {
                    f.insert(key.into(), Value::String(exact(rounded)));
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
        let mut candidate = doc.clone();
        set_faults(&mut candidate, faults);
        if self.fails(&candidate) {
            *doc = candidate;
            changes.push("fault times rounded to milliseconds".into());
        }
    }

    /// Scales every client's load down to the lowest of 25%, 50%, 75% and 90% at which the
    /// run still fails.
    fn lower_load(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        for factor in [0.25, 0.5, 0.75, 0.9] {
            let mut candidate = doc.clone();
            if !scale_load(&mut candidate, factor) {
                return;
            }
            if self.fails(&candidate) {
                *doc = candidate;
                changes.push(format!("load scaled to {}%", factor * 100.0));
                return;
            }
        }
    }

    /// Cuts the run to the shortest of a quarter, half and three quarters of its duration
    /// that still fails (never before a fault starts or a phase ends).
    fn shorten_run(&mut self, doc: &mut Table, changes: &mut Vec<String>) {
        let Some(d) = doc.get("duration").and_then(Value::as_str).and_then(ns_of) else {
            return;
        };
        let floor = floor_of(doc);
        for fraction in [0.25, 0.5, 0.75] {
            let cut = ((d as f64 * fraction) as u64 / 1_000_000) * 1_000_000;
            if cut <= floor || cut == 0 {
                continue;
            }
            let mut candidate = doc.clone();
            candidate.insert("duration".into(), Value::String(exact(cut)));
            if self.fails(&candidate) {
                *doc = candidate;
                changes.push(format!("run shortened from {} to {}", show(d), show(cut)));
                return;
            }
        }
    }
}

/// The windows (unit, start, end if it stopped) during which fault `f` was on, in the
/// order they started; overlapping starts of one unit make one window.
fn windows(
    changes: &[crate::trace::FaultChange],
    f: usize,
) -> Vec<(u32, SimTime, Option<SimTime>)> {
    let mut open: Vec<(u32, SimTime, u32, usize)> = Vec::new();
    let mut out: Vec<(u32, SimTime, Option<SimTime>)> = Vec::new();
    for c in changes.iter().filter(|c| c.fault == f) {
        match open.iter_mut().find(|o| o.0 == c.unit) {
            Some(o) if c.on => o.2 += 1,
            None if c.on => {
                out.push((c.unit, c.t, None));
                open.push((c.unit, c.t, 1, out.len() - 1));
            }
            Some(o) => {
                o.2 -= 1;
                if o.2 == 0 {
                    let index = o.3;
                    out[index].2 = Some(c.t);
                    open.retain(|x| x.0 != c.unit);
                }
            }
            None => {}
        }
    }
    out
}

/// The `[[fault]]` entries of `doc`.
fn faults_of(doc: &Table) -> Vec<Value> {
    doc.get("fault")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Replaces the `[[fault]]` entries of `doc`.
fn set_faults(doc: &mut Table, faults: Vec<Value>) {
    if faults.is_empty() {
        doc.remove("fault");
    } else {
        doc.insert("fault".into(), Value::Array(faults));
    }
}

/// Multiplies every client's load by `factor`: open-loop rates (and their phases), a
/// trace's `scale`, closed-loop users (at least one). False when nothing changed.
fn scale_load(doc: &mut Table, factor: f64) -> bool {
    let Some(Value::Array(clients)) = doc.get_mut("client") else {
        return false;
    };
    let mut changed = false;
    let scale = |v: &mut Value| {
        if let Some(x) = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
            *v = Value::Float(x * factor);
        }
    };
    for c in clients.iter_mut() {
        let Some(arrival) = c.get_mut("arrival").and_then(Value::as_table_mut) else {
            continue;
        };
        match arrival.get("kind").and_then(Value::as_str) {
            Some("poisson" | "constant") => {
                if let Some(r) = arrival.get_mut("rate_per_s") {
                    scale(r);
                    changed = true;
                }
                if let Some(Value::Array(phases)) = arrival.get_mut("phases") {
                    for p in phases.iter_mut().filter_map(Value::as_table_mut) {
                        for key in ["rate_per_s", "ramp_to_per_s"] {
                            if let Some(r) = p.get_mut(key) {
                                scale(r);
                            }
                        }
                    }
                }
            }
            Some("trace") => {
                let old = arrival
                    .get("scale")
                    .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                    .unwrap_or(1.0);
                arrival.insert("scale".into(), Value::Float(old * factor));
                changed = true;
            }
            Some("closed") => {
                if let Some(u) = arrival.get("users").and_then(Value::as_integer) {
                    let users = ((u as f64 * factor).ceil() as i64).max(1);
                    arrival.insert("users".into(), Value::Integer(users));
                    changed |= users != u;
                }
            }
            _ => {}
        }
    }
    changed
}

/// The earliest end a run may be cut to: after the warm-up, every fault's start and every
/// phase's end.
fn floor_of(doc: &Table) -> u64 {
    let ns = |v: Option<&Value>| v.and_then(Value::as_str).and_then(ns_of).unwrap_or(0);
    let mut floor = ns(doc.get("warmup"));
    for f in faults_of(doc) {
        floor = floor.max(ns(f.get("at")));
    }
    if let Some(Value::Array(clients)) = doc.get("client") {
        for c in clients {
            if let Some(Value::Array(phases)) = c.get("arrival").and_then(|a| a.get("phases")) {
                for p in phases {
                    floor = floor.max(ns(p.get("to")));
                }
            }
        }
    }
    floor
}

/// Applies variant `name`'s `set` and `unset` to `doc`, as `resim run` does.
fn apply_variant(doc: &mut Table, name: &str) -> Result<(), String> {
    let variant = doc
        .get("variant")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
        })
        .cloned()
        .ok_or_else(|| format!("no variant \"{name}\""))?;
    if let Some(Value::Table(set)) = variant.get("set") {
        for (path, value) in set {
            *reach(doc, path)? = value.clone();
        }
    }
    if let Some(Value::Array(unset)) = variant.get("unset") {
        for path in unset.iter().filter_map(Value::as_str) {
            let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
            let table = if parent.is_empty() {
                &mut *doc
            } else {
                reach(doc, parent)?
                    .as_table_mut()
                    .ok_or_else(|| format!("`{parent}` is not a table"))?
            };
            table.remove(key);
        }
    }
    Ok(())
}

/// The value at `path` (dot-separated; an entry of a list by its `name`, a call by its
/// `to`, or a position), tables missing on the way created.
fn reach<'d>(doc: &'d mut Table, path: &str) -> Result<&'d mut Value, String> {
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or("");
    let mut at: &mut Value = doc
        .entry(first.to_string())
        .or_insert_with(|| Value::Table(Table::new()));
    for part in parts {
        at = match at {
            Value::Array(items) => {
                let index = items
                    .iter()
                    .position(|i| {
                        i.get("name").and_then(Value::as_str) == Some(part)
                            || i.get("to").and_then(Value::as_str) == Some(part)
                    })
                    .or_else(|| part.parse().ok())
                    .filter(|&i| i < items.len())
                    .ok_or_else(|| format!("no entry \"{part}\" in `{path}`"))?;
                &mut items[index]
            }
            Value::Table(t) => t
                .entry(part.to_string())
                .or_insert_with(|| Value::Table(Table::new())),
            _ => return Err(format!("`{path}` goes through a value that is not a table")),
        };
    }
    Ok(at)
}

/// A duration as resim reads it back exactly.
fn exact(ns: u64) -> String {
    crate::scenario::units::exact_duration(SimDuration::from_nanos(ns))
}

/// A duration for people: seconds with up to three decimals.
fn show(ns: u64) -> String {
    let s = format!("{:.3}", ns as f64 / 1e9);
    format!("{} s", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Nanoseconds of a duration string.
fn ns_of(text: &str) -> Option<u64> {
    crate::scenario::units::parse_duration(text)
        .ok()
        .map(SimDuration::as_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::FaultChange;

    #[test]
    fn fault_windows_pair_starts_and_stops_per_unit_and_nest_overlaps() {
        let c = |t: u64, unit: u32, on: bool| FaultChange {
            t: SimTime(t),
            fault: 0,
            unit,
            on,
        };
        let changes = [
            c(1, 0, true),
            c(2, 1, true),
            c(3, 0, true), // a second start of unit 0 while it is on
            c(4, 0, false),
            c(5, 1, false),
            c(6, 0, false),
            c(7, 1, true),
        ];
        assert_eq!(
            windows(&changes, 0),
            vec![
                (0, SimTime(1), Some(SimTime(6))),
                (1, SimTime(2), Some(SimTime(5))),
                (1, SimTime(7), None),
            ]
        );
        assert!(windows(&changes, 1).is_empty());
    }

    #[test]
    fn durations_are_written_exactly() {
        for ns in [1, 999, 1_000, 1_500_000, 2_000_000_000, 443_858_288_889] {
            assert_eq!(ns_of(&exact(ns)), Some(ns), "{}", exact(ns));
        }
        assert_eq!(exact(46_040_000_000), "46040ms");
    }

    #[test]
    fn load_scales_every_kind_of_client_and_a_variant_reaches_entries_by_name() {
        let mut doc: Table = r#"
[[client]]
name = "a"
arrival = { kind = "poisson", rate_per_s = 100, phases = [{ from = "1s", to = "2s", rate_per_s = 40, ramp_to_per_s = 80 }] }
[[client]]
name = "b"
arrival = { kind = "closed", users = 1 }
[[client]]
name = "c"
arrival = { kind = "trace", file = "x.csv" }
[[variant]]
name = "v"
set = { "client.b.arrival.users" = 10, "client.a.timeout" = "1s" }
unset = ["client.c.arrival.file"]
"#
        .parse()
        .expect("TOML");
        apply_variant(&mut doc, "v").expect("applies");
        assert!(scale_load(&mut doc, 0.5));
        let clients = doc["client"].as_array().expect("clients");
        let a = &clients[0]["arrival"];
        assert_eq!(a["rate_per_s"].as_float(), Some(50.0));
        assert_eq!(a["phases"][0]["ramp_to_per_s"].as_float(), Some(40.0));
        assert_eq!(clients[0]["timeout"].as_str(), Some("1s"));
        assert_eq!(clients[1]["arrival"]["users"].as_integer(), Some(5));
        assert_eq!(clients[2]["arrival"]["scale"].as_float(), Some(0.5));
        assert!(clients[2]["arrival"].get("file").is_none());
        assert!(reach(&mut doc, "client.zz.x").is_err());
    }
}
