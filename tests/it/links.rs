//! `[[link]]`: a hop's own latency, on the hop between its two ends whichever way it is
//! written, both for a client's hop and for a call's.

use crate::common;

/// A client calling api, which calls db, with constant times and workers to spare: every
/// request takes exactly api's 4 ms, db's 2 ms, and each hop there and back.
fn scenario(links: &str) -> String {
    format!(
        r#"name = "links"
duration = "10s"

[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 100 }}

[[service]]
name = "api"
concurrency = 100
service_time = {{ kind = "constant", value = "4ms" }}
calls = [{{ to = "db" }}]

[[service]]
name = "db"
concurrency = 100
service_time = {{ kind = "constant", value = "2ms" }}
{links}"#
    )
}

/// The mean and the longest latency of a run of `text`, in ms.
fn latency_ms(text: &str) -> (f64, f64) {
    let l = common::run(text, 1).metrics.latency.expect("successes");
    (l.mean_ns / 1e6, l.max_ns as f64 / 1e6)
}

#[test]
fn a_link_sets_the_latency_of_its_hop_whichever_way_it_is_written() {
    let link = |from: &str, to: &str, ms: u32| {
        format!(
            "\n[[link]]\nfrom = \"{from}\"\nto = \"{to}\"\nlatency = {{ kind = \"constant\", value = \"{ms}ms\" }}\n"
        )
    };
    assert_eq!(latency_ms(&scenario("")), (6.0, 6.0));
    // 6 ms, plus 3 ms each way between web and api, plus 5 ms each way between api and db.
    for links in [
        link("web", "api", 3) + &link("api", "db", 5),
        link("api", "web", 3) + &link("db", "api", 5),
    ] {
        assert_eq!(latency_ms(&scenario(&links)), (22.0, 22.0), "{links}");
    }
}
