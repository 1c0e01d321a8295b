//! OpenVPN 2.6 parses the `.ovpn` profiles `export-client-configuration` writes: for UDP and TCP,
//! GCM, CBC and Blowfish, with a plain and with an encrypted key. Needs the `openvpn` binary
//! (scripts/setup.sh installs it), so the runner reports it as ignored unless asked
//! (`cargo test -- --include-ignored`, as scripts/test.sh does); asked, a missing openvpn fails
//! it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ovpn_examples::profile::ClientProfile;
use ovpn_pki::{ImportOptions, Store};
use ovpn_session::Transport;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ovpn-ex-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, file: &str, data: &[u8]) {
        std::fs::write(self.0.join(file), data).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pki(file: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../testdata/pki/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn import(store: &mut Store, name: &str) {
    for ext in ["crt", "key"] {
        let file = format!("{name}.{ext}");
        store
            .import(&file, &pki(&file), &ImportOptions::default())
            .unwrap();
    }
}

fn store_with_ca() -> Store {
    let mut s = Store::new();
    import(&mut s, "ca");
    s
}

/// The installed tool `name`; without it the test fails.
fn tool(name: &str) -> PathBuf {
    [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
        "/bin",
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("`{name}` is not installed (scripts/setup.sh installs it)"))
}

/// Runs `openvpn --config profile.ovpn` against a closed loopback port and returns its output up
/// to the first connection attempt (or its exit). The process is killed by its PID afterwards.
fn openvpn_until_connect(openvpn: &Path, dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "--config",
        "profile.ovpn",
        "--verb",
        "4",
        "--connect-retry-max",
        "1",
        "--auth-user-pass",
        "creds.txt",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(openvpn)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    let a = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let b = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx2.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    // Both pipe readers end when the process exits; the timeout only guards a hang.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("Attempting to establish TCP connection")
            || line.contains("link remote:")
            || line.contains("Options error")
            || line.contains("Exiting due to fatal error")
        {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(rx);
    let _ = a.join();
    let _ = b.join();
    log
}

fn closed_port() -> u16 {
    // Bind, read the port, close: nothing listens there afterwards.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
#[ignore = "needs openvpn: scripts/test.sh runs it with --include-ignored"]
fn openvpn_accepts_our_profile() {
    let openvpn = tool("openvpn");
    let mut s = store_with_ca();
    import(&mut s, "client1");
    import(&mut s, "client2");
    s.settings_mut().export_pbkdf2_iterations = 2048;
    let cases: [(&str, Transport, &str, &str, &str); 4] = [
        ("client1", Transport::Udp, "aes256-cbc", "sha256", ""),
        ("client1", Transport::Tcp, "aes256-gcm", "sha1", ""),
        (
            "client2",
            Transport::Tcp,
            "aes128-cbc",
            "sha512",
            "key-secret",
        ),
        ("client2", Transport::Udp, "blowfish128", "md5", ""),
    ];
    for (client, transport, cipher, auth, key_pass) in cases {
        let scratch = Scratch::new("openvpn");
        let mut p = ClientProfile::new("127.0.0.1", closed_port());
        p.transport = transport;
        p.cipher = cipher.parse().unwrap();
        p.auth = auth.parse().unwrap();
        let text = p.for_certificate(&s, "ca", client, key_pass).unwrap();
        assert!(!text.contains("ncp-disable"));
        assert_eq!(text.contains("ENCRYPTED PRIVATE KEY"), !key_pass.is_empty());
        scratch.write("profile.ovpn", text.as_bytes());
        scratch.write("creds.txt", b"client1\npassword\n");
        scratch.write("pass.txt", format!("{key_pass}\n").as_bytes());
        let extra: &[&str] = if key_pass.is_empty() {
            &[]
        } else {
            &["--askpass", "pass.txt"]
        };
        let log = openvpn_until_connect(&openvpn, &scratch.0, extra);
        let what = format!("{client} {transport:?} {cipher} {auth}");
        assert!(
            !log.contains("Options error"),
            "{what}: OpenVPN refused the profile:\n{log}"
        );
        assert!(
            !log.contains("Cannot load"),
            "{what}: OpenVPN could not load a certificate or key:\n{log}"
        );
        match transport {
            Transport::Tcp => assert!(
                log.contains("Attempting to establish TCP connection"),
                "{what}:\n{log}"
            ),
            Transport::Udp => assert!(
                log.contains("UDPv4 link remote: [AF_INET]127.0.0.1"),
                "{what}:\n{log}"
            ),
        }
        let expected = p.cipher.openvpn_name();
        assert!(
            log.contains(&format!("ciphername = '{expected}'")),
            "{what}:\n{log}"
        );
    }

    // Control: the RouterOS page's own `ncp-disable` line is an options error in 2.6, and this
    // harness sees it.
    let scratch = Scratch::new("openvpn-ncp");
    let p = ClientProfile::new("127.0.0.1", closed_port());
    let text = p
        .for_certificate(&s, "ca", "client1", "")
        .unwrap()
        .replace("verb 3\n", "verb 3\nncp-disable\n");
    scratch.write("profile.ovpn", text.as_bytes());
    scratch.write("creds.txt", b"u\np\n");
    let log = openvpn_until_connect(&openvpn, &scratch.0, &[]);
    assert!(
        log.contains("Options error") && log.contains("ncp-disable"),
        "{log}"
    );
}
