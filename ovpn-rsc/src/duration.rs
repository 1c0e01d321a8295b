//! RouterOS durations: `30`, `1w2d3h4m5s`, `500ms`, `1d02:00:00`.

use std::time::Duration;

/// Parses a RouterOS duration: a number of seconds (`30`), units (`1w2d3h4m5s`, `500ms`, in any
/// combination), or a clock `hh:mm:ss` optionally after weeks and days (`1d02:00:00`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(ovpn_rsc::parse_duration("1h30m"), Some(Duration::from_secs(5400)));
/// assert_eq!(ovpn_rsc::parse_duration("1d00:00:10"), Some(Duration::from_secs(86410)));
/// assert_eq!(ovpn_rsc::parse_duration("soon"), None);
/// ```
pub fn parse_duration(s: &str) -> Option<Duration> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut i = 0;
    let mut any_unit = false;
    while i < bytes.len() {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let n: u64 = s.get(start..i)?.parse().ok()?;
        let rest = s.get(i..)?;
        let (step, len) = if rest.starts_with("ms") {
            (Duration::from_millis(n), 2)
        } else {
            let secs = |unit: u64| n.checked_mul(unit).map(Duration::from_secs);
            match bytes.get(i) {
                Some(b'w') => (secs(604_800)?, 1),
                Some(b'd') => (secs(86_400)?, 1),
                Some(b'h') => (secs(3_600)?, 1),
                Some(b'm') => (secs(60)?, 1),
                Some(b's') => (secs(1)?, 1),
                Some(b':') => {
                    // hh:mm:ss: the clock ends the text.
                    let (m, sec) = rest.get(1..)?.split_once(':')?;
                    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
                    if !digits(m) || !digits(sec) {
                        return None;
                    }
                    let (m, sec): (u64, u64) = (m.parse().ok()?, sec.parse().ok()?);
                    if m >= 60 || sec >= 60 {
                        return None;
                    }
                    let clock = n.checked_mul(3600)?.checked_add(m * 60 + sec)?;
                    return total.checked_add(Duration::from_secs(clock));
                }
                None if !any_unit => return Some(Duration::from_secs(n)),
                _ => return None,
            }
        };
        any_unit = true;
        total = total.checked_add(step)?;
        i += len;
    }
    Some(total)
}

/// Formats a duration as RouterOS prints it: `1w2d3h4m5s`, `500ms`, `0s`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(ovpn_rsc::format_duration(Duration::from_secs(5400)), "1h30m");
/// assert_eq!(ovpn_rsc::format_duration(Duration::from_millis(1500)), "1s500ms");
/// ```
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    let ms = d.subsec_millis();
    if secs == 0 && ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
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
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn forms() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1w"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("00:10:00"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h60m"), Some(Duration::from_secs(7200)));
        for bad in [
            "",
            "h",
            "1x",
            "1:60:00",
            "1:2",
            "99999999999999999999w",
            "-1s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(694_861)), "1w1d1h1m1s");
    }

    proptest! {
        #[test]
        fn format_reads_back(ms in 0u64..10_000_000_000_000) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)), Some(d));
        }

        #[test]
        fn parse_never_panics(s in "[0-9wdhms:]{0,40}") {
            let _ = parse_duration(&s);
        }
    }
}
