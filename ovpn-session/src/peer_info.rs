//! Peer-info (`IV_*` lines a client sends in its key-method-2 record) and the options-compatibility
//! (OCC) string both sides send.

use core::fmt::Write as _;

/// `IV_PROTO` bits (ssl.h). Only advertise what is implemented: a 2.6 server turns features on
/// from these bits alone.
#[allow(
    dead_code,
    reason = "the whole bit table of ssl.h, so that a peer's flags read against it"
)]
pub mod iv_proto {
    /// Bit 1: P_DATA_V2 with a pushed peer-id.
    pub const DATA_V2: u32 = 1 << 1;
    /// Bit 2: the client takes a PUSH_REPLY without sending PUSH_REQUEST first.
    pub const REQUEST_PUSH: u32 = 1 << 2;
    /// Bit 3: data keys from the TLS keying-material exporter (tls-ekm).
    pub const TLS_KEY_EXPORT: u32 = 1 << 3;
    /// Bit 4: keywords in AUTH_PENDING.
    pub const AUTH_PENDING_KW: u32 = 1 << 4;
    /// Bit 5: NCP in peer-to-peer mode.
    pub const NCP_P2P: u32 = 1 << 5;
    /// Bit 6: the `dns` option.
    pub const DNS_OPTION: u32 = 1 << 6;
    /// Bit 7: the EXIT control message and `protocol-flags`.
    pub const CC_EXIT_NOTIFY: u32 = 1 << 7;
    /// Bit 8: AUTH_FAILED,TEMP.
    pub const AUTH_FAIL_TEMP: u32 = 1 << 8;
    /// Bit 9: dynamic tls-crypt for renegotiations.
    pub const DYN_TLS_CRYPT: u32 = 1 << 9;
}

/// What a client said about itself in peer-info.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerInfo {
    /// `IV_VER`.
    pub version: Option<String>,
    /// `IV_PLAT`.
    pub platform: Option<String>,
    /// `IV_PROTO` (0 when absent).
    pub proto: u32,
    /// `IV_CIPHERS`, split on `:` (empty when absent).
    pub ciphers: Vec<String>,
    /// `IV_NCP` (0 when absent).
    pub ncp: u32,
    /// `IV_MTU`.
    pub mtu: Option<u32>,
    /// `IV_COMP_STUBv2=1`: understands `compress stub-v2`.
    pub comp_stub_v2: bool,
    /// Every `KEY=VALUE` line, in order (for logs and the application).
    pub all: Vec<(String, String)>,
}

impl PeerInfo {
    /// Parses peer-info text. Lines without `=` are ignored; numbers that do not parse count as absent.
    pub fn parse(text: &str) -> Self {
        let mut p = PeerInfo::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k {
                "IV_VER" => p.version = Some(v.to_owned()),
                "IV_PLAT" => p.platform = Some(v.to_owned()),
                "IV_PROTO" => p.proto = v.parse().unwrap_or(0),
                "IV_CIPHERS" => {
                    p.ciphers = v
                        .split(':')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "IV_NCP" => p.ncp = v.parse().unwrap_or(0),
                "IV_MTU" => p.mtu = v.parse().ok(),
                "IV_COMP_STUBv2" => p.comp_stub_v2 = v == "1",
                _ => {}
            }
            p.all.push((k.to_owned(), v.to_owned()));
        }
        p
    }

    /// Whether a protocol bit is set.
    pub fn has(&self, bit: u32) -> bool {
        self.proto & bit != 0
    }

    /// The ciphers this peer can negotiate (ssl_ncp.c `tls_peer_ncp_list`): `IV_CIPHERS`, else
    /// AES-256-GCM and AES-128-GCM when `IV_NCP >= 2`, else none.
    pub fn ncp_ciphers(&self) -> Vec<String> {
        if !self.ciphers.is_empty() {
            self.ciphers.clone()
        } else if self.ncp >= 2 {
            vec!["AES-256-GCM".into(), "AES-128-GCM".into()]
        } else {
            Vec::new()
        }
    }

    /// Renders peer-info text (`KEY=VALUE\n` lines) from pairs.
    pub fn render(pairs: &[(&str, String)]) -> String {
        let mut s = String::new();
        for (k, v) in pairs {
            let _ = writeln!(s, "{k}={v}");
        }
        s
    }
}

/// The transport as the options string names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccProto {
    /// `UDPv4`.
    Udp,
    /// `TCPv4_CLIENT`.
    TcpClient,
    /// `TCPv4_SERVER`.
    TcpServer,
}

/// The fields of an options-compatibility string (options.c `options_string`). OpenVPN 2.6 only
/// warns on a mismatch; it reads `cipher` from it (poor man's NCP) and `comp-lzo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occ<'a> {
    /// `dev-type tap` rather than `tun`.
    pub tap: bool,
    /// `link-mtu`.
    pub link_mtu: u32,
    /// `tun-mtu`.
    pub tun_mtu: u32,
    /// `proto`.
    pub proto: OccProto,
    /// `cipher`, when there is a fixed one.
    pub cipher: Option<&'a str>,
    /// `auth`.
    pub auth: &'a str,
    /// `keysize` in bits.
    pub keysize_bits: u32,
    /// `tls-server` rather than `tls-client`.
    pub server: bool,
    /// `comp-lzo`: some compression framing is configured (options.c adds it for stubs too).
    pub comp_lzo: bool,
}

impl core::fmt::Display for Occ<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "V4,dev-type {},link-mtu {},tun-mtu {},proto {}",
            if self.tap { "tap" } else { "tun" },
            self.link_mtu,
            self.tun_mtu,
            match self.proto {
                OccProto::Udp => "UDPv4",
                OccProto::TcpClient => "TCPv4_CLIENT",
                OccProto::TcpServer => "TCPv4_SERVER",
            }
        )?;
        if self.comp_lzo {
            f.write_str(",comp-lzo")?;
        }
        if let Some(c) = self.cipher {
            write!(f, ",cipher {c}")?;
        }
        write!(
            f,
            ",auth {},keysize {},key-method 2,{}",
            self.auth,
            self.keysize_bits,
            if self.server {
                "tls-server"
            } else {
                "tls-client"
            }
        )
    }
}

/// Extracts an option's first argument from an options string (options.c
/// `options_string_extract_option`): `occ_option(s, "cipher")` gives `Some("AES-256-CBC")`.
pub fn occ_option<'a>(occ: &'a str, name: &str) -> Option<&'a str> {
    occ.split(',').find_map(|item| {
        let mut words = item.split(' ');
        (words.next() == Some(name)).then(|| words.next().unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the real OpenVPN 2.6.14 client sent (lab capture).
    const REAL: &str = "IV_VER=2.6.14\nIV_PLAT=linux\nIV_TCPNL=1\nIV_MTU=1600\nIV_CIPHERS=AES-256-GCM\nIV_PROTO=990\nIV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n";

    #[test]
    fn parses_the_real_client() {
        let p = PeerInfo::parse(REAL);
        assert_eq!(p.version.as_deref(), Some("2.6.14"));
        assert_eq!(p.proto, 990);
        assert!(p.has(iv_proto::DATA_V2) && p.has(iv_proto::TLS_KEY_EXPORT));
        assert!(p.has(iv_proto::CC_EXIT_NOTIFY) && !p.has(iv_proto::NCP_P2P));
        assert_eq!(p.ciphers, ["AES-256-GCM"]);
        assert_eq!(p.ncp_ciphers(), ["AES-256-GCM"]);
        assert_eq!(p.mtu, Some(1600));
        assert_eq!(p.all.len(), 9);
    }

    #[test]
    fn routeros_client_has_no_ncp() {
        let p = PeerInfo::parse("IV_PROTO=2\n");
        assert!(p.ncp_ciphers().is_empty());
        let p = PeerInfo::parse("IV_NCP=2\ngarbage\nIV_PROTO=x\n");
        assert_eq!(p.ncp_ciphers(), ["AES-256-GCM", "AES-128-GCM"]);
        assert_eq!(p.proto, 0);
    }

    #[test]
    fn occ_round_trip() {
        let s = Occ {
            tap: false,
            link_mtu: 1557,
            tun_mtu: 1500,
            proto: OccProto::Udp,
            cipher: Some("AES-256-CBC"),
            auth: "SHA1",
            keysize_bits: 256,
            server: false,
            comp_lzo: false,
        }
        .to_string();
        assert_eq!(
            s,
            "V4,dev-type tun,link-mtu 1557,tun-mtu 1500,proto UDPv4,cipher AES-256-CBC,auth SHA1,keysize 256,key-method 2,tls-client"
        );
        assert_eq!(occ_option(&s, "cipher"), Some("AES-256-CBC"));
        assert_eq!(occ_option(&s, "auth"), Some("SHA1"));
        let framed = Occ {
            tap: false,
            link_mtu: 1557,
            tun_mtu: 1500,
            proto: OccProto::Udp,
            cipher: None,
            auth: "SHA1",
            keysize_bits: 256,
            server: false,
            comp_lzo: true,
        }
        .to_string();
        assert!(
            framed.contains(",proto UDPv4,comp-lzo,auth SHA1,"),
            "{framed}"
        );
        assert_eq!(occ_option(&s, "comp-lzo"), None);
        assert_eq!(occ_option("V4,comp-lzo,auth SHA1", "comp-lzo"), Some(""));
    }
}
