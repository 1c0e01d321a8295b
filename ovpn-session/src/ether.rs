//! Ethernet frames as ethernet mode (`mode=ethernet`, TAP) carries them: the addresses a server
//! switches by, and the IP packet inside for `change-tcp-mss`. Reads only, no allocation.

use core::fmt;

/// The Ethernet header: destination, source, EtherType.
pub const HEADER_LEN: usize = 14;

/// What a TAP tunnel carries beyond its MTU: OpenVPN's `TAP_MTU_EXTRA_DEFAULT` (mtu.h), room for
/// the Ethernet header and VLAN tags, so that a 1500-byte inner MTU carries 1514-byte frames.
pub const TAP_MTU_EXTRA: usize = 32;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IEEE 802.1Q and 802.1ad tags: four bytes before the inner EtherType.
const ETHERTYPE_VLAN: [u16; 2] = [0x8100, 0x88a8];

/// A MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// A group address (broadcast or multicast): the I/G bit of the first byte.
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// The all-zero address, which no station has.
    pub fn is_zero(self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for MacAddr {
    /// RouterOS's form: `02:00:5E:10:00:01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn mac_at(frame: &[u8], at: usize) -> Option<MacAddr> {
    frame.get(at..at + 6)?.try_into().ok().map(MacAddr)
}

/// The destination address of a frame (None when it is shorter than an Ethernet header).
pub fn destination(frame: &[u8]) -> Option<MacAddr> {
    (frame.len() >= HEADER_LEN)
        .then(|| mac_at(frame, 0))
        .flatten()
}

/// The source address of a frame (None when it is shorter than an Ethernet header).
pub fn source(frame: &[u8]) -> Option<MacAddr> {
    (frame.len() >= HEADER_LEN)
        .then(|| mac_at(frame, 6))
        .flatten()
}

/// The IPv4 or IPv6 packet a frame carries (after up to two VLAN tags), for `change-tcp-mss`.
pub(crate) fn ip_payload_mut(frame: &mut [u8]) -> Option<&mut [u8]> {
    let mut at = 12;
    for _ in 0..3 {
        let t = frame.get(at..at + 2)?;
        let ethertype = u16::from_be_bytes([t[0], t[1]]);
        if ETHERTYPE_VLAN.contains(&ethertype) {
            at += 4;
            continue;
        }
        return match ethertype {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => frame.get_mut(at + 2..),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_and_the_ip_inside() {
        let mut f = vec![0xff; 6];
        f.extend([2, 0, 0, 0, 0, 1]);
        f.extend([0x81, 0x00, 0x00, 0x0a, 0x08, 0x00]);
        f.extend([0x45, 0, 0, 20]);
        assert_eq!(destination(&f), Some(MacAddr::BROADCAST));
        assert!(MacAddr::BROADCAST.is_group());
        let src = source(&f).unwrap();
        assert!(!src.is_group());
        assert_eq!(src.to_string(), "02:00:00:00:00:01");
        assert_eq!(
            ip_payload_mut(&mut f).map(|p| p[0]),
            Some(0x45),
            "past a VLAN tag"
        );
        f[16] = 0x08;
        f[17] = 0x06;
        assert_eq!(ip_payload_mut(&mut f), None, "ARP carries no IP packet");
        assert_eq!(source(&f[..13]), None);
    }

    proptest! {
        /// Any bytes: no panic, and what is found lies inside the frame.
        #[test]
        fn never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let n = bytes.len();
            prop_assert_eq!(destination(&bytes).is_some(), n >= HEADER_LEN);
            prop_assert_eq!(source(&bytes).is_some(), n >= HEADER_LEN);
            if let Some(p) = ip_payload_mut(&mut bytes) {
                prop_assert!(p.len() + HEADER_LEN <= n);
            }
        }
    }
}
