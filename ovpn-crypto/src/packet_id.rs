//! Packet ids: the send counter and the receive replay window (`packet_id.c`, `packet_id.h`).

use std::time::{Duration, Instant};

use crate::{CryptoError, ReplayError};

/// The send counter reaching this value asks for a renegotiation (`packet_id.h`
/// `PACKET_ID_WRAP_TRIGGER`; `ssl.c` `tls_process` soft-resets when
/// `packet_id_close_to_wrapping`).
pub const PACKET_ID_WRAP_TRIGGER: u32 = 0xFF00_0000;

/// A received packet id: the 32-bit counter and, in the long form used by tls-auth, tls-crypt
/// and `--secret`, the sender's 32-bit Unix time (0 in the short form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PacketId {
    /// Timestamp (long form), the major part of the ordering; 0 for the short form.
    pub time: u32,
    /// Counter, starting at 1.
    pub id: u32,
}

impl PacketId {
    /// A short-form id (no timestamp).
    pub const fn short(id: u32) -> Self {
        PacketId { time: 0, id }
    }
}

/// The sending side of packet ids (`packet_id.c` `packet_id_send_update`).
///
/// Ids start at 1 and go up by one per packet; `0xFFFFFFFF` is the last short-form id, after
/// which [`next_short`](Self::next_short) fails with [`CryptoError::PacketIdExhausted`]. The
/// long form's timestamp is latched at the first packet and kept (OpenVPN sends the same time in
/// every packet of a session); the counter may restart at 1 only if the time has moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketIdSend {
    id: u32,
    time: u32,
}

impl PacketIdSend {
    /// A fresh counter: the next id is 1, the time is latched on first use.
    pub const fn new() -> Self {
        PacketIdSend { id: 0, time: 0 }
    }

    /// The last id handed out (0 before the first).
    pub const fn last_id(&self) -> u32 {
        self.id
    }

    /// The latched long-form time (0 until the first long-form id).
    pub const fn time(&self) -> u32 {
        self.time
    }

    /// Sets the state so the next id is `last_id + 1` with timestamp `time` (0 = latch on next
    /// use). A 2.6 stateless server restarts its tls-auth/tls-crypt counter this way:
    /// `set(0, 0)` before answering a reset (`mudp.c`, `packet_id.h` `reset_packet_id_send`),
    /// `set(1, time)` when it creates the session (`ssl.c` `session_skip_to_pre_start`).
    pub fn set(&mut self, last_id: u32, time: u32) {
        self.id = last_id;
        self.time = time;
    }

    /// True once the counter reached [`PACKET_ID_WRAP_TRIGGER`]: renegotiate now.
    pub const fn near_wrap(&self) -> bool {
        self.id >= PACKET_ID_WRAP_TRIGGER
    }

    /// The next short-form id. Fails once `0xFFFFFFFF` was used; the state is then unchanged.
    pub fn next_short(&mut self) -> Result<u32, CryptoError> {
        if self.id == u32::MAX {
            return Err(CryptoError::PacketIdExhausted);
        }
        self.id += 1;
        Ok(self.id)
    }

    /// The next long-form id. `unix_time` is latched on first use; after `0xFFFFFFFF` the
    /// counter restarts at 1 with the new time only if `unix_time` is later than the latched one.
    pub fn next_long(&mut self, unix_time: u32) -> Result<PacketId, CryptoError> {
        if self.time == 0 {
            self.time = unix_time;
        }
        if self.id == u32::MAX {
            if unix_time <= self.time {
                return Err(CryptoError::PacketIdExhausted);
            }
            self.time = unix_time;
            self.id = 0;
        }
        self.id += 1;
        Ok(PacketId {
            time: self.time,
            id: self.id,
        })
    }
}

/// Seconds between reaps of expired window slots (`packet_id.h` `SEQ_REAP_INTERVAL`).
const SEQ_REAP_INTERVAL: u32 = 5;
/// Slot value for an id not received yet (`packet_id.c` `SEQ_UNSEEN`).
const SEQ_UNSEEN: u32 = 0;
/// Slot value for an id that can no longer be accepted (`packet_id.c` `SEQ_EXPIRED`).
const SEQ_EXPIRED: u32 = 1;
/// Offset added to receive times so that they never collide with the two markers.
const TIME_OFFSET: u32 = 2;

/// The receive replay window (`packet_id.c` `packet_id_test`, `packet_id_add`,
/// `packet_id_reap`), configured like OpenVPN's `--replay-window n t` (default 64 packets, 15 s).
///
/// Rules, with `max` the highest id accepted so far:
/// - id 0 is refused;
/// - an id above `max` is accepted and slides the window;
/// - an id in `(max - n, max]` is accepted once;
/// - older ids are refused ([`ReplayError::TooOld`]);
/// - `t` seconds after a packet arrived, ids at or below it that have not arrived yet are refused
///   ([`ReplayError::Expired`]; checked every 5 s; `t = 0` disables this rule);
/// - long form: a newer timestamp restarts the window, an older one is refused;
/// - `n = 0`: ids must come strictly in sequence (each the previous plus one).
///
/// [`check`](Self::check) tests without changing anything (a cheap early reject before the
/// packet is authenticated); [`accept`](Self::accept) tests again and records the id; call it
/// only for authenticated packets. The window allocates its `n` slots once, at construction.
#[derive(Clone)]
pub struct ReplayWindow {
    /// Slots indexed by `id & mask`: `SEQ_UNSEEN`, `SEQ_EXPIRED` or `TIME_OFFSET +` seconds
    /// since `epoch` when the id arrived. A power of two at least `window` long (a mask is
    /// cheaper than a division per packet); only the `len` newest are part of the window.
    slots: Box<[u32]>,
    /// `slots.len() - 1`.
    mask: u32,
    /// Window size `n` (OpenVPN's `seq_backtrack`).
    window: u32,
    /// How many ids are in the window (OpenVPN's `CIRC_LIST_SIZE`), at most `window`.
    len: u32,
    /// Highest id in the window (`p->id`).
    max: u32,
    /// Timestamp of the current sequence (`p->time`).
    time: u32,
    time_backtrack: u32,
    /// Time base for the slot times, set on first use.
    epoch: Option<Instant>,
    last_reap: Option<u32>,
}

impl core::fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("window", &self.window)
            .field("time_backtrack", &self.time_backtrack)
            .field("max", &self.max)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// OpenVPN's default window: 64 packets (`packet_id.h` `DEFAULT_SEQ_BACKTRACK`).
    pub const DEFAULT_WINDOW: u32 = 64;
    /// OpenVPN's default time limit: 15 s (`packet_id.h` `DEFAULT_TIME_BACKTRACK`).
    pub const DEFAULT_TIME: Duration = Duration::from_secs(15);
    /// Largest window (`packet_id.h` `MAX_SEQ_BACKTRACK`).
    pub const MAX_WINDOW: u32 = 65536;
    /// Largest time limit (`packet_id.h` `MAX_TIME_BACKTRACK`).
    pub const MAX_TIME: Duration = Duration::from_secs(600);

    /// The default window (64 packets, 15 s).
    pub fn new() -> Self {
        Self::build(Self::DEFAULT_WINDOW, 15)
    }

    /// A window of `window` packets and a time limit of `time` (whole seconds are used, as
    /// OpenVPN's `--replay-window n t`). Fails with [`CryptoError::BadReplayWindow`] outside
    /// 0..=65536 packets and 0..=600 s.
    pub fn with_config(window: u32, time: Duration) -> Result<Self, CryptoError> {
        if window > Self::MAX_WINDOW || time > Self::MAX_TIME {
            return Err(CryptoError::BadReplayWindow);
        }
        // Bounded by MAX_TIME above.
        let secs = u32::try_from(time.as_secs()).map_err(|_| CryptoError::BadReplayWindow)?;
        Ok(Self::build(window, secs))
    }

    fn build(window: u32, time_backtrack: u32) -> Self {
        let size = if window == 0 {
            0
        } else {
            window.next_power_of_two()
        };
        ReplayWindow {
            slots: vec![SEQ_UNSEEN; size as usize].into_boxed_slice(),
            mask: size.saturating_sub(1),
            window,
            len: 0,
            max: 0,
            time: 0,
            time_backtrack,
            epoch: None,
            last_reap: None,
        }
    }

    /// Window size in packets.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// The highest packet id accepted so far (0 before the first).
    pub fn max_id(&self) -> u32 {
        self.max
    }

    /// Slot of the id `diff` below `max`; `diff < len` must hold.
    fn slot_index(&self, diff: u32) -> usize {
        (self.max.wrapping_sub(diff) & self.mask) as usize
    }

    /// Whether `pid` would be accepted now, without recording it (`packet_id_test`). May accept
    /// an id that [`accept`](Self::accept) refuses a moment later because time-expired slots are
    /// only reaped there; never the reverse.
    pub fn check(&self, pid: PacketId) -> Result<(), ReplayError> {
        if pid.id == 0 {
            return Err(ReplayError::Zero);
        }
        if self.window == 0 {
            // Strict sequence (packet_id_test "non-backtrack mode").
            return if pid.time == self.time {
                if self.max == 0 || Some(pid.id) == self.max.checked_add(1) {
                    Ok(())
                } else if pid.id <= self.max {
                    Err(ReplayError::Duplicate)
                } else {
                    Err(ReplayError::OutOfSequence)
                }
            } else if pid.time < self.time {
                Err(ReplayError::OldTimestamp)
            } else if pid.id == 1 {
                Ok(())
            } else {
                Err(ReplayError::OutOfSequence)
            };
        }
        if pid.time < self.time {
            return Err(ReplayError::OldTimestamp);
        }
        if pid.time > self.time || pid.id > self.max {
            return Ok(());
        }
        let diff = self.max - pid.id;
        if diff >= self.len {
            return Err(ReplayError::TooOld);
        }
        match self.slots.get(self.slot_index(diff)) {
            Some(&SEQ_UNSEEN) => Ok(()),
            Some(&SEQ_EXPIRED) => Err(ReplayError::Expired),
            _ => Err(ReplayError::Duplicate),
        }
    }

    /// Tests `pid` and, if it is acceptable, records it (`crypto.c` `crypto_check_replay`:
    /// reap, test, add). `now` drives the time limit; it must not go backwards.
    pub fn accept(&mut self, now: Instant, pid: PacketId) -> Result<(), ReplayError> {
        let now_secs = self.seconds(now);
        if self
            .last_reap
            .is_none_or(|last| last.saturating_add(SEQ_REAP_INTERVAL) <= now_secs)
        {
            self.reap(now_secs);
        }
        self.check(pid)?;
        self.add(pid, now_secs);
        Ok(())
    }

    /// `now` in whole seconds since the first call, offset past the slot markers.
    fn seconds(&mut self, now: Instant) -> u32 {
        let epoch = *self.epoch.get_or_insert(now);
        let secs = now.saturating_duration_since(epoch).as_secs();
        u32::try_from(secs)
            .unwrap_or(u32::MAX)
            .saturating_add(TIME_OFFSET)
    }

    /// `packet_id_reap`: from the newest slot backwards, once a received slot is older than the
    /// time limit, mark it and every older slot expired (stopping at an already expired one).
    fn reap(&mut self, now_secs: u32) {
        if self.time_backtrack != 0 {
            let mut expire = false;
            for diff in 0..self.len {
                let index = self.slot_index(diff);
                let Some(slot) = self.slots.get_mut(index) else {
                    break;
                };
                if *slot == SEQ_EXPIRED {
                    break;
                }
                if !expire
                    && *slot != SEQ_UNSEEN
                    && slot.saturating_add(self.time_backtrack) < now_secs
                {
                    expire = true;
                }
                if expire {
                    *slot = SEQ_EXPIRED;
                }
            }
        }
        self.last_reap = Some(now_secs);
    }

    /// `packet_id_add`.
    fn add(&mut self, pid: PacketId, now_secs: u32) {
        let cap = self.window;
        if cap == 0 {
            self.time = pid.time;
            self.max = pid.id;
            return;
        }
        // A newer timestamp, or an id beyond the whole window, starts a new sequence.
        if self.len == 0 || pid.time > self.time || (pid.id >= cap && pid.id - cap > self.max) {
            self.time = pid.time;
            self.max = pid.id.saturating_sub(cap);
            self.len = 0;
        }
        // Slide forward, clearing the slots that come into the window.
        while self.max < pid.id {
            self.max += 1;
            let index = (self.max & self.mask) as usize;
            if let Some(slot) = self.slots.get_mut(index) {
                *slot = SEQ_UNSEEN;
            }
            self.len = (self.len + 1).min(cap);
        }
        let diff = self.max - pid.id;
        if diff < self.len {
            let index = self.slot_index(diff);
            if let Some(slot) = self.slots.get_mut(index) {
                *slot = now_secs;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests' one clock read; everything else is this instant plus durations.
    #[allow(
        clippy::disallowed_methods,
        reason = "test harness: a base instant for `now` arguments"
    )]
    fn now() -> Instant {
        Instant::now()
    }

    #[test]
    fn send_counter_starts_at_one_and_stops_at_max() {
        let mut s = PacketIdSend::new();
        assert_eq!(s.next_short(), Ok(1));
        assert_eq!(s.next_short(), Ok(2));
        s.set(PACKET_ID_WRAP_TRIGGER - 1, 0);
        assert!(!s.near_wrap());
        assert_eq!(s.next_short(), Ok(PACKET_ID_WRAP_TRIGGER));
        assert!(s.near_wrap());
        s.set(u32::MAX - 1, 0);
        assert_eq!(s.next_short(), Ok(u32::MAX));
        assert_eq!(s.next_short(), Err(CryptoError::PacketIdExhausted));
        assert_eq!(s.last_id(), u32::MAX);
    }

    /// test_packet_id.c `test_packet_id_write_long` and `_long_wrap`.
    #[test]
    fn long_form_latches_time_and_rolls_over_only_when_time_moved() {
        let mut s = PacketIdSend::new();
        assert_eq!(s.next_long(1000), Ok(PacketId { time: 1000, id: 1 }));
        assert_eq!(s.next_long(1005), Ok(PacketId { time: 1000, id: 2 }));
        s.set(u32::MAX, 1000);
        assert_eq!(s.next_long(1000), Err(CryptoError::PacketIdExhausted));
        assert_eq!(s.next_long(1001), Ok(PacketId { time: 1001, id: 1 }));
    }

    #[test]
    fn window_basics() {
        let t0 = now();
        let mut w = ReplayWindow::new();
        assert_eq!(w.accept(t0, PacketId::short(0)), Err(ReplayError::Zero));
        assert_eq!(w.accept(t0, PacketId::short(5)), Ok(()));
        assert_eq!(
            w.accept(t0, PacketId::short(5)),
            Err(ReplayError::Duplicate)
        );
        assert_eq!(w.accept(t0, PacketId::short(3)), Ok(()));
        assert_eq!(w.accept(t0, PacketId::short(100)), Ok(()));
        // 100 - 63 = 37 is the oldest acceptable id.
        assert_eq!(w.check(PacketId::short(37)), Ok(()));
        assert_eq!(w.check(PacketId::short(36)), Err(ReplayError::TooOld));
        assert_eq!(w.accept(t0, PacketId::short(37)), Ok(()));
        assert_eq!(
            w.accept(t0, PacketId::short(37)),
            Err(ReplayError::Duplicate)
        );
        assert_eq!(w.max_id(), 100);
    }

    #[test]
    fn window_time_rule() {
        let t0 = now();
        let mut w = ReplayWindow::with_config(64, Duration::from_secs(15)).unwrap();
        w.accept(t0, PacketId::short(10)).unwrap();
        // 9 is still acceptable within the time limit ...
        assert_eq!(w.check(PacketId::short(9)), Ok(()));
        // ... but not once 10 arrived more than 15 s ago.
        let later = t0 + Duration::from_secs(17);
        assert_eq!(
            w.accept(later, PacketId::short(9)),
            Err(ReplayError::Expired)
        );
        // Newer ids still pass.
        assert_eq!(w.accept(later, PacketId::short(11)), Ok(()));
        // Time limit 0 disables expiry.
        let mut w = ReplayWindow::with_config(64, Duration::ZERO).unwrap();
        w.accept(t0, PacketId::short(10)).unwrap();
        assert_eq!(
            w.accept(t0 + Duration::from_secs(500), PacketId::short(9)),
            Ok(())
        );
    }

    #[test]
    fn window_long_form() {
        let t0 = now();
        let mut w = ReplayWindow::new();
        w.accept(t0, PacketId { time: 100, id: 7 }).unwrap();
        assert_eq!(
            w.check(PacketId { time: 99, id: 8 }),
            Err(ReplayError::OldTimestamp)
        );
        // A newer time restarts the sequence (OpenVPN restarting its counter).
        assert_eq!(w.accept(t0, PacketId { time: 101, id: 1 }), Ok(()));
        assert_eq!(
            w.accept(t0, PacketId { time: 101, id: 1 }),
            Err(ReplayError::Duplicate)
        );
        assert_eq!(
            w.check(PacketId { time: 100, id: 8 }),
            Err(ReplayError::OldTimestamp)
        );
    }

    #[test]
    fn strict_sequence_when_window_is_zero() {
        let t0 = now();
        let mut w = ReplayWindow::with_config(0, Duration::ZERO).unwrap();
        assert_eq!(w.accept(t0, PacketId::short(4)), Ok(()));
        assert_eq!(
            w.accept(t0, PacketId::short(6)),
            Err(ReplayError::OutOfSequence)
        );
        assert_eq!(
            w.accept(t0, PacketId::short(4)),
            Err(ReplayError::Duplicate)
        );
        assert_eq!(w.accept(t0, PacketId::short(5)), Ok(()));
    }

    #[test]
    fn config_limits() {
        assert!(ReplayWindow::with_config(65536, Duration::from_secs(600)).is_ok());
        assert_eq!(
            ReplayWindow::with_config(65537, Duration::ZERO).err(),
            Some(CryptoError::BadReplayWindow)
        );
        assert_eq!(
            ReplayWindow::with_config(64, Duration::from_secs(601)).err(),
            Some(CryptoError::BadReplayWindow)
        );
    }
}
