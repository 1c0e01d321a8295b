//! The fixed-capacity ack list of a control packet.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use crate::{PacketId, WireError};

/// Up to 8 acknowledged message packet ids, as carried by a control packet. `Copy`, no heap.
///
/// 8 is OpenVPN's parse limit (`reliable.h: RELIABLE_ACK_SIZE`): a packet announcing more is
/// dropped. OpenVPN itself piggy-backs at most 4 acks on `P_CONTROL_*` packets
/// (`ssl.h: CONTROL_SEND_ACK_MAX`) and sends at most 8 in a `P_ACK_V1`.
///
/// Dereferences to `&[PacketId]` in wire order.
#[derive(Clone, Copy, Default)]
pub struct AckList {
    len: u8,
    ids: [PacketId; AckList::CAPACITY],
}

impl AckList {
    /// Maximum number of ids. (`reliable.h: RELIABLE_ACK_SIZE`)
    pub const CAPACITY: usize = 8;

    /// An empty list.
    pub const fn new() -> Self {
        AckList {
            len: 0,
            ids: [0; AckList::CAPACITY],
        }
    }

    /// A list holding `ids` in order; fails with [`WireError::AckArrayTooLong`] for more than 8.
    pub fn from_slice(ids: &[PacketId]) -> Result<Self, WireError> {
        let mut list = AckList::new();
        for &id in ids {
            list.push(id)
                .map_err(|_| WireError::AckArrayTooLong { count: ids.len() })?;
        }
        Ok(list)
    }

    /// Appends `id`; fails with [`WireError::AckArrayTooLong`] when the list is full.
    pub fn push(&mut self, id: PacketId) -> Result<(), WireError> {
        let len = usize::from(self.len);
        match self.ids.get_mut(len) {
            Some(slot) => {
                *slot = id;
                self.len += 1;
                Ok(())
            }
            None => Err(WireError::AckArrayTooLong { count: len + 1 }),
        }
    }

    /// Removes all ids.
    pub fn clear(&mut self) {
        *self = AckList::new();
    }

    /// True when no more ids fit.
    pub const fn is_full(&self) -> bool {
        self.len as usize >= AckList::CAPACITY
    }

    /// The ids in wire order.
    pub fn as_slice(&self) -> &[PacketId] {
        self.ids.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Deref for AckList {
    type Target = [PacketId];
    fn deref(&self) -> &[PacketId] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a AckList {
    type Item = &'a PacketId;
    type IntoIter = core::slice::Iter<'a, PacketId>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for AckList {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for AckList {}

impl Hash for AckList {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for AckList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl TryFrom<&[PacketId]> for AckList {
    type Error = WireError;
    fn try_from(ids: &[PacketId]) -> Result<Self, WireError> {
        AckList::from_slice(ids)
    }
}
