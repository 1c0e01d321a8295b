//! At most one log line per source address per interval about failed session starts (a TLS
//! failure, a refused login), so that a flood of failing attempts does not become a flood of
//! log lines. The lines held back are counted and the next line says how many.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How often one source may be logged about.
pub(super) const INTERVAL: Duration = Duration::from_secs(10);

/// The most sources remembered; past it, those not logged about within the interval are
/// forgotten (and if all were, the table starts again).
const CAPACITY: usize = 4096;

#[derive(Debug)]
pub(super) struct LogGate {
    /// Each source's last logged line, and the lines held back since.
    seen: HashMap<IpAddr, (Instant, u32)>,
}

impl LogGate {
    pub(super) fn new() -> Self {
        Self {
            seen: HashMap::new(),
        }
    }

    /// Whether a line about `source` may be logged at `now`: `Some(held)` with the number of
    /// lines held back since the last one, or `None` to stay silent.
    pub(super) fn admit(&mut self, source: IpAddr, now: Instant) -> Option<u32> {
        if let Some((at, held)) = self.seen.get_mut(&source) {
            if now.saturating_duration_since(*at) < INTERVAL {
                *held = held.saturating_add(1);
                return None;
            }
            let before = *held;
            *at = now;
            *held = 0;
            return Some(before);
        }
        if self.seen.len() >= CAPACITY {
            self.seen
                .retain(|_, (at, _)| now.saturating_duration_since(*at) < INTERVAL);
            if self.seen.len() >= CAPACITY {
                self.seen.clear();
            }
        }
        self.seen.insert(source, (now, 0));
        Some(0)
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
        for i in 0..(CAPACITY as u32 * 3) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(g.admit(ip, t0), Some(0));
            assert!(g.seen.len() <= CAPACITY);
        }
    }
}
