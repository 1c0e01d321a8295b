//! Keeping CRLs current while the server runs: a CRL file that `/certificate import` read is
//! read again when it changes, the store's own CRLs are re-signed before they expire, and a CRL
//! that is about to expire, or has, is warned about once a day. Whenever the CRLs changed, the
//! running servers get a new client check ([`ovpn_session::Server::set_client_check`]), which
//! also ends the sessions of newly revoked certificates.

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use ovpn_pki::rustls_pki_types::UnixTime;
use ovpn_pki::{CrlExpiry, CrlState, PeerRole, PeerVerifier, Store};

use crate::script::CrlSource;

/// The certificate store a running program shares between its CRL keeper and its console.
pub type SharedStore = std::sync::Arc<std::sync::Mutex<Store>>;

/// How often the program looks (the runtime's period; a change is seen within it).
pub const PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// The CRLs of a running server program.
#[derive(Debug)]
pub struct CrlKeeper {
    store: SharedStore,
    sources: Vec<(CrlSource, Option<SystemTime>)>,
    /// The last warning per CA: its state's kind and the day it was given.
    warned: HashMap<String, (u8, u64)>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl CrlKeeper {
    /// Keeps the CRLs of `store`, re-reading `sources` when they change.
    pub fn new(store: Store, sources: Vec<CrlSource>) -> Self {
        Self::shared(std::sync::Arc::new(std::sync::Mutex::new(store)), sources)
    }

    /// Keeps the CRLs of a store shared with the console (`/certificate` at run time).
    pub fn shared(store: SharedStore, sources: Vec<CrlSource>) -> Self {
        let sources = sources
            .into_iter()
            .map(|s| {
                let m = modified(&s.path);
                (s, m)
            })
            .collect();
        Self {
            store,
            sources,
            warned: HashMap::new(),
        }
    }

    /// The store as it stands (locked while the guard lives).
    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One look at `now`: changed CRL files are read again, the store's own CRLs renewed when
    /// due, and expiring or expired CRLs warned about (once a day each). Returns the new client
    /// check when any CRL changed.
    pub fn tick(&mut self, now: UnixTime) -> Option<PeerVerifier> {
        let shared = self.store.clone();
        let mut store = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut changed = false;
        for (source, seen) in &mut self.sources {
            let m = modified(&source.path);
            if m == *seen {
                continue;
            }
            *seen = m;
            let shown = source.path.display();
            let data = match std::fs::read(&source.path) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(target: "certificate", "{shown}: {e}; the CRL read before stays in use");
                    continue;
                }
            };
            let props: Vec<(&str, &str)> = source
                .props
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            match store.import_from_properties(&props, &data) {
                Ok(s) if s.crls_imported > 0 => {
                    tracing::info!(target: "certificate", "{shown}: CRL read again");
                    changed = true;
                }
                Ok(_) => {
                    tracing::warn!(target: "certificate", "{shown}: no CRL in it any more; the CRL read before stays in use");
                }
                Err(e) => {
                    tracing::warn!(target: "certificate", "{shown}: {e}; the CRL read before stays in use");
                }
            }
        }
        match store.renew_crls(now) {
            Ok(renewed) => {
                for ca in &renewed {
                    tracing::info!(target: "certificate", "CRL of {ca} renewed before it expires");
                }
                changed |= !renewed.is_empty();
            }
            Err(e) => tracing::warn!(target: "certificate", "renewing a CRL: {e}"),
        }
        self.warn(&store, now);
        if !changed {
            return None;
        }
        match store.peer_verifier(PeerRole::TlsClient) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(target: "certificate", "the new CRLs cannot be used: {e}; the ones before stay in use");
                None
            }
        }
    }

    /// Warns about CRLs that expire soon or have expired, once a day per CA and state.
    fn warn(&mut self, store: &Store, now: UnixTime) {
        let day = now.as_secs() / 86_400;
        let refuse = store.settings().crl_expiry == CrlExpiry::Enforce;
        for h in store.crl_health(now) {
            let kind = match h.state {
                CrlState::Fresh => {
                    self.warned.remove(&h.ca);
                    continue;
                }
                CrlState::ExpiresSoon(_) => 1,
                CrlState::Expired(_) => 2,
            };
            if self.warned.get(&h.ca) == Some(&(kind, day)) {
                continue;
            }
            self.warned.insert(h.ca.clone(), (kind, day));
            let ca = &h.ca;
            match h.state {
                CrlState::ExpiresSoon(secs) => {
                    let hours = secs / 3600;
                    tracing::warn!(target: "certificate", "CRL of {ca} expires in {} days {} hours: publish a new one (crl-expiry={})", hours / 24, hours % 24, store.settings().crl_expiry);
                }
                CrlState::Expired(_) if refuse => {
                    tracing::error!(target: "certificate", "CRL of {ca} has expired: every certificate of {ca} is refused (crl-expiry=refuse) until a new CRL is imported");
                }
                CrlState::Expired(_) => {
                    tracing::warn!(target: "certificate", "CRL of {ca} has expired: still used, its revoked certificates stay refused and the others are accepted (crl-expiry=warn); import a new one");
                }
                CrlState::Fresh => {}
            }
        }
    }
}

/// Runs `keeper` until `stopped` says so: a look every [`PERIOD`], and a new client check
/// handed to each running server that checks client certificates (`true` beside its control,
/// as `servers` gives them now) whenever the CRLs changed. Runs on its own thread beside the
/// servers'.
pub fn keep(
    mut keeper: CrlKeeper,
    servers: &dyn Fn() -> Vec<(crate::runtime::Control, bool)>,
    stopped: &dyn Fn() -> bool,
) {
    let step = std::time::Duration::from_millis(100);
    loop {
        if let Some(check) = keeper.tick(crate::runtime::unix_time()) {
            let check: crate::runtime::ClientCheck = std::sync::Arc::new(check);
            for (control, checks_clients) in servers() {
                if checks_clients {
                    control.set_client_check(check.clone());
                }
            }
        }
        let mut waited = std::time::Duration::ZERO;
        while waited < PERIOD {
            if stopped() {
                return;
            }
            std::thread::sleep(step);
            waited += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pki(f: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../testdata/pki/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    fn der(name: &str) -> ovpn_pki::rustls_pki_types::CertificateDer<'static> {
        let pem = pki(&format!("{name}.crt"));
        let mut store = Store::new();
        store
            .import(&format!("{name}.crt"), &pem, &Default::default())
            .unwrap();
        store.chain(name).unwrap().remove(0)
    }

    #[test]
    fn a_changed_crl_file_gives_a_new_check_that_revokes() {
        let dir = tempfile::tempdir().unwrap();
        let crl = dir.path().join("ca.crl");
        std::fs::write(&crl, pki("ca.crl")).unwrap();
        let mut store = Store::new();
        let opts = ovpn_pki::ImportOptions {
            name: Some("ca"),
            ..Default::default()
        };
        store.import("ca.crt", &pki("ca.crt"), &opts).unwrap();
        store.set_trusted("ca", true).unwrap();
        store
            .import("ca.crl", &pki("ca.crl"), &Default::default())
            .unwrap();
        let source = CrlSource {
            path: crl.clone(),
            props: vec![("file-name".into(), "ca.crl".into())],
        };
        let mut keeper = CrlKeeper::new(store, vec![source]);
        let now = at(1_795_737_600);
        assert!(keeper.tick(now).is_none(), "nothing changed");
        let before = keeper.store().peer_verifier(PeerRole::TlsClient).unwrap();
        let client1 = der("client1");
        assert!(before.verify(&client1, &[], now).is_ok());
        // The CA publishes a CRL that lists client1 (with a later mtime).
        // Later than the first write's mtime, whatever the clock says.
        let later = modified(&crl).unwrap() + Duration::from_secs(2);
        std::fs::write(&crl, pki("ca-client1-revoked.crl")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&crl)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let after = keeper.tick(now).expect("a new check");
        assert_eq!(
            after.verify(&client1, &[], now).unwrap_err(),
            ovpn_pki::VerifyError::Revoked
        );
        // A broken file keeps the CRL before.
        std::fs::write(&crl, b"not a CRL").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&crl)
            .unwrap()
            .set_modified(later + Duration::from_secs(2))
            .unwrap();
        assert!(keeper.tick(now).is_none());
        let still = keeper.store().peer_verifier(PeerRole::TlsClient).unwrap();
        assert!(still.verify(&client1, &[], now).is_err());
    }
}
