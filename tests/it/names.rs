//! Names `validate` accepts are names `run` can write: the scenario's `name` (its output
//! folder), client, service and variant names, each refused with its line and column.

use crate::common::resim;

/// A valid scenario whose scenario name (line 1) is `{NAME}`, service name (line 10)
/// `{SERVICE}` and variant name (line 14) `{VARIANT}`.
const TEMPLATE: &str = r#"name = {NAME}
duration = "1s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 10 }

[[service]]
name = {SERVICE}
service_time = { kind = "constant", value = "1ms" }

[[variant]]
name = {VARIANT}
set = { "service.0.replicas" = 2 }
"#;

/// The template with the three names, each a TOML value as written in the file; the
/// client targets the service.
fn file(name: &str, service: &str, variant: &str) -> String {
    let target = service.trim_matches('"');
    TEMPLATE
        .replace("{NAME}", name)
        .replace("{SERVICE}", service)
        .replace("{VARIANT}", variant)
        .replace("target = \"api\"", &format!("target = \"{target}\""))
}

/// Validates `text`; the exit code and stderr.
fn validate(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("n.toml"), text).expect("written");
    let out = resim(dir.path(), &["validate", "n.toml"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn unwritable_scenario_names_are_refused_where_they_are_written() {
    let long = format!("\"{}\"", "x".repeat(300));
    for (name, says) in [
        (long.as_str(), "it is 300 bytes long, more than 100"),
        (r#""a\u0000b""#, "it has the control character \\u{0}"),
        (r#""a\nb""#, "it has the control character \\u{a}"),
        (r#"" checkout""#, "it starts or ends with a space"),
        (r#""checkout ""#, "it starts or ends with a space"),
        (r#""""#, "it is empty"),
        (r#""a/b""#, "it has a slash"),
        (r#""a\\b""#, "it has a slash"),
        (r#"".""#, "it names the current or the parent folder"),
        (r#""..""#, "it names the current or the parent folder"),
    ] {
        let (code, stderr) = validate(&file(name, "\"api\"", "\"v\""));
        assert_eq!(code, Some(2), "{name}: {stderr}");
        let prefix = "n.toml:1:8: `name` is ";
        assert!(
            stderr.lines().any(|l| l.starts_with(prefix)
                && l.contains(&format!("which cannot name the output folder: {says}; expected 1 to 100 bytes of printable text without slashes"))),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains('\0'), "the NUL is escaped: {stderr:?}");
    }
}

#[test]
fn a_hundred_byte_scenario_name_is_written() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let name = "n".repeat(100);
    let text = file(&format!("\"{name}\""), "\"api\"", "\"v\"");
    std::fs::write(dir.path().join("n.toml"), text).expect("written");
    let out = resim(dir.path(), &["run", "n.toml", "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path()
            .join("output")
            .join(&name)
            .join("summary.csv")
            .is_file()
    );
}

#[test]
fn unusable_service_names_are_refused_with_the_rule_that_applies() {
    let long = format!("\"api{}\"", "y".repeat(120));
    for (service, says) in [
        (long.as_str(), "it is 123 bytes long, more than 100"),
        (r#""api\t""#, "it has the control character \\u{9}"),
        (r#""api ""#, "it starts or ends with a space"),
        (r#""api[0]""#, "it has a bracket, comma, quote or `->`"),
        (r#""api->db""#, "it has a bracket, comma, quote or `->`"),
        (r#""api,db""#, "it has a bracket, comma, quote or `->`"),
    ] {
        let (code, stderr) = validate(&file("\"t\"", service, "\"v\""));
        assert_eq!(code, Some(2), "{service}: {stderr}");
        let wanted = format!(
            "is not usable: {says}; expected 1 to 100 bytes of printable text without brackets, commas, quotes or `->`"
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("n.toml:10:8: the name ") && l.contains(&wanted)),
            "{service}: {stderr}"
        );
    }
}

#[test]
fn names_the_old_message_seemed_to_forbid_are_accepted() {
    // Spaces inside, dots, colons and letters beyond ASCII are all usable names.
    for service in [
        r#""api v2""#,
        r#""api.internal""#,
        r#""api:8080""#,
        r#""apí""#,
    ] {
        let (code, stderr) = validate(&file("\"t\"", service, "\"v\""));
        assert_eq!(code, Some(0), "{service}: {stderr}");
    }
}

#[test]
fn unprintable_variant_names_are_refused() {
    for (variant, says) in [
        (r#""v\u0007""#, "it has the control character \\u{7}"),
        (r#"" v""#, "it starts or ends with a space"),
        (r#""base""#, "\"base\" is the file as written"),
    ] {
        let (code, stderr) = validate(&file("\"t\"", "\"api\"", variant));
        assert_eq!(code, Some(2), "{variant}: {stderr}");
        let wanted = format!(
            "cannot be used: {says}; expected 1 to 100 bytes of printable text other than \"base\""
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("n.toml:14:8: the variant name ") && l.contains(&wanted)),
            "{variant}: {stderr}"
        );
    }
}
