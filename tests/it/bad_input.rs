//! Bad input: broken scenario files, unreadable files and bad usage, through the real binary.
//!
//! Every case must exit with code 2, print nothing on stdout, and print on stderr a
//! `file.toml:LINE:COL:` line that says what is wrong and what is expected, without a panic.

use crate::common::resim;
use std::path::Path;
use std::process::Output;

/// A small valid scenario; each case breaks one thing in it. Line numbers:
///  1 name, 2 duration, 3 warmup, 5 [[client]], 6 name, 7 target, 8 arrival,
/// 10 [[service]] "api", 11 name, 12 replicas, 13 concurrency, 14 service_time, 15 calls,
/// 17 [[service]] "db", 18 name, 19 service_time, 20 error_rate.
const BASE: &str = r#"name = "t"
duration = "10s"
warmup = "1s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 100 }

[[service]]
name = "api"
replicas = 2
concurrency = 4
service_time = { kind = "exponential", mean = "4ms" }
calls = [{ to = "db" }]

[[service]]
name = "db"
service_time = { kind = "lognormal", median = "2ms", p99 = "20ms" }
error_rate = 0.01
"#;

/// `BASE` with each `(from, to)` replacement made; each `from` must occur exactly once.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in the base scenario"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// `BASE` with `extra` appended.
fn append(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// One broken file: its text, where the error is, and part of what the message says.
struct Case {
    name: &'static str,
    text: String,
    at: &'static str,
    says: &'static str,
}

fn case(name: &'static str, text: String, at: &'static str, says: &'static str) -> Case {
    Case {
        name,
        text,
        at,
        says,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // TOML syntax.
        case(
            "unterminated string",
            edit(&[(r#"duration = "10s""#, r#"duration = "10s"#)]),
            "2:16",
            "a string is not closed; expected a closing quote",
        ),
        case(
            "unquoted string",
            edit(&[(r#"target = "api""#, "target = api")]),
            "7:10",
            "`api` is not a valid value; expected a quoted string",
        ),
        case(
            "key twice",
            edit(&[(r#"name = "t""#, "name = \"t\"\nname = \"u\"")]),
            "2:1",
            "`name` is defined twice in the same table; expected each key once",
        ),
        case(
            "missing comma in an inline table",
            edit(&[(
                r#"{ kind = "poisson", rate_per_s = 100 }"#,
                r#"{ kind = "poisson" rate_per_s = 100 }"#,
            )]),
            "8:30",
            "missing comma between key-value pairs; expected `,`",
        ),
        case(
            "leading zero",
            edit(&[("replicas = 2", "replicas = 02")]),
            "12:12",
            "a number starts with a zero; expected a number without leading zeros",
        ),
        // Unknown keys.
        case(
            "unknown top-level key",
            edit(&[(r#"warmup = "1s""#, "warmup = \"1s\"\nseeed = 7")]),
            "4:1",
            "unknown key `seeed`; did you mean `seed`? expected one of: name,",
        ),
        case(
            "unknown key in [[service]]",
            edit(&[("concurrency = 4", "concurency = 4")]),
            "13:1",
            "unknown key `concurency`; did you mean `concurrency`? expected one of:",
        ),
        case(
            "unknown key in [[client]]",
            edit(&[(r#"target = "api""#, r#"targte = "api""#)]),
            "7:1",
            "unknown key `targte`; did you mean `target`?",
        ),
        case(
            "unknown key in a distribution table",
            edit(&[(r#"mean = "4ms""#, r#"mean = "4ms", meen = "5ms""#)]),
            "14:54",
            "unknown key `meen`; did you mean `mean`? expected one of: kind, value, mean",
        ),
        case(
            "unknown key in a call",
            edit(&[(r#"{ to = "db" }"#, r#"{ too = "db" }"#)]),
            "15:12",
            "unknown key `too`; did you mean `to`? expected one of: to",
        ),
        // Wrong types.
        case(
            "string where a whole number belongs",
            edit(&[("concurrency = 4", r#"concurrency = "four""#)]),
            "13:15",
            "`concurrency` has the wrong type: found the string \"four\"; expected a whole number",
        ),
        case(
            "string where a number belongs",
            edit(&[("rate_per_s = 100", r#"rate_per_s = "lots""#)]),
            "8:44",
            "`rate_per_s` has the wrong type: found the string \"lots\"; expected a number",
        ),
        case(
            "fraction where a whole number belongs",
            edit(&[("replicas = 2", "replicas = 2.5")]),
            "12:12",
            "`replicas` has the wrong type: found the number 2.5; expected a whole number",
        ),
        case(
            "number where a name belongs",
            edit(&[(r#"name = "t""#, "name = 5")]),
            "1:8",
            "`name` has the wrong type: found the whole number 5; expected a quoted string",
        ),
        case(
            "string where a distribution table belongs",
            edit(&[(
                r#"service_time = { kind = "exponential", mean = "4ms" }"#,
                r#"service_time = "4ms""#,
            )]),
            "14:16",
            "`service_time` has the wrong type: found the string \"4ms\"; expected a distribution table",
        ),
        case(
            "a table where the list of calls belongs",
            edit(&[(r#"calls = [{ to = "db" }]"#, r#"calls = { to = "db" }"#)]),
            "15:9",
            "`calls` has the wrong type: found a table; expected an array of calls",
        ),
        case(
            "a string in the list of calls",
            edit(&[(r#"calls = [{ to = "db" }]"#, r#"calls = ["db"]"#)]),
            "15:10",
            "`calls` has an entry of the wrong type: found the string \"db\"; expected a call table",
        ),
        // Durations.
        case(
            "bare number as a duration",
            edit(&[(r#"duration = "10s""#, "duration = 10")]),
            "2:12",
            "`duration`: a duration needs a unit, but this is the bare number 10; expected a string such as \"10s\"",
        ),
        case(
            "bare number as a duration in a distribution",
            edit(&[(r#"mean = "4ms""#, "mean = 4")]),
            "14:47",
            "`mean`: a duration needs a unit, but this is the bare number 4",
        ),
        case(
            "duration string without a unit",
            edit(&[(r#"warmup = "1s""#, r#"warmup = "1""#)]),
            "3:10",
            "the duration \"1\" has no unit; expected a number followed by ns, us, ms, s, m or h",
        ),
        case(
            "unknown duration unit",
            edit(&[(r#"warmup = "1s""#, r#"warmup = "1fortnight""#)]),
            "3:10",
            "unknown time unit \"fortnight\" in \"1fortnight\"; expected one of ns, us, ms, s, m, h",
        ),
        case(
            "negative duration",
            edit(&[(r#"mean = "4ms""#, r#"mean = "-4ms""#)]),
            "14:47",
            "the duration \"-4ms\" is negative; expected a duration of zero or more",
        ),
        case(
            "zero duration",
            edit(&[(r#"duration = "10s""#, r#"duration = "0s""#)]),
            "2:12",
            "`duration` is zero; expected a positive duration",
        ),
        case(
            "zero bucket",
            edit(&[(r#"warmup = "1s""#, "warmup = \"1s\"\nbucket = \"0ms\"")]),
            "4:10",
            "`bucket` is zero; expected a positive duration",
        ),
        // Values out of range.
        case(
            "negative rate",
            edit(&[("rate_per_s = 100", "rate_per_s = -5")]),
            "8:44",
            "`rate_per_s` is -5; expected a number of requests per second greater than zero",
        ),
        case(
            "zero rate",
            edit(&[("rate_per_s = 100", "rate_per_s = 0")]),
            "8:44",
            "`rate_per_s` is 0; expected a number of requests per second greater than zero",
        ),
        case(
            "infinite rate",
            edit(&[("rate_per_s = 100", "rate_per_s = inf")]),
            "8:44",
            "`rate_per_s` is inf; expected a number of requests per second greater than zero",
        ),
        case(
            "error_rate above 1",
            edit(&[("error_rate = 0.01", "error_rate = 1.5")]),
            "20:14",
            "`error_rate` is 1.5; expected a probability from 0 to 1",
        ),
        case(
            "error_rate below 0",
            edit(&[("error_rate = 0.01", "error_rate = -0.1")]),
            "20:14",
            "`error_rate` is -0.1; expected a probability from 0 to 1",
        ),
        case(
            "zero replicas",
            edit(&[("replicas = 2", "replicas = 0")]),
            "12:12",
            "`replicas` is 0; expected a whole number from 1 to 10000",
        ),
        case(
            "zero concurrency",
            edit(&[("concurrency = 4", "concurrency = 0")]),
            "13:15",
            "`concurrency` is 0; expected a whole number from 1 to 1000000",
        ),
        case(
            "negative concurrency",
            edit(&[("concurrency = 4", "concurrency = -4")]),
            "13:15",
            "`concurrency` is -4; expected a whole number from 1 to 1000000",
        ),
        case(
            "negative queue",
            edit(&[("concurrency = 4", "concurrency = 4\nqueue = -1")]),
            "14:9",
            "the queue size -1 is negative; expected a number of requests (0 or more) or \"unbounded\"",
        ),
        case(
            "negative seed",
            edit(&[(r#"name = "t""#, "name = \"t\"\nseed = -1")]),
            "2:8",
            "`seed` is -1; expected a whole number, 0 or more",
        ),
        case(
            "zero users",
            edit(&[(
                r#"{ kind = "poisson", rate_per_s = 100 }"#,
                r#"{ kind = "closed", users = 0 }"#,
            )]),
            "8:38",
            "`users` is 0; expected a whole number from 1 to",
        ),
        case(
            "warmup as long as the duration",
            edit(&[(r#"warmup = "1s""#, r#"warmup = "10s""#)]),
            "3:10",
            "`warmup` (10s) is not shorter than `duration` (10s); expected a warmup less than the duration",
        ),
        case(
            "warmup longer than the duration",
            edit(&[(r#"warmup = "1s""#, r#"warmup = "1m""#)]),
            "3:10",
            "`warmup` (60s) is not shorter than `duration` (10s)",
        ),
        case(
            "scenario name with a slash",
            edit(&[(r#"name = "t""#, r#"name = "a/b""#)]),
            "1:8",
            "cannot name the output folder: it has a slash; expected 1 to 100 bytes of printable text without slashes",
        ),
        // Distributions.
        case(
            "unknown distribution kind",
            edit(&[(r#"kind = "exponential""#, r#"kind = "gaussian""#)]),
            "14:25",
            "unknown distribution kind \"gaussian\"; expected one of: constant, exponential, uniform, lognormal, normal, pareto",
        ),
        case(
            "misspelled distribution kind",
            edit(&[(r#"kind = "exponential""#, r#"kind = "exponental""#)]),
            "14:25",
            "did you mean \"exponential\"?",
        ),
        case(
            "distribution without a kind",
            edit(&[(r#"kind = "exponential", "#, "")]),
            "14:16",
            "this distribution has no `kind`; expected `kind = \"...\"` with one of: constant,",
        ),
        case(
            "distribution missing a key",
            edit(&[(r#", p99 = "20ms""#, "")]),
            "19:16",
            "the lognormal distribution of `service_time` has no `p99`; expected `median` and `p99`",
        ),
        case(
            "key that does not apply to the kind",
            edit(&[(r#"mean = "4ms""#, r#"mean = "4ms", median = "2ms""#)]),
            "14:63",
            "`median` does not apply to an exponential distribution; expected only the keys it takes: mean",
        ),
        case(
            "lognormal p99 below its median",
            edit(&[(r#"p99 = "20ms""#, r#"p99 = "1ms""#)]),
            "19:60",
            "a lognormal's `p99` (1ms) is below its `median` (2ms); expected p99 >= median",
        ),
        case(
            "uniform max below its min",
            edit(&[(
                r#"{ kind = "exponential", mean = "4ms" }"#,
                r#"{ kind = "uniform", min = "5ms", max = "1ms" }"#,
            )]),
            "14:55",
            "a uniform's `max` (1ms) is below its `min` (5ms); expected min <= max",
        ),
        case(
            "pareto with a zero shape",
            edit(&[(
                r#"{ kind = "exponential", mean = "4ms" }"#,
                r#"{ kind = "pareto", scale = "1ms", shape = 0 }"#,
            )]),
            "14:58",
            "a pareto's `shape` is 0; expected a number greater than zero",
        ),
        case(
            "exponential with a zero mean",
            edit(&[(r#"mean = "4ms""#, r#"mean = "0ms""#)]),
            "14:47",
            "`mean` of an exponential distribution is zero; expected a duration greater than zero",
        ),
        // Arrivals and phases.
        case(
            "unknown arrival kind",
            edit(&[(r#"kind = "poisson""#, r#"kind = "poison""#)]),
            "8:20",
            "unknown arrival kind \"poison\"; did you mean \"poisson\"? expected one of: poisson, constant, closed",
        ),
        case(
            "arrival without a rate",
            edit(&[(", rate_per_s = 100", "")]),
            "8:11",
            "this poisson arrival has no `rate_per_s`; expected requests per second",
        ),
        case(
            "key that does not apply to the arrival kind",
            edit(&[("rate_per_s = 100", "rate_per_s = 100, users = 5")]),
            "8:57",
            "`users` does not apply to a poisson arrival; expected only the keys it takes: rate_per_s, phases",
        ),
        case(
            "overlapping phases",
            edit(&[(
                "rate_per_s = 100 }",
                r#"rate_per_s = 100, phases = [{ from = "1s", to = "5s", rate_per_s = 10 }, { from = "4s", to = "6s", rate_per_s = 20 }] }"#,
            )]),
            "8:104",
            "this phase (4s to 6s) overlaps the phase from 1s to 5s; expected phases that do not overlap",
        ),
        case(
            "phase ending after the duration",
            edit(&[(
                "rate_per_s = 100 }",
                r#"rate_per_s = 100, phases = [{ from = "1s", to = "15s", rate_per_s = 10 }] }"#,
            )]),
            "8:79",
            "this phase ends at 15s, after the run's duration of 10s; expected `to` at most `duration`",
        ),
        case(
            "phase ending before it starts",
            edit(&[(
                "rate_per_s = 100 }",
                r#"rate_per_s = 100, phases = [{ from = "5s", to = "2s", rate_per_s = 10 }] }"#,
            )]),
            "8:79",
            "this phase ends at 2s, which is not after its start at 5s; expected `to` later than `from`",
        ),
        // Names and references.
        case(
            "unknown client target",
            edit(&[(r#"target = "api""#, r#"target = "apj""#)]),
            "7:10",
            "unknown service or queue \"apj\" in `target`; did you mean \"api\"? expected one of: api, db",
        ),
        case(
            "client target that is a client",
            edit(&[(r#"target = "api""#, r#"target = "web""#)]),
            "7:10",
            "`target` names the client \"web\"; expected a service or a queue: api, db",
        ),
        // References in a file that declares nothing they could name: no empty lists.
        case(
            "client target that is a client, with no service",
            "name = \"t\"\nduration = \"10s\"\n\n[[client]]\nname = \"web\"\ntarget = \"web\"\narrival = { kind = \"poisson\", rate_per_s = 100 }\n".to_string(),
            "6:10",
            "`target` names the client \"web\"; expected a service or a queue, but the file declares none",
        ),
        case(
            "queue consumer that is a client, with no service",
            "name = \"t\"\nduration = \"10s\"\n\n[[client]]\nname = \"web\"\ntarget = \"jobs\"\narrival = { kind = \"poisson\", rate_per_s = 100 }\n\n[[queue]]\nname = \"jobs\"\nconsumer = \"web\"\n".to_string(),
            "11:12",
            "`consumer` names the client \"web\"; expected a service, but the file declares none",
        ),
        case(
            "link between names in a file with no client or service",
            "name = \"t\"\nduration = \"10s\"\n\n[[link]]\nfrom = \"web\"\nto = \"api\"\nlatency = { kind = \"constant\", value = \"1ms\" }\n".to_string(),
            "5:8",
            "unknown client or service \"web\" in a [[link]]; expected the name of a [[client]] or a [[service]], but the file declares none",
        ),
        case(
            "link fault where nothing sends to a service",
            edit(&[
                (r#"target = "api""#, r#"target = "jobs""#),
                ("calls = [{ to = \"db\" }]\n", ""),
            ]) + "\n[[queue]]\nname = \"jobs\"\nconsumer = \"api\"\n\n[[fault]]\nkind = \"loss\"\ntarget = \"api->db\"\nprobability = 0.5\nat = \"2s\"\n",
            "27:10",
            "no client or call sends from api to db; expected a hop that is used, but no client or call sends to a service (a link is the hop from a client or service to a service it sends to)",
        ),
        case(
            "probes from a service to one nothing sends to",
            append("\n[[service]]\nname = \"lonely\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\nhealth_check = { from = \"api\" }\n"),
            "25:25",
            "probes travel the hop from `from` to the checked service, but nothing in api sends to lonely; expected one of its callers, but no client or service sends to lonely (without `from`, probes stay on each replica's node)",
        ),
        case(
            "a pool of a service nothing sends to",
            append("\n[[service]]\nname = \"lonely\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\npools = [{ callers = [\"web\"], concurrency = 4 }]\n"),
            "25:9",
            "a pool of lonely names web, which does not send to it; expected its callers, but no client or service sends to lonely (a pool without `callers` serves every caller)",
        ),
        case(
            "unknown call target",
            edit(&[(r#"{ to = "db" }"#, r#"{ to = "dbx" }"#)]),
            "15:17",
            "unknown service or queue \"dbx\" in `calls`; did you mean \"db\"? expected one of: api, db",
        ),
        // Queues.
        case(
            "unknown queue consumer",
            append("\n[[queue]]\nname = \"jobs\"\nconsumer = \"wrk\"\n"),
            "24:12",
            "unknown service \"wrk\" in `consumer`",
        ),
        case(
            "queue consumer that is called synchronously",
            append("\n[[queue]]\nname = \"jobs\"\nconsumer = \"db\"\n"),
            "24:12",
            "the service \"db\" is called by \"api\", so it cannot consume a queue",
        ),
        case(
            "dead letter queue without max_receives",
            append(
                "\n[[queue]]\nname = \"jobs\"\ndead_letter = \"dlq\"\n\n[[queue]]\nname = \"dlq\"\n",
            ),
            "24:15",
            "`dead_letter` is never used without `max_receives`; expected `max_receives = 5` (say) beside it",
        ),
        case(
            "waiting room on a queue consumer",
            append(
                "\n[[queue]]\nname = \"jobs\"\nconsumer = \"worker\"\n\n[[service]]\nname = \"worker\"\nqueue = 10\nservice_time = { kind = \"constant\", value = \"1ms\" }\n",
            ),
            "28:9",
            "`queue` does not apply to \"worker\", which consumes the queue \"jobs\"",
        ),
        case(
            "queue of capacity zero",
            append("\n[[queue]]\nname = \"jobs\"\ncapacity = 0\n"),
            "24:12",
            "`capacity` is 0: the queue would refuse every message; expected 1 or more, or \"unbounded\"",
        ),
        case(
            "dead letter cycle",
            append(
                "\n[[queue]]\nname = \"a\"\nmax_receives = 2\ndead_letter = \"b\"\n\n[[queue]]\nname = \"b\"\nmax_receives = 2\ndead_letter = \"a\"\n",
            ),
            "25:15",
            "dead-letter cycle: a -> b -> a; expected dead-letter queues that end",
        ),
        case(
            "load balancer on a send to a queue",
            edit(&[(
                r#"target = "api""#,
                "target = \"jobs\"\nload_balancer = \"p2c\"",
            )]) + "\n[[queue]]\nname = \"jobs\"\n",
            "8:17",
            "`load_balancer` does not apply to a send to a queue, which goes to no replica",
        ),
        case(
            "queue named like a service",
            append("\n[[queue]]\nname = \"db\"\n"),
            "23:8",
            "the name \"db\" is already used by a service; expected a name no other client, service or queue has",
        ),
        case(
            "unknown link endpoint",
            append("\n[[link]]\nfrom = \"web\"\nto = \"apx\"\n"),
            "24:6",
            "unknown client or service \"apx\" in a [[link]]; did you mean \"api\"? expected one of: api, db, web",
        ),
        case(
            "link from an endpoint to itself",
            append("\n[[link]]\nfrom = \"api\"\nto = \"api\"\n"),
            "24:6",
            "this [[link]] joins \"api\" to itself; expected `from` and `to` to name two different endpoints",
        ),
        case(
            "two links between the same endpoints",
            append(
                "\n[[link]]\nfrom = \"api\"\nto = \"db\"\n\n[[link]]\nfrom = \"db\"\nto = \"api\"\n",
            ),
            "27:8",
            "a second [[link]] between \"db\" and \"api\"; expected at most one [[link]] per pair",
        ),
        case(
            "call cycle of two services",
            append("calls = [{ to = \"api\" }]\n"),
            "15:17",
            "call cycle: api -> db -> api; expected calls without cycles",
        ),
        case(
            "service calling itself",
            edit(&[(
                r#"calls = [{ to = "db" }]"#,
                r#"calls = [{ to = "db" }, { to = "api" }]"#,
            )]),
            "15:32",
            "call cycle: api -> api; expected calls without cycles",
        ),
        case(
            "queue consumer sending to its own queue",
            append(
                "\n[[queue]]\nname = \"jobs\"\nconsumer = \"worker\"\n\n[[service]]\nname = \"worker\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\ncalls = [{ to = \"jobs\" }]\n",
            ),
            "29:17",
            "call cycle through a queue: worker -> jobs -> worker; expected calls and sends without cycles",
        ),
        case(
            "call cycle through a queue and its consumer",
            edit(&[(
                r#"calls = [{ to = "db" }]"#,
                r#"calls = [{ to = "db" }, { to = "jobs" }]"#,
            )]) + "\n[[queue]]\nname = \"jobs\"\nconsumer = \"worker\"\n\n[[service]]\nname = \"worker\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\ncalls = [{ to = \"api\" }]\n",
            "15:32",
            "call cycle through a queue: api -> jobs -> worker -> api; expected calls and sends without cycles",
        ),
        case(
            "duplicate service names",
            append(
                "\n[[service]]\nname = \"db\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\n",
            ),
            "23:8",
            "the name \"db\" is already used by a service; expected a name no other client or service has",
        ),
        case(
            "service named like a client",
            append(
                "\n[[service]]\nname = \"web\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\n",
            ),
            "23:8",
            "the name \"web\" is already used by a client",
        ),
        // Sweeps (the appended list is on line 23).
        case(
            "a sweep value twice",
            append("\n[sweep]\n\"client.web.timeout\" = [\"1s\", \"2s\", \"1s\"]\n"),
            "23:37",
            "the sweep of `client.web.timeout` lists \"1s\" after \"1s\" (at 23:25), the same value; expected each value once",
        ),
        case(
            "a swept duration twice in other units",
            append("\n[sweep]\n\"client.web.timeout\" = [\"1s\", \"1000ms\"]\n"),
            "23:31",
            "lists \"1000ms\" after \"1s\" (at 23:25), the same value",
        ),
        case(
            "a swept number twice, once as a float",
            append("\n[sweep]\n\"client.web.arrival.rate_per_s\" = [100, 100.0]\n"),
            "23:41",
            "the sweep of `client.web.arrival.rate_per_s` lists 100.0 after 100 (at 23:36), the same value",
        ),
        // Variant and sweep paths (the appended `set` is on line 24).
        case(
            "a variant path through a string",
            append("\n[[variant]]\nname = \"v\"\nset = { \"client.web.target.x\" = 1 }\n"),
            "24:9",
            "in variant \"v\", `set`: `client.web.target` is a string, not a table; expected a path that ends there, not \"client.web.target.x\"",
        ),
        case(
            "an unset path through a number",
            append("\n[[variant]]\nname = \"v\"\nunset = [\"service.api.replicas.x\"]\n"),
            "24:10",
            "in variant \"v\", `unset`: `service.api.replicas` is a whole number, not a table; expected a path that ends there, not \"service.api.replicas.x\"",
        ),
        case(
            "a sweep path through a string",
            append("\n[sweep]\n\"client.web.target.x\" = [1, 2]\n"),
            "23:1",
            "in `sweep`: `client.web.target` is a string, not a table; expected a path that ends there, not \"client.web.target.x\"",
        ),
        case(
            "a variant path into an empty list",
            edit(&[("error_rate = 0.01\n", "error_rate = 0.01\ncalls = []\n")])
                + "\n[[variant]]\nname = \"v\"\nset = { \"service.db.calls.api.timeout\" = \"1s\" }\n",
            "25:9",
            "in variant \"v\", `set`: `service.db.calls` is an empty list, so it has no entry \"api\"; expected a path that ends at `service.db.calls`, the whole list",
        ),
        case(
            "an unset path into an empty table",
            append("\n[network]\n\n[[variant]]\nname = \"v\"\nunset = [\"network.latency\"]\n"),
            "26:10",
            "in variant \"v\", `unset`: `network` is an empty table, so it has no key `latency`; expected a path that ends at `network`, the whole table",
        ),
        // Missing keys and tables.
        case(
            "missing scenario name",
            edit(&[("name = \"t\"\n", "")]),
            "1:1",
            "the scenario has no `name`; expected a top-level key such as `name = \"checkout\"`",
        ),
        case(
            "service without a service time",
            edit(&[(
                "service_time = { kind = \"lognormal\", median = \"2ms\", p99 = \"20ms\" }\n",
                "",
            )]),
            "17:1",
            "this [[service]] has no `service_time`; expected a distribution such as",
        ),
        case(
            "single brackets for a list of tables",
            edit(&[("[[client]]", "[client]")]),
            "5:1",
            "`client` has the wrong type: found a table; expected a list of [[client]] tables (note the double brackets)",
        ),
        // Faults (the appended table starts on line 22; its keys follow, one per line).
        case(
            "fault with an unknown service",
            append("\n[[fault]]\nkind = \"crash\"\ntarget = \"dbx\"\nat = \"2s\"\n"),
            "24:10",
            "unknown service \"dbx\" in `target`; did you mean \"db\"?",
        ),
        case(
            "fault on a replica out of range",
            append("\n[[fault]]\nkind = \"hang\"\ntarget = \"db[3]\"\nat = \"2s\"\n"),
            "24:10",
            "replica 3 of \"db\" does not exist: it has 1 replica; expected db[0]",
        ),
        case(
            "a float too large for TOML",
            edit(&[("rate_per_s = 100", "rate_per_s = 1e309")]),
            "8:44",
            "a number too large for a 64-bit float; expected a number below about 1.8e308",
        ),
        case(
            "an integer with no digits after 0x",
            edit(&[("replicas = 2", "replicas = 0x")]),
            "12:12",
            "not a whole number a 64-bit integer can hold (too large, or no digits after 0x, 0o or 0b); expected a whole number like 42 or 0x2a",
        ),
        case(
            "fault on a replica number too large for any service",
            append("\n[[fault]]\nkind = \"hang\"\ntarget = \"db[4294967296]\"\nat = \"2s\"\n"),
            "24:10",
            "replica 4294967296 of \"db\" does not exist: it has 1 replica; expected db[0]",
        ),
        case(
            "fault starting after the run",
            append("\n[[fault]]\nkind = \"crash\"\ntarget = \"db\"\nat = \"20s\"\n"),
            "25:6",
            "`at` (20s) is not before the end of the run (10s)",
        ),
        case(
            "fault lasting zero",
            append("\n[[fault]]\nkind = \"crash\"\ntarget = \"db\"\nat = \"2s\"\nfor = \"0s\"\n"),
            "26:7",
            "`for` is zero; expected a positive duration",
        ),
        case(
            "fault lasting a negative time",
            append("\n[[fault]]\nkind = \"crash\"\ntarget = \"db\"\nat = \"2s\"\nfor = \"-5s\"\n"),
            "26:7",
            "negative",
        ),
        case(
            "loss probability above one",
            append(
                "\n[[fault]]\nkind = \"loss\"\ntarget = \"api->db\"\nprobability = 1.5\nat = \"2s\"\n",
            ),
            "25:15",
            "`probability` is 1.5; expected a probability from 0 to 1",
        ),
        case(
            "fraction of zero",
            append(
                "\n[[fault]]\nkind = \"crash\"\ntarget = \"api\"\nfraction = 0.0\nat = \"2s\"\n",
            ),
            "25:12",
            "`fraction` is 0; expected a share of the replicas above 0",
        ),
        case(
            "misspelt fault kind",
            append("\n[[fault]]\nkind = \"crsh\"\ntarget = \"api\"\nat = \"2s\"\n"),
            "23:8",
            "unknown fault kind \"crsh\"; did you mean \"crash\"?",
        ),
        case(
            "link fault on a hop nobody uses",
            append(
                "\n[[fault]]\nkind = \"latency\"\ntarget = \"db->api\"\ndelay = { kind = \"constant\", value = \"1s\" }\nat = \"2s\"\n",
            ),
            "24:10",
            "no client or call sends from db to api; expected a hop that is used: web->api, api->db",
        ),
        case(
            "zero mtbf",
            append(
                "\n[[fault]]\nkind = \"crash\"\ntarget = \"api\"\nmtbf = \"0s\"\nmttr = \"1s\"\n",
            ),
            "25:8",
            "`mtbf` is zero; expected a positive mean time",
        ),
        case(
            "fault without timing",
            append("\n[[fault]]\nkind = \"crash\"\ntarget = \"api\"\n"),
            "22:1",
            "this fault has no timing; expected `at`",
        ),
        case(
            "chaos monkey on an unknown service",
            append(
                "\n[[fault]]\nkind = \"chaos_monkey\"\ntargets = [\"apo\"]\ninterval = \"1s\"\ndowntime = \"1s\"\n",
            ),
            "24:12",
            "unknown service \"apo\" in `targets`; did you mean \"api\"?",
        ),
        case(
            "partition with a member in both groups",
            append(
                "\n[[fault]]\nkind = \"partition\"\nbetween = [[\"api\"], [\"api[1]\", \"db\"]]\nat = \"2s\"\n",
            ),
            "24:11",
            "a member is in both groups",
        ),
        // Call-path policies (on the client, line 9 onwards).
        case(
            "unknown jitter",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { jitter = \"fulll\" }",
            )]),
            "9:20",
            "unknown jitter \"fulll\"; did you mean \"full\"?",
        ),
        case(
            "breaker failure rate above one",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { failure_rate = 1.5 }",
            )]),
            "9:36",
            "`failure_rate` is 1.5; expected a rate above 0 and at most 1",
        ),
        case(
            "budget without retry",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry_budget = { kind = \"ratio\" }",
            )]),
            "9:16",
            "has no `retry`; expected a `retry` table beside it",
        ),
        case(
            "unknown retry reason",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { retry_on = [\"timout\"] }",
            )]),
            "9:23",
            "unknown failure reason \"timout\" in `retry_on`; did you mean \"timeout\"?",
        ),
        case(
            "fallback not first in order",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = {}\nfallback = {}\norder = [\"retry\", \"fallback\"]",
            )]),
            "11:9",
            "`fallback` must come first in `order`",
        ),
        case(
            "zero slow call duration",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { slow_call_duration = \"0s\" }",
            )]),
            "9:42",
            "`slow_call_duration` is zero; expected a positive duration",
        ),
        case(
            "zero token ratio",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = {}\nretry_budget = { kind = \"token_bucket\", token_ratio = 0 }",
            )]),
            "10:55",
            "`token_ratio` is 0, which gRPC rejects",
        ),
        case(
            "unknown breaker scope",
            edit(&[(
                r#"calls = [{ to = "db" }]"#,
                r#"calls = [{ to = "db", circuit_breaker = { scope = "upstream" } }]"#,
            )]),
            "15:51",
            "unknown breaker scope \"upstream\"; expected \"call\"",
        ),
        case(
            "breaker scope on a client",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { scope = \"target\" }",
            )]),
            "9:29",
            "a client has one call site already",
        ),
        case(
            "entries sharing a breaker configured differently",
            edit(&[(
                r#"calls = [{ to = "db" }]"#,
                "calls = [\n  { to = \"db\", circuit_breaker = { scope = \"target\", open_for = \"5s\" } },\n  { to = \"db\", circuit_breaker = { scope = \"target\", open_for = \"9s\" } },\n]",
            )]),
            "17:34",
            "shares its breaker and budget with the entry at line 16",
        ),
        case(
            "open period multiplier below one",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { open_for = \"5s\", open_for_multiplier = 0.5 }",
            )]),
            "9:60",
            "`open_for_multiplier` is 0.5; expected a factor from 1 to 100",
        ),
        case(
            "open period cap below the first period",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { open_for = \"5s\", open_for_multiplier = 2.0, open_for_max = \"1s\" }",
            )]),
            "9:80",
            "`open_for_max` (1s) is shorter than `open_for` (5s)",
        ),
        case(
            "empty retry_on",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { retry_on = [] }",
            )]),
            "9:22",
            "`retry_on` is empty, so no failure would be retried; expected at least one of:",
        ),
        case(
            "empty fallback on",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nfallback = { on = [] }",
            )]),
            "9:19",
            "`on` is empty, so no failure would fall back; expected at least one of:",
        ),
        case(
            "zero client timeout",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ntimeout = \"0s\"",
            )]),
            "9:11",
            "`timeout` is zero; expected a positive duration",
        ),
        case(
            "Polly's exponential jitter on a constant backoff",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { jitter = \"decorrelated_v2\" }",
            )]),
            "9:20",
            "`jitter = \"decorrelated_v2\"` is Polly's jitter of an exponential backoff doubling at each retry; expected `backoff = { kind = \"exponential\"",
        ),
        case(
            "misspelt load balancer",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nload_balancer = \"p2\"",
            )]),
            "9:17",
            "unknown load balancer \"p2\"; did you mean \"p2c\"? expected one of: round_robin, random,",
        ),
        case(
            "balancer parameter of another kind",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nload_balancer = { kind = \"random\", choices = 3 }",
            )]),
            "9:46",
            "`choices` applies to `kind = \"p2c\"`, not \"random\"; expected no `choices` here",
        ),
        case(
            "one choice is no choice",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nload_balancer = { kind = \"p2c\", choices = 1 }",
            )]),
            "9:43",
            "`choices` is 1; expected a whole number from 2 to 16",
        ),
        case(
            "weights for the wrong number of replicas",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nweights = [1, 2, 3]\n",
            )]),
            "14:11",
            "`weights` lists 3 weight(s) for 2 replica(s); expected one weight per replica",
        ),
        case(
            "entries to one target with different balancers",
            edit(&[(
                "calls = [{ to = \"db\" }]",
                "calls = [{ to = \"db\" }, { to = \"db\", load_balancer = \"random\" }]",
            )]),
            "15:54",
            "this load_balancer differs from the one at line 15, but this service's calls to one target share each replica's balancer",
        ),
        case(
            "outlier ejection share above 100%",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\noutlier_detection = { max_ejection_percent = 150 }",
            )]),
            "9:46",
            "`max_ejection_percent` is 150; expected a percentage from 0 to 100",
        ),
        case(
            "health check every zero seconds",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nhealth_check = { interval = \"0s\" }\n",
            )]),
            "14:29",
            "`interval` is zero; expected a positive duration",
        ),
        case(
            "probe timeout longer than the interval",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nhealth_check = { interval = \"2s\", timeout = \"3s\" }\n",
            )]),
            "14:45",
            "`timeout` is 3 s, longer than the `interval` of 2 s; expected a probe timeout no longer than the time between probes",
        ),
        case(
            "probes sent from something that does not call the service",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nhealth_check = { from = \"db\" }\n",
            )]),
            "14:25",
            "nothing in db sends to api; expected one of its callers: web",
        ),
        case(
            "probes sent from an unknown name",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nhealth_check = { from = \"webb\" }\n",
            )]),
            "14:25",
            "unknown client or service \"webb\" in a health_check's `from`; did you mean \"web\"?",
        ),
        case(
            "misspelt queue discipline",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nqueue_discipline = \"lifi\"\n",
            )]),
            "14:20",
            "unknown `queue_discipline` \"lifi\"; did you mean \"lifo\"? expected one of: fifo, lifo, adaptive_lifo",
        ),
        case(
            "CoDel target not under its interval",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\ncodel = { target = \"200ms\", interval = \"100ms\" }\n",
            )]),
            "14:20",
            "CoDel's `target` is not shorter than its `interval`",
        ),
        case(
            "unknown rate limit kind",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nrate_limit = { kind = \"token_bucket_\", rate_per_s = 10 }\n",
            )]),
            "14:23",
            "unknown rate_limit kind \"token_bucket_\"; did you mean \"token_bucket\"? expected one of: token_bucket, fixed_window, sliding_window",
        ),
        case(
            "token bucket without a rate",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nrate_limit = { kind = \"token_bucket\", burst = 10 }\n",
            )]),
            "14:14",
            "this rate_limit has no `rate_per_s`; expected the tokens added per second",
        ),
        case(
            "window limit on a token bucket",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nrate_limit = { kind = \"token_bucket\", rate_per_s = 10, limit = 5 }\n",
            )]),
            "14:64",
            "`limit` does not apply to a token_bucket rate_limit",
        ),
        case(
            "bulkhead of no slots",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nbulkhead = { max_concurrent = 0 }",
            )]),
            "9:31",
            "`max_concurrent` is 0; expected a whole number from 1 to 1000000",
        ),
        case(
            "a service-side key on a client's rate limit",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nrate_limit = { kind = \"token_bucket\", rate_per_s = 10, scope = \"service\" }",
            )]),
            "9:64",
            "`scope` does not apply to a token_bucket rate_limit; expected only the keys it takes: rate_per_s, burst, max_wait",
        ),
        case(
            "a throttle multiplier under 1",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nrate_limit = { kind = \"adaptive_throttle\", k = 0.5 }",
            )]),
            "9:48",
            "`k` is 0.5; expected a multiplier from 1 to 100",
        ),
        case(
            "adaptive limit below its minimum",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nconcurrency_limit = { kind = \"aimd\", initial = 5, min = 10 }\n",
            )]),
            "14:21",
            "this concurrency_limit has min 10, initial 5 and max 200; expected min <= initial <= max",
        ),
        case(
            "Vegas starting above its maximum",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nconcurrency_limit = { kind = \"vegas\", initial = 50, max = 10 }\n",
            )]),
            "14:21",
            "this concurrency_limit has initial 50 and max 10; expected initial <= max",
        ),
        case(
            "misspelt priority",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\npriority = \"critcal\"",
            )]),
            "9:12",
            "unknown `priority` \"critcal\"; did you mean \"critical\"? expected one of: critical, default, sheddable",
        ),
        case(
            "pools that do not add up to the concurrency",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\npools = [{ callers = [\"web\"], concurrency = 3 }, { concurrency = 2 }]\n",
            )]),
            "13:15",
            "`concurrency` is 4, but the pools have 5 workers; expected the pools' sum",
        ),
        case(
            "a pool for a caller that does not call the service",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\npools = [{ callers = [\"db\"], concurrency = 2 }, { concurrency = 2 }]\n",
            )]),
            "14:9",
            "a pool of api names db, which does not send to it; expected its callers: web",
        ),
        case(
            "a caller in no pool",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\npools = [{ callers = [\"db\"], concurrency = 4 }]\n",
            )]),
            "14:9",
            "web sends to api but is in none of its pools",
        ),
        case(
            "a pool with an empty list of callers",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\npools = [{ callers = [], concurrency = 4 }]\n",
            )]),
            "14:22",
            "`callers` is empty",
        ),
        case(
            "a rate limit reserve over a half",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nrate_limit = { kind = \"token_bucket\", rate_per_s = 10, reserve = 0.8 }\n",
            )]),
            "14:66",
            "`reserve` is 0.8; expected the share of the limit kept for higher priorities, from 0 up to (not including) 0.5",
        ),
        case(
            "a rate limit reserve that leaves sheddable requests nothing",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nrate_limit = { kind = \"token_bucket\", rate_per_s = 10, burst = 1, reserve = 0.2 }\n",
            )]),
            "14:77",
            "with `reserve` 0.2, a sheddable request must leave 40% of this limiter's 1 permits, so it could never pass",
        ),
        case(
            "maglev table size not a prime",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nload_balancer = { kind = \"maglev\", table_size = 1000 }",
            )]),
            "9:49",
            "`table_size` is 1000, not a prime; expected a prime such as 65537",
        ),
        case(
            "request keys without a space",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nrequest_keys = { zipf_s = 1.1 }",
            )]),
            "9:16",
            "`request_keys` needs `space`, the number of distinct keys",
        ),
        case(
            "misspelt pushback",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { pushback = \"exactly\" }",
            )]),
            "9:22",
            "unknown `pushback` \"exactly\"; did you mean \"exact\"? expected one of: exact, at_least, jittered, ignore",
        ),
        case(
            "unknown retry host",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = { retry_host = \"previous\" }",
            )]),
            "9:24",
            "unknown `retry_host` \"previous\"; expected one of: any, other",
        ),
        case(
            "ratio key on a concurrency budget",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\nretry = {}\nretry_budget = { kind = \"concurrency\", ttl = \"1s\" }",
            )]),
            "10:46",
            "`ttl` does not apply to a concurrency retry budget; expected only the keys it takes: percent, min_concurrent",
        ),
        case(
            "retry_after on a service that never refuses",
            edit(&[(
                "concurrency = 4\n",
                "concurrency = 4\nretry_after = \"1s\"\n",
            )]),
            "14:15",
            "`retry_after` is the delay this service's refusals ask for, but its queue is unbounded",
        ),
        case(
            "zero longest wait in half-open",
            edit(&[(
                "arrival = { kind = \"poisson\", rate_per_s = 100 }",
                "arrival = { kind = \"poisson\", rate_per_s = 100 }\ncircuit_breaker = { max_wait_in_half_open = \"0s\" }",
            )]),
            "9:45",
            "`max_wait_in_half_open` is zero; expected a positive duration",
        ),
    ]
}

/// Writes `contents` to `file.toml` in a new folder and runs `resim` on it with `args`.
fn run_on(contents: &[u8], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("file.toml"), contents).expect("the scenario is written");
    resim(dir.path(), args)
}

/// What is wrong with `out` as the result of a bad input, if anything.
fn problems(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut found = Vec::new();
    if out.status.code() != Some(2) {
        found.push(format!("exit code {:?}, expected 2", out.status.code()));
    }
    if !out.stdout.is_empty() {
        found.push(format!(
            "stdout is not empty: {}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        found.push("stderr shows a panic".to_string());
    }
    if stderr.trim().is_empty() {
        found.push("stderr is empty".to_string());
    }
    found
}

/// The `FILE:LINE:COL:` lines of `stderr`.
fn located_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.strip_prefix("file.toml:").is_some_and(|rest| {
                let mut parts = rest.splitn(3, ':');
                let line = parts.next().unwrap_or("");
                let col = parts.next().unwrap_or("");
                !line.is_empty()
                    && !col.is_empty()
                    && line.bytes().all(|b| b.is_ascii_digit())
                    && col.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .collect()
}

#[test]
fn every_broken_file_gets_a_located_message_saying_what_is_expected() {
    let mut failures = Vec::new();
    for c in cases() {
        let out = run_on(c.text.as_bytes(), &["validate", "file.toml"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut wrong = problems(&out);
        let prefix = format!("file.toml:{}: ", c.at);
        if !stderr
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains(c.says))
        {
            wrong.push(format!(
                "no line starting `{prefix}` and saying `{}`",
                c.says
            ));
        }
        for line in located_lines(&stderr) {
            if !line.contains("expected") {
                wrong.push(format!("a message does not say what is expected: {line}"));
            }
            // An empty list after "expected one of:" and the like.
            if line.trim_end().ends_with(':') || line.contains(":  ") {
                wrong.push(format!("a message lists nothing: {line}"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n  stderr:\n{stderr}",
                c.name,
                wrong.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn messages_show_the_source_line_and_a_caret() {
    let out = run_on(
        edit(&[("concurrency = 4", "concurrency = 0")]).as_bytes(),
        &["validate", "file.toml"],
    );
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(" 13 | concurrency = 0\n"), "{stderr}");
    assert!(stderr.contains("    |               ^"), "{stderr}");
}

#[test]
fn a_file_with_several_errors_reports_all_of_them() {
    let text = edit(&[
        // 3:10, a semantic error
        (r#"warmup = "1s""#, r#"warmup = "20s""#),
        // 8:44
        ("rate_per_s = 100", "rate_per_s = -1"),
        // 13:1, an unknown key
        ("concurrency = 4", "concurency = 4"),
        // 14:47, a duration without a unit
        (r#"mean = "4ms""#, "mean = 4"),
        // 15:17
        (r#"{ to = "db" }"#, r#"{ to = "dbx" }"#),
        // 20:14
        ("error_rate = 0.01", "error_rate = 7"),
    ]);
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let located = located_lines(&stderr);
    let positions: Vec<&str> = located
        .iter()
        .map(|l| {
            let rest = &l["file.toml:".len()..];
            let end = rest
                .match_indices(':')
                .nth(1)
                .map_or(rest.len(), |(i, _)| i);
            &rest[..end]
        })
        .collect();
    assert_eq!(
        positions,
        ["3:10", "8:44", "13:1", "14:47", "15:17", "20:14"],
        "{stderr}"
    );
    assert!(stderr.contains("6 errors in file.toml"), "{stderr}");
}

#[test]
fn missing_keys_are_all_reported() {
    let text = edit(&[
        ("name = \"t\"\n", ""),
        (r#"target = "api""#, ""),
        (r#"kind = "exponential", "#, ""),
    ]);
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(located_lines(&stderr).len(), 3, "{stderr}");
    for says in [
        "has no `name`",
        "this [[client]] has no `target`",
        "has no `kind`",
    ] {
        assert!(stderr.contains(says), "{says}\n{stderr}");
    }
    assert!(stderr.contains("3 errors in file.toml"), "{stderr}");
}

#[test]
fn a_misspelt_required_key_is_not_reported_again_as_missing() {
    let text = edit(&[(r#"target = "api""#, r#"targte = "api""#)]);
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(located_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("did you mean `target`?"), "{stderr}");
}

#[test]
fn a_wrong_value_is_not_reported_again_as_missing() {
    let text = edit(&[(r#"mean = "4ms""#, "mean = 4")]);
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(located_lines(&stderr).len(), 1, "{stderr}");
    assert!(!stderr.contains("has no `mean`"), "{stderr}");
}

#[test]
fn a_wrong_duration_beside_a_warmup_gets_no_cost_estimate() {
    // The estimate once ran with the dropped duration as zero and the warmup after it,
    // and reported about 18446744073709551615 rows before the real problem.
    let text = edit(&[(r#"duration = "10s""#, "duration = 10")]);
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let located = located_lines(&stderr);
    assert_eq!(located.len(), 1, "{stderr}");
    assert!(
        located[0].starts_with("file.toml:2:12: `duration`: a duration needs a unit"),
        "{stderr}"
    );
    assert!(!stderr.contains("rows"), "{stderr}");
}

/// Runs `resim validate` on `path` (relative to `dir`) and checks it fails cleanly,
/// saying `says`.
fn assert_refused(dir: &Path, path: &str, says: &str) {
    let out = resim(dir, &["validate", path]);
    let wrong = problems(&out);
    assert!(wrong.is_empty(), "{path}: {wrong:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(path) && stderr.contains(says),
        "{path}: expected `{says}` in:\n{stderr}"
    );
    assert!(stderr.contains("expected"), "{path}: {stderr}");
}

#[test]
fn a_missing_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    assert_refused(dir.path(), "nope.toml", "cannot read the scenario file");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("sub.toml")).expect("a folder");
    assert_refused(dir.path(), "sub.toml", "is a directory");
}

#[test]
fn an_empty_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("empty.toml"), "").expect("written");
    assert_refused(dir.path(), "empty.toml", "the file is empty");
    std::fs::write(dir.path().join("blank.toml"), "\n  \n\t\n").expect("written");
    assert_refused(dir.path(), "blank.toml", "the file is empty");
    std::fs::write(dir.path().join("comments.toml"), "# nothing here\n").expect("written");
    assert_refused(dir.path(), "comments.toml", "the file has no keys");
}

#[test]
fn a_binary_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut bytes = b"name = \"t\"\nduration = \"1s\"\n".to_vec();
    bytes.extend_from_slice(&[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 0xff, 0xfe]);
    std::fs::write(dir.path().join("binary.toml"), bytes).expect("written");
    assert_refused(
        dir.path(),
        "binary.toml",
        "binary.toml:3:5: the file contains a NUL byte, so it looks binary",
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("latin1.toml"), b"name = \"caf\xe9\"\n").expect("written");
    assert_refused(
        dir.path(),
        "latin1.toml",
        "latin1.toml:1:12: the file is not valid UTF-8 text",
    );
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // A sparse file: 5 MiB long, nothing written.
    let file = std::fs::File::create(dir.path().join("huge.toml")).expect("created");
    file.set_len(5 * 1024 * 1024).expect("extended");
    drop(file);
    assert_refused(dir.path(), "huge.toml", "too large for a scenario");
}

#[test]
fn a_huge_text_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut text = BASE.to_string();
    let comment = format!("# {}\n", "x".repeat(1000));
    while text.len() <= 4 * 1024 * 1024 {
        text.push_str(&comment);
    }
    std::fs::write(dir.path().join("big.toml"), text).expect("written");
    assert_refused(dir.path(), "big.toml", "expected at most 4194304 bytes");
}

/// `resim run` on `text` exits 2 with `wanted` in its message, and writes nothing.
fn refused_by_run(text: String, wanted: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("file.toml"), text).expect("written");
    let out = resim(dir.path(), &["run", "file.toml", "--out", "out"]);
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(wanted), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn run_refuses_a_bad_file_too() {
    let text = edit(&[("replicas = 2", "replicas = 0")]);
    refused_by_run(text, "file.toml:12:12: `replicas` is 0");
}

#[test]
fn run_refuses_a_sweep_value_twice() {
    // Two equal values made two cells with one key, and `resim run` panicked on them.
    let text = append("\n[sweep]\n\"client.web.timeout\" = [\"1s\", \"1s\"]\n");
    refused_by_run(
        text,
        "file.toml:23:31: the sweep of `client.web.timeout` lists \"1s\" after",
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("file.toml"), BASE).expect("written");
    for args in [
        &["validate", "file.toml", "--bogus"][..],
        &["frobnicate", "file.toml"][..],
        &["validate"][..],
        &["run", "file.toml", "--seeds", "0"][..],
    ] {
        let out = resim(dir.path(), args);
        let wrong = problems(&out);
        assert!(wrong.is_empty(), "{args:?}: {wrong:?}");
    }
}

#[test]
fn the_base_scenario_is_valid() {
    let out = run_on(BASE.as_bytes(), &["validate", "file.toml"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Huge and tiny numbers are shown in scientific notation in messages, not as hundreds of
/// digits.
#[test]
fn huge_and_tiny_numbers_are_shown_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = "name = \"n\"\nduration = \"2s\"\n[[client]]\nname = \"web\"\ntarget = \"api\"\narrival = { kind = \"poisson\", rate_per_s = 10 }\n[[service]]\nname = \"api\"\nreplicas = 2\nservice_time = { kind = \"constant\", value = \"1ms\" }\n";
    for (name, text, shown) in [
        (
            "w.toml",
            base.replace("replicas = 2\n", "replicas = 2\nweights = [1e308, 1]\n"),
            "a weight is 1e308;",
        ),
        (
            "d.toml",
            base.replace("duration = \"2s\"", "duration = 1e-320"),
            "the bare number 1e-320; expected a string such as \"250ms\" or \"1.5s\"",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).expect("written");
        let stderr = crate::common::refused(dir.path(), &["validate", name]);
        assert!(stderr.contains(shown), "{stderr}");
        assert!(stderr.lines().all(|l| l.len() < 300), "{stderr}");
    }
}

/// The `FILE:LINE:COL: message` lines `validate` prints for `text`, refused as bad input.
fn located_messages(text: &str) -> Vec<String> {
    let out = run_on(text.as_bytes(), &["validate", "file.toml"]);
    assert!(problems(&out).is_empty(), "{:?}", problems(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    located_lines(&stderr)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Services `s0` to `s{n-1}`, each calling the next ten (a graph of about 10 x `n` calls,
/// without cycles), and each `(from, to)` of `extra` as one more call at the end of `from`'s
/// list. Service `i`'s `calls` is on line 12 + 5 x `i`.
fn large_call_graph(n: usize, extra: &[(usize, usize)]) -> String {
    let mut text = String::from(
        "name = \"large\"\nduration = \"1s\"\n\n[[client]]\nname = \"web\"\ntarget = \"s0\"\narrival = { kind = \"poisson\", rate_per_s = 1 }\n",
    );
    for i in 0..n {
        let mut to: Vec<usize> = (i + 1..n.min(i + 11)).collect();
        to.extend(extra.iter().filter(|(from, _)| *from == i).map(|(_, t)| *t));
        text += &format!(
            "\n[[service]]\nname = \"s{i}\"\nservice_time = {{ kind = \"constant\", value = \"1ms\" }}\n"
        );
        if !to.is_empty() {
            let calls: Vec<String> = to.iter().map(|t| format!("{{ to = \"s{t}\" }}")).collect();
            text += &format!("calls = [{}]\n", calls.join(", "));
        }
    }
    text
}

/// Call cycles in a graph of 2,000 services and 20,000 calls are found and shown as in a
/// small one: one per group of services that reach each other, the shortest through the
/// group's first service, a long one by its ends, in file order.
#[test]
fn call_cycles_in_a_large_call_graph_are_reported_as_in_a_small_one() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("dag.toml"), large_call_graph(2000, &[])).expect("written");
    crate::common::resim_ok(dir.path(), &["validate", "dag.toml"]);

    // s10 -> s5 closes a cycle among s5..s10, s300 calls itself, and s1999 -> s1000 closes
    // one through the thousand services s1000..s1999.
    let text = large_call_graph(2000, &[(1999, 1000), (10, 5), (300, 300)]);
    let expected = |cycle: &str| {
        format!(
            "call cycle: {cycle}; expected calls without cycles, since a request holds its worker while its calls run"
        )
    };
    assert_eq!(
        located_messages(&text),
        [
            format!("file.toml:37:77: {}", expected("s5 -> s10 -> s5")),
            format!("file.toml:1512:187: {}", expected("s300 -> s300")),
            format!(
                "file.toml:5012:161: {}",
                expected(
                    "s1000 -> s1009 -> s1019 -> s1029 -> s1039 -> s1049 -> s1059 -> s1069 -> s1079 -> (90 more) -> s1989 -> s1999 -> s1000"
                )
            ),
        ]
    );
}

/// Entries to one target share a balancer, and so do shared balancers of one callee: each
/// entry that differs is reported against the first earlier entry it differs from.
#[test]
fn balancer_clashes_point_at_the_first_entry_that_differs() {
    let same = "but this service's calls to one target share each replica's balancer; expected the same load_balancer on both";
    let shared = "but `scope = \"shared\"` balancers of one callee are one balancer; expected the same load_balancer on both";
    let text = edit(&[(
        r#"calls = [{ to = "db" }]"#,
        "calls = [\n  { to = \"db\" },\n  { to = \"db\", load_balancer = \"random\" },\n  { to = \"db\" },\n  { to = \"db\", load_balancer = \"random\" },\n]",
    )]);
    assert_eq!(
        located_messages(&text),
        [
            format!("file.toml:17:32: this load_balancer differs from the one at line 16, {same}"),
            format!("file.toml:18:3: this load_balancer differs from the one at line 17, {same}"),
            format!("file.toml:19:32: this load_balancer differs from the one at line 16, {same}"),
        ]
    );
    let text = edit(&[(
        r#"calls = [{ to = "db" }]"#,
        "calls = [\n  { to = \"db\", load_balancer = { kind = \"random\", scope = \"shared\" } },\n  { to = \"db\", load_balancer = \"random\" },\n]",
    )]) + "\n[[service]]\nname = \"cache\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\ncalls = [{ to = \"db\", load_balancer = { kind = \"round_robin\", scope = \"shared\" } }]\n";
    assert_eq!(
        located_messages(&text),
        [
            format!("file.toml:17:32: this load_balancer differs from the one at line 16, {same}"),
            format!(
                "file.toml:28:39: this load_balancer differs from the one at line 16, {shared}"
            ),
        ]
    );
}

/// A dead-letter chain that runs into a cycle is reported at the cycle's queues only.
#[test]
fn only_the_queues_of_a_dead_letter_cycle_are_reported() {
    let text = append(
        "\n[[queue]]\nname = \"a\"\nmax_receives = 2\ndead_letter = \"b\"\n\n[[queue]]\nname = \"b\"\nmax_receives = 2\ndead_letter = \"c\"\n\n[[queue]]\nname = \"c\"\nmax_receives = 2\ndead_letter = \"b\"\n",
    );
    let says = "expected dead-letter queues that end (the last with no `dead_letter`)";
    assert_eq!(
        located_messages(&text),
        [
            format!("file.toml:30:15: dead-letter cycle: b -> c -> b; {says}"),
            format!("file.toml:35:15: dead-letter cycle: c -> b -> c; {says}"),
        ]
    );
}

/// A misspelt name gets the hint of the names its key may take (a call names a service or
/// a queue, a link a client or a service), however often it is misspelt.
#[test]
fn a_misspelt_name_is_hinted_from_the_names_its_key_may_take() {
    let text = edit(&[(
        r#"calls = [{ to = "db" }]"#,
        r#"calls = [{ to = "webb" }, { to = "dbb" }, { to = "webb" }]"#,
    )]) + "\n[[link]]\nfrom = \"webb\"\nto = \"api\"\n\n[[link]]\nfrom = \"dbb\"\nto = \"api\"\n";
    assert_eq!(
        located_messages(&text),
        [
            "file.toml:15:17: unknown service or queue \"webb\" in `calls`; expected one of: api, db",
            "file.toml:15:34: unknown service or queue \"dbb\" in `calls`; did you mean \"db\"? expected one of: api, db",
            "file.toml:15:50: unknown service or queue \"webb\" in `calls`; expected one of: api, db",
            "file.toml:23:8: unknown client or service \"webb\" in a [[link]]; did you mean \"web\"? expected one of: api, db, web",
            "file.toml:27:8: unknown client or service \"dbb\" in a [[link]]; did you mean \"db\"? expected one of: api, db, web",
        ]
    );
}
