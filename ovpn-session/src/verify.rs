//! Certificate checks plugged into rustls, OpenVPN style: the peer's chain must lead to a trusted CA
//! and carry the role's key usage (`remote-cert-tls`), and no host name is checked.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Checks a peer's certificate chain. `ovpn-pki` provides the standard one (trusted CAs, validity,
/// key usage for the role, CRLs); a product can plug in its own.
pub trait PeerCheck: core::fmt::Debug + Send + Sync {
    /// Accepts or refuses the chain (`end_entity` first, then what the peer sent after it) at `now`.
    /// The error's `Display` is logged after `certificate verification failed: `.
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// The standard check: the chain leads to a trusted CA, is valid now, is not revoked, and carries
/// the role's key usage (OpenVPN's `remote-cert-tls`).
impl PeerCheck for ovpn_pki::PeerVerifier {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        match self.verify(end_entity, intermediates, now) {
            Ok(peer) => {
                tracing::debug!(target: "ovpn", "peer certificate {} verified", peer.common_name);
                Ok(())
            }
            Err(e) => Err(Box::new(e)),
        }
    }
}

/// The refusal as it travels through rustls (recovered by [`refusal_reason`]).
#[derive(Debug)]
struct Refused(Box<dyn std::error::Error + Send + Sync>);

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

fn refuse(e: Box<dyn std::error::Error + Send + Sync>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
        Refused(e),
    ))))
}

/// Describes a TLS failure in RouterOS's words where it is about certificates: a refusal by our
/// [`PeerCheck`] reads as the check words it (ovpn-pki: `could not verify peer certificate: <why>`),
/// other certificate problems `certificate verification failed: <why>`, the peer refusing our
/// certificate says so; any other TLS error is described as rustls describes it.
pub fn refusal_reason(e: &rustls::Error) -> String {
    match e {
        // Our PeerCheck's own words (ovpn-pki says `could not verify peer certificate: <why>`).
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => o.0.to_string(),
        rustls::Error::InvalidCertificate(c) => {
            format!("certificate verification failed: {c:?}")
        }
        rustls::Error::NoCertificatesPresented => {
            "certificate verification failed: the peer sent no certificate".into()
        }
        rustls::Error::AlertReceived(a) => match a {
            rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::UnsupportedCertificate
            | rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::AccessDenied => {
                format!("the peer refused our certificate ({a:?})")
            }
            other => format!("TLS alert from the peer: {other:?}"),
        },
        other => format!("TLS error: {other}"),
    }
}

/// Our side of rustls' certificate checks, for both roles: a client checks the server's chain (the
/// name is ignored: OpenVPN verifies no host name); a server asks for a client certificate when
/// `require-client-certificate=yes` and checks it, and asks for none with `no` (`check: None`).
#[derive(Debug)]
pub(crate) struct Verifier {
    check: Option<Arc<dyn PeerCheck>>,
    algs: WebPkiSupportedAlgorithms,
}

impl Verifier {
    pub(crate) fn new(check: Option<Arc<dyn PeerCheck>>, provider: &CryptoProvider) -> Self {
        Self {
            check,
            algs: provider.signature_verification_algorithms,
        }
    }

    fn accept(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        match &self.check {
            Some(c) => c.check(end_entity, intermediates, now).map_err(refuse),
            None => Ok(()),
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.accept(end_entity, intermediates, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

impl ClientCertVerifier for Verifier {
    fn offer_client_auth(&self) -> bool {
        self.check.is_some()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.check.is_some()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.accept(end_entity, intermediates, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls12_signature(self, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls13_signature(self, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        ServerCertVerifier::supported_verify_schemes(self)
    }
}
