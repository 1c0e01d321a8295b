//! Seal and open throughput of every data-channel suite for 64, 512 and 1400-byte packets,
//! and in the same run the raw ring AES-256-GCM seal (and open) of the same bytes: the
//! ceiling the suites are compared with (`benches/ratio_table.py` prints the table).
//!
//! Run: `cargo bench -p ovpn-crypto --bench data_channel`.

#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ovpn_crypto::{Cipher, DataKeys, Digest, HEADER_LEN_V2, KeyBlock, Role};
use ring::aead;

const SIZES: [usize; 3] = [64, 512, 1400];
const BUF: usize = 1600;

/// The bench's one clock read, passed to `open` as `now`.
#[allow(
    clippy::disallowed_methods,
    reason = "bench harness: the caller of the sans-IO API"
)]
fn now() -> Instant {
    Instant::now()
}

fn block() -> KeyBlock {
    KeyBlock::from_bytes(core::array::from_fn(|i| (i as u8).wrapping_mul(13) ^ 0x3c))
}

fn suite_name(cipher: Cipher, digest: Digest) -> String {
    if cipher.is_aead() {
        cipher.to_string()
    } else {
        format!("{cipher}+{digest}")
    }
}

fn ceiling(c: &mut Criterion) {
    let key_bytes = [0x42u8; 32];
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &key_bytes).unwrap());
    let mut group = c.benchmark_group("ceiling_ring_aes256gcm");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = [0u8; BUF];
        let mut counter = 0u64;
        group.bench_function(format!("seal/{size}"), |b| {
            b.iter(|| {
                counter += 1;
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&counter.to_be_bytes());
                let tag = key
                    .seal_in_place_separate_tag(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(&nonce[..8]),
                        &mut buf[..size],
                    )
                    .unwrap();
                black_box(tag.as_ref()[0]);
            })
        });
        // Raw open of a sealed buffer (ciphertext and tag copied in by the setup).
        let mut sealed = [0u8; BUF];
        let nonce = [7u8; 12];
        let tag = key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&nonce[..8]),
                &mut sealed[..size],
            )
            .unwrap();
        group.bench_function(format!("open/{size}"), |b| {
            b.iter_batched_ref(
                || sealed,
                |buf| {
                    let tag = aead::Tag::try_from(tag.as_ref()).unwrap();
                    key.open_in_place_separate_tag(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(&nonce[..8]),
                        tag,
                        &mut buf[..size],
                        0..,
                    )
                    .unwrap();
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn suites(c: &mut Criterion) {
    let block = block();
    for (cipher, digest) in ovpn_crypto::fuzzing::suites() {
        let mut group = c.benchmark_group(format!("suite_{}", suite_name(cipher, digest)));
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let mut tx = DataKeys::new(cipher, digest, &block, Role::Client, [1; 32]).unwrap();
            let head = HEADER_LEN_V2 + tx.overhead().head;
            let mut buf = [0u8; BUF];
            buf[..4].copy_from_slice(&[0x48, 0, 0, 1]);
            group.bench_function(format!("seal/{size}"), |b| {
                b.iter(|| {
                    // The payload stays in place; sealing overwrites it with ciphertext, which
                    // costs the same as fresh plaintext.
                    let n = tx.seal(&mut buf, HEADER_LEN_V2, size).unwrap();
                    black_box(n);
                })
            });

            let mut tx = DataKeys::new(cipher, digest, &block, Role::Client, [1; 32]).unwrap();
            let mut rx = DataKeys::new(cipher, digest, &block, Role::Server, [2; 32]).unwrap();
            let now = now();
            group.bench_function(format!("open/{size}"), |b| {
                b.iter_batched_ref(
                    || {
                        let mut p = [0u8; BUF];
                        p[..4].copy_from_slice(&[0x48, 0, 0, 1]);
                        p[head..head + size].fill(0x5a);
                        let n = tx.seal(&mut p, HEADER_LEN_V2, size).unwrap();
                        (p, n)
                    },
                    |(p, n)| {
                        let range = rx.open(now, &mut p[..*n], HEADER_LEN_V2).unwrap();
                        black_box(range);
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = ceiling, suites }
criterion_main!(benches);
