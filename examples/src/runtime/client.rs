//! The client's loop: one UDP socket or TCP connection to the server, the interface named after
//! the client (`ovpn-out1`) while connected, and reconnection as the session says.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd as _;
use std::time::Instant;

use mio::net::{TcpStream, UdpSocket};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use ovpn_session::{
    Client, ClientConfig, ClientEvent, ClientState, DropReason, HEADROOM, Mode, Received, TAILROOM,
    Transport, TunSettings,
};
use ovpn_tun::{DeviceConfig, Layer};

use super::{
    Control, ControlRx, MAX_PACKET, PinnedRoute, RunError, TcpIo, Tun, TunFactory, control_pair,
    io_err, now, unix_now,
};
use crate::logging;
use crate::table::Counters;
use ipnet::IpNet;

const SOCKET: Token = Token(0);
const CONTROL: Token = Token(1);
const TUN: Token = Token(2);

enum Conn {
    None,
    Udp(UdpSocket),
    Tcp { io: TcpIo, connected: bool },
}

struct Up<D> {
    dev: D,
    settings: TunSettings,
    _pinned: Option<PinnedRoute>,
}

/// The client's event loop.
pub struct ClientRuntime<F: TunFactory> {
    client: Client,
    config: ClientConfig,
    routes: Vec<ipnet::Ipv4Net>,
    factory: F,
    poll: Poll,
    events: Events,
    ready: Vec<(Token, bool, bool)>,
    control: Control,
    control_rx: ControlRx,
    conn: Conn,
    up: Option<Up<F::Device>>,
    fatal: Option<RunError>,
    counters: Counters,
    /// The data channel's encoding and since when the tunnel is up.
    connected: Option<(String, Instant)>,
    /// Disabled from the console: no session until enabled again.
    disabled: bool,
    rx: Vec<u8>,
    data: Vec<u8>,
    tx: Vec<u8>,
}

impl<F: TunFactory> core::fmt::Debug for ClientRuntime<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientRuntime")
            .field("name", &self.config.name)
            .field("state", self.client.state())
            .finish_non_exhaustive()
    }
}

fn send(conn: &mut Conn, bytes: &[u8]) {
    match conn {
        Conn::None => {}
        Conn::Udp(s) => {
            if let Err(e) = s.send(bytes) {
                tracing::debug!(target: "ovpn", "sending: {e}");
            }
        }
        Conn::Tcp { io, connected } => {
            io.queue(bytes);
            if *connected {
                io.flush();
            }
        }
    }
}

impl<F: TunFactory> ClientRuntime<F> {
    /// Starts the client. `routes` are added through its interface once connected (the script's
    /// `/ip route add ... gateway=NAME`).
    pub fn new(
        config: ClientConfig,
        routes: Vec<ipnet::Ipv4Net>,
        factory: F,
    ) -> Result<Self, RunError> {
        let poll = Poll::new().map_err(io_err("creating the poll"))?;
        let (control, mut control_rx) = control_pair()?;
        poll.registry()
            .register(control_rx.source(), CONTROL, Interest::READABLE)
            .map_err(io_err("registering the control socket"))?;
        let client = Client::new(config.clone(), now(), unix_now())
            .map_err(|e| RunError::Setup(format!("the client configuration: {e}")))?;
        Ok(Self {
            client,
            config,
            routes,
            factory,
            poll,
            events: Events::with_capacity(64),
            ready: Vec::with_capacity(64),
            control,
            control_rx,
            conn: Conn::None,
            up: None,
            fatal: None,
            counters: Counters::default(),
            connected: None,
            disabled: false,
            rx: vec![0; MAX_PACKET],
            data: vec![0; HEADROOM + MAX_PACKET + TAILROOM],
            tx: Vec::with_capacity(2048),
        })
    }

    /// The handle that stops or wakes this loop.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The session state machine.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Traffic through the interface so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Runs until stopped (SIGINT/SIGTERM with [`Control::stop_on_signals`]), then closes the
    /// session, telling the server.
    pub fn run(&mut self) -> Result<(), RunError> {
        while !self.control.is_stopped() {
            if let Err(e) = self.turn() {
                self.shutdown();
                return Err(e);
            }
            if self.control.take_status_request() {
                self.log_status();
            }
            for (change, reply) in self.control.take_client_changes() {
                let _ = reply.send(self.change(change));
            }
            let asked = self.control.take_client_requests();
            if !asked.is_empty() {
                let row = self.row(now());
                for tx in asked {
                    let _ = tx.send(row.clone());
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
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        let deadline = self.client.poll_timeout();
        let timeout = deadline.map(|t| t.saturating_duration_since(now()));
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
                ev.is_writable() || ev.is_write_closed(),
            ));
        }
        for i in 0..self.ready.len() {
            let (token, readable, writable) = self.ready[i];
            match token {
                SOCKET => self.on_socket(now, readable, writable),
                CONTROL => self.control_rx.drain(),
                TUN => self.on_tun(now),
                _ => {}
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.drive(now);
        match self.fatal.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Enables or disables the interface (`/interface ovpn-client enable|disable`): disabling
    /// closes the session, telling the server (`disconnect-notify`), and removes the
    /// interface; enabling starts a new session.
    pub fn change(&mut self, change: super::ClientChange) -> Result<String, String> {
        let _hold = logging::hold();
        let now = now();
        match change {
            super::ClientChange::Disable if self.disabled => Ok("already disabled".into()),
            super::ClientChange::Enable if !self.disabled => Ok("already enabled".into()),
            super::ClientChange::Disable => {
                self.end_session(now);
                self.disabled = true;
                tracing::info!(target: "ovpn", "{}: disabled", self.config.name);
                Ok("disabled".into())
            }
            super::ClientChange::Routes(routes) => {
                if let Some(up) = &self.up {
                    let next_hop = (self.client.config().mode == Mode::Ethernet)
                        .then_some(up.settings.peer)
                        .flatten();
                    for gone in self.routes.iter().filter(|r| !routes.contains(r)) {
                        up.dev.del_route(gone.network(), gone.prefix_len())?;
                    }
                    for new in routes.iter().filter(|r| !self.routes.contains(r)) {
                        up.dev
                            .add_route(new.network(), new.prefix_len(), next_hop)?;
                    }
                }
                self.routes = routes;
                Ok(format!("{} routes", self.routes.len()))
            }
            super::ClientChange::Reconfigure(config, routes) => {
                // The new configuration must make a client before the session ends.
                let client = Client::new((*config).clone(), now, unix_now())
                    .map_err(|e| format!("the client configuration: {e}"))?;
                if config.name != self.config.name {
                    return Err("name: an interface keeps its name".into());
                }
                if !self.disabled {
                    self.end_session(now);
                }
                self.config = *config;
                self.routes = routes;
                if self.disabled {
                    return Ok("changed; disabled, so not connecting".into());
                }
                self.client = client;
                tracing::info!(target: "ovpn", "{}: reconnecting with the new settings", self.config.name);
                self.drive(now);
                Ok("reconnecting".into())
            }
            super::ClientChange::Enable => {
                self.client = Client::new(self.config.clone(), now, unix_now())
                    .map_err(|e| format!("the client configuration: {e}"))?;
                self.disabled = false;
                tracing::info!(target: "ovpn", "{}: enabled", self.config.name);
                self.drive(now);
                Ok("enabled".into())
            }
        }
    }

    /// Ends the session (telling the server) and takes the interface down.
    fn end_session(&mut self, now: Instant) {
        self.client.close(now);
        self.drive(now);
        if let Conn::Tcp { io, .. } = &mut self.conn {
            io.flush();
        }
        self.close_conn();
        self.down();
        self.connected = None;
    }

    /// The interface as `/interface ovpn-client print` shows it.
    pub fn row(&self, now: Instant) -> crate::console::exec::ClientRow {
        let (status, reason) = match self.client.state() {
            _ if self.disabled => ("disconnected", Some("disabled".to_owned())),
            ClientState::Connecting => ("connecting", None),
            ClientState::Connected => ("connected", None),
            ClientState::Disconnected => ("disconnected", None),
            ClientState::Error(e) => ("error", Some(e.to_string())),
        };
        let settings = self.up.as_ref().map(|u| &u.settings);
        crate::console::exec::ClientRow {
            name: self.config.name.clone(),
            connect_to: self.client.remote().to_string(),
            status: status.to_owned(),
            reason,
            uptime: self
                .connected
                .as_ref()
                .map(|(_, since)| now.saturating_duration_since(*since)),
            encoding: self.connected.as_ref().map(|(e, _)| e.clone()),
            mtu: settings.map(|s| s.mtu),
            local_address: settings
                .and_then(|s| s.address.map(|a| format!("{a}/{}", s.prefix_len))),
            remote_address: settings.and_then(|s| s.peer.map(|p| p.to_string())),
            counters: self.counters,
            disabled: self.disabled,
        }
    }

    /// Logs the client's state and traffic (SIGUSR1).
    pub fn log_status(&self) {
        let c = self.counters;
        let state = match self.client.state() {
            ClientState::Connecting => "connecting".to_owned(),
            ClientState::Connected => "connected".to_owned(),
            ClientState::Disconnected => "disconnected".to_owned(),
            ClientState::Error(e) => format!("error ({e})"),
        };
        let address = self
            .up
            .as_ref()
            .and_then(|u| u.settings.address.map(|a| (a, u.settings.prefix_len)))
            .map(|(a, len)| format!(" address={a}/{len}"))
            .unwrap_or_default();
        tracing::info!(target: "ovpn", "{}: status: {state}{address} rx-packets={} tx-packets={}", self.config.name, c.rx_packets, c.tx_packets);
    }

    /// Closes the session (telling the server with `disconnect-notify`) and removes the interface.
    pub fn shutdown(&mut self) {
        let _hold = logging::hold();
        let now = now();
        self.client.close(now);
        self.drive(now);
        if let Conn::Tcp { io, .. } = &mut self.conn {
            io.flush();
        }
        self.down();
        tracing::info!(target: "ovpn", "{}: stopped", self.config.name);
    }

    fn drive(&mut self, now: Instant) {
        // The one polling order of the library: transmits, then events, until neither has any.
        // The first transmit of an attempt says to open its connection.
        loop {
            let mut any = false;
            while let Some(t) = self.client.poll_transmit(now, &mut self.tx) {
                any = true;
                if t.connect {
                    self.open(now);
                }
                send(&mut self.conn, self.tx.get(..t.len).unwrap_or_default());
            }
            while let Some(e) = self.client.poll_event() {
                any = true;
                self.on_event(e);
            }
            if !any {
                break;
            }
        }
    }

    fn close_conn(&mut self) {
        match &mut self.conn {
            Conn::None => {}
            Conn::Udp(s) => {
                let _ = self.poll.registry().deregister(s);
            }
            Conn::Tcp { io, .. } => {
                let _ = self.poll.registry().deregister(&mut io.stream);
            }
        }
        self.conn = Conn::None;
    }

    fn open(&mut self, now: Instant) {
        let server = self.client.remote();
        match self.config.transport {
            Transport::Udp => {
                match &self.conn {
                    // Still the same server: the socket stays.
                    Conn::Udp(s) if s.peer_addr().is_ok_and(|p| p == server) => return,
                    Conn::Udp(_) => self.close_conn(),
                    _ => {}
                }
                let bind: SocketAddr = if server.is_ipv4() {
                    (Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let r = UdpSocket::bind(bind).and_then(|mut s| {
                    s.connect(server)?;
                    self.poll
                        .registry()
                        .register(&mut s, SOCKET, Interest::READABLE)?;
                    Ok(s)
                });
                match r {
                    Ok(s) => self.conn = Conn::Udp(s),
                    Err(e) => {
                        self.fatal = Some(io_err(format!("opening a UDP socket to {server}"))(e));
                    }
                }
            }
            Transport::Tcp => {
                self.close_conn();
                let r = TcpStream::connect(server).and_then(|mut s| {
                    self.poll.registry().register(
                        &mut s,
                        SOCKET,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    Ok(s)
                });
                match r {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        self.conn = Conn::Tcp {
                            io: TcpIo::new(stream),
                            connected: false,
                        };
                    }
                    Err(e) => self.tcp_lost(now, &format!("connecting to {server}: {e}")),
                }
            }
        }
    }

    /// The TCP connection failed or closed: the attempt is over; the session retries after its
    /// reconnect delay (its first transmit has `connect` set, which opens a new connection).
    fn tcp_lost(&mut self, now: Instant, reason: &str) {
        self.close_conn();
        self.down();
        if self.control.is_stopped() {
            return;
        }
        if matches!(self.client.state(), ClientState::Error(_)) {
            tracing::debug!(target: "ovpn", "{}: {reason}", self.config.name);
            return; // the session already failed and retries by itself
        }
        tracing::debug!(target: "ovpn", "{}: {reason}", self.config.name);
        self.client.connection_closed(now);
    }

    fn on_socket(&mut self, now: Instant, readable: bool, writable: bool) {
        let mut lost = None;
        if let Conn::Tcp { io, connected } = &mut self.conn
            && writable
        {
            if !*connected {
                match io.stream.take_error() {
                    Ok(Some(e)) | Err(e) => lost = Some(format!("connecting: {e}")),
                    Ok(None) => match io.stream.peer_addr() {
                        Ok(_) => {
                            *connected = true;
                            tracing::debug!(target: "ovpn", "{}: TCP connected to {}", self.config.name, self.client.remote());
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                        Err(e) => lost = Some(format!("connecting: {e}")),
                    },
                }
            }
            if *connected && lost.is_none() && !io.flush() {
                lost = Some("connection reset".into());
            }
        }
        if let Some(r) = lost {
            self.tcp_lost(now, &r);
            return;
        }
        if !readable {
            return;
        }
        let (client, up, counters, name) = (
            &mut self.client,
            &self.up,
            &mut self.counters,
            &self.config.name,
        );
        let mut handle = |r: Result<Received<'_>, DropReason>| match r {
            Ok(Received::Packet(p)) => {
                if let Some(up) = up {
                    match up.dev.send(p) {
                        Ok(_) => counters.rx(p.len()),
                        Err(e) => tracing::debug!(target: "ovpn", "writing to the interface: {e}"),
                    }
                }
                true
            }
            Ok(Received::Consumed) => true,
            Err(e @ DropReason::BrokenStream(_)) => {
                tracing::debug!(target: "ovpn", "{name}: {e}");
                false
            }
            Err(e) => {
                tracing::debug!(target: "ovpn", "{name}: dropped a packet: {e}");
                true
            }
        };
        match &mut self.conn {
            Conn::None => {}
            Conn::Udp(s) => loop {
                let n = match s.recv(&mut self.rx) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        tracing::debug!(target: "ovpn", "{name}: receiving: {e}");
                        continue;
                    }
                };
                handle(client.handle_datagram(now, &mut self.rx[..n]));
            },
            Conn::Tcp { io, .. } => {
                let lost = loop {
                    match io.read(&mut self.rx) {
                        Ok(Some(n)) => {
                            let mut packets = client.handle_stream(now, &mut self.rx[..n]);
                            let mut open = true;
                            while let Some(r) = packets.next() {
                                open &= handle(r);
                            }
                            if !open {
                                break Some("broken TCP stream".to_owned());
                            }
                        }
                        Ok(None) => break None,
                        Err(reason) => break Some(reason),
                    }
                };
                if let Some(reason) = lost {
                    self.tcp_lost(now, &reason);
                }
            }
        }
    }

    fn on_tun(&mut self, now: Instant) {
        loop {
            let Some(up) = &self.up else {
                return;
            };
            let n = match up.dev.recv(&mut self.data[HEADROOM..HEADROOM + MAX_PACKET]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!(target: "ovpn", "{}: reading: {e}", self.config.name);
                    return;
                }
            };
            match self.client.encapsulate(now, &mut self.data, HEADROOM, n) {
                Ok(range) => {
                    self.counters.tx(n);
                    send(&mut self.conn, &self.data[range]);
                }
                Err(e) => {
                    tracing::debug!(target: "ovpn", "{}: packet not sent: {e}", self.config.name)
                }
            }
        }
    }

    fn on_event(&mut self, e: ClientEvent) {
        match e {
            ClientEvent::Connected { tun, encoding } => {
                tracing::debug!(target: "ovpn", "{}: {encoding}, {:?}", self.config.name, tun);
                self.connected = Some((encoding.to_string(), now()));
                if let Err(e) = self.up(*tun) {
                    self.fatal = Some(RunError::Setup(format!("{}: {e}", self.config.name)));
                }
            }
            ClientEvent::Disconnected { .. } => {
                self.connected = None;
                self.down();
            }
            ClientEvent::KeysRotated => {
                tracing::debug!(target: "ovpn", "{}: new data channel keys", self.config.name);
            }
            _ => {}
        }
    }

    /// Creates and configures the interface from what the server pushed.
    fn up(&mut self, tun: TunSettings) -> Result<(), String> {
        self.down();
        let name = self.config.name.clone();
        let tap = self.client.config().mode == Mode::Ethernet;
        let ipv4 = tun.address.map(|address| match tun.peer {
            Some(peer) if tun.prefix_len == 32 => (address, 32, Some(peer)),
            _ => (address, tun.prefix_len, None),
        });
        let dev = self.factory.create(&DeviceConfig {
            name: name.clone(),
            layer: if tap { Layer::Tap } else { Layer::Tun },
            mtu: tun.mtu,
            ipv4,
        })?;
        // On a TAP interface a route needs a next hop to resolve: the pushed route-gateway.
        let next_hop = if tap { tun.peer } else { None };
        self.poll
            .registry()
            .register(&mut SourceFd(&dev.as_raw_fd()), TUN, Interest::READABLE)
            .map_err(|e| format!("registering {name}: {e}"))?;
        if let Some((a6, len, _)) = tun.ipv6 {
            dev.add_address6(a6, len)?;
        }
        for r in &tun.routes {
            if let IpNet::V6(dst) = r.dst {
                if tun.ipv6.is_some() {
                    dev.add_route6(dst)?;
                } else {
                    tracing::warn!(target: "ovpn", "{name}: route-ipv6 {dst} ignored: no ifconfig-ipv6 was pushed");
                }
                continue;
            }
            let (IpNet::V4(dst), None | Some(IpAddr::V4(_))) = (r.dst, r.gateway) else {
                tracing::warn!(target: "ovpn", "{name}: route {} ignored: an IPv6 gateway for an IPv4 route", r.dst);
                continue;
            };
            let gateway = match r.gateway {
                Some(IpAddr::V4(g)) => Some(g),
                _ => next_hop,
            };
            dev.add_route(dst.network(), dst.prefix_len(), gateway)?;
        }
        for n in &self.routes {
            dev.add_route(n.network(), n.prefix_len(), next_hop)?;
        }
        let mut pinned = None;
        // add-default-route decides the IPv4 default, as on RouterOS, whatever was pushed; an
        // IPv6 default also needs the server to push `redirect-gateway ipv6` and an address.
        let flags = tun.pushed.redirect_gateway.as_deref().unwrap_or_default();
        let has = |f: &str| flags.iter().any(|x| x == f);
        if tun.default_route {
            pinned = self.factory.pin_route(self.client.remote().ip())?;
            dev.add_route(Ipv4Addr::UNSPECIFIED, 1, next_hop)?;
            dev.add_route(Ipv4Addr::new(128, 0, 0, 0), 1, next_hop)?;
        }
        if tun.default_route && has("ipv6") {
            if tun.ipv6.is_some() {
                for half in ["::/1", "8000::/1"] {
                    dev.add_route6(half.parse().map_err(|e| format!("{half}: {e}"))?)?;
                }
            } else {
                tracing::warn!(target: "ovpn", "{name}: pushed redirect-gateway ipv6 ignored: no ifconfig-ipv6 was pushed");
            }
        }
        if !tun.dns.is_empty() {
            let dns: Vec<String> = tun.dns.iter().map(ToString::to_string).collect();
            tracing::info!(target: "ovpn", "{name}: DNS servers offered: {} (not applied)", dns.join(","));
        }
        match tun.address {
            Some(a) => {
                tracing::debug!(target: "ovpn", "{name}: interface up, {a}/{} mtu {}", tun.prefix_len, tun.mtu)
            }
            None => {
                tracing::info!(target: "ovpn", "{name}: interface up without an address (none pushed) mtu {}", tun.mtu)
            }
        }
        self.up = Some(Up {
            dev,
            settings: tun,
            _pinned: pinned,
        });
        Ok(())
    }

    fn down(&mut self) {
        if let Some(up) = self.up.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&up.dev.as_raw_fd()));
            tracing::debug!(target: "ovpn", "{}: interface down ({:?})", self.config.name, up.settings.address);
        }
    }
}
