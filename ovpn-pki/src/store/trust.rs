//! What the peer checks are built from: the trusted CAs and the CRLs of the store.

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};

use super::Store;
use crate::error::PkiError;
use crate::usage::PeerRole;
use crate::verify::{PeerVerifier, VerifiedPeer};

impl Store {
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
        Ok(PeerVerifier::new(&self.trusted_cas(), role)?
            .with_crls(&self.crl_ders())?
            .with_crl_expiry(self.settings.crl_expiry))
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
        Ok(PeerVerifier::new(core::slice::from_ref(&c.der), role)?
            .with_crls(&crls)?
            .with_crl_expiry(self.settings.crl_expiry))
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
}
