//! tls-auth and tls-crypt for the programs: the properties (an extension beyond RouterOS 7, on
//! `/interface ovpn-server server` and `/interface ovpn-client`, with the names exported profiles
//! and scripts share) and the key file.
//!
//! - `control-channel-protection=none|tls-auth|tls-crypt|tls-crypt-v2`; on a server a set of
//!   tls-crypt-v2 and one other (`none,tls-crypt-v2` serves plain clients and tls-crypt-v2
//!   clients on one port, an extension: OpenVPN 2.6 refuses it);
//! - `tls-key-file=PATH`: an OpenVPN static key (`openvpn --genkey secret`), looked for in the
//!   script's folder, then in the state directory;
//! - `key-direction=0|1|bidirectional` for tls-auth (default 0 on a server, 1 on a client, as
//!   OpenVPN's conventional `tls-auth ta.key 0/1`);
//! - `tls-crypt-v2-key-file=PATH`: the server key on a server (`openvpn --genkey
//!   tls-crypt-v2-server`, or `generate-tls-crypt-v2-key`), the client's own key on a client;
//! - on a server, `tls-crypt-v2-max-age=DAYS` (0: no limit) and
//!   `tls-crypt-v2-force-cookie=yes|no` (OpenVPN's `tls-crypt-v2-max-age` and `force-cookie`).

use std::time::Duration;

use ovpn_crypto::{Digest, KeyDirection, StaticKey, TlsCryptV2ClientKey, TlsCryptV2ServerKey};
use ovpn_session::{ControlProtection, TlsCryptV2Server};

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
    /// tls-crypt-v2: tls-crypt with a key of each client's own.
    TlsCryptV2,
}

impl Mode {
    /// The property value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::TlsAuth => "tls-auth",
            Self::TlsCrypt => "tls-crypt",
            Self::TlsCryptV2 => "tls-crypt-v2",
        }
    }
}

/// The properties, as set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// `control-channel-protection` without tls-crypt-v2: how clients without a key of their
    /// own are read (`None` also when tls-crypt-v2 stands alone; see `others`).
    pub mode: Mode,
    /// tls-crypt-v2 is in the set.
    pub v2: bool,
    /// With tls-crypt-v2: another mode is in the set too, for the clients without a key of
    /// their own.
    pub others: bool,
    /// `tls-key-file`.
    pub key_file: Option<String>,
    /// `key-direction` (None: the side's default).
    pub direction: Option<KeyDirection>,
    /// `tls-crypt-v2-key-file`.
    pub v2_key_file: Option<String>,
    /// `tls-crypt-v2-max-age` in days (None or 0: no limit).
    pub v2_max_age_days: Option<u32>,
    /// `tls-crypt-v2-force-cookie`.
    pub v2_force_cookie: bool,
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
                        "tls-crypt-v2" => Mode::TlsCryptV2,
                        _ => {
                            return Err("expected none, tls-auth, tls-crypt or tls-crypt-v2".into());
                        }
                    };
                    if !modes.contains(&m) {
                        modes.push(m);
                    }
                }
                if !server && modes.len() > 1 {
                    return Err(
                        "a client uses one of none, tls-auth, tls-crypt or tls-crypt-v2".into(),
                    );
                }
                let v2 = modes.contains(&Mode::TlsCryptV2);
                let others: Vec<Mode> = modes
                    .iter()
                    .copied()
                    .filter(|m| *m != Mode::TlsCryptV2)
                    .collect();
                if others.len() > 1 {
                    return Err(
                        "one port serves tls-crypt-v2 and at most one other mode (none, tls-auth or tls-crypt): several of those together are not implemented"
                            .into(),
                    );
                }
                self.mode = others.first().copied().unwrap_or_default();
                self.v2 = v2;
                self.others = v2 && !others.is_empty();
            }
            "tls-crypt-v2-key-file" => {
                self.v2_key_file = (!v.is_empty()).then(|| v.to_owned());
            }
            "tls-crypt-v2-max-age" if server => {
                let days: u32 = v
                    .parse()
                    .map_err(|_| "expected a number of days (0: no limit)".to_owned())?;
                self.v2_max_age_days = (days > 0).then_some(days);
            }
            "tls-crypt-v2-force-cookie" if server => {
                self.v2_force_cookie = match v {
                    "yes" => true,
                    "no" => false,
                    _ => return Err("expected yes or no".into()),
                };
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

    /// The control-channel setup of a server: the protection of clients without a key of
    /// their own, and tls-crypt-v2's (the files read by `read`).
    pub fn resolve_server(
        &self,
        digest: Digest,
        mut read: impl FnMut(&str) -> Result<Vec<u8>, String>,
    ) -> Result<(ControlProtection, Option<TlsCryptV2Server>), String> {
        let v2 = if self.v2 {
            let file = self.v2_key_file.as_deref().ok_or(
                "control-channel-protection=tls-crypt-v2 needs tls-crypt-v2-key-file=PATH (an `openvpn --genkey tls-crypt-v2-server` key, or `generate-tls-crypt-v2-key`)",
            )?;
            let text = String::from_utf8(read(file)?)
                .map_err(|_| format!("{file}: not a tls-crypt-v2 server key"))?;
            let key = TlsCryptV2ServerKey::parse(&text).map_err(|e| format!("{file}: {e}"))?;
            Some(TlsCryptV2Server {
                key,
                others: self.others,
                force_cookie: self.v2_force_cookie,
                max_age: self
                    .v2_max_age_days
                    .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
            })
        } else {
            self.v2_unused()?;
            None
        };
        let plain = if self.v2 && !self.others {
            self.other_unused()?;
            ControlProtection::None
        } else {
            self.resolve(true, digest, read)?
        };
        Ok((plain, v2))
    }

    /// The control-channel protection of a client (the files read by `read`).
    pub fn resolve_client(
        &self,
        digest: Digest,
        read: impl FnOnce(&str) -> Result<Vec<u8>, String>,
    ) -> Result<ControlProtection, String> {
        if !self.v2 {
            self.v2_unused()?;
            return self.resolve(false, digest, read);
        }
        self.other_unused()?;
        let file = self.v2_key_file.as_deref().ok_or(
            "control-channel-protection=tls-crypt-v2 needs tls-crypt-v2-key-file=PATH (a client key the server made: `openvpn --genkey tls-crypt-v2-client`, or an exported profile)",
        )?;
        let text = String::from_utf8(read(file)?)
            .map_err(|_| format!("{file}: not a tls-crypt-v2 client key"))?;
        let key = TlsCryptV2ClientKey::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        Ok(ControlProtection::TlsCryptV2 { key })
    }

    /// tls-crypt-v2's properties without tls-crypt-v2.
    fn v2_unused(&self) -> Result<(), String> {
        if self.v2_key_file.is_some() || self.v2_max_age_days.is_some() || self.v2_force_cookie {
            return Err(
                "tls-crypt-v2-key-file, tls-crypt-v2-max-age and tls-crypt-v2-force-cookie need control-channel-protection=tls-crypt-v2"
                    .into(),
            );
        }
        Ok(())
    }

    /// tls-auth's and tls-crypt's properties with tls-crypt-v2 alone.
    fn other_unused(&self) -> Result<(), String> {
        if self.key_file.is_some() || self.direction.is_some() {
            return Err(
                "tls-key-file and key-direction are for tls-auth or tls-crypt: with tls-crypt-v2 alone, use tls-crypt-v2-key-file"
                    .into(),
            );
        }
        Ok(())
    }

    /// The protection of tls-auth, tls-crypt or none: the key file read by `read` and parsed;
    /// `digest` is tls-auth's HMAC (OpenVPN's `auth`).
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
            Mode::TlsCryptV2 => return Err("tls-crypt-v2 has its own key".into()),
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

/// A new tls-crypt-v2 server key file's text (`generate-tls-crypt-v2-key`), from the operating
/// system's generator.
pub fn generate_v2_server_key() -> String {
    use ovpn_session::random::Random as _;
    let mut bytes = zeroize::Zeroizing::new([0u8; 128]);
    ovpn_session::random::SystemRandom.fill(&mut bytes[..]);
    TlsCryptV2ServerKey::from_bytes(&bytes[..])
        .map(|k| k.to_pem())
        .unwrap_or_default()
}

/// A new client key file's text, wrapped with `server`: with `metadata` as user data (as
/// `openvpn --genkey tls-crypt-v2-client FILE BASE64`), else the time of making, as OpenVPN.
pub fn generate_v2_client_key(
    server: &TlsCryptV2ServerKey,
    metadata: Option<&[u8]>,
    unix_now: u64,
) -> Result<String, String> {
    use ovpn_session::random::Random as _;
    let meta = match metadata {
        Some(m) => ovpn_crypto::Metadata::user(m).map_err(|e| e.to_string())?,
        None => ovpn_crypto::Metadata::timestamp_of(unix_now),
    };
    let mut bytes = zeroize::Zeroizing::new([0u8; 256]);
    ovpn_session::random::SystemRandom.fill(&mut bytes[..]);
    let key = server
        .make_client_key(*bytes, &meta)
        .map_err(|e| e.to_string())?;
    Ok(key.to_pem())
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
            p.set("control-channel-protection", "tls-auth,tls-crypt-v2", false)
                .is_err(),
            "a client has one mode"
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

    #[test]
    fn tls_crypt_v2_sets_and_keys() {
        let server_key = generate_v2_server_key();
        let parsed = TlsCryptV2ServerKey::parse(&server_key).unwrap();
        let client_key = generate_v2_client_key(&parsed, Some(b"alice"), 5).unwrap();
        let read = |f: &str| -> Result<Vec<u8>, String> {
            match f {
                "v2.key" => Ok(server_key.clone().into_bytes()),
                "alice.key" => Ok(client_key.clone().into_bytes()),
                "ta.key" => Ok(generate_key_file().into_bytes()),
                _ => Err(format!("{f}: not found")),
            }
        };
        // tls-crypt-v2 alone: plain clients are not served.
        let mut p = Protection::default();
        p.set("control-channel-protection", "tls-crypt-v2", true)
            .unwrap();
        let e = p.resolve_server(Digest::Sha1, read).unwrap_err();
        assert!(e.contains("needs tls-crypt-v2-key-file"), "{e}");
        p.set("tls-crypt-v2-key-file", "v2.key", true).unwrap();
        p.set("tls-crypt-v2-max-age", "30", true).unwrap();
        p.set("tls-crypt-v2-force-cookie", "yes", true).unwrap();
        let (plain, v2) = p.resolve_server(Digest::Sha1, read).unwrap();
        assert!(matches!(plain, ControlProtection::None));
        let v2 = v2.unwrap();
        assert!(!v2.others && v2.force_cookie);
        assert_eq!(v2.max_age, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(v2.key, parsed);
        // With a tls-auth key but no tls-auth in the set: refused, not ignored.
        p.set("tls-key-file", "ta.key", true).unwrap();
        assert!(p.resolve_server(Digest::Sha1, read).is_err());
        // none,tls-crypt-v2 and tls-auth,tls-crypt-v2 serve both kinds.
        let mut p = Protection::default();
        p.set("control-channel-protection", "none,tls-crypt-v2", true)
            .unwrap();
        p.set("tls-crypt-v2-key-file", "v2.key", true).unwrap();
        let (plain, v2) = p.resolve_server(Digest::Sha1, read).unwrap();
        assert!(matches!(plain, ControlProtection::None) && v2.unwrap().others);
        p.set("control-channel-protection", "tls-auth,tls-crypt-v2", true)
            .unwrap();
        p.set("tls-key-file", "ta.key", true).unwrap();
        let (plain, v2) = p.resolve_server(Digest::Sha1, read).unwrap();
        assert!(matches!(plain, ControlProtection::TlsAuth { .. }) && v2.unwrap().others);
        // Two modes beside tls-crypt-v2: not implemented, said so.
        assert!(
            p.set(
                "control-channel-protection",
                "none,tls-auth,tls-crypt-v2",
                true
            )
            .is_err()
        );
        // The v2 properties without tls-crypt-v2 are refused by name.
        let mut p = Protection::default();
        p.set("tls-crypt-v2-max-age", "3", true).unwrap();
        let e = p.resolve_server(Digest::Sha1, read).unwrap_err();
        assert!(e.contains("tls-crypt-v2-max-age"), "{e}");
        assert_eq!(p.set("tls-crypt-v2-max-age", "3", false), Ok(false));
        // A client with its key.
        let mut c = Protection::default();
        c.set("control-channel-protection", "tls-crypt-v2", false)
            .unwrap();
        c.set("tls-crypt-v2-key-file", "alice.key", false).unwrap();
        let ControlProtection::TlsCryptV2 { key } = c.resolve_client(Digest::Sha1, read).unwrap()
        else {
            panic!("tls-crypt-v2");
        };
        let (_, meta) = parsed.unwrap_client_key(key.wkc()).unwrap();
        assert_eq!(meta.user_data(), Some(&b"alice"[..]));
        // A server key given to a client is named as the wrong kind.
        c.set("tls-crypt-v2-key-file", "v2.key", false).unwrap();
        let e = c.resolve_client(Digest::Sha1, read).unwrap_err();
        assert!(e.contains("not a tls-crypt-v2 client key"), "{e}");
    }
}
