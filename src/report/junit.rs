//! JUnit XML for `resim check --junit FILE`: a test suite per scenario and a test case per
//! variant, sweep point and expectation, in the shape GitHub Actions, GitLab and Jenkins
//! read (the common Ant/Surefire schema).

use crate::check::Verdict;
use std::fmt::Write;

/// One scenario's verdicts, with the file it came from.
pub struct Suite<'a> {
    /// The scenario file as named on the command line.
    pub file: &'a str,
    /// The scenario's name.
    pub name: &'a str,
    /// Its verdicts.
    pub verdicts: &'a [Verdict],
}

/// `text` escaped for XML attributes and text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML document of `suites`, valid against the Apache Ant JUnit schema (the one
/// Jenkins, GitLab and GitHub's report actions read): each suite has its `properties` (the
/// scenario file), `system-out` and `system-err`; `timestamp` and `hostname` describe the
/// check, not the simulation.
pub fn render(suites: &[Suite], timestamp: &str, hostname: &str) -> String {
    // The schema allows no attributes on `testsuites`: the totals are the suites'.
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (id, s) in suites.iter().enumerate() {
        let failed = s.verdicts.iter().filter(|v| !v.passed).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" package=\"resim\" id=\"{id}\" timestamp=\"{}\" hostname=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            escape(s.name),
            escape(timestamp),
            escape(hostname),
            s.verdicts.len(),
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"scenario_file\" value=\"{}\"/>\n    </properties>",
            escape(s.file)
        );
        for v in s.verdicts {
            let class = if v.point.is_empty() {
                format!("{}.{}", s.name, v.variant)
            } else {
                format!("{}.{}[{}]", s.name, v.variant, v.point)
            };
            let name = format!("{} {}", v.metric, v.expected);
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                escape(&name),
                escape(&class),
            );
            if v.passed {
                let _ = writeln!(out, "/>");
                continue;
            }
            let message = format!(
                "{}: observed {}, expected {}",
                v.metric, v.observed, v.expected
            );
            let mut body = message.clone();
            if let Some(line) = v.line {
                let _ = write!(body, "\nexpectation at {}:{line}", s.file);
            }
            if let Some(b) = &v.breach {
                let _ = write!(body, "\nworst seed {}: {b}", v.worst_seed.unwrap_or(0));
            }
            if let Some(cmd) = v.reproduce(s.file) {
                let _ = write!(body, "\nreproduce: {cmd}");
            }
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                escape(&message),
                escape(&body)
            );
        }
        let _ = writeln!(out, "    <system-out/>\n    <system-err/>\n  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `seconds` since the Unix epoch as an ISO 8601 UTC date and time without a zone
/// (`2026-11-30T06:09:13`), as JUnit's `timestamp` wants it.
pub fn iso8601(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(iso8601(1_796_020_153), "2026-11-30T06:29:13");
    }
}
