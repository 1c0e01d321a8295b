//! Private keys: generation, import (PKCS#8 plain/encrypted, PKCS#1, SEC1), encrypted export, and
//! the rcgen signer.
//!
//! Keys are kept as unencrypted PKCS#8 v1 DER (the form ring and rustls take), zeroized on drop.
//! Randomness (RSA primes, EC scalars, salts, IVs) comes from ring's `SystemRandom`, the operating
//! system's generator: key generation is not on the data path, so it is not injected.

use core::fmt;

use pkcs8::der::asn1::{AnyRef, BitStringRef};
use pkcs8::der::{Decode, Encode};
use pkcs8::spki;
use pkcs8::{AlgorithmIdentifierRef, ObjectIdentifier, PrivateKeyInfo};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::PkiError;
use crate::template::{DigestAlgorithm, KeySize};

/// rsaEncryption (RFC 8017).
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480).
pub(crate) const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// PBKDF2 iterations for exported keys. OpenSSL's `pkcs8 -topk8` uses 2048; we use more, since
/// the exported file may travel by e-mail or FTP and its passphrase is typed by people.
pub const EXPORT_PBKDF2_ITERATIONS: u32 = 100_000;

/// A named elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// NIST P-256 (`prime256v1`).
    P256,
    /// NIST P-384 (`secp384r1`).
    P384,
    /// NIST P-521 (`secp521r1`).
    P521,
}

impl Curve {
    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            OID_P256 => Some(Self::P256),
            OID_P384 => Some(Self::P384),
            OID_P521 => Some(Self::P521),
            _ => None,
        }
    }

    /// RouterOS's name (`prime256v1`, `secp384r1`, `secp521r1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P256 => "prime256v1",
            Self::P384 => "secp384r1",
            Self::P521 => "secp521r1",
        }
    }
}

/// The type and size of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA with this many modulus bits.
    Rsa {
        /// Modulus size in bits.
        bits: u32,
    },
    /// ECDSA on a named curve.
    Ec(Curve),
    /// Another algorithm (e.g. Ed25519, DSA): stored and printed, but never used for signing.
    Other,
}

impl KeyType {
    /// RouterOS's `key-type` (`rsa`, `ec`; `other` for the rest).
    pub fn type_str(self) -> &'static str {
        match self {
            Self::Rsa { .. } => "rsa",
            Self::Ec(_) => "ec",
            Self::Other => "other",
        }
    }

    /// RouterOS's `key-size` (`2048`, `prime256v1`, ...).
    pub fn size_str(self) -> String {
        match self {
            Self::Rsa { bits } => bits.to_string(),
            Self::Ec(c) => c.as_str().to_owned(),
            Self::Other => "unknown".to_owned(),
        }
    }

    /// Reads the key type from a DER SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &spki::SubjectPublicKeyInfoRef<'_>) -> Self {
        if spki.algorithm.oid == OID_RSA {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .and_then(|b| pkcs1::RsaPublicKey::from_der(b).ok())
                .map(|k| uint_bits(k.modulus.as_bytes()))
                .unwrap_or(0);
            Self::Rsa { bits }
        } else if spki.algorithm.oid == OID_EC {
            match spki
                .algorithm
                .parameters_oid()
                .ok()
                .and_then(Curve::from_oid)
            {
                Some(c) => Self::Ec(c),
                None => Self::Other,
            }
        } else {
            Self::Other
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.type_str(), self.size_str())
    }
}

fn uint_bits(be: &[u8]) -> u32 {
    let Some(pos) = be.iter().position(|b| *b != 0) else {
        return 0;
    };
    let rest = u32::try_from(be.len() - pos).unwrap_or(u32::MAX / 8);
    let lead = be.get(pos).copied().unwrap_or(0);
    rest.saturating_sub(1) * 8 + (8 - lead.leading_zeros())
}

/// A private key, unencrypted PKCS#8 v1 DER, with its public key.
#[derive(Clone)]
pub(crate) struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    key_type: KeyType,
    /// DER SubjectPublicKeyInfo of the matching public key.
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

/// rand_core 0.6 (what the `rsa` crate takes) over ring's `SystemRandom`. `fill_bytes` cannot
/// fail, so a failure is remembered and checked after use.
struct SysRng<'a> {
    rng: &'a SystemRandom,
    failed: bool,
}

impl rsa::rand_core::RngCore for SysRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.rng.fill(dest).is_err() {
            self.failed = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        if self.failed {
            const FAILED: core::num::NonZeroU32 =
                match core::num::NonZeroU32::new(rsa::rand_core::Error::CUSTOM_START) {
                    Some(v) => v,
                    None => core::num::NonZeroU32::MIN,
                };
            Err(FAILED.into())
        } else {
            Ok(())
        }
    }
}

impl rsa::rand_core::CryptoRng for SysRng<'_> {}

/// Fills `buf` from the OS generator.
pub(crate) fn random(rng: &SystemRandom, buf: &mut [u8]) -> Result<(), PkiError> {
    rng.fill(buf).map_err(|_| PkiError::Rng)
}

fn spki_der(
    alg: ObjectIdentifier,
    params: Option<AnyRef<'_>>,
    key: &[u8],
) -> Result<Vec<u8>, String> {
    spki::SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: alg,
            parameters: params,
        },
        subject_public_key: BitStringRef::from_bytes(key).map_err(|e| e.to_string())?,
    }
    .to_der()
    .map_err(|e| e.to_string())
}

/// Why a key could not be read (the caller adds the file name).
#[derive(Debug)]
pub(crate) enum KeyError {
    Malformed(String),
    Unsupported(String),
    WrongPassphrase,
    PassphraseRequired,
}

impl KeyError {
    pub(crate) fn into_pki(self, file: &str) -> PkiError {
        match self {
            Self::Malformed(r) => PkiError::malformed(file, "private key", r),
            Self::Unsupported(w) => PkiError::unsupported(format!("{file}: {w}")),
            Self::WrongPassphrase => PkiError::WrongPassphrase {
                file: file.to_owned(),
            },
            Self::PassphraseRequired => PkiError::PassphraseRequired {
                file: file.to_owned(),
            },
        }
    }
}

fn malformed(e: impl ToString) -> KeyError {
    KeyError::Malformed(e.to_string())
}

impl PrivateKey {
    /// Generates a key for `size`. RSA uses the `rsa` crate (ring cannot generate RSA keys), EC
    /// uses ring.
    pub(crate) fn generate(size: KeySize, rng: &SystemRandom) -> Result<Self, PkiError> {
        let pkcs8: Zeroizing<Vec<u8>> = if let Some(bits) = size.rsa_bits() {
            let mut r = SysRng { rng, failed: false };
            let key = rsa::RsaPrivateKey::new(&mut r, bits)
                .map_err(|e| PkiError::Crypto(format!("RSA key generation: {e}")))?;
            if r.failed {
                return Err(PkiError::Rng);
            }
            use rsa::pkcs8::EncodePrivateKey;
            let doc = key
                .to_pkcs8_der()
                .map_err(|e| PkiError::Crypto(format!("RSA key encoding: {e}")))?;
            Zeroizing::new(doc.as_bytes().to_vec())
        } else {
            let alg = match size {
                KeySize::Prime256v1 => &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                KeySize::Secp384r1 => &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                _ => {
                    return Err(PkiError::unsupported(format!(
                        "key-size={size}: ring (this workspace's crypto provider) has no P-521"
                    )));
                }
            };
            let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, rng)
                .map_err(|_| PkiError::Crypto("EC key generation failed".into()))?;
            Zeroizing::new(doc.as_ref().to_vec())
        };
        Self::from_pkcs8_der(&pkcs8)
            .map_err(|e| PkiError::Crypto(format!("generated key unreadable: {e:?}")))
    }

    /// Reads an unencrypted PKCS#8 key (v1 or v2) and normalises it to v1 with canonical
    /// algorithm parameters.
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfo::from_der(der).map_err(malformed)?;
        if info.algorithm.oid == OID_RSA {
            Self::rsa_from_pkcs1(info.private_key)
        } else if info.algorithm.oid == OID_EC {
            let outer = info.algorithm.parameters_oid().ok();
            Self::ec_from_sec1(info.private_key, outer)
        } else {
            Err(KeyError::Unsupported(format!(
                "private key algorithm {} (only RSA and EC keys are supported)",
                info.algorithm.oid
            )))
        }
    }

    /// Reads a PKCS#1 `RSA PRIVATE KEY`.
    pub(crate) fn rsa_from_pkcs1(der: &[u8]) -> Result<Self, KeyError> {
        let key = pkcs1::RsaPrivateKey::from_der(der).map_err(malformed)?;
        let bits = uint_bits(key.modulus.as_bytes());
        let public = key.public_key().to_der().map_err(malformed)?;
        let spki = spki_der(OID_RSA, Some(AnyRef::NULL), &public).map_err(KeyError::Malformed)?;
        let pkcs8 = PrivateKeyInfo {
            algorithm: AlgorithmIdentifierRef {
                oid: OID_RSA,
                parameters: Some(AnyRef::NULL),
            },
            private_key: der,
            public_key: None,
        }
        .to_der()
        .map_err(malformed)?;
        let k = Self {
            pkcs8: Zeroizing::new(pkcs8),
            key_type: KeyType::Rsa { bits },
            spki,
        };
        k.validate()?;
        Ok(k)
    }

    /// Reads a SEC1 `EC PRIVATE KEY`; `outer_curve` is the PKCS#8 algorithm parameter, if any.
    pub(crate) fn ec_from_sec1(
        der: &[u8],
        outer_curve: Option<ObjectIdentifier>,
    ) -> Result<Self, KeyError> {
        let key = sec1::EcPrivateKey::from_der(der).map_err(malformed)?;
        let inner = key.parameters.and_then(|p| p.named_curve());
        let oid = match (outer_curve, inner) {
            (Some(a), Some(b)) if a != b => {
                return Err(KeyError::Malformed(
                    "curve in PKCS#8 and SEC1 parameters differ".into(),
                ));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                return Err(KeyError::Malformed("EC key names no curve".into()));
            }
        };
        let curve =
            Curve::from_oid(oid).ok_or_else(|| KeyError::Unsupported(format!("EC curve {oid}")))?;
        let public = key
            .public_key
            .ok_or_else(|| KeyError::Unsupported("EC private key without its public key".into()))?;
        let oid_any = AnyRef::from(&oid);
        let spki = spki_der(OID_EC, Some(oid_any), public).map_err(KeyError::Malformed)?;
        // ring wants the inner ECPrivateKey without parameters (or with the same ones) and with
        // the public key: re-encode it that way.
        let inner = Zeroizing::new(
            sec1::EcPrivateKey {
                private_key: key.private_key,
                parameters: None,
                public_key: Some(public),
            }
            .to_der()
            .map_err(malformed)?,
        );
        let pkcs8 = PrivateKeyInfo {
            algorithm: AlgorithmIdentifierRef {
                oid: OID_EC,
                parameters: Some(oid_any),
            },
            private_key: &inner,
            public_key: None,
        }
        .to_der()
        .map_err(malformed)?;
        let k = Self {
            pkcs8: Zeroizing::new(pkcs8),
            key_type: KeyType::Ec(curve),
            spki,
        };
        k.validate()?;
        Ok(k)
    }

    /// Decrypts an `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2).
    pub(crate) fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &str) -> Result<Self, KeyError> {
        let enc = pkcs8::EncryptedPrivateKeyInfo::from_der(der).map_err(malformed)?;
        if passphrase.is_empty() {
            return Err(KeyError::PassphraseRequired);
        }
        let doc = enc.decrypt(passphrase).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm {
                oid,
            }) => KeyError::Unsupported(format!("key encryption algorithm {oid}")),
            pkcs8::Error::EncryptedPrivateKey(
                pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid },
            ) => KeyError::Unsupported(format!("key encryption parameters for {oid}")),
            _ => KeyError::WrongPassphrase,
        })?;
        // A wrong passphrase can still unpad by chance; the PKCS#8 parse then fails.
        Self::from_pkcs8_der(doc.as_bytes()).map_err(|e| match e {
            KeyError::Malformed(_) => KeyError::WrongPassphrase,
            other => other,
        })
    }

    /// Checks that the private key is consistent with its public key, as far as the crypto
    /// libraries can (ring for RSA 2048..=4096 and P-256/P-384, the `rsa` crate for other RSA
    /// sizes; P-521 is not checked).
    fn validate(&self) -> Result<(), KeyError> {
        let rejected =
            |e: ring::error::KeyRejected| KeyError::Malformed(format!("key rejected: {e}"));
        match self.key_type {
            KeyType::Rsa { bits } if (2048..=4096).contains(&bits) => {
                ring::signature::RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(rejected)?;
            }
            KeyType::Rsa { bits } if (512..=16384).contains(&bits) => {
                use rsa::pkcs8::DecodePrivateKey;
                let key = rsa::RsaPrivateKey::from_pkcs8_der(&self.pkcs8).map_err(malformed)?;
                key.validate().map_err(malformed)?;
            }
            KeyType::Rsa { bits } => {
                return Err(KeyError::Unsupported(format!("RSA key of {bits} bits")));
            }
            KeyType::Ec(c @ (Curve::P256 | Curve::P384)) => {
                let alg = if c == Curve::P256 {
                    &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING
                } else {
                    &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING
                };
                ring::signature::EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8, &SystemRandom::new())
                    .map_err(rejected)?;
            }
            KeyType::Ec(_) | KeyType::Other => {}
        }
        Ok(())
    }

    pub(crate) fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// DER SubjectPublicKeyInfo.
    pub(crate) fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// Unencrypted PKCS#8 DER.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Encrypts as PKCS#8 PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) PEM, `ENCRYPTED PRIVATE KEY`.
    pub(crate) fn to_encrypted_pem(
        &self,
        passphrase: &str,
        iterations: u32,
        rng: &SystemRandom,
    ) -> Result<Zeroizing<String>, PkiError> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        random(rng, &mut salt)?;
        random(rng, &mut iv)?;
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv)
                .map_err(|e| PkiError::Crypto(format!("PBES2 parameters: {e}")))?;
        let info = PrivateKeyInfo::from_der(&self.pkcs8)
            .map_err(|e| PkiError::Crypto(format!("key re-read: {e}")))?;
        let doc = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| PkiError::Crypto(format!("key encryption: {e}")))?;
        doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| PkiError::Crypto(format!("PEM encoding: {e}")))
    }

    /// Unencrypted PKCS#8 PEM, `PRIVATE KEY`.
    pub(crate) fn to_pem(&self) -> Result<Zeroizing<String>, PkiError> {
        pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::LineEnding::LF, &self.pkcs8)
            .map(Zeroizing::new)
            .map_err(|e| PkiError::Crypto(format!("PEM encoding: {e}")))
    }

    /// The rcgen signer for this key with `digest` (`None`: the key's natural digest).
    pub(crate) fn signer(
        &self,
        digest: Option<DigestAlgorithm>,
    ) -> Result<rcgen::KeyPair, PkiError> {
        let refuse = |what: String| Err(PkiError::unsupported(what));
        match self.key_type {
            KeyType::Rsa { bits } => {
                let d = digest.unwrap_or(DigestAlgorithm::Sha256);
                let alg = match d {
                    DigestAlgorithm::Sha256 => &rcgen::PKCS_RSA_SHA256,
                    DigestAlgorithm::Sha384 => &rcgen::PKCS_RSA_SHA384,
                    DigestAlgorithm::Sha512 => &rcgen::PKCS_RSA_SHA512,
                    DigestAlgorithm::Md5 | DigestAlgorithm::Sha1 => {
                        return refuse(format!(
                            "digest-algorithm={d}: OpenSSL 3 and rustls refuse such signatures"
                        ));
                    }
                };
                if (2048..=4096).contains(&bits) {
                    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
                        &rustls_pki_types::PrivatePkcs8KeyDer::from(&self.pkcs8[..]),
                        alg,
                    )
                    .map_err(|e| PkiError::Crypto(format!("signing key: {e}")))
                } else {
                    // ring signs only with 2048..=4096-bit keys; the `rsa` crate does the rest.
                    let remote = RsaSigner::new(&self.pkcs8, d, alg)?;
                    rcgen::KeyPair::from_remote(Box::new(remote))
                        .map_err(|e| PkiError::Crypto(format!("signing key: {e}")))
                }
            }
            KeyType::Ec(curve) => {
                let (alg, natural) = match curve {
                    Curve::P256 => (&rcgen::PKCS_ECDSA_P256_SHA256, DigestAlgorithm::Sha256),
                    Curve::P384 => (&rcgen::PKCS_ECDSA_P384_SHA384, DigestAlgorithm::Sha384),
                    Curve::P521 => {
                        return refuse(
                            "signing with a secp521r1 key: ring has no P-521".to_owned(),
                        );
                    }
                };
                if let Some(d) = digest.filter(|d| *d != natural) {
                    return refuse(format!(
                        "digest-algorithm={d} with a {} key: ring signs it only with {natural}",
                        curve.as_str()
                    ));
                }
                rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
                    &rustls_pki_types::PrivatePkcs8KeyDer::from(&self.pkcs8[..]),
                    alg,
                )
                .map_err(|e| PkiError::Crypto(format!("signing key: {e}")))
            }
            KeyType::Other => refuse("signing with this key type".to_owned()),
        }
    }
}

/// RSA signing with the `rsa` crate, for key sizes ring refuses (1024, 1536, 8192).
struct RsaSigner {
    key: rsa::RsaPrivateKey,
    public_raw: Vec<u8>,
    digest: DigestAlgorithm,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl RsaSigner {
    fn new(
        pkcs8: &[u8],
        digest: DigestAlgorithm,
        alg: &'static rcgen::SignatureAlgorithm,
    ) -> Result<Self, PkiError> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8)
            .map_err(|e| PkiError::Crypto(format!("RSA key: {e}")))?;
        let public_raw = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| PkiError::Crypto(format!("RSA public key: {e}")))?
            .into_vec();
        Ok(Self {
            key,
            public_raw,
            digest,
            alg,
        })
    }
}

impl rcgen::RemoteKeyPair for RsaSigner {
    fn public_key(&self) -> &[u8] {
        &self.public_raw
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        use rsa::signature::{SignatureEncoding, Signer};
        let sig = match self.digest {
            DigestAlgorithm::Sha384 => {
                rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new(self.key.clone())
                    .try_sign(msg)
                    .map(|s| s.to_vec())
            }
            DigestAlgorithm::Sha512 => {
                rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(self.key.clone())
                    .try_sign(msg)
                    .map(|s| s.to_vec())
            }
            _ => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone())
                .try_sign(msg)
                .map(|s| s.to_vec()),
        };
        sig.map_err(|_| rcgen::Error::RemoteKeyError)
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// Whether two DER SubjectPublicKeyInfos carry the same key (same algorithm, parameters for EC,
/// and key bits), whatever the encoding of absent/NULL RSA parameters.
pub(crate) fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    let (Ok(a), Ok(b)) = (
        spki::SubjectPublicKeyInfoRef::from_der(a),
        spki::SubjectPublicKeyInfoRef::from_der(b),
    ) else {
        return false;
    };
    if a.algorithm.oid != b.algorithm.oid || a.subject_public_key != b.subject_public_key {
        return false;
    }
    a.algorithm.oid == OID_RSA || a.algorithm.parameters == b.algorithm.parameters
}
