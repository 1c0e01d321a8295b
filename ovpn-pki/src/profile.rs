//! `.ovpn` client profiles for non-RouterOS clients (OpenVPN 2.6, OpenVPN Connect), with the CA,
//! client certificate and key inline.
//!
//! The RouterOS page's profile carries `ncp-disable`, which OpenVPN 2.6 refuses with an options
//! error. A RouterOS server negotiates no cipher (it pushes none), so the profile pins the
//! configured cipher three ways, all accepted by 2.6: `cipher` (the OCC string, "poor man's
//! NCP"), `data-ciphers` (the only cipher the client accepts) and `data-ciphers-fallback` (used
//! when the server names no cipher at all).

use core::fmt;

use crate::error::PkiError;
use crate::store::{ExportedFile, Store};

/// The transport (`protocol=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// UDP (RouterOS 7.4 and later).
    #[default]
    Udp,
    /// TCP.
    Tcp,
}

/// A client profile's settings, in RouterOS terms (`/interface ovpn-client` / `ovpn-server`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientProfile {
    /// The server's address (`connect-to` / `server-address`): host name or IP.
    pub remote: String,
    /// The server's port (default 1194).
    pub port: u16,
    /// `protocol=udp|tcp` (default udp).
    pub transport: Transport,
    /// `mode=ip|ethernet`: `dev tun` or `dev tap` (default ip).
    pub ethernet: bool,
    /// `cipher=`: RouterOS name (`aes256-cbc`, `aes128-gcm`, `blowfish128`, `null`, ...) or
    /// OpenVPN name (`AES-256-CBC`). Default `aes256-cbc`.
    pub cipher: String,
    /// `auth=`: RouterOS name (`sha1`, `sha256`, `sha512`, `md5`, `null`) or OpenVPN name.
    /// Default `sha256`.
    pub auth: String,
    /// Whether to ask for a user name and password (`auth-user-pass`); RouterOS servers always
    /// want them. Default true.
    pub auth_user_pass: bool,
    /// `verb` (default 3).
    pub verb: u8,
}

impl ClientProfile {
    /// A UDP profile for `remote`:`port` with `aes256-cbc` and `sha256`, as the RouterOS page
    /// recommends.
    pub fn new(remote: impl Into<String>, port: u16) -> Self {
        Self {
            remote: remote.into(),
            port,
            transport: Transport::Udp,
            ethernet: false,
            cipher: "aes256-cbc".into(),
            auth: "sha256".into(),
            auth_user_pass: true,
            verb: 3,
        }
    }

    /// From RouterOS-style properties: `server-address=` (or `connect-to=`), `port=`,
    /// `protocol=udp|tcp`, `mode=ip|ethernet`, `cipher=`, `auth=`, `verb=`.
    pub fn from_properties(props: &[(&str, &str)]) -> Result<Self, PkiError> {
        let mut p = Self::new(String::new(), 1194);
        for (k, v) in props {
            match *k {
                "server-address" | "connect-to" => p.remote = (*v).to_owned(),
                "port" => {
                    p.port = v
                        .parse()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| PkiError::invalid(k, v, "a port 1..65535"))?;
                }
                "protocol" => {
                    p.transport = match *v {
                        "udp" => Transport::Udp,
                        "tcp" => Transport::Tcp,
                        _ => return Err(PkiError::invalid(k, v, "udp or tcp")),
                    };
                }
                "mode" => {
                    p.ethernet = match *v {
                        "ip" => false,
                        "ethernet" => true,
                        _ => return Err(PkiError::invalid(k, v, "ip or ethernet")),
                    };
                }
                "cipher" => p.cipher = (*v).to_owned(),
                "auth" => p.auth = (*v).to_owned(),
                "verb" => {
                    p.verb = v
                        .parse()
                        .ok()
                        .filter(|n| *n <= 11)
                        .ok_or_else(|| PkiError::invalid(k, v, "0..11"))?;
                }
                _ => {
                    return Err(PkiError::UnknownProperty {
                        property: (*k).to_owned(),
                    });
                }
            }
        }
        if p.remote.is_empty() {
            return Err(PkiError::MissingProperty {
                property: "server-address",
            });
        }
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), PkiError> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        };
        if !plain(&self.remote) {
            return Err(PkiError::invalid(
                "server-address",
                &self.remote,
                "a host name or IP address",
            ));
        }
        if self.port == 0 {
            return Err(PkiError::invalid("port", "0", "a port 1..65535"));
        }
        openvpn_cipher(&self.cipher)?;
        openvpn_auth(&self.auth)?;
        Ok(())
    }

    /// The profile text with `ca`, `cert` and `key` (PEM) inline.
    pub fn render(&self, ca: &str, cert: &str, key: &str) -> Result<String, PkiError> {
        self.check()?;
        let cipher = openvpn_cipher(&self.cipher)?;
        let auth = openvpn_auth(&self.auth)?;
        let mut s = String::new();
        let mut line = |l: &dyn fmt::Display| s.push_str(&format!("{l}\n"));
        line(&"client");
        line(&if self.ethernet { "dev tap" } else { "dev tun" });
        line(&match self.transport {
            Transport::Udp => "proto udp",
            Transport::Tcp => "proto tcp-client",
        });
        line(&format_args!("remote {} {}", self.remote, self.port));
        line(&"resolv-retry infinite");
        line(&"nobind");
        line(&"persist-key");
        line(&"persist-tun");
        line(&"remote-cert-tls server");
        if self.transport == Transport::Udp {
            // Tell the server when the client stops, so its session ends at once instead of at
            // keepalive-timeout.
            line(&"explicit-exit-notify 1");
        }
        if self.auth_user_pass {
            line(&"auth-user-pass");
        }
        line(&format_args!("auth {auth}"));
        if cipher == "BF-CBC" {
            // OpenSSL 3 keeps Blowfish in its legacy provider.
            line(&"providers legacy default");
        }
        // RouterOS negotiates no cipher: pin the configured one (no `ncp-disable`, which
        // OpenVPN 2.6 refuses).
        line(&format_args!("cipher {cipher}"));
        line(&format_args!("data-ciphers {cipher}"));
        line(&format_args!("data-ciphers-fallback {cipher}"));
        line(&format_args!("verb {}", self.verb));
        for (tag, pem) in [("ca", ca), ("cert", cert), ("key", key)] {
            line(&format_args!("<{tag}>"));
            s_push_block(&mut line, pem);
            line(&format_args!("</{tag}>"));
        }
        Ok(s)
    }
}

fn s_push_block(line: &mut impl FnMut(&dyn fmt::Display), pem: &str) {
    for l in pem.lines() {
        line(&l);
    }
}

/// OpenVPN's name for a RouterOS (or OpenVPN) cipher name.
pub fn openvpn_cipher(name: &str) -> Result<&'static str, PkiError> {
    const CIPHERS: [(&str, &str); 8] = [
        ("blowfish128", "BF-CBC"),
        ("aes128-cbc", "AES-128-CBC"),
        ("aes192-cbc", "AES-192-CBC"),
        ("aes256-cbc", "AES-256-CBC"),
        ("aes128-gcm", "AES-128-GCM"),
        ("aes192-gcm", "AES-192-GCM"),
        ("aes256-gcm", "AES-256-GCM"),
        ("null", "none"),
    ];
    CIPHERS
        .iter()
        .find(|(r, o)| r.eq_ignore_ascii_case(name) || o.eq_ignore_ascii_case(name))
        .map(|(_, o)| *o)
        .ok_or_else(|| {
            PkiError::invalid(
                "cipher",
                name,
                "blowfish128, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes192-gcm, aes256-gcm or null",
            )
        })
}

/// OpenVPN's name for a RouterOS (or OpenVPN) auth (HMAC digest) name.
pub fn openvpn_auth(name: &str) -> Result<&'static str, PkiError> {
    const AUTHS: [(&str, &str); 6] = [
        ("md5", "MD5"),
        ("sha1", "SHA1"),
        ("sha256", "SHA256"),
        ("sha384", "SHA384"),
        ("sha512", "SHA512"),
        ("null", "none"),
    ];
    AUTHS
        .iter()
        .find(|(r, o)| r.eq_ignore_ascii_case(name) || o.eq_ignore_ascii_case(name))
        .map(|(_, o)| *o)
        .ok_or_else(|| PkiError::invalid("auth", name, "md5, sha1, sha256, sha384, sha512 or null"))
}

impl Store {
    /// The `.ovpn` profile for the client certificate `client` (which must have its key),
    /// trusting the CA `ca`: `NAME.ovpn`. With a non-empty `key_passphrase` the inline key is
    /// encrypted with it (OpenVPN then asks for it); otherwise it is the plain PKCS#8 key.
    pub fn client_profile(
        &self,
        profile: &ClientProfile,
        ca: &str,
        client: &str,
        key_passphrase: &str,
    ) -> Result<ExportedFile, PkiError> {
        let ca_cert = self.get(ca).ok_or_else(|| PkiError::NoSuchCertificate {
            name: ca.to_owned(),
        })?;
        let files =
            self.export_certificate(client, key_passphrase, crate::store::ExportType::Pem)?;
        let cert = self
            .get(client)
            .ok_or_else(|| PkiError::NoSuchCertificate {
                name: client.to_owned(),
            })?;
        let key = if key_passphrase.is_empty() {
            cert.private_key_pem()
                .map(|k| k.to_string())
                .ok_or_else(|| PkiError::NoPrivateKey {
                    name: client.to_owned(),
                })?
        } else {
            files
                .iter()
                .find(|f| f.file_name.ends_with(".key"))
                .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
                .ok_or_else(|| PkiError::NoPrivateKey {
                    name: client.to_owned(),
                })?
        };
        let mut chain = String::new();
        for der in self.chain(client)? {
            chain.push_str(&crate::pem::encode("CERTIFICATE", &der));
        }
        let text = profile.render(&ca_cert.pem(), &chain, &key)?;
        Ok(ExportedFile {
            file_name: format!("{client}.ovpn"),
            contents: text.into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_without_ncp_disable() {
        let p = ClientProfile::from_properties(&[
            ("server-address", "vpn.example.com"),
            ("protocol", "tcp"),
            ("cipher", "aes256-gcm"),
            ("auth", "sha1"),
        ])
        .unwrap();
        let text = p.render("CA\n", "CERT\n", "KEY\n").unwrap();
        assert!(!text.contains("ncp-disable"));
        assert!(text.contains("\nremote vpn.example.com 1194\n"));
        assert!(text.contains("\nproto tcp-client\n"));
        assert!(text.contains("\ncipher AES-256-GCM\n"));
        assert!(text.contains("\ndata-ciphers AES-256-GCM\n"));
        assert!(text.contains("\nauth SHA1\n"));
        assert!(text.contains("\nremote-cert-tls server\n"));
        assert!(text.contains("\nauth-user-pass\n"));
        assert!(!text.contains("explicit-exit-notify"), "TCP needs none");
        let udp = ClientProfile::from_properties(&[("server-address", "h"), ("protocol", "udp")])
            .unwrap()
            .render("CA\n", "CERT\n", "KEY\n")
            .unwrap();
        assert!(udp.contains("\nexplicit-exit-notify 1\n"));
        assert!(text.contains("<ca>\nCA\n</ca>\n<cert>\nCERT\n</cert>\n<key>\nKEY\n</key>\n"));
    }

    #[test]
    fn rejects_bad_values() {
        for (k, v) in [
            ("cipher", "rot13"),
            ("auth", "crc32"),
            ("protocol", "sctp"),
            ("port", "0"),
            ("server-address", "a b\nscript-security 3"),
        ] {
            let e = ClientProfile::from_properties(&[("server-address", "h"), (k, v)]).unwrap_err();
            assert!(e.to_string().contains(k), "{k}: {e}");
        }
        assert!(ClientProfile::from_properties(&[]).is_err());
        assert_eq!(openvpn_cipher("blowfish128").unwrap(), "BF-CBC");
        assert_eq!(openvpn_auth("SHA512").unwrap(), "SHA512");
    }
}
