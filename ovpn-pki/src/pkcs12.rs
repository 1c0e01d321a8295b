//! Reading PKCS#12 (`.p12`, `.pfx`) files: the key and its chain, and any trusted certificates.
//! The decoding is p12-keystore's (PBES2 with AES, and the legacy PBES1 3DES and RC2 that
//! `openssl pkcs12 -legacy` writes); this module bounds the work a file may ask for before
//! any of it is done, and turns the entries into the importer's items.

use crate::error::PkiError;
use crate::key::PrivateKey;

/// A DER tag: SEQUENCE, OCTET STRING, INTEGER.
const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const INTEGER: u8 = 0x02;

/// What a PKCS#12 file holds: the keys (PKCS#8) and the certificates (DER), the key's chain
/// first.
pub(crate) struct Contents {
    pub(crate) keys: Vec<PrivateKey>,
    pub(crate) certs: Vec<Vec<u8>>,
}

/// Decodes `data` with `passphrase`. A file whose key derivations (the MAC's, each
/// encryption's) ask for more than `max_kdf_cost` iterations is refused before any is run.
pub(crate) fn read(
    file: &str,
    data: &[u8],
    passphrase: &str,
    max_kdf_cost: u64,
) -> Result<Contents, PkiError> {
    let cost = max_iterations(data, 0);
    if cost > max_kdf_cost {
        return Err(PkiError::unsupported(format!(
            "{file}: key-derivation cost {cost} above the limit {max_kdf_cost}"
        )));
    }
    let store = p12_keystore::KeyStore::from_pkcs12(data, passphrase).map_err(|e| match e {
        // The MAC does not verify, or a decryption does not unpad: the passphrase.
        p12_keystore::error::Error::MacError(_) | p12_keystore::error::Error::UnpadError => {
            PkiError::WrongPassphrase {
                file: file.to_owned(),
            }
        }
        other => PkiError::malformed(file, "PKCS#12 file", other),
    })?;
    let mut out = Contents {
        keys: Vec::new(),
        certs: Vec::new(),
    };
    for (_, entry) in store.entries() {
        match entry {
            p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) => {
                out.keys
                    .push(PrivateKey::from_pkcs8_der(chain.key()).map_err(|e| e.into_pki(file))?);
                out.certs
                    .extend(chain.chain().iter().map(|c| c.as_der().to_vec()));
            }
            p12_keystore::KeyStoreEntry::Certificate(c) => out.certs.push(c.as_der().to_vec()),
            p12_keystore::KeyStoreEntry::Secret(_) => {
                tracing::debug!(file, "import: PKCS#12 secret bag skipped");
            }
        }
    }
    if out.keys.is_empty() && out.certs.is_empty() {
        return Err(PkiError::Unrecognized {
            file: file.to_owned(),
        });
    }
    Ok(out)
}

/// One DER element: its tag, and where its content lies in `data`.
fn element(data: &[u8], at: usize) -> Option<(u8, core::ops::Range<usize>)> {
    let tag = *data.get(at)?;
    let first = *data.get(at + 1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = len << 8 | usize::from(*data.get(at + 2 + i)?);
        }
        (len, 2 + n)
    };
    let start = at.checked_add(head)?;
    let end = start.checked_add(len)?;
    (end <= data.len()).then_some((tag, start..end))
}

/// The largest iteration count in the clear anywhere in `data`: in every SEQUENCE, an
/// INTEGER right after an OCTET STRING (the salt) is one, as in PKCS#12's MacData and PBE
/// parameters and PKCS#5's PBKDF2 parameters. Nested structures are walked (depth-bounded);
/// what does not parse counts for nothing (the decoder refuses it later).
fn max_iterations(data: &[u8], depth: u32) -> u64 {
    if depth > 16 {
        return 0;
    }
    let mut max = 0;
    let mut at = 0;
    let mut after_salt = false;
    while let Some((tag, r)) = element(data, at) {
        let content = &data[r.clone()];
        match tag {
            INTEGER if after_salt => {
                let n = content.iter().fold(0u64, |acc, b| {
                    acc.saturating_mul(256).saturating_add(u64::from(*b))
                });
                max = max.max(n);
            }
            // Constructed: a SEQUENCE, SET or context tag; an OCTET STRING may wrap DER too
            // (PKCS#12's Data content and bag values).
            t if t & 0x20 != 0 || t == OCTET_STRING => {
                max = max.max(max_iterations(content, depth + 1));
            }
            _ => {}
        }
        after_salt = tag == OCTET_STRING;
        at = r.end;
        if tag == SEQUENCE && r.is_empty() {
            after_salt = false;
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_counts_are_found_in_the_clear() {
        // SEQUENCE { OCTET STRING (salt), INTEGER 2048 }
        let params = [0x30, 0x08, 0x04, 0x02, 0xAA, 0xBB, 0x02, 0x02, 0x08, 0x00];
        assert_eq!(max_iterations(&params, 0), 2048);
        // Wrapped in an OCTET STRING inside a SEQUENCE, next to a bigger one.
        let mut nested = vec![0x30, 0x16, 0x04, 0x0a];
        nested.extend_from_slice(&params);
        nested.extend_from_slice(&[0x30, 0x08, 0x04, 0x01, 0x00, 0x02, 0x03, 0x0f, 0x42, 0x40]);
        assert_eq!(max_iterations(&nested, 0), 1_000_000);
        // An INTEGER not after a salt is not a count.
        assert_eq!(max_iterations(&[0x30, 0x03, 0x02, 0x01, 0x7f], 0), 0);
        // Truncated or hostile lengths are nothing, not a panic.
        assert_eq!(max_iterations(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], 0), 0);
        assert_eq!(max_iterations(&[], 0), 0);
    }

    proptest::proptest! {
        #[test]
        fn the_scan_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = max_iterations(&bytes, 0);
            let _ = read("x.p12", &bytes, "pw", 10_000);
        }
    }
}
