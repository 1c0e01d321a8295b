//! Choosing the data channel, for both sides: the server picks from what the client offers
//! (ssl_ncp.c `ncp_get_best_cipher`, extended with RouterOS's cipher and auth sets), the client
//! checks what the server pushed or names in its options string (ssl_ncp.c
//! `check_pull_client_ncp`), and both describe themselves in the options string (OCC) a peer
//! without negotiation reads the cipher from.

use ovpn_crypto::{Cipher, Digest};

use crate::channel::DataParams;
use crate::config::{Mode, Transport};
use crate::peer_info::{Occ, OccProto, PeerInfo, iv_proto, occ_option};

/// What a side says about itself in its options string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local {
    pub(crate) mode: Mode,
    pub(crate) transport: Transport,
    pub(crate) max_mtu: u16,
    pub(crate) server: bool,
    /// Some compression framing is configured (`,comp-lzo` in the options string).
    pub(crate) framing: bool,
}

/// Our options string, naming `cipher` and `digest` (a peer without negotiation checks them).
pub(crate) fn occ(local: Local, cipher: Cipher, digest: Option<Digest>) -> String {
    let auth = match digest {
        _ if cipher.is_aead() => "[null-digest]",
        Some(d) => d.openvpn_name(),
        None => "SHA1",
    };
    Occ {
        tap: local.mode == Mode::Ethernet,
        link_mtu: u32::from(local.max_mtu) + 49,
        tun_mtu: u32::from(local.max_mtu),
        proto: match (local.transport, local.server) {
            (Transport::Udp, _) => OccProto::Udp,
            (Transport::Tcp, true) => OccProto::TcpServer,
            (Transport::Tcp, false) => OccProto::TcpClient,
        },
        cipher: Some(cipher.openvpn_name()),
        auth,
        keysize_bits: (cipher.key_len() * 8) as u32,
        server: local.server,
        comp_lzo: local.framing,
    }
    .to_string()
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(name).collect::<Vec<_>>().join(":")
}

/// The server's choice for a client that sent `info` (peer-info) and `occ` (its options string),
/// from the accepted `ciphers` (in order of preference) and `auths`. The error is the `no
/// encryption` line, naming what each side has.
pub(crate) fn server_choice(
    ciphers: &[Cipher],
    auths: &[Digest],
    info: &PeerInfo,
    occ: &str,
) -> Result<DataParams, String> {
    let ours = || names(ciphers, |c| c.openvpn_name());
    let offered = info.ncp_ciphers();
    let occ_cipher = occ_option(occ, "cipher");
    let cipher = if !offered.is_empty() {
        ciphers
            .iter()
            .copied()
            .find(|c| offered.iter().any(|o| o.parse::<Cipher>().ok() == Some(*c)))
            .ok_or_else(|| {
                let mut s = format!(
                    "no encryption: we accept {}, the client offers {} (IV_CIPHERS)",
                    ours(),
                    offered.join(":")
                );
                if let Some(c) = occ_cipher {
                    s += &format!(
                        "; its profile says `cipher {c}`, which OpenVPN 2.6 does not offer: add `data-ciphers {c}` to it"
                    );
                }
                s
            })?
    } else {
        // No negotiation (a RouterOS client): the cipher of its options string.
        let c = occ_cipher.ok_or_else(|| {
            format!(
                "no encryption: the client offers no cipher, we accept {}",
                ours()
            )
        })?;
        c.parse::<Cipher>()
            .ok()
            .filter(|c| ciphers.contains(c))
            .ok_or_else(|| format!("no encryption: the client uses {c}, we accept {}", ours()))?
    };
    let digest = if cipher.is_aead() {
        Digest::None
    } else {
        let auth = occ_option(occ, "auth").unwrap_or("SHA1");
        auth.parse::<Digest>()
            .ok()
            .filter(|d| auths.contains(d))
            .ok_or_else(|| {
                format!(
                    "no encryption: the client authenticates with {auth}, we accept {}",
                    names(auths, |d| d.openvpn_name())
                )
            })?
    };
    Ok(DataParams {
        cipher,
        digest,
        ekm: info.has(iv_proto::TLS_KEY_EXPORT),
    })
}

/// The client's check of the server's choice: the pushed `cipher`, else the one the server's
/// options string names (poor man's NCP), must be ours. The error is the `no encryption` line.
pub(crate) fn client_choice(
    offered: &[Cipher],
    pushed: Option<&str>,
    server_occ: Option<&str>,
) -> Result<Cipher, String> {
    let ours = offered.first().copied().unwrap_or(Cipher::Aes256Gcm);
    let offer = || names(offered, |c| c.openvpn_name());
    let ours_of = |c: &str| c.parse::<Cipher>().ok().filter(|c| offered.contains(c));
    match (pushed, server_occ.and_then(|o| occ_option(o, "cipher"))) {
        (Some(c), _) => ours_of(c)
            .ok_or_else(|| format!("no encryption: the server chose {c}, we offer {}", offer())),
        (None, Some(c)) => ours_of(c)
            .ok_or_else(|| format!("no encryption: the server uses {c}, we offer {}", offer())),
        (None, None) => Ok(ours),
    }
}

/// The peer's mode from its options string (`dev-type tun|tap`); None when it does not say.
pub(crate) fn peer_mode(occ: &str) -> Option<Mode> {
    match occ_option(occ, "dev-type")? {
        "tap" => Some(Mode::Ethernet),
        "tun" => Some(Mode::Ip),
        _ => None,
    }
}

/// Refuses a peer whose device type is not ours.
pub(crate) fn check_mode(ours: Mode, peer_occ: &str) -> Result<(), crate::DisconnectReason> {
    match peer_mode(peer_occ) {
        Some(peer) if peer != ours => {
            Err(crate::DisconnectReason::DeviceTypeMismatch { ours, peer })
        }
        _ => Ok(()),
    }
}

/// What a negotiating client offers after its own cipher (RouterOS's supported set, strongest
/// first; not Blowfish or none, which are offered only when configured).
pub(crate) const CLIENT_NCP_SET: [Cipher; 6] = [
    Cipher::Aes256Gcm,
    Cipher::Aes128Gcm,
    Cipher::Chacha20Poly1305,
    Cipher::Aes256Cbc,
    Cipher::Aes192Cbc,
    Cipher::Aes128Cbc,
];

/// A session's data channel: its cipher and, for CBC ciphers, its HMAC digest. Displays as
/// RouterOS's `encoding` (`AES-256-GCM`, `AES-256-CBC/SHA256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoding {
    /// The data cipher.
    pub cipher: Cipher,
    /// The HMAC digest ([`Digest::None`] with an AEAD cipher).
    pub digest: Digest,
}

impl core::fmt::Display for Encoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.cipher.is_aead() {
            f.write_str(self.cipher.openvpn_name())
        } else {
            write!(
                f,
                "{}/{}",
                self.cipher.openvpn_name(),
                self.digest.openvpn_name()
            )
        }
    }
}

/// The encoding of a data channel.
pub(crate) fn encoding(p: DataParams) -> Encoding {
    Encoding {
        cipher: p.cipher,
        digest: if p.cipher.is_aead() {
            Digest::None
        } else {
            p.digest
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(text: &str) -> PeerInfo {
        PeerInfo::parse(text)
    }

    #[test]
    fn server_prefers_its_own_order_among_the_offered() {
        let p = server_choice(
            &[Cipher::Aes128Gcm, Cipher::Aes256Gcm],
            &[Digest::Sha1],
            &info("IV_CIPHERS=AES-256-GCM:AES-128-GCM\nIV_PROTO=10\n"),
            "V4,cipher AES-256-CBC",
        )
        .unwrap();
        assert_eq!(p.cipher, Cipher::Aes128Gcm);
        assert_eq!(p.digest, Digest::None);
        assert!(p.ekm);
    }

    #[test]
    fn server_without_negotiation_takes_the_options_string() {
        let p = server_choice(
            &[Cipher::Aes256Cbc],
            &[Digest::Sha256],
            &info("IV_PROTO=2\n"),
            "V4,dev-type tun,cipher AES-256-CBC,auth SHA256,keysize 256",
        )
        .unwrap();
        assert_eq!(
            (p.cipher, p.digest, p.ekm),
            (Cipher::Aes256Cbc, Digest::Sha256, false)
        );
        let e = server_choice(
            &[Cipher::Aes256Cbc],
            &[Digest::Sha1],
            &info("IV_PROTO=2\n"),
            "V4,cipher AES-256-CBC,auth SHA256",
        )
        .unwrap_err();
        assert!(
            e.starts_with("no encryption: the client authenticates with SHA256"),
            "{e}"
        );
    }

    #[test]
    fn server_mismatch_names_the_data_ciphers_fix() {
        let e = server_choice(
            &[Cipher::Aes256Cbc],
            &[Digest::Sha1],
            &info("IV_CIPHERS=AES-256-GCM\n"),
            "V4,cipher AES-256-CBC",
        )
        .unwrap_err();
        assert!(e.contains("data-ciphers AES-256-CBC"), "{e}");
    }

    #[test]
    fn client_accepts_only_what_it_offered() {
        let ours = [Cipher::Aes256Gcm];
        let c = Cipher::Aes256Gcm;
        assert_eq!(client_choice(&ours, Some("AES-256-GCM"), None), Ok(c));
        assert!(client_choice(&ours, Some("AES-128-GCM"), None).is_err());
        assert_eq!(
            client_choice(&ours, None, Some("V4,cipher AES-256-GCM")),
            Ok(c)
        );
        assert!(client_choice(&ours, None, Some("V4,cipher BF-CBC")).is_err());
        assert_eq!(client_choice(&ours, None, None), Ok(c));
        // A list: the server may choose any of it; with nothing pushed, the first.
        let list = [Cipher::Aes128Cbc, Cipher::Aes256Gcm];
        assert_eq!(
            client_choice(&list, Some("AES-256-GCM"), None),
            Ok(Cipher::Aes256Gcm)
        );
        assert_eq!(client_choice(&list, None, None), Ok(Cipher::Aes128Cbc));
        let e = client_choice(&list, Some("BF-CBC"), None).unwrap_err();
        assert!(e.contains("we offer AES-128-CBC:AES-256-GCM"), "{e}");
    }

    #[test]
    fn occ_names_the_cipher_and_the_digest() {
        let local = Local {
            mode: Mode::Ip,
            transport: Transport::Tcp,
            max_mtu: 1500,
            server: true,
            framing: false,
        };
        let s = occ(local, Cipher::Aes256Cbc, Some(Digest::Sha256));
        assert!(
            s.contains("cipher AES-256-CBC") && s.contains("auth SHA256"),
            "{s}"
        );
        assert!(s.contains("proto TCPv4_SERVER"), "{s}");
        let s = occ(local, Cipher::Aes256Gcm, Some(Digest::Sha256));
        assert!(s.contains("auth [null-digest]"), "{s}");
    }
}
