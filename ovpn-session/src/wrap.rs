//! Control-channel protection as configured: none, tls-auth or tls-crypt (the crypto is
//! `ovpn-crypto`'s; this only routes packets through it).

use ovpn_crypto::{Digest, KeyDirection, StaticKey, TlsAuth, TlsCrypt};

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
}

/// The live wrapper of one session (with its replay state).
#[derive(Debug)]
pub(crate) enum Wrap {
    None,
    Auth(Box<TlsAuth>),
    Crypt(Box<TlsCrypt>),
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
        })
    }

    /// Bytes the wrapping adds to a plain control packet.
    pub(crate) fn overhead(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Auth(a) => a.overhead(),
            Self::Crypt(c) => c.overhead(),
        }
    }

    /// Protects a plain control packet.
    pub(crate) fn wrap(&mut self, plain: &[u8], unix_time: u32) -> Option<Vec<u8>> {
        let mut out = vec![0u8; plain.len() + self.overhead()];
        let n = match self {
            Self::None => return Some(plain.to_vec()),
            Self::Auth(a) => a.wrap(unix_time, plain, &mut out),
            Self::Crypt(c) => c.wrap(unix_time, plain, &mut out),
        };
        match n {
            Ok(n) => {
                out.truncate(n);
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
        }
    }

    /// Sets the send counter so the next packet id is `last_id + 1` with time `time` (see
    /// [`ovpn_crypto::PacketIdSend::set`]); nothing without protection.
    pub(crate) fn set_send_counter(&mut self, last_id: u32, time: u32) {
        match self {
            Self::None => {}
            Self::Auth(a) => a.send_packet_id().set(last_id, time),
            Self::Crypt(c) => c.send_packet_id().set(last_id, time),
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
        let mut out = vec![0u8; wrapped.len()];
        let n = match self {
            Self::None => return Some(wrapped.to_vec()),
            Self::Auth(a) => a.unwrap(now, wrapped, &mut out),
            Self::Crypt(c) => c.unwrap(now, wrapped, &mut out),
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
