//! HMAC keys, each digest from the faster of ring and RustCrypto on x86-64 with SHA-NI
//! (`benches/primitives.rs`, 1400-byte HMAC): SHA1 and SHA256 from RustCrypto `hmac` + `sha1`/
//! `sha2` (ring's SHA1 does not use the SHA extensions: 3.7x slower; SHA256 ~13% slower), SHA384
//! and SHA512 from ring (~11% faster), MD5 from RustCrypto (ring has no MD5).

use hmac::Mac as _;
use subtle::ConstantTimeEq;

use crate::Digest;

/// Longest digest (SHA512; `crypto_backend.h` `OPENVPN_MAX_HMAC_SIZE` = 64).
pub(crate) const MAX_MAC_LEN: usize = 64;

#[derive(Clone)]
pub(crate) enum HmacKey {
    Ring(ring::hmac::Key, usize),
    Sha1(hmac::Hmac<sha1::Sha1>),
    Sha256(hmac::Hmac<sha2::Sha256>),
    Md5(hmac::Hmac<md5::Md5>),
}

/// HMAC over `parts` with a RustCrypto key, written to the front of `out`.
fn rustcrypto_sign<M: hmac::Mac + Clone>(mac: &M, parts: &[&[u8]], out: &mut [u8]) {
    let mut mac = mac.clone();
    for p in parts {
        mac.update(p);
    }
    let tag = mac.finalize().into_bytes();
    if let Some(dst) = out.get_mut(..tag.len()) {
        dst.copy_from_slice(&tag);
    }
}

impl HmacKey {
    /// A key from the first `digest.len()` bytes of `slot` (`crypto_openssl.c` `hmac_ctx_init`).
    /// `None` for `Digest::None` or a slot that is too short.
    pub(crate) fn new(digest: Digest, slot: &[u8]) -> Option<Self> {
        let key = slot.get(..digest.len())?;
        Some(match digest {
            Digest::None => return None,
            Digest::Md5 => HmacKey::Md5(hmac::Hmac::new_from_slice(key).ok()?),
            Digest::Sha1 => HmacKey::Sha1(hmac::Hmac::new_from_slice(key).ok()?),
            Digest::Sha256 => HmacKey::Sha256(hmac::Hmac::new_from_slice(key).ok()?),
            Digest::Sha384 => HmacKey::Ring(ring::hmac::Key::new(ring::hmac::HMAC_SHA384, key), 48),
            Digest::Sha512 => HmacKey::Ring(ring::hmac::Key::new(ring::hmac::HMAC_SHA512, key), 64),
        })
    }

    /// Tag length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            HmacKey::Ring(_, len) => *len,
            HmacKey::Sha1(_) => 20,
            HmacKey::Sha256(_) => 32,
            HmacKey::Md5(_) => 16,
        }
    }

    /// HMAC over the concatenation of `parts`, written to `out[..len]` (`out` must be at least
    /// `len` long; the caller checks).
    pub(crate) fn sign(&self, parts: &[&[u8]], out: &mut [u8]) {
        match self {
            HmacKey::Ring(key, _) => {
                let mut ctx = ring::hmac::Context::with_key(key);
                for p in parts {
                    ctx.update(p);
                }
                let tag = ctx.sign();
                let tag = tag.as_ref();
                if let Some(dst) = out.get_mut(..tag.len()) {
                    dst.copy_from_slice(tag);
                }
            }
            HmacKey::Sha1(mac) => rustcrypto_sign(mac, parts, out),
            HmacKey::Sha256(mac) => rustcrypto_sign(mac, parts, out),
            HmacKey::Md5(mac) => rustcrypto_sign(mac, parts, out),
        }
    }

    /// Constant-time check of `tag` against the HMAC of `parts` (`crypto_openssl.c`
    /// `memcmp_constant_time`).
    pub(crate) fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let mut computed = [0u8; MAX_MAC_LEN];
        self.sign(parts, &mut computed);
        let len = self.len();
        tag.len() == len && bool::from(computed[..len].ct_eq(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/unit_tests/openvpn/test_crypto.c` (OpenVPN 2.6) `crypto_test_hmac`: HMAC-SHA1
    /// with key `testkey` (0x0b then zeros, 20 bytes) over `ipsumlorem` twice.
    #[test]
    fn openvpn_hmac_sha1_vector() {
        let ipsumlorem: &[u8] = b"Lorem ipsum dolor sit amet, consectetur adipisici elit, sed \
                                  eiusmod tempor incidunt ut labore et dolore magna aliqua.";
        let mut key = [0u8; 64];
        key[0] = 0x0b;
        let goodhash = [
            0x58, 0xea, 0x5a, 0xf0, 0x42, 0x94, 0xe9, 0x17, 0xed, 0x84, 0xb9, 0xf0, 0x83, 0x30,
            0x23, 0xae, 0x8b, 0xa7, 0x7e, 0xb8,
        ];
        let mac = HmacKey::new(Digest::Sha1, &key).unwrap();
        let mut out = [0u8; MAX_MAC_LEN];
        mac.sign(&[ipsumlorem, ipsumlorem], &mut out);
        assert_eq!(out[..20], goodhash);
        assert!(mac.verify(&[ipsumlorem, ipsumlorem], &goodhash));
        let mut bad = goodhash;
        bad[19] ^= 1;
        assert!(!mac.verify(&[ipsumlorem, ipsumlorem], &bad));
        assert!(!mac.verify(&[ipsumlorem, ipsumlorem], &goodhash[..19]));
    }

    /// RFC 2202 test case 2 for HMAC-MD5 (the one digest not from ring).
    #[test]
    fn rfc2202_hmac_md5() {
        // OpenVPN passes a 64-byte slot and the digest length; "Jefe" padded with zeros gives
        // the same HMAC (HMAC zero-pads short keys).
        let mut slot = [0u8; 64];
        slot[..4].copy_from_slice(b"Jefe");
        let mac = HmacKey::new(Digest::Md5, &slot).unwrap();
        let mut out = [0u8; MAX_MAC_LEN];
        mac.sign(&[b"what do ya want ", b"for nothing?"], &mut out);
        assert_eq!(
            out[..16],
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d,
                0xb7, 0x38
            ]
        );
    }
}
