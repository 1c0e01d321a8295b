//! Runs `ovpn-demo` (no root needed) and checks its exit status and what it prints.

use std::process::Command;

fn demo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ovpn-demo"))
        .args(args)
        .output()
        .expect("ovpn-demo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_over_udp_carries_every_packet_both_ways() {
    let (ok, stdout, stderr) = demo(&["--packets", "400"]);
    assert!(ok, "exit status\n{stdout}\n{stderr}");
    for want in [
        "/interface ovpn-server print",
        "ovpn-incoming1  client1  127.0.0.1:",
        "10.8.0.2",
        "AES-256-GCM",
        "/ppp active print",
        "client -> server: 400/400 packets arrived",
        "server -> client: 400/400 packets arrived",
        "Mbit/s",
        "packets/s",
        "OK: every packet arrived once and intact, both ways.",
    ] {
        assert!(stdout.contains(want), "{want:?} missing from\n{stdout}");
    }
    // The log lines scripts wait for, in RouterOS's form.
    for want in [
        "ovpn,info ovpn-server: listening on udp 127.0.0.1:",
        "ppp,info client1 logged in, 10.8.0.2 from 127.0.0.1",
        "ovpn,info ovpn-incoming1: connected",
        "ovpn,info ovpn-out1: connected (AES-256-GCM)",
        "ovpn,info ovpn-incoming1: session up: name=ovpn-incoming1 user=client1",
        "ovpn,info ovpn-incoming1: disconnected (closed by peer)",
        "rx-packets=400 tx-packets=400",
    ] {
        assert!(stderr.contains(want), "{want:?} missing from\n{stderr}");
    }
}

#[test]
fn demo_over_tcp_with_a_cbc_cipher() {
    let (ok, stdout, stderr) = demo(&[
        "--packets",
        "200",
        "--tcp",
        "--cipher",
        "aes256-cbc",
        "--auth",
        "sha256",
    ]);
    assert!(ok, "exit status\n{stdout}\n{stderr}");
    assert!(stdout.contains("AES-256-CBC/SHA256"), "{stdout}");
    assert!(
        stdout.contains("server -> client: 200/200 packets arrived"),
        "{stdout}"
    );
    assert!(stderr.contains("listening on tcp 127.0.0.1:"), "{stderr}");
}

#[test]
fn demo_fails_loudly_on_a_bad_option() {
    let (ok, stdout, _) = demo(&["--packets", "10", "--cipher", "rot13"]);
    assert!(!ok);
    assert!(stdout.contains("FAILED: server script: line"), "{stdout}");
    assert!(stdout.contains("unknown cipher"), "{stdout}");
}
