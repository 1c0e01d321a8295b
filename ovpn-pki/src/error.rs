//! The crate's errors: [`PkiError`] for store operations and [`VerifyError`] for peer checks.

use crate::usage::PeerRole;

/// Why a `/certificate` operation failed. The store is left unchanged by every failed operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A property name that the command does not take.
    #[error("unknown property `{property}`")]
    UnknownProperty {
        /// The property as given.
        property: String,
    },
    /// A property value that does not parse.
    #[error("invalid value for `{property}`: {reason} (got \"{value}\")")]
    InvalidProperty {
        /// The property name, e.g. `key-size`.
        property: String,
        /// The value as given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A property the command needs was not given.
    #[error("missing property `{property}`")]
    MissingProperty {
        /// The property name, e.g. `common-name`.
        property: &'static str,
    },
    /// A template or certificate with this name already exists.
    #[error("name `{name}` is already used")]
    NameInUse {
        /// The name.
        name: String,
    },
    /// No template has this name.
    #[error("no such template `{name}`")]
    NoSuchTemplate {
        /// The name.
        name: String,
    },
    /// No certificate has this name.
    #[error("no such certificate `{name}`")]
    NoSuchCertificate {
        /// The name.
        name: String,
    },
    /// The certificate named as `ca` is not a certificate authority (no `key-cert-sign`, or
    /// basicConstraints CA:FALSE).
    #[error("certificate `{name}` is not a CA")]
    NotAuthority {
        /// The name.
        name: String,
    },
    /// The operation needs the certificate's private key, and the store has none.
    #[error("certificate `{name}` has no private key")]
    NoPrivateKey {
        /// The name.
        name: String,
    },
    /// The CA's key usage does not allow signing CRLs (`crl-sign`).
    #[error("CA `{name}` has no crl-sign key usage")]
    NotCrlSigner {
        /// The CA's name.
        name: String,
    },
    /// `issued-revoke` on a certificate that this store did not issue.
    #[error("certificate `{name}` was not issued by a CA of this store")]
    NotIssuedHere {
        /// The name.
        name: String,
    },
    /// A key size, curve or digest that this crate (ring, the workspace's crypto provider) cannot
    /// use for signing.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is unsupported and why.
        what: String,
    },
    /// Key generation or signing failed inside the crypto library.
    #[error("crypto failure: {0}")]
    Crypto(String),
    /// The operating system's random generator failed.
    #[error("random number generator failed")]
    Rng,
    /// Import: the data holds nothing this crate recognises (no certificate, key or CRL in PEM,
    /// DER or PKCS#12).
    #[error("{file}: no certificate, key or CRL found")]
    Unrecognized {
        /// The file name given to import.
        file: String,
    },
    /// Import: a PEM block or DER structure that does not parse.
    #[error("{file}: malformed {what}: {reason}")]
    Malformed {
        /// The file name given to import.
        file: String,
        /// What was being read (`certificate`, `private key`, `PEM`, ...).
        what: &'static str,
        /// The parser's reason.
        reason: String,
    },
    /// Import: the data is encrypted and no passphrase was given.
    #[error("{file}: encrypted, a passphrase is required")]
    PassphraseRequired {
        /// The file name given to import.
        file: String,
    },
    /// Import: the passphrase does not decrypt the key or PKCS#12 file.
    #[error("{file}: wrong passphrase")]
    WrongPassphrase {
        /// The file name given to import.
        file: String,
    },
    /// Import: a private key whose public key matches no certificate in the store or the file.
    #[error("{file}: private key matches no certificate (import the certificate first)")]
    KeyWithoutCertificate {
        /// The file name given to import.
        file: String,
    },
    /// Import: a CRL not signed by any CA certificate of the store or the file.
    #[error("{file}: CRL issuer matches no CA certificate")]
    CrlWithoutCa {
        /// The file name given to import.
        file: String,
    },
    /// The certificate could not be read back after signing, or its issuer name could not be
    /// reproduced (an imported CA with a multi-valued or repeated name attribute).
    #[error("certificate `{name}`: {reason}")]
    Certificate {
        /// The certificate's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A peer-certificate check failed (from [`Store::verify_peer`](crate::Store::verify_peer)).
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl PkiError {
    pub(crate) fn invalid(property: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidProperty {
            property: property.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        Self::Unsupported { what: what.into() }
    }

    pub(crate) fn malformed(file: &str, what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            file: file.to_owned(),
            what,
            reason: reason.to_string(),
        }
    }
}

/// Why a peer's certificate chain was refused by [`PeerVerifier::verify`](crate::PeerVerifier::verify).
///
/// `Display` reads like RouterOS's log line: `could not verify peer certificate: <reason>`, e.g.
/// `could not verify peer certificate: certificate expired`. [`VerifyError::reason`] gives the
/// part after the colon alone, for callers that add their own prefix (such as
/// `certificate verification failed: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The peer sent no certificate.
    #[error("could not verify peer certificate: {}", self.reason())]
    NoCertificate,
    /// A certificate of the chain is past its `invalid-after` date.
    #[error("could not verify peer certificate: {}", self.reason())]
    Expired {
        /// The certificate's `notAfter`, seconds since the Unix epoch.
        not_after: u64,
        /// The verification time, seconds since the Unix epoch.
        now: u64,
    },
    /// A certificate of the chain is before its `invalid-before` date.
    #[error("could not verify peer certificate: {}", self.reason())]
    NotYetValid {
        /// The certificate's `notBefore`, seconds since the Unix epoch.
        not_before: u64,
        /// The verification time, seconds since the Unix epoch.
        now: u64,
    },
    /// The chain does not lead to a trusted CA: unknown issuer, or an issuer with a trusted CA's
    /// name whose signature does not verify with that CA's key (wrong CA).
    #[error("could not verify peer certificate: {}", self.reason())]
    UnknownCa,
    /// The certificate is not usable for the expected role (`remote-cert-tls`): extended key
    /// usage without `tls-server`/`tls-client`, no key usage extension, or a CA certificate.
    #[error("could not verify peer certificate: {}", self.reason())]
    WrongKeyUsage {
        /// The role the peer was expected to have.
        expected: PeerRole,
        /// What is missing.
        detail: &'static str,
    },
    /// The certificate is listed in its CA's CRL.
    #[error("could not verify peer certificate: {}", self.reason())]
    Revoked,
    /// The CA's CRL is past its next-update time (the CRL must be renewed).
    #[error("could not verify peer certificate: {}", self.reason())]
    CrlExpired,
    /// A key or signature algorithm that ring cannot verify (e.g. RSA below 2048 bits, P-521).
    #[error("could not verify peer certificate: {}", self.reason())]
    UnsupportedAlgorithm,
    /// The certificate or a CRL does not parse, or the subject has no common name.
    #[error("could not verify peer certificate: {}", self.reason())]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// The chain is good but the common name is not the one expected
    /// ([`PeerVerifier::with_expected_name`](crate::PeerVerifier::with_expected_name): RouterOS's
    /// `verify-server-certificate=yes`).
    #[error("certificate verification failed: {}", self.reason())]
    NameMismatch {
        /// The name asked for (the client's `connect-to`).
        expected: String,
        /// The certificate's common name.
        found: String,
    },
    /// Any other refusal by the path validator.
    #[error("could not verify peer certificate: {}", self.reason())]
    Other {
        /// The validator's description.
        detail: String,
    },
}

impl VerifyError {
    /// The reason alone, without the `could not verify peer certificate: ` (or, for a name
    /// mismatch, `certificate verification failed: `) prefix.
    pub fn reason(&self) -> String {
        match self {
            Self::NoCertificate => "no certificate presented".into(),
            Self::Expired { .. } => "certificate expired".into(),
            Self::NotYetValid { .. } => "certificate not yet valid".into(),
            Self::UnknownCa => "certificate not signed by a trusted CA".into(),
            Self::WrongKeyUsage { expected, detail } => {
                format!("wrong key usage (expected {expected}): {detail}")
            }
            Self::Revoked => "certificate revoked".into(),
            Self::CrlExpired => "CRL expired (next-update has passed)".into(),
            Self::UnsupportedAlgorithm => "unsupported key or signature algorithm".into(),
            Self::Malformed { detail } => format!("malformed certificate: {detail}"),
            Self::NameMismatch { expected, found } => format!(
                "the certificate is for {found:?}, not {expected:?} (verify-server-certificate=yes)"
            ),
            Self::Other { detail } => detail.clone(),
        }
    }
}
