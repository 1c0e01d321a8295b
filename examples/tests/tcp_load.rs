//! The server program's loop under hostile TCP connections, on loopback (no root): while our
//! client carries traffic through it, 2,000 connections send nothing, 2,000 send a length
//! prefix and stall, one sends a packet a byte at a time, and one sends a zero length prefix.
//! The traffic gets through, the broken stream is closed at once, and every other hostile
//! connection is closed within the first-packet bound (or refused past the limits).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use ovpn_examples::demo::{self, DemoOptions};

/// A connection to `to` from the loopback address `src` (loopback has all of 127/8, so the
/// attackers look like many hosts to the server's per-source limit).
fn connect_from(src: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use rustix::net::{AddressFamily, SocketType, ipproto};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, Some(ipproto::TCP))?;
    rustix::net::bind(&fd, &SocketAddrV4::new(src, 0))?;
    rustix::net::connect(&fd, &to)?;
    Ok(TcpStream::from(fd))
}

/// Whether the server has closed `s` (end of stream, or reset), without waiting.
fn is_closed(s: &mut TcpStream) -> bool {
    s.set_nonblocking(true).ok();
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

struct Attack {
    started: Instant,
    idle: Vec<TcpStream>,
    stalled: Vec<TcpStream>,
    dribbler: thread::JoinHandle<TcpStream>,
    /// Hostile connections the server admitted (open once all were made).
    admitted: usize,
    /// When the last hostile connection was opened (the bounds run from there at the latest).
    opened: Instant,
}

#[test]
#[allow(clippy::disallowed_methods, reason = "a load test measures real time")]
fn hostile_tcp_connections_do_not_stop_a_real_client() {
    // Each attacker costs this process a descriptor, and the server one more.
    let limit = ovpn_examples::runtime::raise_fd_limit().unwrap_or(1024);
    let n = 2000.min(usize::try_from(limit.saturating_sub(400) / 4).unwrap_or(0));
    assert!(
        n >= 100,
        "the open-file limit ({limit}) leaves too little room"
    );
    let options = DemoOptions {
        packets: 2000,
        tcp: true,
        ..DemoOptions::default()
    };
    let (report, checks) = demo::run_with(&options, |server| {
        let started = Instant::now();
        // The zero prefix and the dribbler come first, so that the total limit (max-connections
        // follows max-clients, 1,024) admits them: what happens to them is their own doing.
        let mut zero =
            connect_from(Ipv4Addr::new(127, 3, 0, 1), server).map_err(|e| e.to_string())?;
        zero.write_all(&[0, 0, 1, 2, 3])
            .map_err(|e| e.to_string())?;
        let mut d = connect_from(Ipv4Addr::new(127, 3, 0, 2), server).map_err(|e| e.to_string())?;
        let dribbler = thread::spawn(move || {
            // A client reset, one byte every 50 ms.
            for b in [0u8, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0] {
                if d.write_all(&[b]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            d
        });
        let host = |net: u8, i: usize| {
            Ipv4Addr::new(127, net, (i / 20 / 250) as u8, (1 + i / 20 % 250) as u8)
        };
        let mut idle = Vec::new();
        let mut stalled = Vec::new();
        for i in 0..n {
            idle.push(connect_from(host(1, i), server).map_err(|e| format!("idle {i}: {e}"))?);
            let mut s =
                connect_from(host(2, i), server).map_err(|e| format!("stalled {i}: {e}"))?;
            // Refused ones may be closed already: a failed write is fine.
            let _ = s.write_all(if i % 2 == 0 { &[0x00, 0x40] } else { &[0x00] });
            stalled.push(s);
        }
        let opened = Instant::now();
        // Admitted hostile connections are open now (their bound closes them later, not a
        // refusal), up to the total limit; the rest were refused at once. Counted before the
        // transfer, so that a slow machine cannot see them closed by their bound already.
        let admitted = idle
            .iter_mut()
            .chain(stalled.iter_mut())
            .map(|s| !is_closed(s))
            .filter(|o| *o)
            .count();
        if admitted < 500 {
            return Err(format!("only {admitted} hostile connections admitted"));
        }
        // The broken stream is closed at once (a read waits for it, not for the bound).
        zero.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut b = [0u8; 8];
        if !matches!(zero.read(&mut b), Ok(0) | Err(_)) {
            return Err("a zero length prefix did not close the connection".into());
        }
        Ok(Attack {
            started,
            idle,
            stalled,
            dribbler,
            admitted,
            opened,
        })
    },
    |attack| {
        // Checked while the server still runs (after `run_with` it has stopped, and every
        // connection with it).
        let Attack {
            started,
            mut idle,
            mut stalled,
            dribbler,
            admitted,
            opened,
        } = attack;
        let transfer = started.elapsed();
        // Every hostile connection is closed within the first-packet bound (10 s) and a little.
        let bound = Duration::from_secs(10) + Duration::from_secs(2);
        thread::sleep((opened + bound).saturating_duration_since(Instant::now()));
        let open_idle = idle.iter_mut().map(|s| !is_closed(s)).filter(|o| *o).count();
        let open_stalled = stalled.iter_mut().map(|s| !is_closed(s)).filter(|o| *o).count();
        if (open_idle, open_stalled) != (0, 0) {
            return Err(format!(
                "{open_idle} idle and {open_stalled} stalled connections still open {bound:?} after the last was opened"
            ));
        }
        // The dribbler completed a valid start within the partial-frame bound: its connection
        // lives on as a session in its handshake (bounded by hand-window), as a slow real
        // client's.
        let mut d = dribbler.join().map_err(|_| "the dribbler panicked")?;
        if is_closed(&mut d) {
            return Err("the dribbler's valid start was cut off".into());
        }
        Ok((transfer, admitted, bound))
    })
    .expect("traffic crosses the tunnel during the attack, and the bounds hold");
    let (transfer, admitted, bound) = checks;
    for t in &report.throughput {
        assert_eq!(t.arrived, options.packets, "{}", t.direction);
    }
    // The real client's session outlived it all.
    assert_eq!(report.sessions.len(), 1);
    println!(
        "tcp load: {n} idle + {n} stalled connections ({admitted} admitted, the rest refused), a dribbler and a zero prefix; {} packets each way crossed meanwhile ({:.0} / {:.0} Mbit/s; opening the connections and the transfer took {transfer:?}); all hostile connections closed within {bound:?}",
        options.packets,
        report.throughput[0].mbit_per_s(),
        report.throughput[1].mbit_per_s(),
    );
}
