//! Authentication: the [`Authenticator`] trait, its request and answer, and the in-memory
//! [`PppConfig`] (profiles plus secrets) that implements it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::Ipv6Net;

use crate::secret::{MAX_OVPN_PASSWORD, MAX_OVPN_USER};
use crate::{
    AddressSpec, AuthError, BridgePort, Error, Password, Profile, RateLimit, Route, Secret,
    Service, UseEncryption,
};

/// A login to check: what the client sent and where it comes from. Plain owned data (`Send`,
/// `Sync`, `Clone`), so it can be queued or handed to another thread or a RADIUS client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthRequest {
    /// The user name the client sent.
    pub user: String,
    /// The password the client sent.
    pub password: Password,
    /// The service asked for ([`Service::Ovpn`] for an OpenVPN server).
    pub service: Service,
    /// The caller id: the client's outer address as text (`192.0.2.7`).
    pub caller_id: String,
    /// How many sessions of `user` are active now (the server counts them, across every server
    /// that shares its tables); `only-one` refuses the login when it is not zero.
    pub active_sessions: usize,
    /// The client sent no user name and password, and `user` is the common name of its
    /// verified certificate (a server with `require-user-password=no`).
    pub certificate_only: bool,
    /// The metadata of the client's tls-crypt-v2 key, type byte first (`0x00` user data,
    /// `0x01` a big-endian u64 of the key's making time), for a policy on keys (expiry, a
    /// revoked user); None when the client used no tls-crypt-v2 key.
    pub client_key_metadata: Option<Vec<u8>>,
}

impl AuthRequest {
    /// A request with no active session of the user.
    pub fn new(
        user: impl Into<String>,
        password: impl Into<Password>,
        service: Service,
        caller_id: impl Into<String>,
    ) -> Self {
        AuthRequest {
            user: user.into(),
            password: password.into(),
            service,
            caller_id: caller_id.into(),
            active_sessions: 0,
            certificate_only: false,
            client_key_metadata: None,
        }
    }

    /// A login by certificate alone: `common_name` is the verified certificate's, and no
    /// password was sent (`require-user-password=no`).
    pub fn certificate(
        common_name: impl Into<String>,
        service: Service,
        caller_id: impl Into<String>,
    ) -> Self {
        Self {
            certificate_only: true,
            ..Self::new(common_name, "", service, caller_id)
        }
    }

    /// Sets the metadata of the client's tls-crypt-v2 key.
    pub fn with_client_key_metadata(mut self, metadata: Option<Vec<u8>>) -> Self {
        self.client_key_metadata = metadata;
        self
    }

    /// Sets how many sessions of the user are active now.
    pub fn with_active_sessions(mut self, active_sessions: usize) -> Self {
        self.active_sessions = active_sessions;
        self
    }
}

/// What an accepted login gets: the effective settings, resolved secret > profile > `default`
/// profile. Plain owned data.
///
/// The server acquires `remote_address` (and `local_address` when it names a pool) from its
/// `ovpn_pool::PoolSet`, pushes `dns_servers`, installs `routes`, and enforces the timeouts and
/// limits.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant {
    /// The user name.
    pub user: String,
    /// The profile's name.
    pub profile: String,
    /// The server's end of the tunnel: an address or a pool (`None`: not configured anywhere).
    pub local_address: Option<AddressSpec>,
    /// The client's address: an address or a pool (`None`: not configured anywhere).
    pub remote_address: Option<AddressSpec>,
    /// A fixed IPv6 prefix for the client (the secret's `remote-ipv6-prefix`).
    pub remote_ipv6_prefix: Option<Ipv6Net>,
    /// The `/ipv6 pool` to take the client's prefix from.
    pub remote_ipv6_prefix_pool: Option<String>,
    /// DNS servers to push (at most two).
    pub dns_servers: Vec<IpAddr>,
    /// IPv4 routes towards the client (the secret's `routes`).
    pub routes: Vec<Route>,
    /// IPv6 routes towards the client (the secret's `ipv6-routes`).
    pub ipv6_routes: Vec<Route>,
    /// The longest the session may last.
    pub session_timeout: Option<Duration>,
    /// Disconnect after this long without traffic.
    pub idle_timeout: Option<Duration>,
    /// The rate limit to apply.
    pub rate_limit: Option<RateLimit>,
    /// The firewall address list to add the client's address to.
    pub address_list: Option<String>,
    /// Bytes the client may send before being disconnected.
    pub limit_bytes_in: Option<u64>,
    /// Bytes the client may receive before being disconnected.
    pub limit_bytes_out: Option<u64>,
    /// `use-compression`, resolved (RouterOS's OpenVPN never compresses).
    pub use_compression: bool,
    /// `use-encryption`, resolved: never [`UseEncryption::Default`].
    pub use_encryption: UseEncryption,
    /// `only-one`, resolved.
    pub only_one: bool,
    /// `change-tcp-mss`, resolved.
    pub change_tcp_mss: bool,
    /// The bridge an ethernet-mode session's interface joins, and its port settings (no
    /// `bridge`: not bridged).
    pub bridge: BridgePort,
}

impl Grant {
    /// A grant for `user` under `profile` with nothing else set (for authenticators that build
    /// their answer field by field, such as a RADIUS client).
    pub fn new(user: impl Into<String>, profile: impl Into<String>) -> Self {
        Grant {
            user: user.into(),
            profile: profile.into(),
            local_address: None,
            remote_address: None,
            remote_ipv6_prefix: None,
            remote_ipv6_prefix_pool: None,
            dns_servers: Vec::new(),
            routes: Vec::new(),
            ipv6_routes: Vec::new(),
            session_timeout: None,
            idle_timeout: None,
            rate_limit: None,
            address_list: None,
            limit_bytes_in: None,
            limit_bytes_out: None,
            use_compression: false,
            use_encryption: UseEncryption::No,
            only_one: false,
            change_tcp_mss: true,
            bridge: BridgePort::default(),
        }
    }

    /// Resolves the effective settings of `secret` under `profile`, with `default` (the profile
    /// named `default`) filling what both leave unset: per-secret values first, then the
    /// profile's, then the default profile's. Switches left at `default` everywhere mean `no`,
    /// except `change-tcp-mss`, which RouterOS turns on.
    pub fn resolve(secret: &Secret, profile: &Profile, default: &Profile) -> Self {
        let or = |a: &Option<AddressSpec>, b: &Option<AddressSpec>| a.clone().or_else(|| b.clone());
        let dns = if profile.dns_servers.is_empty() {
            &default.dns_servers
        } else {
            &profile.dns_servers
        };
        Grant {
            user: secret.name.clone(),
            profile: profile.name.clone(),
            local_address: secret
                .local_address
                .map(AddressSpec::Address)
                .or_else(|| or(&profile.local_address, &default.local_address)),
            remote_address: secret
                .remote_address
                .map(AddressSpec::Address)
                .or_else(|| or(&profile.remote_address, &default.remote_address)),
            remote_ipv6_prefix: secret.remote_ipv6_prefix,
            remote_ipv6_prefix_pool: profile
                .remote_ipv6_prefix_pool
                .clone()
                .or_else(|| default.remote_ipv6_prefix_pool.clone()),
            dns_servers: dns.clone(),
            routes: secret.routes.clone(),
            ipv6_routes: secret.ipv6_routes.clone(),
            session_timeout: profile.session_timeout.or(default.session_timeout),
            idle_timeout: profile.idle_timeout.or(default.idle_timeout),
            rate_limit: profile.rate_limit.or(default.rate_limit),
            address_list: profile
                .address_list
                .clone()
                .or_else(|| default.address_list.clone()),
            limit_bytes_in: (secret.limit_bytes_in != 0).then_some(secret.limit_bytes_in),
            limit_bytes_out: (secret.limit_bytes_out != 0).then_some(secret.limit_bytes_out),
            use_compression: profile
                .use_compression
                .or(default.use_compression)
                .resolve(false),
            use_encryption: profile
                .use_encryption
                .or(default.use_encryption)
                .or(UseEncryption::No),
            only_one: profile.only_one.or(default.only_one).resolve(false),
            change_tcp_mss: profile
                .change_tcp_mss
                .or(default.change_tcp_mss)
                .resolve(true),
            bridge: profile.bridge.or(&default.bridge),
        }
    }
}

/// Answers "may this user log in to this service, and with what settings?".
///
/// [`PppConfig`] is the in-memory implementation (RouterOS's local `/ppp secret` table); a
/// product can plug in its own store, and a RADIUS client can implement it too. The call is
/// synchronous; an implementation that must wait for the network can be driven by the server
/// outside this trait (the request and the grant are plain owned data that can cross threads).
pub trait Authenticator {
    /// Checks a login. The password must be compared in constant time, and an unknown user and
    /// a wrong password must give the same [`AuthError::LoginIncorrect`].
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError>;
}

impl<T: Authenticator + ?Sized> Authenticator for &T {
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError> {
        (**self).authenticate(request)
    }
}

impl<T: Authenticator + ?Sized> Authenticator for Box<T> {
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError> {
        (**self).authenticate(request)
    }
}

impl<T: Authenticator + ?Sized> Authenticator for Arc<T> {
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError> {
        (**self).authenticate(request)
    }
}

/// RouterOS's `/ppp profile` and `/ppp secret` tables, in memory: an [`Authenticator`].
///
/// It starts with the built-in `default` and `default-encryption` profiles, which can be changed
/// but not removed or renamed. A secret must name an existing profile; a profile in use cannot be
/// removed. A call that fails changes nothing.
///
/// ```
/// use ovpn_ppp::{AuthError, AuthRequest, Authenticator, PppConfig, Service};
///
/// let mut ppp = PppConfig::new();
/// ppp.add_profile_text("name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8")?;
/// ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")?;
///
/// let ok = ppp.authenticate(&AuthRequest::new("client1", "StrongPassword1", Service::Ovpn, "192.0.2.7"));
/// assert_eq!(ok.map(|g| g.profile), Ok("ovpn-profile".to_string()));
/// let bad = ppp.authenticate(&AuthRequest::new("client1", "wrong", Service::Ovpn, "192.0.2.7"));
/// assert_eq!(bad.unwrap_err().to_string(), "login incorrect");
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PppConfig {
    profiles: BTreeMap<String, Profile>,
    secrets: BTreeMap<String, Secret>,
}

impl Default for PppConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl PppConfig {
    /// The tables with the two built-in profiles and no secret.
    pub fn new() -> Self {
        let mut profiles = BTreeMap::new();
        for p in [
            Profile::builtin_default(),
            Profile::builtin_default_encryption(),
        ] {
            profiles.insert(p.name.clone(), p);
        }
        PppConfig {
            profiles,
            secrets: BTreeMap::new(),
        }
    }

    /// Adds a profile (`/ppp profile add`). Fails on a taken name or an invalid profile.
    pub fn add_profile(&mut self, profile: Profile) -> Result<(), Error> {
        profile.validate()?;
        if self.profiles.contains_key(&profile.name) {
            return Err(Error::DuplicateProfile(profile.name));
        }
        self.profiles.insert(profile.name.clone(), profile);
        Ok(())
    }

    /// Parses `/ppp profile add` property text and adds the profile.
    pub fn add_profile_text(&mut self, text: &str) -> Result<(), Error> {
        self.add_profile(Profile::parse(text)?)
    }

    /// Changes properties of a profile (`/ppp profile set NAME key=value ...`). Renaming updates
    /// the secrets that use it; the built-in profiles cannot be renamed.
    pub fn set_profile<I, K, V>(&mut self, name: &str, properties: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut changed = self
            .profiles
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownProfile(name.to_owned()))?;
        for (key, value) in properties {
            changed.set(key.as_ref(), value.as_ref())?;
        }
        changed.validate()?;
        if changed.name != name {
            if Profile::is_builtin(name) {
                return Err(Error::BuiltinProfile(name.to_owned()));
            }
            if self.profiles.contains_key(&changed.name) {
                return Err(Error::DuplicateProfile(changed.name));
            }
            for secret in self.secrets.values_mut().filter(|s| s.profile == name) {
                secret.profile.clone_from(&changed.name);
            }
            self.profiles.remove(name);
        }
        self.profiles.insert(changed.name.clone(), changed);
        Ok(())
    }

    /// Removes a profile (`/ppp profile remove`). Fails for the built-in profiles and for a
    /// profile a secret uses.
    pub fn remove_profile(&mut self, name: &str) -> Result<Profile, Error> {
        if Profile::is_builtin(name) {
            return Err(Error::BuiltinProfile(name.to_owned()));
        }
        if !self.profiles.contains_key(name) {
            return Err(Error::UnknownProfile(name.to_owned()));
        }
        if let Some(s) = self.secrets.values().find(|s| s.profile == name) {
            return Err(Error::ProfileInUse {
                profile: name.to_owned(),
                secret: s.name.clone(),
            });
        }
        self.profiles
            .remove(name)
            .ok_or_else(|| Error::UnknownProfile(name.to_owned()))
    }

    /// The profile named `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// All profiles, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// Adds a secret (`/ppp secret add`). Fails on a taken name, an unknown profile, or a secret
    /// beyond the OpenVPN length limits.
    pub fn add_secret(&mut self, secret: Secret) -> Result<(), Error> {
        secret.validate()?;
        if self.secrets.contains_key(&secret.name) {
            return Err(Error::DuplicateSecret(secret.name));
        }
        if !self.profiles.contains_key(&secret.profile) {
            return Err(Error::UnknownProfile(secret.profile));
        }
        self.secrets.insert(secret.name.clone(), secret);
        Ok(())
    }

    /// Parses `/ppp secret add` property text and adds the secret.
    pub fn add_secret_text(&mut self, text: &str) -> Result<(), Error> {
        self.add_secret(Secret::parse(text)?)
    }

    /// Changes properties of a secret (`/ppp secret set NAME key=value ...`), with the same
    /// checks as [`add_secret`](Self::add_secret).
    pub fn set_secret<I, K, V>(&mut self, name: &str, properties: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut changed = self
            .secrets
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownSecret(name.to_owned()))?;
        for (key, value) in properties {
            changed.set(key.as_ref(), value.as_ref())?;
        }
        changed.validate()?;
        if !self.profiles.contains_key(&changed.profile) {
            return Err(Error::UnknownProfile(changed.profile));
        }
        if changed.name != name && self.secrets.contains_key(&changed.name) {
            return Err(Error::DuplicateSecret(changed.name));
        }
        self.secrets.remove(name);
        self.secrets.insert(changed.name.clone(), changed);
        Ok(())
    }

    /// Removes a secret (`/ppp secret remove`).
    pub fn remove_secret(&mut self, name: &str) -> Result<Secret, Error> {
        self.secrets
            .remove(name)
            .ok_or_else(|| Error::UnknownSecret(name.to_owned()))
    }

    /// The secret named `name`.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.get(name)
    }

    /// All secrets, by name.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.secrets.values()
    }

    /// The settings `secret` would get: [`Grant::resolve`] with its profile and `default`.
    /// `None` if its profile does not exist (a secret of this table always has one).
    pub fn grant(&self, secret: &Secret) -> Option<Grant> {
        self.grant_under(secret, Profile::DEFAULT)
    }

    /// The settings `secret` would get from a server whose `default-profile` is
    /// `default_profile`: RouterOS gives a secret left on the `default` profile the server's
    /// default profile instead (values it leaves unset still come from `default`). A
    /// `default_profile` that does not exist falls back to `default`.
    pub fn grant_under(&self, secret: &Secret, default_profile: &str) -> Option<Grant> {
        let default = self.profiles.get(Profile::DEFAULT)?;
        let name = if secret.profile == Profile::DEFAULT {
            default_profile
        } else {
            &secret.profile
        };
        let profile = match self.profiles.get(name) {
            Some(p) => p,
            None if secret.profile == Profile::DEFAULT => default,
            None => return None,
        };
        Some(Grant::resolve(secret, profile, default))
    }

    /// [`Authenticator::authenticate`] for a server whose `default-profile` is
    /// `default_profile` (see [`PppConfig::grant_under`]).
    pub fn authenticate_under(
        &self,
        request: &AuthRequest,
        default_profile: &str,
    ) -> Result<Grant, AuthError> {
        let result = self.check(request, default_profile);
        if let Err(reason) = &result {
            tracing::debug!(
                user = %request.user,
                service = %request.service,
                caller_id = %request.caller_id,
                %reason,
                "ppp login refused"
            );
        }
        result
    }

    /// A login by certificate alone: the secret named by the common name gives its profile and
    /// addresses when there is one (and must allow the service, and not be disabled); otherwise
    /// the server's default profile applies.
    fn check_certificate(
        &self,
        request: &AuthRequest,
        default_profile: &str,
    ) -> Result<Grant, AuthError> {
        let grant = match self.secrets.get(&request.user) {
            Some(secret) => {
                admits(secret, request)?;
                self.grant_under(secret, default_profile)
            }
            None => self.grant_under(
                &Secret::new(request.user.clone(), Password::default()),
                default_profile,
            ),
        }
        .ok_or(AuthError::LoginIncorrect)?;
        if grant.only_one && request.active_sessions > 0 {
            return Err(AuthError::OnlyOne);
        }
        Ok(grant)
    }

    fn check(&self, request: &AuthRequest, default_profile: &str) -> Result<Grant, AuthError> {
        if request.certificate_only {
            return self.check_certificate(request, default_profile);
        }
        // Always compare, against a dummy when the user is unknown, so that the time taken does
        // not tell whether the name exists.
        let secret = self.secrets.get(&request.user);
        let dummy = Password::default();
        let stored = secret.map_or(&dummy, |s| &s.password);
        let password_ok = stored.ct_eq(&request.password);
        let Some(secret) = secret.filter(|_| password_ok) else {
            return Err(AuthError::LoginIncorrect);
        };
        if request.service == Service::Ovpn
            && (request.user.chars().count() > MAX_OVPN_USER
                || request.password.chars() > MAX_OVPN_PASSWORD)
        {
            return Err(AuthError::LoginIncorrect);
        }
        admits(secret, request)?;
        let grant = self
            .grant_under(secret, default_profile)
            .ok_or(AuthError::LoginIncorrect)?;
        if grant.only_one && request.active_sessions > 0 {
            return Err(AuthError::OnlyOne);
        }
        Ok(grant)
    }
}

/// What a secret says of a login whose credentials are good: `disabled`, then `service`
/// (`unknown service`), then `caller-id`.
fn admits(secret: &Secret, request: &AuthRequest) -> Result<(), AuthError> {
    if secret.disabled {
        return Err(AuthError::Disabled);
    }
    if !secret.service.allows(request.service) {
        return Err(AuthError::UnknownService);
    }
    if secret
        .caller_id
        .as_ref()
        .is_some_and(|c| *c != request.caller_id)
    {
        return Err(AuthError::CallerIdMismatch);
    }
    Ok(())
}

impl Authenticator for PppConfig {
    /// Checks, in order: user and password (`login incorrect` for either, and for an OpenVPN
    /// user name over 27 or password over 233 characters), `disabled`, `service` (`unknown
    /// service`), `caller-id`, then `only-one` against `request.active_sessions`.
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError> {
        self.authenticate_under(request, Profile::DEFAULT)
    }
}
