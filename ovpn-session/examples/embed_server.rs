//! An OpenVPN server embedded in a page, on `std` and the public API only: one UDP socket, one
//! loop, in-memory tunnels. It answers pings to its tunnel address 10.8.0.1 and relays packets
//! between clients by longest prefix; the library does authentication, addresses, the source
//! check and every timer. Run with `cargo run -p ovpn-session --example embed_server -- ADDR`, and
//! `embed_client` with the same address (`tests/embed.rs` runs both).

use std::error::Error;
use std::io::ErrorKind::{TimedOut, WouldBlock};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_pki::{PeerRole, PeerVerifier};
use ovpn_pool::{Family, Pool, PoolSet};
use ovpn_ppp::PppConfig;
use ovpn_session::tls_config::Identity;
use ovpn_session::{HEADROOM, Server, ServerConfig, ServerEvent, ServerReceived, Shared, TAILROOM};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// The longest wait for a datagram.
const SEC: Duration = Duration::from_secs(1);

/// The monotonic and the wall clock: a driver is where time comes from.
#[allow(clippy::disallowed_methods, reason = "the driver reads the clocks")]
pub fn clocks() -> (Instant, SystemTime) {
    (Instant::now(), SystemTime::now())
}

/// Serves on `socket` until `sessions` sessions have ended, or `until`.
pub fn serve(
    socket: UdpSocket,
    pki: &Path,
    sessions: usize,
    until: Instant,
) -> Result<(), Box<dyn Error>> {
    let mut ppp = PppConfig::new();
    ppp.add_profile_text("name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool")?;
    ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")?;
    let mut pools = PoolSet::new(Family::Ipv4);
    pools.add(Pool::ipv4("ovpn-pool", "10.8.0.2-10.8.0.254".parse()?)?)?;
    let cert = |n: &str| CertificateDer::from_pem_file(pki.join(format!("{n}.crt")));
    let key = PrivateKeyDer::from_pem_file(pki.join("server.key"))?;
    let identity = Identity {
        chain: vec![cert("server")?],
        key,
    };
    let mut config = ServerConfig::new(identity);
    let check = PeerVerifier::new(&[cert("ca")?], PeerRole::TlsClient)?;
    config.client_check = Some(Arc::new(check));
    let mut server = Server::new(config, Shared::new(ppp, pools), clocks().0, clocks().1)?;
    let (mut rx, mut tx) = (vec![0u8; 65536], Vec::new());
    let mut data = vec![0u8; HEADROOM + 65536 + TAILROOM];
    let mut ended = 0;
    loop {
        let now = clocks().0;
        if server.poll_timeout().is_some_and(|t| t <= now) {
            server.handle_timeout(now);
        }
        // The polling order of the crate: transmits, then events, until neither has any.
        loop {
            let mut any = false;
            while let Some(t) = server.poll_transmit(now, &mut tx) {
                any = true;
                socket.send_to(&tx[..t.len], t.destination)?;
            }
            while let Some(e) = server.poll_event() {
                any = true;
                match e {
                    ServerEvent::Connected { session: s, .. } => println!("{:?} up", s.name),
                    ServerEvent::Disconnected { reason, .. } => {
                        println!("down: {reason}");
                        ended += 1;
                    }
                    _ => {}
                }
            }
            if !any {
                break;
            }
        }
        if ended >= sessions || now >= until {
            return Ok(());
        }
        let wait = server
            .poll_timeout()
            .map_or(SEC, |t| t.saturating_duration_since(now));
        socket.set_read_timeout(Some(wait.clamp(Duration::from_millis(1), SEC)))?;
        let (n, from) = match socket.recv_from(&mut rx) {
            Ok(x) => x,
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => continue,
            Err(e) => return Err(e.into()),
        };
        let now = clocks().0;
        let (peer, len) = match server.handle_datagram(now, from, &mut rx[..n]) {
            Ok(ServerReceived::Packet { peer, packet }) => {
                data[HEADROOM..HEADROOM + packet.len()].copy_from_slice(packet);
                (peer, packet.len())
            }
            Ok(_) => continue,
            Err(e) => {
                println!("dropped from {from}: {e}");
                continue;
            }
        };
        // The tunnel side (a copy at HEADROOM): answered, or relayed to another client.
        let packet = &mut data[HEADROOM..HEADROOM + len];
        let to = if echo_reply([10, 8, 0, 1], packet) {
            Some(peer)
        } else {
            server.route_packet(packet)
        };
        if let Some(to) = to {
            match server.encapsulate(now, to, &mut data, HEADROOM, len) {
                Ok((dest, range)) => drop(socket.send_to(&data[range], dest)?),
                Err(e) => println!("not sent: {e}"),
            }
        }
    }
}

/// Turns an ICMP echo request to `me` into its reply in place (RFC 792; checksum per RFC 1624).
fn echo_reply(me: [u8; 4], p: &mut [u8]) -> bool {
    let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
    if ihl < 20
        || p.len() < ihl + 8
        || p[0] >> 4 != 4
        || p[9] != 1
        || p[16..20] != me
        || p[ihl] != 8
    {
        return false;
    }
    p[12..20].rotate_left(4); // source and destination swap
    p[ihl] = 0;
    let sum = u32::from(u16::from_be_bytes([p[ihl + 2], p[ihl + 3]])) + 0x0800;
    let sum = (sum & 0xffff) + (sum >> 16);
    p[ihl + 2..ihl + 4].copy_from_slice(&(sum as u16).to_be_bytes());
    true
}

fn main() -> Result<(), Box<dyn Error>> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or("127.0.0.1:1194".into())
        .parse()?;
    let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pki");
    let forever = clocks().0 + Duration::from_secs(86400 * 365);
    serve(UdpSocket::bind(listen)?, &pki, usize::MAX, forever)
}
