//! `ovpn-demo`: our server and our client in one process, over real UDP (or TCP) sockets on
//! 127.0.0.1, configured by RouterOS scripts, with stand-in interfaces ([`PipeTuns`]) instead of
//! TUN devices so that no root is needed. It sends numbered IP packets through the tunnel both
//! ways, checks that each arrives once and intact, and measures the throughput.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use ovpn_pki::rustls_pki_types::UnixTime;

use crate::runtime::client::ClientRuntime;
use crate::runtime::server::{ServerOptions, ServerRuntime};
use crate::runtime::{PipeEnd, PipeTuns, now, unix_now};
use crate::script::{Env, Program, interpret};
use ovpn_session::SessionInfo;

/// What to send.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Packets each way.
    pub packets: u32,
    /// Their size (IP packet, 32..=1500 bytes).
    pub size: usize,
    /// Packets in flight at most (the sockets drop beyond their buffers).
    pub window: u32,
    /// The server's `cipher` (and the client's).
    pub cipher: String,
    /// `auth` (for CBC ciphers).
    pub auth: String,
    /// `protocol=tcp` instead of udp.
    pub tcp: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            packets: 20000,
            size: 1400,
            window: 32,
            cipher: "aes256-gcm".into(),
            auth: "sha256".into(),
            tcp: false,
        }
    }
}

/// One direction's figures.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// `client -> server` or `server -> client`.
    pub direction: &'static str,
    /// Packets sent.
    pub packets: u32,
    /// Packets that arrived (each once, intact).
    pub arrived: u32,
    /// IP bytes that arrived.
    pub bytes: u64,
    /// From the first send to the last arrival.
    pub elapsed: Duration,
}

impl Throughput {
    /// Megabits per second of IP packets.
    pub fn mbit_per_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }

    /// Packets per second.
    pub fn packets_per_s(&self) -> f64 {
        f64::from(self.arrived) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The server's script.
    pub server_script: String,
    /// The client's script.
    pub client_script: String,
    /// The session table while the tunnel was up.
    pub sessions: Vec<SessionInfo>,
    /// The figures, client to server first.
    pub throughput: Vec<Throughput>,
    /// The time from starting the client to its interface being up.
    pub connect_time: Duration,
}

/// The server's configuration: a CA with P-256 keys, a pool, a profile and a secret.
pub fn server_script(o: &DemoOptions) -> String {
    format!(
        r#"# The server side: a CA and certificates (P-256 keys, quick to make), an address pool,
# a PPP profile and secret, and the OpenVPN server.
/certificate
add name=ca-template common-name="ovpn-demo CA" days-valid=3650 \
    key-size=prime256v1 key-usage=key-cert-sign,crl-sign
sign ca-template ca=ca-template name=ca
add name=server-template common-name=ovpn-server days-valid=3650 \
    key-size=prime256v1 key-usage=digital-signature,key-encipherment,tls-server
sign server-template ca=ca name=server
add name=client1-template common-name=client1 days-valid=3650 \
    key-size=prime256v1 key-usage=digital-signature,key-encipherment,tls-client
sign client1-template ca=ca name=client1
export-certificate ca export-passphrase=""
export-certificate client1 export-passphrase="export-password"

/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254
/ppp profile add name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool
/ppp secret add name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn
/interface ovpn-server server set enabled=yes protocol={} certificate=server \
    require-client-certificate=yes cipher={} auth={}
"#,
        if o.tcp { "tcp" } else { "udp" },
        o.cipher,
        o.auth
    )
}

/// The client's configuration, for a server on 127.0.0.1:`port`.
pub fn client_script(o: &DemoOptions, port: u16) -> String {
    format!(
        r#"# The client side: the exported CA, certificate and key, and the client interface.
/certificate import file-name=cert_export_ca.crt passphrase=""
/certificate import file-name=cert_export_client1.crt passphrase=""
/certificate import file-name=cert_export_client1.key passphrase="export-password"
/interface ovpn-client add name=ovpn-out1 connect-to=127.0.0.1 port={port} \
    protocol={} user=client1 password=StrongPassword1 certificate=client1 \
    ca-certificate=ca cipher={} auth={} disabled=no
"#,
        if o.tcp { "tcp" } else { "udp" },
        o.cipher,
        o.auth
    )
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        let base = std::env::temp_dir();
        for n in 0..100u32 {
            let p = base.join(format!("ovpn-demo-{}-{n}", std::process::id()));
            if std::fs::create_dir(&p).is_ok() {
                return Ok(Self(p));
            }
        }
        Err(format!("cannot create a directory in {}", base.display()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(script_dir: &Path, state_dir: &Path) -> Env {
    let t = unix_now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Env {
        script_dir: script_dir.to_owned(),
        state_dir: state_dir.to_owned(),
        now: UnixTime::since_unix_epoch(t),
        allow_outside_paths: false,
    }
}

fn problems(what: &str, p: crate::script::Failure) -> String {
    let lines: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
    format!("{what} script: {}", lines.join("; "))
}

/// A numbered test packet: an IPv4 header (protocol 253, "for experiments", RFC 3692), the
/// number at bytes 28..32 and a pattern derived from it after.
pub fn test_packet(buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, n: u32) {
    let len = buf.len();
    buf.fill(0);
    buf[0] = 0x45;
    buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    buf[8] = 64;
    buf[9] = 253;
    buf[12..16].copy_from_slice(&src.octets());
    buf[16..20].copy_from_slice(&dst.octets());
    buf[28..32].copy_from_slice(&n.to_be_bytes());
    for (i, b) in buf.iter_mut().enumerate().skip(32) {
        *b = (n as usize).wrapping_add(i) as u8;
    }
}

/// The number of a test packet, if it is intact and `len` long.
pub fn check_packet(p: &[u8], src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> Option<u32> {
    if p.len() != len || p.get(12..16)? != src.octets() || p.get(16..20)? != dst.octets() {
        return None;
    }
    let n = u32::from_be_bytes(p.get(28..32)?.try_into().ok()?);
    let intact = p
        .iter()
        .enumerate()
        .skip(32)
        .all(|(i, b)| *b == (n as usize).wrapping_add(i) as u8);
    intact.then_some(n)
}

/// Sends `o.packets` numbered packets into `input` and checks that each comes out of `output`
/// once and intact.
fn transfer(
    direction: &'static str,
    input: &UnixDatagram,
    output: &UnixDatagram,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    o: &DemoOptions,
) -> Result<Throughput, String> {
    let n = o.packets;
    output
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    let mut packet = vec![0u8; o.size];
    let mut buf = vec![0u8; 65536];
    let mut seen = vec![false; n as usize];
    let (mut sent, mut arrived) = (0u32, 0u32);
    let start = now();
    while arrived < n {
        while sent < n && sent - arrived < o.window {
            test_packet(&mut packet, src, dst, sent);
            input
                .send(&packet)
                .map_err(|e| format!("{direction}: sending: {e}"))?;
            sent += 1;
        }
        let len = match output.recv(&mut buf) {
            Ok(len) => len,
            Err(e) => {
                return Err(format!(
                    "{direction}: {} of {n} packets did not arrive ({e})",
                    n - arrived
                ));
            }
        };
        let got = check_packet(&buf[..len], src, dst, o.size)
            .ok_or_else(|| format!("{direction}: a packet arrived damaged ({len} bytes)"))?;
        let slot = seen
            .get_mut(got as usize)
            .ok_or_else(|| format!("{direction}: packet {got} was never sent"))?;
        if *slot {
            return Err(format!("{direction}: packet {got} arrived twice"));
        }
        *slot = true;
        arrived += 1;
    }
    Ok(Throughput {
        direction,
        packets: n,
        arrived,
        bytes: u64::from(arrived) * o.size as u64,
        elapsed: now().saturating_duration_since(start),
    })
}

fn wait_end(rx: &mpsc::Receiver<PipeEnd>, until: Instant, what: &str) -> Result<PipeEnd, String> {
    rx.recv_timeout(until.saturating_duration_since(now()))
        .map_err(|_| format!("{what} did not come up within 10 s (see the log above)"))
}

/// Runs the demo.
pub fn run(o: &DemoOptions) -> Result<DemoReport, String> {
    run_with(o, |_| Ok(()), Ok).map(|(report, ())| report)
}

/// Runs the demo with a load beside it: `during` is called with the server's address once both
/// ends are up, and what it returns lives while the packets cross (a load test's hostile
/// connections, say); then `after` gets it back while both ends still run, and what it returns
/// is handed back with the report.
pub fn run_with<T, U>(
    o: &DemoOptions,
    during: impl FnOnce(SocketAddr) -> Result<T, String>,
    after: impl FnOnce(T) -> Result<U, String>,
) -> Result<(DemoReport, U), String> {
    if !(32..=1500).contains(&o.size) {
        return Err("the packet size must be 32..=1500 bytes".into());
    }
    let dir = TempDir::new()?;
    let server_state = dir.0.join("server");
    let server_script = server_script(o);
    let setup = interpret(Program::Server, &server_script, &env(&dir.0, &server_state))
        .map_err(|p| problems("server", p))?;
    setup
        .write_files(&server_state)
        .map_err(|e| format!("writing {}: {e}", server_state.display()))?;
    let config = setup
        .servers
        .into_iter()
        .next()
        .ok_or("no server configuration")?
        .config;
    let (server_tx, server_ends) = mpsc::channel();
    let mut srt = ServerRuntime::new(
        config,
        ovpn_session::Shared::new(setup.ppp, setup.pools),
        &ServerOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            shared_tun: None,
        },
        PipeTuns::new(server_tx),
    )
    .map_err(|e| e.to_string())?;
    let port = srt.local_addr().port();
    let server_at = srt.local_addr();

    // The client reads the files the server exported.
    let client_script = client_script(o, port);
    let csetup = interpret(
        Program::Client,
        &client_script,
        &env(&server_state, &dir.0.join("client")),
    )
    .map_err(|p| problems("client", p))?;
    let (cconfig, csettings) = (
        csetup.client_config.ok_or("no client configuration")?,
        csetup.client.ok_or("no client configuration")?,
    );
    let started = now();
    let (client_tx, client_ends) = mpsc::channel();
    let mut crt = ClientRuntime::new(cconfig, csettings.routes, PipeTuns::new(client_tx))
        .map_err(|e| e.to_string())?;

    let (server_ctl, client_ctl) = (srt.control(), crt.control());
    let want_table = Arc::new(AtomicBool::new(false));
    let (table_tx, table_rx) = mpsc::channel();
    let server_thread = {
        let want_table = want_table.clone();
        thread::spawn(move || -> Result<(), String> {
            let ctl = srt.control();
            while !ctl.is_stopped() {
                srt.turn().map_err(|e| e.to_string())?;
                if want_table.swap(false, Ordering::SeqCst) {
                    let _ = table_tx.send(srt.sessions(now()));
                }
            }
            srt.shutdown();
            Ok(())
        })
    };
    let client_thread = thread::spawn(move || crt.run().map_err(|e| e.to_string()));
    let stop = |r: Result<(DemoReport, U), String>| {
        client_ctl.stop();
        let c = client_thread.join();
        // The client told the server it was leaving: let the server see it (up to 3 s).
        let until = now() + Duration::from_secs(3);
        while now() < until {
            want_table.store(true, Ordering::SeqCst);
            server_ctl.wake();
            match table_rx.recv_timeout(until.saturating_duration_since(now())) {
                Ok(rows) if rows.is_empty() => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        server_ctl.stop();
        let s = server_thread.join();
        let r = r?;
        c.map_err(|_| "the client thread panicked".to_owned())??;
        s.map_err(|_| "the server thread panicked".to_owned())??;
        Ok(r)
    };

    let traffic = || -> Result<(DemoReport, U), String> {
        let until = now() + Duration::from_secs(10);
        let client_end = wait_end(&client_ends, until, "ovpn-out1")?;
        let connect_time = now().saturating_duration_since(started);
        let server_end = wait_end(&server_ends, until, "ovpn-incoming1")?;
        let load = during(server_at)?;
        let (client_addr, server_addr) = match (client_end.config.ipv4, server_end.config.ipv4) {
            (Some((c, _, _)), Some((s, _, _))) => (c, s),
            _ => return Err("an interface has no address".into()),
        };
        let up = transfer(
            "client -> server",
            &client_end.to_tun,
            &server_end.from_tun,
            client_addr,
            server_addr,
            o,
        )?;
        let down = transfer(
            "server -> client",
            &server_end.to_tun,
            &client_end.from_tun,
            server_addr,
            client_addr,
            o,
        )?;
        let after = after(load)?;
        want_table.store(true, Ordering::SeqCst);
        server_ctl.wake();
        let sessions = table_rx
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| "the server did not answer with its session table".to_owned())?;
        let report = DemoReport {
            server_script: server_script.clone(),
            client_script: client_script.clone(),
            sessions,
            throughput: vec![up, down],
            connect_time,
        };
        Ok((report, after))
    };
    let r = traffic();
    stop(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_packets_check_out() {
        let (a, b) = (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(10, 8, 0, 1));
        let mut p = vec![0u8; 100];
        test_packet(&mut p, a, b, 77);
        assert_eq!(check_packet(&p, a, b, 100), Some(77));
        assert_eq!(check_packet(&p, b, a, 100), None, "addresses swapped");
        assert_eq!(check_packet(&p[..99], a, b, 100), None, "short");
        p[60] ^= 1;
        assert_eq!(check_packet(&p, a, b, 100), None, "damaged");
    }

    #[test]
    fn scripts_follow_the_options() {
        let o = DemoOptions {
            tcp: true,
            cipher: "aes128-cbc".into(),
            ..DemoOptions::default()
        };
        assert!(server_script(&o).contains("protocol=tcp certificate=server"));
        assert!(server_script(&o).contains("cipher=aes128-cbc auth=sha256"));
        assert!(client_script(&o, 4321).contains("port=4321"));
        let t = Throughput {
            direction: "x",
            packets: 10,
            arrived: 10,
            bytes: 1_000_000,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(t.mbit_per_s(), 4.0);
        assert_eq!(t.packets_per_s(), 5.0);
    }
}
