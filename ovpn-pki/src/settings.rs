//! Store-wide settings.

use crate::key;
use crate::verify::CrlExpiry;

/// Store-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreSettings {
    /// Days from a CRL's this-update to its next-update (default 180, like easy-rsa's
    /// `EASYRSA_CRL_DAYS`). Peers refuse clients of a CA whose CRL is stale, so renew CRLs with
    /// [`Store::update_crl`] well within this.
    pub crl_days_valid: u32,
    /// PBKDF2 iterations for exported private keys (default
    /// [`EXPORT_PBKDF2_ITERATIONS`](crate::EXPORT_PBKDF2_ITERATIONS)).
    pub export_pbkdf2_iterations: u32,
    /// Largest PBKDF2 iteration count (or scrypt N·r·p) accepted when importing an encrypted
    /// key, so that a crafted file cannot stall the import (default 10 000 000).
    pub import_max_kdf_cost: u64,
    /// What the store's peer checks do with a CRL past its next-update (an extension,
    /// `crl-expiry=warn|refuse`). Default [`CrlExpiry::Ignore`] (`warn`): the stale CRL is still
    /// used, so revoked certificates stay refused and the rest pass, and [`Store::crl_health`]
    /// says so for the program to log. An expired CRL must not lock every user out by surprise,
    /// which is what OpenVPN (and OpenSSL) do.
    ///
    /// [`Store::crl_health`]: crate::Store::crl_health
    pub crl_expiry: CrlExpiry,
    /// How many days before a CRL's next-update [`Store::crl_health`] starts to warn, and
    /// [`Store::renew_crls`] re-signs the store's own CRLs (default 7).
    ///
    /// [`Store::crl_health`]: crate::Store::crl_health
    /// [`Store::renew_crls`]: crate::Store::renew_crls
    pub crl_warning_days: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            crl_days_valid: 180,
            export_pbkdf2_iterations: key::EXPORT_PBKDF2_ITERATIONS,
            import_max_kdf_cost: 10_000_000,
            crl_expiry: CrlExpiry::Ignore,
            crl_warning_days: 7,
        }
    }
}
