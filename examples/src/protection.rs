//! tls-auth and tls-crypt for the programs: the properties (an extension beyond RouterOS 7, on
//! `/interface ovpn-server server` and `/interface ovpn-client`, with the names exported profiles
//! and scripts share) and the key file.
//!
//! - `control-channel-protection=none|tls-auth|tls-crypt` (on the server a set, for mixed modes
//!   on one port later; today it takes one mode);
//! - `tls-key-file=PATH`: an OpenVPN static key (`openvpn --genkey secret`), looked for in the
//!   script's folder, then in the state directory;
//! - `key-direction=0|1|bidirectional` for tls-auth (default 0 on a server, 1 on a client, as
//!   OpenVPN's conventional `tls-auth ta.key 0/1`).

use ovpn_crypto::{Digest, KeyDirection, StaticKey};
use ovpn_session::ControlProtection;

/// The control-channel protection mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// None (RouterOS's only mode).
    #[default]
    None,
    /// tls-auth: an HMAC on every control packet.
    TlsAuth,
    /// tls-crypt: control packets encrypted and authenticated.
    TlsCrypt,
}

impl Mode {
    /// The property value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::TlsAuth => "tls-auth",
            Self::TlsCrypt => "tls-crypt",
        }
    }
}

/// The three properties, as set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// `control-channel-protection`.
    pub mode: Mode,
    /// `tls-key-file`.
    pub key_file: Option<String>,
    /// `key-direction` (None: the side's default).
    pub direction: Option<KeyDirection>,
}

impl Protection {
    /// Applies one of the properties; `Ok(false)` when `key` is not one of them.
    pub fn set(&mut self, key: &str, v: &str, server: bool) -> Result<bool, String> {
        match key {
            "control-channel-protection" => {
                let mut modes: Vec<Mode> = Vec::new();
                for m in v.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                    let m = match m {
                        "none" => Mode::None,
                        "tls-auth" => Mode::TlsAuth,
                        "tls-crypt" => Mode::TlsCrypt,
                        _ => return Err("expected none, tls-auth or tls-crypt".into()),
                    };
                    if !modes.contains(&m) {
                        modes.push(m);
                    }
                }
                if !server && modes.len() > 1 {
                    return Err("a client uses one of none, tls-auth or tls-crypt".into());
                }
                if modes.len() > 1 {
                    return Err(
                        "several modes on one port are not implemented yet: choose one of none, tls-auth, tls-crypt"
                            .into(),
                    );
                }
                self.mode = modes.first().copied().unwrap_or_default();
            }
            "tls-key-file" => {
                self.key_file = (!v.is_empty()).then(|| v.to_owned());
            }
            "key-direction" => {
                self.direction = Some(match v {
                    "0" => KeyDirection::Normal,
                    "1" => KeyDirection::Inverse,
                    "bidirectional" => KeyDirection::Bidirectional,
                    _ => return Err("expected 0, 1 or bidirectional".into()),
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The session's protection: the key file read by `read` and parsed; `digest` is tls-auth's
    /// HMAC (OpenVPN's `auth`).
    pub fn resolve(
        &self,
        server: bool,
        digest: Digest,
        read: impl FnOnce(&str) -> Result<Vec<u8>, String>,
    ) -> Result<ControlProtection, String> {
        match self.mode {
            Mode::None if self.key_file.is_some() || self.direction.is_some() => {
                return Err(
                    "tls-key-file and key-direction need control-channel-protection=tls-auth or tls-crypt"
                        .into(),
                );
            }
            Mode::None => return Ok(ControlProtection::None),
            Mode::TlsCrypt if self.direction.is_some() => {
                return Err("key-direction is for tls-auth; tls-crypt has none".into());
            }
            Mode::TlsAuth | Mode::TlsCrypt => {}
        }
        let file = self.key_file.as_deref().ok_or_else(|| {
            format!(
                "control-channel-protection={} needs tls-key-file=PATH (an `openvpn --genkey secret` key, or `generate-tls-key`)",
                self.mode.as_str()
            )
        })?;
        let text = read(file)?;
        let text = String::from_utf8(text).map_err(|_| format!("{file}: not a key file"))?;
        let key = StaticKey::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        if self.mode == Mode::TlsCrypt {
            return Ok(ControlProtection::TlsCrypt { key });
        }
        Ok(ControlProtection::TlsAuth {
            key,
            direction: self.direction.unwrap_or(if server {
                KeyDirection::Normal
            } else {
                KeyDirection::Inverse
            }),
            digest: if digest == Digest::None {
                Digest::Sha1
            } else {
                digest
            },
        })
    }
}

/// A new static key file's text (`generate-tls-key`), from the operating system's generator.
pub fn generate_key_file() -> String {
    use ovpn_session::random::Random as _;
    let mut bytes = [0u8; ovpn_crypto::KEY_BLOCK_LEN];
    ovpn_session::random::SystemRandom.fill(&mut bytes);
    StaticKey::generate(bytes).to_file_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_the_key() {
        let mut p = Protection::default();
        assert_eq!(p.set("comment", "x", true), Ok(false));
        assert_eq!(
            p.set("control-channel-protection", "tls-auth", true),
            Ok(true)
        );
        assert!(
            p.set("control-channel-protection", "tls-auth,tls-crypt", true)
                .is_err()
        );
        assert!(
            p.set("control-channel-protection", "sometimes", true)
                .is_err()
        );
        assert!(p.set("key-direction", "2", true).is_err());
        let err = p
            .resolve(true, Digest::Sha256, |_| unreachable!())
            .unwrap_err();
        assert!(err.contains("needs tls-key-file"), "{err}");
        p.set("tls-key-file", "ta.key", true).unwrap();
        let key = generate_key_file();
        let got = p
            .resolve(true, Digest::Sha256, |f| {
                assert_eq!(f, "ta.key");
                Ok(key.clone().into_bytes())
            })
            .unwrap();
        let ControlProtection::TlsAuth {
            direction, digest, ..
        } = got
        else {
            panic!("tls-auth");
        };
        assert_eq!((direction, digest), (KeyDirection::Normal, Digest::Sha256));
        let client = p
            .resolve(false, Digest::Sha1, |_| Ok(key.clone().into_bytes()))
            .unwrap();
        assert!(matches!(
            client,
            ControlProtection::TlsAuth {
                direction: KeyDirection::Inverse,
                ..
            }
        ));
        assert!(
            p.resolve(true, Digest::Sha1, |_| Ok(b"not a key".to_vec()))
                .is_err()
        );
        p.set("control-channel-protection", "tls-crypt", true)
            .unwrap();
        p.set("key-direction", "1", true).unwrap();
        assert!(
            p.resolve(true, Digest::Sha1, |_| Ok(key.clone().into_bytes()))
                .is_err()
        );
        assert_ne!(generate_key_file(), key, "a new key each time");
    }
}
