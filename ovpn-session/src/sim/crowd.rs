//! Many clients and one server on the simulated network: the harness for tests of a server's
//! endpoint (demultiplexing, names, addresses, scheduling) under load and loss. UDP: each client
//! has its own address, and the server tells them apart as a real one would.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::link::{Link, LinkConfig};
use super::{Steps, TraceLine, next_time};
use crate::{
    Client, ClientEvent, ClientState, FrameRoute, HEADROOM, PeerHandle, Server, ServerEvent,
    ServerReceived, TAILROOM,
};

/// One client of a [`Crowd`].
#[derive(Debug)]
pub struct Member {
    /// Its address, as the server sees it.
    pub addr: SocketAddr,
    /// The client.
    pub client: Client,
    /// Its events so far.
    pub events: Vec<ClientEvent>,
    /// Packets out of its tunnel.
    pub tun: VecDeque<Vec<u8>>,
}

/// N clients and one server, joined by one simulated link each way (every client's datagrams
/// share it, as on a real uplink), all driven in the crate's polling order.
#[derive(Debug)]
pub struct Crowd {
    /// The seed of the network's behaviour.
    pub seed: u64,
    /// When the simulation started.
    pub epoch: Instant,
    /// The simulated time.
    pub now: Instant,
    /// The server under test.
    pub server: Server,
    /// The clients, by index.
    pub members: Vec<Member>,
    /// Every server event so far.
    pub server_events: Vec<ServerEvent>,
    /// Packets out of the server's tunnel, with the session they came from (in ethernet mode:
    /// the frames [`Server::route_frame`] sends to the interface).
    pub server_tun: VecDeque<(PeerHandle, Vec<u8>)>,
    /// What happened, in order (the transcript a seed determines).
    pub trace: Vec<TraceLine>,
    up: Link,
    down: Link,
    buf: Vec<u8>,
}

impl Crowd {
    /// `clients` (created at `epoch`) against `server`, the `i`th at `198.18.x.y:40000+i`.
    pub fn new(
        seed: u64,
        epoch: Instant,
        server: Server,
        clients: Vec<Client>,
        link: LinkConfig,
    ) -> Self {
        let members = clients
            .into_iter()
            .enumerate()
            .map(|(i, client)| {
                let i = u16::try_from(i).unwrap_or(u16::MAX);
                let addr = SocketAddr::from((
                    [198, 18, (i / 200) as u8, (i % 200 + 1) as u8],
                    40000u16.wrapping_add(i),
                ));
                Member {
                    addr,
                    client,
                    events: Vec::new(),
                    tun: VecDeque::new(),
                }
            })
            .collect();
        Self {
            seed,
            epoch,
            now: epoch,
            server,
            members,
            server_events: Vec::new(),
            server_tun: VecDeque::new(),
            trace: Vec::new(),
            up: Link::new(link.clone(), seed),
            down: Link::new(link, seed ^ 0x5a5a_5a5a_5a5a_5a5a),
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

    /// Whether every client is connected and the server has a connected session for each.
    pub fn all_connected(&self) -> bool {
        self.members
            .iter()
            .all(|m| m.client.state() == &ClientState::Connected)
            && self
                .server
                .sessions(self.now)
                .iter()
                .filter(|s| s.connected)
                .count()
                == self.members.len()
    }

    /// Steps until `done` says so or `limit` of simulated time has passed. Returns whether
    /// `done`.
    pub fn run_until(&mut self, limit: Duration, done: impl FnMut(&Self) -> bool) -> bool {
        super::run_until(self, limit, done)
    }
}

impl Steps for Crowd {
    fn now(&self) -> Instant {
        self.now
    }

    fn process(&mut self) {
        self.drain();
        let now = self.now;
        while let Some(d) = self.up.deliver(now) {
            self.deliver_to_server(d);
        }
        while let Some(d) = self.down.deliver(now) {
            self.deliver_to_client(d);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        for m in &mut self.members {
            if m.client.poll_timeout().is_some_and(|t| t <= now) {
                m.client.handle_timeout(now);
            }
        }
        self.drain();
    }

    fn jump(&mut self) -> bool {
        let times = [
            self.up.next_delivery(),
            self.down.next_delivery(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .chain(self.members.iter().map(|m| m.client.poll_timeout()));
        next_time(self.now, times).map(|t| self.now = t).is_some()
    }
}

impl Crowd {
    /// Transmits, then events, of every side, until none has any.
    fn drain(&mut self) {
        let now = self.now;
        let mut buf = core::mem::take(&mut self.buf);
        loop {
            let mut any = false;
            for i in 0..self.members.len() {
                while let Some(t) = self.members[i].client.poll_transmit(now, &mut buf) {
                    any = true;
                    self.log("c2s", format!("client {i}: {} bytes", t.len));
                    self.up.send(now, &tagged(i, &buf[..t.len]));
                }
                while let Some(e) = self.members[i].client.poll_event() {
                    any = true;
                    self.log("client", format!("{i}: {e:?}"));
                    self.members[i].events.push(e);
                }
            }
            while let Some(t) = self.server.poll_transmit(now, &mut buf) {
                any = true;
                let i = self.members.iter().position(|m| m.addr == t.destination);
                self.log("s2c", format!("{} bytes to {}", t.len, t.destination));
                if let Some(i) = i {
                    self.down.send(now, &tagged(i, &buf[..t.len]));
                }
            }
            while let Some(e) = self.server.poll_event() {
                any = true;
                self.log("server", format!("{e:?}"));
                self.server_events.push(e);
            }
            if !any {
                break;
            }
        }
        self.buf = buf;
    }

    fn deliver_to_server(&mut self, mut d: Vec<u8>) {
        let Some((i, _)) = untag(&d) else {
            return;
        };
        let Some(addr) = self.members.get(i).map(|m| m.addr) else {
            return;
        };
        let ethernet = self.server.config().mode == crate::Mode::Ethernet;
        match self.server.handle_datagram(self.now, addr, &mut d[4..]) {
            Ok(ServerReceived::Packet { peer, packet }) if ethernet => {
                // As a driver with one shared TAP interface does: switch it.
                let frame = packet.to_vec();
                match self.server.route_frame(self.now, Some(peer), &frame) {
                    FrameRoute::Interface => self.server_tun.push_back((peer, frame)),
                    FrameRoute::Peer(to) => self.send_frame(to, &frame),
                    FrameRoute::Flood { interface } => {
                        self.flood(Some(peer), &frame);
                        if interface {
                            self.server_tun.push_back((peer, frame));
                        }
                    }
                    FrameRoute::Drop => self.log("server", "frame dropped by the switch".into()),
                }
            }
            Ok(ServerReceived::Packet { peer, packet }) => {
                let p = packet.to_vec();
                self.server_tun.push_back((peer, p));
            }
            Ok(_) => {}
            Err(e) => self.log("server", format!("drop from {addr}: {e}")),
        }
    }

    fn deliver_to_client(&mut self, mut d: Vec<u8>) {
        let Some((i, _)) = untag(&d) else {
            return;
        };
        let now = self.now;
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        match m.client.handle_datagram(now, &mut d[4..]) {
            Ok(crate::Received::Packet(p)) => m.tun.push_back(p.to_vec()),
            Ok(_) => {}
            Err(e) => self.log("client", format!("{i}: drop: {e}")),
        }
    }

    /// Sends `frame` into the tunnel of client `i` (towards the server).
    pub fn client_send(&mut self, i: usize, frame: &[u8]) -> Result<(), crate::EncapError> {
        let mut buf = vec![0u8; HEADROOM + frame.len() + TAILROOM];
        buf[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        let Some(m) = self.members.get_mut(i) else {
            return Err(crate::EncapError::NotConnected);
        };
        let r = m
            .client
            .encapsulate(self.now, &mut buf, HEADROOM, frame.len())?;
        self.log("c2s", format!("client {i}: data {} bytes", r.len()));
        self.up.send(self.now, &tagged(i, &buf[r]));
        Ok(())
    }

    /// A frame read from the server's (shared) interface, switched by
    /// [`Server::route_frame`] as an ethernet-mode driver does.
    pub fn interface_send(&mut self, frame: &[u8]) {
        match self.server.route_frame(self.now, None, frame) {
            FrameRoute::Peer(to) => self.send_frame(to, frame),
            FrameRoute::Flood { .. } => self.flood(None, frame),
            FrameRoute::Interface | FrameRoute::Drop => {
                self.log("server", "interface frame dropped by the switch".into());
            }
        }
    }

    fn flood(&mut self, except: Option<PeerHandle>, frame: &[u8]) {
        let to: Vec<PeerHandle> = self.server.flood_peers(except).collect();
        for p in to {
            self.send_frame(p, frame);
        }
    }

    /// Seals `frame` for session `to` and puts it on the link to its client.
    fn send_frame(&mut self, to: PeerHandle, frame: &[u8]) {
        let mut buf = vec![0u8; HEADROOM + frame.len() + TAILROOM];
        buf[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        match self
            .server
            .encapsulate(self.now, to, &mut buf, HEADROOM, frame.len())
        {
            Ok((dest, r)) => {
                if let Some(i) = self.members.iter().position(|m| m.addr == dest) {
                    self.down.send(self.now, &tagged(i, &buf[r]));
                }
            }
            Err(e) => self.log("server", format!("not sent to {to:?}: {e}")),
        }
    }

    /// The whole trace as text: two runs with the same seed, epoch and configuration give the
    /// same transcript.
    pub fn transcript(&self) -> String {
        let mut s = String::new();
        for l in &self.trace {
            s += &format!("{:>10.3?} {:6} {}\n", l.at, l.side, l.what);
        }
        s
    }
}

/// A datagram with the client's index in front (the harness's own framing on the shared link).
fn tagged(i: usize, bytes: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(4 + bytes.len());
    d.extend_from_slice(&u32::try_from(i).unwrap_or(u32::MAX).to_be_bytes());
    d.extend_from_slice(bytes);
    d
}

fn untag(d: &[u8]) -> Option<(usize, &[u8])> {
    let i = u32::from_be_bytes(d.get(..4)?.try_into().ok()?) as usize;
    Some((i, &d[4..]))
}
