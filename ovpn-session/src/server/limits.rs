//! What a login's PPP settings ask the server to enforce on a session: `session-timeout`,
//! `idle-timeout`, the secret's `limit-bytes-in`/`limit-bytes-out`, the profile's `rate-limit`
//! (a token bucket per direction) and `change-tcp-mss`. The data path pays a few comparisons per
//! packet and never allocates; the timeouts are deadlines the endpoint's timer set wakes it for.

use std::time::{Duration, Instant};

use ovpn_ppp::{Grant, RateLimit};

use crate::error::DisconnectReason;

/// How much a bucket holds without a burst: this long at the sustained rate (and at least two
/// full-size packets), so that a TCP flow at the limit is policed, not starved.
const DEPTH: Duration = Duration::from_millis(100);
/// The least a bucket holds (two 1500-byte packets).
const MIN_DEPTH: u64 = 3000;

/// A token bucket in bytes.
#[derive(Debug, Clone)]
pub(super) struct TokenBucket {
    /// Bytes per second.
    rate: u64,
    /// Bytes it holds at most.
    depth: u64,
    tokens: u64,
    last: Instant,
}

impl TokenBucket {
    /// A bucket for `bits_per_second` (None for 0, which RouterOS reads as unlimited). A burst
    /// rate kept for a burst time deepens it by the extra bytes the burst may send.
    fn new(now: Instant, bits_per_second: u64, burst: Option<(u64, Duration)>) -> Option<Self> {
        if bits_per_second == 0 {
            return None;
        }
        let rate = (bits_per_second / 8).max(1);
        let mut depth = (rate as u128 * DEPTH.as_nanos() / 1_000_000_000) as u64;
        if let Some((burst_bits, time)) = burst {
            let extra = (burst_bits / 8).saturating_sub(rate);
            depth = depth.saturating_add((extra as u128 * time.as_nanos() / 1_000_000_000) as u64);
        }
        let depth = depth.max(MIN_DEPTH);
        Some(Self {
            rate,
            depth,
            tokens: depth,
            last: now,
        })
    }

    /// Takes `len` bytes if the bucket holds them.
    fn take(&mut self, now: Instant, len: usize) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        if !elapsed.is_zero() {
            let add = self.rate as u128 * elapsed.as_nanos() / 1_000_000_000;
            self.tokens = self
                .tokens
                .saturating_add(add.min(u128::from(u64::MAX)) as u64);
            self.tokens = self.tokens.min(self.depth);
            self.last = now;
        }
        let len = len as u64;
        if self.tokens >= len {
            self.tokens -= len;
            true
        } else {
            false
        }
    }
}

/// Why the data path refused a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The direction's `rate-limit` has no room for it now.
    RateLimited,
    /// The direction's byte limit is reached: the session ends.
    LimitReached,
}

/// The enforcement state of one logged-in session.
#[derive(Debug, Clone)]
pub(super) struct Limits {
    session_end: Option<Instant>,
    idle_timeout: Option<Duration>,
    limit_in: Option<u64>,
    limit_out: Option<u64>,
    rx: Option<TokenBucket>,
    tx: Option<TokenBucket>,
    /// The tunnel MTU TCP SYNs are clamped to (`change-tcp-mss`).
    pub(super) clamp_mss: Option<u16>,
    /// The last data packet either way.
    last_data: Instant,
    /// A limit the data path found reached, and when: the session ends at the next timer.
    ended: Option<(DisconnectReason, Instant)>,
}

impl Limits {
    /// The limits of a login at `now`, for a tunnel of `mtu`.
    pub(super) fn new(now: Instant, grant: &Grant, mtu: u16) -> Self {
        let buckets = |r: &RateLimit| {
            let burst =
                |pick: fn(&ovpn_ppp::RxTx<u64>) -> u64,
                 pick_t: fn(&ovpn_ppp::RxTx<Duration>) -> Duration| {
                    r.burst_rate
                        .zip(r.burst_time)
                        .map(|(b, t)| (pick(&b), pick_t(&t)))
                };
            (
                TokenBucket::new(now, r.rate.rx, burst(|x| x.rx, |t| t.rx)),
                TokenBucket::new(now, r.rate.tx, burst(|x| x.tx, |t| t.tx)),
            )
        };
        let (rx, tx) = grant.rate_limit.as_ref().map_or((None, None), buckets);
        Self {
            // Beyond what an Instant can hold: no end.
            session_end: grant.session_timeout.and_then(|t| now.checked_add(t)),
            idle_timeout: grant.idle_timeout,
            limit_in: grant.limit_bytes_in.filter(|&l| l > 0),
            limit_out: grant.limit_bytes_out.filter(|&l| l > 0),
            rx,
            tx,
            clamp_mss: grant.change_tcp_mss.then_some(mtu),
            last_data: now,
            ended: None,
        }
    }

    /// A packet of `len` bytes from the client; `total` is every byte received so far,
    /// this packet included.
    pub(super) fn on_rx(&mut self, now: Instant, len: usize, total: u64) -> Result<(), Refusal> {
        self.last_data = now;
        if self.limit_in.is_some_and(|l| total > l) {
            self.ended
                .get_or_insert((DisconnectReason::LimitReached("limit-bytes-in"), now));
            return Err(Refusal::LimitReached);
        }
        if self.rx.as_mut().is_some_and(|b| !b.take(now, len)) {
            return Err(Refusal::RateLimited);
        }
        Ok(())
    }

    /// A packet of `len` bytes for the client; `sent` is every byte sent so far.
    pub(super) fn on_tx(&mut self, now: Instant, len: usize, sent: u64) -> Result<(), Refusal> {
        if self.limit_out.is_some_and(|l| sent + len as u64 > l) {
            self.ended
                .get_or_insert((DisconnectReason::LimitReached("limit-bytes-out"), now));
            return Err(Refusal::LimitReached);
        }
        if self.tx.as_mut().is_some_and(|b| !b.take(now, len)) {
            return Err(Refusal::RateLimited);
        }
        self.last_data = now;
        Ok(())
    }

    /// When the session must be looked at next (a limit reached: at once).
    pub(super) fn deadline(&self) -> Option<Instant> {
        if let Some((_, at)) = self.ended {
            return Some(at);
        }
        let idle = self
            .idle_timeout
            .and_then(|t| self.last_data.checked_add(t));
        [self.session_end, idle].into_iter().flatten().min()
    }

    /// Why the session must end now, if it must.
    pub(super) fn expired(&self, now: Instant) -> Option<DisconnectReason> {
        if let Some((r, _)) = &self.ended {
            return Some(r.clone());
        }
        if self.session_end.is_some_and(|end| now >= end) {
            return Some(DisconnectReason::SessionTimeout);
        }
        let idle = self
            .idle_timeout
            .and_then(|t| self.last_data.checked_add(t));
        idle.is_some_and(|end| now >= end)
            .then_some(DisconnectReason::IdleTimeout)
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
    fn a_bucket_passes_its_rate_and_its_depth() {
        let t0 = Instant::now();
        // 8 Mbit/s = 1 MB/s, 100 ms deep = 100 kB.
        let mut b = TokenBucket::new(t0, 8_000_000, None).unwrap();
        let mut passed = 0u64;
        let mut now = t0;
        for _ in 0..10_000 {
            if b.take(now, 1000) {
                passed += 1000;
            }
            now += Duration::from_micros(100); // 10 kB/ms offered for 1 s
        }
        // 1 s at 1 MB/s plus the initial 100 kB, within one packet.
        assert!((1_099_000..=1_101_000).contains(&passed), "{passed}");
        assert!(TokenBucket::new(t0, 0, None).is_none(), "0 is unlimited");
    }

    #[test]
    fn a_burst_deepens_the_bucket() {
        let t0 = Instant::now();
        let plain = TokenBucket::new(t0, 8_000_000, None).unwrap();
        let burst =
            TokenBucket::new(t0, 8_000_000, Some((16_000_000, Duration::from_secs(2)))).unwrap();
        assert_eq!(burst.depth - plain.depth, 2_000_000);
    }

    #[test]
    fn timeouts_and_limits() {
        let t0 = Instant::now();
        let mut g = Grant::new("u", "p");
        g.session_timeout = Some(Duration::from_secs(8));
        g.idle_timeout = Some(Duration::from_secs(3));
        g.limit_bytes_in = Some(5000);
        let mut l = Limits::new(t0, &g, 1500);
        assert_eq!(l.deadline(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(l.expired(t0 + Duration::from_secs(2)), None);
        assert_eq!(
            l.expired(t0 + Duration::from_secs(3)),
            Some(DisconnectReason::IdleTimeout)
        );
        // Traffic keeps it from going idle, not from its session timeout.
        for s in 1..8 {
            l.on_rx(t0 + Duration::from_secs(s), 10, 10 * s).unwrap();
        }
        assert_eq!(l.expired(t0 + Duration::from_millis(7999)), None);
        assert_eq!(
            l.expired(t0 + Duration::from_secs(8)),
            Some(DisconnectReason::SessionTimeout)
        );
        assert_eq!(l.on_rx(t0, 10, 5001), Err(Refusal::LimitReached));
        assert_eq!(l.deadline(), Some(t0), "ends at the next timer");
        assert_eq!(
            l.expired(t0),
            Some(DisconnectReason::LimitReached("limit-bytes-in"))
        );
        // A session timeout beyond what an Instant holds is no end, not a panic.
        g.session_timeout = Some(Duration::MAX);
        assert_eq!(Limits::new(t0, &g, 1500).session_end, None);
    }
}
