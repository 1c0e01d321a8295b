//! `.ovpn` client profiles for clients that are not RouterOS (OpenVPN 2.6, OpenVPN Connect), made
//! from a server's settings (`export-client-configuration`), with the CA, the client certificate
//! and its key inline.
//!
//! The RouterOS page's profile carries `ncp-disable`, which OpenVPN 2.6 refuses with an options
//! error. A RouterOS server negotiates no cipher (it pushes none), so the profile pins the
//! configured cipher three ways, all accepted by 2.6: `cipher` (the options string, "poor man's
//! NCP"), `data-ciphers` (the only cipher the client accepts) and `data-ciphers-fallback` (used
//! when the server names no cipher at all).

use core::fmt::Write as _;

use ovpn_crypto::{Cipher, Digest};
use ovpn_pki::{PkiError, Store};
use ovpn_session::{Mode, Transport};

/// A client profile's settings: the server's address as clients reach it, and the server's
/// `port`, `protocol`, `mode`, first `cipher` and first `auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientProfile {
    /// `server-address`: host name or IP address.
    pub remote: String,
    /// `port`.
    pub port: u16,
    /// `protocol`.
    pub transport: Transport,
    /// `mode`: `dev tun` (ip) or `dev tap` (ethernet).
    pub mode: Mode,
    /// The data cipher.
    pub cipher: Cipher,
    /// The HMAC digest (`auth`).
    pub auth: Digest,
    /// Whether to ask for a user name and password (`auth-user-pass`); RouterOS servers always
    /// want them.
    pub auth_user_pass: bool,
    /// `verb`.
    pub verb: u8,
    /// tls-auth, tls-crypt or tls-crypt-v2, inline.
    pub control: ControlKey,
}

/// The control-channel protection a profile carries, with the key file's text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ControlKey {
    /// None.
    #[default]
    None,
    /// `<tls-auth>` with the client's `key-direction` (None: bidirectional).
    TlsAuth {
        /// The static key file's text.
        key: String,
        /// The client's key direction.
        direction: Option<u8>,
    },
    /// `<tls-crypt>`.
    TlsCrypt {
        /// The static key file's text.
        key: String,
    },
    /// `<tls-crypt-v2>`: the client's own key.
    TlsCryptV2 {
        /// The client key file's text.
        key: String,
    },
}

/// Why a profile could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The address would not be a single word of the profile.
    #[error("server-address={0:?}: expected a host name or IP address")]
    BadAddress(String),
    /// Port 0.
    #[error("port=0: expected a port 1..65535")]
    BadPort,
    /// A certificate or key of the store.
    #[error(transparent)]
    Pki(#[from] PkiError),
}

impl ClientProfile {
    /// A profile for `remote`:`port` with the RouterOS page's defaults: UDP, `dev tun`,
    /// AES-256-CBC and SHA256, a user name and password, verb 3.
    pub fn new(remote: impl Into<String>, port: u16) -> Self {
        Self {
            remote: remote.into(),
            port,
            transport: Transport::Udp,
            mode: Mode::Ip,
            cipher: Cipher::Aes256Cbc,
            auth: Digest::Sha256,
            auth_user_pass: true,
            verb: 3,
            control: ControlKey::None,
        }
    }

    /// The profile text, with `ca`, `cert` and `key` (PEM) inline.
    pub fn render(&self, ca: &str, cert: &str, key: &str) -> Result<String, ProfileError> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        };
        if !plain(&self.remote) {
            return Err(ProfileError::BadAddress(self.remote.clone()));
        }
        if self.port == 0 {
            return Err(ProfileError::BadPort);
        }
        let cipher = self.cipher.openvpn_name();
        let mut lines = vec![
            "client".to_owned(),
            match self.mode {
                Mode::Ip => "dev tun",
                Mode::Ethernet => "dev tap",
            }
            .to_owned(),
            match self.transport {
                Transport::Udp => "proto udp",
                Transport::Tcp => "proto tcp-client",
            }
            .to_owned(),
            format!("remote {} {}", self.remote, self.port),
            "resolv-retry infinite".into(),
            "nobind".into(),
            "persist-key".into(),
            "persist-tun".into(),
            "remote-cert-tls server".into(),
        ];
        if self.transport == Transport::Udp {
            // Tell the server when the client stops, so its session ends at once instead of at
            // keepalive-timeout.
            lines.push("explicit-exit-notify 1".into());
        }
        if self.auth_user_pass {
            lines.push("auth-user-pass".into());
        }
        lines.push(format!("auth {}", self.auth.openvpn_name()));
        if self.cipher == Cipher::BfCbc {
            // OpenSSL 3 keeps Blowfish in its legacy provider.
            lines.push("providers legacy default".into());
        }
        // RouterOS negotiates no cipher: pin the configured one (no `ncp-disable`, which
        // OpenVPN 2.6 refuses).
        lines.push(format!("cipher {cipher}"));
        lines.push(format!("data-ciphers {cipher}"));
        lines.push(format!("data-ciphers-fallback {cipher}"));
        lines.push(format!("verb {}", self.verb));
        let mut s = String::new();
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
        let (control_tag, control_key) = match &self.control {
            ControlKey::None => (None, ""),
            ControlKey::TlsAuth { key, direction } => {
                if let Some(d) = direction {
                    let _ = writeln!(s, "key-direction {d}");
                }
                (Some("tls-auth"), key.as_str())
            }
            ControlKey::TlsCrypt { key } => (Some("tls-crypt"), key.as_str()),
            ControlKey::TlsCryptV2 { key } => (Some("tls-crypt-v2"), key.as_str()),
        };
        let control = control_tag.map(|t| (t, control_key));
        for (tag, pem) in [("ca", ca), ("cert", cert), ("key", key)]
            .into_iter()
            .chain(control)
        {
            let _ = writeln!(s, "<{tag}>");
            for l in pem.lines() {
                let _ = writeln!(s, "{l}");
            }
            let _ = writeln!(s, "</{tag}>");
        }
        Ok(s)
    }

    /// The profile for the client certificate `client` of `store` (which must have its key),
    /// trusting the CA `ca`. With a non-empty `key_passphrase` the inline key is encrypted with
    /// it (OpenVPN then asks for it); otherwise it is the plain PKCS#8 key.
    pub fn for_certificate(
        &self,
        store: &Store,
        ca: &str,
        client: &str,
        key_passphrase: &str,
    ) -> Result<String, ProfileError> {
        let no_such = |name: &str| PkiError::NoSuchCertificate {
            name: name.to_owned(),
        };
        let ca_pem = store.get(ca).ok_or_else(|| no_such(ca))?.pem();
        let cert = store.get(client).ok_or_else(|| no_such(client))?;
        let no_key = || PkiError::NoPrivateKey {
            name: client.to_owned(),
        };
        let key = if key_passphrase.is_empty() {
            cert.private_key_pem()
                .map(|k| k.to_string())
                .ok_or_else(no_key)?
        } else {
            store
                .export_certificate(client, key_passphrase, ovpn_pki::ExportType::Pem)?
                .iter()
                .find(|f| f.file_name.ends_with(".key"))
                .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
                .ok_or_else(no_key)?
        };
        self.render(&ca_pem, &store.chain_pem(client)?, &key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_without_ncp_disable() {
        let mut p = ClientProfile::new("vpn.example.com", 1194);
        p.transport = Transport::Tcp;
        p.cipher = Cipher::Aes256Gcm;
        p.auth = Digest::Sha1;
        let text = p.render("CA\n", "CERT\n", "KEY\n").unwrap();
        assert!(!text.contains("ncp-disable"));
        for line in [
            "remote vpn.example.com 1194",
            "proto tcp-client",
            "dev tun",
            "cipher AES-256-GCM",
            "data-ciphers AES-256-GCM",
            "data-ciphers-fallback AES-256-GCM",
            "auth SHA1",
            "remote-cert-tls server",
            "auth-user-pass",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line}:\n{text}");
        }
        assert!(!text.contains("explicit-exit-notify"), "TCP needs none");
        assert!(text.contains("<ca>\nCA\n</ca>\n<cert>\nCERT\n</cert>\n<key>\nKEY\n</key>\n"));
        let mut udp = ClientProfile::new("h", 1194);
        udp.cipher = Cipher::BfCbc;
        udp.mode = Mode::Ethernet;
        let udp = udp.render("CA\n", "CERT\n", "KEY\n").unwrap();
        assert!(udp.contains("\nexplicit-exit-notify 1\n"));
        assert!(udp.contains("\nproviders legacy default\n"));
        assert!(udp.contains("\ndev tap\n"));
    }

    #[test]
    fn refuses_what_would_break_the_profile() {
        let bad = ClientProfile::new("a b\nscript-security 3", 1194);
        assert!(matches!(
            bad.render("", "", ""),
            Err(ProfileError::BadAddress(_))
        ));
        assert!(matches!(
            ClientProfile::new("h", 0).render("", "", ""),
            Err(ProfileError::BadPort)
        ));
        let store = Store::new();
        assert!(matches!(
            ClientProfile::new("h", 1).for_certificate(&store, "ca", "c", ""),
            Err(ProfileError::Pki(PkiError::NoSuchCertificate { .. }))
        ));
    }
}
