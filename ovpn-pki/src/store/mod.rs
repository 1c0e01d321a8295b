//! The certificate store: RouterOS's `/certificate` table kept in memory.
//!
//! - `mod.rs`: the table (templates, certificates, their names and chains);
//! - `sign`: `sign`, new certificates from templates;
//! - `crl`: revocation and the CRLs;
//! - `print`: `print` and `print detail` with RouterOS's flags;
//! - `transfer`: `export-certificate` and `import`;
//! - `trust`: what peer checks are built from (trusted CAs, CRLs).

mod crl;
mod crl_life;
mod print;
mod sign;
mod transfer;
mod trust;

pub use crate::settings::StoreSettings;
pub use crl::Crl;
pub use crl_life::{CrlHealth, CrlState};
pub use print::{FLAGS_LEGEND, Flags};
pub use transfer::{ExportType, ExportedFile, ImportOptions, ImportSummary};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::cert::CertInfo;
use crate::error::PkiError;
use crate::key::{self, KeyType, PrivateKey};
use crate::template::{KeySize, Template};

/// A certificate in the store, with its private key if the store has it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub(crate) name: String,
    pub(crate) der: CertificateDer<'static>,
    pub(crate) info: CertInfo,
    pub(crate) key: Option<PrivateKey>,
    pub(crate) trusted: bool,
    pub(crate) issued_by: Option<String>,
    pub(crate) revoked_at: Option<UnixTime>,
}

impl Certificate {
    /// The certificate's name in the store.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DER certificate.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The PEM certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", &self.der)
    }

    /// What the certificate says (subject, serial, dates, usages, ...).
    pub fn info(&self) -> &CertInfo {
        &self.info
    }

    /// Whether the store has the private key (`K`).
    pub fn has_private_key(&self) -> bool {
        self.key.is_some()
    }

    /// The private key as rustls takes it (PKCS#8), if the store has it.
    pub fn private_key_der(&self) -> Option<PrivateKeyDer<'static>> {
        self.key.as_ref().map(|k| {
            PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
                k.pkcs8_der().to_vec(),
            ))
        })
    }

    /// The unencrypted private key as PEM (`-----BEGIN PRIVATE KEY-----`), for writing a key
    /// file the caller protects itself (e.g. a test PKI or an inline `.ovpn` `<key>`).
    pub fn private_key_pem(&self) -> Option<zeroize::Zeroizing<String>> {
        self.key.as_ref().and_then(|k| k.to_pem().ok())
    }

    /// Whether the certificate is trusted (`T`): trusted CA certificates are the anchors of
    /// [`Store::peer_verifier`].
    pub fn trusted(&self) -> bool {
        self.trusted
    }

    /// The name of the store's CA that signed it (`I`), if it was signed here.
    pub fn issued_by(&self) -> Option<&str> {
        self.issued_by.as_deref()
    }

    /// When `issued-revoke` revoked it, if it did.
    pub fn revoked_at(&self) -> Option<UnixTime> {
        self.revoked_at
    }
}

/// RouterOS's `/certificate` table, in memory: templates, certificates with their keys, CRLs.
///
/// Nothing here reads files or the clock: `import` takes bytes, `export_certificate` returns
/// them, and every time-dependent operation takes `now`. Key generation and serial numbers use
/// ring's `SystemRandom` (the OS generator). The caller persists the store (e.g. with
/// [`Store::save`] and [`Store::load`]).
///
/// The store's methods mirror the RouterOS commands:
///
/// | RouterOS | method |
/// |---|---|
/// | `add name= common-name= ...` | [`Store::add`], [`Store::add_from_properties`] |
/// | `sign T ca= name=` | [`Store::sign`], [`Store::sign_from_properties`] |
/// | `print`, `print detail` | [`Store::print`], [`Store::print_detail`] |
/// | `export-certificate N export-passphrase= type=` | [`Store::export_certificate`], [`Store::export_from_properties`] |
/// | `import file-name= passphrase= name=` | [`Store::import`], [`Store::import_from_properties`] |
/// | `issued-revoke N` | [`Store::issued_revoke`] |
/// | `remove N` | [`Store::remove`] |
/// | `set N prop=...` | [`Store::set_from_properties`], [`Store::set_trusted`], [`Store::template_mut`] |
/// | (persistence) | [`Store::save`], [`Store::load`] |
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub(crate) templates: Vec<Template>,
    pub(crate) certs: Vec<Certificate>,
    pub(crate) crls: Vec<Crl>,
    pub(crate) settings: StoreSettings,
}

impl Store {
    /// An empty store with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The settings.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// Changes the settings.
    pub fn settings_mut(&mut self) -> &mut StoreSettings {
        &mut self.settings
    }

    pub(super) fn name_used(&self, name: &str) -> bool {
        self.templates.iter().any(|t| t.name == name) || self.certs.iter().any(|c| c.name == name)
    }

    /// `add`: stores a template. Its name must be free.
    pub fn add(&mut self, template: Template) -> Result<&Template, PkiError> {
        template.check_complete()?;
        if self.name_used(&template.name) {
            return Err(PkiError::NameInUse {
                name: template.name,
            });
        }
        self.templates.push(template);
        Ok(last(&self.templates))
    }

    /// `add` from RouterOS properties, including `copy-from=NAME` (a template or certificate
    /// whose subject, alternative names, days, key size and usage are copied first).
    pub fn add_from_properties(&mut self, props: &[(&str, &str)]) -> Result<&Template, PkiError> {
        let mut t = Template::new(String::new(), String::new());
        if let Some((_, from)) = props.iter().find(|(k, _)| *k == "copy-from") {
            t = self.copy_from(from)?;
            t.name = String::new();
        }
        for (k, v) in props.iter().filter(|(k, _)| *k != "copy-from") {
            t.set_property(k, v)?;
        }
        self.add(t)
    }

    pub(super) fn copy_from(&self, from: &str) -> Result<Template, PkiError> {
        if let Some(t) = self.template(from) {
            return Ok(t.clone());
        }
        let c = self.get(from).ok_or_else(|| PkiError::NoSuchCertificate {
            name: from.to_owned(),
        })?;
        let i = &c.info;
        let mut t = Template::new(String::new(), i.subject.common_name.clone());
        t.subject = i.subject.clone();
        t.subject_alt_names = i.subject_alt_names.clone();
        t.key_usage = i.key_usage;
        let days = i.not_after.as_secs().saturating_sub(i.not_before.as_secs()) / 86_400;
        t.days_valid = u32::try_from(days)
            .unwrap_or(crate::template::MAX_DAYS_VALID)
            .clamp(1, crate::template::MAX_DAYS_VALID);
        t.key_size = match i.key_type {
            KeyType::Rsa { bits: 1024 } => KeySize::Rsa1024,
            KeyType::Rsa { bits: 1536 } => KeySize::Rsa1536,
            KeyType::Rsa { bits: 4096 } => KeySize::Rsa4096,
            KeyType::Rsa { bits: 8192 } => KeySize::Rsa8192,
            KeyType::Ec(key::Curve::P256) => KeySize::Prime256v1,
            KeyType::Ec(key::Curve::P384) => KeySize::Secp384r1,
            KeyType::Ec(key::Curve::P521) => KeySize::Secp521r1,
            _ => KeySize::Rsa2048,
        };
        Ok(t)
    }

    /// The template called `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }

    /// A template to edit (`set`).
    pub fn template_mut(&mut self, name: &str) -> Option<&mut Template> {
        self.templates.iter_mut().find(|t| t.name == name)
    }

    /// All templates, in the order they were added.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.templates.iter()
    }

    /// The certificate called `name`.
    pub fn get(&self, name: &str) -> Option<&Certificate> {
        self.certs.iter().find(|c| c.name == name)
    }

    pub(super) fn cert(&self, name: &str) -> Result<&Certificate, PkiError> {
        self.get(name).ok_or_else(|| PkiError::NoSuchCertificate {
            name: name.to_owned(),
        })
    }

    /// All certificates, in the order they were added.
    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.certs.iter()
    }

    /// All CRLs.
    pub fn crls(&self) -> impl Iterator<Item = &Crl> {
        self.crls.iter()
    }

    /// The CRL of the CA called `ca`, if the store has one.
    pub fn crl(&self, ca: &str) -> Option<&Crl> {
        self.crls.iter().find(|c| c.ca == ca)
    }

    /// `remove NAME`: removes a template, or a certificate with everything its CA issued
    /// (recursively) and its CRL, as RouterOS does.
    pub fn remove(&mut self, name: &str) -> Result<(), PkiError> {
        if self.template(name).is_some() {
            self.templates.retain(|t| t.name != name);
            return Ok(());
        }
        self.cert(name)?;
        let mut doomed = vec![name.to_owned()];
        let mut i = 0;
        while let Some(n) = doomed.get(i).cloned() {
            for c in &self.certs {
                if c.issued_by.as_deref() == Some(n.as_str()) && !doomed.contains(&c.name) {
                    doomed.push(c.name.clone());
                }
            }
            i += 1;
        }
        self.certs.retain(|c| !doomed.contains(&c.name));
        self.crls.retain(|c| !doomed.contains(&c.ca));
        Ok(())
    }

    /// `set NAME trusted=yes|no`.
    pub fn set_trusted(&mut self, name: &str, trusted: bool) -> Result<(), PkiError> {
        let c = self
            .certs
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| PkiError::NoSuchCertificate {
                name: name.to_owned(),
            })?;
        c.trusted = trusted;
        Ok(())
    }

    /// `set NAME prop=value ...`: sets template properties, or `trusted=` of a certificate (the
    /// only property of a signed certificate that can change). All or nothing.
    pub fn set_from_properties(
        &mut self,
        name: &str,
        props: &[(&str, &str)],
    ) -> Result<(), PkiError> {
        if let Some(t) = self.template(name) {
            let mut t = t.clone();
            for (k, v) in props {
                t.set_property(k, v)?;
            }
            if t.name != name && self.name_used(&t.name) {
                return Err(PkiError::NameInUse { name: t.name });
            }
            t.check_complete()?;
            if let Some(slot) = self.templates.iter_mut().find(|x| x.name == name) {
                *slot = t;
            }
            return Ok(());
        }
        self.cert(name)?;
        let mut trusted = None;
        for (k, v) in props {
            match *k {
                "trusted" => trusted = Some(crate::props::yes_no(k, v)?),
                _ => {
                    return Err(PkiError::invalid(
                        k,
                        v,
                        "a signed certificate can only change `trusted`",
                    ));
                }
            }
        }
        if let Some(t) = trusted {
            self.set_trusted(name, t)?;
        }
        Ok(())
    }

    /// The chain to present for the certificate called `name`: the certificate, then its
    /// issuers found in the store, up to but not including a self-signed root.
    pub fn chain(&self, name: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
        let mut c = self.cert(name)?;
        let mut chain = vec![c.der.clone()];
        for _ in 0..8 {
            if c.info.self_issued {
                break;
            }
            let Some(issuer) = self.issuer_of(c) else {
                break;
            };
            if issuer.info.self_issued {
                break;
            }
            chain.push(issuer.der.clone());
            c = issuer;
        }
        Ok(chain)
    }

    /// [`Store::chain`] as PEM, end entity first (what a `.ovpn` profile's `<cert>` holds).
    pub fn chain_pem(&self, name: &str) -> Result<String, PkiError> {
        Ok(self
            .chain(name)?
            .iter()
            .map(|der| crate::pem::encode("CERTIFICATE", der))
            .collect())
    }

    pub(super) fn issuer_of(&self, c: &Certificate) -> Option<&Certificate> {
        if let Some(by) = &c.issued_by {
            return self.get(by);
        }
        self.certs.iter().find(|x| {
            x.info.is_ca
                && x.info.subject_der == c.info.issuer_der
                && match (&c.info.akid, &x.info.skid) {
                    (Some(a), Some(s)) => a == s,
                    _ => true,
                }
        })
    }

    /// The certificate chain and private key of `name` as rustls takes them (for
    /// `with_single_cert` / `with_client_auth_cert`).
    pub fn identity(
        &self,
        name: &str,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PkiError> {
        let key = self
            .cert(name)?
            .private_key_der()
            .ok_or_else(|| PkiError::NoPrivateKey {
                name: name.to_owned(),
            })?;
        Ok((self.chain(name)?, key))
    }
}

/// The element just pushed.
pub(super) fn last<T>(v: &[T]) -> &T {
    // Only called right after a push, so `v` is not empty.
    &v[v.len() - 1]
}
