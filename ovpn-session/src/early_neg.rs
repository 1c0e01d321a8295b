//! Early negotiation: the TLV list a 2.6 server puts in its hard reset to a tls-crypt-v2
//! client that signalled support (`ssl_pkt.h` `TLV_TYPE_EARLY_NEG_FLAGS`,
//! `EARLY_NEG_FLAG_RESEND_WKC`; `ssl.c` `parse_early_negotiation_tlvs`).
//!
//! ```text
//! TLV = type u16 ‖ length u16 ‖ value (length bytes)      (all big endian)
//! EARLY_NEG_FLAGS: type 0x0001, length 2, value u16 flags; flag 0x0001 = RESEND_WKC
//! ```

/// `TLV_TYPE_EARLY_NEG_FLAGS`.
const EARLY_NEG_FLAGS: u16 = 0x0001;
/// `EARLY_NEG_FLAG_RESEND_WKC`: send WKc again with the third packet (`P_CONTROL_WKC_V1`).
const RESEND_WKC: u16 = 0x0001;

/// A hard reset's payload that is not a well-formed TLV list (2.6: "Early negotiation
/// malformed packet", which ends the handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("early negotiation: malformed TLV list at byte {at}")]
pub(crate) struct Malformed {
    at: usize,
}

/// What a server's early negotiation asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct EarlyNeg {
    /// Resend WKc in the third packet.
    pub(crate) resend_wkc: bool,
}

/// Parses a hard reset's payload (empty: nothing asked). Unknown types are skipped by length.
pub(crate) fn parse(mut payload: &[u8]) -> Result<EarlyNeg, Malformed> {
    let total = payload.len();
    let mut neg = EarlyNeg::default();
    while !payload.is_empty() {
        let at = total - payload.len();
        let [t0, t1, l0, l1, rest @ ..] = payload else {
            return Err(Malformed { at });
        };
        let (kind, len) = (
            u16::from_be_bytes([*t0, *t1]),
            usize::from(u16::from_be_bytes([*l0, *l1])),
        );
        let (value, next) = rest.split_at_checked(len).ok_or(Malformed { at: at + 2 })?;
        if kind == EARLY_NEG_FLAGS {
            let [f0, f1] = value else {
                return Err(Malformed { at: at + 2 });
            };
            if u16::from_be_bytes([*f0, *f1]) & RESEND_WKC != 0 {
                neg.resend_wkc = true;
            }
        }
        payload = next;
    }
    Ok(neg)
}

/// The payload a server answers an early-negotiating client with: resend WKc
/// (`ssl_pkt.c` `tls_reset_standalone`).
pub(crate) const RESEND_WKC_TLV: [u8; 6] = [0, 1, 0, 2, 0, 1];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_answer_and_its_variants() {
        assert_eq!(parse(&RESEND_WKC_TLV), Ok(EarlyNeg { resend_wkc: true }));
        assert_eq!(parse(&[]), Ok(EarlyNeg::default()));
        assert_eq!(parse(&[0, 1, 0, 2, 0, 0]), Ok(EarlyNeg::default()));
        // An unknown type is skipped, then the flags are read.
        assert_eq!(
            parse(&[0, 9, 0, 3, 1, 2, 3, 0, 1, 0, 2, 0, 1]),
            Ok(EarlyNeg { resend_wkc: true })
        );
        // Flags of the wrong length, a value cut short, a header cut short.
        assert!(parse(&[0, 1, 0, 3, 0, 1, 0]).is_err());
        assert!(parse(&[0, 9, 0, 4, 1]).is_err());
        assert!(parse(&[0, 1, 0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_payload_parses_or_is_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Err(e) = parse(&bytes) {
                proptest::prop_assert!(e.at <= bytes.len());
            }
        }
    }
}
