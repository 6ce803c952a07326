//! The rules every name in a scenario keeps: printable, without surrounding spaces, at most 100 bytes.
//!
//! The scenario's `name` names its output folder; client, service and variant names end
//! up in CSV rows, charts and messages. Each kind of name adds its own rules on top.

/// Most bytes in a name: a folder name must stay well under the 255 bytes file systems allow.
pub(super) const MAX_NAME_BYTES: usize = 100;

/// What makes `name` unusable as any name, if anything: "it is empty", "it has a control
/// character", ...
pub(super) fn printable_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("it is empty".to_string());
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "it is {} bytes long, more than {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!(
            "it has the control character {}",
            c.escape_unicode()
        ));
    }
    if name.trim() != name {
        return Some("it starts or ends with a space".to_string());
    }
    None
}

/// `name` as a message quotes it: control characters escaped, cut to 40 characters.
pub(super) fn quoted(name: &str) -> String {
    let escaped: String = name.escape_debug().collect();
    format!("\"{}\"", crate::scenario::diagnostic::shorten(&escaped, 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_pass() {
        for name in [
            "checkout",
            "api",
            "db-0",
            "a b",
            "café",
            "v1.2",
            &"x".repeat(100),
        ] {
            assert_eq!(printable_problem(name), None, "{name}");
        }
    }

    #[test]
    fn unprintable_names_say_why() {
        let says = |n: &str| printable_problem(n).unwrap_or_default();
        assert_eq!(says(""), "it is empty");
        assert_eq!(says("  "), "it is empty");
        assert_eq!(
            says(&"x".repeat(101)),
            "it is 101 bytes long, more than 100"
        );
        assert_eq!(says("a\0b"), "it has the control character \\u{0}");
        assert_eq!(says("a\tb"), "it has the control character \\u{9}");
        assert_eq!(says(" api"), "it starts or ends with a space");
        assert_eq!(says("api "), "it starts or ends with a space");
    }

    #[test]
    fn quoted_names_escape_control_characters() {
        assert_eq!(quoted("a\0b"), "\"a\\0b\"");
        assert_eq!(
            quoted(&"y".repeat(50)),
            format!("\"{}...\"", "y".repeat(40))
        );
    }
}
