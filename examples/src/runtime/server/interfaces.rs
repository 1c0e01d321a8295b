//! The server's interfaces: each logged-in client's `ovpn-incomingN` (TUN, or TAP in ethernet
//! mode, a bridge port when its profile names a bridge), or its routes on the shared interface,
//! with their IPv4 and IPv6 addresses and routes.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd as _;

use mio::Interest;
use mio::Token;
use mio::unix::SourceFd;
use ovpn_ppp::YesNoDefault;
use ovpn_session::{Mode, PeerHandle, SessionInfo};
use ovpn_tun::{DeviceConfig, Layer};

use super::ServerRuntime;
use crate::runtime::{Tun, TunFactory};

impl<F: TunFactory> ServerRuntime<F> {
    /// The client's interface: its own `ovpn-incomingN` (point to point, our `local-address`,
    /// its address as the peer), or routes on the shared one. In ethernet mode it is a TAP
    /// interface, a port of the profile's `bridge` if it names one.
    pub(super) fn attach(
        &mut self,
        peer: PeerHandle,
        session: &SessionInfo,
    ) -> Result<Option<(Token, F::Device)>, String> {
        if self.mode == Mode::Ethernet {
            return self.attach_tap(peer, session).map(Some);
        }
        let (Some(address), Some(local)) = (session.address, session.local_address) else {
            return Err("the session has no tunnel addresses".into());
        };
        let routes = v4_routes(session);
        if let Some(shared) = &self.shared {
            if self.shared_addresses.insert(local) {
                shared.add_address(local, 32)?;
            }
            shared.add_route(address, 32, None)?;
            for (n, l) in routes {
                shared.add_route(n, l, Some(address))?;
            }
            return Ok(None);
        }
        let name = session.name.clone().unwrap_or_default();
        let dev = self.factory.create(&DeviceConfig {
            name: name.clone(),
            layer: Layer::Tun,
            mtu: self.mtu,
            ipv4: Some((local, 32, Some(address))),
        })?;
        for (n, l) in routes {
            dev.add_route(n, l, None)?;
        }
        self.add_ipv6(&dev, session)?;
        self.watch(peer, dev).map(Some)
    }

    /// IPv6 inside the tunnel: our `tun-server-ipv6` on the client's interface, its address
    /// and its `ipv6-routes` routed there.
    fn add_ipv6(&self, dev: &F::Device, session: &SessionInfo) -> Result<(), String> {
        let (Some(v6), Some(client)) = (self.server.config().ipv6, session.address_ipv6) else {
            return Ok(());
        };
        dev.add_address6(v6.server, 128)?;
        dev.add_route6(ipnet::Ipv6Net::from(client))?;
        for r in &session.routes {
            if let ipnet::IpNet::V6(n) = r.dst {
                dev.add_route6(n)?;
            }
        }
        Ok(())
    }

    /// Starts reading a client's interface.
    fn watch(&mut self, peer: PeerHandle, dev: F::Device) -> Result<(Token, F::Device), String> {
        let token = self.token();
        self.poll
            .registry()
            .register(&mut SourceFd(&dev.as_raw_fd()), token, Interest::READABLE)
            .map_err(|e| format!("registering {}: {e}", dev.name()))?;
        self.tun_tokens.insert(token, peer);
        Ok((token, dev))
    }
}

impl<F: TunFactory> ServerRuntime<F> {
    /// Ethernet mode: the client's own TAP `ovpn-incomingN`. With a profile's `bridge`, a port
    /// of that bridge (the bridge carries the addresses); without one, it carries our
    /// `local-address`, with the client's address as its peer.
    fn attach_tap(
        &mut self,
        peer: PeerHandle,
        session: &SessionInfo,
    ) -> Result<(Token, F::Device), String> {
        let name = session.name.clone().unwrap_or_default();
        let bridge = session.bridge.bridge.clone();
        let ipv4 = match (&bridge, session.address, session.local_address) {
            (Some(_), _, _) => None,
            (None, Some(address), Some(local)) => Some((local, 32, Some(address))),
            (None, _, _) => {
                return Err(
                    "no bridge= and no addresses: the interface would carry nothing".into(),
                );
            }
        };
        let dev = self.factory.create(&DeviceConfig {
            name: name.clone(),
            layer: Layer::Tap,
            mtu: self.mtu,
            ipv4,
        })?;
        if let Some(bridge) = bridge {
            let b = &session.bridge;
            let port = ovpn_tun::BridgePort {
                bridge: bridge.clone(),
                learning: match b.learning {
                    YesNoDefault::Default => None,
                    l => Some(l == YesNoDefault::Yes),
                },
                cost: b.path_cost,
                // RouterOS's 0..240 (4 bits, shifted by 12 in the port id) is Linux's 0..63
                // (6 bits, shifted by 10): the same port identifier.
                priority: b.port_priority.map(|p| p / 4),
                isolated: b.horizon.is_some(),
            };
            dev.join_bridge(&port)?;
            tracing::info!(target: "interface", "{name}: port of bridge {bridge}");
        } else {
            for (n, l) in v4_routes(session) {
                dev.add_route(n, l, session.address)?;
            }
            self.add_ipv6(&dev, session)?;
        }
        self.watch(peer, dev)
    }
}

/// The IPv4 networks of a session's `routes`.
pub(super) fn v4_routes(session: &SessionInfo) -> impl Iterator<Item = (Ipv4Addr, u8)> + '_ {
    session.routes.iter().filter_map(|r| match r.dst.network() {
        IpAddr::V4(n) => Some((n, r.dst.prefix_len())),
        IpAddr::V6(_) => None,
    })
}
