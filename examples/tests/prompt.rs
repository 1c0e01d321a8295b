//! A profile's `auth-user-pass` with no file is asked on the terminal, as openvpn does. Needs a terminal: script(1) gives the program one, so the runner
//! reports this as ignored unless asked (`--include-ignored`, as scripts/test.sh does).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[test]
#[ignore = "needs script(1) for a terminal: scripts/test.sh runs it with --include-ignored"]
fn auth_user_pass_is_asked_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let ca = std::fs::read_to_string(format!(
        "{}/../testdata/pki/ca.crt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // Nothing listens on 127.0.0.1:9: the client only has to get as far as connecting.
    let profile = format!(
        "client\ndev tun\nproto udp\nremote 127.0.0.1 9\nremote-cert-tls server\nauth-user-pass\n<ca>\n{ca}</ca>\n"
    );
    let path = dir.path().join("p.ovpn");
    std::fs::write(&path, profile).unwrap();
    let cmd = format!(
        "{} --state-dir {} run {}",
        env!("CARGO_BIN_EXE_ovpn-client"),
        dir.path().join("state").display(),
        path.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script(1)");
    let mut input = child.stdin.take().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let mut answered = (false, false);
    for line in out.split(b' ') {
        let Ok(word) = line else { break };
        seen.push_str(&String::from_utf8_lossy(&word));
        seen.push(' ');
        if !answered.0 && seen.contains("Username:") {
            input.write_all(b"alice\n").unwrap();
            answered.0 = true;
        }
        if !answered.1 && seen.contains("Password:") {
            input.write_all(b"s3cr3t-pw\n").unwrap();
            answered.1 = true;
        }
        if seen.contains("connecting to 127.0.0.1:9") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered == (true, true), "{seen}");
    assert!(seen.contains("connecting to 127.0.0.1:9"), "{seen}");
    assert!(seen.contains("alice"), "the user name is echoed: {seen}");
    // That the password is not echoed is rpassword's (it turns echo off once its prompt is
    // out); scripted input can beat it to that, so it is not asserted here.
}
