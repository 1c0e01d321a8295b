//! Sans-IO OpenVPN client and server state machines in the RouterOS model.
//!
//! This crate composes `ovpn-wire`, `ovpn-crypto`, `ovpn-ppp`, `ovpn-pool` and `ovpn-pki` into a
//! [`Client`] and a [`Server`] that take bytes and `now` in and give transmits, events and the next
//! timer out; it opens no socket, starts no thread and reads no clock. The server gives each client
//! its own session named `ovpn-incomingN`, checks its certificate and its PPP user name and password,
//! hands it an address from an IP pool, and pushes the profile's settings, as RouterOS does; both
//! sides interoperate with OpenVPN 2.6 (cipher negotiation, tls-ekm, DATA_V2) and with peers that do
//! not negotiate (RouterOS: the cipher from the options string, the legacy PRF).
//!
//! # Driving a session
//!
//! [`Client`] and [`Server`] are driven the same way, and every driver of this workspace (the
//! examples, the simulator) does it in this order:
//!
//! 1. After any input (`handle_datagram`, `handle_stream`, `handle_timeout`, `encapsulate`) or
//!    command (`auth_verdict`, `disconnect`, ...), drain `poll_transmit` until `None`, then
//!    `poll_event` until `None`, and repeat both until neither gives anything (acting on an event
//!    may queue packets). Nothing is held back behind an event: a client's first packet of a new
//!    attempt carries [`Transmit::connect`], which is when a TCP driver opens the connection.
//! 2. Wait until `poll_timeout`, or input: a datagram goes to `handle_datagram`, the bytes of a TCP
//!    read to `handle_stream` (the library finds the packets), a packet from the tunnel to
//!    `encapsulate`. A passed timeout goes to `handle_timeout`.
//! 3. `now` never goes backwards.
//!
//! `poll_*` results are `#[must_use]`: a transmit or an event taken and dropped is lost.
//!
//! # Ethernet mode
//!
//! With [`Mode::Ethernet`] (`mode=ethernet`, TAP) the tunnel carries Ethernet frames. A driver
//! that gives every client its own interface (RouterOS's model; a profile's `bridge=` makes it a
//! bridge port) sets [`Switching::Off`] and lets the kernel switch. A driver with one interface
//! for every client asks [`Server::route_frame`] where each frame goes: the server learns each
//! client's MAC addresses (with ageing and a bound per client), and floods broadcast, multicast
//! and unknown destinations to [`Server::flood_peers`] (OpenVPN's `client-to-client` for TAP).
//!
//! A client and a server talking through memory, with the committed test PKI:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant, SystemTime};
//! use ovpn_session::{Client, ClientConfig, ClientState, Received, Server, ServerConfig, ServerReceived,
//!     Shared, HEADROOM, TAILROOM, tls_config::Identity};
//! use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
//!
//! let pki = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/");
//! let cert = |n: &str| CertificateDer::from_pem_file(format!("{pki}{n}.crt")).unwrap();
//! let id = |n: &str| Identity { chain: vec![cert(n)], key: PrivateKeyDer::from_pem_file(format!("{pki}{n}.key")).unwrap() };
//! let check = |role| Arc::new(ovpn_pki::PeerVerifier::new(&[cert("ca")], role).unwrap());
//!
//! // The server: a pool, a profile and a secret, as on the RouterOS page.
//! let mut ppp = ovpn_ppp::PppConfig::new();
//! ppp.add_profile_text("name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool")?;
//! ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")?;
//! let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
//! pools.add(ovpn_pool::Pool::ipv4("ovpn-pool", "10.8.0.2-10.8.0.254".parse()?)?)?;
//! let mut sc = ServerConfig::new(id("server"));
//! sc.client_check = Some(check(ovpn_pki::PeerRole::TlsClient));
//!
//! let server_addr = "192.0.2.1:1194".parse()?;
//! let client_addr = "192.0.2.2:40000".parse()?;
//! let mut cc = ClientConfig::new("ovpn-out1", server_addr, "client1", "StrongPassword1",
//!     check(ovpn_pki::PeerRole::TlsServer));
//! cc.identity = Some(id("client1"));
//!
//! let (mut now, wall) = (Instant::now(), SystemTime::now());
//! let mut server = Server::new(sc, Shared::new(ppp, pools), now, wall)?;
//! let mut client = Client::new(cc, now, wall)?;
//!
//! // Shuttle datagrams until the tunnel is up.
//! let mut buf = Vec::new();
//! while client.state() != &ClientState::Connected {
//!     while let Some(t) = client.poll_transmit(now, &mut buf) {
//!         let _ = server.handle_datagram(now, client_addr, &mut buf[..t.len]);
//!     }
//!     while let Some(t) = server.poll_transmit(now, &mut buf) {
//!         let _ = client.handle_datagram(now, &mut buf[..t.len]);
//!     }
//!     while client.poll_event().is_some() {}
//!     while server.poll_event().is_some() {}
//!     now += Duration::from_millis(1);
//! }
//! assert_eq!(client.tun().unwrap().address, Some("10.8.0.2".parse().unwrap()));
//!
//! // One IP packet through the tunnel, sealed and opened in place. The server delivers it only
//! // because it comes from the client's own address.
//! let mut packet = [0u8; 60];
//! packet[0] = 0x45;
//! packet[12..16].copy_from_slice(&client.tun().unwrap().address.unwrap().octets());
//! let mut buf = vec![0u8; HEADROOM + packet.len() + TAILROOM];
//! buf[HEADROOM..HEADROOM + packet.len()].copy_from_slice(&packet);
//! let sent = client.encapsulate(now, &mut buf, HEADROOM, packet.len())?;
//! match server.handle_datagram(now, client_addr, &mut buf[sent])? {
//!     ServerReceived::Packet { packet: got, .. } => assert_eq!(got, &packet),
//!     _ => unreachable!(),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod channel;
mod client;
mod compress;
pub mod config;
mod control;
mod early_neg;
mod error;
pub mod ether;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod km2;
mod mss;
mod negotiate;
mod peer_info;
mod push;
pub mod random;
mod reliable;
mod server;
#[cfg(feature = "sim")]
pub mod sim;
mod stream;
mod tls;
pub mod tls_config;
pub mod verify;
mod wrap;

pub use channel::Traffic;
pub use client::{
    Client, ClientConfig, ClientConfigError, ClientEvent, ClientState, ClientStream, Received,
    TunSettings,
};
pub use compress::Framing;
pub use config::{HEADROOM, Mode, TAILROOM, Transmit, Transport};
pub use error::{DisconnectReason, DropReason, EncapError, SessionError};
pub use negotiate::Encoding;
pub use push::{Route, Topology};
pub use server::{
    Admission, AuthMode, Incoming, NoSuchSession, PeerHandle, Server, ServerConfig,
    ServerConfigError, ServerEvent, ServerReceived, ServerStream, SessionInfo, Shared,
    SharedAuthenticator,
};
pub use server::{
    CloseReason, FrameRoute, RateLimit, SESSION_END_GRACE, Switching, TcpLimits, TlsCryptV2Server,
    TunIpv6,
};

pub use wrap::ControlProtection;
