//! The TLS 1.0/1.1 PRF (RFC 2246 section 5) that OpenVPN's key method 2 uses when the peer
//! cannot do the RFC 5705 exporter: `crypto_openssl.c` `ssl_tls1_PRF` (OpenSSL's
//! `EVP_PKEY_TLS1_PRF` with `EVP_md5_sha1`), `ssl.c` `openvpn_PRF`.

use hmac::{Hmac, Mac};
use zeroize::Zeroize;

type HmacMd5 = Hmac<md5::Md5>;
type HmacSha1 = Hmac<sha1::Sha1>;

/// `P_hash(secret, seed)` XORed into `out` (RFC 2246 5): `A(0) = seed`,
/// `A(i) = HMAC(secret, A(i-1))`, output blocks `HMAC(secret, A(i) || seed)`.
fn p_hash_xor<M: Mac + hmac::digest::KeyInit + Clone>(
    secret: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
) {
    // HMAC accepts keys of any length, so this never fails.
    let Ok(keyed) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
        return;
    };
    // A(1)
    let mut mac = keyed.clone();
    for part in seed {
        mac.update(part);
    }
    let mut a = mac.finalize().into_bytes();
    for chunk in out.chunks_mut(a.len()) {
        let mut mac = keyed.clone();
        mac.update(&a);
        for part in seed {
            mac.update(part);
        }
        let mut block = mac.finalize().into_bytes();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o ^= b;
        }
        block.zeroize();
        let mut mac = keyed.clone();
        mac.update(&a);
        a.zeroize();
        a = mac.finalize().into_bytes();
    }
    a.zeroize();
}

/// `PRF(secret, seed)` = `P_MD5(S1, seed) XOR P_SHA1(S2, seed)` with `S1` the first and `S2`
/// the last `ceil(len/2)` bytes of `secret` (they share the middle byte when the length is odd).
/// `seed` is given in parts (label, randoms, session ids) and hashed as their concatenation.
pub(crate) fn tls1_prf(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    out.fill(0);
    let half = secret.len().div_ceil(2);
    let s1 = secret.get(..half).unwrap_or(secret);
    let s2 = secret.get(secret.len() - half..).unwrap_or(secret);
    p_hash_xor::<HmacMd5>(s1, seed, out);
    p_hash_xor::<HmacSha1>(s2, seed, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/unit_tests/openvpn/test_crypto.c` (OpenVPN 2.6) `crypto_test_tls_prf`: secret
    /// `ipsumlorem`, seed `seedstr`, 32 bytes out, expected `good_prf`.
    #[test]
    fn openvpn_unit_test_vector() {
        let secret = b"Lorem ipsum dolor sit amet, consectetur adipisici elit, sed eiusmod tempor \
                       incidunt ut labore et dolore magna aliqua.";
        let seed = b"Quis aute iure reprehenderit in voluptate velit esse cillum dolore";
        let good_prf = [
            0xd9, 0x8c, 0x85, 0x18, 0xc8, 0x5e, 0x94, 0x69, 0x27, 0x91, 0x6a, 0xcf, 0xc2, 0xd5,
            0x92, 0xfb, 0xb1, 0x56, 0x7e, 0x4b, 0x4b, 0x14, 0x59, 0xe6, 0xa9, 0x04, 0xac, 0x2d,
            0xda, 0xb7, 0x2d, 0x67,
        ];
        let mut out = [0u8; 32];
        tls1_prf(secret, &[seed], &mut out);
        assert_eq!(out, good_prf);
        // The seed may be split anywhere.
        let mut split = [0u8; 32];
        tls1_prf(secret, &[&seed[..7], &seed[7..]], &mut split);
        assert_eq!(split, good_prf);
    }
}
