//! `sign`: certificates made from templates, self-signed or by a CA of the store.

use pkcs8::der::Decode;
use ring::rand::SystemRandom;
use rustls_pki_types::UnixTime;
use zeroize::Zeroize;

use super::{Certificate, Store, last};
use crate::cert::{self, CertInfo};
use crate::error::PkiError;
use crate::key::{self, KeyType, PrivateKey};
use crate::template::Template;
use crate::usage::KeyUsage;

/// A subject public key for rcgen: the SPKI's algorithm (as an rcgen algorithm with the same key
/// OIDs) and key bits.
pub(super) struct SubjectKey {
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

pub(super) fn offset_time(t: u64) -> Result<time::OffsetDateTime, PkiError> {
    i64::try_from(t)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| PkiError::unsupported(format!("time {t} out of range")))
}

pub(super) fn crypto(e: rcgen::Error) -> PkiError {
    PkiError::Crypto(e.to_string())
}

impl Store {
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
    pub(super) fn new_serial(
        &self,
        rng: &SystemRandom,
        issuer: Option<&[u8]>,
    ) -> Result<[u8; 16], PkiError> {
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
}

/// rcgen parameters for a template, valid from `now` for its days.
pub(super) fn template_params(
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
pub(super) fn issuer_cert(
    ca: &Certificate,
    signer: &rcgen::KeyPair,
) -> Result<rcgen::Certificate, PkiError> {
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
pub(super) fn subject_key(key: &PrivateKey) -> Result<SubjectKey, PkiError> {
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
