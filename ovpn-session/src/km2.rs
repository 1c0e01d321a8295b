//! The key-method-2 record: the first plaintext each side writes into the TLS tunnel.
//!
//! Layout (ssl.c `key_method_2_write` / `key_method_2_read`, `key_source2_randomize_write`,
//! `write_string`, `read_string`):
//!
//! ```text
//! u32 0 | u8 key-method (low nibble 2) | [48 pre-master, client only] | 32 random1 | 32 random2
//! | string options | string username | string password | string peer-info
//! string := u16 length including the trailing NUL, the bytes, NUL;  empty := u16 0
//! ```
//!
//! OpenVPN reads the record from one TLS record and tolerates missing trailing strings (a short buffer
//! reads as "no string"); this parser does the same once the options string is complete.

use zeroize::{Zeroize, Zeroizing};

/// `KEY_METHOD_2` (ssl.h).
pub const KEY_METHOD_2: u8 = 2;
/// `KEY_METHOD_MASK` (ssl.h): the upper bits of the key-method byte are flags and ignored.
pub const KEY_METHOD_MASK: u8 = 0x0f;
/// `TLS_OPTIONS_LEN` (ssl.h): the options string's maximum length including its NUL.
pub const TLS_OPTIONS_LEN: usize = 512;
/// The largest user name or password accepted, including the NUL: OpenVPN's `USER_PASS_LEN` when
/// built with PKCS#11 (misc.h), as Debian's package is. Longer credentials are refused.
pub const USER_PASS_LEN: usize = 4096;

/// Why a key-method-2 record was refused. Each is fatal for the TLS session that carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Km2Error {
    /// The key-method byte's low nibble was not 2.
    #[error("unknown key method {0:#04x} (only key method 2 exists)")]
    UnknownKeyMethod(u8),
    /// The leading u32 was not zero (OpenVPN skips it; we check it to catch garbage early).
    #[error("key-method-2 record does not start with a zero u32")]
    BadPrefix,
    /// The options string was missing, empty or longer than `TLS_OPTIONS_LEN`.
    #[error("options string missing or too long ({len} bytes, at most {TLS_OPTIONS_LEN})")]
    BadOptions {
        /// Its declared length.
        len: usize,
    },
    /// A user name or password longer than [`USER_PASS_LEN`].
    #[error("{field} too long ({len} bytes, at most {USER_PASS_LEN})")]
    TooLong {
        /// `"username"` or `"password"`.
        field: &'static str,
        /// Its declared length.
        len: usize,
    },
    /// A string was not valid UTF-8.
    #[error("{field} is not valid UTF-8")]
    NotUtf8 {
        /// Which string.
        field: &'static str,
    },
    /// A string to be written does not fit its u16 length (or its limit).
    #[error("{field} too long to write ({len} bytes)")]
    WriteTooLong {
        /// Which string.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

/// The key material one side contributes (ssl_common.h `struct key_source`).
///
/// The client sends a 48-byte pre-master secret and two randoms, the server only the two randoms.
/// They feed the legacy PRF; with tls-ekm they are sent but unused.
#[derive(Clone, Default, PartialEq, Eq, Zeroize)]
#[zeroize(drop)]
pub struct KeySource {
    /// The client's pre-master secret (absent in the server's record).
    pub pre_master: Option<[u8; 48]>,
    /// The first random (seeds the PRF's master secret).
    pub random1: [u8; 32],
    /// The second random (seeds the PRF's key expansion).
    pub random2: [u8; 32],
}

impl core::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeySource").finish_non_exhaustive()
    }
}

/// A key-method-2 record.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyMethod2 {
    /// The key material.
    pub source: KeySource,
    /// The options-compatibility string (`V4,dev-type tun,...`).
    pub options: String,
    /// The user name (empty when none was sent).
    pub username: String,
    /// The password (empty when none was sent); zeroed on drop.
    pub password: Zeroizing<String>,
    /// The peer-info lines (`IV_VER=...\n`), empty when none was sent.
    pub peer_info: String,
}

impl core::fmt::Debug for KeyMethod2 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyMethod2")
            .field("options", &self.options)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("peer_info", &self.peer_info)
            .finish_non_exhaustive()
    }
}

/// The result of [`KeyMethod2::parse`].
#[derive(Debug)]
pub enum Parsed {
    /// A whole record, and how many bytes of the input it used.
    Complete(Box<KeyMethod2>, usize),
    /// More bytes are needed.
    Partial,
}

impl KeyMethod2 {
    /// Appends the record to `out`. `pre_master` decides the client layout.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Km2Error> {
        out.extend_from_slice(&0u32.to_be_bytes());
        out.push(KEY_METHOD_2);
        if let Some(pm) = &self.source.pre_master {
            out.extend_from_slice(pm);
        }
        out.extend_from_slice(&self.source.random1);
        out.extend_from_slice(&self.source.random2);
        write_string(out, "options", &self.options, TLS_OPTIONS_LEN)?;
        write_string(out, "username", &self.username, USER_PASS_LEN)?;
        write_string(out, "password", &self.password, USER_PASS_LEN)?;
        write_string(out, "peer-info", &self.peer_info, u16::MAX as usize)?;
        Ok(())
    }

    /// Parses a record sent by the client (`from_client`, with a pre-master secret) or by the server.
    ///
    /// Returns [`Parsed::Partial`] until the fixed part and the options string are complete; trailing
    /// strings that are entirely absent read as empty, as in OpenVPN, but a string whose length is
    /// present and whose bytes are not yet is `Partial`.
    pub fn parse(buf: &[u8], from_client: bool) -> Result<Parsed, Km2Error> {
        let mut r = Reader { buf, pos: 0 };
        let Some(prefix) = r.take(4) else {
            return Ok(Parsed::Partial);
        };
        if prefix != [0, 0, 0, 0] {
            return Err(Km2Error::BadPrefix);
        }
        let Some(&[method]) = r.take(1) else {
            return Ok(Parsed::Partial);
        };
        if method & KEY_METHOD_MASK != KEY_METHOD_2 {
            return Err(Km2Error::UnknownKeyMethod(method));
        }
        let mut source = KeySource::default();
        if from_client {
            let Some(pm) = r.take(48) else {
                return Ok(Parsed::Partial);
            };
            let mut pre = [0u8; 48];
            pre.copy_from_slice(pm);
            source.pre_master = Some(pre);
            pre.zeroize();
        }
        let (Some(r1), Some(r2)) = (r.take(32), r.take(32)) else {
            return Ok(Parsed::Partial);
        };
        source.random1.copy_from_slice(r1);
        source.random2.copy_from_slice(r2);

        let options = match r.string()? {
            StringField::Absent | StringField::Partial => return Ok(Parsed::Partial),
            StringField::Present([]) => {
                return Err(Km2Error::BadOptions { len: 0 });
            }
            StringField::Present(s) if s.len() + 1 > TLS_OPTIONS_LEN => {
                return Err(Km2Error::BadOptions { len: s.len() + 1 });
            }
            StringField::Present(s) => utf8("options", s)?.to_owned(),
        };
        let mut msg = KeyMethod2 {
            source,
            options,
            ..KeyMethod2::default()
        };
        for field in ["username", "password", "peer-info"] {
            let value = match r.string()? {
                StringField::Absent => break,
                StringField::Partial => return Ok(Parsed::Partial),
                StringField::Present(s) => s,
            };
            if field != "peer-info" && value.len() + 1 > USER_PASS_LEN {
                return Err(Km2Error::TooLong {
                    field,
                    len: value.len() + 1,
                });
            }
            let value = utf8(field, value)?;
            match field {
                "username" => msg.username = value.to_owned(),
                "password" => msg.password = Zeroizing::new(value.to_owned()),
                _ => msg.peer_info = value.to_owned(),
            }
        }
        Ok(Parsed::Complete(Box::new(msg), r.pos))
    }
}

fn utf8<'a>(field: &'static str, s: &'a [u8]) -> Result<&'a str, Km2Error> {
    core::str::from_utf8(s).map_err(|_| Km2Error::NotUtf8 { field })
}

fn write_string(
    out: &mut Vec<u8>,
    field: &'static str,
    s: &str,
    max: usize,
) -> Result<(), Km2Error> {
    if s.is_empty() {
        out.extend_from_slice(&0u16.to_be_bytes());
        return Ok(());
    }
    let len = s.len() + 1;
    if len > max || len > u16::MAX as usize || s.as_bytes().contains(&0) {
        return Err(Km2Error::WriteTooLong { field, len });
    }
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    out.push(0);
    Ok(())
}

enum StringField<'a> {
    Absent,
    Partial,
    Present(&'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    /// A string: u16 length including NUL; the value stops at the first NUL (C semantics).
    fn string(&mut self) -> Result<StringField<'a>, Km2Error> {
        if self.pos == self.buf.len() {
            return Ok(StringField::Absent);
        }
        let start = self.pos;
        let Some(len) = self.take(2) else {
            self.pos = start;
            return Ok(StringField::Partial);
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len == 0 {
            return Ok(StringField::Present(&[]));
        }
        let Some(bytes) = self.take(len) else {
            self.pos = start;
            return Ok(StringField::Partial);
        };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Ok(StringField::Present(&bytes[..end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn client_msg() -> KeyMethod2 {
        KeyMethod2 {
            source: KeySource {
                pre_master: Some([7; 48]),
                random1: [1; 32],
                random2: [2; 32],
            },
            options: "V4,dev-type tun,link-mtu 1549,tun-mtu 1500,proto UDPv4,cipher AES-256-GCM,auth SHA1,keysize 256,key-method 2,tls-client".into(),
            username: "client1".into(),
            password: Zeroizing::new("StrongPassword1".into()),
            peer_info: "IV_VER=2.6.14\nIV_PROTO=990\n".into(),
        }
    }

    #[test]
    fn client_layout_is_byte_exact() {
        let mut out = Vec::new();
        let m = client_msg();
        m.write(&mut out).unwrap();
        assert_eq!(&out[..5], &[0, 0, 0, 0, 2]);
        assert_eq!(&out[5..53], &[7; 48]);
        assert_eq!(&out[53..85], &[1; 32]);
        assert_eq!(&out[85..117], &[2; 32]);
        let olen = u16::from_be_bytes([out[117], out[118]]) as usize;
        assert_eq!(olen, m.options.len() + 1);
        assert_eq!(out[119 + olen - 1], 0, "strings carry their NUL");
        let Parsed::Complete(back, used) = KeyMethod2::parse(&out, true).unwrap() else {
            panic!("partial")
        };
        assert_eq!(used, out.len());
        assert_eq!(*back, m);
    }

    #[test]
    fn server_record_has_no_pre_master_and_empty_strings_are_u16_zero() {
        let m = KeyMethod2 {
            source: KeySource {
                pre_master: None,
                random1: [3; 32],
                random2: [4; 32],
            },
            options: "V4,tls-server".into(),
            ..KeyMethod2::default()
        };
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        assert_eq!(out.len(), 5 + 64 + 2 + 14 + 6);
        assert_eq!(&out[out.len() - 6..], &[0; 6]);
        let Parsed::Complete(back, _) = KeyMethod2::parse(&out, false).unwrap() else {
            panic!("partial")
        };
        assert_eq!(*back, m);
    }

    #[test]
    fn missing_trailing_strings_read_as_empty() {
        let mut m = client_msg();
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        // Cut after the options string: user, password, peer-info all absent.
        let cut = 117 + 2 + m.options.len() + 1;
        let Parsed::Complete(back, used) = KeyMethod2::parse(&out[..cut], true).unwrap() else {
            panic!("partial")
        };
        assert_eq!(used, cut);
        m.username.clear();
        m.password = Zeroizing::new(String::new());
        m.peer_info.clear();
        assert_eq!(*back, m);
    }

    #[test]
    fn every_strict_prefix_up_to_the_options_is_partial() {
        let m = client_msg();
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        let options_end = 117 + 2 + m.options.len() + 1;
        for cut in 0..options_end {
            assert!(matches!(
                KeyMethod2::parse(&out[..cut], true),
                Ok(Parsed::Partial)
            ));
        }
        // A string whose length arrived but whose bytes did not is partial too.
        assert!(matches!(
            KeyMethod2::parse(&out[..options_end + 3], true),
            Ok(Parsed::Partial)
        ));
    }

    #[test]
    fn refusals_are_typed() {
        let mut out = Vec::new();
        client_msg().write(&mut out).unwrap();
        let mut bad = out.clone();
        bad[4] = 1;
        assert_eq!(
            KeyMethod2::parse(&bad, true).unwrap_err(),
            Km2Error::UnknownKeyMethod(1)
        );
        let mut flags = out.clone();
        flags[4] = 0x12; // flag bits are ignored
        assert!(matches!(
            KeyMethod2::parse(&flags, true),
            Ok(Parsed::Complete(..))
        ));
        let mut prefix = out.clone();
        prefix[0] = 1;
        assert_eq!(
            KeyMethod2::parse(&prefix, true).unwrap_err(),
            Km2Error::BadPrefix
        );
        let mut long = out[..117].to_vec();
        long.extend_from_slice(&600u16.to_be_bytes());
        long.extend_from_slice(&[b'a'; 600]);
        assert_eq!(
            KeyMethod2::parse(&long, true).unwrap_err(),
            Km2Error::BadOptions { len: 601 }
        );
        let long_user = KeyMethod2 {
            username: "u".repeat(5000),
            ..client_msg()
        };
        assert!(matches!(
            long_user.write(&mut Vec::new()),
            Err(Km2Error::WriteTooLong {
                field: "username",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn write_then_parse_is_identity(
            client in any::<bool>(),
            r1 in any::<[u8; 32]>(),
            options in "[ -~]{1,300}",
            user in "[ -~]{0,40}",
            pass in "[ -~]{0,40}",
            info in "[ -~\n]{0,200}",
        ) {
            let m = KeyMethod2 {
                source: KeySource { pre_master: client.then_some([9; 48]), random1: r1, random2: r1 },
                options, username: user, password: Zeroizing::new(pass), peer_info: info,
            };
            let mut out = Vec::new();
            m.write(&mut out).unwrap();
            match KeyMethod2::parse(&out, client).unwrap() {
                Parsed::Complete(back, used) => { prop_assert_eq!(used, out.len()); prop_assert_eq!(*back, m); }
                Parsed::Partial => prop_assert!(false, "partial"),
            }
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..700), client in any::<bool>()) {
            let _ = KeyMethod2::parse(&data, client);
        }
    }
}
