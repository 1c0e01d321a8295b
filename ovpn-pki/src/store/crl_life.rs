//! The lifecycle of the CRLs the store holds: how close each is to its next-update, and the
//! renewal of the ones the store signs itself, so that no CRL expires unnoticed.

use rustls_pki_types::UnixTime;

use super::Store;
use crate::error::PkiError;

/// Where one CRL stands at a given time ([`Store::crl_health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlHealth {
    /// The name of the CA it belongs to.
    pub ca: String,
    /// Its next-update (None: it never expires).
    pub next_update: Option<UnixTime>,
    /// How it stands.
    pub state: CrlState,
    /// Whether the store can re-sign it (it holds the CA's key).
    pub renewable: bool,
}

/// How a CRL stands against its next-update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlState {
    /// More than [`StoreSettings::crl_warning_days`](crate::StoreSettings::crl_warning_days)
    /// before its next-update, or without one.
    Fresh,
    /// Its next-update is within the warning days: it expires in this many seconds.
    ExpiresSoon(u64),
    /// Its next-update passed this many seconds ago.
    Expired(u64),
}

impl Store {
    /// Every CRL's standing at `now`, for the program to warn about: expiring within
    /// [`StoreSettings::crl_warning_days`](crate::StoreSettings::crl_warning_days), or expired
    /// (what happens then is [`StoreSettings::crl_expiry`](crate::StoreSettings::crl_expiry)).
    pub fn crl_health(&self, now: UnixTime) -> Vec<CrlHealth> {
        let warn = u64::from(self.settings.crl_warning_days) * 86_400;
        let now = now.as_secs();
        self.crls
            .iter()
            .map(|c| {
                let state = match c.next_update.map(|n| n.as_secs()) {
                    None => CrlState::Fresh,
                    Some(n) if n <= now => CrlState::Expired(now - n),
                    Some(n) if n - now <= warn => CrlState::ExpiresSoon(n - now),
                    Some(_) => CrlState::Fresh,
                };
                CrlHealth {
                    ca: c.ca.clone(),
                    next_update: c.next_update,
                    state,
                    renewable: self.check_crl_signer(&c.ca).is_ok(),
                }
            })
            .collect()
    }

    /// Re-signs, at `now`, every CRL the store can sign (it holds the CA's key) that expires
    /// within the warning days or has expired, each for another
    /// [`StoreSettings::crl_days_valid`](crate::StoreSettings::crl_days_valid). Returns the CAs
    /// whose CRLs were renewed; CRLs imported from elsewhere are left alone.
    pub fn renew_crls(&mut self, now: UnixTime) -> Result<Vec<String>, PkiError> {
        let due: Vec<String> = self
            .crl_health(now)
            .into_iter()
            .filter(|h| h.renewable && h.state != CrlState::Fresh)
            .map(|h| h.ca)
            .collect();
        for ca in &due {
            self.update_crl(ca, now)?;
        }
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySize, Template};
    use std::time::Duration;

    fn at(days: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000 + days * 86_400))
    }

    #[test]
    fn own_crls_are_renewed_before_they_expire_and_others_are_reported() {
        let mut store = Store::new();
        store.settings_mut().crl_days_valid = 30;
        let mut ca = Template::new("ca-t", "CA");
        ca.key_size = KeySize::Prime256v1;
        ca.key_usage = "key-cert-sign,crl-sign".parse().unwrap();
        store.add(ca).unwrap();
        store.sign("ca-t", Some("ca-t"), Some("ca"), at(0)).unwrap();
        store.update_crl("ca", at(0)).unwrap();
        let health = store.crl_health(at(10));
        assert_eq!(health.len(), 1);
        assert_eq!(health[0].state, CrlState::Fresh);
        assert!(health[0].renewable);
        assert_eq!(
            store.crl_health(at(25))[0].state,
            CrlState::ExpiresSoon(5 * 86_400)
        );
        assert_eq!(store.crl_health(at(31))[0].state, CrlState::Expired(86_400));
        // Nothing to renew while fresh; renewed once within the warning days.
        assert!(store.renew_crls(at(10)).unwrap().is_empty());
        assert_eq!(store.renew_crls(at(24)).unwrap(), vec!["ca".to_owned()]);
        assert_eq!(store.crl_health(at(40))[0].state, CrlState::Fresh);
        assert_eq!(store.crl("ca").unwrap().number(), 2);
    }
}
