//! Saving and loading the whole store as text (the caller writes and reads the file).
//!
//! The format is line-based: a `ovpn-pki-store 1` header, then sections. `[settings]`,
//! `[template]`, `[certificate]` and `[crl]` sections hold `key: value` lines (template keys are
//! RouterOS property names), certificates and CRLs are followed by their PEM blocks and a
//! certificate's private key by an unencrypted `PRIVATE KEY` block.

use core::fmt::Write as _;

use rustls_pki_types::{CertificateDer, UnixTime};
use zeroize::Zeroizing;

use crate::cert::CertInfo;
use crate::error::PkiError;
use crate::key::{self, PrivateKey};
use crate::store::{Certificate, Crl, Store, StoreSettings};
use crate::template::Template;

const HEADER: &str = "ovpn-pki-store 1";
const FILE: &str = "store";

fn bad(reason: impl ToString) -> PkiError {
    PkiError::malformed(FILE, "store", reason)
}

impl Store {
    /// The whole store as text, for the caller to keep (RouterOS keeps its `/certificate`
    /// table across reboots). **It contains the private keys unencrypted**: store it like a key
    /// file. [`Store::load`] reads it back.
    pub fn save(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        let s = &self.settings;
        let _ = write!(
            out,
            "{HEADER}\n[settings]\ncrl-days-valid: {}\nexport-pbkdf2-iterations: {}\nimport-max-kdf-cost: {}\ncrl-expiry: {}\ncrl-warning-days: {}\n",
            s.crl_days_valid,
            s.export_pbkdf2_iterations,
            s.import_max_kdf_cost,
            s.crl_expiry,
            s.crl_warning_days
        );
        for t in &self.templates {
            out.push_str("[template]\n");
            let sans: Vec<String> = t
                .subject_alt_names
                .iter()
                .map(ToString::to_string)
                .collect();
            let mut props = vec![
                ("name", t.name.clone()),
                ("common-name", t.subject.common_name.clone()),
                ("subject-alt-name", sans.join(",")),
                ("days-valid", t.days_valid.to_string()),
                ("key-size", t.key_size.to_string()),
                ("key-usage", t.key_usage.to_string()),
            ];
            for (k, v) in [
                ("country", &t.subject.country),
                ("state", &t.subject.state),
                ("locality", &t.subject.locality),
                ("organization", &t.subject.organization),
                ("unit", &t.subject.unit),
            ] {
                if let Some(v) = v {
                    props.push((k, v.clone()));
                }
            }
            if let Some(d) = t.digest_algorithm {
                props.push(("digest-algorithm", d.to_string()));
            }
            if let Some(tr) = t.trusted {
                props.push(("trusted", crate::props::yes_no_str(tr).to_owned()));
            }
            for (k, v) in props {
                let _ = writeln!(out, "{k}: {v}");
            }
        }
        for c in &self.certs {
            let _ = write!(
                out,
                "[certificate]\nname: {}\ntrusted: {}\n",
                c.name,
                crate::props::yes_no_str(c.trusted)
            );
            if let Some(by) = &c.issued_by {
                let _ = writeln!(out, "issued-by: {by}");
            }
            if let Some(at) = c.revoked_at {
                let _ = writeln!(out, "revoked-at: {}", at.as_secs());
            }
            out.push_str(&c.pem());
            if let Some(k) = c.key.as_ref().and_then(|k| k.to_pem().ok()) {
                out.push_str(&k);
            }
        }
        for crl in &self.crls {
            let _ = writeln!(out, "[crl]\nca: {}", crl.ca);
            out.push_str(&crl.pem());
        }
        out
    }

    /// Reads a store written by [`Store::save`]. Fails (naming the line) on anything it does
    /// not recognise, or on a key that does not belong to its certificate.
    pub fn load(text: &str) -> Result<Self, PkiError> {
        let mut lines = text.lines().enumerate().peekable();
        match lines.next() {
            Some((_, h)) if h.trim_end() == HEADER => {}
            _ => return Err(bad(format!("first line is not `{HEADER}`"))),
        }
        let mut store = Store::new();
        while let Some((n, line)) = lines.next() {
            let section = line.trim_end();
            // key: value lines
            let mut fields: Vec<(String, String)> = Vec::new();
            while let Some((_, l)) = lines.peek() {
                if l.starts_with('[') || l.starts_with("-----BEGIN ") {
                    break;
                }
                let (m, l) = lines.next().unwrap_or((n, ""));
                if l.trim().is_empty() {
                    continue;
                }
                let (k, v) = l
                    .split_once(": ")
                    .or_else(|| l.strip_suffix(':').map(|k| (k, "")))
                    .ok_or_else(|| bad(format!("line {}: expected `key: value`", m + 1)))?;
                fields.push((k.to_owned(), v.to_owned()));
            }
            // PEM blocks
            let mut pem = Zeroizing::new(String::new());
            while let Some((_, l)) = lines.peek() {
                if l.starts_with('[') {
                    break;
                }
                let (_, l) = lines.next().unwrap_or((n, ""));
                pem.push_str(l);
                pem.push('\n');
            }
            let field = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
            let at = |what: &str| format!("line {}: {what}", n + 1);
            match section {
                "[settings]" => store.settings = settings(&fields).map_err(|e| bad(at(&e)))?,
                "[template]" => {
                    let mut t = Template::new(String::new(), String::new());
                    for (k, v) in &fields {
                        t.set_property(k, v).map_err(|e| bad(at(&e.to_string())))?;
                    }
                    store.add(t).map_err(|e| bad(at(&e.to_string())))?;
                }
                "[certificate]" => {
                    let name = field("name")
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| bad(at("certificate without name")))?;
                    let blocks = crate::pem::blocks(pem.as_bytes()).map_err(|e| bad(at(&e)))?;
                    let mut der = None;
                    let mut key = None;
                    for b in blocks {
                        let bytes = b.decode().map_err(|e| bad(at(&format!("{e:?}"))))?;
                        match b.label.as_str() {
                            "CERTIFICATE" if der.is_none() => der = Some(bytes.to_vec()),
                            "PRIVATE KEY" if key.is_none() => {
                                key = Some(
                                    PrivateKey::from_pkcs8_der(&bytes)
                                        .map_err(|e| bad(at(&format!("private key: {e:?}"))))?,
                                );
                            }
                            other => return Err(bad(at(&format!("unexpected {other} block")))),
                        }
                    }
                    let der = der.ok_or_else(|| bad(at("certificate without PEM")))?;
                    let info = CertInfo::parse(&der).map_err(|e| bad(at(&e)))?;
                    if key
                        .as_ref()
                        .is_some_and(|k| !key::same_public_key(&info.spki_der, k.spki()))
                    {
                        return Err(bad(at("private key does not match the certificate")));
                    }
                    if store.get(name).is_some() || store.template(name).is_some() {
                        return Err(bad(at(&format!("name `{name}` used twice"))));
                    }
                    let revoked_at = match field("revoked-at") {
                        Some(v) => {
                            Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(
                                v.parse()
                                    .map_err(|_| bad(at("revoked-at is not a number")))?,
                            )))
                        }
                        None => None,
                    };
                    store.certs.push(Certificate {
                        name: name.to_owned(),
                        der: CertificateDer::from(der),
                        info,
                        key,
                        trusted: crate::props::yes_no("trusted", field("trusted").unwrap_or("no"))
                            .map_err(|e| bad(at(&e.to_string())))?,
                        issued_by: field("issued-by").map(ToOwned::to_owned),
                        revoked_at,
                    });
                }
                "[crl]" => {
                    let ca = field("ca").ok_or_else(|| bad(at("crl without ca")))?;
                    let blocks = crate::pem::blocks(pem.as_bytes()).map_err(|e| bad(at(&e)))?;
                    let block = blocks
                        .iter()
                        .find(|b| b.label == "X509 CRL")
                        .ok_or_else(|| bad(at("crl without PEM")))?;
                    let der = block.decode().map_err(|e| bad(at(&format!("{e:?}"))))?;
                    let crl = Crl::parse(&der, ca.to_owned()).map_err(|e| bad(at(&e)))?;
                    store.crls.retain(|c| c.ca != ca);
                    store.crls.push(crl);
                }
                other => return Err(bad(at(&format!("unknown section `{other}`")))),
            }
        }
        Ok(store)
    }
}

fn settings(fields: &[(String, String)]) -> Result<StoreSettings, String> {
    let mut s = StoreSettings::default();
    for (k, v) in fields {
        let num = || v.parse::<u64>().map_err(|_| format!("{k}: not a number"));
        let small = || u32::try_from(num()?).map_err(|_| format!("{k}: too large"));
        match k.as_str() {
            "crl-days-valid" => s.crl_days_valid = small()?,
            "export-pbkdf2-iterations" => s.export_pbkdf2_iterations = small()?,
            "import-max-kdf-cost" => s.import_max_kdf_cost = num()?,
            "crl-expiry" => s.crl_expiry = v.parse()?,
            "crl-warning-days" => s.crl_warning_days = small()?,
            _ => return Err(format!("unknown setting `{k}`")),
        }
    }
    Ok(s)
}
