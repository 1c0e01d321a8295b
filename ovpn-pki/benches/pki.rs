//! Key generation, signing, peer checks and key export: what a `/certificate` command costs.
//!
//! `cargo bench -p ovpn-pki --bench pki`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ovpn_pki::rustls_pki_types::{CertificateDer, UnixTime};
use ovpn_pki::{ExportType, ImportOptions, KeySize, PeerRole, Store, Template};

fn pki(file: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/pki/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(1_780_272_000))
}

/// A store with `ca` (and its key) imported from the test PKI.
fn with(names: &[&str]) -> Store {
    let mut s = Store::new();
    for n in names {
        s.import(
            &format!("{n}.crt"),
            &pki(&format!("{n}.crt")),
            &ImportOptions::default(),
        )
        .unwrap();
        s.import(
            &format!("{n}.key"),
            &pki(&format!("{n}.key")),
            &ImportOptions::default(),
        )
        .unwrap();
    }
    s
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen");
    g.sample_size(20).measurement_time(Duration::from_secs(30));
    g.bench_function("rsa2048", |b| {
        b.iter(|| ovpn_pki::generate_private_key(KeySize::Rsa2048).unwrap())
    });
    g.bench_function("p256", |b| {
        b.iter(|| ovpn_pki::generate_private_key(KeySize::Prime256v1).unwrap())
    });
    g.finish();
}

/// `sign` with an existing CA, for a P-256 subject (its key generation costs ~0.1 ms), so the
/// figure is dominated by the CA's signatures.
fn sign(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign");
    for (label, ca) in [("by-rsa2048-ca", "ca"), ("by-p256-ca", "foreign-ca")] {
        let base = with(&[ca]);
        g.bench_function(label, |b| {
            b.iter_batched(
                || {
                    let mut s = base.clone();
                    let mut t = Template::new("c", "c");
                    t.key_size = KeySize::Prime256v1;
                    s.add(t).unwrap();
                    s
                },
                |mut s| {
                    s.sign("c", Some(ca), None, now()).unwrap();
                    s
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    let mut s = with(&["ca"]);
    s.import("ca.crl", &pki("ca.crl"), &ImportOptions::default())
        .unwrap();
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    for name in ["client1", "client2"] {
        let mut t = Store::new();
        t.import(
            "c.crt",
            &pki(&format!("{name}.crt")),
            &ImportOptions::default(),
        )
        .unwrap();
        let cert: CertificateDer<'static> = t.certificates().next().unwrap().der().clone();
        g.bench_function(name, |b| {
            b.iter(|| v.verify(black_box(&cert), &[], now()).unwrap())
        });
    }
    g.finish();
}

fn export(c: &mut Criterion) {
    let mut g = c.benchmark_group("export");
    g.sample_size(20);
    let s = with(&["client2"]);
    g.bench_function("encrypted-key-pbkdf2-100k", |b| {
        b.iter(|| {
            s.export_certificate("client2", "pw", ExportType::Pem)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = keygen, sign, verify, export
}
criterion_main!(benches);
