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

/// The JUnit XML document of `suites`.
pub fn render(suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(|s| s.verdicts.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|s| s.verdicts.iter().filter(|v| !v.passed).count())
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"resim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"0\">"
    );
    for s in suites {
        let failed = s.verdicts.iter().filter(|v| !v.passed).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\" file=\"{}\">",
            escape(s.name),
            s.verdicts.len(),
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
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
                escape(&class),
                escape(&name),
                escape(s.file)
            );
            if let Some(line) = v.line {
                let _ = write!(out, " line=\"{line}\"");
            }
            if v.passed {
                let _ = writeln!(out, " time=\"0\"/>");
                continue;
            }
            let _ = writeln!(out, " time=\"0\">");
            let message = format!(
                "{}: observed {}, expected {}",
                v.metric, v.observed, v.expected
            );
            let mut body = message.clone();
            if let Some(b) = &v.breach {
                let _ = write!(body, "\nworst seed {}: {b}", v.worst_seed.unwrap_or(0));
            }
            if let Some(cmd) = v.reproduce(s.file) {
                let _ = write!(body, "\nreproduce: {cmd}");
            }
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"expectation\">{}</failure>",
                escape(&message),
                escape(&body)
            );
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
