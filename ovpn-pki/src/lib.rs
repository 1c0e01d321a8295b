//! A RouterOS-style certificate authority (`/certificate`), without I/O.
//!
//! This crate is the built-in CA of an OpenVPN server the way MikroTik RouterOS has one: it makes
//! certificate templates (`add`), generates keys and signs them (`sign`, self-signed CAs too),
//! shows the table (`print`, `print detail` with the `K L A I R E T` flags), exports certificates
//! and passphrase-encrypted keys (`export-certificate`, PEM or PKCS#12), imports certificates,
//! keys and CRLs made elsewhere (OpenSSL, easy-rsa), revokes (`issued-revoke`, with a signed
//! CRL), checks a peer's certificate chain the way OpenVPN's `remote-cert-tls` does
//! ([`PeerVerifier`]) and hands certificates and keys to rustls (and their PEM to whatever writes a
//! client profile). [`Store::save`] and [`Store::load`] turn the whole table into text
//! and back, for the caller to keep. PKCS#12 is written (`type=pkcs12`) and read (OpenSSL's
//! default PBES2/AES files and its `-legacy` 3DES/RC2 ones).
//!
//! It does no I/O and reads no clock: files come in and go out as bytes, and every
//! time-dependent call takes `now` (a [`rustls_pki_types::UnixTime`]). Key generation and
//! serial numbers read the operating system's random generator (ring's `SystemRandom`); that
//! is the only thing it takes from the system. Signing is rcgen's, parsing x509-cert's, path
//! validation rustls-webpki's, RSA key generation the `rsa` crate's (ring cannot generate RSA
//! keys), key encryption pkcs8/pkcs5's.
//!
//! The operations also take RouterOS property lists (`(key, value)` pairs from a script
//! tokenizer), with errors naming the offending property.
//!
//! ```
//! use ovpn_pki::{ExportType, ImportOptions, PeerRole, Store};
//! use rustls_pki_types::UnixTime;
//! use std::time::Duration;
//!
//! let now = UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000));
//! let mut router = Store::new();
//! // /certificate add name=ca-template common-name="OpenVPN CA" days-valid=3650 \
//! //     key-size=prime256v1 key-usage=key-cert-sign,crl-sign
//! router.add_from_properties(&[
//!     ("name", "ca-template"),
//!     ("common-name", "OpenVPN CA"),
//!     ("days-valid", "3650"),
//!     ("key-size", "prime256v1"),
//!     ("key-usage", "key-cert-sign,crl-sign"),
//! ])?;
//! // sign ca-template ca=ca-template name=ca
//! router.sign_from_properties("ca-template", &[("ca", "ca-template"), ("name", "ca")], now)?;
//! router.add_from_properties(&[
//!     ("name", "client1-template"),
//!     ("common-name", "client1"),
//!     ("key-size", "prime256v1"),
//!     ("key-usage", "digital-signature,key-encipherment,tls-client"),
//! ])?;
//! router.sign_from_properties("client1-template", &[("ca", "ca"), ("name", "client1")], now)?;
//! assert!(router.print(now).contains("client1"));
//!
//! // export-certificate client1 export-passphrase="export-password"
//! let files = router.export_certificate("client1", "export-password", ExportType::Pem)?;
//! assert_eq!(files[0].file_name, "cert_export_client1.crt");
//! assert_eq!(files[1].file_name, "cert_export_client1.key");
//! let ca_file = router.export_certificate("ca", "", ExportType::Pem)?;
//!
//! // On the client: import the CA, the certificate, then its key.
//! let mut client = Store::new();
//! client.import("cert_export_ca.crt", &ca_file[0].contents, &ImportOptions::default())?;
//! client.import("cert_export_client1.crt", &files[0].contents, &ImportOptions::default())?;
//! let opts = ImportOptions { passphrase: "export-password", ..ImportOptions::default() };
//! let summary = client.import("cert_export_client1.key", &files[1].contents, &opts)?;
//! assert_eq!(summary.private_keys_imported, 1);
//! assert!(client.get("client1").unwrap().has_private_key());
//!
//! // The server checks the client's chain during the TLS handshake.
//! let (chain, _key) = client.identity("client1")?;
//! let peer = router.verify_peer(&chain, PeerRole::TlsClient, now)?;
//! assert_eq!(peer.common_name, "client1");
//! # Ok::<(), ovpn_pki::PkiError>(())
//! ```

mod cert;
mod error;
mod import;
mod key;
mod pem;
mod persist;
mod pkcs12;
mod props;
mod settings;
mod store;
mod template;
mod usage;
mod verify;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use cert::CertInfo;
pub use error::{PkiError, VerifyError};
pub use key::{Curve, EXPORT_PBKDF2_ITERATIONS, KeyType};
pub use store::{
    Certificate, Crl, CrlHealth, CrlState, ExportType, ExportedFile, FLAGS_LEGEND, Flags,
    ImportOptions, ImportSummary, Store, StoreSettings,
};
pub use template::{DigestAlgorithm, KeySize, MAX_DAYS_VALID, Subject, SubjectAltName, Template};
pub use usage::{KeyUsage, KeyUsages, PeerRole};
pub use verify::{CrlExpiry, PeerVerifier, VerifiedPeer, verify_peer};

/// Generates a private key of `size` (PKCS#8, as rustls takes it), from the operating system's
/// random generator: RSA with the `rsa` crate (ring cannot generate RSA keys), EC with ring.
/// `secp521r1` is refused (ring has no P-521). [`Store::sign`] uses the same generator.
///
/// ```
/// let key = ovpn_pki::generate_private_key(ovpn_pki::KeySize::Prime256v1)?;
/// assert!(matches!(key, ovpn_pki::rustls_pki_types::PrivateKeyDer::Pkcs8(_)));
/// # Ok::<(), ovpn_pki::PkiError>(())
/// ```
pub fn generate_private_key(
    size: KeySize,
) -> Result<rustls_pki_types::PrivateKeyDer<'static>, PkiError> {
    let key = key::PrivateKey::generate(size, &ring::rand::SystemRandom::new())?;
    Ok(rustls_pki_types::PrivateKeyDer::Pkcs8(
        key.pkcs8_der().to_vec().into(),
    ))
}

/// The rustls-facing types this crate returns (`CertificateDer`, `PrivateKeyDer`, `UnixTime`,
/// `CertificateRevocationListDer`), re-exported so callers need no direct dependency.
pub use rustls_pki_types;
