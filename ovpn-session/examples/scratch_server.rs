#![allow(missing_docs, clippy::disallowed_methods)]
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_pki::{PeerRole, PeerVerifier};
use ovpn_pool::{Family, Pool, PoolSet};
use ovpn_ppp::PppConfig;
use ovpn_session::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let ciphers = args
        .get(1)
        .cloned()
        .unwrap_or("aes256-gcm,aes256-cbc".into());
    let dir = "/work/main/testdata/pki";
    let cert = |n: &str| CertificateDer::from_pem_file(format!("{dir}/{n}.crt")).unwrap();
    let identity = tls_config::Identity {
        chain: vec![cert("server")],
        key: PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).unwrap(),
    };
    let mut ppp = PppConfig::new();
    ppp.add_profile_text(
        "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8",
    )
    .unwrap();
    ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")
        .unwrap();
    let mut pools = PoolSet::new(Family::Ipv4);
    pools
        .add(Pool::ipv4("ovpn-pool", "10.8.0.2-10.8.0.254".parse().unwrap()).unwrap())
        .unwrap();
    let mut cfg = ServerConfig::new(identity, Arc::new(ppp));
    cfg.client_check = Some(Arc::new(
        PeerVerifier::new(&[cert("ca")], PeerRole::TlsClient).unwrap(),
    ));
    cfg.ciphers = ciphers.split(',').map(|c| c.parse().unwrap()).collect();
    cfg.auths = vec!["sha1".parse().unwrap(), "sha256".parse().unwrap()];
    let sock = UdpSocket::bind("127.0.0.1:11195").unwrap();
    let start = Instant::now();
    let mut srv = Server::new(cfg, pools, start, SystemTime::now()).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut scratch = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        while let Some(t) = srv.poll_transmit(now, &mut out) {
            sock.send_to(&out[..t.len], t.destination).unwrap();
        }
        while let Some(e) = srv.poll_event() {
            println!("EVENT {e:?}");
        }
        let wait = srv
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(200))
            .max(Duration::from_millis(1))
            .min(Duration::from_millis(200));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => match srv.handle_datagram(Instant::now(), from, &mut buf[..n]) {
                Ok(ServerReceived::Packet { peer, packet }) => {
                    println!(
                        "TUN PACKET {} bytes proto {} {:?}->{:?}",
                        packet.len(),
                        packet[9],
                        &packet[12..16],
                        &packet[16..20]
                    );
                    if packet[9] == 1 && packet[20] == 8 {
                        // echo reply: swap addresses, type 0, fix checksum
                        let len = packet.len();
                        let p = &mut scratch[HEADROOM..HEADROOM + len];
                        p.copy_from_slice(packet);
                        let (a, b) = (p[12..16].to_vec(), p[16..20].to_vec());
                        p[12..16].copy_from_slice(&b);
                        p[16..20].copy_from_slice(&a);
                        p[20] = 0;
                        p[22] = 0;
                        p[23] = 0;
                        let mut s = 0u32;
                        for c in p[20..].chunks(2) {
                            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                        }
                        while s > 0xffff {
                            s = (s & 0xffff) + (s >> 16);
                        }
                        p[22..24].copy_from_slice(&(!(s as u16)).to_be_bytes());
                        let (dst, r) = srv
                            .encapsulate(Instant::now(), peer, &mut scratch, HEADROOM, len)
                            .unwrap();
                        sock.send_to(&scratch[r], dst).unwrap();
                    }
                }
                Ok(ServerReceived::Consumed) => {}
                Err(e) => println!("DROP {e}"),
            },
            Err(_) => srv.handle_timeout(Instant::now()),
        }
    }
}
