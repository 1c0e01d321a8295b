//! Revocation (`issued-revoke`) and the CRLs the store signs or imports.

use pkcs8::der::{Decode, Encode};
use rustls_pki_types::{CertificateRevocationListDer, UnixTime};
use zeroize::Zeroize;

use super::sign::{crypto, issuer_cert, offset_time};
use super::{Certificate, Store, last};
use crate::error::PkiError;
use crate::usage::KeyUsage;

/// A CRL held by the store: signed here by one of its CAs, or imported.
#[derive(Debug, Clone)]
pub struct Crl {
    pub(crate) ca: String,
    pub(crate) der: CertificateRevocationListDer<'static>,
    pub(crate) number: u64,
    pub(crate) this_update: UnixTime,
    pub(crate) next_update: Option<UnixTime>,
    pub(crate) revoked: Vec<(Vec<u8>, UnixTime)>,
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

    pub(super) fn issuer_der(&self) -> Option<Vec<u8>> {
        let list = x509_cert::crl::CertificateList::from_der(&self.der).ok()?;
        list.tbs_cert_list.issuer.to_der().ok()
    }
}

impl Store {
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

    pub(super) fn check_crl_signer(&self, ca: &str) -> Result<(), PkiError> {
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

    pub(super) fn listed_in_crl(&self, c: &Certificate) -> bool {
        self.crls.iter().any(|crl| {
            crl.revoked.iter().any(|(s, _)| *s == c.info.serial)
                && self
                    .get(&crl.ca)
                    .is_some_and(|ca| ca.info.subject_der == c.info.issuer_der)
        })
    }
}
