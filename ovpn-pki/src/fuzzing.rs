//! Fuzz entry points. Not a stable API: for `fuzz/fuzz_targets/*` and this crate's tests only.

use crate::store::{ImportOptions, Store};

/// `pki_import`: arbitrary bytes into `import` (as a PEM/DER file, with and without a
/// passphrase), into an empty store and into one holding a certificate, so that key matching
/// and CRL lookup run too. Must never panic.
pub fn pki_import(data: &[u8]) {
    let (pass, body) = match data.split_first() {
        Some((b, rest)) if b & 1 == 1 => ("fuzz", rest),
        Some((_, rest)) => ("", rest),
        None => ("", data),
    };
    let mut store = Store::new();
    // A crafted encrypted key may ask for any KDF cost: keep the fuzzer fast.
    store.settings_mut().import_max_kdf_cost = 20_000;
    let opts = ImportOptions {
        passphrase: pass,
        ..ImportOptions::default()
    };
    if store.import("fuzz.pem", body, &opts).is_ok() {
        // Whatever was imported must print and export without panicking.
        let now = rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(
            1_700_000_000,
        ));
        let _ = store.print_detail(now);
        let names: Vec<String> = store.certificates().map(|c| c.name().to_owned()).collect();
        for n in names {
            let _ = store.chain(&n);
            let _ = store.export_certificate(&n, "", crate::ExportType::Pem);
        }
        let _ = store.peer_verifier(crate::PeerRole::TlsClient);
        // A second import of the same bytes is a no-op or the same error class.
        let _ = store.import("fuzz.pem", body, &opts);
    }
}
