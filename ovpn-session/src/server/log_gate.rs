//! At most one log line per source address per interval about failed session starts (a TLS
//! failure, a refused login), so that a flood of failing attempts does not become a flood of
//! log lines. The lines held back are counted and the next line says how many.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::rate::{PerSource, RateLimit, Verdict};

/// How often one source may be logged about.
pub(super) const INTERVAL: Duration = Duration::from_secs(10);

/// One line per source per [`INTERVAL`]: a per-source limit of one (bounded as every
/// per-source table, [`super::rate::SOURCES`] sources).
#[derive(Debug)]
pub(super) struct LogGate {
    lines: PerSource,
}

impl LogGate {
    pub(super) fn new() -> Self {
        Self {
            lines: PerSource::new(RateLimit::new(1, INTERVAL)),
        }
    }

    /// Whether a line about `source` may be logged at `now`: `Some(held)` with the number of
    /// lines held back since the last one, or `None` to stay silent.
    pub(super) fn admit(&mut self, source: IpAddr, now: Instant) -> Option<u32> {
        match self.lines.allow(source, now) {
            (Verdict::Pass, held) => Some(u32::try_from(held.unwrap_or(0)).unwrap_or(u32::MAX)),
            _ => None,
        }
    }
}

/// The suffix of a line that follows held-back ones.
pub(super) fn held_note(held: u32) -> String {
    if held == 0 {
        String::new()
    } else {
        format!(" ({held} more from this address not logged)")
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "a test's one clock read: the start instant"
)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_source_per_interval_and_a_count_of_the_rest() {
        let t0 = Instant::now();
        let mut g = LogGate::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(g.admit(a, t0), Some(0));
        assert_eq!(g.admit(b, t0), Some(0), "another source is logged");
        for i in 1..=5 {
            assert_eq!(g.admit(a, t0 + Duration::from_secs(i)), None);
        }
        assert_eq!(g.admit(a, t0 + INTERVAL), Some(5));
        assert_eq!(held_note(5), " (5 more from this address not logged)");
        assert_eq!(held_note(0), "");
    }

    #[test]
    fn the_table_stays_bounded() {
        let t0 = Instant::now();
        let mut g = LogGate::new();
        let capacity = super::super::rate::SOURCES;
        for i in 0..(capacity as u32 * 3) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(g.admit(ip, t0), Some(0));
            assert!(g.lines.len() <= capacity);
        }
    }
}
