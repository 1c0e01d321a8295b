//! What the store reads from a certificate (x509-cert): subject, serial, validity, usages.

use pkcs8::ObjectIdentifier;
use pkcs8::der::asn1::{
    BmpString, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef,
};
use pkcs8::der::{Decode, Encode, Tag, Tagged};
use rustls_pki_types::UnixTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage as X509KeyUsage,
    SubjectAltName as X509San, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use crate::key::KeyType;
use crate::template::{Subject, SubjectAltName};
use crate::usage::{KeyUsage, KeyUsages};

pub(crate) const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_L: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.7");
const OID_ST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");

/// Extended key usage OIDs (RFC 5280 4.2.1.12; dvcs: RFC 3029).
const EKUS: [(KeyUsage, &str); 7] = [
    (KeyUsage::TlsServer, "1.3.6.1.5.5.7.3.1"),
    (KeyUsage::TlsClient, "1.3.6.1.5.5.7.3.2"),
    (KeyUsage::CodeSign, "1.3.6.1.5.5.7.3.3"),
    (KeyUsage::EmailProtect, "1.3.6.1.5.5.7.3.4"),
    (KeyUsage::Timestamp, "1.3.6.1.5.5.7.3.8"),
    (KeyUsage::OcspSign, "1.3.6.1.5.5.7.3.9"),
    (KeyUsage::Dvcs, "1.3.6.1.5.5.7.3.10"),
];

/// The arcs of the EKU OID for `usage` (for rcgen), if it is an extended key usage.
pub(crate) fn eku_arcs(usage: KeyUsage) -> Option<Vec<u64>> {
    EKUS.iter()
        .find(|(u, _)| *u == usage)
        .map(|(_, oid)| oid.split('.').filter_map(|a| a.parse().ok()).collect())
}

/// Facts read from a certificate, as `print detail` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertInfo {
    /// The subject's fields (empty `common_name` if it has none).
    pub subject: Subject,
    /// The issuer's common name, if any.
    pub issuer_common_name: Option<String>,
    /// The serial number, big-endian bytes as encoded.
    pub serial: Vec<u8>,
    /// SHA-256 of the DER certificate (RouterOS's `fingerprint`).
    pub fingerprint: [u8; 32],
    /// `invalid-before` (notBefore).
    pub not_before: UnixTime,
    /// `invalid-after` (notAfter).
    pub not_after: UnixTime,
    /// Key usage bits and extended key usages, in RouterOS names.
    pub key_usage: KeyUsages,
    /// Whether the certificate has a keyUsage extension at all.
    pub has_key_usage_extension: bool,
    /// Whether the certificate has an extendedKeyUsage extension at all.
    pub has_extended_key_usage_extension: bool,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    /// Subject and issuer names are equal.
    pub self_issued: bool,
    /// The public key's type and size.
    pub key_type: KeyType,
    /// subjectKeyIdentifier, if present.
    pub skid: Option<Vec<u8>>,
    /// authorityKeyIdentifier keyIdentifier, if present.
    pub akid: Option<Vec<u8>>,
    /// subjectAltName entries this crate understands (DNS, IP, email).
    pub subject_alt_names: Vec<SubjectAltName>,
    pub(crate) subject_der: Vec<u8>,
    pub(crate) issuer_der: Vec<u8>,
    pub(crate) spki_der: Vec<u8>,
}

impl CertInfo {
    /// Reads a DER certificate (the one a TLS peer presented, say).
    pub fn from_der(der: &[u8]) -> Result<Self, crate::VerifyError> {
        Self::parse(der).map_err(|detail| crate::VerifyError::Malformed { detail })
    }

    /// Parses a DER certificate.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
        let tbs = &cert.tbs_certificate;
        let subject_der = tbs.subject.to_der().map_err(|e| e.to_string())?;
        let issuer_der = tbs.issuer.to_der().map_err(|e| e.to_string())?;
        let spki_der = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?;
        let spki_ref =
            pkcs8::spki::SubjectPublicKeyInfoRef::from_der(&spki_der).map_err(|e| e.to_string())?;
        let key_type = KeyType::from_spki(&spki_ref);

        let ext_err = |what: &str, e: pkcs8::der::Error| format!("{what} extension: {e}");
        let mut key_usage = KeyUsages::EMPTY;
        let ku = tbs
            .get::<X509KeyUsage>()
            .map_err(|e| ext_err("keyUsage", e))?;
        let has_key_usage_extension = ku.is_some();
        if let Some((_, ku)) = ku {
            let bits = ku.0.bits();
            for (i, u) in KeyUsage::ALL.iter().take(9).enumerate() {
                if bits & (1 << i) != 0 {
                    key_usage.insert(*u);
                }
            }
        }
        let eku = tbs
            .get::<ExtendedKeyUsage>()
            .map_err(|e| ext_err("extendedKeyUsage", e))?;
        let has_extended_key_usage_extension = eku.is_some();
        if let Some((_, eku)) = eku {
            for oid in &eku.0 {
                let s = oid.to_string();
                if let Some((u, _)) = EKUS.iter().find(|(_, o)| *o == s) {
                    key_usage.insert(*u);
                }
            }
        }
        let is_ca = tbs
            .get::<BasicConstraints>()
            .map_err(|e| ext_err("basicConstraints", e))?
            .is_some_and(|(_, bc)| bc.ca);
        let skid = tbs
            .get::<SubjectKeyIdentifier>()
            .map_err(|e| ext_err("subjectKeyIdentifier", e))?
            .map(|(_, s)| s.0.as_bytes().to_vec());
        let akid = tbs
            .get::<AuthorityKeyIdentifier>()
            .map_err(|e| ext_err("authorityKeyIdentifier", e))?
            .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec()));
        let mut subject_alt_names = Vec::new();
        if let Some((_, san)) = tbs
            .get::<X509San>()
            .map_err(|e| ext_err("subjectAltName", e))?
        {
            for name in &san.0 {
                match name {
                    GeneralName::DnsName(d) => {
                        subject_alt_names.push(SubjectAltName::Dns(d.to_string()));
                    }
                    GeneralName::Rfc822Name(e) => {
                        subject_alt_names.push(SubjectAltName::Email(e.to_string()));
                    }
                    GeneralName::IpAddress(ip) => {
                        let b = ip.as_bytes();
                        if let Ok(v4) = <[u8; 4]>::try_from(b) {
                            subject_alt_names.push(SubjectAltName::Ip(v4.into()));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                            subject_alt_names.push(SubjectAltName::Ip(v6.into()));
                        }
                    }
                    _ => {}
                }
            }
        }

        let unix = |t: x509_cert::time::Time| UnixTime::since_unix_epoch(t.to_unix_duration());
        let fingerprint = {
            let d = ring::digest::digest(&ring::digest::SHA256, der);
            let mut out = [0u8; 32];
            out.copy_from_slice(d.as_ref());
            out
        };
        Ok(Self {
            subject: subject_of(&tbs.subject),
            issuer_common_name: attr(&tbs.issuer, OID_CN),
            serial: tbs.serial_number.as_bytes().to_vec(),
            fingerprint,
            not_before: unix(tbs.validity.not_before),
            not_after: unix(tbs.validity.not_after),
            key_usage,
            has_key_usage_extension,
            has_extended_key_usage_extension,
            is_ca,
            self_issued: subject_der == issuer_der,
            key_type,
            skid,
            akid,
            subject_alt_names,
            subject_der,
            issuer_der,
            spki_der,
        })
    }

    /// The serial number in upper-case hex without leading zero bytes (RouterOS's
    /// `serial-number`).
    pub fn serial_hex(&self) -> String {
        let start = self
            .serial
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(self.serial.len().saturating_sub(1));
        crate::props::hex_upper(self.serial.get(start..).unwrap_or(&[]))
    }

    /// The fingerprint in lower-case hex.
    pub fn fingerprint_hex(&self) -> String {
        crate::props::hex_lower(&self.fingerprint)
    }

    /// Whether `now` is after `invalid-after`.
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now.as_secs() > self.not_after.as_secs()
    }
}

/// The first value of attribute `oid` in `name`, as text.
pub(crate) fn attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| any_to_string(&atv.value))
}

fn subject_of(name: &Name) -> Subject {
    Subject {
        common_name: attr(name, OID_CN).unwrap_or_default(),
        country: attr(name, OID_C),
        state: attr(name, OID_ST),
        locality: attr(name, OID_L),
        organization: attr(name, OID_O),
        unit: attr(name, OID_OU),
    }
}

/// Decodes a directory string (UTF8, Printable, IA5, Teletex, BMP) to text.
pub(crate) fn any_to_string(v: &pkcs8::der::Any) -> Option<String> {
    match v.tag() {
        Tag::Utf8String => v
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::PrintableString => v
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::Ia5String => v
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::TeletexString => v
            .decode_as::<TeletexStringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::BmpString => v.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// Rebuilds `name` as an rcgen DistinguishedName (to sign with an existing CA). Fails on
/// multi-valued RDNs, repeated attribute types and string types rcgen cannot write; the caller
/// also checks the issued certificate's issuer bytes.
pub(crate) fn rcgen_dn(name_der: &[u8]) -> Result<rcgen::DistinguishedName, String> {
    let name = Name::from_der(name_der).map_err(|e| e.to_string())?;
    let mut dn = rcgen::DistinguishedName::new();
    let mut seen = Vec::new();
    for rdn in &name.0 {
        let [atv] = rdn.0.as_slice() else {
            return Err("multi-valued name component".into());
        };
        if seen.contains(&atv.oid) {
            return Err(format!("repeated name attribute {}", atv.oid));
        }
        seen.push(atv.oid);
        let arcs: Vec<u64> = atv.oid.arcs().map(u64::from).collect();
        let ty = rcgen::DnType::from_oid(&arcs);
        let bad = |e: rcgen::Error| e.to_string();
        let v = &atv.value;
        let value = match v.tag() {
            Tag::Utf8String => {
                rcgen::DnValue::Utf8String(any_to_string(v).ok_or("bad UTF8String")?)
            }
            Tag::PrintableString => rcgen::DnValue::PrintableString(
                rcgen::PrintableString::try_from(any_to_string(v).ok_or("bad PrintableString")?)
                    .map_err(bad)?,
            ),
            Tag::Ia5String => rcgen::DnValue::Ia5String(
                rcgen::Ia5String::try_from(any_to_string(v).ok_or("bad IA5String")?)
                    .map_err(bad)?,
            ),
            Tag::TeletexString => rcgen::DnValue::TeletexString(
                rcgen::TeletexString::try_from(any_to_string(v).ok_or("bad TeletexString")?)
                    .map_err(bad)?,
            ),
            Tag::BmpString => rcgen::DnValue::BmpString(
                rcgen::BmpString::from_utf16be(v.value().to_vec()).map_err(bad)?,
            ),
            t => return Err(format!("name attribute of type {t}")),
        };
        dn.push(ty, value);
    }
    Ok(dn)
}
