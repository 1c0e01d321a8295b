//! Shared test support: the committed test PKI, a RouterOS-like server setup, and packets.
#![allow(dead_code, clippy::disallowed_methods)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_pki::{PeerRole, PeerVerifier};
use ovpn_pool::{Family, Pool, PoolSet};
use ovpn_ppp::PppConfig;
use ovpn_session::random::SeededRandom;
use ovpn_session::sim::{LinkConfig, Sim};
use ovpn_session::tls_config::Identity;
use ovpn_session::{Client, ClientConfig, Server, ServerConfig, Shared, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

pub fn pki_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/pki")
}

pub fn cert(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(pki_dir().join(format!("{name}.crt"))).expect("test PKI cert")
}

pub fn identity(name: &str) -> Identity {
    Identity {
        chain: vec![cert(name)],
        key: PrivateKeyDer::from_pem_file(pki_dir().join(format!("{name}.key")))
            .expect("test PKI key"),
    }
}

pub fn verifier(ca: &str, role: PeerRole) -> Arc<PeerVerifier> {
    let crl = CertificateRevocationListDer::from_pem_file(pki_dir().join("ca.crl")).unwrap();
    Arc::new(
        PeerVerifier::new(&[cert(ca)], role)
            .unwrap()
            .with_crls(&[crl])
            .unwrap(),
    )
}

/// The tests' start instant (the one clock read of a test).
pub fn start() -> Instant {
    Instant::now()
}

/// A fixed start of wall-clock time inside the test PKI's validity (2026-11-27).
pub fn unix_epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_737_600)
}

/// The RouterOS page's server: pool, profile, secret.
pub fn ppp() -> PppConfig {
    let mut ppp = PppConfig::new();
    ppp.add_profile_text(
        "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8 use-compression=no use-encryption=required",
    )
    .unwrap();
    ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")
        .unwrap();
    ppp.add_secret_text("name=client2 password=pw2 profile=ovpn-profile service=ovpn")
        .unwrap();
    ppp.add_secret_text("name=pptp-user password=pw3 profile=ovpn-profile service=pptp")
        .unwrap();
    ppp
}

pub fn pools() -> PoolSet {
    let mut pools = PoolSet::new(Family::Ipv4);
    pools
        .add(Pool::ipv4("ovpn-pool", "10.8.0.2-10.8.0.254".parse().unwrap()).unwrap())
        .unwrap();
    pools
}

/// The PPP tables and pools of the tests, for one server.
pub fn shared() -> Shared {
    Shared::new(ppp(), pools())
}

pub fn server_config(seed: u64) -> ServerConfig {
    let mut c = ServerConfig::new(identity("server"));
    c.client_check = Some(verifier("ca", PeerRole::TlsClient));
    c.random = Arc::new(SeededRandom::new(seed));
    c
}

pub fn client_config(seed: u64) -> ClientConfig {
    let mut c = ClientConfig::new(
        "ovpn-out1",
        ovpn_session::sim::SERVER_ADDR.parse().unwrap(),
        "client1",
        "StrongPassword1",
        verifier("ca", PeerRole::TlsServer),
    );
    c.identity = Some(identity("client1"));
    c.random = Arc::new(SeededRandom::new(seed ^ 0xc11e));
    c
}

/// A simulation of `client` against `server` over `link`.
pub fn sim(seed: u64, server: ServerConfig, client: ClientConfig, link: LinkConfig) -> Sim {
    let epoch = Instant::now();
    let server = Server::new(server, shared(), epoch, unix_epoch()).unwrap();
    let client = Client::new(client, epoch, unix_epoch()).unwrap();
    Sim::new(seed, epoch, client, server, link)
}

pub fn tcp(mut c: ClientConfig, mut s: ServerConfig) -> (ClientConfig, ServerConfig) {
    c.transport = Transport::Tcp;
    s.transport = Transport::Tcp;
    (c, s)
}

/// A minimal IPv4/UDP packet from `src` to `dst` whose payload carries `n` (to check delivery).
pub fn ip_packet(src: [u8; 4], dst: [u8; 4], n: u32, len: usize) -> Vec<u8> {
    let len = len.max(32);
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[28..32].copy_from_slice(&n.to_be_bytes());
    p
}

pub fn packet_number(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[28], p[29], p[30], p[31]])
}

pub fn connected(sim: &Sim) -> bool {
    matches!(sim.client.state(), ovpn_session::ClientState::Connected)
        && sim.server.sessions(sim.now).iter().any(|s| s.connected)
}

/// The `n`th verdict the server asked for so far ([`ovpn_session::AuthMode::Deferred`]).
pub fn nth_auth_request(
    s: &Sim,
    n: usize,
) -> Option<(ovpn_session::PeerHandle, ovpn_ppp::AuthRequest)> {
    s.server_events
        .iter()
        .filter_map(|e| match e {
            ovpn_session::ServerEvent::AuthRequested { peer, request } => {
                Some((*peer, request.clone()))
            }
            _ => None,
        })
        .nth(n)
}

/// Replaces the simulation's client with a new one (client1's settings, seeded from `seed`) at
/// another address: a second user of the same server.
pub fn new_client_elsewhere(sim: &mut Sim, seed: u64) {
    sim.client = Client::new(client_config(seed), sim.now, unix_epoch()).unwrap();
    sim.client_addr = "192.0.2.9:40009".parse().unwrap();
}

/// The reason of the server's first Disconnected event, if any.
#[allow(dead_code, reason = "not every test crate uses it")]
pub fn server_end(sim: &Sim) -> Option<ovpn_session::DisconnectReason> {
    sim.server_events.iter().find_map(|e| match e {
        ovpn_session::ServerEvent::Disconnected { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}
