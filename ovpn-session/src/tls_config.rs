//! rustls configurations for the OpenVPN control channel (ring provider), with the time injected by
//! the session instead of read from the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::NoServerSessionStorage;
use rustls::time_provider::TimeProvider;

use crate::verify::{PeerCheck, Verifier};

/// Which TLS versions the control channel may use (RouterOS `tls-version=any|only-1.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3 (`any`).
    #[default]
    Any,
    /// TLS 1.2 only (`only-1.2`), as RouterOS clients speak.
    Only12,
}

impl TlsVersion {
    fn versions(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        match self {
            Self::Any => rustls::ALL_VERSIONS,
            Self::Only12 => &ONLY_12,
        }
    }
}

/// A certificate chain with its private key, as rustls takes them.
#[derive(Debug)]
pub struct Identity {
    /// The chain, end entity first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("TLS configuration: {0}")]
pub struct TlsConfigError(#[from] rustls::Error);

/// The session's notion of wall-clock time: the caller gives it once (the Unix time at some `now`),
/// later times are derived from the `now` of each call. Shared with rustls' certificate checks.
#[derive(Debug, Clone)]
pub(crate) struct SessionClock {
    base: Instant,
    base_unix: u64,
    current: Arc<AtomicU64>,
}

impl SessionClock {
    /// The clock that reads `unix_now` at `now`.
    pub(crate) fn new(now: Instant, unix_now: SystemTime) -> Self {
        let base_unix = unix_now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self {
            base: now,
            base_unix,
            current: Arc::new(AtomicU64::new(base_unix)),
        }
    }

    /// Unix seconds at `now`.
    pub(crate) fn unix_at(&self, now: Instant) -> u64 {
        self.base_unix
            .saturating_add(now.saturating_duration_since(self.base).as_secs())
    }

    /// Moves the time rustls sees to `now`.
    pub(crate) fn tick(&self, now: Instant) {
        self.current.store(self.unix_at(now), Ordering::Relaxed);
    }
}

impl TimeProvider for SessionClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(
            self.current.load(Ordering::Relaxed),
        )))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS client configuration of an OpenVPN client.
pub(crate) fn client_config(
    check: Arc<dyn PeerCheck>,
    identity: Option<&Identity>,
    version: TlsVersion,
    clock: SessionClock,
) -> Result<Arc<rustls::ClientConfig>, TlsConfigError> {
    let provider = provider();
    let verifier = Arc::new(Verifier::new(Some(check), &provider));
    let builder = rustls::ClientConfig::builder_with_details(provider, Arc::new(clock))
        .with_protocol_versions(version.versions())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some(id) => builder.with_client_auth_cert(id.chain.clone(), id.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    // Every OpenVPN key negotiation is a full handshake.
    config.resumption = Resumption::disabled();
    config.enable_sni = false;
    Ok(Arc::new(config))
}

/// The TLS server configuration of an OpenVPN server. `check: None` asks no client certificate
/// (`require-client-certificate=no`).
pub(crate) fn server_config(
    check: Option<Arc<dyn PeerCheck>>,
    identity: &Identity,
    version: TlsVersion,
    clock: SessionClock,
) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    let provider = provider();
    let verifier = Arc::new(Verifier::new(check, &provider));
    let mut config = rustls::ServerConfig::builder_with_details(provider, Arc::new(clock))
        .with_protocol_versions(version.versions())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}
