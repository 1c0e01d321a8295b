#![allow(missing_docs, clippy::disallowed_methods)]
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_session::verify::PeerCheck;
use ovpn_session::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

#[derive(Debug)]
struct AcceptAll;
impl PeerCheck for AcceptAll {
    fn check(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }
}

fn icmp_echo(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[8, 0, 0, 0, 0x12, 0x34, 0, 1]);
    let cs = |d: &[u8]| {
        let mut s = 0u32;
        for c in d.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    let h = cs(&p[..20]);
    p[10..12].copy_from_slice(&h.to_be_bytes());
    let i = cs(&p[20..]);
    p[22..24].copy_from_slice(&i.to_be_bytes());
    p
}

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let cipher = args.get(1).map(String::as_str).unwrap_or("AES-256-GCM");
    let negotiate = args.get(2).map(String::as_str) != Some("legacy");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = "127.0.0.1:11194".parse().unwrap();
    let mut cfg = ClientConfig::new(
        "ovpn-out1",
        server,
        "client1",
        "StrongPassword1",
        Arc::new(AcceptAll),
    );
    cfg.cipher = cipher.parse().unwrap();
    cfg.auth = "SHA256".parse().unwrap();
    cfg.negotiate = negotiate;
    let chain = CertificateDer::pem_file_iter("/tmp/labpki/client1.crt")
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file("/tmp/labpki/client1.key").unwrap();
    cfg.identity = Some(tls_config::Identity { chain, key });
    let start = Instant::now();
    let mut c = Client::new(cfg, start, SystemTime::now()).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut sent_ping = false;
    let deadline = start + Duration::from_secs(15);
    while Instant::now() < deadline {
        let now = Instant::now();
        while let Some(t) = c.poll_transmit(now, &mut out) {
            sock.send_to(&out[..t.len], t.destination).unwrap();
        }
        while let Some(e) = c.poll_event() {
            println!("EVENT {e:?}");
            if let ClientEvent::Connected { tun, .. } = &e {
                if !sent_ping {
                    let p = icmp_echo(
                        tun.address.octets(),
                        tun.peer.map(|p| p.octets()).unwrap_or([10, 88, 0, 1]),
                    );
                    let mut b = vec![0u8; HEADROOM + p.len() + TAILROOM];
                    b[HEADROOM..HEADROOM + p.len()].copy_from_slice(&p);
                    let r = c.encapsulate(now, &mut b, HEADROOM, p.len()).unwrap();
                    sock.send_to(&b[r], server).unwrap();
                    sent_ping = true;
                }
            }
        }
        let wait = c
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(200))
            .max(Duration::from_millis(1))
            .min(Duration::from_millis(200));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => match c.handle_datagram(Instant::now(), &mut buf[..n]) {
                Ok(Received::Packet(p)) => {
                    println!(
                        "TUN PACKET {} bytes, proto {} from {:?}",
                        p.len(),
                        p[9],
                        &p[12..16]
                    );
                    if p[20] == 0 {
                        println!("PING REPLY OK");
                        return;
                    }
                }
                Ok(Received::Consumed) => {}
                Err(e) => println!("DROP {e}"),
            },
            Err(_) => c.handle_timeout(Instant::now()),
        }
    }
    println!("state {:?}", c.state());
}
