//! Stripe idempotency keys (Stripe API docs, "Idempotent requests"), checked with small
//! scenarios.

use crate::common;

/// A client retrying on errors in front of a service whose first five requests fail.
fn scenario(service_keys: &str) -> String {
    format!(
        r#"name = "stripe"
duration = "5s"

[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 20 }}
retry = {{ max_attempts = 6, backoff = {{ kind = "constant", delay = "10ms" }}, retry_on = ["error"] }}

[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
{service_keys}

[[fault]]
kind = "errors"
target = "api"
first_n = 5
at = "0s"
"#
    )
}

/// "Subsequent requests with the same key return the same result, including 500 errors":
/// with an idempotency store the retries of the five failed requests are answered with
/// the stored errors, so those five requests fail; without one, the retries execute again
/// (duplicates) and succeed.
#[test]
fn a_stored_error_is_replayed_to_the_retry() {
    let replayed = common::run(&scenario("idempotency = { ttl = \"24h\" }"), 1);
    let t = &replayed.metrics.totals;
    assert_eq!(t.errors, 5, "{t:?}");
    assert_eq!(replayed.metrics.policy.duplicates, 0);
    let executed = common::run(&scenario(""), 1);
    let t = &executed.metrics.totals;
    assert_eq!((t.ok, t.errors), (t.requests, 0), "{t:?}");
    assert_eq!(executed.metrics.policy.duplicates, 5);
}
