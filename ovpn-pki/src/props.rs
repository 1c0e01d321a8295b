//! Small helpers for RouterOS property values.

use crate::error::PkiError;

/// Parses RouterOS `yes`/`no` (also `true`/`false`).
pub(crate) fn yes_no(property: &str, value: &str) -> Result<bool, PkiError> {
    match value {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(PkiError::invalid(property, value, "yes or no")),
    }
}

/// RouterOS `yes`/`no`.
pub(crate) fn yes_no_str(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Upper-case hex, as RouterOS prints serial numbers.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Lower-case hex, as RouterOS prints fingerprints and key identifiers.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DD hh:mm:ss` (UTC) for a Unix time, as RouterOS 7 prints dates.
pub(crate) fn format_time(unix_secs: u64) -> String {
    let t = i64::try_from(unix_secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("@{unix_secs}"),
    }
}

/// A RouterOS duration (`52w1d3h4m5s`).
pub(crate) fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut s = String::new();
    for (unit, len) in [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ] {
        let n = secs / len;
        secs %= len;
        if n > 0 {
            s.push_str(&format!("{n}{unit}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(604_800 + 86_400 + 3_661), "1w1d1h1m1s");
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
        assert_eq!(hex_lower(&[0x0a, 0xff]), "0aff");
        assert!(yes_no("trusted", "yes").unwrap());
        assert!(yes_no("trusted", "maybe").is_err());
    }
}
