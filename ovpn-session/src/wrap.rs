//! Control-channel protection as configured: none, tls-auth, tls-crypt or tls-crypt-v2 (the
//! crypto is `ovpn-crypto`'s; this only routes packets through it).

use std::sync::Arc;

use ovpn_crypto::{Digest, KeyDirection, StaticKey, TlsAuth, TlsCrypt, TlsCryptV2ClientKey};
use ovpn_wire::Opcode;

/// The `P_CONTROL_HARD_RESET_CLIENT_V3` packet id that tells a server its client can resend WKc
/// (`ssl_pkt.h` `EARLY_NEG_START`; the first id on the wire is one more).
pub(crate) const EARLY_NEG_START: u32 = 0x0f00_0000;
/// The mask of that signal (`EARLY_NEG_MASK`).
pub(crate) const EARLY_NEG_MASK: u32 = 0xff00_0000;

/// Whether a tls-crypt-v2 packet of this opcode carries WKc after it.
pub(crate) fn carries_wkc(op: Opcode) -> bool {
    matches!(op, Opcode::HardResetClientV3 | Opcode::ControlWkcV1)
}

/// How control packets are protected, and the keys to do it (configuration side).
#[derive(Debug, Clone, Default)]
pub enum ControlProtection {
    /// Plain control packets (RouterOS's only mode).
    #[default]
    None,
    /// `tls-auth KEY [direction]` with `auth DIGEST`.
    TlsAuth {
        /// The static key.
        key: StaticKey,
        /// The key direction (0 on servers, 1 on clients, or bidirectional).
        direction: KeyDirection,
        /// The HMAC digest (`--auth`, default SHA1).
        digest: Digest,
    },
    /// `tls-crypt KEY`.
    TlsCrypt {
        /// The static key.
        key: StaticKey,
    },
    /// `tls-crypt-v2 CLIENT-KEY`: a client's own tls-crypt key and its wrapped form, which the
    /// server unwraps with its server key (a server's side is
    /// [`ServerConfig::tls_crypt_v2`](crate::ServerConfig::tls_crypt_v2)).
    TlsCryptV2 {
        /// The client key (`openvpn --genkey tls-crypt-v2-client`).
        key: TlsCryptV2ClientKey,
    },
}

/// The live wrapper of one session (with its replay state).
#[derive(Debug)]
pub(crate) enum Wrap {
    None,
    Auth(Box<TlsAuth>),
    Crypt(Box<TlsCrypt>),
    /// tls-crypt-v2: the client's key used as tls-crypt. A client appends `wkc` to its V3 reset
    /// and `P_CONTROL_WKC_V1`; a server (`wkc` None) sets the key up from the first such packet
    /// and ignores the WKc of later ones (as 2.6.14+).
    CryptV2 {
        crypt: Box<TlsCrypt>,
        wkc: Option<Arc<[u8]>>,
    },
}

impl Wrap {
    pub(crate) fn new(
        p: &ControlProtection,
        server: bool,
    ) -> Result<Self, ovpn_crypto::CryptoError> {
        Ok(match p {
            ControlProtection::None => Self::None,
            ControlProtection::TlsAuth {
                key,
                direction,
                digest,
            } => Self::Auth(Box::new(TlsAuth::new(key, *direction, *digest)?)),
            ControlProtection::TlsCrypt { key } => Self::Crypt(Box::new(TlsCrypt::new(
                key,
                if server {
                    ovpn_crypto::Role::Server
                } else {
                    ovpn_crypto::Role::Client
                },
            )?)),
            ControlProtection::TlsCryptV2 { key } if !server => Self::CryptV2 {
                crypt: Box::new(TlsCrypt::new(key.key(), ovpn_crypto::Role::Client)?),
                wkc: Some(key.wkc().into()),
            },
            // A server's tls-crypt-v2 key is its server key, not a client key.
            ControlProtection::TlsCryptV2 { .. } => return Err(ovpn_crypto::CryptoError::WeakKey),
        })
    }

    /// A server's wrapper for a tls-crypt-v2 client whose WKc gave the key `kc`.
    pub(crate) fn v2_server(kc: &StaticKey) -> Result<Self, ovpn_crypto::CryptoError> {
        Ok(Self::CryptV2 {
            crypt: Box::new(TlsCrypt::new(kc, ovpn_crypto::Role::Server)?),
            wkc: None,
        })
    }

    /// A client's WKc length: what its `P_CONTROL_WKC_V1` carries beyond the packet.
    pub(crate) fn wkc_len(&self) -> Option<usize> {
        match self {
            Self::CryptV2 { wkc: Some(w), .. } => Some(w.len()),
            _ => None,
        }
    }

    /// Whether this is a tls-crypt-v2 client's wrapper (it starts with
    /// `P_CONTROL_HARD_RESET_CLIENT_V3` and early negotiation).
    pub(crate) fn is_v2_client(&self) -> bool {
        self.wkc_len().is_some()
    }

    /// Bytes the wrapping adds to a plain control packet.
    pub(crate) fn overhead(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Auth(a) => a.overhead(),
            Self::Crypt(c) | Self::CryptV2 { crypt: c, .. } => c.overhead(),
        }
    }

    /// Protects a plain control packet (a tls-crypt-v2 client's V3 reset and WKC_V1 with its
    /// WKc appended).
    pub(crate) fn wrap(&mut self, plain: &[u8], unix_time: u32) -> Option<Vec<u8>> {
        let mut out = vec![0u8; plain.len() + self.overhead()];
        let n = match self {
            Self::None => return Some(plain.to_vec()),
            Self::Auth(a) => a.wrap(unix_time, plain, &mut out),
            Self::Crypt(c) | Self::CryptV2 { crypt: c, .. } => c.wrap(unix_time, plain, &mut out),
        };
        match n {
            Ok(n) => {
                out.truncate(n);
                if let Self::CryptV2 { wkc: Some(w), .. } = self
                    && ovpn_wire::peek(plain).is_ok_and(|(op, _)| carries_wkc(op))
                {
                    out.extend_from_slice(w);
                }
                Some(out)
            }
            Err(e) => {
                tracing::warn!("cannot protect a control packet: {e}");
                None
            }
        }
    }

    /// Whether a packet authenticates, without touching any replay state (for a server deciding
    /// whether a session start deserves any state at all).
    pub(crate) fn authenticates(&self, wrapped: &[u8]) -> bool {
        self.open_stateless(wrapped).is_some()
    }

    /// The plain packet, if `wrapped` authenticates, without touching any replay state (a
    /// stateless server reading a session start; `tls_pre_decrypt_lite`).
    pub(crate) fn open_stateless<'a>(
        &self,
        wrapped: &'a [u8],
    ) -> Option<std::borrow::Cow<'a, [u8]>> {
        let owned = |open: &dyn Fn(&mut [u8]) -> Option<usize>| {
            let mut out = vec![0u8; wrapped.len()];
            let n = open(&mut out)?;
            out.truncate(n);
            Some(std::borrow::Cow::Owned(out))
        };
        match self {
            Self::None => Some(std::borrow::Cow::Borrowed(wrapped)),
            Self::Auth(a) => owned(&|out| a.unwrap_stateless(wrapped, out).ok().map(|r| r.0)),
            Self::Crypt(c) => owned(&|out| c.unwrap_stateless(wrapped, out).ok().map(|r| r.0)),
            Self::CryptV2 { crypt, .. } => {
                let wrapped = strip_wkc(wrapped)?;
                let mut out = vec![0u8; wrapped.len()];
                let n = crypt.unwrap_stateless(wrapped, &mut out).ok()?.0;
                out.truncate(n);
                Some(std::borrow::Cow::Owned(out))
            }
        }
    }

    /// Sets the send counter so the next packet id is `last_id + 1` with time `time` (see
    /// [`ovpn_crypto::PacketIdSend::set`]); nothing without protection.
    pub(crate) fn set_send_counter(&mut self, last_id: u32, time: u32) {
        match self {
            Self::None => {}
            Self::Auth(a) => a.send_packet_id().set(last_id, time),
            Self::Crypt(c) | Self::CryptV2 { crypt: c, .. } => {
                c.send_packet_id().set(last_id, time)
            }
        }
    }

    /// Protects a stateless server's answer to a session start: packet id 1 with the time now,
    /// as 2.6 does (`mudp.c` `send_hmac_reset_packet` restarts the counter before each one).
    pub(crate) fn wrap_standalone(&mut self, plain: &[u8], unix_time: u32) -> Option<Vec<u8>> {
        self.set_send_counter(0, 0);
        self.wrap(plain, unix_time)
    }

    /// Checks and removes the protection; `None` when the packet does not authenticate.
    pub(crate) fn unwrap(&mut self, now: std::time::Instant, wrapped: &[u8]) -> Option<Vec<u8>> {
        let wrapped = match self {
            Self::CryptV2 { .. } => strip_wkc(wrapped)?,
            _ => wrapped,
        };
        let mut out = vec![0u8; wrapped.len()];
        let n = match self {
            Self::None => return Some(wrapped.to_vec()),
            Self::Auth(a) => a.unwrap(now, wrapped, &mut out),
            Self::Crypt(c) | Self::CryptV2 { crypt: c, .. } => c.unwrap(now, wrapped, &mut out),
        };
        match n {
            Ok(n) => {
                out.truncate(n);
                Some(out)
            }
            Err(e) => {
                tracing::debug!("control packet refused: {e}");
                None
            }
        }
    }
}

/// The tls-crypt packet of a received tls-crypt-v2 packet: without the WKc that V3 resets and
/// WKC_V1 packets carry (None when such a packet has no well-formed one).
fn strip_wkc(wrapped: &[u8]) -> Option<&[u8]> {
    if ovpn_wire::peek(wrapped).is_ok_and(|(op, _)| carries_wkc(op)) {
        ovpn_crypto::split_wkc(wrapped).ok().map(|(p, _)| p)
    } else {
        Some(wrapped)
    }
}
