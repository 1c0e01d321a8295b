//! The measurements behind the choice of implementation per primitive: ring against the
//! RustCrypto crates where both offer it (AES-GCM, HMAC-SHA1/256/512), and the RustCrypto-only
//! primitives for reference (AES-CBC, AES-CTR, Blowfish-CBC, HMAC-MD5).
//!
//! Run: `cargo bench -p ovpn-crypto --bench primitives`.

#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::time::Duration;

use aes::cipher::{BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher, block_padding::NoPadding};
use aes_gcm::AeadInPlace;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::Mac;

const SIZE: usize = 1400;

fn aead(c: &mut Criterion) {
    let mut g = c.benchmark_group("aead_1400");
    g.throughput(Throughput::Bytes(SIZE as u64));
    let mut buf = [0u8; SIZE];
    for (name, alg, len) in [
        ("ring_aes128gcm", &ring::aead::AES_128_GCM, 16),
        ("ring_aes256gcm", &ring::aead::AES_256_GCM, 32),
        ("ring_chacha20poly1305", &ring::aead::CHACHA20_POLY1305, 32),
    ] {
        let key = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(alg, &[7u8; 32][..len]).unwrap(),
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let tag = key
                    .seal_in_place_separate_tag(
                        ring::aead::Nonce::assume_unique_for_key([1; 12]),
                        ring::aead::Aad::from([2u8; 8]),
                        &mut buf,
                    )
                    .unwrap();
                black_box(tag.as_ref()[0]);
            })
        });
    }
    let k128 = aes_gcm::Aes128Gcm::new_from_slice(&[7; 16]).unwrap();
    g.bench_function("rustcrypto_aes128gcm", |b| {
        b.iter(|| {
            black_box(
                k128.encrypt_in_place_detached(&[1; 12].into(), &[2; 8], &mut buf)
                    .unwrap(),
            )
        })
    });
    let k256 = aes_gcm::Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
    g.bench_function("rustcrypto_aes256gcm", |b| {
        b.iter(|| {
            black_box(
                k256.encrypt_in_place_detached(&[1; 12].into(), &[2; 8], &mut buf)
                    .unwrap(),
            )
        })
    });
    let k192 = aes_gcm::AesGcm::<aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(&[7; 24])
        .unwrap();
    g.bench_function("rustcrypto_aes192gcm", |b| {
        b.iter(|| {
            black_box(
                k192.encrypt_in_place_detached(&[1; 12].into(), &[2; 8], &mut buf)
                    .unwrap(),
            )
        })
    });
    g.finish();
}

fn hmacs(c: &mut Criterion) {
    let data = [0x5au8; SIZE];
    let mut g = c.benchmark_group("hmac_1400");
    g.throughput(Throughput::Bytes(SIZE as u64));
    for (name, alg) in [
        ("ring_sha1", ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
        ("ring_sha256", ring::hmac::HMAC_SHA256),
        ("ring_sha512", ring::hmac::HMAC_SHA512),
    ] {
        let key = ring::hmac::Key::new(alg, &[3u8; 64][..alg.digest_algorithm().output_len()]);
        g.bench_function(name, |b| {
            b.iter(|| black_box(ring::hmac::sign(&key, &data)))
        });
    }
    let k1 = <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&[3; 20]).unwrap();
    g.bench_function("rustcrypto_sha1", |b| {
        b.iter(|| {
            let mut m = k1.clone();
            m.update(&data);
            black_box(m.finalize().into_bytes())
        })
    });
    let k256 = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&[3; 32]).unwrap();
    g.bench_function("rustcrypto_sha256", |b| {
        b.iter(|| {
            let mut m = k256.clone();
            m.update(&data);
            black_box(m.finalize().into_bytes())
        })
    });
    let k512 = <hmac::Hmac<sha2::Sha512> as Mac>::new_from_slice(&[3; 64]).unwrap();
    g.bench_function("rustcrypto_sha512", |b| {
        b.iter(|| {
            let mut m = k512.clone();
            m.update(&data);
            black_box(m.finalize().into_bytes())
        })
    });
    let kmd5 = <hmac::Hmac<md5::Md5> as Mac>::new_from_slice(&[3; 16]).unwrap();
    g.bench_function("rustcrypto_md5", |b| {
        b.iter(|| {
            let mut m = kmd5.clone();
            m.update(&data);
            black_box(m.finalize().into_bytes())
        })
    });
    g.finish();
}

fn rustcrypto_only(c: &mut Criterion) {
    let mut g = c.benchmark_group("rustcrypto_1408");
    let mut buf = [0u8; 1408];
    g.throughput(Throughput::Bytes(buf.len() as u64));
    let aes = aes::Aes256::new(&[9u8; 32].into());
    g.bench_function("aes256cbc_encrypt", |b| {
        b.iter(|| {
            let enc = cbc::Encryptor::<&aes::Aes256>::inner_iv_slice_init(&aes, &[1; 16]).unwrap();
            black_box(
                enc.encrypt_padded_mut::<NoPadding>(&mut buf, 1408)
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("aes256cbc_decrypt", |b| {
        use aes::cipher::BlockDecryptMut;
        b.iter(|| {
            let dec = cbc::Decryptor::<&aes::Aes256>::inner_iv_slice_init(&aes, &[1; 16]).unwrap();
            black_box(dec.decrypt_padded_mut::<NoPadding>(&mut buf).unwrap().len())
        })
    });
    let bf = blowfish::Blowfish::new_from_slice(&[9u8; 16]).unwrap();
    g.bench_function("bfcbc_encrypt", |b| {
        b.iter(|| {
            let enc =
                cbc::Encryptor::<&blowfish::Blowfish>::inner_iv_slice_init(&bf, &[1; 8]).unwrap();
            black_box(
                enc.encrypt_padded_mut::<NoPadding>(&mut buf, 1408)
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("aes256ctr", |b| {
        b.iter(|| {
            let mut ctr = ctr::Ctr128BE::<aes::Aes256>::new(&[9u8; 32].into(), &[1u8; 16].into());
            ctr.apply_keystream(&mut buf);
            black_box(buf[0])
        })
    });
    g.finish();
}

use aes::cipher::InnerIvInit;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

criterion_group! { name = benches; config = config(); targets = aead, hmacs, rustcrypto_only }
criterion_main!(benches);
