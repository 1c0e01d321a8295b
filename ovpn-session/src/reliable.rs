//! The control channel's reliability layer: message ids, acknowledgements, retransmission with
//! backoff, and in-order delivery (reliable.c / reliable.h in OpenVPN 2.6).
//!
//! One [`Reliable`] exists per key state (per key id) and direction pair. Message ids start at 0 (the
//! hard or soft reset is message 0) and grow by one per new message; a retransmission keeps its id.
//! Every received message, duplicates included, is acknowledged by id; acknowledgements are not
//! cumulative. Only the message with the next expected id is delivered, so the TLS layer sees each
//! byte once and in order whatever the network does.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// `TLS_RELIABLE_N_SEND_BUFFERS` (ssl_pkt.h): messages in flight without an acknowledgement.
pub const SEND_WINDOW: usize = 6;
/// `TLS_RELIABLE_N_REC_BUFFERS` (ssl_pkt.h): how far ahead of the next expected id a message may be
/// and still be stored (reliable.c `reliable_wont_break_sequentiality`).
pub const RECEIVE_WINDOW: u32 = 12;
/// `N_ACK_RETRANSMIT` (reliable.h): acknowledgements of later messages after which a message is
/// retransmitted at once.
pub const FAST_RETRANSMIT_ACKS: u8 = 3;
/// The retransmission timeout never grows past this (OpenVPN doubles without bound, limited only by
/// hand-window; a cap keeps a long handshake responsive).
pub const MAX_RETRANSMIT_TIMEOUT: Duration = Duration::from_secs(16);

/// What [`Reliable::receive`] made of an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// New and stored; it will be delivered in order. An acknowledgement is queued.
    New,
    /// Seen before (a retransmission); acknowledged again, not delivered again.
    Duplicate,
    /// Too far ahead of what we expect: dropped without acknowledgement, so the peer resends it.
    OutOfWindow,
}

#[derive(Debug)]
struct Outgoing<T> {
    id: u32,
    msg: T,
    /// When it is (re)sent next; `None` until first sent.
    next_try: Option<Instant>,
    timeout: Duration,
    later_acks: u8,
    sends: u32,
}

/// The reliability state of one key state. `T` is the message (opcode and payload) as the caller
/// wants it back for (re)transmission; cloning it should be cheap (e.g. `bytes::Bytes`).
#[derive(Debug)]
pub struct Reliable<T> {
    next_send_id: u32,
    /// Unacknowledged messages in id order; the first [`SEND_WINDOW`] may be in flight.
    sending: VecDeque<Outgoing<T>>,
    initial_timeout: Duration,
    next_recv_id: u32,
    received: BTreeMap<u32, T>,
    acks: VecDeque<u32>,
    /// The ids acknowledged most recently, newest first: sent again with later messages while
    /// there is room, so that a lost acknowledgement does not stall the peer (2.6's
    /// `lru_acks`; a stateless server needs the ack of its reset in the packet it keeps).
    recent: VecDeque<u32>,
    retransmissions: u64,
}

/// How many recently acknowledged ids are remembered to be sent again.
const RECENT_ACKS: usize = 8;

impl<T: Clone> Reliable<T> {
    /// A fresh state whose first retransmission comes after `initial_timeout` (`--tls-timeout`,
    /// default 2 s, options.c).
    pub fn new(initial_timeout: Duration) -> Self {
        Self {
            next_send_id: 0,
            sending: VecDeque::new(),
            initial_timeout,
            next_recv_id: 0,
            received: BTreeMap::new(),
            acks: VecDeque::new(),
            recent: VecDeque::new(),
            retransmissions: 0,
        }
    }

    /// The three-way handshake happened before this state existed (a stateless server's cookie
    /// exchange, `ssl.c` `session_skip_to_pre_start`): our message 0 was sent and acknowledged,
    /// and the peer's message 0 received. Neither is acknowledged again; the next ids are 1.
    pub fn skip_handshake(&mut self) {
        self.sending.retain(|o| o.id != 0);
        self.next_send_id = self.next_send_id.max(1);
        self.next_recv_id = self.next_recv_id.max(1);
    }

    /// Queues a new message and returns its id.
    pub fn send(&mut self, msg: T) -> u32 {
        let id = self.next_send_id;
        self.next_send_id = id.wrapping_add(1);
        self.sending.push_back(Outgoing {
            id,
            msg,
            next_try: None,
            timeout: self.initial_timeout,
            later_acks: 0,
            sends: 0,
        });
        id
    }

    /// Processes acknowledgements received from the peer. Returns how many of our messages they
    /// acknowledged for the first time.
    pub fn handle_acks(&mut self, now: Instant, ids: &[u32]) -> usize {
        let mut newly = 0;
        for &id in ids {
            let Some(pos) = self.sending.iter().position(|o| o.id == id) else {
                continue;
            };
            self.sending.remove(pos);
            newly += 1;
            // Earlier messages still in flight: the peer got something later, count towards a fast
            // retransmit (reliable.c `reliable_send_purge`).
            for o in self.sending.iter_mut().take(SEND_WINDOW) {
                if o.id.wrapping_sub(id) > u32::MAX / 2 && o.next_try.is_some() {
                    o.later_acks = o.later_acks.saturating_add(1);
                    if o.later_acks >= FAST_RETRANSMIT_ACKS {
                        o.later_acks = 0;
                        o.next_try = Some(now);
                    }
                }
            }
        }
        newly
    }

    /// Takes in a message with id `id` from the peer.
    pub fn receive(&mut self, id: u32, msg: T) -> Received {
        let ahead = id.wrapping_sub(self.next_recv_id);
        if ahead > u32::MAX / 2 || self.received.contains_key(&id) {
            self.queue_ack(id);
            return Received::Duplicate;
        }
        if ahead >= RECEIVE_WINDOW {
            return Received::OutOfWindow;
        }
        self.received.insert(id, msg);
        self.queue_ack(id);
        Received::New
    }

    fn queue_ack(&mut self, id: u32) {
        if !self.acks.contains(&id) {
            self.acks.push_back(id);
        }
    }

    /// The next message in order, if it has arrived.
    pub fn poll_received(&mut self) -> Option<T> {
        let msg = self.received.remove(&self.next_recv_id)?;
        self.next_recv_id = self.next_recv_id.wrapping_add(1);
        Some(msg)
    }

    /// Whether acknowledgements are waiting to be sent.
    pub fn has_acks(&self) -> bool {
        !self.acks.is_empty()
    }

    /// Gives back the memory of empty queues (an idle session keeps none).
    pub fn release_idle(&mut self) {
        if self.sending.is_empty() && self.sending.capacity() > 0 {
            self.sending = VecDeque::new();
        }
        if self.acks.is_empty() && self.acks.capacity() > 0 {
            self.acks = VecDeque::new();
        }
        // Once nothing is in flight either way, the handshake's acknowledgements have done
        // their job.
        if self.sending.is_empty() && self.received.is_empty() && !self.recent.is_empty() {
            self.recent = VecDeque::new();
        }
        // An emptied BTreeMap keeps its last node.
        if self.received.is_empty() {
            self.received = BTreeMap::new();
        }
    }

    /// Takes up to `max` pending acknowledgements, oldest first.
    pub fn take_acks(&mut self, max: usize, out: &mut Vec<u32>) {
        while out.len() < max {
            let Some(id) = self.acks.pop_front() else {
                break;
            };
            out.push(id);
            self.recent.retain(|&r| r != id);
            self.recent.push_front(id);
            self.recent.truncate(RECENT_ACKS);
        }
    }

    /// [`Self::take_acks`], then fills the room left with ids acknowledged recently (newest
    /// first), as 2.6 does on every packet that carries acknowledgements.
    pub fn take_acks_and_recent(&mut self, max: usize, out: &mut Vec<u32>) {
        self.take_acks(max, out);
        for &id in &self.recent {
            if out.len() >= max {
                break;
            }
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }

    /// The next message due for (re)transmission at `now`, with its id; its timer is advanced with
    /// exponential backoff.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(u32, T)> {
        let o = self
            .sending
            .iter_mut()
            .take(SEND_WINDOW)
            .find(|o| o.next_try.is_none_or(|t| t <= now))?;
        if o.next_try.is_some() {
            o.timeout = (o.timeout * 2).min(MAX_RETRANSMIT_TIMEOUT);
            self.retransmissions += 1;
        }
        o.next_try = Some(now + o.timeout);
        o.sends += 1;
        Some((o.id, o.msg.clone()))
    }

    /// The earliest time a message in flight must be retransmitted (`None` when nothing is in flight).
    /// Messages never sent have no timer: [`Self::poll_transmit`] sends them at once.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.sending
            .iter()
            .take(SEND_WINDOW)
            .filter_map(|o| o.next_try)
            .min()
    }

    /// The id the next message sent gets.
    pub fn next_send_id(&self) -> u32 {
        self.next_send_id
    }

    /// Whether message `id` was sent and has been acknowledged.
    pub fn is_acked(&self, id: u32) -> bool {
        id.wrapping_sub(self.next_send_id) > u32::MAX / 2
            && !self.sending.iter().any(|o| o.id == id)
    }

    /// Whether every message we sent has been acknowledged.
    #[cfg(test)]
    pub fn all_acked(&self) -> bool {
        self.sending.is_empty()
    }

    /// How many retransmissions happened.
    #[cfg(test)]
    pub fn retransmissions(&self) -> u64 {
        self.retransmissions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Duration = Duration::from_secs(2);

    #[expect(
        clippy::disallowed_methods,
        reason = "a test needs some Instant to start from"
    )]
    fn epoch() -> Instant {
        Instant::now()
    }

    #[test]
    fn ids_start_at_zero_and_retransmissions_keep_them() {
        let now = epoch();
        let mut r = Reliable::new(T0);
        assert_eq!(r.send("reset"), 0);
        assert_eq!(r.send("hello"), 1);
        assert_eq!(r.poll_transmit(now), Some((0, "reset")));
        assert_eq!(r.poll_transmit(now), Some((1, "hello")));
        assert_eq!(r.poll_transmit(now), None);
        assert_eq!(r.next_timeout(), Some(now + T0));
        // Backoff: 2 s, then 4 s.
        assert_eq!(r.poll_transmit(now + T0), Some((0, "reset")));
        assert_eq!(r.poll_transmit(now + T0), Some((1, "hello")));
        assert_eq!(r.next_timeout(), Some(now + T0 + 2 * T0));
        assert_eq!(r.retransmissions(), 2);
        assert_eq!(r.handle_acks(now, &[1, 0, 7]), 2);
        assert!(r.all_acked());
        assert_eq!(r.next_timeout(), None);
    }

    #[test]
    fn window_limits_messages_in_flight() {
        let now = epoch();
        let mut r = Reliable::new(T0);
        for i in 0..10u32 {
            r.send(i);
        }
        let sent: Vec<_> = core::iter::from_fn(|| r.poll_transmit(now)).collect();
        assert_eq!(sent.len(), SEND_WINDOW);
        r.handle_acks(now, &[0]);
        assert_eq!(r.poll_transmit(now), Some((6, 6)));
    }

    #[test]
    fn three_later_acks_trigger_a_fast_retransmit() {
        let now = epoch();
        let mut r = Reliable::new(T0);
        for i in 0..5u32 {
            r.send(i);
        }
        while r.poll_transmit(now).is_some() {}
        r.handle_acks(now, &[1, 2]);
        assert_eq!(r.poll_transmit(now), None);
        r.handle_acks(now, &[3]);
        assert_eq!(r.poll_transmit(now), Some((0, 0)));
    }

    #[test]
    fn receive_delivers_in_order_once() {
        let mut r = Reliable::new(T0);
        assert_eq!(r.receive(1, "b"), Received::New);
        assert_eq!(r.poll_received(), None);
        assert_eq!(r.receive(0, "a"), Received::New);
        assert_eq!(r.receive(0, "a"), Received::Duplicate);
        assert_eq!(r.poll_received(), Some("a"));
        assert_eq!(r.poll_received(), Some("b"));
        assert_eq!(r.receive(0, "a"), Received::Duplicate);
        assert_eq!(r.receive(2 + RECEIVE_WINDOW, "far"), Received::OutOfWindow);
        let mut acks = Vec::new();
        r.take_acks(8, &mut acks);
        assert_eq!(acks, [1, 0], "duplicates are acknowledged once per batch");
        assert!(!r.has_acks());
    }

    #[test]
    fn recent_acks_fill_the_room_left() {
        let mut r: Reliable<&str> = Reliable::new(T0);
        r.receive(0, "reset");
        let mut acks = Vec::new();
        r.take_acks_and_recent(4, &mut acks);
        assert_eq!(acks, [0]);
        // The ack of 0 was lost: it goes again with the next packets, after what is pending.
        r.receive(1, "a");
        r.receive(2, "b");
        let mut acks = Vec::new();
        r.take_acks_and_recent(4, &mut acks);
        assert_eq!(acks, [1, 2, 0]);
        let mut acks = Vec::new();
        r.take_acks_and_recent(2, &mut acks);
        assert_eq!(acks, [2, 1], "newest first, within the room");
        // A standalone ack is only for what is pending.
        assert!(!r.has_acks());
    }

    #[test]
    fn a_skipped_handshake_starts_both_directions_at_one() {
        let mut r: Reliable<&str> = Reliable::new(T0);
        r.send("reset");
        r.skip_handshake();
        assert!(r.is_acked(0));
        assert_eq!(r.send("hello"), 1);
        assert_eq!(r.poll_transmit(epoch()), Some((1, "hello")));
        assert_eq!(r.receive(1, "client hello"), Received::New);
        assert_eq!(r.poll_received(), Some("client hello"));
        assert_eq!(r.receive(0, "reset again"), Received::Duplicate);
    }

    proptest! {
        /// Whatever the network does (loss, duplication, reordering), the receiver delivers each
        /// message exactly once and in order, and the sender learns that everything arrived.
        #[test]
        fn lossy_link_delivers_everything_once_in_order(
            n in 1u32..40,
            seed in any::<u64>(),
            loss in 0u8..60,
        ) {
            let mut rng = seed;
            let mut rand = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng };
            let start = epoch();
            let mut now = start;
            let mut tx: Reliable<u32> = Reliable::new(T0);
            let mut rx: Reliable<u32> = Reliable::new(T0);
            for i in 0..n { tx.send(i); }
            let mut delivered = Vec::new();
            let mut in_flight: Vec<(u32, u32)> = Vec::new();
            for _ in 0..10_000 {
                while let Some(p) = tx.poll_transmit(now) {
                    if rand() % 100 >= u64::from(loss) { in_flight.push(p); }
                    if rand() % 10 == 0 { in_flight.push(p); }
                }
                // Deliver in a random order.
                while !in_flight.is_empty() {
                    let i = (rand() % in_flight.len() as u64) as usize;
                    let (id, m) = in_flight.swap_remove(i);
                    rx.receive(id, m);
                }
                while let Some(m) = rx.poll_received() { delivered.push(m); }
                let mut acks = Vec::new();
                rx.take_acks(8, &mut acks);
                if rand() % 100 >= u64::from(loss) { tx.handle_acks(now, &acks); }
                if tx.all_acked() { break; }
                now = tx.next_timeout().unwrap_or(now).max(now);
            }
            prop_assert!(tx.all_acked());
            prop_assert_eq!(delivered, (0..n).collect::<Vec<_>>());
        }
    }
}
