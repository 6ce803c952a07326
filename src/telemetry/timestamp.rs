//! The time column of a data file: relative durations, Unix timestamps, or dates and times.

use crate::scenario::units::parse_duration;

/// Unix timestamps above this are in milliseconds: as seconds it would be the year 5138,
/// as milliseconds it is 1973.
const EPOCH_MS_ABOVE: f64 = 1e11;

/// A time read from a cell, in nanoseconds on its own scale (since the Unix epoch, or since
/// an arbitrary origin for durations); only differences between rows matter.
pub(super) fn parse_time(text: &str) -> Result<i128, String> {
    let t = text.trim();
    if let Ok(x) = t.parse::<f64>() {
        if !x.is_finite() {
            return Err(format!("the time \"{t}\" is not finite; expected a time"));
        }
        let seconds = if x.abs() > EPOCH_MS_ABOVE { x / 1e3 } else { x };
        return Ok((seconds * 1e9).round() as i128);
    }
    if t.contains('-') && t.len() >= 10 && t.as_bytes()[4] == b'-' {
        return parse_datetime(t);
    }
    parse_duration(t)
        .map(|d| i128::from(d.as_nanos()))
        .map_err(|_| {
            format!(
                "\"{}\" is not a time; expected seconds (a Unix timestamp, in milliseconds above 1e11), a duration like \"90s\", or a date and time like \"2026-11-30T14:05:00Z\"",
                crate::scenario::diagnostic::shorten(t, 40)
            )
        })
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]` as nanoseconds since the Unix epoch
/// (no offset means UTC).
fn parse_datetime(t: &str) -> Result<i128, String> {
    let bad = || {
        format!(
            "\"{}\" is not a date and time; expected the form 2026-11-30T14:05:00Z (or with a space, fractional seconds, or an offset like +01:00)",
            crate::scenario::diagnostic::shorten(t, 40)
        )
    };
    if !t.is_ascii() {
        return Err(bad());
    }
    let num = |s: &str| -> Result<i64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, rest) = t.split_at(10.min(t.len()));
    let mut d = date.split('-');
    let (y, m, day) = (
        num(d.next().unwrap_or(""))?,
        num(d.next().unwrap_or(""))?,
        num(d.next().unwrap_or(""))?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let mut nanos = i128::from(days_from_civil(y, m, day)) * 86_400 * 1_000_000_000;
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or(rest);
    if rest.is_empty() {
        return Ok(nanos);
    }
    // The clock, then an optional zone.
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut parts = clock.split(':');
    let h = num(parts.next().unwrap_or(""))?;
    let min = num(parts.next().unwrap_or(""))?;
    let sec: f64 = match parts.next() {
        None => 0.0,
        Some(s) => s.parse().map_err(|_| bad())?,
    };
    if parts.next().is_some() || h > 23 || min > 59 || !(0.0..61.0).contains(&sec) {
        return Err(bad());
    }
    nanos += i128::from(h * 3600 + min * 60) * 1_000_000_000 + (sec * 1e9).round() as i128;
    let offset_s = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hm = z[1..].replace(':', "");
            if hm.len() != 4 {
                return Err(bad());
            }
            let (oh, om) = (num(&hm[..2])?, num(&hm[2..])?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Ok(nanos - i128::from(offset_s) * 1_000_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = 1_000_000_000;

    #[test]
    fn dates_become_unix_time() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        // `date -u -d 2026-11-30T14:05:00Z +%s` = 1796047500
        assert_eq!(parse_time("2026-11-30T14:05:00Z"), Ok(1_796_047_500 * S));
        assert_eq!(parse_time("2026-11-30 14:05:00"), Ok(1_796_047_500 * S));
        assert_eq!(
            parse_time("2026-11-30T15:05:00+01:00"),
            Ok(1_796_047_500 * S)
        );
        assert_eq!(
            parse_time("2024-02-29T00:00:00.5Z"),
            Ok(1_709_164_800 * S + S / 2)
        );
    }

    #[test]
    fn numbers_are_seconds_or_epoch_milliseconds_and_durations_are_relative() {
        assert_eq!(parse_time("15"), Ok(15 * S));
        assert_eq!(parse_time("1796047500"), Ok(1_796_047_500 * S));
        assert_eq!(parse_time("1796047500000"), Ok(1_796_047_500 * S));
        assert_eq!(parse_time("90s"), Ok(90 * S));
        assert_eq!(parse_time("1.5m"), Ok(90 * S));
        assert!(parse_time("soon").unwrap_err().contains("not a time"));
        assert!(
            parse_time("2026-13-01")
                .unwrap_err()
                .contains("date and time")
        );
    }
}
