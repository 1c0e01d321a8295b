//! Store-wide settings.

use crate::key;

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
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            crl_days_valid: 180,
            export_pbkdf2_iterations: key::EXPORT_PBKDF2_ITERATIONS,
            import_max_kdf_cost: 10_000_000,
        }
    }
}
