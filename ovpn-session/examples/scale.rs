//! Establishes N sessions in memory against one server and measures what the server alone costs:
//! its CPU time per handshake and its heap per idle established session.
//!
//! ```text
//! cargo run --release -p ovpn-session --example scale -- 10000          # RSA-2048 server key
//! cargo run --release -p ovpn-session --example scale -- 10000 --ec     # EC P-256 server key
//! ```
//!
//! The clients and the server run in this one thread on a perfect in-memory link. Every call
//! into the server is timed with the thread's CPU clock, and the heap it allocates and frees is
//! counted (stats_alloc regions), so the clients' work and memory are not counted. The last line is
//! `sessions=N handshake_us=X idle_heap_bytes_per_session=Y`.

#![allow(
    clippy::disallowed_methods,
    reason = "a measuring program reads the clocks"
)]

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use cpu_time::ThreadTime;
use ovpn_pki::{ImportOptions, KeySize, PeerRole, PeerVerifier, Store, Template};
use ovpn_session::random::SeededRandom;
use ovpn_session::tls_config::Identity;
use ovpn_session::{Client, ClientConfig, ClientState, Server, ServerConfig};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// What the server has cost so far: CPU time and the net heap it allocated.
#[derive(Default)]
struct Cost {
    cpu: Duration,
    heap: i64,
}

impl Cost {
    /// Runs `f` as the server (this program is one thread, so what happens meanwhile is the
    /// server's).
    fn server<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let region = Region::new(GLOBAL);
        let t0 = ThreadTime::now();
        let r = f();
        self.cpu += t0.elapsed();
        let c = region.change();
        // stats_alloc counts a realloc's growth (or shrink) in bytes_allocated (deallocated)
        // already; bytes_reallocated is the same change again, not to be added.
        self.heap += c.bytes_allocated as i64 - c.bytes_deallocated as i64;
        r
    }
}

const PKI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/");

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("{PKI}{name}")).unwrap_or_else(|e| panic!("{PKI}{name}: {e}"))
}

/// The server's identity: the committed RSA-2048 one, or a P-256 key signed by the committed CA.
fn server_identity(ec: bool, wall: SystemTime) -> Identity {
    if !ec {
        return Identity {
            chain: vec![CertificateDer::from_pem_slice(&pem("server.crt")).expect("server.crt")],
            key: PrivateKeyDer::from_pem_slice(&pem("server.key")).expect("server.key"),
        };
    }
    let now = UnixTime::since_unix_epoch(wall.duration_since(SystemTime::UNIX_EPOCH).unwrap());
    let mut store = Store::new();
    let opts = ImportOptions {
        name: Some("ca"),
        ..ImportOptions::default()
    };
    store
        .import("ca.crt", &pem("ca.crt"), &opts)
        .expect("ca.crt");
    store
        .import("ca.key", &pem("ca.key"), &ImportOptions::default())
        .expect("ca.key");
    let mut t = Template::new("server-ec", "ovpn-server");
    t.key_size = KeySize::Prime256v1;
    t.key_usage = "digital-signature,key-encipherment,tls-server"
        .parse()
        .expect("key usage");
    store.add(t).expect("template");
    store
        .sign("server-ec", Some("ca"), None, now)
        .expect("sign");
    let (chain, key) = store.identity("server-ec").expect("identity");
    Identity { chain, key }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1000);
    let ec = args.iter().any(|a| a == "--ec");
    // Inside the test PKI's validity.
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_737_600);
    let ca = CertificateDer::from_pem_slice(&pem("ca.crt")).expect("ca.crt");
    let check =
        |role| Arc::new(PeerVerifier::new(std::slice::from_ref(&ca), role).expect("verifier"));

    let mut ppp = ovpn_ppp::PppConfig::new();
    ppp.add_profile_text("name=p local-address=10.0.0.1 remote-address=pool")
        .expect("profile");
    ppp.add_secret_text("name=user password=pw profile=p service=ovpn")
        .expect("secret");
    let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
    pools
        .add(ovpn_pool::Pool::ipv4("pool", "10.0.0.2-10.255.255.254".parse().unwrap()).unwrap())
        .unwrap();

    let epoch = Instant::now();
    let mut now = epoch;
    let mut cost = Cost::default();
    let identity = server_identity(ec, wall);
    let mut server = cost.server(|| {
        let mut sc = ServerConfig::new(identity);
        sc.client_check = Some(check(PeerRole::TlsClient));
        sc.max_clients = n + 1;
        // Every client starts at once from a few addresses: what is measured is the handshake,
        // not the limits on new sessions that a real server keeps.
        sc.connect_freq_initial = None;
        sc.max_handshakes_per_source = None;
        sc.random = Arc::new(SeededRandom::new(1));
        Server::new(sc, ovpn_session::Shared::new(ppp, pools), now, wall).expect("server")
    });
    let server_base = cost.heap;
    cost = Cost::default();

    // The clients (P-256 keys, cheap to sign with: their work is not what is measured).
    let client_id = || Identity {
        chain: vec![CertificateDer::from_pem_slice(&pem("client2.crt")).expect("client2.crt")],
        key: PrivateKeyDer::from_pem_slice(&pem("client2.key")).expect("client2.key"),
    };
    let server_addr: SocketAddr = "192.0.2.1:1194".parse().unwrap();
    let mut clients: Vec<(SocketAddr, Client)> = (0..n)
        .map(|i| {
            let ip = Ipv4Addr::from(0xc612_0000u32 + (i as u32 >> 14));
            let addr = SocketAddr::new(ip.into(), 1024 + (i as u16 & 0x3fff));
            let mut cc =
                ClientConfig::new("c", server_addr, "user", "pw", check(PeerRole::TlsServer));
            cc.identity = Some(client_id());
            cc.random = Arc::new(SeededRandom::new(i as u64 + 2));
            (addr, Client::new(cc, now, wall).expect("client"))
        })
        .collect();
    let index: HashMap<SocketAddr, usize> = clients
        .iter()
        .enumerate()
        .map(|(i, (a, _))| (*a, i))
        .collect();

    let mut buf = Vec::with_capacity(2048);
    let mut to_server: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
    let mut to_client: VecDeque<(usize, Vec<u8>)> = VecDeque::new();
    let started = Instant::now();
    // One round: every client's timers and datagrams, the server's turn (measured), then the
    // server's datagrams to the clients. Returns how many clients are connected.
    let mut round = |now: Instant, cost: &mut Cost| {
        for (addr, c) in clients.iter_mut() {
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
            while let Some(t) = c.poll_transmit(now, &mut buf) {
                to_server.push((*addr, buf[..t.len].to_vec()));
            }
            while c.poll_event().is_some() {}
        }
        cost.server(|| {
            for (from, d) in to_server.iter_mut() {
                let _ = server.handle_datagram(now, *from, d);
            }
            if server.poll_timeout().is_some_and(|t| t <= now) {
                server.handle_timeout(now);
            }
            while let Some(t) = server.poll_transmit(now, &mut buf) {
                if let Some(&i) = index.get(&t.destination) {
                    to_client.push_back((i, buf[..t.len].to_vec()));
                }
            }
            while server.poll_event().is_some() {}
        });
        // The datagrams are the harness's: freed outside the server's turn. The copies for the
        // clients were made in the server's turn; they are the harness's too.
        to_server.clear();
        let copied: i64 = to_client.iter().map(|(_, d)| d.capacity() as i64).sum();
        cost.heap -= copied;
        for (i, mut d) in to_client.drain(..) {
            let _ = clients[i].1.handle_datagram(now, &mut d);
        }
        clients
            .iter()
            .filter(|(_, c)| c.state() == &ClientState::Connected)
            .count()
    };
    let mut up = 0;
    let mut rounds = 0u32;
    while up < n {
        rounds += 1;
        up = round(now, &mut cost);
        now += Duration::from_millis(1);
        assert!(
            now - epoch < Duration::from_secs(600),
            "{up} of {n} connected after 600 simulated seconds"
        );
    }
    let handshake_us = cost.cpu.as_secs_f64() * 1e6 / n as f64;
    // Let the last acknowledgements through, then the sessions are idle.
    for _ in 0..3 {
        round(now, &mut cost);
        now += Duration::from_millis(1);
    }
    let connected = server.sessions(now).iter().filter(|s| s.connected).count();
    assert_eq!(connected, n, "every session established on the server");
    let per_session = cost.heap / n as i64;
    eprintln!(
        "server key {}: {n} sessions in {rounds} rounds ({:.1} s of wall time), server base heap {server_base} B",
        if ec { "EC P-256" } else { "RSA-2048" },
        started.elapsed().as_secs_f64()
    );
    println!(
        "sessions={n} handshake_us={handshake_us:.0} idle_heap_bytes_per_session={per_session}"
    );
}
