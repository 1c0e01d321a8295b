//! An OpenVPN client embedded in a page, on `std` and the public API only: one UDP socket, one
//! loop, an in-memory tunnel. It connects, pings the server's tunnel address, counts the replies
//! and closes, telling the server. `cargo run -p ovpn-session --example embed_client --
//! 127.0.0.1:1194` against `embed_server` (`tests/embed.rs` runs both).

use std::error::Error;
use std::io::ErrorKind::{TimedOut, WouldBlock};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_pki::{PeerRole, PeerVerifier};
use ovpn_session::tls_config::Identity;
use ovpn_session::{Client, ClientConfig, ClientEvent, HEADROOM, Received, TAILROOM};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// The longest wait for a datagram.
const SEC: Duration = Duration::from_secs(1);

/// The monotonic and the wall clock: a driver is where time comes from.
#[allow(clippy::disallowed_methods, reason = "the driver reads the clocks")]
fn clocks() -> (Instant, SystemTime) {
    (Instant::now(), SystemTime::now())
}

/// An ICMP echo request from `src` to `dst` with sequence number `seq` (RFC 792).
fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, seq: u16, out: &mut [u8]) -> usize {
    let p = &mut out[..28];
    p.fill(0);
    p[..10].copy_from_slice(&[0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1]);
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let ip = checksum(&p[..20]);
    p[10..12].copy_from_slice(&ip.to_be_bytes());
    p[20] = 8;
    p[26..28].copy_from_slice(&seq.to_be_bytes());
    let icmp = checksum(&p[20..28]);
    p[22..24].copy_from_slice(&icmp.to_be_bytes());
    28
}

/// The Internet checksum (RFC 1071).
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Connects to `server`, pings its tunnel address `count` times, closes, and returns how many
/// replies came back. Fails if the tunnel is not up by `until`.
pub fn ping(
    server: SocketAddr,
    pki: &Path,
    count: u16,
    until: Instant,
) -> Result<u16, Box<dyn Error>> {
    let cert = |n: &str| CertificateDer::from_pem_file(pki.join(format!("{n}.crt")));
    let key = PrivateKeyDer::from_pem_file(pki.join("client1.key"))?;
    let check = Arc::new(PeerVerifier::new(&[cert("ca")?], PeerRole::TlsServer)?);
    let mut config = ClientConfig::new("ovpn-out1", server, "client1", "StrongPassword1", check);
    config.identity = Some(Identity {
        chain: vec![cert("client1")?],
        key,
    });
    let (now, wall) = clocks();
    let mut client = Client::new(config, now, wall)?;

    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(server)?;
    let (mut rx, mut tx) = (vec![0u8; 65536], Vec::new());
    let mut data = vec![0u8; HEADROOM + 2048 + TAILROOM];
    let (mut sent, mut replies, mut closed) = (0, 0, false);
    loop {
        let now = clocks().0;
        if client.poll_timeout().is_some_and(|t| t <= now) {
            client.handle_timeout(now);
        }
        // The polling order of the crate: transmits, then events, until neither has any.
        loop {
            let mut any = false;
            while let Some(t) = client.poll_transmit(now, &mut tx) {
                any = true;
                socket.send(&tx[..t.len])?;
            }
            while let Some(e) = client.poll_event() {
                any = true;
                match e {
                    ClientEvent::Connected { tun, encoding } => {
                        println!("up: {:?} ({encoding})", tun.address)
                    }
                    ClientEvent::Disconnected { .. } if closed => return Ok(replies),
                    ClientEvent::Disconnected { reason, .. } => println!("down: {reason}"),
                    _ => {}
                }
            }
            if !any {
                break;
            }
        }
        if now >= until {
            return Err(format!("gave up after {sent} requests and {replies} replies").into());
        }
        if let Some(address) = client.tun().and_then(|t| t.address) {
            if replies == count && !closed {
                closed = true;
                client.close(now);
                continue;
            }
            if sent < count && sent == replies {
                let gw = Ipv4Addr::new(10, 8, 0, 1);
                let n = echo_request(address, gw, sent, &mut data[HEADROOM..]);
                let range = client.encapsulate(now, &mut data, HEADROOM, n)?;
                socket.send(&data[range])?;
                sent += 1;
            }
        }
        let wait = client
            .poll_timeout()
            .map_or(SEC, |t| t.saturating_duration_since(now));
        socket.set_read_timeout(Some(wait.clamp(Duration::from_millis(1), SEC)))?;
        match socket.recv(&mut rx) {
            Ok(n) => match client.handle_datagram(clocks().0, &mut rx[..n]) {
                Ok(Received::Packet(p)) if p.len() >= 28 && p[20] == 0 => replies += 1,
                Ok(_) => {}
                Err(e) => println!("dropped: {e}"),
            },
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let server: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or("127.0.0.1:1194".into())
        .parse()?;
    let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pki");
    let replies = ping(server, &pki, 3, clocks().0 + Duration::from_secs(30))?;
    println!("{replies}/3 replies");
    Ok(())
}
