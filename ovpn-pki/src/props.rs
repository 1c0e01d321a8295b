//! Small helpers for RouterOS property values.

use crate::error::PkiError;

/// Parses RouterOS `yes`/`no` (also `true`/`false`), naming the property when it is neither.
pub(crate) fn yes_no(property: &str, value: &str) -> Result<bool, PkiError> {
    ovpn_rsc::yes_no(value).ok_or_else(|| PkiError::invalid(property, value, "yes or no"))
}

pub(crate) use ovpn_rsc::yes_no_str;

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

/// A RouterOS duration of whole seconds (`52w1d3h4m5s`).
pub(crate) fn format_duration(secs: u64) -> String {
    ovpn_rsc::format_duration(std::time::Duration::from_secs(secs))
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
