//! The `ovpn-server` and `ovpn-client` binaries in two network namespaces joined by a veth pair:
//! the client connects, a ping crosses the tunnel both ways, SIGTERM stops both with status 0.
//!
//! Needs root and /dev/net/tun, so the runner reports the tests as ignored unless asked
//! (`cargo test -- --include-ignored`, as scripts/test.sh does as root); asked without root, they fail. Namespaces and
//! links are named after this process's id and removed at the end; the processes are stopped by
//! their PIDs.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("not root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    if run(&["ip", "-V"]).is_err() {
        return Some("no `ip` tool".into());
    }
    None
}

/// Two namespaces joined by a veth pair: the server at 192.0.2.1, the client at 192.0.2.2.
struct Net {
    server: String,
    client: String,
}

impl Net {
    fn new(tag: &str) -> Result<Self, String> {
        let pid = std::process::id();
        let net = Net {
            server: format!("ovpnex-s-{pid}-{tag}"),
            client: format!("ovpnex-c-{pid}-{tag}"),
        };
        let (vs, vc) = (format!("oxs{pid}{tag}"), format!("oxc{pid}{tag}"));
        run(&["ip", "netns", "add", &net.server])?;
        run(&["ip", "netns", "add", &net.client])?;
        run(&[
            "ip",
            "link",
            "add",
            &vs,
            "netns",
            &net.server,
            "type",
            "veth",
            "peer",
            "name",
            &vc,
            "netns",
            &net.client,
        ])?;
        for (ns, dev, addr) in [
            (&net.server, &vs, "192.0.2.1/24"),
            (&net.client, &vc, "192.0.2.2/24"),
        ] {
            run(&["ip", "-n", ns, "addr", "add", addr, "dev", dev])?;
            run(&["ip", "-n", ns, "link", "set", dev, "up"])?;
            run(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(net)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "del", &self.server]);
        let _ = run(&["ip", "netns", "del", &self.client]);
    }
}

/// One of our programs, running in a namespace, its stderr lines collected.
struct Program {
    name: &'static str,
    child: Option<Child>,
    pid: u32,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Program {
    fn start(ns: &str, bin: &str, state: &Path, script: &Path, extra: &[&str]) -> Program {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, bin, "--state-dir"])
            .arg(state)
            .arg("run")
            .arg(script)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ip netns exec runs");
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Program {
            name: if bin.ends_with("ovpn-server") {
                "ovpn-server"
            } else {
                "ovpn-client"
            },
            pid: child.id(),
            child: Some(child),
            lines,
            log: Vec::new(),
        }
    }

    /// Waits up to `secs` for a line containing `needle`.
    fn wait_for(&mut self, needle: &str, secs: u64) -> String {
        let deadline = ovpn_examples::runtime::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(ovpn_examples::runtime::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.log.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "{}: no line with {needle:?} within {secs} s; its log:\n{}",
                    self.name,
                    self.log.join("\n")
                ),
            }
        }
    }

    /// Sends a signal (by name: `USR1`).
    fn signal(&self, sig: &str) {
        run(&["kill", &format!("-{sig}"), &self.pid.to_string()]).expect("kill");
    }

    /// SIGTERM, then the exit status (SIGKILL after 10 s).
    fn stop(&mut self) -> ExitStatus {
        let _ = run(&["kill", "-TERM", &self.pid.to_string()]);
        let mut child = self.child.take().expect("running");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(status)) => status,
            _ => {
                let _ = run(&["kill", "-KILL", &self.pid.to_string()]);
                panic!("{} did not stop on SIGTERM", self.name)
            }
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = run(&["kill", "-KILL", &self.pid.to_string()]);
            let _ = c.wait();
        }
    }
}

fn server_script(protocol: &str) -> String {
    format!(
        r#"/certificate
add name=ca-template common-name="OpenVPN CA" days-valid=3650 \
    key-size=prime256v1 key-usage=key-cert-sign,crl-sign
sign ca-template ca=ca-template name=ca
add name=server-template common-name="ovpn-server" days-valid=3650 \
    key-size=prime256v1 key-usage=digital-signature,key-encipherment,tls-server
sign server-template ca=ca name=server
add name=client1-template common-name="client1" days-valid=3650 \
    key-size=prime256v1 key-usage=digital-signature,key-encipherment,tls-client
sign client1-template ca=ca name=client1
/certificate export-certificate ca export-passphrase=""
/certificate export-certificate client1 export-passphrase="export-password"
/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254
/ppp profile add name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool \
    dns-server=8.8.8.8 use-compression=no use-encryption=required
/ppp secret add name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn
/interface ovpn-server server set enabled=yes port=1194 protocol={protocol} \
    certificate=server require-client-certificate=yes auth=sha256 \
    cipher=aes256-gcm,aes256-cbc keepalive-timeout=30
/ip firewall filter
add chain=input protocol={protocol} dst-port=1194 action=accept comment="OpenVPN server"
"#
    )
}

fn client_script(protocol: &str) -> String {
    format!(
        r#"/certificate import file-name=cert_export_ca.crt passphrase=""
/certificate import file-name=cert_export_client1.crt passphrase=""
/certificate import file-name=cert_export_client1.key passphrase="export-password"
/interface ovpn-client add name=ovpn-out1 connect-to=192.0.2.1 port=1194 \
    protocol={protocol} user=client1 password=StrongPassword1 certificate=client1 \
    ca-certificate=ca cipher=aes256-cbc auth=sha256 add-default-route=no disabled=no
"#
    )
}

fn tunnel(protocol: &str, shared_tun: bool) {
    if let Some(why) = skip_reason() {
        panic!("{why}: this test needs root and /dev/net/tun");
    }
    let tag = if shared_tun { "s" } else { &protocol[..1] };
    let net = Net::new(tag).expect("namespaces");
    let dir = tempfile::tempdir().unwrap();
    let (sdir, cdir) = (dir.path().join("server"), dir.path().join("client"));
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::create_dir_all(&cdir).unwrap();
    std::fs::write(sdir.join("server.rsc"), server_script(protocol)).unwrap();
    std::fs::write(cdir.join("client.rsc"), client_script(protocol)).unwrap();

    let mut server = Program::start(
        &net.server,
        env!("CARGO_BIN_EXE_ovpn-server"),
        &sdir.join("state"),
        &sdir.join("server.rsc"),
        if shared_tun {
            &["--shared-tun", "ovpn-all"]
        } else {
            &[]
        },
    );
    server.wait_for(
        &format!("ovpn-server: listening on {protocol} [::]:1194"),
        60,
    );
    // The client gets the exported files, as a RouterOS client would by upload.
    for f in [
        "cert_export_ca.crt",
        "cert_export_client1.crt",
        "cert_export_client1.key",
    ] {
        std::fs::copy(sdir.join("state").join(f), cdir.join(f)).unwrap();
    }
    let mut client = Program::start(
        &net.client,
        env!("CARGO_BIN_EXE_ovpn-client"),
        &cdir.join("state"),
        &cdir.join("client.rsc"),
        &[],
    );
    // The client offers aes256-cbc first and then the rest; the server's own order
    // (aes256-gcm first) decides, as OpenVPN 2.6's does.
    client.wait_for("ovpn-out1: connected (AES-256-GCM)", 30);
    server.wait_for("client1 logged in, 10.8.0.2 from 192.0.2.2", 5);
    server.wait_for("ovpn-incoming1: session up:", 5);

    // The interfaces exist once the lines are out: ping at once, both ways.
    run(&[
        "ip",
        "netns",
        "exec",
        &net.client,
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "10.8.0.1",
    ])
    .expect("client to server through the tunnel");
    run(&[
        "ip",
        "netns",
        "exec",
        &net.server,
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "10.8.0.2",
    ])
    .expect("server to client through the tunnel");
    if shared_tun {
        let routes = run(&["ip", "-n", &net.server, "route"]).unwrap();
        assert!(routes.contains("10.8.0.2 dev ovpn-all"), "{routes}");
    } else {
        let dev = [
            "ip",
            "-n",
            &net.server,
            "-o",
            "addr",
            "show",
            "dev",
            "ovpn-incoming1",
        ];
        let link = run(&dev).expect("the server's interface");
        assert!(link.contains("10.8.0.1 peer 10.8.0.2/32"), "{link}");
    }
    server.signal("USR1");
    server.wait_for("pool ovpn-pool: total=253 used=1 available=252", 5);

    // SIGTERM: the client tells the server, which removes the client's interface.
    assert_eq!(client.stop().code(), Some(0), "{}", client.log.join("\n"));
    let down = server.wait_for("ovpn-incoming1: session down:", 10);
    assert!(
        down.contains("user=client1") && down.contains("rx-packets="),
        "{down}"
    );
    let dev = [
        "ip",
        "-n",
        &net.server,
        "link",
        "show",
        "dev",
        "ovpn-incoming1",
    ];
    assert!(run(&dev).is_err(), "ovpn-incoming1 is removed");
    if shared_tun {
        let routes = run(&["ip", "-n", &net.server, "route"]).unwrap();
        assert!(!routes.contains("10.8.0.2"), "{routes}");
    }
    // Its address is free again.
    server.signal("USR1");
    server.wait_for("pool ovpn-pool: total=253 used=0 available=253", 5);
    assert_eq!(server.stop().code(), Some(0), "{}", server.log.join("\n"));
    drop(net);
}

#[test]
#[ignore = "needs root and /dev/net/tun: scripts/test.sh runs it with --include-ignored"]
fn udp_tunnel_between_namespaces() {
    tunnel("udp", false);
}

#[test]
#[ignore = "needs root and /dev/net/tun: scripts/test.sh runs it with --include-ignored"]
fn shared_tun_between_namespaces() {
    tunnel("udp", true);
}

#[test]
#[ignore = "needs root and /dev/net/tun: scripts/test.sh runs it with --include-ignored"]
fn tcp_tunnel_between_namespaces() {
    tunnel("tcp", false);
}
