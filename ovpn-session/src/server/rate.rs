//! How often new sessions may start: OpenVPN's `connect-freq-initial` (answers to session starts,
//! so that spoofed starts cannot turn the server into an amplifier) and `connect-freq` (sessions
//! made), over all sources and per source address.
//!
//! Counting is in fixed windows, as 2.6's reflect filter does (`reflect_filter.c`): a window
//! starts with the first event after the last one ended and lasts `per`; at most `max` events
//! pass in it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// At most `max` events in each `per` (`connect-freq n sec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// The events allowed in one window.
    pub max: u32,
    /// The window's length.
    pub per: Duration,
}

impl RateLimit {
    /// `max` per `per`.
    pub const fn new(max: u32, per: Duration) -> Self {
        Self { max, per }
    }
}

impl core::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} per {}s", self.max, self.per.as_secs())
    }
}

/// One limit's window, with what it held back.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    limit: RateLimit,
    start: Option<Instant>,
    count: u32,
    /// Events refused in the current window.
    refused: u64,
}

/// What [`Window::allow`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the limit.
    Pass,
    /// Over it; the first refusal of its window (worth a log line).
    FirstRefusal,
    /// Over it again (stay silent).
    Refused,
}

impl Window {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            start: None,
            count: 0,
            refused: 0,
        }
    }

    /// Starts a new window if the last one has ended; returns what it refused.
    fn roll(&mut self, now: Instant) -> Option<u64> {
        let expired = self
            .start
            .is_none_or(|s| now.saturating_duration_since(s) >= self.limit.per);
        if !expired {
            return None;
        }
        self.start = Some(now);
        self.count = 0;
        Some(core::mem::take(&mut self.refused))
    }

    /// Counts one event at `now`. Returns whether it passes, and, when a new window began, how
    /// many the window before refused.
    pub(crate) fn allow(&mut self, now: Instant) -> (Verdict, Option<u64>) {
        let ended = self.roll(now).filter(|&n| n > 0);
        if self.count < self.limit.max {
            self.count += 1;
            return (Verdict::Pass, ended);
        }
        self.refused += 1;
        let v = if self.refused == 1 {
            Verdict::FirstRefusal
        } else {
            Verdict::Refused
        };
        (v, ended)
    }

    /// The limit.
    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }

    /// An event that passed turns out not to count (2.6: a completed three-way handshake
    /// counts against `connect-freq`, not `connect-freq-initial`).
    pub(crate) fn give_back(&mut self) {
        self.count = self.count.saturating_sub(1);
    }
}

/// The answers to session starts (UDP): at most `connect-freq-initial` in a window, as 2.6; and
/// beyond that, while the answers' bytes stay within `share_percent` of the bytes the starts
/// brought in the same window (counted on the wire: with their IP and UDP headers). A flood of
/// spoofed starts then draws less than it sends (no amplification), and a real client's start
/// still has a fair chance of an answer each time it tries (about 70% at the default 90%, for
/// IPv4 starts without tls-auth), so it gets in during the flood.
#[derive(Debug, Clone)]
pub(crate) struct ReplyBudget {
    floor: Window,
    share_percent: u64,
    received: u64,
    answered: u64,
    unanswered: u64,
}

impl ReplyBudget {
    pub(crate) fn new(floor: RateLimit, share_percent: u8) -> Self {
        Self {
            floor: Window::new(floor),
            share_percent: u64::from(share_percent.min(100)),
            received: 0,
            answered: 0,
            unanswered: 0,
        }
    }

    /// A session start of `len` bytes on the wire, which an answer of `reply` bytes would
    /// answer, at `now`: whether to send it. Says in the log when the window first leaves starts unanswered, and
    /// how many when it has ended.
    pub(crate) fn allow(&mut self, now: Instant, len: usize, reply: usize) -> bool {
        if self.floor.roll(now).is_some() {
            if self.unanswered > 0 {
                tracing::info!(target: "ovpn", "connect-freq-initial: {} session starts were not answered in the last {}s", self.unanswered, self.floor.limit.per.as_secs());
            }
            self.received = 0;
            self.answered = 0;
            self.unanswered = 0;
        }
        self.received = self.received.saturating_add(len as u64);
        let reply = reply as u64;
        let pass = self.floor.allow(now).0 == Verdict::Pass
            || self.answered.saturating_add(reply).saturating_mul(100)
                < self.received.saturating_mul(self.share_percent);
        if pass {
            self.answered = self.answered.saturating_add(reply);
            return true;
        }
        self.unanswered += 1;
        if self.unanswered == 1 {
            tracing::warn!(target: "ovpn", "connect-freq-initial reached ({}): session starts are answered only while the answers stay within {}% of their bytes", self.floor.limit, self.share_percent);
        }
        false
    }

    /// A start that became a session does not count against the floor (2.6).
    pub(crate) fn give_back(&mut self) {
        self.floor.give_back();
    }
}

/// The most source addresses followed at once; past it, those whose window ended are forgotten,
/// and if none has, the table starts again (every source with a fresh window).
pub(crate) const SOURCES: usize = 4096;

/// One window per source address, bounded in memory.
#[derive(Debug, Clone)]
pub(crate) struct PerSource {
    limit: RateLimit,
    windows: HashMap<IpAddr, Window>,
}

impl PerSource {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            windows: HashMap::new(),
        }
    }

    /// Counts one event from `source` at `now`, as [`Window::allow`] does for one window.
    pub(crate) fn allow(&mut self, source: IpAddr, now: Instant) -> (Verdict, Option<u64>) {
        if !self.windows.contains_key(&source) && self.windows.len() >= SOURCES {
            let per = self.limit.per;
            self.windows.retain(|_, w| {
                w.start
                    .is_some_and(|s| now.saturating_duration_since(s) < per)
            });
            if self.windows.len() >= SOURCES {
                self.windows.clear();
            }
        }
        let limit = self.limit;
        self.windows
            .entry(source)
            .or_insert_with(|| Window::new(limit))
            .allow(now)
    }

    /// How many sources are followed (for the tests' memory bound).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.windows.len()
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
    fn a_window_passes_max_then_refuses_until_it_ends() {
        let t0 = Instant::now();
        let mut w = Window::new(RateLimit::new(3, Duration::from_secs(10)));
        for _ in 0..3 {
            assert_eq!(w.allow(t0), (Verdict::Pass, None));
        }
        assert_eq!(w.allow(t0), (Verdict::FirstRefusal, None));
        assert_eq!(
            w.allow(t0 + Duration::from_secs(9)),
            (Verdict::Refused, None)
        );
        // The next window says how many the last one refused.
        assert_eq!(
            w.allow(t0 + Duration::from_secs(10)),
            (Verdict::Pass, Some(2))
        );
        w.give_back();
        assert_eq!(w.allow(t0 + Duration::from_secs(11)).0, Verdict::Pass);
        assert_eq!(w.allow(t0 + Duration::from_secs(11)).0, Verdict::Pass);
        assert_eq!(w.allow(t0 + Duration::from_secs(11)).0, Verdict::Pass);
        assert_eq!(
            w.allow(t0 + Duration::from_secs(11)).0,
            Verdict::FirstRefusal
        );
    }

    #[test]
    fn beyond_the_floor_answers_stay_within_their_share_of_the_bytes() {
        let t0 = Instant::now();
        let mut b = ReplyBudget::new(RateLimit::new(2, Duration::from_secs(10)), 50);
        assert!(b.allow(t0, 14, 26));
        assert!(b.allow(t0, 14, 26));
        // 1000 more starts of 14 bytes, each answer 26: about a quarter answered.
        let answered = (0..1000).filter(|_| b.allow(t0, 14, 26)).count();
        assert!((250..=270).contains(&answered), "{answered}");
        assert!(b.answered * 2 <= b.received + 2 * 26);
        // On the wire (IPv4 and UDP headers) at 90%: about 70%.
        let mut b = ReplyBudget::new(RateLimit::new(0, Duration::from_secs(10)), 90);
        let answered = (0..1000).filter(|_| b.allow(t0, 14 + 28, 26 + 28)).count();
        assert!((690..=710).contains(&answered), "{answered}");
        assert!(b.answered < b.received);
        // Without a share, only the floor.
        let mut strict = ReplyBudget::new(RateLimit::new(2, Duration::from_secs(10)), 0);
        let answered = (0..1000).filter(|_| strict.allow(t0, 14, 26)).count();
        assert_eq!(answered, 2);
        // The next window starts afresh.
        assert!(strict.allow(t0 + Duration::from_secs(10), 14, 26));
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let t0 = Instant::now();
        let mut w = Window::new(RateLimit::new(0, Duration::from_secs(1)));
        assert_eq!(w.allow(t0).0, Verdict::FirstRefusal);
    }

    #[test]
    fn sources_are_counted_apart_and_the_table_stays_bounded() {
        let t0 = Instant::now();
        let mut p = PerSource::new(RateLimit::new(2, Duration::from_secs(10)));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(p.allow(a, t0).0, Verdict::Pass);
        assert_eq!(p.allow(a, t0).0, Verdict::Pass);
        assert_eq!(p.allow(a, t0).0, Verdict::FirstRefusal);
        assert_eq!(p.allow(b, t0).0, Verdict::Pass);
        for i in 0..3 * SOURCES as u32 {
            let s = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            let _ = p.allow(s, t0 + Duration::from_millis(u64::from(i)));
        }
        assert!(p.len() <= SOURCES, "{}", p.len());
    }
}
