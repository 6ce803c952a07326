//! From scenario text to a [`Scenario`]: the scenario-level checks, and the checker every check adds its problems to.
//!
//! `parse` turns the text into the serde mirror, collecting syntax, key and type errors.
//! The checks then look at every value: this module the top-level keys, `distribution`
//! the distribution tables, `arrival` the clients' arrivals and phases, `service` the
//! per-service settings, and `topology` the names, the references between them, links and
//! call cycles. Every problem is collected; they are returned together, in file order.

mod arrival;
mod balancer;
mod budget;
mod concurrency_limit;
mod data_file;
mod distribution;
mod empirical;
mod expect;
mod fault;
mod kind;
mod name;
mod parse;
mod path;
mod policy;
mod pools;
mod queue;
mod queueing;
mod rate_limit;
mod senders;
mod service;
mod sweep_values;
mod topology;
mod variant;

use super::diagnostic::{Diagnostic, ScenarioError, SourceMap};
use super::file::ScenarioFile;
use super::study::{Cell, Study, SweepValue};
use super::units::DurationValue;
use super::{ClientSpec, Scenario, ServiceSpec};
use crate::distribution::Distribution;
use crate::engine::SimDuration;
use parse::Removed;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Default seed when the file names none.
pub const DEFAULT_SEED: u64 = 1;
/// Default width of a time-series row.
pub const DEFAULT_BUCKET: SimDuration = SimDuration::from_secs(1);
/// Default event budget per run: a runaway stops within about half a minute on a 2-core
/// machine (resim handles 10 to 25 million events per second and thread).
pub const DEFAULT_MAX_EVENTS: u64 = 500_000_000;
/// Default bound on pending events, requests and timers at once: a few hundred bytes each,
/// so a run stays within about 2 GiB.
pub const DEFAULT_MAX_PENDING: u64 = 5_000_000;
/// Default bound on events in a row without simulated time passing.
pub const DEFAULT_MAX_EVENTS_AT_ONE_TIME: u64 = 10_000_000;
/// Default bound on the result rows of one run (time-series rows, plus one per service and
/// bucket, plus one per queue and bucket), about 100 bytes each in memory.
pub const DEFAULT_MAX_RESULT_ROWS: u64 = 2_000_000;
/// How long a client or a call waits for an answer when the file does not say.
pub const DEFAULT_TIMEOUT: SimDuration = SimDuration::from_secs(30);
/// Most rows a run's time series may have.
pub const MAX_BUCKETS: u64 = 1_000_000;

/// Parses `text` and validates it into the scenario as written (variants and sweeps are
/// validated too), naming `file` in every message.
pub fn parse_and_validate(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    parse_study(text, file).map(|s| s.base)
}

/// Collects the problems of one file while its values are converted.
struct Checker<'a> {
    map: &'a SourceMap<'a>,
    /// The directory data files (`file = "..."`) are relative to: the scenario file's.
    base: &'a Path,
    /// Keys that `parse` dropped after reporting their values; not reported again as missing.
    removed: &'a Removed,
    diagnostics: Vec<Diagnostic>,
    /// The data files read so far.
    data_files: Vec<crate::scenario::DataFile>,
    /// `parse` reported problems already: the values it dropped stand at defaults, so the
    /// cost estimates, which need every value, are skipped.
    parse_failed: bool,
}

impl Checker<'_> {
    /// Records a problem at the start of `span`.
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diagnostics
            .push(self.map.diagnostic(Some(span), message));
    }

    /// Records that the table at `table` lacks `key`, unless its value was already reported.
    fn missing(&mut self, table: &Range<usize>, key: &str, message: impl Into<String>) {
        if !self.removed.contains(&(table.start, key.to_string())) {
            self.error(table.clone(), message);
        }
    }

    /// The value of a key the table at `table` requires; `what` names the table and
    /// `expected` says what to write.
    fn required<'v, T>(
        &mut self,
        value: &'v Option<Spanned<T>>,
        table: &Range<usize>,
        key: &str,
        what: &str,
        expected: &str,
    ) -> Option<&'v Spanned<T>> {
        if value.is_none() {
            self.missing(
                table,
                key,
                format!("{what} has no `{key}`; expected {expected}"),
            );
        }
        value.as_ref()
    }

    /// Checks the top-level keys, then every table, into a scenario. The scenario is only
    /// meaningful when no problem was recorded.
    fn scenario(&mut self, f: ScenarioFile, root: &Range<usize>) -> Scenario {
        let name = self.name(&f, root);
        let duration = self
            .required(
                &f.duration,
                root,
                "duration",
                "the scenario",
                "a top-level key such as `duration = \"5m\"`",
            )
            .map(|d| {
                let duration = d.get_ref().0;
                if duration == SimDuration::ZERO {
                    self.error(
                        d.span(),
                        "`duration` is zero; expected a positive duration such as \"5m\"",
                    );
                }
                duration
            });
        let warmup = self.warmup(f.warmup.as_ref(), duration);
        let bucket = self.bucket(f.bucket.as_ref(), duration, f.duration.as_ref());
        let seed = match &f.seed {
            None => DEFAULT_SEED,
            Some(s) if *s.get_ref() < 0 => {
                self.error(
                    s.span(),
                    format!(
                        "`seed` is {}; expected a whole number, 0 or more",
                        s.get_ref()
                    ),
                );
                DEFAULT_SEED
            }
            Some(s) => *s.get_ref() as u64,
        };
        let max_events = self.limit(&f.max_events, "max_events", DEFAULT_MAX_EVENTS);
        let max_pending = self.limit(&f.max_pending, "max_pending", DEFAULT_MAX_PENDING);
        let max_events_at_one_time = self.limit(
            &f.max_events_at_one_time,
            "max_events_at_one_time",
            DEFAULT_MAX_EVENTS_AT_ONE_TIME,
        );
        let max_result_rows = self.limit(
            &f.max_result_rows,
            "max_result_rows",
            DEFAULT_MAX_RESULT_ROWS,
        );

        let names = self.names(&f);
        let network_latency = f
            .network
            .as_ref()
            .and_then(|n| n.get_ref().latency.as_ref())
            .and_then(|d| self.distribution(d, "network latency"))
            .unwrap_or_else(Distribution::zero);
        let client_files = f.client.as_ref().map_or(&[][..], |c| c.get_ref());
        let service_files = f.service.as_ref().map_or(&[][..], |s| s.get_ref());
        let clients: Vec<ClientSpec> = client_files
            .iter()
            .map(|c| self.client(c, &names, duration))
            .collect();
        let services: Vec<ServiceSpec> = service_files
            .iter()
            .map(|s| self.service(s, &names))
            .collect();
        self.consistent_balancers(client_files, &clients, service_files, &services);
        let senders = senders::Senders::new(&clients, &services);
        self.health_sources(service_files, &clients, &services, &senders);
        self.pool_callers(service_files, &clients, &services, &senders);
        let links = self.links(&f.link, &names);
        let faults = self.faults(
            &f.fault,
            &fault::Context {
                names: &names,
                clients: &clients,
                services: &services,
                duration,
            },
        );
        let queues = self.queues(&f.queue, &names);
        self.consumers(
            &f.queue,
            &queues,
            service_files,
            &clients,
            &services,
            &senders,
        );
        self.dead_letter_cycles(&f.queue, &queues);
        if clients.len() == client_files.len() {
            self.queue_senders(client_files, &clients, service_files, &services);
        }
        let drain = self.drain(f.drain.as_ref());
        self.check_cycles(service_files, &names, &queues);
        self.at_least_one(&f.client, root, "client", "source of requests");
        self.at_least_one(&f.service, root, "service", "service");

        let scenario = Scenario {
            name,
            description: f
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default(),
            seed,
            duration: duration.unwrap_or(SimDuration::ZERO),
            warmup,
            bucket,
            max_events,
            max_pending,
            max_events_at_one_time,
            max_result_rows,
            network_latency,
            clients,
            services,
            links,
            faults,
            queues,
            drain,
            data_files: Vec::new(),
        };
        if self.diagnostics.is_empty() && !self.parse_failed {
            self.estimate(&scenario, &f, root);
        }
        scenario
    }

    /// The scenario's `name`, which names its output folder.
    fn name(&mut self, f: &ScenarioFile, root: &Range<usize>) -> String {
        let Some(name) = self.required(
            &f.name,
            root,
            "name",
            "the scenario",
            "a top-level key such as `name = \"checkout\"`, which names the output folder",
        ) else {
            return String::new();
        };
        let text = name.get_ref();
        let problem = name::printable_problem(text).or_else(|| {
            if text.contains(['/', '\\']) {
                Some("it has a slash".to_string())
            } else if text == "." || text == ".." {
                Some("it names the current or the parent folder".to_string())
            } else {
                None
            }
        });
        if let Some(problem) = problem {
            self.error(
                name.span(),
                format!(
                    "`name` is {}, which cannot name the output folder: {problem}; expected 1 to {} bytes of printable text without slashes, not \".\" or \"..\", such as \"checkout\"",
                    name::quoted(text),
                    name::MAX_NAME_BYTES
                ),
            );
        }
        text.to_string()
    }

    /// `warmup`, which must end before `duration` does.
    fn warmup(
        &mut self,
        warmup: Option<&Spanned<DurationValue>>,
        duration: Option<SimDuration>,
    ) -> SimDuration {
        let Some(w) = warmup else {
            return SimDuration::ZERO;
        };
        let value = w.get_ref().0;
        if let Some(duration) = duration
            && duration > SimDuration::ZERO
            && value >= duration
        {
            self.error(
                w.span(),
                format!(
                    "`warmup` ({}) is not shorter than `duration` ({}); expected a warmup less than the duration",
                    show(value),
                    show(duration)
                ),
            );
        }
        value
    }

    /// `bucket`, the width of a time-series row. The rows of `duration` are capped at
    /// [`MAX_BUCKETS`] with the default bucket too, reported at `duration_key` then.
    fn bucket(
        &mut self,
        bucket: Option<&Spanned<DurationValue>>,
        duration: Option<SimDuration>,
        duration_key: Option<&Spanned<DurationValue>>,
    ) -> SimDuration {
        let Some(b) = bucket else {
            if let (Some(duration), Some(key)) = (duration, duration_key)
                && duration.as_nanos() / DEFAULT_BUCKET.as_nanos() > MAX_BUCKETS
            {
                self.error(
                    key.span(),
                    format!(
                        "`duration` ({}) would give the time series more than {MAX_BUCKETS} rows of the default `bucket` (1s); expected a duration of at most {}, or a `bucket` of at least {}",
                        show(duration),
                        show(SimDuration::from_nanos(
                            MAX_BUCKETS * DEFAULT_BUCKET.as_nanos()
                        )),
                        show(SimDuration::from_nanos(
                            duration.as_nanos().div_ceil(MAX_BUCKETS)
                        ))
                    ),
                );
            }
            return DEFAULT_BUCKET;
        };
        let value = b.get_ref().0;
        if value == SimDuration::ZERO {
            self.error(
                b.span(),
                "`bucket` is zero; expected a positive duration such as \"1s\"",
            );
            return DEFAULT_BUCKET;
        }
        if let Some(duration) = duration
            && duration.as_nanos() / value.as_nanos() > MAX_BUCKETS
        {
            self.error(
                b.span(),
                format!(
                    "`bucket` ({}) is so small that the time series would have more than {MAX_BUCKETS} rows; expected a bucket of at least {}",
                    show(value),
                    show(SimDuration::from_nanos(
                        duration.as_nanos().div_ceil(MAX_BUCKETS)
                    ))
                ),
            );
        }
        value
    }

    /// A positive limit `key`, or `default` when absent.
    fn limit(&mut self, value: &Option<Spanned<i64>>, key: &str, default: u64) -> u64 {
        match value {
            None => default,
            Some(m) if *m.get_ref() <= 0 => {
                self.error(
                    m.span(),
                    format!(
                        "`{key}` is {}; expected a positive whole number, such as {default} (the default)",
                        m.get_ref()
                    ),
                );
                default
            }
            Some(m) => *m.get_ref() as u64,
        }
    }

    /// A client's or a call's `timeout`: positive; [`DEFAULT_TIMEOUT`] when absent.
    fn timeout(&mut self, timeout: Option<&Spanned<DurationValue>>) -> SimDuration {
        let Some(t) = timeout else {
            return DEFAULT_TIMEOUT;
        };
        if t.get_ref().0 == SimDuration::ZERO {
            self.error(
                t.span(),
                "`timeout` is zero; expected a positive duration such as \"2s\"",
            );
            return DEFAULT_TIMEOUT;
        }
        t.get_ref().0
    }

    /// Reports an absent or empty list of `[[key]]` tables.
    fn at_least_one<T>(
        &mut self,
        list: &Option<Spanned<Vec<T>>>,
        root: &Range<usize>,
        key: &str,
        what: &str,
    ) {
        let message = format!(
            "the scenario has no [[{key}]]; expected at least one {what}, written as a [[{key}]] table"
        );
        match list {
            None => self.missing(root, key, message),
            Some(l) if l.get_ref().is_empty() => self.error(l.span(), message),
            Some(_) => {}
        }
    }
}

/// "a" or "an", whichever goes before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A duration as a person reads it, for messages.
fn show(d: SimDuration) -> String {
    super::units::exact_duration(d)
}

/// Parses `text` and validates it, with every variant at every sweep point, into a study,
/// naming `file` in every message.
pub fn parse_study(text: &str, file: &str) -> Result<Study, ScenarioError> {
    let map = SourceMap::new(text);
    let fail = |mut diagnostics: Vec<Diagnostic>| {
        // A stable sort: problems at one position keep the order they were found in.
        diagnostics.sort_by_key(|d| (d.line, d.col));
        diagnostics.dedup();
        ScenarioError {
            file: file.to_string(),
            diagnostics,
        }
    };
    let data_dir = Path::new(file).parent().unwrap_or(Path::new(""));
    let (root, doc) = parse::document(text, &map).map_err(|d| fail(vec![d]))?;
    let mut doc = doc;
    let mut diagnostics = Vec::new();
    let plan = variant::extract(&mut doc, &map, &mut diagnostics);
    let expect_value = doc.remove("expect");
    let base = match check_document(doc.clone(), &root, text.len(), &map, data_dir) {
        Ok(s) => s,
        Err(mut d) => {
            diagnostics.append(&mut d);
            return Err(fail(diagnostics));
        }
    };
    let points = plan.points();
    let point_values: Vec<Vec<SweepValue>> = points
        .iter()
        .map(|p| {
            plan.axes
                .iter()
                .zip(p)
                .map(|(axis, &i)| SweepValue {
                    text: variant::value_text(&axis.values[i], text),
                    number: variant::value_number(&axis.values[i]),
                })
                .collect()
        })
        .collect();
    let describe = |p: usize| -> String {
        plan.axes
            .iter()
            .zip(&point_values[p])
            .map(|(a, v)| format!("`{}` = {}", a.path.get_ref(), v.text))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut variants = vec![crate::run::BASE_VARIANT.to_string()];
    variants.extend(plan.variants.iter().map(|v| v.name.clone()));
    let expectations = expect_value
        .map(|e| expect::read(e, &variants, &map, &mut diagnostics))
        .unwrap_or_default();
    let defs: Vec<Option<&variant::VariantDef>> = std::iter::once(None)
        .chain(plan.variants.iter().map(Some))
        .collect();
    let mut cells = Vec::new();
    'variants: for (name, def) in variants.iter().zip(&defs) {
        let mut with_variant = doc.clone();
        if let Some(v) = def
            && let Err(mut d) = variant::apply_variant(&mut with_variant, v, &map)
        {
            diagnostics.append(&mut d);
            continue;
        }
        for (p, point) in points.iter().enumerate() {
            let mut cell_doc = with_variant.clone();
            if let Err(mut d) = variant::apply_point(&mut cell_doc, &plan.axes, point, &map) {
                diagnostics.append(&mut d);
                break 'variants;
            }
            match check_document(cell_doc, &root, text.len(), &map, data_dir) {
                Ok(scenario) => cells.push(Cell {
                    variant: name.clone(),
                    point: p,
                    scenario,
                }),
                Err(d) => {
                    // The first point where a variant breaks stands for the others.
                    let point = if plan.axes.is_empty() {
                        String::new()
                    } else {
                        describe(p)
                    };
                    diagnostics.extend(
                        d.into_iter()
                            .map(|d| variant::annotate(d, *def, &plan.axes, &point, &map)),
                    );
                    continue 'variants;
                }
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(fail(diagnostics));
    }
    Ok(Study {
        base,
        variants,
        sweep_paths: plan.axes.iter().map(|a| a.path.get_ref().clone()).collect(),
        points: point_values,
        cells,
        expectations,
    })
}

/// Reads and checks one document (the file, or a variant's copy of it) into a scenario.
fn check_document(
    doc: toml::de::DeTable<'_>,
    root: &Range<usize>,
    text_len: usize,
    map: &SourceMap,
    base: &Path,
) -> Result<Scenario, Vec<Diagnostic>> {
    let parsed = parse::read(doc, root.clone(), text_len, map);
    let mut diagnostics = parsed.diagnostics;
    let mut scenario = None;
    if let Some(f) = parsed.file {
        let mut checker = Checker {
            map,
            base,
            removed: &parsed.removed,
            diagnostics: Vec::new(),
            data_files: Vec::new(),
            parse_failed: !diagnostics.is_empty(),
        };
        let mut s = checker.scenario(f, &parsed.root);
        checker.data_files.sort();
        checker.data_files.dedup();
        s.data_files = std::mem::take(&mut checker.data_files);
        scenario = Some(s);
        diagnostics.append(&mut checker.diagnostics);
    }
    match scenario {
        Some(s) if diagnostics.is_empty() => Ok(s),
        _ => Err(diagnostics),
    }
}
