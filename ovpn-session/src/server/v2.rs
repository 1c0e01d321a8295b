//! tls-crypt-v2 on the server: reading a client's first packet (a `P_CONTROL_HARD_RESET_CLIENT_V3`,
//! or over UDP the `P_CONTROL_WKC_V1` that completes a stateless start) without keeping any
//! state: WKc unwrapped with the server key, the key's age checked, the packet checked with the
//! client's key (`tls_crypt.c` `tls_crypt_v2_extract_client_key`, `ssl_pkt.c`
//! `read_control_auth`, `mudp.c` `do_pre_decrypt_check`).

use ovpn_crypto::{Metadata, PacketId, TlsCrypt, TlsCryptV2Error};

use super::config::TlsCryptV2Server;
pub(super) use crate::wrap::carries_wkc;
use crate::wrap::{EARLY_NEG_MASK, EARLY_NEG_START, Wrap};

/// What a tls-crypt-v2 client's first packet gave.
#[derive(Debug)]
pub(super) struct V2Start {
    /// The client's key, as this server's side of its tls-crypt (fresh replay state).
    pub(super) wrap: Wrap,
    /// The packet without its protection.
    pub(super) plain: Vec<u8>,
    /// What the client's key says about itself.
    pub(super) metadata: Metadata,
    /// The packet id said the client can resend WKc (early negotiation).
    pub(super) early_neg: bool,
}

/// Why a tls-crypt-v2 start was dropped (logged, never answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum V2Refusal {
    /// WKc is malformed or does not authenticate under our server key.
    #[error("can not unwrap tls-crypt-v2 client key: {0}")]
    Unwrap(TlsCryptV2Error),
    /// `tls-crypt-v2-max-age`: the key's metadata holds no time of making.
    #[error("tls-crypt-v2 client key has no timestamp (tls-crypt-v2-max-age)")]
    NoTimestamp,
    /// `tls-crypt-v2-max-age`: the key is older than allowed.
    #[error("tls-crypt-v2 client key is too old: made {days} days ago (tls-crypt-v2-max-age)")]
    TooOld {
        /// How old it is.
        days: u64,
    },
    /// The packet does not authenticate under the unwrapped key.
    #[error("tls-crypt unwrapping failed with the client's own key")]
    Packet,
}

/// Reads a tls-crypt-v2 client's first packet (`packet` as received, WKc at its end).
pub(super) fn open(
    config: &TlsCryptV2Server,
    unix_now: u64,
    packet: &[u8],
) -> Result<V2Start, V2Refusal> {
    let (body, wkc) = ovpn_crypto::split_wkc(packet).map_err(V2Refusal::Unwrap)?;
    let (kc, metadata) = config
        .key
        .unwrap_client_key(wkc)
        .map_err(V2Refusal::Unwrap)?;
    if let Some(max) = config.max_age {
        let made = metadata.timestamp().ok_or(V2Refusal::NoTimestamp)?;
        let age = unix_now.saturating_sub(made);
        if age > max.as_secs() {
            return Err(V2Refusal::TooOld { days: age / 86_400 });
        }
    }
    let crypt = TlsCrypt::new(&kc, ovpn_crypto::Role::Server).map_err(|_| V2Refusal::Packet)?;
    let mut plain = vec![0u8; body.len()];
    let (n, pid): (usize, PacketId) = crypt
        .unwrap_stateless(body, &mut plain)
        .map_err(|_| V2Refusal::Packet)?;
    plain.truncate(n);
    let wrap = Wrap::v2_server(&kc).map_err(|_| V2Refusal::Packet)?;
    Ok(V2Start {
        wrap,
        plain,
        metadata,
        early_neg: pid.id & EARLY_NEG_MASK == EARLY_NEG_START,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovpn_crypto::{TlsCryptV2ClientKey, TlsCryptV2ServerKey};
    use std::time::Duration;

    fn setup(meta: Metadata) -> (TlsCryptV2Server, TlsCryptV2ClientKey) {
        let key = TlsCryptV2ServerKey::from_bytes(&[5; 128]).unwrap();
        let client = key.make_client_key([6; 256], &meta).unwrap();
        (TlsCryptV2Server::new(key), client)
    }

    fn reset(client: &TlsCryptV2ClientKey, first_id: u32) -> Vec<u8> {
        let mut c = TlsCrypt::new(client.key(), ovpn_crypto::Role::Client).unwrap();
        c.send_packet_id().set(first_id - 1, 1_700_000_000);
        let plain = [0x50, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0];
        let mut out = vec![0u8; 200];
        let n = c.wrap(1_700_000_000, &plain, &mut out).unwrap();
        out.truncate(n);
        out.extend_from_slice(client.wkc());
        out
    }

    #[test]
    fn a_valid_start_gives_its_key_metadata_and_early_negotiation() {
        let (config, client) = setup(Metadata::timestamp_of(1_700_000_000));
        let s = open(&config, 1_700_000_100, &reset(&client, EARLY_NEG_START + 1)).unwrap();
        assert!(s.early_neg);
        assert_eq!(s.metadata.timestamp(), Some(1_700_000_000));
        assert_eq!(s.plain[0], 0x50);
        let s = open(&config, 1_700_000_100, &reset(&client, 1)).unwrap();
        assert!(!s.early_neg, "a client before 2.6 starts its ids at 1");
    }

    #[test]
    fn a_foreign_corrupt_or_old_key_is_refused() {
        let (mut config, client) = setup(Metadata::timestamp_of(1_700_000_000));
        let good = reset(&client, EARLY_NEG_START + 1);
        // Another server's key.
        let other = TlsCryptV2ServerKey::from_bytes(&[9; 128]).unwrap();
        let foreign = TlsCryptV2Server::new(other);
        assert!(matches!(
            open(&foreign, 0, &good),
            Err(V2Refusal::Unwrap(TlsCryptV2Error::WkcAuth))
        ));
        // A flipped bit in the packet (not in WKc): the client key does not authenticate it.
        let mut p = good.clone();
        p[30] ^= 1;
        assert_eq!(open(&config, 0, &p).unwrap_err(), V2Refusal::Packet);
        // Truncated anywhere.
        for n in 0..good.len() {
            assert!(open(&config, 0, &good[..n]).is_err(), "{n}");
        }
        // Age.
        config.max_age = Some(Duration::from_secs(30 * 86_400));
        assert!(open(&config, 1_700_000_000 + 29 * 86_400, &good).is_ok());
        assert_eq!(
            open(&config, 1_700_000_000 + 31 * 86_400, &good).unwrap_err(),
            V2Refusal::TooOld { days: 31 }
        );
        let (mut config, user) = setup(Metadata::user(b"alice").unwrap());
        config.max_age = Some(Duration::from_secs(86_400));
        assert_eq!(
            open(&config, 0, &reset(&user, 1)).unwrap_err(),
            V2Refusal::NoTimestamp
        );
    }
}
