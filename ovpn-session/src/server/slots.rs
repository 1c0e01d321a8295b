//! Where sessions live and what they are called: slots whose index is the wire peer-id, each with
//! a generation so that a handle to a session that has ended never reaches the session now in its
//! slot, and the `ovpn-incomingN` numbers. Both are reused lowest first, in `O(log n)`.

use std::collections::BTreeSet;

use ovpn_wire::PeerId;

/// A session of a [`crate::Server`]: its slot (the peer-id it has on the wire) and the slot's
/// generation. A handle outlives its session harmlessly: once the session ends, every call that
/// takes the handle fails (the slot's next session has a new generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerHandle {
    id: PeerId,
    generation: u32,
}

impl PeerHandle {
    /// The peer-id the session has on the wire (P_DATA_V2); reused by a later session.
    pub fn peer_id(self) -> PeerId {
        self.id
    }

    /// How many sessions had the slot before this one.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

impl core::fmt::Display for PeerHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.id.get(), self.generation)
    }
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    /// Boxed: an empty slot, and the vector's spare capacity, cost a pointer, not a session.
    value: Option<Box<T>>,
}

/// Values in numbered slots, with generations.
#[derive(Debug)]
pub(super) struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: BTreeSet<usize>,
    live: usize,
}

impl<T> Slots<T> {
    pub(super) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: BTreeSet::new(),
            live: 0,
        }
    }

    /// How many slots are in use.
    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// The slot the next [`Slots::fill`] should use, and the handle its value will have (None when
    /// every peer-id is taken).
    pub(super) fn vacant(&self) -> Option<(usize, PeerHandle)> {
        let idx = match self.free.first() {
            Some(&i) => i,
            None => self.slots.len(),
        };
        let id = PeerId::new(u32::try_from(idx).ok()?)?;
        let generation = self.slots.get(idx).map_or(0, |s| s.generation);
        Some((idx, PeerHandle { id, generation }))
    }

    /// Puts `value` into the slot [`Slots::vacant`] gave.
    pub(super) fn fill(&mut self, idx: usize, value: T) {
        if idx == self.slots.len() {
            self.slots.push(Slot {
                generation: 0,
                value: None,
            });
        }
        let slot = &mut self.slots[idx];
        debug_assert!(slot.value.is_none());
        if slot.value.replace(Box::new(value)).is_none() {
            self.live += 1;
        }
        self.free.remove(&idx);
    }

    /// The slot of a handle, if its session is still there.
    pub(super) fn find(&self, handle: PeerHandle) -> Option<usize> {
        let idx = handle.id.get() as usize;
        let slot = self.slots.get(idx)?;
        (slot.generation == handle.generation && slot.value.is_some()).then_some(idx)
    }

    pub(super) fn get(&self, idx: usize) -> Option<&T> {
        self.slots.get(idx)?.value.as_deref()
    }

    pub(super) fn get_mut(&mut self, idx: usize) -> Option<&mut T> {
        self.slots.get_mut(idx)?.value.as_deref_mut()
    }

    /// Empties a slot; its next value gets a new generation.
    pub(super) fn remove(&mut self, idx: usize) -> Option<T> {
        let slot = self.slots.get_mut(idx)?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.live -= 1;
        self.free.insert(idx);
        Some(*value)
    }

    /// Every value, by slot.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_deref())
    }
}

/// The `N` of `ovpn-incomingN`: the lowest not in use.
#[derive(Debug)]
pub(super) struct Numbers {
    free: BTreeSet<u32>,
    next: u32,
}

impl Numbers {
    pub(super) fn new() -> Self {
        Self {
            free: BTreeSet::new(),
            next: 1,
        }
    }

    pub(super) fn take(&mut self) -> u32 {
        self.free.pop_first().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        })
    }

    pub(super) fn give_back(&mut self, n: u32) {
        if n + 1 == self.next {
            self.next = n;
            // Shrink past numbers freed earlier, so the free set stays small.
            while self.next > 1 && self.free.remove(&(self.next - 1)) {
                self.next -= 1;
            }
        } else {
            self.free.insert(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_handle_finds_nothing_once_the_slot_is_reused() {
        let mut s = Slots::new();
        let (i, a) = s.vacant().unwrap();
        s.fill(i, "first");
        assert_eq!(s.find(a), Some(i));
        assert_eq!(s.remove(i), Some("first"));
        assert_eq!(s.find(a), None);
        let (j, b) = s.vacant().unwrap();
        assert_eq!(j, i, "the lowest free slot is reused");
        assert_eq!(b.peer_id(), a.peer_id());
        assert_ne!(b, a);
        s.fill(j, "second");
        assert_eq!(
            s.find(a),
            None,
            "the old handle never reaches the new session"
        );
        assert_eq!(s.find(b), Some(j));
        assert_eq!(s.live(), 1);
    }

    #[test]
    fn numbers_are_the_lowest_free() {
        let mut n = Numbers::new();
        let taken: Vec<u32> = (0..5).map(|_| n.take()).collect();
        assert_eq!(taken, [1, 2, 3, 4, 5]);
        n.give_back(2);
        n.give_back(4);
        assert_eq!(n.take(), 2);
        n.give_back(5);
        n.give_back(3);
        assert_eq!(n.take(), 3);
        assert_eq!(n.take(), 4);
        assert_eq!(n.take(), 5);
        assert_eq!(n.take(), 6);
    }
}
