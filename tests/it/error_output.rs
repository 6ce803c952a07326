//! Error output stays bounded: a file with thousands of errors prints at most 100 of them,
//! then a count of the rest, and every list of expected names is cut short.

use crate::common::resim;

/// A scenario with `services` services with long names, the first of which calls
/// `unknown` services that do not exist.
fn many_unknown_targets(services: usize, unknown: usize) -> String {
    let name = |i: usize| format!("service-with-a-rather-long-descriptive-name-number-{i:05}");
    let mut text = format!(
        "name = \"big\"\nduration = \"1s\"\n\n[[client]]\nname = \"web\"\ntarget = \"{}\"\narrival = {{ kind = \"poisson\", rate_per_s = 10 }}\n",
        name(0)
    );
    for i in 0..services {
        text.push_str(&format!(
            "\n[[service]]\nname = \"{}\"\nservice_time = {{ kind = \"constant\", value = \"1ms\" }}\n",
            name(i)
        ));
        if i == 0 {
            text.push_str("calls = [\n");
            for j in 0..unknown {
                text.push_str(&format!("  {{ to = \"missing-{j}\" }},\n"));
            }
            text.push_str("]\n");
        }
    }
    text
}

#[test]
fn thousands_of_errors_print_a_hundred_and_a_count() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = many_unknown_targets(8000, 3000);
    std::fs::write(dir.path().join("big.toml"), &text).expect("written");
    let out = resim(dir.path(), &["validate", "big.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.stderr.len() < 100_000,
        "{} bytes of errors; the start:\n{}",
        out.stderr.len(),
        &stderr[..2000.min(stderr.len())]
    );
    let located = stderr
        .lines()
        .filter(|l| l.starts_with("big.toml:") && l.contains("unknown service or queue \"missing-"))
        .count();
    assert_eq!(located, 100, "{stderr}");
    assert!(
        stderr.contains("\n... and 2,900 more errors in big.toml; fix these first\n"),
        "{stderr}"
    );
    assert!(stderr.contains("3000 errors in big.toml"), "{stderr}");
    // The first error, with its list of services cut short.
    assert!(
        stderr.contains(
            "big.toml:13:10: unknown service or queue \"missing-0\" in `calls`; expected one of: service-with-a-rather-long-descriptive-name-number-00000, service-with-a-rather-long-descriptive-name-number-00001, "
        ),
        "{stderr}"
    );
    assert!(stderr.contains(", ... and 7,992 more\n"), "{stderr}");
}
