//! RouterOS-style PPP secrets, profiles and authentication, without I/O.
//!
//! RouterOS authenticates an OpenVPN client like a PPP link: after the TLS handshake the client
//! sends a user name and password, checked against `/ppp secret`; the secret's `/ppp profile`
//! (falling back to the built-in `default` profile) says which addresses, DNS servers, timeouts
//! and limits the session gets. This crate models those tables (the sessions themselves, RouterOS's
//! `/ppp active`, are the server's: `ovpn-session` keeps and enforces them):
//!
//! - [`Profile`] and [`Secret`], built from RouterOS property text ([`properties`]) and printed
//!   back as RouterOS properties;
//! - the [`Authenticator`] trait, with [`AuthRequest`] in and a [`Grant`] or an [`AuthError`]
//!   (in RouterOS's words: `login incorrect`, `unknown service`, ...) out;
//! - [`PppConfig`], the in-memory profiles and secrets, which implements it.
//!
//! The crate does no I/O and reads no clock (times are passed in); everything is plain data,
//! `Send` and `Sync`. Addresses named by a grant are acquired from the `ovpn-pool` crate.
//!
//! ```
//! use ovpn_ppp::{AddressSpec, AuthError, AuthRequest, Authenticator, PppConfig, Service};
//!
//! // The RouterOS OpenVPN page's example, as property text.
//! let mut ppp = PppConfig::new();
//! ppp.add_profile_text(
//!     "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool \
//!      dns-server=8.8.8.8 use-compression=no use-encryption=required only-one=yes",
//! )?;
//! ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")?;
//!
//! let request = AuthRequest::new("client1", "StrongPassword1", Service::Ovpn, "192.0.2.7");
//! let grant = ppp.authenticate(&request).expect("accepted");
//! assert_eq!(grant.remote_address, Some(AddressSpec::Pool("ovpn-pool".into())));
//! assert_eq!(grant.dns_servers, ["8.8.8.8".parse::<std::net::IpAddr>().unwrap()]);
//!
//! // With that session up (the server counts them), a second login is refused by only-one.
//! let again = request.clone().with_active_sessions(1);
//! assert_eq!(ppp.authenticate(&again), Err(AuthError::OnlyOne));
//!
//! // Unknown user and wrong password look the same.
//! let wrong = AuthRequest::new("client1", "guess", Service::Ovpn, "192.0.2.7");
//! let nobody = AuthRequest::new("nobody", "guess", Service::Ovpn, "192.0.2.7");
//! assert_eq!(ppp.authenticate(&wrong).unwrap_err().to_string(), "login incorrect");
//! assert_eq!(ppp.authenticate(&nobody), ppp.authenticate(&wrong));
//! # Ok::<(), ovpn_ppp::Error>(())
//! ```
//!
//! Choices where RouterOS documents nothing or where this crate is stricter:
//! - `service=ppp` (and any other name outside `any`, `async`, `l2tp`, `ovpn`, `pppoe`, `pptp`,
//!   `sstp`) is an invalid value, not a secret that silently never matches.
//! - OpenVPN's limits (user name 27 characters, password 233) refuse a `service=ovpn` secret
//!   beyond them when it is built, and an OpenVPN login beyond them as `login incorrect`.
//! - A disabled secret with the right password gives [`AuthError::Disabled`] (`account
//!   disabled`); a wrong password on a disabled secret still gives `login incorrect`.
//! - Secret names are unique (one secret per user name whatever its service).
//! - Unknown properties are errors, so that a setting is never silently ignored.

mod auth;
mod bridge;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod profile;
pub mod properties;
mod secret;
mod value;

pub use auth::{AuthRequest, Authenticator, Grant, PppConfig};
pub use bridge::BridgePort;
pub use error::{AuthError, Error};
/// RouterOS durations (`1h30m`, `00:10:00`), read and written as everywhere in the workspace.
pub use ovpn_rsc::{format_duration, parse_duration};
pub use profile::Profile;
pub use secret::{MAX_OVPN_PASSWORD, MAX_OVPN_USER, Secret};
pub use value::{
    AddressSpec, Password, RateLimit, Route, RxTx, Service, UseEncryption, YesNoDefault,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_sync_plain_data() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
        check::<AuthRequest>();
        check::<Grant>();
        check::<AuthError>();
        check::<Error>();
        check::<PppConfig>();
        check::<Profile>();
        check::<Secret>();
        fn object_safe(_: &dyn Authenticator) {}
        object_safe(&PppConfig::new());
    }
}
