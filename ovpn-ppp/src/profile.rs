//! `/ppp profile`: address, DNS, limit and switch settings shared by secrets.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::bridge::BridgePort;
use crate::properties::{self, quote};
use crate::value::{format_list, parse_timeout};
use crate::{AddressSpec, Error, RateLimit, UseEncryption, YesNoDefault};
use ovpn_rsc::format_duration;

/// A PPP profile (`/ppp profile`), with RouterOS's fields as far as they matter to OpenVPN.
///
/// Unset fields (`None`, empty, or `default` for the switches) inherit from the profile named
/// `default` when a login is resolved (see [`Grant::resolve`](crate::Grant::resolve)). `Display`
/// prints the set fields as RouterOS properties, which [`Profile::from_properties`] and
/// [`Profile::parse`] read back.
///
/// ```
/// use ovpn_ppp::{AddressSpec, Profile, UseEncryption};
///
/// let p = Profile::parse(
///     "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool \
///      dns-server=8.8.8.8 use-compression=no use-encryption=required",
/// )?;
/// assert_eq!(p.remote_address, Some(AddressSpec::Pool("ovpn-pool".into())));
/// assert_eq!(p.use_encryption, UseEncryption::Required);
/// assert_eq!(
///     p.to_string(),
///     "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8 \
///      use-compression=no use-encryption=required"
/// );
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// `name`.
    pub name: String,
    /// `local-address`: the server's end of the tunnel, an address or a pool.
    pub local_address: Option<AddressSpec>,
    /// `remote-address`: the client's address, an address or a pool.
    pub remote_address: Option<AddressSpec>,
    /// `remote-ipv6-prefix-pool`: the `/ipv6 pool` to give the client a prefix from.
    pub remote_ipv6_prefix_pool: Option<String>,
    /// `dns-server`: up to two DNS servers pushed to the client (empty: inherit).
    pub dns_servers: Vec<IpAddr>,
    /// `use-compression`. RouterOS's OpenVPN never compresses; kept and reported.
    pub use_compression: YesNoDefault,
    /// `use-encryption`.
    pub use_encryption: UseEncryption,
    /// `only-one`: refuse a second session of the same user.
    pub only_one: YesNoDefault,
    /// `change-tcp-mss`: clamp the TCP MSS of forwarded SYNs to the tunnel MTU.
    pub change_tcp_mss: YesNoDefault,
    /// `session-timeout`: the longest a session may last (none when zero or unset).
    pub session_timeout: Option<Duration>,
    /// `idle-timeout`: disconnect after this long without traffic.
    pub idle_timeout: Option<Duration>,
    /// `rate-limit`.
    pub rate_limit: Option<RateLimit>,
    /// `address-list`: the firewall address list the client's address is added to.
    pub address_list: Option<String>,
    /// `bridge` and the `bridge-*` port settings (ethernet mode).
    pub bridge: BridgePort,
    /// `comment`.
    pub comment: Option<String>,
}

impl Profile {
    /// The built-in profile every unset field falls back to.
    pub const DEFAULT: &'static str = "default";
    /// The built-in profile that requires encryption.
    pub const DEFAULT_ENCRYPTION: &'static str = "default-encryption";

    /// A profile with every field unset.
    pub fn new(name: impl Into<String>) -> Self {
        Profile {
            name: name.into(),
            local_address: None,
            remote_address: None,
            remote_ipv6_prefix_pool: None,
            dns_servers: Vec::new(),
            use_compression: YesNoDefault::Default,
            use_encryption: UseEncryption::Default,
            only_one: YesNoDefault::Default,
            change_tcp_mss: YesNoDefault::Default,
            session_timeout: None,
            idle_timeout: None,
            rate_limit: None,
            address_list: None,
            bridge: BridgePort::default(),
            comment: None,
        }
    }

    /// The built-in `default` profile as RouterOS ships it: `change-tcp-mss=yes`, the rest unset
    /// (`only-one`, `use-compression` and `use-encryption` at `default`, which means `no`).
    pub fn builtin_default() -> Self {
        let mut p = Profile::new(Self::DEFAULT);
        p.change_tcp_mss = YesNoDefault::Yes;
        p
    }

    /// The built-in `default-encryption` profile: `use-encryption=yes` and `change-tcp-mss=yes`.
    pub fn builtin_default_encryption() -> Self {
        let mut p = Profile::new(Self::DEFAULT_ENCRYPTION);
        p.change_tcp_mss = YesNoDefault::Yes;
        p.use_encryption = UseEncryption::Yes;
        p
    }

    /// Whether `name` is one of the two built-in profiles.
    pub fn is_builtin(name: &str) -> bool {
        name == Self::DEFAULT || name == Self::DEFAULT_ENCRYPTION
    }

    /// Builds a profile from `/ppp profile add` properties (already split and unquoted): `name`
    /// (required), `local-address`, `remote-address`, `remote-ipv6-prefix-pool`, `dns-server`,
    /// `use-compression`, `use-encryption`, `only-one`, `change-tcp-mss`, `session-timeout`,
    /// `idle-timeout`, `rate-limit`, `address-list`, `bridge`, `bridge-horizon`, `bridge-learning`,
    /// `bridge-path-cost`, `bridge-port-priority`, `bridge-port-trusted`, `bridge-port-vid`,
    /// `comment`.
    ///
    /// Unknown and repeated properties are errors; bad values name the property and the value.
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut profile = Profile::new("");
        let mut seen = Vec::new();
        for (key, value) in properties {
            let key = key.as_ref();
            if seen.iter().any(|k| k == key) {
                return Err(Error::DuplicateProperty {
                    property: key.to_owned(),
                });
            }
            profile.set(key, value.as_ref())?;
            seen.push(key.to_owned());
        }
        if !seen.iter().any(|k| k == "name") {
            return Err(Error::MissingProperty { property: "name" });
        }
        Ok(profile)
    }

    /// Tokenizes property text (see [`properties`](crate::properties)) and builds a profile.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::from_properties(properties::parse(text)?)
    }

    /// Sets one property from its RouterOS text, as `/ppp profile set` does. An empty value unsets
    /// a field (for the switches: back to `default`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        match key {
            "name" => {
                if value.is_empty() {
                    return Err(Error::invalid("name", value, "empty name"));
                }
                self.name = value.to_owned();
            }
            "local-address" => {
                self.local_address = (!value.is_empty())
                    .then(|| AddressSpec::parse("local-address", value))
                    .transpose()?;
            }
            "remote-address" => {
                self.remote_address = (!value.is_empty())
                    .then(|| AddressSpec::parse("remote-address", value))
                    .transpose()?;
            }
            "remote-ipv6-prefix-pool" => {
                self.remote_ipv6_prefix_pool = opt(value).filter(|v| v != "none");
            }
            "dns-server" => {
                let servers = if value.is_empty() {
                    Vec::new()
                } else {
                    value
                        .split(',')
                        .map(|s| s.parse::<IpAddr>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| Error::invalid("dns-server", value, "expected IP addresses"))?
                };
                if servers.len() > 2 {
                    return Err(Error::invalid("dns-server", value, "at most two servers"));
                }
                self.dns_servers = servers;
            }
            "use-compression" => self.use_compression = switch("use-compression", value)?,
            "use-encryption" => {
                self.use_encryption = if value.is_empty() {
                    UseEncryption::Default
                } else {
                    UseEncryption::parse(value)?
                };
            }
            "only-one" => self.only_one = switch("only-one", value)?,
            "change-tcp-mss" => self.change_tcp_mss = switch("change-tcp-mss", value)?,
            "session-timeout" => self.session_timeout = parse_timeout("session-timeout", value)?,
            "idle-timeout" => self.idle_timeout = parse_timeout("idle-timeout", value)?,
            "rate-limit" => {
                self.rate_limit = (!value.is_empty()).then(|| value.parse()).transpose()?;
            }
            "address-list" => self.address_list = opt(value),
            "comment" => self.comment = opt(value),
            _ if self.bridge.set(key, value)? => {}
            _ => {
                return Err(Error::UnknownProperty {
                    property: key.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Checks what the public fields cannot enforce: a name, at most two DNS servers.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() {
            return Err(Error::invalid("name", "", "empty name"));
        }
        if self.dns_servers.len() > 2 {
            return Err(Error::invalid(
                "dns-server",
                &format_list(&self.dns_servers),
                "at most two servers",
            ));
        }
        Ok(())
    }
}

fn switch(property: &'static str, value: &str) -> Result<YesNoDefault, Error> {
    if value.is_empty() {
        Ok(YesNoDefault::Default)
    } else {
        YesNoDefault::parse(property, value)
    }
}

impl fmt::Display for Profile {
    /// The set fields as RouterOS properties, `name` first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "name={}", quote(&self.name))?;
        if let Some(a) = &self.local_address {
            write!(f, " local-address={}", quote(&a.to_string()))?;
        }
        if let Some(a) = &self.remote_address {
            write!(f, " remote-address={}", quote(&a.to_string()))?;
        }
        if let Some(p) = &self.remote_ipv6_prefix_pool {
            write!(f, " remote-ipv6-prefix-pool={}", quote(p))?;
        }
        if !self.dns_servers.is_empty() {
            write!(f, " dns-server={}", format_list(&self.dns_servers))?;
        }
        if self.use_compression != YesNoDefault::Default {
            write!(f, " use-compression={}", self.use_compression)?;
        }
        if self.use_encryption != UseEncryption::Default {
            write!(f, " use-encryption={}", self.use_encryption)?;
        }
        if self.only_one != YesNoDefault::Default {
            write!(f, " only-one={}", self.only_one)?;
        }
        if self.change_tcp_mss != YesNoDefault::Default {
            write!(f, " change-tcp-mss={}", self.change_tcp_mss)?;
        }
        if let Some(d) = self.session_timeout {
            write!(f, " session-timeout={}", format_duration(d))?;
        }
        if let Some(d) = self.idle_timeout {
            write!(f, " idle-timeout={}", format_duration(d))?;
        }
        if let Some(r) = &self.rate_limit {
            write!(f, " rate-limit={}", quote(&r.to_string()))?;
        }
        if let Some(l) = &self.address_list {
            write!(f, " address-list={}", quote(l))?;
        }
        write!(f, "{}", self.bridge)?;
        if let Some(c) = &self.comment {
            write!(f, " comment={}", quote(c))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn all_fields_round_trip() {
        let text = "name=\"office users\" local-address=10.8.0.1 remote-address=ovpn-pool \
                    remote-ipv6-prefix-pool=v6 dns-server=8.8.8.8,2001:4860:4860::8888 \
                    use-compression=no use-encryption=required only-one=yes change-tcp-mss=no \
                    session-timeout=1d idle-timeout=5m rate-limit=\"10M/2M 20M\" \
                    address-list=vpn bridge=br-lan bridge-horizon=1 comment=\"a \\\"quoted\\\" note\"";
        let p = Profile::parse(text).unwrap();
        assert_eq!(p.name, "office users");
        assert_eq!(
            p.local_address,
            Some(AddressSpec::Address(Ipv4Addr::new(10, 8, 0, 1)))
        );
        assert_eq!(p.dns_servers.len(), 2);
        assert_eq!(p.only_one, YesNoDefault::Yes);
        assert_eq!(p.session_timeout, Some(Duration::from_secs(86_400)));
        assert_eq!(p.idle_timeout, Some(Duration::from_secs(300)));
        assert_eq!(p.rate_limit.map(|r| r.rate.tx), Some(2_000_000));
        assert_eq!(p.comment.as_deref(), Some("a \"quoted\" note"));
        let printed = p.to_string();
        assert_eq!(Profile::parse(&printed).unwrap(), p, "{printed}");
        assert!(printed.contains("rate-limit=\"10M/2M 20M/20M\""));
        assert_eq!(p.bridge.bridge.as_deref(), Some("br-lan"));
        assert!(
            printed.contains(" bridge=br-lan bridge-horizon=1 comment="),
            "{printed}"
        );
    }

    #[test]
    fn unset_and_empty_values() {
        let p = Profile::parse("name=x local-address=\"\" session-timeout=0s only-one=\"\" remote-ipv6-prefix-pool=none")
            .unwrap();
        assert_eq!(p, Profile::new("x"));
        assert_eq!(p.to_string(), "name=x");
    }

    #[test]
    fn errors_name_property_and_value() {
        let cases: &[(&str, Error)] = &[
            (
                "local-address=1.2.3.4",
                Error::MissingProperty { property: "name" },
            ),
            (
                "name=a name=b",
                Error::DuplicateProperty {
                    property: "name".into(),
                },
            ),
            (
                "name=a bridge-mode=x",
                Error::UnknownProperty {
                    property: "bridge-mode".into(),
                },
            ),
            ("name=", Error::invalid("name", "", "empty name")),
            (
                "name=a dns-server=1.1.1.1,2.2.2.2,3.3.3.3",
                Error::invalid(
                    "dns-server",
                    "1.1.1.1,2.2.2.2,3.3.3.3",
                    "at most two servers",
                ),
            ),
            (
                "name=a dns-server=dns.google",
                Error::invalid("dns-server", "dns.google", "expected IP addresses"),
            ),
            (
                "name=a only-one=always",
                Error::invalid("only-one", "always", "expected default, no or yes"),
            ),
            (
                "name=a use-compression=1",
                Error::invalid("use-compression", "1", "expected default, no or yes"),
            ),
            (
                "name=a change-tcp-mss=y",
                Error::invalid("change-tcp-mss", "y", "expected default, no or yes"),
            ),
            (
                "name=a use-encryption=max",
                Error::invalid(
                    "use-encryption",
                    "max",
                    "expected default, no, required or yes",
                ),
            ),
            (
                "name=a session-timeout=forever",
                Error::invalid(
                    "session-timeout",
                    "forever",
                    "expected a duration such as 30s, 1h30m or 00:10:00",
                ),
            ),
            (
                "name=a rate-limit=fast",
                Error::invalid("rate-limit", "fast", "bad rate"),
            ),
            (
                "name=a local-address=10.8.0.300",
                Error::invalid("local-address", "10.8.0.300", "not an IPv4 address"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&Profile::parse(text).unwrap_err(), want, "{text}");
        }
        assert_eq!(
            Profile::parse("name=a only-one=always")
                .unwrap_err()
                .to_string(),
            "invalid value \"always\" for only-one: expected default, no or yes"
        );
        assert!(matches!(
            Profile::parse("name=\"a"),
            Err(Error::Syntax { .. })
        ));
    }

    #[test]
    fn builtins() {
        let d = Profile::builtin_default();
        assert_eq!(d.to_string(), "name=default change-tcp-mss=yes");
        let e = Profile::builtin_default_encryption();
        assert_eq!(
            e.to_string(),
            "name=default-encryption use-encryption=yes change-tcp-mss=yes"
        );
        assert!(Profile::is_builtin("default") && Profile::is_builtin("default-encryption"));
        assert!(!Profile::is_builtin("ovpn-profile"));
    }
}
