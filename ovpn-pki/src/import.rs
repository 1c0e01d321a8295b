//! Reading an import file: PEM blocks or one DER structure, into certificates, keys and CRLs.

use pkcs8::der::asn1::AnyRef;
use pkcs8::der::{Decode, Reader, SliceReader, Tag, Tagged};
use pkcs8::pkcs5::{EncryptionScheme, pbes2};

use crate::error::PkiError;
use crate::key::{KeyError, PrivateKey};
use crate::pem::{self, BlockError};
use crate::settings::StoreSettings;

/// What one file holds.
#[derive(Default)]
pub(crate) struct Items {
    pub(crate) certs: Vec<Vec<u8>>,
    pub(crate) keys: Vec<PrivateKey>,
    pub(crate) crls: Vec<Vec<u8>>,
}

impl Items {
    fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.keys.is_empty() && self.crls.is_empty()
    }
}

/// Reads `data` (the contents of `file`).
pub(crate) fn read(
    file: &str,
    data: &[u8],
    passphrase: &str,
    settings: &StoreSettings,
) -> Result<Items, PkiError> {
    let mut items = Items::default();
    let key_err = |e: KeyError| e.into_pki(file);
    if pem::is_pem(data) {
        let blocks = pem::blocks(data).map_err(|r| PkiError::malformed(file, "PEM", r))?;
        for block in blocks {
            let decode = || {
                block.decode().map_err(|e| match e {
                    BlockError::LegacyEncrypted => PkiError::unsupported(format!(
                        "{file}: legacy OpenSSL key encryption (Proc-Type/DEK-Info); convert it \
                         with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    )),
                    BlockError::Malformed(r) => PkiError::malformed(file, "PEM", r),
                })
            };
            match block.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => items.certs.push(decode()?.to_vec()),
                "X509 CRL" => items.crls.push(decode()?.to_vec()),
                "PRIVATE KEY" => items
                    .keys
                    .push(PrivateKey::from_pkcs8_der(&decode()?).map_err(key_err)?),
                "ENCRYPTED PRIVATE KEY" => {
                    items
                        .keys
                        .push(encrypted_key(file, &decode()?, passphrase, settings)?);
                }
                "RSA PRIVATE KEY" => items
                    .keys
                    .push(PrivateKey::rsa_from_pkcs1(&decode()?).map_err(key_err)?),
                "EC PRIVATE KEY" => items
                    .keys
                    .push(PrivateKey::ec_from_sec1(&decode()?, None).map_err(key_err)?),
                other => tracing::debug!(file, label = other, "import: PEM block skipped"),
            }
        }
    } else if let Some(kind) = der_kind(data) {
        match kind {
            DerKind::Cert => items.certs.push(data.to_vec()),
            DerKind::Crl => items.crls.push(data.to_vec()),
            DerKind::Pkcs8 => items
                .keys
                .push(PrivateKey::from_pkcs8_der(data).map_err(key_err)?),
            DerKind::EncryptedPkcs8 => {
                items
                    .keys
                    .push(encrypted_key(file, data, passphrase, settings)?);
            }
            DerKind::Pkcs1 => items
                .keys
                .push(PrivateKey::rsa_from_pkcs1(data).map_err(key_err)?),
            DerKind::Sec1 => items
                .keys
                .push(PrivateKey::ec_from_sec1(data, None).map_err(key_err)?),
            DerKind::Pkcs12 => {
                let p = crate::pkcs12::read(file, data, passphrase, settings.import_max_kdf_cost)?;
                items.keys.extend(p.keys);
                items.certs.extend(p.certs);
            }
        }
    }
    if items.is_empty() {
        return Err(PkiError::Unrecognized {
            file: file.to_owned(),
        });
    }
    Ok(items)
}

enum DerKind {
    Cert,
    Crl,
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
    Pkcs12,
}

/// Which DER structure `data` is, if any.
fn der_kind(data: &[u8]) -> Option<DerKind> {
    if x509_cert::Certificate::from_der(data).is_ok() {
        Some(DerKind::Cert)
    } else if x509_cert::crl::CertificateList::from_der(data).is_ok() {
        Some(DerKind::Crl)
    } else if pkcs8::PrivateKeyInfo::from_der(data).is_ok() {
        Some(DerKind::Pkcs8)
    } else if pkcs8::EncryptedPrivateKeyInfo::from_der(data).is_ok() {
        Some(DerKind::EncryptedPkcs8)
    } else if pkcs1::RsaPrivateKey::from_der(data).is_ok() {
        Some(DerKind::Pkcs1)
    } else if sec1::EcPrivateKey::from_der(data).is_ok() {
        Some(DerKind::Sec1)
    } else if looks_like_pfx(data) {
        Some(DerKind::Pkcs12)
    } else {
        None
    }
}

/// A SEQUENCE starting with INTEGER 3: the PKCS#12 PFX shape (RFC 7292).
fn looks_like_pfx(data: &[u8]) -> bool {
    let Ok(any) = AnyRef::from_der(data) else {
        return false;
    };
    if any.tag() != Tag::Sequence {
        return false;
    }
    let Ok(mut r) = SliceReader::new(any.value()) else {
        return false;
    };
    r.decode::<u8>() == Ok(3)
}

/// Decrypts a PKCS#8 `EncryptedPrivateKeyInfo` after checking its KDF cost.
fn encrypted_key(
    file: &str,
    der: &[u8],
    passphrase: &str,
    settings: &StoreSettings,
) -> Result<PrivateKey, PkiError> {
    let enc = pkcs8::EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| PkiError::malformed(file, "encrypted private key", e))?;
    let cost = match &enc.encryption_algorithm {
        EncryptionScheme::Pbes2(p) => match &p.kdf {
            pbes2::Kdf::Pbkdf2(k) => u64::from(k.iteration_count),
            // scrypt costs N·r·p block mixes and 128·N·r bytes; weigh it so that the default
            // limit allows pkcs8's own default (N=2^15, r=8, p=1) and stays below ~100 MB.
            pbes2::Kdf::Scrypt(s) => s
                .cost_parameter
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(u64::from(s.parallelization))
                .saturating_mul(16),
            _ => 0,
        },
        EncryptionScheme::Pbes1(p) => u64::from(p.parameters.iteration_count),
        _ => 0,
    };
    if cost > settings.import_max_kdf_cost {
        return Err(PkiError::unsupported(format!(
            "{file}: key-derivation cost {cost} above the limit {}",
            settings.import_max_kdf_cost
        )));
    }
    PrivateKey::from_encrypted_pkcs8_der(der, passphrase).map_err(|e| e.into_pki(file))
}
