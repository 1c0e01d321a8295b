//! The peer-certificate check OpenVPN does after the TLS handshake: the chain leads to a trusted
//! CA, every certificate is within its validity at `now`, the end-entity certificate carries the
//! key usage and extended key usage of its role (`remote-cert-tls server|client`), and it is not
//! revoked by a CRL. No host name is checked: OpenVPN does not.
//!
//! Path building and signatures are rustls-webpki's (with ring); key usage follows OpenVPN 2.6's
//! `remote-cert-tls`: the extended key usage must name the role and the key usage extension must
//! be present (`ssl_verify_openssl.c: x509_verify_cert_ku`, `OPENVPN_KU_REQUIRED`), and allow a
//! TLS handshake (digital-signature, key-encipherment or key-agreement).

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::CertRevocationList;

use crate::cert::CertInfo;
use crate::error::VerifyError;
use crate::key::{Curve, KeyType};
use crate::usage::{KeyUsage, PeerRole};

/// id-kp-serverAuth 1.3.6.1.5.5.7.3.1, DER value bytes.
const EKU_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// id-kp-clientAuth 1.3.6.1.5.5.7.3.2, DER value bytes.
const EKU_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// What to do with a CRL whose next-update has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrlExpiry {
    /// Refuse every peer its CA's stale CRL covers ([`VerifyError::CrlExpired`]), as OpenSSL
    /// (and so OpenVPN's `crl-verify`) does. The default.
    #[default]
    Enforce,
    /// Use the stale CRL anyway (revoked stays revoked, the rest pass).
    Ignore,
}

impl core::fmt::Display for CrlExpiry {
    /// The property value: `refuse` or `warn`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Enforce => "refuse",
            Self::Ignore => "warn",
        })
    }
}

impl core::str::FromStr for CrlExpiry {
    type Err = String;

    /// `refuse` or `warn` (the property `crl-expiry`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "refuse" => Ok(Self::Enforce),
            "warn" => Ok(Self::Ignore),
            _ => Err("crl-expiry: expected warn or refuse".into()),
        }
    }
}

/// A peer whose chain was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedPeer {
    /// The subject's common name (OpenVPN's `common_name`, its default `username-as-common-name`
    /// source).
    pub common_name: String,
    /// The certificate's serial number, big-endian bytes.
    pub serial: Vec<u8>,
    /// SHA-256 of the DER certificate.
    pub fingerprint: [u8; 32],
    /// The certificate's `invalid-after`.
    pub not_after: UnixTime,
    /// The issuing CA's common name, if any.
    pub issuer_common_name: Option<String>,
}

impl VerifiedPeer {
    /// The serial number in upper-case hex (RouterOS's form).
    pub fn serial_hex(&self) -> String {
        crate::props::hex_upper(&self.serial)
    }

    /// The fingerprint in lower-case hex (RouterOS's form).
    pub fn fingerprint_hex(&self) -> String {
        crate::props::hex_lower(&self.fingerprint)
    }
}

/// Checks peer certificate chains against trusted CAs and CRLs for one role. Build it once per
/// configuration (it parses the CAs and CRLs) and call [`PeerVerifier::verify`] for every
/// handshake; it is `Send + Sync` and cheap to share in an `Arc`.
///
/// ```
/// use ovpn_pki::{PeerRole, PeerVerifier, Store, Template, VerifyError};
/// use rustls_pki_types::UnixTime;
/// use std::time::Duration;
///
/// let now = UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000));
/// let mut store = Store::new();
/// let mut ca = Template::new("ca-template", "OpenVPN CA");
/// ca.key_size = ovpn_pki::KeySize::Prime256v1;
/// ca.key_usage = "key-cert-sign,crl-sign".parse().unwrap();
/// store.add(ca)?;
/// store.sign("ca-template", Some("ca-template"), Some("ca"), now)?;
/// let mut client = Template::new("client1", "client1");
/// client.key_size = ovpn_pki::KeySize::Prime256v1;
/// client.key_usage = "digital-signature,key-encipherment,tls-client".parse().unwrap();
/// store.add(client)?;
/// store.sign("client1", Some("ca"), None, now)?;
///
/// // A server checks its clients:
/// let verifier = store.peer_verifier(PeerRole::TlsClient)?;
/// let chain = store.chain("client1")?;
/// let peer = verifier.verify(&chain[0], &chain[1..], now)?;
/// assert_eq!(peer.common_name, "client1");
///
/// // A client checking its server refuses a client certificate:
/// let verifier = store.peer_verifier(PeerRole::TlsServer)?;
/// let err = verifier.verify(&chain[0], &[], now).unwrap_err();
/// assert!(matches!(err, VerifyError::WrongKeyUsage { .. }));
/// assert!(err.to_string().starts_with("could not verify peer certificate: wrong key usage"));
/// # Ok::<(), ovpn_pki::PkiError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PeerVerifier {
    anchors: Vec<TrustAnchor<'static>>,
    /// Subject name and key type of each trusted CA, to explain signature failures.
    anchor_keys: Vec<(Vec<u8>, KeyType)>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    role: PeerRole,
    crl_expiry: CrlExpiry,
    /// `verify-server-certificate=yes`: the name the peer's common name must be.
    expected_name: Option<String>,
}

impl PeerVerifier {
    /// A verifier trusting the CA certificates `trusted` (DER), for peers of `role`, without CRLs.
    pub fn new(trusted: &[CertificateDer<'_>], role: PeerRole) -> Result<Self, VerifyError> {
        let anchors = trusted
            .iter()
            .map(|c| {
                webpki::anchor_from_trusted_cert(c)
                    .map(|a| a.to_owned())
                    .map_err(|e| VerifyError::Malformed {
                        detail: format!("trusted CA certificate: {e}"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let anchor_keys = trusted
            .iter()
            .filter_map(|c| CertInfo::parse(c).ok())
            .map(|i| (i.subject_der, i.key_type))
            .collect();
        Ok(Self {
            anchors,
            anchor_keys,
            crls: Vec::new(),
            role,
            crl_expiry: CrlExpiry::default(),
            expected_name: None,
        })
    }

    /// Adds CRLs (DER). A peer listed in the CRL of its issuer is refused as
    /// [`VerifyError::Revoked`]; CRLs of other CAs are ignored for it.
    pub fn with_crls(
        mut self,
        crls: &[CertificateRevocationListDer<'_>],
    ) -> Result<Self, VerifyError> {
        for crl in crls {
            webpki::BorrowedCertRevocationList::from_der(crl).map_err(|e| {
                VerifyError::Malformed {
                    detail: format!("CRL: {e}"),
                }
            })?;
            self.crls
                .push(CertificateRevocationListDer::from(crl.to_vec()));
        }
        Ok(self)
    }

    /// Sets what a stale CRL does (default [`CrlExpiry::Enforce`]).
    pub fn with_crl_expiry(mut self, crl_expiry: CrlExpiry) -> Self {
        self.crl_expiry = crl_expiry;
        self
    }

    /// Also requires the peer's common name to be `name`, compared without regard to ASCII case
    /// (RouterOS's client `verify-server-certificate=yes` against its `connect-to`). A peer with
    /// another name is refused as [`VerifyError::NameMismatch`].
    pub fn with_expected_name(mut self, name: impl Into<String>) -> Self {
        self.expected_name = Some(name.into());
        self
    }

    /// The role this verifier checks for.
    pub fn role(&self) -> PeerRole {
        self.role
    }

    /// Checks the peer's chain as presented in the TLS handshake: `end_entity` first, then the
    /// `intermediates` it sent (possibly none; the trusted CA need not be among them), at `now`.
    ///
    /// Returns the verified peer's identity, or the first reason to refuse it: a parse failure
    /// ([`VerifyError::Malformed`]), validity ([`VerifyError::Expired`],
    /// [`VerifyError::NotYetValid`]), role ([`VerifyError::WrongKeyUsage`]), chain
    /// ([`VerifyError::UnknownCa`]), revocation ([`VerifyError::Revoked`],
    /// [`VerifyError::CrlExpired`]).
    pub fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<VerifiedPeer, VerifyError> {
        let info =
            CertInfo::parse(end_entity).map_err(|detail| VerifyError::Malformed { detail })?;
        if !usable_key(info.key_type) {
            return Err(VerifyError::UnsupportedAlgorithm);
        }
        let ee =
            webpki::EndEntityCert::try_from(end_entity).map_err(|e| map_webpki(e, self.role))?;
        // webpki applies its EKU rule to intermediates too, where RFC 5280 (and OpenSSL) only
        // require the purpose if the extension is present; the end entity's EKU is required
        // below.
        let eku = webpki::KeyUsage::required_if_present(match self.role {
            PeerRole::TlsServer => EKU_SERVER_AUTH,
            PeerRole::TlsClient => EKU_CLIENT_AUTH,
        });
        // Checked when added; parsing borrows and allocates nothing.
        let crls: Vec<CertRevocationList<'_>> = self
            .crls
            .iter()
            .filter_map(|c| webpki::BorrowedCertRevocationList::from_der(c).ok())
            .map(CertRevocationList::Borrowed)
            .collect();
        let crl_refs: Vec<&CertRevocationList<'_>> = crls.iter().collect();
        let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
            .ok()
            .map(|b| {
                b.with_depth(webpki::RevocationCheckDepth::Chain)
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .with_expiration_policy(match self.crl_expiry {
                        CrlExpiry::Enforce => webpki::ExpirationPolicy::Enforce,
                        CrlExpiry::Ignore => webpki::ExpirationPolicy::Ignore,
                    })
                    .build()
            });
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            intermediates,
            now,
            eku,
            revocation,
            None,
        )
        .map_err(|e| {
            let bad_signature = matches!(e, webpki::Error::InvalidSignatureForPublicKey);
            let mapped = map_webpki(e, self.role);
            if bad_signature && self.issuer_key_unusable(&info, intermediates) {
                VerifyError::UnsupportedAlgorithm
            } else {
                mapped
            }
        })?;

        // remote-cert-tls: the extended key usage must name the role
        // (`ssl_verify_openssl.c: x509_verify_cert_eku`, which fails without the extension).
        if !info.has_extended_key_usage_extension || !info.key_usage.contains(self.role.key_usage())
        {
            return Err(VerifyError::WrongKeyUsage {
                expected: self.role,
                detail: match self.role {
                    PeerRole::TlsServer => "extended key usage lacks tls-server",
                    PeerRole::TlsClient => "extended key usage lacks tls-client",
                },
            });
        }
        // remote-cert-tls: the key usage extension must be present (OPENVPN_KU_REQUIRED) and
        // allow the TLS handshake.
        if !info.has_key_usage_extension {
            return Err(VerifyError::WrongKeyUsage {
                expected: self.role,
                detail: "no key usage extension",
            });
        }
        if ![
            KeyUsage::DigitalSignature,
            KeyUsage::KeyEncipherment,
            KeyUsage::KeyAgreement,
        ]
        .into_iter()
        .any(|u| info.key_usage.contains(u))
        {
            return Err(VerifyError::WrongKeyUsage {
                expected: self.role,
                detail: "key usage has none of digital-signature, key-encipherment, key-agreement",
            });
        }
        if info.subject.common_name.is_empty() {
            return Err(VerifyError::Malformed {
                detail: "subject has no common name".into(),
            });
        }
        if let Some(expected) = &self.expected_name
            && !info.subject.common_name.eq_ignore_ascii_case(expected)
        {
            return Err(VerifyError::NameMismatch {
                expected: expected.clone(),
                found: info.subject.common_name,
            });
        }
        Ok(VerifiedPeer {
            common_name: info.subject.common_name,
            serial: info.serial,
            fingerprint: info.fingerprint,
            not_after: info.not_after,
            issuer_common_name: info.issuer_common_name,
        })
    }

    /// Whether a CA that could have issued `info` has a key ring cannot verify with.
    fn issuer_key_unusable(&self, info: &CertInfo, intermediates: &[CertificateDer<'_>]) -> bool {
        let from_chain = intermediates
            .iter()
            .filter_map(|c| CertInfo::parse(c).ok())
            .map(|i| (i.subject_der, i.key_type));
        self.anchor_keys
            .iter()
            .cloned()
            .chain(from_chain)
            .any(|(subject, kt)| subject == info.issuer_der && !usable_key(kt))
    }

    /// [`PeerVerifier::verify`] for a chain given as one slice, end entity first.
    pub fn verify_chain(
        &self,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<VerifiedPeer, VerifyError> {
        let (ee, rest) = chain.split_first().ok_or(VerifyError::NoCertificate)?;
        self.verify(ee, rest, now)
    }
}

/// Whether ring (rustls' provider here) can verify signatures made with a key of this type.
fn usable_key(kt: KeyType) -> bool {
    match kt {
        KeyType::Rsa { bits } => (2048..=8192).contains(&bits),
        KeyType::Ec(c) => matches!(c, Curve::P256 | Curve::P384),
        _ => false,
    }
}

/// One-shot check: `chain` (end entity first) against the `trusted` CA certificates for `role`
/// at `now`, with `crls`. See [`PeerVerifier`] to check many peers with the same configuration.
pub fn verify_peer(
    chain: &[CertificateDer<'_>],
    trusted: &[CertificateDer<'_>],
    role: PeerRole,
    now: UnixTime,
    crls: &[CertificateRevocationListDer<'_>],
) -> Result<VerifiedPeer, VerifyError> {
    PeerVerifier::new(trusted, role)?
        .with_crls(crls)?
        .verify_chain(chain, now)
}

#[allow(
    deprecated,
    reason = "older webpki releases still return the context-free variants"
)]
fn map_webpki(e: webpki::Error, role: PeerRole) -> VerifyError {
    use webpki::Error as E;
    match e {
        E::CertExpired { time, not_after } => VerifyError::Expired {
            not_after: not_after.as_secs(),
            now: time.as_secs(),
        },
        E::CertNotValidYet { time, not_before } => VerifyError::NotYetValid {
            not_before: not_before.as_secs(),
            now: time.as_secs(),
        },
        E::UnknownIssuer | E::InvalidSignatureForPublicKey => VerifyError::UnknownCa,
        E::CertRevoked => VerifyError::Revoked,
        E::CrlExpired { .. } => VerifyError::CrlExpired,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            VerifyError::WrongKeyUsage {
                expected: role,
                detail: match role {
                    PeerRole::TlsServer => "extended key usage lacks tls-server",
                    PeerRole::TlsClient => "extended key usage lacks tls-client",
                },
            }
        }
        E::CaUsedAsEndEntity => VerifyError::WrongKeyUsage {
            expected: role,
            detail: "a CA certificate cannot be a peer certificate",
        },
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            VerifyError::UnsupportedAlgorithm
        }
        E::BadDer
        | E::BadDerTime
        | E::TrailingData(_)
        | E::UnsupportedCertVersion
        | E::MalformedExtensions
        | E::ExtensionValueInvalid
        | E::InvalidSerialNumber
        | E::InvalidCertValidity
        | E::UnsupportedCriticalExtension => VerifyError::Malformed {
            detail: format!("{e}"),
        },
        other => VerifyError::Other {
            detail: format!("{other}"),
        },
    }
}
