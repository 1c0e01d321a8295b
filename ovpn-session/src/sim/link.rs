//! A simulated one-way network link: latency, jitter, loss, duplication and reordering, all decided
//! by a seeded generator so that a run can be replayed from its seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The simulation's generator (SplitMix64, see `random`): a printed seed replays the same run.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        crate::random::splitmix64(&mut self.0)
    }

    /// True with probability `p` (0.0..=1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / ((1u64 << 53) as f64)) < p
    }

    /// A uniformly random duration in `0..=max`.
    pub fn duration(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return max;
        }
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.next_u64() % nanos.saturating_add(1))
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// How a [`Link`] treats datagrams.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way delay of every datagram.
    pub latency: Duration,
    /// Extra random delay, uniform in `0..=jitter` (this alone reorders).
    pub jitter: Duration,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by an extra `4 * latency + jitter`, overtaken by
    /// later ones.
    pub reorder: f64,
    /// Datagrams longer than this are dropped.
    pub mtu: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            mtu: 1500,
        }
    }
}

impl LinkConfig {
    /// A hostile link: `loss` lost, the same share duplicated and reordered, with jitter.
    pub fn lossy(loss: f64) -> Self {
        Self {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            loss,
            duplicate: loss,
            reorder: loss,
            mtu: 1500,
        }
    }
}

/// What a link did with the datagrams it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams given to the link.
    pub sent: u64,
    /// Datagrams lost (including those over the MTU).
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Datagrams held back to be overtaken.
    pub reordered: u64,
    /// Datagrams delivered (copies included).
    pub delivered: u64,
}

/// A one-way link. Datagrams go in with [`Link::send`] and come out of [`Link::deliver`] when their
/// time has come.
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    rng: SimRng,
    seq: u64,
    queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    stats: LinkStats,
}

impl Link {
    /// A link with its own generator seed.
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        Self {
            config,
            rng: SimRng::new(seed),
            seq: 0,
            queue: BinaryHeap::new(),
            stats: LinkStats::default(),
        }
    }

    /// Puts a datagram on the link at `now`; it may be dropped, duplicated, delayed or reordered.
    pub fn send(&mut self, now: Instant, datagram: &[u8]) {
        self.stats.sent += 1;
        if datagram.len() > self.config.mtu || self.rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut at = now + self.config.latency + self.rng.duration(self.config.jitter);
            if self.rng.chance(self.config.reorder) {
                self.stats.reordered += 1;
                at += self.config.latency * 4 + self.config.jitter;
            }
            self.seq += 1;
            self.queue.push(Reverse((at, self.seq, datagram.to_vec())));
        }
    }

    /// When the next datagram arrives, if any is on the way.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The next datagram due at `now`.
    pub fn deliver(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_delivery()? > now {
            return None;
        }
        let Reverse((_, _, d)) = self.queue.pop()?;
        self.stats.delivered += 1;
        Some(d)
    }

    /// Drops everything in flight (a cut cable).
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// What the link has done so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// The link's configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Changes the link's behaviour from now on.
    pub fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[expect(
        clippy::disallowed_methods,
        reason = "a test needs an Instant to start from"
    )]
    fn epoch() -> Instant {
        Instant::now()
    }

    #[test]
    fn perfect_link_delivers_in_order_after_latency() {
        let t0 = epoch();
        let mut l = Link::new(LinkConfig::default(), 1);
        l.send(t0, b"a");
        l.send(t0, b"b");
        assert_eq!(l.deliver(t0), None);
        let at = l.next_delivery().unwrap();
        assert_eq!(at, t0 + Duration::from_millis(10));
        assert_eq!(l.deliver(at).as_deref(), Some(&b"a"[..]));
        assert_eq!(l.deliver(at).as_deref(), Some(&b"b"[..]));
        assert_eq!(l.deliver(at), None);
    }

    #[test]
    fn same_seed_same_fate_and_rates_are_roughly_right() {
        let t0 = epoch();
        let run = |seed| {
            let mut l = Link::new(LinkConfig::lossy(0.2), seed);
            for i in 0..2000u32 {
                l.send(t0, &i.to_be_bytes());
            }
            let mut out = Vec::new();
            while let Some(at) = l.next_delivery() {
                out.push(l.deliver(at).unwrap());
            }
            (out, l.stats())
        };
        let (a, sa) = run(7);
        let (b, _) = run(7);
        assert_eq!(a, b);
        let (c, _) = run(8);
        assert_ne!(a, c);
        assert!((300..500).contains(&sa.lost), "{sa:?}");
        assert!((250..450).contains(&sa.duplicated), "{sa:?}");
        assert_eq!(sa.delivered, sa.sent - sa.lost + sa.duplicated);
        let sorted = {
            let mut s = a.clone();
            s.sort();
            s
        };
        assert_ne!(a, sorted, "jitter and reordering change the order");
    }

    #[test]
    fn oversized_datagrams_are_dropped() {
        let mut l = Link::new(
            LinkConfig {
                mtu: 10,
                ..LinkConfig::default()
            },
            1,
        );
        l.send(epoch(), &[0; 11]);
        assert_eq!(l.stats().lost, 1);
        assert_eq!(l.next_delivery(), None);
    }
}
