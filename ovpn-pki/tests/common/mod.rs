//! Shared helpers: the committed test PKI (`testdata/pki`) and fixed times.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::time::Duration;

use ovpn_pki::rustls_pki_types::{CertificateDer, UnixTime};
use ovpn_pki::{ImportOptions, Store};

/// A file of the committed test PKI.
pub fn pki(file: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/pki/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The DER certificate of a test PKI `.crt`.
pub fn der(name: &str) -> CertificateDer<'static> {
    let mut s = Store::new();
    s.import(
        &format!("{name}.crt"),
        &pki(&format!("{name}.crt")),
        &ImportOptions::default(),
    )
    .unwrap();
    s.certificates().next().unwrap().der().clone()
}

pub fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

/// 2026-06-01 00:00:00 UTC: inside the test PKI's validity.
pub fn now() -> UnixTime {
    at(1_780_272_000)
}

/// Imports `name.crt` (and `name.key` when `with_key`) from the test PKI.
pub fn import(store: &mut Store, name: &str, with_key: bool) {
    store
        .import(
            &format!("{name}.crt"),
            &pki(&format!("{name}.crt")),
            &ImportOptions::default(),
        )
        .unwrap();
    if with_key {
        store
            .import(
                &format!("{name}.key"),
                &pki(&format!("{name}.key")),
                &ImportOptions::default(),
            )
            .unwrap();
    }
}

/// A store holding the test CA with its key.
pub fn store_with_ca() -> Store {
    let mut s = Store::new();
    import(&mut s, "ca", true);
    s
}

/// The path of a command-line tool; a missing tool fails the (ignored by default) test that
/// needs it.
#[allow(dead_code, reason = "used by some of the test crates")]
pub fn tool(name: &str) -> std::path::PathBuf {
    for dir in [
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
        "/bin",
        "/sbin",
    ] {
        let p = std::path::Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("`{name}` is not installed (scripts/setup.sh installs it)")
}
