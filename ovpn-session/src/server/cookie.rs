//! The stateless session start of OpenVPN 2.6 over UDP: a client's first packet is answered
//! without keeping anything, and state is made only when the client's next packet proves that
//! it received the answer at the address it claims.
//!
//! The server's session id in the answer is a cookie: the first 8 bytes of an HMAC-SHA256, under a
//! key made at start, of a time slot, the client's address and the client's session id
//! (`ssl_pkt.c` `calculate_session_id_hmac`). A slot is half the hand-window (30 s); a cookie
//! is accepted in its own slot and the two before (`check_session_hmac_and_pkt_id`: offsets
//! -2..=0), so between 60 and 90 s. The client's third packet (`P_ACK_V1`, `P_CONTROL_V1` or
//! `P_CONTROL_WKC_V1`, key id 0) must acknowledge the cookie as the remote session id, may
//! acknowledge only messages 0 and 1, and may itself be message 0 or 1. The comparison is in
//! constant time, and a cookie that does not match is refused (CVE-2025-13086 was 2.6.15
//! accepting every cookie through an inverted comparison: the tests check the refusals).

use std::net::SocketAddr;
use std::time::Duration;

use ovpn_wire::{ControlPacket, KeyId, Opcode, SessionId};
use ring::hmac;
use subtle::ConstantTimeEq as _;

use crate::random::{Random, array};

/// Why a packet that is not a session start was not taken as the third packet of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotThird {
    /// Not `P_ACK_V1`/`P_CONTROL_V1`/`P_CONTROL_WKC_V1` with key id 0 acknowledging something:
    /// nothing that could start a session.
    NotAStart,
    /// Shaped like a third packet, but its cookie is wrong or stale, or its ids are past the
    /// three-way handshake.
    BadCookie,
}

/// The cookies of one server: the key and the slot length.
pub(crate) struct Cookies {
    key: hmac::Key,
    slot_secs: u64,
}

impl core::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cookies")
            .field("slot_secs", &self.slot_secs)
            .finish_non_exhaustive()
    }
}

impl Cookies {
    /// A new key from `random`; slots of half of `hand_window` (rounded up, at least 1 s).
    pub(crate) fn new(random: &dyn Random, hand_window: Duration) -> Self {
        let key: [u8; 32] = array(random);
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            slot_secs: hand_window.as_secs().div_ceil(2).max(1),
        }
    }

    /// The cookie for `client_sid` at `from`, `offset` slots from the one of `unix_secs`.
    fn at(
        &self,
        unix_secs: u64,
        offset: i64,
        from: SocketAddr,
        client_sid: SessionId,
    ) -> SessionId {
        let slot = (unix_secs / self.slot_secs).wrapping_add_signed(offset);
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&slot.to_be_bytes());
        match from {
            SocketAddr::V4(a) => {
                ctx.update(&[4]);
                ctx.update(&a.ip().octets());
            }
            SocketAddr::V6(a) => {
                ctx.update(&[6]);
                ctx.update(&a.ip().octets());
            }
        }
        ctx.update(&from.port().to_be_bytes());
        ctx.update(&client_sid.0);
        let tag = ctx.sign();
        let mut sid = [0u8; 8];
        sid.copy_from_slice(&tag.as_ref()[..8]);
        SessionId(sid)
    }

    /// The cookie to answer a session start with now.
    pub(crate) fn issue(
        &self,
        unix_secs: u64,
        from: SocketAddr,
        client_sid: SessionId,
    ) -> SessionId {
        self.at(unix_secs, 0, from, client_sid)
    }

    /// Whether `cookie` is one we issued to `client_sid` at `from` in this slot or the two
    /// before it.
    pub(crate) fn is_valid(
        &self,
        unix_secs: u64,
        from: SocketAddr,
        client_sid: SessionId,
        cookie: SessionId,
    ) -> bool {
        // Every offset is computed, whichever matches, so the time taken says nothing.
        let valid = (-2..=0).fold(subtle::Choice::from(0), |ok, offset| {
            let expected = self.at(unix_secs, offset, from, client_sid);
            ok | expected.0.ct_eq(&cookie.0)
        });
        valid.into()
    }

    /// Checks the plain (unwrapped) third packet of a session start from `from`; on success,
    /// returns the client's session id and our cookie.
    pub(crate) fn check_third(
        &self,
        unix_secs: u64,
        from: SocketAddr,
        plain: &[u8],
    ) -> Result<(SessionId, SessionId), NotThird> {
        let pkt = ControlPacket::parse(plain).map_err(|_| NotThird::NotAStart)?;
        let shape = matches!(
            pkt.opcode,
            Opcode::AckV1 | Opcode::ControlV1 | Opcode::ControlWkcV1
        ) && pkt.key_id == KeyId::ZERO;
        let Some(cookie) = pkt.remote_session_id.filter(|_| shape) else {
            return Err(NotThird::NotAStart);
        };
        // Anything past message 1 either way is not part of a three-way handshake.
        let past =
            pkt.acks.as_slice().iter().any(|&id| id > 1) || pkt.message_id.is_some_and(|id| id > 1);
        if past || !self.is_valid(unix_secs, from, pkt.session_id, cookie) {
            return Err(NotThird::BadCookie);
        }
        Ok((pkt.session_id, cookie))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use ovpn_wire::AckList;

    const T: u64 = 1_795_737_600;

    fn cookies(seed: u64) -> Cookies {
        Cookies::new(&SeededRandom::new(seed), Duration::from_secs(60))
    }

    fn addr() -> SocketAddr {
        "192.0.2.7:40000".parse().unwrap()
    }

    fn third(op: Opcode, client: SessionId, cookie: SessionId, acks: &[u32], id: u32) -> Vec<u8> {
        let acks = AckList::from_slice(acks).unwrap();
        let pkt = if op == Opcode::AckV1 {
            ControlPacket::ack(KeyId::ZERO, client, acks, cookie)
        } else {
            ControlPacket::new(op, KeyId::ZERO, client, id, b"hello").with_acks(acks, cookie)
        };
        let mut v = vec![0; pkt.encoded_len()];
        let n = pkt.write(&mut v).unwrap();
        v.truncate(n);
        v
    }

    #[test]
    fn a_cookie_is_valid_for_its_slot_and_the_two_before_only() {
        let c = cookies(1);
        let sid = SessionId([1; 8]);
        let cookie = c.issue(T, addr(), sid);
        assert_eq!(
            cookie,
            c.issue(T + 1, addr(), sid),
            "same slot, same cookie"
        );
        for later in [0, 29, 30, 59, 60, 89] {
            assert!(
                c.is_valid(T + later, addr(), sid, cookie),
                "{later} s later"
            );
        }
        // T is a slot boundary (1_795_737_600 is a multiple of 30): 90 s on is three slots.
        for later in [90, 120, 100_000] {
            assert!(
                !c.is_valid(T + later, addr(), sid, cookie),
                "stale after {later} s"
            );
        }
        // A cookie from the future (a slot after now) is not accepted either.
        assert!(!c.is_valid(T - 30, addr(), sid, cookie));
    }

    #[test]
    fn a_wrong_or_foreign_cookie_is_refused() {
        let c = cookies(1);
        let sid = SessionId([1; 8]);
        let cookie = c.issue(T, addr(), sid);
        for bit in 0..64 {
            let mut wrong = cookie;
            wrong.0[bit / 8] ^= 1 << (bit % 8);
            assert!(!c.is_valid(T, addr(), sid, wrong), "bit {bit} flipped");
        }
        assert!(!c.is_valid(T, addr(), sid, SessionId([0; 8])));
        // Another server's key, another client address or port, another client session id.
        assert!(!cookies(2).is_valid(T, addr(), sid, cookie));
        assert!(!c.is_valid(T, "192.0.2.8:40000".parse().unwrap(), sid, cookie));
        assert!(!c.is_valid(T, "192.0.2.7:40001".parse().unwrap(), sid, cookie));
        assert!(!c.is_valid(T, addr(), SessionId([2; 8]), cookie));
        let v6: SocketAddr = "[2001:db8::7]:40000".parse().unwrap();
        assert!(c.is_valid(T, v6, sid, c.issue(T, v6, sid)));
        assert!(!c.is_valid(T, v6, sid, cookie));
    }

    #[test]
    fn the_third_packet_must_ack_the_cookie_within_the_handshake() {
        let c = cookies(3);
        let client = SessionId([5; 8]);
        let cookie = c.issue(T, addr(), client);
        for op in [Opcode::AckV1, Opcode::ControlV1, Opcode::ControlWkcV1] {
            let p = third(op, client, cookie, &[0], 1);
            assert_eq!(c.check_third(T, addr(), &p), Ok((client, cookie)), "{op:?}");
        }
        assert!(
            c.check_third(
                T,
                addr(),
                &third(Opcode::ControlV1, client, cookie, &[1, 0], 0)
            )
            .is_ok()
        );
        // Past the handshake: an ack of message 2, or message 2 itself.
        assert_eq!(
            c.check_third(
                T,
                addr(),
                &third(Opcode::ControlV1, client, cookie, &[0, 2], 1)
            ),
            Err(NotThird::BadCookie)
        );
        assert_eq!(
            c.check_third(
                T,
                addr(),
                &third(Opcode::ControlV1, client, cookie, &[0], 2)
            ),
            Err(NotThird::BadCookie)
        );
        // A wrong cookie, or none at all (no acks), or another opcode or key id.
        let wrong = SessionId([9; 8]);
        assert_eq!(
            c.check_third(T, addr(), &third(Opcode::AckV1, client, wrong, &[0], 0)),
            Err(NotThird::BadCookie)
        );
        let bare = ControlPacket::new(Opcode::ControlV1, KeyId::ZERO, client, 1, b"x");
        let mut v = vec![0; bare.encoded_len()];
        bare.write(&mut v).unwrap();
        assert_eq!(c.check_third(T, addr(), &v), Err(NotThird::NotAStart));
        let soft = third(Opcode::SoftResetV1, client, cookie, &[0], 0);
        assert_eq!(c.check_third(T, addr(), &soft), Err(NotThird::NotAStart));
        assert_eq!(c.check_third(T, addr(), &[0x20]), Err(NotThird::NotAStart));
    }
}
