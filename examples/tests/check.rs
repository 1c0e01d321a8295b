//! `check` never echoes key material: a profile is checked as a profile, and a key or profile
//! given as a RouterOS script has its key lines reported without their content.

use std::process::Command;

/// A line of a private key (not a real one): what must never reach the output.
const KEY_LINE: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7x9Zq0";

fn profile_text() -> String {
    format!(
        "client\ndev tun\nremote 192.0.2.1 1194\nauth-user-pass\n<key>\n\
         -----BEGIN PRIVATE KEY-----\n{KEY_LINE}\n-----END PRIVATE KEY-----\n</key>\n"
    )
}

fn check(file: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, profile_text()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ovpn-client"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("check")
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

#[test]
fn a_profile_is_checked_as_a_profile_without_echoing_its_key() {
    let (code, out) = check("provider.ovpn");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("error: key: key.pem: malformed"), "{out}");
    assert!(!out.contains(KEY_LINE), "{out}");
    assert!(!out.contains("unknown menu"), "not read as a script: {out}");
}

#[test]
fn key_lines_in_a_script_are_reported_without_their_content() {
    let (code, out) = check("mistake.rsc");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("looks like key or certificate material"),
        "{out}"
    );
    assert!(!out.contains(KEY_LINE), "{out}");
    assert!(!out.contains("BEGIN PRIVATE KEY"), "{out}");
    assert!(out.contains("unknown menu or command: /client"), "{out}");
}

/// What is not a script is said to be what it is, and a huge file is refused before it is read.
#[test]
fn a_directory_a_device_or_a_huge_file_is_refused_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.rsc");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    for (path, words) in [
        (dir.path().to_path_buf(), "it is a directory"),
        (std::path::PathBuf::from("/dev/null"), "not a regular file"),
        (huge, "more than the 16 MiB"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ovpn-server"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.contains(words), "{}: {err}", path.display());
    }
}
