//! The server's loop: UDP or TCP on one port, an `ovpn-incomingN` interface per client (or one
//! shared interface), logs and the session table. The interfaces themselves: [`interfaces`].

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd as _;
use std::time::Instant;

use mio::net::{TcpListener, UdpSocket};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use ovpn_session::{
    DisconnectReason, DropReason, HEADROOM, Mode, PeerHandle, Server, ServerConfig, ServerEvent,
    ServerReceived, SessionInfo, Shared, Switching, TAILROOM, Transport,
};
use ovpn_tun::{DeviceConfig, Layer};

mod interfaces;

use interfaces::v4_routes;

use super::{
    Control, ControlRx, MAX_PACKET, RunError, TcpIo, Tun, TunFactory, control_pair, io_err, now,
    raise_fd_limit, unix_now,
};
use crate::logging;
use crate::table::row_line;

const SOCKET: Token = Token(0);
const CONTROL: Token = Token(1);
const SHARED: Token = Token(2);
const FIRST_DYNAMIC: usize = 3;

/// How the server is run (beyond its RouterOS configuration).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address and port to bind (port from the configuration's `port`).
    pub listen: SocketAddr,
    /// One shared interface with this name for all clients instead of one `ovpn-incomingN` each.
    pub shared_tun: Option<String>,
}

enum Listener {
    Udp(UdpSocket),
    Tcp(TcpListener),
}

struct TcpConn {
    io: TcpIo,
    remote: SocketAddr,
}

/// A logged-in client's interface: its own `ovpn-incomingN`, or None on the shared one.
struct PeerIo<D> {
    name: String,
    tun: Option<(Token, D)>,
}

/// The server's event loop.
pub struct ServerRuntime<F: TunFactory> {
    server: Server,
    factory: F,
    poll: Poll,
    events: Events,
    ready: Vec<(Token, bool, bool)>,
    control: Control,
    control_rx: ControlRx,
    listener: Listener,
    local_addr: SocketAddr,
    mtu: u16,
    mode: Mode,
    conns: HashMap<Token, TcpConn>,
    conn_tokens: HashMap<SocketAddr, Token>,
    tun_tokens: HashMap<Token, PeerHandle>,
    peers: HashMap<PeerHandle, PeerIo<F::Device>>,
    shared: Option<F::Device>,
    shared_addresses: HashSet<Ipv4Addr>,
    next_token: usize,
    rx: Vec<u8>,
    data: Vec<u8>,
    tx: Vec<u8>,
    /// When a refused session start was last logged (at most one line a second).
    last_auth_warning: Option<Instant>,
    /// When a failed `accept` was last logged (at most one line per 10 s).
    last_accept_warning: Option<Instant>,
}

impl<F: TunFactory> core::fmt::Debug for ServerRuntime<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerRuntime")
            .field("local_addr", &self.local_addr)
            .field("sessions", &self.peers.len())
            .finish_non_exhaustive()
    }
}

/// Sends a packet to a client: a datagram, or into its TCP connection.
fn send_to(
    listener: &Listener,
    conns: &mut HashMap<Token, TcpConn>,
    conn_tokens: &HashMap<SocketAddr, Token>,
    to: SocketAddr,
    bytes: &[u8],
) {
    match listener {
        Listener::Udp(s) => {
            // A dual-stack socket reaches IPv4 clients at their mapped addresses.
            let to_wire = match (s.local_addr(), to) {
                (Ok(SocketAddr::V6(_)), SocketAddr::V4(v4)) => {
                    SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
                }
                _ => to,
            };
            if let Err(e) = s.send_to(bytes, to_wire) {
                tracing::debug!(target: "ovpn", "sending to {to}: {e}");
            }
        }
        Listener::Tcp(_) => match conn_tokens.get(&to).and_then(|t| conns.get_mut(t)) {
            Some(c) => {
                c.io.queue(bytes);
                if !c.io.flush() {
                    tracing::debug!(target: "ovpn", "{to}: TCP connection broken");
                }
            }
            None => tracing::debug!(target: "ovpn", "{to}: no TCP connection for this packet"),
        },
    }
}

/// Writes a client's packet (its source already checked by the server) to its interface, or to
/// the shared one.
fn deliver<D: Tun>(
    peers: &HashMap<PeerHandle, PeerIo<D>>,
    shared: Option<&D>,
    peer: PeerHandle,
    packet: &[u8],
) {
    let Some(p) = peers.get(&peer) else {
        return;
    };
    let Some(dev) = p.tun.as_ref().map(|(_, d)| d).or(shared) else {
        return;
    };
    if let Err(e) = dev.send(packet) {
        tracing::debug!(target: "ovpn", "{}: writing to {}: {e}", p.name, dev.name());
    }
}

impl<F: TunFactory> ServerRuntime<F> {
    /// Binds the socket, creates the shared interface if asked, and starts the server.
    pub fn new(
        mut config: ServerConfig,
        shared: Shared,
        options: &ServerOptions,
        mut factory: F,
    ) -> Result<Self, RunError> {
        let poll = Poll::new().map_err(io_err("creating the poll"))?;
        let transport = config.transport;
        let mtu = config.max_mtu;
        let mode = config.mode;
        if mode == Mode::Ethernet {
            if options.shared_tun.is_some() {
                return Err(RunError::Setup(
                    "--shared-tun is for mode=ip; in mode=ethernet every client has its own \
                     ovpn-incomingN, which a profile's bridge= puts on a bridge"
                        .into(),
                ));
            }
            // Each client's interface is a port of the host's bridge: the kernel switches.
            config.switching = Switching::Off;
        }
        if options.shared_tun.is_some() && config.ipv6.is_some() {
            return Err(RunError::Setup(
                "--shared-tun carries IPv4 only for now; enable-tun-ipv6=yes needs an \
                 ovpn-incomingN per client (run without --shared-tun)"
                    .into(),
            ));
        }
        fit_fd_limit(&mut config, options.shared_tun.is_none());
        let server = Server::new(config, shared, now(), unix_now())
            .map_err(|e| RunError::Setup(format!("the server configuration: {e}")))?;
        let what = format!("listening on {}", options.listen);
        let mut listener = bind_listener(options.listen, transport).map_err(io_err(&what))?;
        let local_addr = register_listener(&poll, &mut listener).map_err(io_err(&what))?;
        let (control, mut control_rx) = control_pair()?;
        poll.registry()
            .register(control_rx.source(), CONTROL, Interest::READABLE)
            .map_err(io_err("registering the control socket"))?;
        let shared = match &options.shared_tun {
            Some(name) => {
                let dev = factory
                    .create(&DeviceConfig {
                        name: name.clone(),
                        layer: Layer::Tun,
                        mtu,
                        ipv4: None,
                    })
                    .map_err(RunError::Setup)?;
                poll.registry()
                    .register(&mut SourceFd(&dev.as_raw_fd()), SHARED, Interest::READABLE)
                    .map_err(io_err(format!("registering {name}")))?;
                Some(dev)
            }
            None => None,
        };
        tracing::info!(target: "ovpn", "ovpn-server: listening on {} {local_addr}", proto(transport));
        Ok(Self {
            server,
            factory,
            poll,
            events: Events::with_capacity(256),
            ready: Vec::with_capacity(256),
            control,
            control_rx,
            listener,
            local_addr,
            mtu,
            mode,
            conns: HashMap::new(),
            conn_tokens: HashMap::new(),
            tun_tokens: HashMap::new(),
            peers: HashMap::new(),
            shared,
            shared_addresses: HashSet::new(),
            next_token: FIRST_DYNAMIC,
            rx: vec![0; MAX_PACKET],
            data: vec![0; HEADROOM + MAX_PACKET + TAILROOM],
            tx: Vec::with_capacity(2048),
            last_auth_warning: None,
            last_accept_warning: None,
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The handle that stops or wakes this loop.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The session state machine.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The logged-in sessions, oldest first (the server's table).
    pub fn sessions(&self, now: Instant) -> Vec<SessionInfo> {
        let mut rows: Vec<SessionInfo> = self
            .server
            .sessions(now)
            .into_iter()
            .filter(|s| s.connected)
            .collect();
        rows.sort_by_key(|s| s.session_id);
        rows
    }

    /// Runs until stopped (SIGINT/SIGTERM with [`Control::stop_on_signals`]), then closes every
    /// session.
    pub fn run(&mut self) -> Result<(), RunError> {
        while !self.control.is_stopped() {
            self.turn()?;
            if self.control.take_status_request() {
                self.log_status();
            }
            if let Some(check) = self.control.take_client_check() {
                self.set_client_check(check);
            }
            for (change, reply) in self.control.take_changes() {
                let _ = reply.send(self.change(change));
            }
            let asked = self.control.take_session_requests();
            if !asked.is_empty() {
                let rows = self.sessions(now());
                for tx in asked {
                    let _ = tx.send(rows.clone());
                }
            }
        }
        self.shutdown();
        Ok(())
    }

    /// One turn: wait for readiness or the next timer, handle what is ready, send what is due.
    pub fn turn(&mut self) -> Result<(), RunError> {
        {
            let _hold = logging::hold();
            self.drive(now());
        }
        let timeout = self
            .server
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now()));
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err("waiting for events")(e)),
        }
        let _hold = logging::hold();
        let now = now();
        self.ready.clear();
        for ev in self.events.iter() {
            self.ready.push((
                ev.token(),
                ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                ev.is_writable(),
            ));
        }
        for i in 0..self.ready.len() {
            let (token, readable, writable) = self.ready[i];
            match token {
                SOCKET => self.on_socket(now),
                CONTROL => self.control_rx.drain(),
                SHARED => self.on_shared_tun(now),
                t if self.tun_tokens.contains_key(&t) => self.on_tun(now, t),
                t => self.on_conn(now, t, readable, writable),
            }
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        self.drive(now);
        Ok(())
    }

    /// Uses a new client certificate check (new CRLs): sessions whose certificates it refuses
    /// end now.
    pub fn set_client_check(&mut self, check: super::ClientCheck) {
        let now = now();
        let _hold = logging::hold();
        match self.server.set_client_check(now, Some(check)) {
            Ok(ended) => {
                tracing::info!(target: "ovpn", "ovpn-server on {}: new CRLs in use; {} sessions ended by them", self.local_addr, ended.len())
            }
            Err(e) => {
                tracing::warn!(target: "ovpn", "ovpn-server on {}: the new CRLs cannot be used: {e}", self.local_addr)
            }
        }
        self.drive(now);
    }

    /// Makes a configuration change (`/interface ovpn-server server set`): without a new
    /// address, new sessions get the new settings and established ones keep theirs; with one
    /// (port or protocol changed), the loop listens there with a new server, ending every
    /// session as RouterOS's restart does. On an error nothing changes.
    pub fn change(&mut self, change: super::ServerChange) -> Result<String, String> {
        let mut config = change.config;
        // The check in use may be newer than the configuration's (CRLs read since).
        if config.client_check.is_some() && self.server.config().client_check.is_some() {
            config.client_check = self.server.config().client_check.clone();
        }
        self.fit_config(&mut config)?;
        let Some(listen) = change.listen else {
            self.server.reconfigure(config).map_err(|e| e.to_string())?;
            self.mtu = self.server.config().max_mtu;
            return Ok("new sessions use the new settings".into());
        };
        let transport = config.transport;
        let same_socket =
            transport == self.server.config().transport && listen.port() == self.local_addr.port();
        // The new socket first: a port in use leaves the running server as it was.
        let listener = if same_socket {
            None
        } else {
            Some(
                bind_listener(listen, transport)
                    .map_err(|e| format!("listening on {listen}: {e}"))?,
            )
        };
        let server = Server::new(config, self.server.shared().clone(), now(), unix_now())
            .map_err(|e| format!("the server configuration: {e}"))?;
        let ended = self.sessions(now()).len();
        self.shutdown();
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for t in tokens {
            self.drop_conn(t);
        }
        self.server = server;
        self.mtu = self.server.config().max_mtu;
        self.mode = self.server.config().mode;
        if let Some(mut listener) = listener {
            let _ = match &mut self.listener {
                Listener::Udp(s) => self.poll.registry().deregister(s),
                Listener::Tcp(s) => self.poll.registry().deregister(s),
            };
            let local = register_listener(&self.poll, &mut listener)
                .map_err(|e| format!("listening on {listen}: {e}"))?;
            self.listener = listener;
            self.local_addr = local;
        }
        tracing::info!(target: "ovpn", "ovpn-server: listening on {} {}", proto(transport), self.local_addr);
        Ok(format!(
            "restarted on {} {} ({ended} sessions ended)",
            proto(transport),
            self.local_addr
        ))
    }

    /// What the loop does to every configuration: no switching between the clients' own
    /// interfaces in mode=ethernet (the bridge switches), descriptors within the limit.
    fn fit_config(&self, config: &mut ServerConfig) -> Result<(), String> {
        if config.mode == Mode::Ethernet {
            if self.shared.is_some() {
                return Err("--shared-tun is for mode=ip".into());
            }
            config.switching = Switching::Off;
        }
        if self.shared.is_some() && config.ipv6.is_some() {
            return Err("--shared-tun carries IPv4 only for now".into());
        }
        fit_fd_limit(config, self.shared.is_none());
        Ok(())
    }

    /// Logs the session table and the pools' usage (SIGUSR1).
    pub fn log_status(&self) {
        let rows = self.sessions(now());
        tracing::info!(target: "ovpn", "ovpn-server: status: {} session{}", rows.len(), if rows.len() == 1 { "" } else { "s" });
        for r in &rows {
            let name = r.name.as_deref().unwrap_or_default();
            tracing::info!(target: "ovpn", "{name}: session: {}", row_line(r));
        }
        self.server.shared().view(|_, pools| {
            for p in pools.pools() {
                if let Some(st) = pools.stats(p.name()) {
                    tracing::info!(target: "ppp", "pool {}: total={} used={} available={}", p.name(), st.total, st.used, st.free);
                }
            }
        });
    }

    /// Closes every session (telling the clients that understand it) and removes the interfaces.
    pub fn shutdown(&mut self) {
        let _hold = logging::hold();
        let now = now();
        let ids: Vec<PeerHandle> = self.server.sessions(now).iter().map(|s| s.peer).collect();
        for id in ids {
            let _ = self
                .server
                .disconnect(now, id, DisconnectReason::LocallyClosed);
        }
        self.drive(now);
        for c in self.conns.values_mut() {
            c.io.flush();
        }
        tracing::info!(target: "ovpn", "ovpn-server: stopped");
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn drive(&mut self, now: Instant) {
        loop {
            while let Some(t) = self.server.poll_transmit(now, &mut self.tx) {
                let bytes = self.tx.get(..t.len).unwrap_or_default();
                send_to(
                    &self.listener,
                    &mut self.conns,
                    &self.conn_tokens,
                    t.destination,
                    bytes,
                );
            }
            let Some(e) = self.server.poll_event() else {
                break;
            };
            self.on_event(now, e);
        }
    }

    fn on_socket(&mut self, now: Instant) {
        match &self.listener {
            Listener::Udp(s) => loop {
                let (n, from) = match s.recv_from(&mut self.rx) {
                    Ok((n, from)) => (n, canonical(from)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        tracing::debug!(target: "ovpn", "receiving: {e}");
                        continue;
                    }
                };
                match self.server.handle_datagram(now, from, &mut self.rx[..n]) {
                    Ok(ServerReceived::Packet { peer, packet }) => {
                        deliver(&self.peers, self.shared.as_ref(), peer, packet);
                    }
                    Ok(ServerReceived::Consumed) => {}
                    // This runtime admits every client (Admission::AcceptAll); one configured
                    // to ask is answered the same way.
                    Ok(ServerReceived::Incoming(i)) => {
                        if let Err(e) = self.server.accept(now, i) {
                            tracing::debug!(target: "ovpn", "new session from {from}: {e}");
                        }
                    }
                    Err(e) => log_drop(&mut self.last_auth_warning, now, from, e),
                }
            },
            Listener::Tcp(l) => loop {
                let (mut stream, remote) = match l.accept() {
                    Ok((stream, remote)) => (stream, canonical(remote)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        // Out of descriptors (EMFILE/ENFILE): said, at most once per 10 s.
                        if self.last_accept_warning.is_none_or(|t| {
                            now.saturating_duration_since(t) >= std::time::Duration::from_secs(10)
                        }) {
                            self.last_accept_warning = Some(now);
                            tracing::warn!(target: "ovpn", "ovpn-server: accepting a TCP connection: {e}");
                        }
                        break;
                    }
                };
                // Past the connection limits: closed at once (the server logged why).
                if self.server.connection_opened(now, remote).is_err() {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                self.next_token += 1;
                let token = Token(self.next_token);
                if let Err(e) = self.poll.registry().register(
                    &mut stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    tracing::warn!(target: "ovpn", "{remote}: {e}");
                    self.server.connection_closed(now, remote);
                    continue;
                }
                tracing::debug!(target: "ovpn", "TCP connection from {remote}");
                self.conn_tokens.insert(remote, token);
                self.conns.insert(
                    token,
                    TcpConn {
                        io: TcpIo::new(stream),
                        remote,
                    },
                );
            },
        }
    }

    fn on_conn(&mut self, now: Instant, token: Token, readable: bool, writable: bool) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let mut open = !writable || c.io.flush();
        if open && readable {
            let remote = c.remote;
            let (server, peers, shared) = (&mut self.server, &self.peers, self.shared.as_ref());
            let last_auth_warning = &mut self.last_auth_warning;
            loop {
                match c.io.read(&mut self.rx) {
                    Ok(Some(n)) => {
                        let mut incoming = Vec::new();
                        let mut packets = server.handle_stream(now, remote, &mut self.rx[..n]);
                        while let Some(r) = packets.next() {
                            match r {
                                Ok(ServerReceived::Packet { peer, packet }) => {
                                    deliver(peers, shared, peer, packet);
                                }
                                Ok(ServerReceived::Consumed) => {}
                                Ok(ServerReceived::Incoming(i)) => incoming.push(i),
                                Err(e @ DropReason::BrokenStream(_)) => {
                                    tracing::debug!(target: "ovpn", "{remote}: {e}");
                                    open = false;
                                }
                                Err(e) => log_drop(last_auth_warning, now, remote, e),
                            }
                        }
                        drop(packets);
                        for i in incoming {
                            if let Err(e) = server.accept(now, i) {
                                tracing::debug!(target: "ovpn", "new session from {remote}: {e}");
                            }
                        }
                        if !open {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(reason) => {
                        tracing::debug!(target: "ovpn", "{remote}: {reason}");
                        open = false;
                        break;
                    }
                }
            }
        }
        if !open {
            self.close_conn(now, token);
        }
    }

    fn close_conn(&mut self, now: Instant, token: Token) {
        if let Some(remote) = self.drop_conn(token) {
            self.server.connection_closed(now, remote);
        }
    }

    /// Closes a connection's socket (what is queued for it is sent first, as far as it goes);
    /// returns its remote address.
    fn drop_conn(&mut self, token: Token) -> Option<SocketAddr> {
        let mut c = self.conns.remove(&token)?;
        c.io.flush();
        let _ = self.poll.registry().deregister(&mut c.io.stream);
        self.conn_tokens.remove(&c.remote);
        tracing::debug!(target: "ovpn", "TCP connection from {} closed", c.remote);
        Some(c.remote)
    }

    fn on_tun(&mut self, now: Instant, token: Token) {
        let Some(&peer) = self.tun_tokens.get(&token) else {
            return;
        };
        loop {
            let Some(p) = self.peers.get_mut(&peer) else {
                return;
            };
            let Some((_, dev)) = p.tun.as_ref() else {
                return;
            };
            let n = match dev.recv(&mut self.data[HEADROOM..HEADROOM + MAX_PACKET]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!(target: "ovpn", "{}: reading: {e}", p.name);
                    return;
                }
            };
            match self
                .server
                .encapsulate(now, peer, &mut self.data, HEADROOM, n)
            {
                Ok((to, range)) => {
                    send_to(
                        &self.listener,
                        &mut self.conns,
                        &self.conn_tokens,
                        to,
                        &self.data[range],
                    );
                }
                Err(e) => tracing::debug!(target: "ovpn", "{}: packet not sent: {e}", p.name),
            }
        }
    }

    fn on_shared_tun(&mut self, now: Instant) {
        loop {
            let Some(dev) = self.shared.as_ref() else {
                return;
            };
            let n = match dev.recv(&mut self.data[HEADROOM..HEADROOM + MAX_PACKET]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!(target: "ovpn", "{}: reading: {e}", dev.name());
                    return;
                }
            };
            let packet = &self.data[HEADROOM..HEADROOM + n];
            let Some(peer) = self.server.route_packet(packet) else {
                tracing::debug!(target: "ovpn", "no client for a packet on {}", dev.name());
                continue;
            };
            match self
                .server
                .encapsulate(now, peer, &mut self.data, HEADROOM, n)
            {
                Ok((to, range)) => {
                    send_to(
                        &self.listener,
                        &mut self.conns,
                        &self.conn_tokens,
                        to,
                        &self.data[range],
                    );
                }
                Err(e) => tracing::debug!(target: "ovpn", "packet not sent: {e}"),
            }
        }
    }

    fn on_event(&mut self, now: Instant, e: ServerEvent) {
        match e {
            ServerEvent::Connected { peer, session } => {
                let name = session.name.clone().unwrap_or_default();
                match self.attach(peer, &session) {
                    Ok(tun) => {
                        tracing::info!(target: "ovpn", "{name}: session up: {}", row_line(&session));
                        self.peers.insert(peer, PeerIo { name, tun });
                    }
                    Err(e) => {
                        tracing::error!(target: "ovpn", "{name}: {e}");
                        let _ = self.server.disconnect(
                            now,
                            peer,
                            DisconnectReason::Protocol(format!("no interface: {e}")),
                        );
                    }
                }
            }
            ServerEvent::Disconnected {
                peer,
                session,
                reason,
            } => {
                if let Some(mut p) = self.peers.remove(&peer) {
                    if let Some((token, dev)) = p.tun.take() {
                        self.tun_tokens.remove(&token);
                        let _ = self
                            .poll
                            .registry()
                            .deregister(&mut SourceFd(&dev.as_raw_fd()));
                        drop(dev);
                    } else if let Some(shared) = &self.shared {
                        for (n, l) in session
                            .address
                            .map(|a| (a, 32))
                            .into_iter()
                            .chain(v4_routes(&session))
                        {
                            let _ = shared.del_route(n, l);
                        }
                    }
                    tracing::info!(target: "ovpn", "{}: session down: {} ({reason})", p.name, row_line(&session));
                }
            }
            // The server has forgotten the connection already.
            ServerEvent::CloseConnection { remote, .. } => {
                if let Some(&token) = self.conn_tokens.get(&remote) {
                    self.drop_conn(token);
                }
            }
            _ => {}
        }
    }
}

/// Descriptors kept for everything but clients: the listening socket, the poll, the control
/// pipe, logs, a shared interface, the state files.
const FD_RESERVE: u64 = 64;

/// Raises the open-file limit as far as allowed, and keeps `max-clients` and `max-connections`
/// within it: each client costs a descriptor for its interface (unless `shared_tun` is off) and,
/// over TCP, one for its connection; a connection that never becomes a client costs one.
fn proto(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
    }
}

/// Binds the server's socket; `[::]` is dual stack (IPv6 and IPv4), and on a host without IPv6
/// IPv4 alone.
fn bind_listener(at: SocketAddr, transport: Transport) -> io::Result<Listener> {
    let bind = |at: SocketAddr| -> io::Result<Listener> {
        Ok(match transport {
            Transport::Udp => Listener::Udp(UdpSocket::bind(at)?),
            Transport::Tcp => Listener::Tcp(TcpListener::bind(at)?),
        })
    };
    match bind(at) {
        Err(e) if at.ip() == IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED) => {
            tracing::info!(target: "ovpn", "ovpn-server: no IPv6 here ({e}): listening on IPv4 only");
            bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), at.port()))
        }
        r => r,
    }
}

/// Registers the server's socket with the poll; returns its address.
fn register_listener(poll: &Poll, listener: &mut Listener) -> io::Result<SocketAddr> {
    match listener {
        Listener::Udp(s) => {
            poll.registry().register(s, SOCKET, Interest::READABLE)?;
            s.local_addr()
        }
        Listener::Tcp(s) => {
            poll.registry().register(s, SOCKET, Interest::READABLE)?;
            s.local_addr()
        }
    }
}

fn fit_fd_limit(config: &mut ServerConfig, tun_per_client: bool) {
    let Some(limit) = raise_fd_limit() else {
        return;
    };
    let budget = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    let tcp = config.transport == Transport::Tcp;
    let per_client = usize::from(tun_per_client) + usize::from(tcp);
    if let Some(most) = budget.checked_div(per_client).map(|m| m.max(1)) {
        if config.max_clients > most {
            tracing::warn!(target: "ovpn", "ovpn-server: max-clients lowered from {} to {most}: the open-file limit is {limit}", config.max_clients);
            config.max_clients = most;
        }
    }
    if tcp {
        // Connections of logged-in clients have their interface beside them.
        let most = budget
            .saturating_sub(usize::from(tun_per_client) * config.max_clients)
            .max(1);
        if config.tcp_limits.max_total > most {
            tracing::warn!(target: "ovpn", "ovpn-server: max-connections lowered from {} to {most}: the open-file limit is {limit}", config.tcp_limits.max_total);
            config.tcp_limits.max_total = most;
        }
    }
}

/// Logs a dropped packet: at debug level, except a session start refused by tls-auth/tls-crypt,
/// which says why at warning level (at most once a second, so a flood cannot fill the log); no
/// reply goes out either way.
fn log_drop(last: &mut Option<Instant>, now: Instant, from: SocketAddr, e: DropReason) {
    if e == DropReason::BadControlAuth {
        if last
            .is_none_or(|t| now.saturating_duration_since(t) >= std::time::Duration::from_secs(1))
        {
            *last = Some(now);
            tracing::warn!(target: "ovpn", "{from}: {e}: the client's control-channel-protection or tls key differs from ours; not answered");
        }
        return;
    }
    tracing::debug!(target: "ovpn", "dropped a packet from {from}: {e}");
}

/// An IPv4 client on a dual-stack socket arrives as `::ffff:a.b.c.d`: it is known, logged and
/// given its caller-id by its IPv4 address.
fn canonical(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip().to_canonical(), a.port())
}
