//! The certificate store: RouterOS's `/certificate` table kept in memory.

use core::fmt;

use pkcs8::der::{Decode, Encode};
use ring::rand::SystemRandom;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use zeroize::Zeroize;

use crate::cert::{self, CertInfo};
use crate::error::PkiError;
use crate::key::{self, KeyType, PrivateKey};
use crate::template::{KeySize, KeyUsage, Template};
use crate::verify::{PeerRole, PeerVerifier, VerifiedPeer};

/// Store-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreSettings {
    /// Days from a CRL's this-update to its next-update (default 180, like easy-rsa's
    /// `EASYRSA_CRL_DAYS`). Peers refuse clients of a CA whose CRL is stale, so renew CRLs with
    /// [`Store::update_crl`] well within this.
    pub crl_days_valid: u32,
    /// PBKDF2 iterations for exported private keys (default
    /// [`EXPORT_PBKDF2_ITERATIONS`](crate::EXPORT_PBKDF2_ITERATIONS)).
    pub export_pbkdf2_iterations: u32,
    /// Largest PBKDF2 iteration count (or scrypt N·r·p) accepted when importing an encrypted
    /// key, so that a crafted file cannot stall the import (default 10 000 000).
    pub import_max_kdf_cost: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            crl_days_valid: 180,
            export_pbkdf2_iterations: key::EXPORT_PBKDF2_ITERATIONS,
            import_max_kdf_cost: 10_000_000,
        }
    }
}

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

/// A CRL held by the store: signed here by one of its CAs, or imported.
#[derive(Debug, Clone)]
pub struct Crl {
    pub(crate) ca: String,
    der: CertificateRevocationListDer<'static>,
    number: u64,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
    revoked: Vec<(Vec<u8>, UnixTime)>,
}

impl Crl {
    /// The name of the CA certificate it belongs to.
    pub fn ca(&self) -> &str {
        &self.ca
    }

    /// The DER CRL.
    pub fn der(&self) -> &CertificateRevocationListDer<'static> {
        &self.der
    }

    /// The PEM CRL (`-----BEGIN X509 CRL-----`), as OpenVPN's `crl-verify` reads it.
    pub fn pem(&self) -> String {
        crate::pem::encode("X509 CRL", &self.der)
    }

    /// The CRL number (0 for imported CRLs without one).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Its thisUpdate.
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// Its nextUpdate.
    pub fn next_update(&self) -> Option<UnixTime> {
        self.next_update
    }

    /// Serial numbers (big-endian bytes) of the revoked certificates, with revocation times.
    pub fn revoked(&self) -> &[(Vec<u8>, UnixTime)] {
        &self.revoked
    }

    pub(crate) fn parse(der: &[u8], ca: String) -> Result<Self, String> {
        // webpki must accept it too, or every later peer check would fail.
        webpki::OwnedCertRevocationList::from_der(der).map_err(|e| format!("{e}"))?;
        let list = x509_cert::crl::CertificateList::from_der(der).map_err(|e| e.to_string())?;
        let tbs = &list.tbs_cert_list;
        let unix = |t: x509_cert::time::Time| UnixTime::since_unix_epoch(t.to_unix_duration());
        let number = tbs
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id.to_string() == "2.5.29.20")
            .and_then(|e| pkcs8::der::asn1::UintRef::from_der(e.extn_value.as_bytes()).ok())
            .map(|u| {
                u.as_bytes()
                    .iter()
                    .fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b))
            })
            .unwrap_or(0);
        Ok(Self {
            ca,
            der: CertificateRevocationListDer::from(der.to_vec()),
            number,
            this_update: unix(tbs.this_update),
            next_update: tbs.next_update.map(unix),
            revoked: tbs
                .revoked_certificates
                .iter()
                .flatten()
                .map(|r| (r.serial_number.as_bytes().to_vec(), unix(r.revocation_date)))
                .collect(),
        })
    }

    fn issuer_der(&self) -> Option<Vec<u8>> {
        let list = x509_cert::crl::CertificateList::from_der(&self.der).ok()?;
        list.tbs_cert_list.issuer.to_der().ok()
    }
}

/// RouterOS's flags for a certificate (`print`): `K L A I R E T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Flags {
    /// K: the store has the private key.
    pub private_key: bool,
    /// L: the store has a CRL of this CA.
    pub crl: bool,
    /// A: a certificate authority (basicConstraints CA:TRUE).
    pub authority: bool,
    /// I: issued (signed) by a CA of this store.
    pub issued: bool,
    /// R: revoked (`issued-revoke`, or listed in its issuer's CRL held by the store).
    pub revoked: bool,
    /// E: expired at the time given to `print`.
    pub expired: bool,
    /// T: trusted.
    pub trusted: bool,
}

impl fmt::Display for Flags {
    /// Seven columns, a letter or a space each, in the order `K L A I R E T`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, c) in [
            (self.private_key, 'K'),
            (self.crl, 'L'),
            (self.authority, 'A'),
            (self.issued, 'I'),
            (self.revoked, 'R'),
            (self.expired, 'E'),
            (self.trusted, 'T'),
        ] {
            write!(f, "{}", if on { c } else { ' ' })?;
        }
        Ok(())
    }
}

/// The legend line `print` starts with.
pub const FLAGS_LEGEND: &str = "Flags: K - private-key; L - crl; A - authority; I - issued, R - revoked; E - expired; T - trusted";

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

/// A subject public key for rcgen: the SPKI's algorithm (as an rcgen algorithm with the same key
/// OIDs) and key bits.
struct SubjectKey {
    alg: &'static rcgen::SignatureAlgorithm,
    raw: Vec<u8>,
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        self.alg
    }
}

fn offset_time(t: u64) -> Result<time::OffsetDateTime, PkiError> {
    i64::try_from(t)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| PkiError::unsupported(format!("time {t} out of range")))
}

fn crypto(e: rcgen::Error) -> PkiError {
    PkiError::Crypto(e.to_string())
}

/// `cert_export_client1.crt` -> `client1`; `/tmp/ca.pem` -> `ca`.
fn base_name(file_name: &str) -> String {
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

    fn name_used(&self, name: &str) -> bool {
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

    fn copy_from(&self, from: &str) -> Result<Template, PkiError> {
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

    fn cert(&self, name: &str) -> Result<&Certificate, PkiError> {
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

    /// `sign TEMPLATE ca=CA name=NAME`: generates the key, signs the template with the CA named
    /// `ca` (self-signs when `ca` is `None` or names the template itself, as in
    /// `sign ca-template ca=ca-template name=ca`), stores the certificate under `name` (default:
    /// the template's name) and consumes the template. Validity starts at `now`.
    pub fn sign(
        &mut self,
        template: &str,
        ca: Option<&str>,
        name: Option<&str>,
        now: UnixTime,
    ) -> Result<&Certificate, PkiError> {
        let t = self
            .template(template)
            .ok_or_else(|| PkiError::NoSuchTemplate {
                name: template.to_owned(),
            })?
            .clone();
        let new_name = name
            .filter(|n| !n.is_empty())
            .unwrap_or(template)
            .to_owned();
        if new_name != template && self.name_used(&new_name) {
            return Err(PkiError::NameInUse { name: new_name });
        }
        let self_sign = ca.is_none_or(|c| c.is_empty() || c == template);
        let issuer = if self_sign {
            None
        } else {
            let ca_name = ca.unwrap_or_default();
            let ca_cert = self.cert(ca_name)?;
            if !ca_cert.info.is_ca
                || (ca_cert.info.has_key_usage_extension
                    && !ca_cert.info.key_usage.contains(KeyUsage::KeyCertSign))
            {
                return Err(PkiError::NotAuthority {
                    name: ca_name.to_owned(),
                });
            }
            let ca_key = ca_cert.key.as_ref().ok_or_else(|| PkiError::NoPrivateKey {
                name: ca_name.to_owned(),
            })?;
            Some((ca_cert, ca_key))
        };

        let rng = SystemRandom::new();
        let key = PrivateKey::generate(t.key_size, &rng)?;
        let serial = self.new_serial(&rng, issuer.map(|(c, _)| c.info.subject_der.as_slice()))?;
        let params = template_params(&t, now, &serial)?;
        let der = match issuer {
            None => {
                let mut signer = key.signer(t.digest_algorithm)?;
                let cert = params.self_signed(&signer).map_err(crypto);
                signer.zeroize();
                cert?.der().clone()
            }
            Some((ca_cert, ca_key)) => {
                let mut signer = ca_key.signer(t.digest_algorithm)?;
                let issued = issuer_cert(ca_cert, &signer).and_then(|issuer| {
                    params
                        .signed_by(&subject_key(&key)?, &issuer, &signer)
                        .map_err(crypto)
                });
                signer.zeroize();
                issued?.der().clone()
            }
        };
        let info = CertInfo::parse(&der).map_err(|reason| PkiError::Certificate {
            name: new_name.clone(),
            reason: format!("unreadable after signing: {reason}"),
        })?;
        if let Some((ca_cert, _)) = issuer {
            if info.issuer_der != ca_cert.info.subject_der {
                return Err(PkiError::Certificate {
                    name: ca_cert.name.clone(),
                    reason: "its subject name cannot be reproduced as an issuer name".into(),
                });
            }
        }
        let entry = Certificate {
            name: new_name,
            trusted: t.trusted.unwrap_or(self_sign && info.is_ca),
            issued_by: issuer.map(|(c, _)| c.name.clone()),
            der,
            info,
            key: Some(key),
            revoked_at: None,
        };
        self.templates.retain(|x| x.name != template);
        self.certs.push(entry);
        tracing::debug!(name = %self.certs.last().map_or("", |c| &c.name), "signed certificate");
        Ok(last(&self.certs))
    }

    /// `sign TEMPLATE` with its RouterOS properties: `ca=`, `name=` (and an empty
    /// `ca-crl-host=`; CRL distribution points are not written).
    pub fn sign_from_properties(
        &mut self,
        template: &str,
        props: &[(&str, &str)],
        now: UnixTime,
    ) -> Result<&Certificate, PkiError> {
        let mut ca = None;
        let mut name = None;
        for (k, v) in props {
            match *k {
                "ca" => ca = Some(*v),
                "name" => name = Some(*v),
                "ca-crl-host" if v.is_empty() => {}
                "ca-crl-host" => {
                    return Err(PkiError::invalid(
                        k,
                        v,
                        "CRL distribution points are not supported; leave it empty",
                    ));
                }
                _ => {
                    return Err(PkiError::UnknownProperty {
                        property: (*k).to_owned(),
                    });
                }
            }
        }
        self.sign(template, ca, name, now)
    }

    /// A random positive 128-bit serial, unique among the certificates of `issuer`.
    fn new_serial(&self, rng: &SystemRandom, issuer: Option<&[u8]>) -> Result<[u8; 16], PkiError> {
        for _ in 0..8 {
            let mut s = [0u8; 16];
            key::random(rng, &mut s)?;
            s[0] = (s[0] & 0x7f).max(1);
            let clash = self
                .certs
                .iter()
                .any(|c| c.info.serial == s && issuer.is_none_or(|i| c.info.issuer_der == i));
            if !clash {
                return Ok(s);
            }
        }
        Err(PkiError::Rng)
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

    /// `issued-revoke NAME`: marks a certificate issued by one of the store's CAs as revoked at
    /// `now` and re-signs that CA's CRL (next-update `now` + [`StoreSettings::crl_days_valid`]).
    pub fn issued_revoke(&mut self, name: &str, now: UnixTime) -> Result<&Crl, PkiError> {
        let c = self.cert(name)?;
        let ca = c.issued_by.clone().ok_or_else(|| PkiError::NotIssuedHere {
            name: name.to_owned(),
        })?;
        self.check_crl_signer(&ca)?;
        let prev = self
            .certs
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.revoked_at);
        if let Some(c) = self.certs.iter_mut().find(|c| c.name == name) {
            c.revoked_at = Some(prev.unwrap_or(now));
        }
        if let Err(e) = self.update_crl(&ca, now) {
            if let Some(c) = self.certs.iter_mut().find(|c| c.name == name) {
                c.revoked_at = prev;
            }
            return Err(e);
        }
        self.crl(&ca)
            .ok_or(PkiError::NoSuchCertificate { name: ca })
    }

    fn check_crl_signer(&self, ca: &str) -> Result<(), PkiError> {
        let c = self.cert(ca)?;
        if c.key.is_none() {
            return Err(PkiError::NoPrivateKey {
                name: ca.to_owned(),
            });
        }
        if !c.info.is_ca {
            return Err(PkiError::NotAuthority {
                name: ca.to_owned(),
            });
        }
        if c.info.has_key_usage_extension && !c.info.key_usage.contains(KeyUsage::CrlSign) {
            return Err(PkiError::NotCrlSigner {
                name: ca.to_owned(),
            });
        }
        Ok(())
    }

    /// Signs a fresh CRL for the CA called `ca` at `now`, listing every certificate it revoked
    /// (next-update `now` + [`StoreSettings::crl_days_valid`]), and keeps it (`L`). Call it
    /// periodically so that peers never see a stale CRL.
    pub fn update_crl(&mut self, ca: &str, now: UnixTime) -> Result<&Crl, PkiError> {
        self.check_crl_signer(ca)?;
        let days = u64::from(self.settings.crl_days_valid.max(1));
        self.update_crl_until(ca, now, now.as_secs().saturating_add(days * 86_400))
    }

    /// [`Store::update_crl`] with an explicit next-update (Unix seconds).
    pub fn update_crl_until(
        &mut self,
        ca: &str,
        now: UnixTime,
        next_update: u64,
    ) -> Result<&Crl, PkiError> {
        self.check_crl_signer(ca)?;
        let ca_cert = self.cert(ca)?;
        let ca_key = ca_cert.key.as_ref().ok_or_else(|| PkiError::NoPrivateKey {
            name: ca.to_owned(),
        })?;
        let old = self.crl(ca);
        let mut revoked: Vec<(Vec<u8>, UnixTime)> =
            old.map(|c| c.revoked.clone()).unwrap_or_default();
        for c in &self.certs {
            if let (Some(at), Some(by)) = (c.revoked_at, &c.issued_by) {
                if by == ca && !revoked.iter().any(|(s, _)| *s == c.info.serial) {
                    revoked.push((c.info.serial.clone(), at));
                }
            }
        }
        let number = old.map_or(1, |c| c.number.saturating_add(1));
        let mut revoked_certs = Vec::new();
        for (serial, at) in &revoked {
            revoked_certs.push(rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(serial),
                revocation_time: offset_time(at.as_secs())?,
                reason_code: None,
                invalidity_date: None,
            });
        }
        let params = rcgen::CertificateRevocationListParams {
            this_update: offset_time(now.as_secs())?,
            next_update: offset_time(next_update.max(now.as_secs().saturating_add(1)))?,
            crl_number: rcgen::SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: match &ca_cert.info.skid {
                Some(s) => rcgen::KeyIdMethod::PreSpecified(s.clone()),
                None => rcgen::KeyIdMethod::Sha256,
            },
        };
        let mut signer = ca_key.signer(None)?;
        let crl = issuer_cert(ca_cert, &signer)
            .and_then(|issuer| params.signed_by(&issuer, &signer).map_err(crypto));
        signer.zeroize();
        let crl =
            Crl::parse(crl?.der(), ca.to_owned()).map_err(|reason| PkiError::Certificate {
                name: ca.to_owned(),
                reason: format!("CRL unreadable after signing: {reason}"),
            })?;
        self.crls.retain(|c| c.ca != ca);
        self.crls.push(crl);
        Ok(last(&self.crls))
    }

    /// The flags `print` shows for the certificate called `name` at `now`.
    pub fn flags(&self, name: &str, now: UnixTime) -> Option<Flags> {
        let c = self.get(name)?;
        Some(Flags {
            private_key: c.key.is_some(),
            crl: self.crl(name).is_some(),
            authority: c.info.is_ca,
            issued: c.issued_by.is_some(),
            revoked: c.revoked_at.is_some() || self.listed_in_crl(c),
            expired: c.info.is_expired(now),
            trusted: c.trusted,
        })
    }

    fn listed_in_crl(&self, c: &Certificate) -> bool {
        self.crls.iter().any(|crl| {
            crl.revoked.iter().any(|(s, _)| *s == c.info.serial)
                && self
                    .get(&crl.ca)
                    .is_some_and(|ca| ca.info.subject_der == c.info.issuer_der)
        })
    }

    /// `print`: the flags legend, then one line per template and certificate:
    /// `#`, flags, name, common name, fingerprint.
    pub fn print(&self, now: UnixTime) -> String {
        let mut out = format!("{FLAGS_LEGEND}\n");
        out.push_str(&format!(
            " # {:7} {:<20} {:<24} FINGERPRINT\n",
            "", "NAME", "COMMON-NAME"
        ));
        let mut i = 0;
        for t in &self.templates {
            out.push_str(&format!(
                "{i:>2} {:7} {:<20} {:<24}\n",
                "", t.name, t.subject.common_name
            ));
            i += 1;
        }
        for c in &self.certs {
            let flags = self.flags(&c.name, now).unwrap_or_default();
            out.push_str(&format!(
                "{i:>2} {flags} {:<20} {:<24} {}\n",
                c.name,
                c.info.subject.common_name,
                c.info.fingerprint_hex()
            ));
            i += 1;
        }
        out
    }

    /// `print detail`: the legend, then every template and certificate with its properties
    /// (`name`, `key-type`, `common-name`, ..., `serial-number`, `fingerprint`,
    /// `invalid-before`, `invalid-after`, `expires-after`, `ca`).
    pub fn print_detail(&self, now: UnixTime) -> String {
        let mut out = format!("{FLAGS_LEGEND}\n");
        let mut i = 0;
        for t in &self.templates {
            out.push_str(&format!("{i:>2} {:7} {}\n\n", "", t.detail()));
            i += 1;
        }
        for c in &self.certs {
            let flags = self.flags(&c.name, now).unwrap_or_default();
            out.push_str(&format!("{i:>2} {flags} {}\n\n", self.detail(c, now)));
            i += 1;
        }
        out
    }

    fn detail(&self, c: &Certificate, now: UnixTime) -> String {
        use crate::props::{format_duration, format_time, hex_lower, yes_no_str};
        let i = &c.info;
        let mut s = format!(
            "name=\"{}\" key-type={} common-name=\"{}\"",
            c.name,
            i.key_type.type_str(),
            i.subject.common_name
        );
        for (k, v) in [
            ("country", &i.subject.country),
            ("state", &i.subject.state),
            ("locality", &i.subject.locality),
            ("organization", &i.subject.organization),
            ("unit", &i.subject.unit),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {k}=\"{v}\""));
            }
        }
        let sans: Vec<String> = i
            .subject_alt_names
            .iter()
            .map(ToString::to_string)
            .collect();
        let days = i.not_after.as_secs().saturating_sub(i.not_before.as_secs()) / 86_400;
        s.push_str(&format!(
            " key-size={} subject-alt-name=\"{}\" days-valid={} trusted={} key-usage={}",
            i.key_type.size_str(),
            sans.join(","),
            days,
            yes_no_str(c.trusted),
            i.key_usage
        ));
        if let Some(ca) = &c.issued_by {
            s.push_str(&format!(" ca={ca}"));
        } else if let Some(issuer) = self
            .certs
            .iter()
            .find(|x| x.info.subject_der == i.issuer_der && x.name != c.name)
        {
            s.push_str(&format!(" ca={}", issuer.name));
        }
        s.push_str(&format!(
            " serial-number=\"{}\" fingerprint=\"{}\"",
            i.serial_hex(),
            i.fingerprint_hex()
        ));
        if let Some(a) = &i.akid {
            s.push_str(&format!(" akid={}", hex_lower(a)));
        }
        if let Some(k) = &i.skid {
            s.push_str(&format!(" skid={}", hex_lower(k)));
        }
        s.push_str(&format!(
            " invalid-before={} invalid-after={}",
            format_time(i.not_before.as_secs()),
            format_time(i.not_after.as_secs())
        ));
        if i.not_after.as_secs() > now.as_secs() {
            s.push_str(&format!(
                " expires-after={}",
                format_duration(i.not_after.as_secs() - now.as_secs())
            ));
        } else {
            s.push_str(" expired=yes");
        }
        if let Some(at) = c.revoked_at {
            s.push_str(&format!(" revoked={}", format_time(at.as_secs())));
        }
        s
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

    fn issuer_of(&self, c: &Certificate) -> Option<&Certificate> {
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

    /// The trusted CA certificates (flags `A` and `T`), the anchors for peer checks.
    pub fn trusted_cas(&self) -> Vec<CertificateDer<'static>> {
        self.certs
            .iter()
            .filter(|c| c.trusted && c.info.is_ca)
            .map(|c| c.der.clone())
            .collect()
    }

    /// All CRLs the store holds, DER.
    pub fn crl_ders(&self) -> Vec<CertificateRevocationListDer<'static>> {
        self.crls.iter().map(|c| c.der.clone()).collect()
    }

    /// A verifier for peers of `role`, trusting the store's trusted CAs and using its CRLs.
    pub fn peer_verifier(&self, role: PeerRole) -> Result<PeerVerifier, PkiError> {
        Ok(PeerVerifier::new(&self.trusted_cas(), role)?.with_crls(&self.crl_ders())?)
    }

    /// A verifier for peers of `role` that trusts only the CA called `ca` (RouterOS's
    /// `ca-certificate=` of an OpenVPN client), with that CA's CRL if the store has one.
    pub fn peer_verifier_for_ca(&self, ca: &str, role: PeerRole) -> Result<PeerVerifier, PkiError> {
        let c = self.cert(ca)?;
        if !c.info.is_ca {
            return Err(PkiError::NotAuthority {
                name: ca.to_owned(),
            });
        }
        let crls: Vec<_> = self.crl(ca).map(|c| c.der.clone()).into_iter().collect();
        Ok(PeerVerifier::new(core::slice::from_ref(&c.der), role)?.with_crls(&crls)?)
    }

    /// Checks a peer's chain (end entity first) with [`Store::peer_verifier`].
    pub fn verify_peer(
        &self,
        chain: &[CertificateDer<'_>],
        role: PeerRole,
        now: UnixTime,
    ) -> Result<VerifiedPeer, PkiError> {
        Ok(self.peer_verifier(role)?.verify_chain(chain, now)?)
    }

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

    fn export_as(
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

/// The element just pushed.
fn last<T>(v: &[T]) -> &T {
    // Only called right after a push, so `v` is not empty.
    &v[v.len() - 1]
}

/// rcgen parameters for a template, valid from `now` for its days.
fn template_params(
    t: &Template,
    now: UnixTime,
    serial: &[u8],
) -> Result<rcgen::CertificateParams, PkiError> {
    let mut p = rcgen::CertificateParams::default();
    let start = now.as_secs();
    p.not_before = offset_time(start)?;
    p.not_after = offset_time(start.saturating_add(u64::from(t.days_valid) * 86_400))?;
    p.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
    let mut dn = rcgen::DistinguishedName::new();
    let s = &t.subject;
    if let Some(c) = &s.country {
        // RFC 5280: countryName is a PrintableString.
        let v = rcgen::PrintableString::try_from(c.as_str())
            .map_err(|_| PkiError::invalid("country", c, "two letters"))?;
        dn.push(
            rcgen::DnType::CountryName,
            rcgen::DnValue::PrintableString(v),
        );
    }
    for (ty, v) in [
        (rcgen::DnType::StateOrProvinceName, &s.state),
        (rcgen::DnType::LocalityName, &s.locality),
        (rcgen::DnType::OrganizationName, &s.organization),
        (rcgen::DnType::OrganizationalUnitName, &s.unit),
    ] {
        if let Some(v) = v {
            dn.push(ty, rcgen::DnValue::Utf8String(v.clone()));
        }
    }
    dn.push(
        rcgen::DnType::CommonName,
        rcgen::DnValue::Utf8String(s.common_name.clone()),
    );
    p.distinguished_name = dn;
    for san in &t.subject_alt_names {
        let ia5 = |v: &str| {
            rcgen::Ia5String::try_from(v)
                .map_err(|_| PkiError::invalid("subject-alt-name", v, "ASCII"))
        };
        p.subject_alt_names.push(match san {
            crate::SubjectAltName::Dns(d) => rcgen::SanType::DnsName(ia5(d)?),
            crate::SubjectAltName::Ip(ip) => rcgen::SanType::IpAddress(*ip),
            crate::SubjectAltName::Email(e) => rcgen::SanType::Rfc822Name(ia5(e)?),
        });
    }
    p.is_ca = if t.is_ca() {
        rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
    } else {
        rcgen::IsCa::ExplicitNoCa
    };
    for u in t.key_usage.iter() {
        use rcgen::{ExtendedKeyUsagePurpose as E, KeyUsagePurpose as K};
        match u {
            KeyUsage::DigitalSignature => p.key_usages.push(K::DigitalSignature),
            KeyUsage::ContentCommitment => p.key_usages.push(K::ContentCommitment),
            KeyUsage::KeyEncipherment => p.key_usages.push(K::KeyEncipherment),
            KeyUsage::DataEncipherment => p.key_usages.push(K::DataEncipherment),
            KeyUsage::KeyAgreement => p.key_usages.push(K::KeyAgreement),
            KeyUsage::KeyCertSign => p.key_usages.push(K::KeyCertSign),
            KeyUsage::CrlSign => p.key_usages.push(K::CrlSign),
            KeyUsage::EncipherOnly => p.key_usages.push(K::EncipherOnly),
            KeyUsage::DecipherOnly => p.key_usages.push(K::DecipherOnly),
            KeyUsage::TlsServer => p.extended_key_usages.push(E::ServerAuth),
            KeyUsage::TlsClient => p.extended_key_usages.push(E::ClientAuth),
            KeyUsage::CodeSign => p.extended_key_usages.push(E::CodeSigning),
            KeyUsage::EmailProtect => p.extended_key_usages.push(E::EmailProtection),
            KeyUsage::Timestamp => p.extended_key_usages.push(E::TimeStamping),
            KeyUsage::OcspSign => p.extended_key_usages.push(E::OcspSigning),
            other => {
                if let Some(arcs) = cert::eku_arcs(other) {
                    p.extended_key_usages.push(E::Other(arcs));
                }
            }
        }
    }
    p.use_authority_key_identifier_extension = true;
    p.key_identifier_method = rcgen::KeyIdMethod::Sha256;
    Ok(p)
}

/// An rcgen issuer for an existing CA certificate: its subject name and key identifier, signed
/// (throwaway) by its key.
fn issuer_cert(ca: &Certificate, signer: &rcgen::KeyPair) -> Result<rcgen::Certificate, PkiError> {
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name =
        cert::rcgen_dn(&ca.info.subject_der).map_err(|reason| PkiError::Certificate {
            name: ca.name.clone(),
            reason: format!("subject name cannot be used as issuer: {reason}"),
        })?;
    p.key_identifier_method = match &ca.info.skid {
        Some(s) => rcgen::KeyIdMethod::PreSpecified(s.clone()),
        None => rcgen::KeyIdMethod::Sha256,
    };
    p.self_signed(signer).map_err(crypto)
}

/// The subject public key of `key` for rcgen.
fn subject_key(key: &PrivateKey) -> Result<SubjectKey, PkiError> {
    let alg = match key.key_type() {
        KeyType::Rsa { .. } => &rcgen::PKCS_RSA_SHA256,
        KeyType::Ec(key::Curve::P256) => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyType::Ec(key::Curve::P384) => &rcgen::PKCS_ECDSA_P384_SHA384,
        other => return Err(PkiError::unsupported(format!("certifying a {other} key"))),
    };
    let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(key.spki())
        .map_err(|e| PkiError::Crypto(format!("public key: {e}")))?;
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Crypto("public key bit string".into()))?
        .to_vec();
    Ok(SubjectKey { alg, raw })
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

    #[test]
    fn flags_display() {
        let f = Flags {
            private_key: true,
            crl: true,
            authority: true,
            trusted: true,
            ..Flags::default()
        };
        assert_eq!(f.to_string(), "KLA   T");
        assert_eq!(Flags::default().to_string(), "       ");
    }
}
