//! Runs the `ovpn-dissect` binary on the committed fixtures and on broken input.

use std::io::Write;
use std::process::{Command, Stdio};

fn dissect(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ovpn-dissect"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ovpn-dissect");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn decodes_every_committed_fixture() {
    let files = [
        "testdata/wire/udp-plain.hex",
        "testdata/wire/udp-tls-auth.hex",
        "testdata/wire/udp-tls-crypt.hex",
        "testdata/wire/udp-tls-crypt-v2.hex",
        "testdata/wire/tcp-plain.hex",
        "testdata/wire/tcp-tls-auth.hex",
    ];
    let (ok, stdout, stderr) = dissect(&files, "");
    assert!(ok, "stderr: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    for file in files {
        assert!(stdout.contains(&format!("== {file}")), "{file} announced");
    }
    assert!(stdout.contains("== testdata/wire/udp-tls-auth.hex (protection tls-auth:20, udp)"));
    assert!(stdout.contains("== testdata/wire/tcp-plain.hex (protection none, tcp)"));
    // the first line of the plain UDP capture is the client's reset with message id 0
    let first = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1 c2s"))
        .expect("a first packet");
    assert!(
        first.contains("P_CONTROL_HARD_RESET_CLIENT_V2 kid 0") && first.contains("acks [] msg 0"),
        "{first}"
    );
    assert!(stdout.contains("P_CONTROL_HARD_RESET_SERVER_V2 kid 0"));
    assert!(stdout.contains("P_ACK_V1 kid 0"));
    assert!(stdout.contains("P_CONTROL_HARD_RESET_CLIENT_V3 kid 0"));
    assert!(stdout.contains("P_CONTROL_WKC_V1 kid 0"));
    assert!(stdout.contains("P_DATA_V2 kid 0 peer 0 payload"));
    assert!(stdout.contains("| tls-auth hmac 20B replay 1 "));
    assert!(stdout.contains("| tls-crypt replay 0x0f000001 "));
    // 19 packets per fixture
    let packets = stdout
        .lines()
        .filter(|l| l.starts_with(' ') || l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .count();
    assert_eq!(packets, 6 * 19);
}

#[test]
fn stdin_options_and_errors() {
    // a plain client reset, a truncated packet, bad hex, and a P_DATA_V2
    let input = "# protection: none\n\
                 c2s 38010203040506070800 00000000\n\
                 c2s 3801020304\n\
                 s2c zz\n\
                 s2c 48000005aabb\n";
    let (ok, stdout, stderr) = dissect(&[], input);
    assert!(!ok, "errors give a non-zero exit status");
    assert!(
        stdout.contains("1 c2s P_CONTROL_HARD_RESET_CLIENT_V2 kid 0 sid 0102030405060708 acks [] msg 0 payload 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 s2c P_DATA_V2 kid 0 peer 5 payload 2"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "<stdin>:3: cannot decode packet: truncated session id: needed 9 bytes, had 5"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:4: not hex"), "{stderr}");

    // the same reset read as tls-auth does not decode
    let (ok, _, stderr) = dissect(
        &["--protection", "tls-auth:20", "-"],
        "38 0102030405060708 00 00000000\n",
    );
    assert!(!ok);
    assert!(stderr.contains("truncated tls-auth hmac"), "{stderr}");

    // --tcp deframes
    let (ok, stdout, stderr) = dissect(&["--tcp"], "000e 38 0102030405060708 00 00000000\n");
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("1 ? P_CONTROL_HARD_RESET_CLIENT_V2"),
        "{stdout}"
    );

    let (ok, _, stderr) = dissect(&["--protection", "bogus"], "");
    assert!(!ok);
    assert!(stderr.contains("bad protection"), "{stderr}");
}
