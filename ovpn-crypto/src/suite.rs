//! Cipher and digest names and their parameters.

use core::fmt;
use core::str::FromStr;

use crate::CryptoError;

/// A data-channel cipher: the CBC ciphers and AEADs RouterOS and OpenVPN 2.6 use, or `none`.
///
/// Parses RouterOS names (`aes256-cbc`, `blowfish128`, `aes128-gcm`, `null`; also RouterOS 7.7's
/// `aes128`/`aes192`/`aes256` for CBC) and OpenVPN names (`AES-256-CBC`, `BF-CBC`,
/// `CHACHA20-POLY1305`, `none`), ignoring case. [`Display`](fmt::Display) gives OpenVPN's name, as
/// OpenVPN writes it in `IV_CIPHERS` and pushed `cipher` options.
///
/// ```
/// use ovpn_crypto::Cipher;
/// let c: Cipher = "aes256-cbc".parse()?;
/// assert_eq!(c, Cipher::Aes256Cbc);
/// assert_eq!(c.to_string(), "AES-256-CBC");
/// assert_eq!("bf-cbc".parse::<Cipher>()?.routeros_name(), Some("blowfish128"));
/// assert!("des-cbc".parse::<Cipher>().is_err());
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cipher {
    /// No encryption (`--cipher none`, RouterOS `null`); packets may still carry an HMAC.
    None,
    /// AES-128 in CBC mode.
    Aes128Cbc,
    /// AES-192 in CBC mode.
    Aes192Cbc,
    /// AES-256 in CBC mode.
    Aes256Cbc,
    /// Blowfish in CBC mode with a 128-bit key (OpenVPN `BF-CBC`, RouterOS `blowfish128`).
    BfCbc,
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-192-GCM.
    Aes192Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439).
    Chacha20Poly1305,
}

impl Cipher {
    /// Every cipher, in a stable order.
    pub const ALL: [Cipher; 9] = [
        Cipher::None,
        Cipher::Aes128Cbc,
        Cipher::Aes192Cbc,
        Cipher::Aes256Cbc,
        Cipher::BfCbc,
        Cipher::Aes128Gcm,
        Cipher::Aes192Gcm,
        Cipher::Aes256Gcm,
        Cipher::Chacha20Poly1305,
    ];

    /// OpenVPN's name (`AES-256-GCM`, `BF-CBC`, `none`).
    pub const fn openvpn_name(self) -> &'static str {
        match self {
            Cipher::None => "none",
            Cipher::Aes128Cbc => "AES-128-CBC",
            Cipher::Aes192Cbc => "AES-192-CBC",
            Cipher::Aes256Cbc => "AES-256-CBC",
            Cipher::BfCbc => "BF-CBC",
            Cipher::Aes128Gcm => "AES-128-GCM",
            Cipher::Aes192Gcm => "AES-192-GCM",
            Cipher::Aes256Gcm => "AES-256-GCM",
            Cipher::Chacha20Poly1305 => "CHACHA20-POLY1305",
        }
    }

    /// RouterOS's name (`aes256-cbc`, `blowfish128`, `null`), or `None` for a cipher RouterOS
    /// does not offer (ChaCha20-Poly1305).
    pub const fn routeros_name(self) -> Option<&'static str> {
        Some(match self {
            Cipher::None => "null",
            Cipher::Aes128Cbc => "aes128-cbc",
            Cipher::Aes192Cbc => "aes192-cbc",
            Cipher::Aes256Cbc => "aes256-cbc",
            Cipher::BfCbc => "blowfish128",
            Cipher::Aes128Gcm => "aes128-gcm",
            Cipher::Aes192Gcm => "aes192-gcm",
            Cipher::Aes256Gcm => "aes256-gcm",
            Cipher::Chacha20Poly1305 => return None,
        })
    }

    /// Key length in bytes, taken from the start of the 64-byte cipher slot of a key
    /// (`crypto_openssl.c` `cipher_kt_key_size`: OpenSSL's default key length; BF-CBC is 16).
    pub const fn key_len(self) -> usize {
        match self {
            Cipher::None => 0,
            Cipher::Aes128Cbc | Cipher::Aes128Gcm | Cipher::BfCbc => 16,
            Cipher::Aes192Cbc | Cipher::Aes192Gcm => 24,
            Cipher::Aes256Cbc | Cipher::Aes256Gcm | Cipher::Chacha20Poly1305 => 32,
        }
    }

    /// IV length in bytes: the block size for CBC, 12 for the AEADs (of which 4 are the packet
    /// id and 8 the implicit IV, `crypto.h` `OPENVPN_AEAD_MIN_IV_LEN`), 0 for `none`.
    pub const fn iv_len(self) -> usize {
        match self {
            Cipher::None => 0,
            Cipher::BfCbc => 8,
            Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc => 16,
            Cipher::Aes128Gcm
            | Cipher::Aes192Gcm
            | Cipher::Aes256Gcm
            | Cipher::Chacha20Poly1305 => 12,
        }
    }

    /// Block size in bytes (1 for the AEADs, which are stream modes, and for `none`).
    pub const fn block_size(self) -> usize {
        match self {
            Cipher::BfCbc => 8,
            Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc => 16,
            _ => 1,
        }
    }

    /// True for the AEAD ciphers (GCM, ChaCha20-Poly1305), which ignore `--auth`.
    pub const fn is_aead(self) -> bool {
        matches!(
            self,
            Cipher::Aes128Gcm | Cipher::Aes192Gcm | Cipher::Aes256Gcm | Cipher::Chacha20Poly1305
        )
    }

    /// True for the CBC ciphers.
    pub const fn is_cbc(self) -> bool {
        matches!(
            self,
            Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc | Cipher::BfCbc
        )
    }

    /// True for ciphers with a 64-bit block (BF-CBC), for which OpenVPN limits a key's use to
    /// 64 MB (`ssl.c` `tls_limit_reneg_bytes`).
    pub const fn is_64bit_block(self) -> bool {
        matches!(self, Cipher::BfCbc)
    }
}

impl fmt::Display for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openvpn_name())
    }
}

impl FromStr for Cipher {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        for c in Cipher::ALL {
            if s.eq_ignore_ascii_case(c.openvpn_name())
                || c.routeros_name().is_some_and(|r| s.eq_ignore_ascii_case(r))
            {
                return Ok(c);
            }
        }
        // Other spellings seen in the wild: RouterOS 7.7 `aes128`.. for CBC, OpenSSL's long
        // Blowfish name, `null` for none.
        const ALIASES: [(&str, Cipher); 4] = [
            ("aes128", Cipher::Aes128Cbc),
            ("aes192", Cipher::Aes192Cbc),
            ("aes256", Cipher::Aes256Cbc),
            ("blowfish-cbc", Cipher::BfCbc),
        ];
        ALIASES
            .iter()
            .find(|(name, _)| s.eq_ignore_ascii_case(name))
            .map(|&(_, c)| c)
            .ok_or(CryptoError::UnknownCipher)
    }
}

/// An HMAC digest for CBC suites, `--cipher none` and tls-auth, or `none`.
///
/// Parses RouterOS (`sha1`, `null`) and OpenVPN (`SHA1`, `none`) names, ignoring case;
/// [`Display`](fmt::Display) gives OpenVPN's name.
///
/// ```
/// use ovpn_crypto::Digest;
/// assert_eq!("sha256".parse::<Digest>()?, Digest::Sha256);
/// assert_eq!("null".parse::<Digest>()?, Digest::None);
/// assert_eq!(Digest::Sha512.len(), 64);
/// assert_eq!(Digest::Sha1.to_string(), "SHA1");
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// No HMAC (`--auth none`, RouterOS `null`).
    None,
    /// HMAC-MD5 (16 bytes).
    Md5,
    /// HMAC-SHA1 (20 bytes), OpenVPN's default `--auth`.
    Sha1,
    /// HMAC-SHA256 (32 bytes).
    Sha256,
    /// HMAC-SHA384 (48 bytes).
    Sha384,
    /// HMAC-SHA512 (64 bytes).
    Sha512,
}

impl Digest {
    /// Every digest, in a stable order.
    pub const ALL: [Digest; 6] = [
        Digest::None,
        Digest::Md5,
        Digest::Sha1,
        Digest::Sha256,
        Digest::Sha384,
        Digest::Sha512,
    ];

    /// OpenVPN's name (`SHA1`, `none`).
    pub const fn openvpn_name(self) -> &'static str {
        match self {
            Digest::None => "none",
            Digest::Md5 => "MD5",
            Digest::Sha1 => "SHA1",
            Digest::Sha256 => "SHA256",
            Digest::Sha384 => "SHA384",
            Digest::Sha512 => "SHA512",
        }
    }

    /// RouterOS's name (`sha1`, `null`), or `None` for SHA384, which RouterOS does not offer.
    pub const fn routeros_name(self) -> Option<&'static str> {
        Some(match self {
            Digest::None => "null",
            Digest::Md5 => "md5",
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => return None,
            Digest::Sha512 => "sha512",
        })
    }

    /// Output length in bytes, which is also the HMAC key length OpenVPN takes from the
    /// 64-byte HMAC slot (`crypto_openssl.c` `hmac_ctx_init`: key length = `EVP_MD_size`).
    #[allow(
        clippy::len_without_is_empty,
        reason = "a digest has a length, not contents"
    )]
    pub const fn len(self) -> usize {
        match self {
            Digest::None => 0,
            Digest::Md5 => 16,
            Digest::Sha1 => 20,
            Digest::Sha256 => 32,
            Digest::Sha384 => 48,
            Digest::Sha512 => 64,
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openvpn_name())
    }
}

impl FromStr for Digest {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        for d in Digest::ALL {
            if s.eq_ignore_ascii_case(d.openvpn_name())
                || d.routeros_name().is_some_and(|r| s.eq_ignore_ascii_case(r))
            {
                return Ok(d);
            }
        }
        // OpenSSL also spells these with a dash.
        const ALIASES: [(&str, Digest); 4] = [
            ("sha-1", Digest::Sha1),
            ("sha-256", Digest::Sha256),
            ("sha-384", Digest::Sha384),
            ("sha-512", Digest::Sha512),
        ];
        ALIASES
            .iter()
            .find(|(name, _)| s.eq_ignore_ascii_case(name))
            .map(|&(_, d)| d)
            .ok_or(CryptoError::UnknownDigest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for c in Cipher::ALL {
            assert_eq!(c.openvpn_name().parse::<Cipher>(), Ok(c));
            assert_eq!(c.to_string().to_lowercase().parse::<Cipher>(), Ok(c));
            if let Some(r) = c.routeros_name() {
                assert_eq!(r.parse::<Cipher>(), Ok(c));
                assert_eq!(r.to_uppercase().parse::<Cipher>(), Ok(c));
            }
        }
        for d in Digest::ALL {
            assert_eq!(d.openvpn_name().parse::<Digest>(), Ok(d));
            if let Some(r) = d.routeros_name() {
                assert_eq!(r.parse::<Digest>(), Ok(d));
            }
        }
    }

    #[test]
    fn routeros_and_openvpn_spellings() {
        assert_eq!("blowfish128".parse::<Cipher>(), Ok(Cipher::BfCbc));
        assert_eq!("BF-CBC".parse::<Cipher>(), Ok(Cipher::BfCbc));
        assert_eq!("aes256".parse::<Cipher>(), Ok(Cipher::Aes256Cbc));
        assert_eq!("null".parse::<Cipher>(), Ok(Cipher::None));
        assert_eq!("none".parse::<Cipher>(), Ok(Cipher::None));
        assert_eq!(
            "ChaCha20-Poly1305".parse::<Cipher>(),
            Ok(Cipher::Chacha20Poly1305)
        );
        assert_eq!("Sha512".parse::<Digest>(), Ok(Digest::Sha512));
        assert_eq!("none".parse::<Digest>(), Ok(Digest::None));
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = "aes512-cbc".parse::<Cipher>().unwrap_err();
        assert_eq!(e, CryptoError::UnknownCipher);
        let msg = e.to_string();
        for c in Cipher::ALL {
            assert!(msg.contains(c.openvpn_name()), "{msg} lacks {c}");
            if let Some(r) = c.routeros_name() {
                assert!(msg.contains(r), "{msg} lacks {r}");
            }
        }
        let msg = "sha3".parse::<Digest>().unwrap_err().to_string();
        for d in Digest::ALL {
            assert!(
                msg.to_lowercase()
                    .contains(&d.openvpn_name().to_lowercase())
            );
        }
    }

    #[test]
    fn parameters_match_openssl() {
        // EVP_CIPHER_key_length / iv_length / block_size of the OpenSSL ciphers OpenVPN names.
        let table = [
            (Cipher::Aes128Cbc, 16, 16, 16, false),
            (Cipher::Aes192Cbc, 24, 16, 16, false),
            (Cipher::Aes256Cbc, 32, 16, 16, false),
            (Cipher::BfCbc, 16, 8, 8, false),
            (Cipher::Aes128Gcm, 16, 12, 1, true),
            (Cipher::Aes192Gcm, 24, 12, 1, true),
            (Cipher::Aes256Gcm, 32, 12, 1, true),
            (Cipher::Chacha20Poly1305, 32, 12, 1, true),
        ];
        for (c, key, iv, block, aead) in table {
            assert_eq!(
                (c.key_len(), c.iv_len(), c.block_size(), c.is_aead()),
                (key, iv, block, aead),
                "{c}"
            );
        }
        let lens: Vec<usize> = Digest::ALL.iter().map(|d| d.len()).collect();
        assert_eq!(lens, [0, 16, 20, 32, 48, 64]);
    }
}
