//! Number formatting for every output, fixed in one place so files are byte-stable.

/// Milliseconds with microsecond resolution, from nanoseconds.
pub fn ms(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

/// A ratio with six decimals; empty when undefined.
pub fn ratio(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// An optional latency in milliseconds; empty when undefined.
pub fn opt_ms(ns: Option<u64>) -> String {
    ns.map(|v| ms(v as f64)).unwrap_or_default()
}

/// Seconds with up to three decimals, trailing zeros dropped ("60", "0.5").
pub fn seconds(ns: u64) -> String {
    let s = format!("{:.3}", ns as f64 / 1e9);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A count with a k/M/G suffix for people ("1.2M").
pub fn human_count(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1}G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_fixed() {
        assert_eq!(ms(1_234_567.0), "1.235");
        assert_eq!(ratio(Some(0.5)), "0.500000");
        assert_eq!(ratio(None), "");
        assert_eq!(seconds(60_000_000_000), "60");
        assert_eq!(seconds(500_000_000), "0.5");
        assert_eq!(human_count(1_234_567.0), "1.2M");
        assert_eq!(human_count(950.0), "950");
    }
}
