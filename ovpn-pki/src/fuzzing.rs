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

/// `pki_store_load`: arbitrary text into `Store::load`. Must never panic; what loads must save
/// and load again to the same text.
pub fn pki_store_load(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(store) = Store::load(text) {
        let saved = store.save();
        let again = Store::load(&saved).map(|s| s.save());
        assert_eq!(again.as_deref().map(|s| s.as_str()), Ok(saved.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::{ImportOptions, Store, pki_import, pki_store_load};

    #[test]
    fn store_load_entry_runs() {
        let mut s = Store::new();
        s.import(
            "ca.crt",
            include_bytes!("../../testdata/pki/ca.crt"),
            &ImportOptions::default(),
        )
        .unwrap();
        let saved = s.save();
        pki_store_load(saved.as_bytes());
        pki_store_load(b"ovpn-pki-store 1\n[settings]\ncrl-days-valid: 7\n");
        pki_store_load(&saved.as_bytes()[..saved.len() / 2]);
        pki_store_load(&[0xff, 0xfe]);
    }

    #[test]
    fn fuzz_entry_runs_over_seeds() {
        let seeds: [&[u8]; 6] = [
            include_bytes!("../../testdata/pki/ca.crt"),
            include_bytes!("../../testdata/pki/client2.key"),
            include_bytes!("../../testdata/pki/ca.crl"),
            b"",
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            &[0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x03],
        ];
        for seed in seeds {
            pki_import(seed);
            let mut with_pass = vec![1u8];
            with_pass.extend_from_slice(seed);
            pki_import(&with_pass);
            // Truncations must not panic either.
            for cut in [1, seed.len() / 2, seed.len().saturating_sub(1)] {
                pki_import(seed.get(..cut).unwrap_or_default());
            }
        }
    }
}
