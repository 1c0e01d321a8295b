//! `export-certificate` and `import`: the store's certificates, keys and CRLs as files.

use core::fmt;

use ring::rand::SystemRandom;
use rustls_pki_types::CertificateDer;

use super::{Certificate, Crl, Store};
use crate::cert::CertInfo;
use crate::error::PkiError;
use crate::key::{self, PrivateKey};

/// `export-certificate` output format (`type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportType {
    /// PEM: `cert_export_NAME.crt`, plus `cert_export_NAME.key` with a passphrase.
    #[default]
    Pem,
    /// PKCS#12: `cert_export_NAME.p12` (the key and chain inside only with a passphrase).
    Pkcs12,
}

/// A file produced by `export-certificate`: the caller writes it.
#[derive(Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The file name, e.g. `cert_export_client1.crt`.
    pub file_name: String,
    /// The contents.
    pub contents: Vec<u8>,
}

impl fmt::Debug for ExportedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportedFile")
            .field("file_name", &self.file_name)
            .field("len", &self.contents.len())
            .finish()
    }
}

/// `import` parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// `passphrase`: decrypts encrypted keys (empty: none).
    pub passphrase: &'a str,
    /// `name`: the name of the (first) imported certificate; default from the file name
    /// (`cert_export_client1.crt` gives `client1`).
    pub name: Option<&'a str>,
    /// `trusted`: default yes for CA certificates, no for others.
    pub trusted: Option<bool>,
    /// The certificates come back from this store's own keeping (a program's state across a
    /// restart), not from elsewhere: those a CA of the store signed (its key is here, its key
    /// identifier and name are their issuer's) are its issues again, so `issued-revoke` works
    /// on them. Default `false`: an imported certificate is never the store's issue.
    pub kept: bool,
}

/// What `import` did, in RouterOS's words (`Display` prints `certificates-imported: 1` etc.).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ImportSummary {
    /// New certificates added.
    pub certificates_imported: usize,
    /// Private keys attached to certificates that had none.
    pub private_keys_imported: usize,
    /// CRLs added or replaced.
    pub crls_imported: usize,
    /// Names of the certificates added, in order.
    pub names: Vec<String>,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "certificates-imported: {}", self.certificates_imported)?;
        writeln!(f, "private-keys-imported: {}", self.private_keys_imported)?;
        writeln!(f, "crls-imported: {}", self.crls_imported)?;
        writeln!(f, "files-imported: 1")?;
        writeln!(f, "decryption-failures: 0")?;
        write!(f, "keys-with-no-certificate: 0")
    }
}

/// `cert_export_client1.crt` -> `client1`; `/tmp/ca.pem` -> `ca`.
pub(super) fn base_name(file_name: &str) -> String {
    let file = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let file = file.strip_prefix("cert_export_").unwrap_or(file);
    let stem = match file.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && ["crt", "pem", "cer", "der", "key", "p12", "pfx", "crl"]
                    .contains(&ext.to_ascii_lowercase().as_str()) =>
        {
            stem
        }
        _ => file,
    };
    if stem.is_empty() {
        "imported".to_owned()
    } else {
        stem.to_owned()
    }
}

impl Store {
    /// `export-certificate NAME export-passphrase=P type=pem|pkcs12`: the certificate file, and
    /// the private key only when `passphrase` is non-empty, encrypted with it (PKCS#8 PBES2,
    /// PBKDF2-HMAC-SHA256, AES-256-CBC). The caller writes the files.
    pub fn export_certificate(
        &self,
        name: &str,
        passphrase: &str,
        kind: ExportType,
    ) -> Result<Vec<ExportedFile>, PkiError> {
        self.export_as(name, passphrase, kind, &format!("cert_export_{name}"))
    }

    pub(super) fn export_as(
        &self,
        name: &str,
        passphrase: &str,
        kind: ExportType,
        base: &str,
    ) -> Result<Vec<ExportedFile>, PkiError> {
        let c = self.cert(name)?;
        let key = c.key.as_ref().filter(|_| !passphrase.is_empty());
        match kind {
            ExportType::Pem => {
                let mut files = vec![ExportedFile {
                    file_name: format!("{base}.crt"),
                    contents: c.pem().into_bytes(),
                }];
                if let Some(k) = key {
                    let pem = k.to_encrypted_pem(
                        passphrase,
                        self.settings.export_pbkdf2_iterations,
                        &SystemRandom::new(),
                    )?;
                    files.push(ExportedFile {
                        file_name: format!("{base}.key"),
                        contents: pem.as_bytes().to_vec(),
                    });
                }
                Ok(files)
            }
            ExportType::Pkcs12 => {
                let p12 = |e: p12_keystore::error::Error| PkiError::Crypto(format!("PKCS#12: {e}"));
                let mut store = p12_keystore::KeyStore::new();
                let chain = self
                    .chain(name)?
                    .iter()
                    .map(|d| p12_keystore::Certificate::from_der(d).map_err(p12))
                    .collect::<Result<Vec<_>, _>>()?;
                match key {
                    Some(k) => {
                        let local_key_id = c.info.fingerprint.get(..20).unwrap_or(&[]).to_vec();
                        let entry =
                            p12_keystore::PrivateKeyChain::new(k.pkcs8_der(), local_key_id, chain);
                        store.add_entry(name, p12_keystore::KeyStoreEntry::PrivateKeyChain(entry));
                    }
                    None => {
                        for (i, cert) in chain.into_iter().enumerate() {
                            let alias = if i == 0 {
                                name.to_owned()
                            } else {
                                format!("{name}-{i}")
                            };
                            store.add_entry(&alias, p12_keystore::KeyStoreEntry::Certificate(cert));
                        }
                    }
                }
                let bytes = store
                    .writer(passphrase)
                    .encryption_iterations(u64::from(self.settings.export_pbkdf2_iterations))
                    .mac_iterations(u64::from(self.settings.export_pbkdf2_iterations))
                    .write()
                    .map_err(p12)?;
                Ok(vec![ExportedFile {
                    file_name: format!("{base}.p12"),
                    contents: bytes,
                }])
            }
        }
    }

    /// `export-certificate NAME` with its RouterOS properties: `export-passphrase=`,
    /// `type=pem|pkcs12`, `file-name=` (the base name; default `cert_export_NAME`).
    pub fn export_from_properties(
        &self,
        name: &str,
        props: &[(&str, &str)],
    ) -> Result<Vec<ExportedFile>, PkiError> {
        let mut pass = "";
        let mut kind = ExportType::Pem;
        let mut base = format!("cert_export_{name}");
        for (k, v) in props {
            match *k {
                "export-passphrase" => pass = v,
                "type" => {
                    kind = match *v {
                        "pem" => ExportType::Pem,
                        "pkcs12" => ExportType::Pkcs12,
                        _ => return Err(PkiError::invalid(k, v, "pem or pkcs12")),
                    };
                }
                "file-name" if !v.is_empty() && !v.contains(['/', '\\']) => base = (*v).to_owned(),
                "file-name" => return Err(PkiError::invalid(k, v, "a plain file name")),
                _ => {
                    return Err(PkiError::UnknownProperty {
                        property: (*k).to_owned(),
                    });
                }
            }
        }
        self.export_as(name, pass, kind, &base)
    }

    /// `import` with its RouterOS properties: `file-name=` (required; names the certificate and
    /// appears in errors), `passphrase=`, `name=`, `trusted=`. `data` is the file's contents.
    pub fn import_from_properties(
        &mut self,
        props: &[(&str, &str)],
        data: &[u8],
    ) -> Result<ImportSummary, PkiError> {
        let mut file = None;
        let mut opts = ImportOptions::default();
        for (k, v) in props {
            match *k {
                "file-name" => file = Some(*v),
                "passphrase" => opts.passphrase = v,
                "name" if !v.is_empty() => opts.name = Some(v),
                "name" => {}
                "trusted" => opts.trusted = Some(crate::props::yes_no(k, v)?),
                _ => {
                    return Err(PkiError::UnknownProperty {
                        property: (*k).to_owned(),
                    });
                }
            }
        }
        let file = file.ok_or(PkiError::MissingProperty {
            property: "file-name",
        })?;
        self.import(file, data, &opts)
    }

    /// `import`: reads certificates (PEM or DER, one or a chain), private keys (PKCS#8 plain or
    /// encrypted, PKCS#1, SEC1; PEM or DER) and CRLs from one file's bytes. A key is attached
    /// to the certificate (in the store or the same file) with the same public key, so importing
    /// `cert_export_client1.crt` then `cert_export_client1.key` gives one certificate with a
    /// key. Imported CA certificates are trusted unless `trusted` says otherwise.
    ///
    /// All or nothing: on any error (garbage, wrong passphrase, a key without certificate, a
    /// CRL without CA) the store is unchanged.
    pub fn import(
        &mut self,
        file_name: &str,
        data: &[u8],
        options: &ImportOptions<'_>,
    ) -> Result<ImportSummary, PkiError> {
        let items = crate::import::read(file_name, data, options.passphrase, &self.settings)?;
        let mut summary = ImportSummary::default();
        let mut new_certs: Vec<Certificate> = Vec::new();
        let base = options
            .name
            .map_or_else(|| base_name(file_name), ToOwned::to_owned);
        for der in items.certs {
            let info = CertInfo::parse(&der)
                .map_err(|r| PkiError::malformed(file_name, "certificate", r))?;
            if self
                .certs
                .iter()
                .chain(&new_certs)
                .any(|c| c.der[..] == der[..])
            {
                continue;
            }
            let mut name = base.clone();
            // `name=` given, for a certificate not in the table yet: RouterOS refuses a name that
            // another certificate has (only the rest of a chain gets numbered names).
            if options.name.is_some() && new_certs.is_empty() && self.name_used(&name) {
                return Err(PkiError::NameInUse { name });
            }
            let mut n = 0;
            while self.name_used(&name) || new_certs.iter().any(|c| c.name == name) {
                n += 1;
                name = format!("{base}_{n}");
            }
            new_certs.push(Certificate {
                name,
                der: CertificateDer::from(der),
                trusted: options.trusted.unwrap_or(info.is_ca),
                info,
                key: None,
                issued_by: None,
                revoked_at: None,
            });
        }
        // Keys: find the certificate with the same public key.
        let mut keys_for_existing: Vec<(usize, PrivateKey)> = Vec::new();
        for k in items.keys {
            if let Some(c) = new_certs
                .iter_mut()
                .find(|c| key::same_public_key(&c.info.spki_der, k.spki()))
            {
                if c.key.is_none() {
                    c.key = Some(k);
                    summary.private_keys_imported += 1;
                }
            } else if let Some(i) = self
                .certs
                .iter()
                .position(|c| key::same_public_key(&c.info.spki_der, k.spki()))
            {
                if self.certs.get(i).is_some_and(|c| c.key.is_none())
                    && !keys_for_existing.iter().any(|(j, _)| *j == i)
                {
                    keys_for_existing.push((i, k));
                    summary.private_keys_imported += 1;
                }
            } else {
                return Err(PkiError::KeyWithoutCertificate {
                    file: file_name.to_owned(),
                });
            }
        }
        // Kept by this store's program (`options.kept`): a certificate a CA of this store
        // signed (the CA's key is here, its key id and name are the certificate's issuer's) is
        // this store's issue again, as before the restart: `issued-revoke` works on it.
        for i in (0..new_certs.len()).filter(|_| options.kept) {
            let c = &new_certs[i];
            if c.issued_by.is_some() || c.info.akid.is_none() || c.info.self_issued {
                continue;
            }
            let issuer = self.certs.iter().chain(&new_certs).find(|ca| {
                ca.info.is_ca
                    && ca.key.is_some()
                    && ca.info.skid.is_some()
                    && ca.info.skid == c.info.akid
                    && ca.info.subject_der == c.info.issuer_der
            });
            let by = issuer.map(|ca| ca.name.clone());
            new_certs[i].issued_by = by;
        }
        // CRLs: find the CA by issuer name.
        let mut new_crls = Vec::new();
        for der in items.crls {
            let probe = Crl::parse(&der, String::new())
                .map_err(|r| PkiError::malformed(file_name, "CRL", r))?;
            let issuer = probe.issuer_der().unwrap_or_default();
            let ca = self
                .certs
                .iter()
                .chain(&new_certs)
                .find(|c| c.info.is_ca && c.info.subject_der == issuer)
                .ok_or_else(|| PkiError::CrlWithoutCa {
                    file: file_name.to_owned(),
                })?;
            new_crls.push(Crl {
                ca: ca.name.clone(),
                ..probe
            });
        }
        // Commit.
        summary.certificates_imported = new_certs.len();
        summary.crls_imported = new_crls.len();
        summary.names = new_certs.iter().map(|c| c.name.clone()).collect();
        for (i, k) in keys_for_existing {
            if let Some(c) = self.certs.get_mut(i) {
                c.key = Some(k);
            }
        }
        self.certs.extend(new_certs);
        for crl in new_crls {
            self.crls.retain(|c| c.ca != crl.ca);
            self.crls.push(crl);
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(base_name("cert_export_client1.crt"), "client1");
        assert_eq!(base_name("/tmp/pki/ca.pem"), "ca");
        assert_eq!(base_name("cert_export_client1.key"), "client1");
        assert_eq!(base_name("weird"), "weird");
        assert_eq!(base_name(".crt"), ".crt");
        assert_eq!(base_name(""), "imported");
    }
}
