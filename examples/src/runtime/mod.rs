//! The event loops of `ovpn-server` and `ovpn-client`: one thread, readiness-based (mio) over the
//! socket(s), every tunnel interface and a control channel, with the session's `poll_timeout` as the
//! wait. Buffers are allocated once; a data packet is read from the interface into
//! `buf[HEADROOM..]`, sealed in place and sent from the same buffer.
//!
//! The interfaces come from a [`TunFactory`]: real TUN devices ([`SystemTuns`], needs root), or
//! [`PipeTuns`], pairs of Unix datagram sockets that stand in for them (no root; `ovpn-demo` and
//! the tests use them).

pub mod client;
pub mod loops;
pub mod server;

use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Instant, SystemTime};

use ovpn_session::SessionInfo;
use ovpn_tun::DeviceConfig;

/// The largest packet read from an interface (the IPv4 maximum).
pub const MAX_PACKET: usize = 65535;

/// A TCP peer that does not read is cut off beyond this much unsent data.
const MAX_TCP_BACKLOG: usize = 4 << 20;

/// One OpenVPN TCP connection of either program: the stream and the outgoing bytes the socket
/// has not taken yet (the session finds the packets in what is read).
pub(crate) struct TcpIo {
    pub(crate) stream: mio::net::TcpStream,
    out: Vec<u8>,
    sent: usize,
}

impl TcpIo {
    pub(crate) fn new(stream: mio::net::TcpStream) -> Self {
        Self {
            stream,
            out: Vec::new(),
            sent: 0,
        }
    }

    /// Queues already framed bytes (dropped, with a log line, beyond the backlog limit).
    pub(crate) fn queue(&mut self, bytes: &[u8]) {
        if self.out.len() - self.sent + bytes.len() > MAX_TCP_BACKLOG {
            tracing::debug!(target: "ovpn", "TCP backlog full, packet dropped");
            return;
        }
        self.out.extend_from_slice(bytes);
    }

    /// Writes what the socket takes; false when the connection is broken.
    pub(crate) fn flush(&mut self) -> bool {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return false,
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.out.clear();
        self.sent = 0;
        true
    }

    /// Reads what the socket has into `rx`: `Ok(Some(n))` for `n` bytes (hand them to the
    /// session's `handle_stream`, which finds the packets), `Ok(None)` when there is nothing more
    /// now. `Err` says why the connection is over.
    pub(crate) fn read(&mut self, rx: &mut [u8]) -> Result<Option<usize>, String> {
        loop {
            return match self.stream.read(rx) {
                Ok(0) => Err("connection closed by the peer".into()),
                Ok(n) => Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(format!("connection lost: {e}")),
            };
        }
    }
}

/// The monotonic clock of the loops.
#[allow(
    clippy::disallowed_methods,
    reason = "the event loop is where time comes from"
)]
pub fn now() -> Instant {
    Instant::now()
}

/// The wall clock (certificate validity).
#[allow(
    clippy::disallowed_methods,
    reason = "the event loop is where time comes from"
)]
pub fn unix_now() -> SystemTime {
    SystemTime::now()
}

/// The wall clock in seconds since the Unix epoch (certificates, tls-crypt-v2 metadata).
pub fn unix_seconds() -> u64 {
    unix_now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The wall clock as certificate checks take it.
pub fn unix_time() -> ovpn_pki::rustls_pki_types::UnixTime {
    ovpn_pki::rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        unix_seconds(),
    ))
}

/// Why a loop could not start or went on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's error.
        source: io::Error,
    },
    /// The session or an interface could not be set up.
    #[error("{0}")]
    Setup(String),
}

/// Raises the soft open-file limit to the hard one (allowed without privileges) and returns the
/// limit in effect (None when it cannot be read). Each client costs the server a descriptor for
/// its interface and, over TCP, one for its connection.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut l = getrlimit(Resource::Nofile);
    if l.current < l.maximum {
        l.current = l.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, l) {
            tracing::debug!(target: "ovpn", "raising the open-file limit: {e}");
        }
    }
    getrlimit(Resource::Nofile).current
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Stops or wakes a loop from another thread or from a signal handler.
#[derive(Debug, Clone)]
pub struct Control {
    stop: Arc<AtomicBool>,
    status: Arc<AtomicBool>,
    tx: Arc<UnixStream>,
    /// A new client certificate check for the loop to take (new CRLs).
    client_check: Arc<std::sync::Mutex<Option<ClientCheck>>>,
    /// Who waits for the loop's session table (the console).
    table_requests: Arc<Asks<(), Vec<SessionInfo>>>,
    /// Server changes for the loop to make, each with who waits for the outcome (the console).
    server_changes: Arc<Asks<ServerChange, Result<String, String>>>,
    /// Client changes for the loop to make, each with who waits for the outcome.
    client_changes: Arc<Asks<ClientChange, Result<String, String>>>,
    /// Who waits for a client loop's interface row (the console).
    client_requests: Arc<Asks<(), crate::console::exec::ClientRow>>,
}

/// Requests to a loop from other threads, each with where its answer goes; the loop takes
/// them between turns.
#[derive(Debug)]
struct Asks<Q, A>(std::sync::Mutex<Vec<(Q, mpsc::Sender<A>)>>);

impl<Q, A> Default for Asks<Q, A> {
    fn default() -> Self {
        Self(std::sync::Mutex::default())
    }
}

impl<Q, A> Asks<Q, A> {
    /// Queues `q`; the answer comes on the returned channel.
    fn push(&self, q: Q) -> mpsc::Receiver<A> {
        let (tx, rx) = mpsc::channel();
        if let Ok(mut v) = self.0.lock() {
            v.push((q, tx));
        }
        rx
    }

    /// The requests queued since the last call.
    fn take(&self) -> Vec<(Q, mpsc::Sender<A>)> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// A change of a running server's configuration (`/interface ovpn-server server set`).
#[derive(Debug, Clone)]
pub struct ServerChange {
    /// The new session configuration.
    pub config: ovpn_session::ServerConfig,
    /// `Some`: the port or protocol changed, so the loop listens anew there, ending the
    /// sessions (RouterOS restarts the server); `None`: new sessions get the new settings and
    /// established ones keep theirs.
    pub listen: Option<std::net::SocketAddr>,
}

/// A change of a running client interface (`/interface ovpn-client enable|disable|set`).
#[derive(Debug, Clone)]
pub enum ClientChange {
    /// `enable`: connects (again).
    Enable,
    /// `disable`: disconnects, telling the server, and stays disconnected.
    Disable,
    /// `set`: the session ends (the server told) and, unless the interface is disabled, a new
    /// one starts with this configuration and these routes.
    Reconfigure(Box<ovpn_session::ClientConfig>, Vec<ipnet::Ipv4Net>),
    /// `/ip route add|remove ... gateway=NAME`: the routes through the interface now (added
    /// and removed at once while it is up; the session stays).
    Routes(Vec<ipnet::Ipv4Net>),
}

/// Where a loop answers a [`ServerChange`]: what it did, or why it did nothing.
pub type ChangeReply = mpsc::Sender<Result<String, String>>;

/// A client certificate check handed to a running server.
pub type ClientCheck = Arc<dyn ovpn_session::verify::PeerCheck>;

/// The loop's end of a [`Control`].
#[derive(Debug)]
pub(crate) struct ControlRx(mio::net::UnixStream);

pub(crate) fn control_pair() -> Result<(Control, ControlRx), RunError> {
    let (tx, rx) = UnixStream::pair().map_err(io_err("creating the control socket"))?;
    tx.set_nonblocking(true)
        .map_err(io_err("creating the control socket"))?;
    rx.set_nonblocking(true)
        .map_err(io_err("creating the control socket"))?;
    Ok((
        Control {
            stop: Arc::new(AtomicBool::new(false)),
            status: Arc::new(AtomicBool::new(false)),
            tx: Arc::new(tx),
            client_check: Arc::default(),
            table_requests: Arc::default(),
            server_changes: Arc::default(),
            client_changes: Arc::default(),
            client_requests: Arc::default(),
        },
        ControlRx(mio::net::UnixStream::from_std(rx)),
    ))
}

impl ControlRx {
    pub(crate) fn source(&mut self) -> &mut mio::net::UnixStream {
        &mut self.0
    }

    pub(crate) fn drain(&mut self) {
        let mut b = [0u8; 64];
        while matches!(self.0.read(&mut b), Ok(n) if n > 0) {}
    }
}

impl Control {
    /// A control of no loop: a program's own stop flag (its signals, [`Control::stop`]).
    pub fn standalone() -> Result<Control, RunError> {
        control_pair().map(|(c, _)| c)
    }

    /// Asks the loop to stop (it closes its sessions, tells the peers and returns).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Wakes the loop (for a caller that then looks at it between turns).
    pub fn wake(&self) {
        let _ = (&*self.tx).write(&[1]);
    }

    /// Whether [`Control::stop`] was called (or a signal arrived).
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Asks the loop to log its status (sessions, pools) after its current turn.
    pub fn request_status(&self) {
        self.status.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Hands the loop a new client certificate check (new CRLs): it applies it to new sessions
    /// and ends the sessions whose certificates it refuses.
    pub fn set_client_check(&self, check: ClientCheck) {
        if let Ok(mut slot) = self.client_check.lock() {
            *slot = Some(check);
        }
        self.wake();
    }

    /// The client check handed over since the last call.
    pub fn take_client_check(&self) -> Option<ClientCheck> {
        self.client_check.lock().ok().and_then(|mut s| s.take())
    }

    /// Asks the loop for its session table (the logged-in sessions): the answer comes on the
    /// returned channel after the loop's current turn.
    pub fn request_sessions(&self) -> std::sync::mpsc::Receiver<Vec<SessionInfo>> {
        let rx = self.table_requests.push(());
        self.wake();
        rx
    }

    /// The session-table requests since the last call (the loop answers each).
    pub fn take_session_requests(&self) -> Vec<std::sync::mpsc::Sender<Vec<SessionInfo>>> {
        self.table_requests
            .take()
            .into_iter()
            .map(|(_, tx)| tx)
            .collect()
    }

    /// Asks a server loop to change its configuration: the outcome comes on the returned
    /// channel after the loop's current turn.
    pub fn request_change(&self, change: ServerChange) -> mpsc::Receiver<Result<String, String>> {
        let rx = self.server_changes.push(change);
        self.wake();
        rx
    }

    /// The server changes asked for since the last call (the loop makes and answers each).
    pub fn take_changes(&self) -> Vec<(ServerChange, ChangeReply)> {
        self.server_changes.take()
    }

    /// Asks a client loop to enable or disable its interface: the outcome comes on the
    /// returned channel after the loop's current turn.
    pub fn request_client_change(
        &self,
        change: ClientChange,
    ) -> mpsc::Receiver<Result<String, String>> {
        let rx = self.client_changes.push(change);
        self.wake();
        rx
    }

    /// The client changes asked for since the last call (the loop makes and answers each).
    pub fn take_client_changes(&self) -> Vec<(ClientChange, ChangeReply)> {
        self.client_changes.take()
    }

    /// Asks a client loop for its interface's row: the answer comes on the returned channel
    /// after the loop's current turn.
    pub fn request_client_row(&self) -> mpsc::Receiver<crate::console::exec::ClientRow> {
        let rx = self.client_requests.push(());
        self.wake();
        rx
    }

    /// The client-row requests since the last call (the loop answers each).
    pub fn take_client_requests(&self) -> Vec<mpsc::Sender<crate::console::exec::ClientRow>> {
        self.client_requests
            .take()
            .into_iter()
            .map(|(_, tx)| tx)
            .collect()
    }

    /// Whether a status was asked for since the last call.
    pub fn take_status_request(&self) -> bool {
        self.status.swap(false, Ordering::SeqCst)
    }

    /// Stops the loop on SIGINT and SIGTERM; logs its status on SIGUSR1.
    pub fn stop_on_signals(&self) -> Result<(), RunError> {
        for (sig, flag) in [
            (signal_hook::consts::SIGINT, &self.stop),
            (signal_hook::consts::SIGTERM, &self.stop),
            (signal_hook::consts::SIGUSR1, &self.status),
        ] {
            signal_hook::flag::register(sig, flag.clone())
                .map_err(io_err("installing signal handlers"))?;
            let tx = self
                .tx
                .try_clone()
                .map_err(io_err("installing signal handlers"))?;
            signal_hook::low_level::pipe::register(sig, tx)
                .map_err(io_err("installing signal handlers"))?;
        }
        Ok(())
    }
}

/// A tunnel interface as the loops use it.
pub trait Tun: AsRawFd {
    /// Its name.
    fn name(&self) -> &str;
    /// Reads one packet; `WouldBlock` when none is waiting.
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes one packet.
    fn send(&self, packet: &[u8]) -> io::Result<usize>;
    /// Adds an address (a shared interface gets one per `local-address`).
    fn add_address(&self, address: Ipv4Addr, prefix: u8) -> Result<(), String>;
    /// Routes `network/prefix` through the interface.
    fn add_route(
        &self,
        network: Ipv4Addr,
        prefix: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), String>;
    /// Removes such a route.
    fn del_route(&self, network: Ipv4Addr, prefix: u8) -> Result<(), String>;
    /// Makes the (TAP) interface a port of a bridge.
    fn join_bridge(&self, port: &ovpn_tun::BridgePort) -> Result<(), String>;
    /// Adds an IPv6 address with its prefix length (IPv6 inside the tunnel).
    fn add_address6(&self, address: Ipv6Addr, prefix: u8) -> Result<(), String>;
    /// Routes an IPv6 network through the interface.
    fn add_route6(&self, network: ipnet::Ipv6Net) -> Result<(), String>;
}

/// Makes tunnel interfaces.
pub trait TunFactory {
    /// The interfaces it makes.
    type Device: Tun;
    /// Creates one (non-blocking for reads).
    fn create(&mut self, config: &DeviceConfig) -> Result<Self::Device, String>;
    /// Keeps `destination` reachable the way it is now (a host route through the current
    /// gateway), before a default route through the tunnel is added. Removed when dropped.
    fn pin_route(&mut self, destination: IpAddr) -> Result<Option<PinnedRoute>, String> {
        let _ = destination;
        Ok(None)
    }
}

/// Real TUN devices (ovpn-tun; needs root).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemTuns;

impl TunFactory for SystemTuns {
    type Device = ovpn_tun::Device;

    fn create(&mut self, config: &DeviceConfig) -> Result<ovpn_tun::Device, String> {
        let d = ovpn_tun::Device::create(config).map_err(|e| e.to_string())?;
        d.set_nonblocking(true).map_err(|e| e.to_string())?;
        if let Some(e) = d.altname_error() {
            tracing::warn!(target: "interface", "{}: created as {} without its altname: {e}", d.name(), d.kernel_name());
        } else if d.kernel_name() != d.name() {
            tracing::debug!(target: "interface", "{}: kernel name {}", d.name(), d.kernel_name());
        }
        Ok(d)
    }

    fn pin_route(&mut self, destination: IpAddr) -> Result<Option<PinnedRoute>, String> {
        let dst = destination.to_string();
        let out = std::process::Command::new("ip")
            .args(["route", "get", &dst])
            .output()
            .map_err(|e| format!("ip route get {dst}: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let Some((via, dev)) = route_via(&text) else {
            return Ok(None); // on-link: the tunnel's /1 routes do not cover it
        };
        let host = format!("{dst}/32");
        ovpn_tun::ip(&["route", "replace", &host, "via", &via, "dev", &dev])
            .map_err(|e| e.to_string())?;
        tracing::info!(target: "route", "{host} via {via} dev {dev} kept outside the tunnel");
        Ok(Some(PinnedRoute { host, dev }))
    }
}

/// The gateway and device of `ip route get` output (`1.2.3.4 via 10.0.0.1 dev eth0 src ...`).
pub fn route_via(ip_route_get: &str) -> Option<(String, String)> {
    let words: Vec<&str> = ip_route_get.split_whitespace().collect();
    let after = |w: &str| {
        words
            .iter()
            .position(|x| *x == w)
            .and_then(|i| words.get(i + 1))
            .map(|s| (*s).to_owned())
    };
    Some((after("via")?, after("dev")?))
}

/// A host route added by [`TunFactory::pin_route`], removed when dropped.
#[derive(Debug)]
pub struct PinnedRoute {
    host: String,
    dev: String,
}

impl Drop for PinnedRoute {
    fn drop(&mut self) {
        let _ = ovpn_tun::ip(&["route", "del", &self.host, "dev", &self.dev]);
    }
}

impl Tun for ovpn_tun::Device {
    fn name(&self) -> &str {
        ovpn_tun::Device::name(self)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        ovpn_tun::Device::recv(self, buf)
    }

    fn send(&self, packet: &[u8]) -> io::Result<usize> {
        ovpn_tun::Device::send(self, packet)
    }

    fn add_address(&self, address: Ipv4Addr, prefix: u8) -> Result<(), String> {
        let a = format!("{address}/{prefix}");
        ovpn_tun::ip(&["addr", "replace", &a, "dev", self.kernel_name()]).map_err(|e| e.to_string())
    }

    fn add_route(
        &self,
        network: Ipv4Addr,
        prefix: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), String> {
        ovpn_tun::Device::add_route(self, network, prefix, gateway).map_err(|e| e.to_string())
    }

    fn del_route(&self, network: Ipv4Addr, prefix: u8) -> Result<(), String> {
        let dst = format!("{network}/{prefix}");
        ovpn_tun::ip(&["route", "del", &dst, "dev", self.kernel_name()]).map_err(|e| e.to_string())
    }

    fn join_bridge(&self, port: &ovpn_tun::BridgePort) -> Result<(), String> {
        ovpn_tun::Device::join_bridge(self, port).map_err(|e| e.to_string())
    }

    fn add_address6(&self, address: Ipv6Addr, prefix: u8) -> Result<(), String> {
        ovpn_tun::Device::add_address6(self, address, prefix).map_err(|e| e.to_string())
    }

    fn add_route6(&self, network: ipnet::Ipv6Net) -> Result<(), String> {
        ovpn_tun::Device::add_route6(self, network.network(), network.prefix_len())
            .map_err(|e| e.to_string())
    }
}

/// Stand-ins for TUN devices, without root: each "interface" is two Unix datagram socket pairs.
/// The other ends go to whoever plays the host ([`PipeEnd`], sent on the channel given to
/// [`PipeTuns::new`]).
#[derive(Debug)]
pub struct PipeTuns {
    announce: mpsc::Sender<PipeEnd>,
}

impl PipeTuns {
    /// Interfaces whose host ends are sent on `announce` as they are created.
    pub fn new(announce: mpsc::Sender<PipeEnd>) -> Self {
        Self { announce }
    }
}

/// The host's end of a [`PipeTun`].
#[derive(Debug)]
pub struct PipeEnd {
    /// How the loop configured the interface (name, MTU, address).
    pub config: DeviceConfig,
    /// Write packets here: the loop reads them from the interface (as if the host routed them
    /// into the tunnel).
    pub to_tun: UnixDatagram,
    /// Read packets here: what the loop wrote to the interface. Keep reading: the loop's writes
    /// block when this end falls behind.
    pub from_tun: UnixDatagram,
}

/// A stand-in TUN device (see [`PipeTuns`]).
#[derive(Debug)]
pub struct PipeTun {
    name: String,
    input: UnixDatagram,
    output: UnixDatagram,
}

impl TunFactory for PipeTuns {
    type Device = PipeTun;

    fn create(&mut self, config: &DeviceConfig) -> Result<PipeTun, String> {
        let e = |e: io::Error| format!("creating {}: {e}", config.name);
        let (input, to_tun) = UnixDatagram::pair().map_err(e)?;
        let (output, from_tun) = UnixDatagram::pair().map_err(e)?;
        input.set_nonblocking(true).map_err(e)?;
        self.announce
            .send(PipeEnd {
                config: config.clone(),
                to_tun,
                from_tun,
            })
            .map_err(|_| format!("creating {}: nobody takes the host end", config.name))?;
        Ok(PipeTun {
            name: config.name.clone(),
            input,
            output,
        })
    }
}

impl AsRawFd for PipeTun {
    fn as_raw_fd(&self) -> RawFd {
        self.input.as_raw_fd()
    }
}

impl Tun for PipeTun {
    fn name(&self) -> &str {
        &self.name
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.recv(buf)
    }

    fn send(&self, packet: &[u8]) -> io::Result<usize> {
        self.output.send(packet)
    }

    fn add_address(&self, _: Ipv4Addr, _: u8) -> Result<(), String> {
        Ok(())
    }

    fn add_route(&self, _: Ipv4Addr, _: u8, _: Option<Ipv4Addr>) -> Result<(), String> {
        Ok(())
    }

    fn del_route(&self, _: Ipv4Addr, _: u8) -> Result<(), String> {
        Ok(())
    }

    fn add_address6(&self, _: Ipv6Addr, _: u8) -> Result<(), String> {
        Ok(())
    }

    fn add_route6(&self, _: ipnet::Ipv6Net) -> Result<(), String> {
        Ok(())
    }

    /// A stand-in has no host bridge to join: refused, so that a test cannot mistake it for one.
    fn join_bridge(&self, port: &ovpn_tun::BridgePort) -> Result<(), String> {
        Err(format!(
            "{}: stand-in interfaces cannot join bridge {}",
            self.name, port.bridge
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_route_get_output() {
        assert_eq!(
            route_via("203.0.113.5 via 192.0.2.1 dev eth0 src 192.0.2.7 uid 0 \n    cache"),
            Some(("192.0.2.1".into(), "eth0".into()))
        );
        assert_eq!(route_via("192.0.2.1 dev veth0 src 192.0.2.2 uid 0"), None);
    }

    #[test]
    fn control_stops_and_wakes() {
        let (c, mut rx) = control_pair().unwrap();
        assert!(!c.is_stopped());
        c.clone().stop();
        assert!(c.is_stopped());
        let mut b = [0u8; 4];
        assert_eq!(rx.source().read(&mut b).unwrap(), 1);
        rx.drain();
    }

    #[test]
    fn pipe_tuns_carry_packets_both_ways() {
        let (tx, rx) = mpsc::channel();
        let mut f = PipeTuns::new(tx);
        let dev = f
            .create(&DeviceConfig {
                name: "ovpn-out1".into(),
                layer: ovpn_tun::Layer::Tun,
                mtu: 1500,
                ipv4: None,
            })
            .unwrap();
        let end = rx.recv().unwrap();
        assert_eq!(end.config.name, "ovpn-out1");
        let mut b = [0u8; 16];
        assert_eq!(
            dev.recv(&mut b).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        end.to_tun.send(b"in").unwrap();
        assert_eq!(dev.recv(&mut b).unwrap(), 2);
        dev.send(b"out!").unwrap();
        assert_eq!(end.from_tun.recv(&mut b).unwrap(), 4);
        assert_eq!(&b[..4], b"out!");
    }
}
