//! A deterministic in-memory network for driving a [`Client`] and a [`Server`] without sockets:
//! simulated time, and links that lose, duplicate, delay and reorder datagrams as a seeded
//! generator decides, so that any run can be replayed from its seed.
//!
//! [`Sim`] is one client and one server; [`Crowd`] is many clients and one server.
//!
//! Time comes from one `Instant` taken at the start plus `Duration`s; nothing here sleeps.

mod crowd;
mod link;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use crowd::{Crowd, Member};
pub use link::{Link, LinkConfig, LinkStats, SimRng};

use crate::{
    Client, ClientEvent, HEADROOM, Received, Server, ServerEvent, ServerReceived, TAILROOM,
    Transport,
};

/// The client's and the server's addresses in the simulation.
pub const CLIENT_ADDR: &str = "192.0.2.2:40000";
/// See [`CLIENT_ADDR`].
pub const SERVER_ADDR: &str = "192.0.2.1:1194";

/// One line of the simulation's trace: when, which side, what.
#[derive(Debug, Clone)]
pub struct TraceLine {
    /// Time since the start.
    pub at: Duration,
    /// `client`, `server`, `c2s`, `s2c`.
    pub side: &'static str,
    /// What happened.
    pub what: String,
}

/// A client and a server joined by two simulated links.
#[derive(Debug)]
pub struct Sim {
    /// The seed everything random in the network came from (print it on failure).
    pub seed: u64,
    /// When the simulation started.
    pub epoch: Instant,
    /// The simulated time.
    pub now: Instant,
    /// The client under test.
    pub client: Client,
    /// The server under test.
    pub server: Server,
    /// Client to server.
    pub c2s: Link,
    /// Server to client.
    pub s2c: Link,
    /// The client's address as the server sees it (change it to simulate NAT rebinding).
    pub client_addr: SocketAddr,
    /// Packets that came out of the client's tunnel (decrypted, from the server).
    pub client_tun: VecDeque<Vec<u8>>,
    /// Packets that came out of the server's tunnel, with the client they came from.
    pub server_tun: VecDeque<(crate::PeerHandle, Vec<u8>)>,
    /// Every client event so far.
    pub client_events: Vec<ClientEvent>,
    /// Every server event so far.
    pub server_events: Vec<ServerEvent>,
    /// What happened, for failure dumps.
    pub trace: Vec<TraceLine>,
    /// Packets dropped by either side, with the reason.
    pub drops: Vec<(&'static str, crate::DropReason)>,
    /// New clients the server asks about ([`crate::Admission::Ask`]), for the test to answer.
    pub incoming: Vec<crate::Incoming>,
    /// What the server sent to addresses other than the client's (answers to packets a test
    /// injected from elsewhere): packets and bytes. They go nowhere.
    pub sent_elsewhere: (u64, u64),
    /// Over TCP: the stream is cut into pieces at random points (the library reassembles them).
    tcp: bool,
    chunks: SimRng,
    buf: Vec<u8>,
}

/// What a simulation does: everything due at its current time, and the jump to the next time
/// something happens; [`run_until`] steps any of them.
trait Steps {
    fn now(&self) -> Instant;
    /// Everything due now: deliveries, timers, output.
    fn process(&mut self);
    /// Moves to the next delivery or timer; false when nothing will ever happen again.
    fn jump(&mut self) -> bool;
}

/// Steps `s` until `done` says so or `limit` of simulated time has passed. `done` is asked after
/// each instant is fully processed, so `now` is when it became true.
fn run_until<S: Steps>(s: &mut S, limit: Duration, mut done: impl FnMut(&S) -> bool) -> bool {
    let end = s.now() + limit;
    loop {
        s.process();
        if done(s) {
            return true;
        }
        if !s.jump() || s.now() > end {
            return false;
        }
    }
}

/// The next time from `now`: the earliest of `times`, never backwards and always ahead (timers in
/// the past after a full drain would spin). None when there is none.
fn next_time(now: Instant, times: impl Iterator<Item = Option<Instant>>) -> Option<Instant> {
    let t = times.flatten().min()?;
    Some(t.max(now + Duration::from_micros(1)))
}

/// The seed to use: `OVPN_SIM_SEED` when set, else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    std::env::var("OVPN_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

impl Sim {
    /// Joins `client` and `server` (both created at `epoch`) with links of `link`'s behaviour.
    /// Over TCP the links lose, duplicate and reorder nothing (TCP does not), but the byte stream is
    /// cut into pieces at random points.
    pub fn new(
        seed: u64,
        epoch: Instant,
        client: Client,
        server: Server,
        link: LinkConfig,
    ) -> Self {
        let tcp = client.config().transport == Transport::Tcp;
        let link = if tcp {
            LinkConfig {
                loss: 0.0,
                duplicate: 0.0,
                reorder: 0.0,
                jitter: Duration::ZERO,
                ..link
            }
        } else {
            link
        };
        Self {
            seed,
            epoch,
            now: epoch,
            client,
            server,
            c2s: Link::new(link.clone(), seed),
            s2c: Link::new(link, seed ^ 0x5a5a_5a5a_5a5a_5a5a),
            client_addr: CLIENT_ADDR
                .parse()
                .unwrap_or(SocketAddr::from(([192, 0, 2, 2], 40000))),
            client_tun: VecDeque::new(),
            server_tun: VecDeque::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            trace: Vec::new(),
            drops: Vec::new(),
            incoming: Vec::new(),
            sent_elsewhere: (0, 0),
            tcp,
            chunks: SimRng::new(seed ^ 0x1234),
            buf: Vec::with_capacity(2048),
        }
    }

    fn log(&mut self, side: &'static str, what: String) {
        self.trace.push(TraceLine {
            at: self.now.saturating_duration_since(self.epoch),
            side,
            what,
        });
    }

    /// Drains both sides' output, delivers what is due, then jumps to the next thing that happens.
    /// Returns false when nothing will ever happen again.
    pub fn step(&mut self) -> bool {
        Steps::process(self);
        Steps::jump(self)
    }

    /// Steps until `done` says so or `limit` of simulated time has passed. Returns whether `done`.
    /// `done` is asked after each instant is fully processed, so `now` is when it became true.
    pub fn run_until(&mut self, limit: Duration, done: impl FnMut(&Self) -> bool) -> bool {
        run_until(self, limit, done)
    }
}

impl Steps for Sim {
    fn now(&self) -> Instant {
        self.now
    }

    fn process(&mut self) {
        self.drain();
        let now = self.now;
        while let Some(d) = self.c2s.deliver(now) {
            self.deliver_to_server(d);
        }
        while let Some(d) = self.s2c.deliver(now) {
            self.deliver_to_client(d);
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        self.drain();
    }

    fn jump(&mut self) -> bool {
        let times = [
            self.c2s.next_delivery(),
            self.s2c.next_delivery(),
            self.client.poll_timeout(),
            self.server.poll_timeout(),
        ];
        next_time(self.now, times.into_iter())
            .map(|t| self.now = t)
            .is_some()
    }
}

impl Sim {
    /// Advances simulated time by `d`, processing everything on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            let before = self.now;
            if !self.step() || self.now > end {
                self.now = end.max(before);
                self.drain();
                break;
            }
        }
    }

    fn drain(&mut self) {
        let now = self.now;
        let mut buf = core::mem::take(&mut self.buf);
        while let Some(t) = self.client.poll_transmit(now, &mut buf) {
            // Only the simulated server's address reaches it; anything else is lost.
            if SERVER_ADDR.parse() != Ok(t.destination) {
                self.log(
                    "c2s",
                    format!("{} bytes to {}: nobody there", t.len, t.destination),
                );
                continue;
            }
            self.log("c2s", format!("{} bytes", t.len));
            self.send_c2s(&buf[..t.len]);
        }
        while let Some(t) = self.server.poll_transmit(now, &mut buf) {
            if t.destination != self.client_addr {
                self.sent_elsewhere.0 += 1;
                self.sent_elsewhere.1 += t.len as u64;
                continue;
            }
            self.log("s2c", format!("{} bytes to {}", t.len, t.destination));
            self.send_s2c(&buf[..t.len]);
        }
        self.buf = buf;
        while let Some(e) = self.client.poll_event() {
            self.log("client", format!("{e:?}"));
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.log("server", format!("{e:?}"));
            self.server_events.push(e);
        }
    }

    fn send_c2s(&mut self, bytes: &[u8]) {
        let now = self.now;
        if self.tcp {
            for chunk in random_chunks(&mut self.chunks, bytes) {
                self.c2s.send(now, chunk);
            }
        } else {
            self.c2s.send(now, bytes);
        }
    }

    fn send_s2c(&mut self, bytes: &[u8]) {
        let now = self.now;
        if self.tcp {
            for chunk in random_chunks(&mut self.chunks, bytes) {
                self.s2c.send(now, chunk);
            }
        } else {
            self.s2c.send(now, bytes);
        }
    }

    fn deliver_to_server(&mut self, mut bytes: Vec<u8>) {
        let (now, from) = (self.now, self.client_addr);
        let mut results = Vec::new();
        let incoming = &mut self.incoming;
        let mut keep = |r: Result<ServerReceived<'_>, crate::DropReason>| match r {
            Ok(ServerReceived::Packet { peer, packet }) => {
                results.push(Ok((peer, packet.to_vec())))
            }
            Ok(ServerReceived::Consumed) => {}
            Ok(ServerReceived::Incoming(i)) => incoming.push(i),
            Err(e) => results.push(Err(e)),
        };
        if self.tcp {
            let mut packets = self.server.handle_stream(now, from, &mut bytes);
            while let Some(r) = packets.next() {
                keep(r);
            }
        } else {
            keep(self.server.handle_datagram(now, from, &mut bytes));
        }
        for r in results {
            match r {
                Ok(p) => self.server_tun.push_back(p),
                Err(e) => {
                    self.log("server", format!("drop: {e}"));
                    self.drops.push(("server", e));
                }
            }
        }
    }

    fn deliver_to_client(&mut self, mut bytes: Vec<u8>) {
        let now = self.now;
        let mut results = Vec::new();
        let mut keep = |r: Result<Received<'_>, crate::DropReason>| match r {
            Ok(Received::Packet(p)) => results.push(Ok(p.to_vec())),
            Ok(Received::Consumed) => {}
            Err(e) => results.push(Err(e)),
        };
        if self.tcp {
            let mut packets = self.client.handle_stream(now, &mut bytes);
            while let Some(r) = packets.next() {
                keep(r);
            }
        } else {
            keep(self.client.handle_datagram(now, &mut bytes));
        }
        for r in results {
            match r {
                Ok(p) => self.client_tun.push_back(p),
                Err(e) => {
                    self.log("client", format!("drop: {e}"));
                    self.drops.push(("client", e));
                }
            }
        }
    }

    /// Sends `packet` into the client's tunnel (towards the server).
    pub fn client_send(&mut self, packet: &[u8]) -> Result<(), crate::EncapError> {
        let mut buf = vec![0u8; HEADROOM + packet.len() + TAILROOM];
        buf[HEADROOM..HEADROOM + packet.len()].copy_from_slice(packet);
        let r = self
            .client
            .encapsulate(self.now, &mut buf, HEADROOM, packet.len())?;
        self.log("c2s", format!("data {} bytes", r.len()));
        self.send_c2s(&buf[r]);
        Ok(())
    }

    /// Sends `packet` into the server's tunnel towards `peer`.
    pub fn server_send(
        &mut self,
        peer: crate::PeerHandle,
        packet: &[u8],
    ) -> Result<(), crate::EncapError> {
        let mut buf = vec![0u8; HEADROOM + packet.len() + TAILROOM];
        buf[HEADROOM..HEADROOM + packet.len()].copy_from_slice(packet);
        let (_, r) = self
            .server
            .encapsulate(self.now, peer, &mut buf, HEADROOM, packet.len())?;
        self.log("s2c", format!("data {} bytes", r.len()));
        self.send_s2c(&buf[r]);
        Ok(())
    }

    /// The trace as text, with the seed, for a failure message.
    pub fn dump(&self) -> String {
        let mut s = format!(
            "simulation seed {} (OVPN_SIM_SEED={0} replays it)\n",
            self.seed
        );
        for l in self.trace.iter().rev().take(80).rev() {
            s += &format!("{:>10.3?} {:6} {}\n", l.at, l.side, l.what);
        }
        s
    }
}

fn random_chunks<'a>(rng: &mut SimRng, bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + (rng.next_u64() as usize) % rest.len();
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}
