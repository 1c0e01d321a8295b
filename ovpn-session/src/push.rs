//! The options a server pushes in PUSH_REPLY, as a typed model (push.c `prepare_push_reply`,
//! options.c for each option's syntax).

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
pub use ovpn_ppp::Route;

/// How the client's tunnel address is laid out (`topology`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Topology {
    /// `topology net30` (OpenVPN 2.6's default): `ifconfig local peer`.
    #[default]
    Net30,
    /// `topology p2p`: `ifconfig local peer`.
    P2p,
    /// `topology subnet`: `ifconfig address netmask`.
    Subnet,
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Net30 => "net30",
            Self::P2p => "p2p",
            Self::Subnet => "subnet",
        })
    }
}

/// Why a PUSH_REPLY option could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad pushed option {option:?}: {why}")]
pub struct PushError {
    /// The option text.
    pub option: String,
    /// What was wrong.
    pub why: &'static str,
}

/// The pushed options this implementation acts on, plus everything else kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushOptions {
    /// `ifconfig a b`: the client's address and (subnet) netmask or (net30/p2p) peer address.
    pub ifconfig: Option<(Ipv4Addr, Ipv4Addr)>,
    /// `ifconfig-ipv6 addr/bits remote`.
    pub ifconfig_ipv6: Option<(Ipv6Addr, u8, Ipv6Addr)>,
    /// `topology`.
    pub topology: Option<Topology>,
    /// `route-gateway`.
    pub route_gateway: Option<Ipv4Addr>,
    /// `route` lines, and `route-ipv6` lines (IPv6 destinations).
    pub routes: Vec<Route>,
    /// `redirect-gateway` flags (e.g. `def1`), when pushed.
    pub redirect_gateway: Option<Vec<String>>,
    /// `dhcp-option DNS` servers.
    pub dns: Vec<Ipv4Addr>,
    /// Other `dhcp-option` entries (kind, value), e.g. `DOMAIN`.
    pub dhcp_options: Vec<(String, String)>,
    /// `ping n`.
    pub ping: Option<u32>,
    /// `ping-restart n`.
    pub ping_restart: Option<u32>,
    /// `peer-id n`.
    pub peer_id: Option<u32>,
    /// `cipher X` (NCP).
    pub cipher: Option<String>,
    /// `auth X`.
    pub auth: Option<String>,
    /// `protocol-flags` words (e.g. `cc-exit`, `tls-ekm`).
    pub protocol_flags: Vec<String>,
    /// `key-derivation tls-ekm`.
    pub key_derivation: Option<String>,
    /// `tun-mtu n`.
    pub tun_mtu: Option<u32>,
    /// `push-continuation n` (2 = more follows, 1 = last).
    pub continuation: Option<u8>,
    /// `comp-lzo ...` or `compress ...`: the compression framing the client must use (see
    /// [`crate::Framing::from_option`]).
    pub compression: Option<String>,
    /// Options kept as text and not acted on.
    pub other: Vec<String>,
}

impl PushOptions {
    /// Whether tls-ekm key derivation was pushed (either form).
    pub fn tls_ekm(&self) -> bool {
        self.key_derivation.as_deref() == Some("tls-ekm")
            || self.protocol_flags.iter().any(|f| f == "tls-ekm")
    }

    /// Whether the peer understands the `EXIT` control message.
    pub fn cc_exit(&self) -> bool {
        self.protocol_flags.iter().any(|f| f == "cc-exit")
    }

    /// Merges the options text of one PUSH_REPLY (after `PUSH_REPLY,`) into `self`.
    pub fn merge(&mut self, text: &str) -> Result<(), PushError> {
        for opt in text.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            self.merge_one(opt)?;
        }
        Ok(())
    }

    fn merge_one(&mut self, opt: &str) -> Result<(), PushError> {
        let words: Vec<&str> = opt.split_ascii_whitespace().collect();
        let err = |why| PushError {
            option: opt.to_owned(),
            why,
        };
        let ip = |i: usize| -> Result<Ipv4Addr, PushError> {
            words
                .get(i)
                .ok_or_else(|| err("missing address"))?
                .parse()
                .map_err(|_| err("bad IPv4 address"))
        };
        let num = |i: usize| -> Result<u32, PushError> {
            words
                .get(i)
                .ok_or_else(|| err("missing number"))?
                .parse()
                .map_err(|_| err("bad number"))
        };
        let word = |i: usize| -> Result<String, PushError> {
            Ok((*words.get(i).ok_or_else(|| err("missing argument"))?).to_owned())
        };
        match words.first().copied().unwrap_or_default() {
            "ifconfig" => self.ifconfig = Some((ip(1)?, ip(2)?)),
            "ifconfig-ipv6" => {
                let (addr, bits) = word(1)?
                    .split_once('/')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or_else(|| err("missing prefix length"))?;
                let addr = addr.parse().map_err(|_| err("bad IPv6 address"))?;
                let bits = bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= 128)
                    .ok_or_else(|| err("bad prefix length"))?;
                let remote = word(2)?.parse().map_err(|_| err("bad IPv6 address"))?;
                self.ifconfig_ipv6 = Some((addr, bits, remote));
            }
            "topology" => {
                self.topology = Some(match word(1)?.as_str() {
                    "net30" => Topology::Net30,
                    "p2p" => Topology::P2p,
                    "subnet" => Topology::Subnet,
                    _ => return Err(err("unknown topology")),
                })
            }
            // `route-gateway dhcp` (2.6's `server-bridge` without addresses): the TAP client
            // learns its gateway by DHCP over the bridge, which is not ours to do.
            "route-gateway" if words.get(1) == Some(&"dhcp") => self.other.push(opt.to_owned()),
            "route-gateway" => self.route_gateway = Some(ip(1)?),
            "comp-lzo" | "compress" => {
                if crate::compress::Framing::from_option(opt).is_none() {
                    return Err(err("unknown compression algorithm"));
                }
                self.compression = Some(words.join(" "));
            }
            "route" => {
                let netmask = if words.len() > 2 {
                    ip(2)?
                } else {
                    Ipv4Addr::BROADCAST
                };
                let gateway = match words.get(3) {
                    Some(&"vpn_gateway") | None => None,
                    Some(_) => Some(ip(3)?),
                };
                let metric = if words.len() > 4 { Some(num(4)?) } else { None };
                let dst = Ipv4Net::with_netmask(ip(1)?, netmask)
                    .map_err(|_| err("non-contiguous netmask"))?;
                self.routes.push(Route {
                    dst: IpNet::V4(dst),
                    gateway: gateway.map(IpAddr::V4),
                    metric,
                });
            }
            // 2.6 pushes it to say the tunnel carries IPv6; ifconfig-ipv6 is what acts on it.
            "tun-ipv6" => {}
            "route-ipv6" => {
                let dst: Ipv6Net = word(1)?.parse().map_err(|_| err("bad IPv6 prefix"))?;
                let gateway = match words.get(2) {
                    None => None,
                    Some(g) => Some(IpAddr::V6(g.parse().map_err(|_| err("bad IPv6 gateway"))?)),
                };
                let metric = if words.len() > 3 { Some(num(3)?) } else { None };
                self.routes.push(Route {
                    dst: IpNet::V6(dst),
                    gateway,
                    metric,
                });
            }
            "redirect-gateway" => {
                self.redirect_gateway = Some(words[1..].iter().map(|w| (*w).to_owned()).collect())
            }
            "dhcp-option" => {
                let kind = word(1)?;
                let value = word(2)?;
                if kind.eq_ignore_ascii_case("DNS") {
                    self.dns
                        .push(value.parse().map_err(|_| err("bad DNS address"))?);
                } else {
                    self.dhcp_options.push((kind, value));
                }
            }
            "ping" => self.ping = Some(num(1)?),
            "ping-restart" => self.ping_restart = Some(num(1)?),
            "peer-id" => {
                let id = num(1)?;
                if id > 0xff_ffff {
                    return Err(err("peer-id above 24 bits"));
                }
                self.peer_id = Some(id);
            }
            "cipher" => self.cipher = Some(word(1)?),
            "auth" => self.auth = Some(word(1)?),
            "protocol-flags" => {
                self.protocol_flags = words[1..].iter().map(|w| (*w).to_owned()).collect()
            }
            "key-derivation" => self.key_derivation = Some(word(1)?),
            "tun-mtu" => self.tun_mtu = Some(num(1)?),
            "push-continuation" => {
                self.continuation = Some(match num(1)? {
                    1 => 1,
                    2 => 2,
                    _ => return Err(err("push-continuation is 1 or 2")),
                })
            }
            _ => self.other.push(opt.to_owned()),
        }
        Ok(())
    }

    /// The options as PUSH_REPLY items, in OpenVPN's order (push.c `prepare_push_reply`: the global
    /// list, route/topology, keepalive, then the per-client part).
    pub fn to_items(&self) -> Vec<String> {
        let mut v = Vec::new();
        // A `push` statement of the configuration: before the rest, as push.c puts the global
        // list first.
        v.extend(self.compression.clone());
        for r in &self.routes {
            let IpNet::V4(dst) = r.dst else {
                continue;
            };
            let mut s = format!("route {}", dst.addr());
            if dst.prefix_len() != 32 || r.gateway.is_some() || r.metric.is_some() {
                s += &format!(" {}", dst.netmask());
            }
            match (r.gateway, r.metric) {
                (Some(g), _) => s += &format!(" {g}"),
                (None, Some(_)) => s += " vpn_gateway",
                (None, None) => {}
            }
            if let Some(m) = r.metric {
                s += &format!(" {m}");
            }
            v.push(s);
        }
        for r in &self.routes {
            let IpNet::V6(dst) = r.dst else {
                continue;
            };
            let mut s = format!("route-ipv6 {dst}");
            if let Some(g) = r.gateway {
                s += &format!(" {g}");
                if let Some(m) = r.metric {
                    s += &format!(" {m}");
                }
            }
            v.push(s);
        }
        if let Some(flags) = &self.redirect_gateway {
            let mut s = String::from("redirect-gateway");
            for f in flags {
                s.push(' ');
                s.push_str(f);
            }
            v.push(s);
        }
        for d in &self.dns {
            v.push(format!("dhcp-option DNS {d}"));
        }
        for (k, val) in &self.dhcp_options {
            v.push(format!("dhcp-option {k} {val}"));
        }
        if let Some(g) = self.route_gateway {
            v.push(format!("route-gateway {g}"));
        }
        if let Some(t) = self.topology {
            v.push(format!("topology {t}"));
        }
        if let Some(p) = self.ping {
            v.push(format!("ping {p}"));
        }
        if let Some(p) = self.ping_restart {
            v.push(format!("ping-restart {p}"));
        }
        v.extend(self.other.iter().cloned());
        if let Some((a, bits, r)) = self.ifconfig_ipv6 {
            v.push(format!("ifconfig-ipv6 {a}/{bits} {r}"));
        }
        if let Some((a, b)) = self.ifconfig {
            v.push(format!("ifconfig {a} {b}"));
        }
        if let Some(id) = self.peer_id {
            v.push(format!("peer-id {id}"));
        }
        if let Some(c) = &self.cipher {
            v.push(format!("cipher {c}"));
        }
        if let Some(a) = &self.auth {
            v.push(format!("auth {a}"));
        }
        if let Some(k) = &self.key_derivation {
            v.push(format!("key-derivation {k}"));
        }
        if !self.protocol_flags.is_empty() {
            v.push(format!("protocol-flags {}", self.protocol_flags.join(" ")));
        }
        if let Some(m) = self.tun_mtu {
            v.push(format!("tun-mtu {m}"));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the real OpenVPN 2.6.14 server pushed to the real client (lab capture, subnet topology).
    const REAL_2_6: &str = "route-gateway 10.8.0.1,topology subnet,ping 10,ping-restart 60,ifconfig 10.8.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu 1500";

    #[test]
    fn parses_what_openvpn_2_6_pushes() {
        let mut p = PushOptions::default();
        p.merge(REAL_2_6).unwrap();
        assert_eq!(p.route_gateway, Some(Ipv4Addr::new(10, 8, 0, 1)));
        assert_eq!(p.topology, Some(Topology::Subnet));
        assert_eq!((p.ping, p.ping_restart), (Some(10), Some(60)));
        assert_eq!(
            p.ifconfig,
            Some((Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert_eq!(p.peer_id, Some(0));
        assert_eq!(p.cipher.as_deref(), Some("AES-256-GCM"));
        assert!(p.tls_ekm() && p.cc_exit());
        assert_eq!(p.tun_mtu, Some(1500));
        assert!(p.other.is_empty());
        // Our writer puts them back in OpenVPN's order.
        assert_eq!(p.to_items().join(","), REAL_2_6);
    }

    #[test]
    fn parses_net30_routes_and_dns() {
        let mut p = PushOptions::default();
        p.merge("route 10.8.0.1,topology net30,ifconfig 10.8.0.6 10.8.0.5,dhcp-option DNS 8.8.8.8,redirect-gateway def1 bypass-dhcp,route 192.168.1.0 255.255.255.0 10.8.0.5 10,block-outside-dns").unwrap();
        assert_eq!(p.routes.len(), 2);
        assert_eq!(p.routes[0].dst, "10.8.0.1/32".parse::<IpNet>().unwrap());
        assert_eq!(p.routes[1].dst, "192.168.1.0/24".parse::<IpNet>().unwrap());
        assert_eq!(p.routes[1].gateway, Some(IpAddr::from([10, 8, 0, 5])));
        assert_eq!(p.routes[1].metric, Some(10));
        assert_eq!(p.dns, [Ipv4Addr::new(8, 8, 8, 8)]);
        assert_eq!(
            p.redirect_gateway,
            Some(vec!["def1".into(), "bypass-dhcp".into()])
        );
        assert_eq!(p.other, ["block-outside-dns"]);
        assert!(!p.tls_ekm());
    }

    #[test]
    fn compression_options_are_kept_and_written_back() {
        for o in [
            "comp-lzo no",
            "comp-lzo",
            "compress",
            "compress stub-v2",
            "compress lz4-v2",
        ] {
            let mut p = PushOptions::default();
            p.merge(&format!("{o},ping 10")).unwrap();
            assert_eq!(p.compression.as_deref(), Some(o));
            assert!(p.other.is_empty());
            assert_eq!(p.to_items()[0], o, "first, as a push statement");
        }
    }

    #[test]
    fn bad_options_are_typed_errors() {
        for bad in [
            "ifconfig 10.8.0.300 255.255.255.0",
            "ping x",
            "peer-id 16777216",
            "topology star",
            "dhcp-option DNS nowhere",
            "push-continuation 3",
            "ifconfig-ipv6 fd00::2/129 fd00::1",
            "route 10.0.0.0 255.0.255.0",
            "compress zstd",
        ] {
            let e = PushOptions::default().merge(bad).unwrap_err();
            assert_eq!(e.option, bad);
        }
    }

    proptest! {
        #[test]
        fn merge_never_panics(s in "[ -~]{0,300}") {
            let _ = PushOptions::default().merge(&s);
        }

        #[test]
        fn items_round_trip(a in any::<[u8; 4]>(), m in any::<[u8; 4]>(), len in 0u8..=32, ping in any::<u32>(), peer in 0u32..0xffffff, sub in any::<bool>()) {
            let p = PushOptions {
                ifconfig: Some((a.into(), m.into())),
                topology: Some(if sub { Topology::Subnet } else { Topology::Net30 }),
                ping: Some(ping), peer_id: Some(peer),
                routes: vec![Route { dst: IpNet::V4(Ipv4Net::new(a.into(), len).unwrap()), gateway: None, metric: Some(3) }],
                dns: vec![m.into()],
                ..PushOptions::default()
            };
            let mut back = PushOptions::default();
            back.merge(&p.to_items().join(",")).unwrap();
            prop_assert_eq!(back, p);
        }
    }
}
