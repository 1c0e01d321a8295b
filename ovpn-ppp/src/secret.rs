//! `/ppp secret`: one user's credentials and per-user settings.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv6Net;

use crate::properties::{self, quote};
use crate::value::{format_list, parse_routes, parse_yes_no};
use crate::{Error, Password, Profile, Route, Service};

/// RouterOS's limit on OpenVPN user names, in characters.
pub const MAX_OVPN_USER: usize = 27;
/// RouterOS's limit on OpenVPN passwords, in characters.
pub const MAX_OVPN_PASSWORD: usize = 233;

/// A PPP secret (`/ppp secret`): a user, its password, which service it may use, its profile, and
/// per-user settings that override the profile.
///
/// RouterOS limits OpenVPN user names to 27 characters and passwords to 233. A secret with
/// `service=ovpn` beyond these limits is refused when built, since it could never log in; a
/// secret with `service=any` may be longer (it serves the other services), and an OpenVPN login
/// with a longer user name or password is refused as `login incorrect`.
///
/// `Display` prints the set fields as RouterOS properties **without the password**, as RouterOS 7
/// `export` does; [`Secret::show_sensitive`] includes it.
///
/// ```
/// use ovpn_ppp::{Secret, Service};
///
/// let s = Secret::parse("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")?;
/// assert_eq!((s.service, s.profile.as_str()), (Service::Ovpn, "ovpn-profile"));
/// assert_eq!(s.to_string(), "name=client1 profile=ovpn-profile service=ovpn");
/// assert_eq!(
///     s.show_sensitive().to_string(),
///     "name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn"
/// );
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Secret {
    /// `name`: the user name.
    pub name: String,
    /// `password`.
    pub password: Password,
    /// `service`: which service may use the secret (default `any`).
    pub service: Service,
    /// `profile` (default `default`).
    pub profile: String,
    /// `local-address`: overrides the profile's.
    pub local_address: Option<Ipv4Addr>,
    /// `remote-address`: a fixed client address, overriding the profile's.
    pub remote_address: Option<Ipv4Addr>,
    /// `remote-ipv6-prefix`: a fixed IPv6 prefix for the client, overriding the profile's pool.
    pub remote_ipv6_prefix: Option<Ipv6Net>,
    /// `routes`: IPv4 routes towards the client installed while it is connected.
    pub routes: Vec<Route>,
    /// `ipv6-routes`: IPv6 routes towards the client installed while it is connected.
    pub ipv6_routes: Vec<Route>,
    /// `limit-bytes-in`: bytes the client may send before being disconnected (0: no limit).
    pub limit_bytes_in: u64,
    /// `limit-bytes-out`: bytes the client may receive before being disconnected (0: no limit).
    pub limit_bytes_out: u64,
    /// `caller-id`: if set, the only client address (as text) the secret may log in from.
    pub caller_id: Option<String>,
    /// `disabled`.
    pub disabled: bool,
    /// `comment`.
    pub comment: Option<String>,
}

impl Secret {
    /// A secret for `name` with `password`, service `any`, profile `default`, nothing else set.
    pub fn new(name: impl Into<String>, password: impl Into<Password>) -> Self {
        Secret {
            name: name.into(),
            password: password.into(),
            service: Service::Any,
            profile: Profile::DEFAULT.to_owned(),
            local_address: None,
            remote_address: None,
            remote_ipv6_prefix: None,
            routes: Vec::new(),
            ipv6_routes: Vec::new(),
            limit_bytes_in: 0,
            limit_bytes_out: 0,
            caller_id: None,
            disabled: false,
            comment: None,
        }
    }

    /// Builds a secret from `/ppp secret add` properties (already split and unquoted): `name`
    /// (required), `password`, `service`, `profile`, `local-address`, `remote-address`,
    /// `remote-ipv6-prefix`, `routes`, `ipv6-routes`, `limit-bytes-in`, `limit-bytes-out`,
    /// `caller-id`, `disabled`, `comment`.
    ///
    /// Unknown and repeated properties are errors; bad values name the property and the value
    /// (except passwords, shown as `<hidden>`).
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut secret = Secret::new("", "");
        let mut seen = Vec::new();
        for (key, value) in properties {
            let key = key.as_ref();
            if seen.iter().any(|k| k == key) {
                return Err(Error::DuplicateProperty {
                    property: key.to_owned(),
                });
            }
            secret.set(key, value.as_ref())?;
            seen.push(key.to_owned());
        }
        if !seen.iter().any(|k| k == "name") {
            return Err(Error::MissingProperty { property: "name" });
        }
        secret.validate()?;
        Ok(secret)
    }

    /// Tokenizes property text (see [`properties`](crate::properties)) and builds a secret.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::from_properties(properties::parse(text)?)
    }

    /// Sets one property from its RouterOS text, as `/ppp secret set` does. An empty value unsets
    /// a field. (The OpenVPN length limits are checked by [`Secret::from_properties`] and when the
    /// secret is added to a table, once all properties are known.)
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let ipv4 = |property, v: &str| {
            (!v.is_empty())
                .then(|| {
                    v.parse::<Ipv4Addr>()
                        .map_err(|_| Error::invalid(property, v, "not an IPv4 address"))
                })
                .transpose()
        };
        let bytes = |property, v: &str| {
            if v.is_empty() {
                return Ok(0);
            }
            v.parse::<u64>()
                .map_err(|_| Error::invalid(property, v, "expected a number of bytes"))
        };
        match key {
            "name" => {
                if value.is_empty() {
                    return Err(Error::invalid("name", value, "empty name"));
                }
                self.name = value.to_owned();
            }
            "password" => self.password = Password::new(value),
            "service" => {
                self.service = if value.is_empty() {
                    Service::Any
                } else {
                    value.parse()?
                };
            }
            "profile" => {
                self.profile = if value.is_empty() {
                    Profile::DEFAULT.to_owned()
                } else {
                    value.to_owned()
                };
            }
            "local-address" => self.local_address = ipv4("local-address", value)?,
            "remote-address" => self.remote_address = ipv4("remote-address", value)?,
            "remote-ipv6-prefix" => {
                self.remote_ipv6_prefix = (!value.is_empty())
                    .then(|| {
                        value.parse::<Ipv6Net>().map_err(|_| {
                            Error::invalid("remote-ipv6-prefix", value, "not an IPv6 prefix")
                        })
                    })
                    .transpose()?;
            }
            "routes" => self.routes = parse_routes("routes", value, false)?,
            "ipv6-routes" => self.ipv6_routes = parse_routes("ipv6-routes", value, true)?,
            "limit-bytes-in" => self.limit_bytes_in = bytes("limit-bytes-in", value)?,
            "limit-bytes-out" => self.limit_bytes_out = bytes("limit-bytes-out", value)?,
            "caller-id" => self.caller_id = opt(value),
            "disabled" => self.disabled = parse_yes_no("disabled", value)?,
            "comment" => self.comment = opt(value),
            _ => {
                return Err(Error::UnknownProperty {
                    property: key.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Checks a name is present and, for `service=ovpn`, RouterOS's OpenVPN length limits.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() {
            return Err(Error::invalid("name", "", "empty name"));
        }
        // A user name or password travels NUL-terminated (OpenVPN's key-method-2 record), and
        // control characters cannot be typed at a login prompt: such a secret could never match.
        if self.name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                &self.name.escape_debug().to_string(),
                "control characters (NUL included) are not allowed",
            ));
        }
        if self.password.as_str().chars().any(char::is_control) {
            return Err(Error::invalid(
                "password",
                "<hidden>",
                "control characters (NUL included) are not allowed",
            ));
        }
        if self.service == Service::Ovpn {
            if self.name.chars().count() > MAX_OVPN_USER {
                return Err(Error::invalid(
                    "name",
                    &self.name,
                    "OpenVPN user names are at most 27 characters",
                ));
            }
            if self.password.chars() > MAX_OVPN_PASSWORD {
                return Err(Error::invalid(
                    "password",
                    "<hidden>",
                    "OpenVPN passwords are at most 233 characters",
                ));
            }
        }
        Ok(())
    }

    /// The secret as RouterOS properties including the password (`export show-sensitive`).
    pub fn show_sensitive(&self) -> impl fmt::Display + '_ {
        Printed {
            secret: self,
            sensitive: true,
        }
    }
}

struct Printed<'a> {
    secret: &'a Secret,
    sensitive: bool,
}

impl fmt::Display for Printed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.secret;
        write!(f, "name={}", quote(&s.name))?;
        if self.sensitive && !s.password.as_str().is_empty() {
            write!(f, " password={}", quote(s.password.as_str()))?;
        }
        if s.profile != Profile::DEFAULT {
            write!(f, " profile={}", quote(&s.profile))?;
        }
        if s.service != Service::Any {
            write!(f, " service={}", s.service)?;
        }
        if let Some(a) = s.local_address {
            write!(f, " local-address={a}")?;
        }
        if let Some(a) = s.remote_address {
            write!(f, " remote-address={a}")?;
        }
        if let Some(p) = s.remote_ipv6_prefix {
            write!(f, " remote-ipv6-prefix={p}")?;
        }
        if !s.routes.is_empty() {
            write!(f, " routes={}", quote(&format_list(&s.routes)))?;
        }
        if !s.ipv6_routes.is_empty() {
            write!(f, " ipv6-routes={}", quote(&format_list(&s.ipv6_routes)))?;
        }
        if s.limit_bytes_in != 0 {
            write!(f, " limit-bytes-in={}", s.limit_bytes_in)?;
        }
        if s.limit_bytes_out != 0 {
            write!(f, " limit-bytes-out={}", s.limit_bytes_out)?;
        }
        if let Some(c) = &s.caller_id {
            write!(f, " caller-id={}", quote(c))?;
        }
        if s.disabled {
            f.write_str(" disabled=yes")?;
        }
        if let Some(c) = &s.comment {
            write!(f, " comment={}", quote(c))?;
        }
        Ok(())
    }
}

impl fmt::Display for Secret {
    /// The set fields as RouterOS properties, without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Printed {
            secret: self,
            sensitive: false,
        }
        .fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_fields_round_trip() {
        let text = "name=\"user one\" password=\"p w\\$\" service=ovpn profile=ovpn-profile \
                    local-address=10.8.0.1 remote-address=10.8.0.50 remote-ipv6-prefix=2001:db8:1::/64 \
                    routes=\"10.1.0.0/24 10.8.0.50 1,10.2.0.0/16\" ipv6-routes=2001:db8:2::/48 \
                    limit-bytes-in=1000000 limit-bytes-out=2000000 caller-id=192.0.2.7 \
                    disabled=yes comment=hello";
        let s = Secret::parse(text).unwrap();
        assert_eq!(s.name, "user one");
        assert_eq!(s.password.as_str(), "p w$");
        assert_eq!(s.remote_address, Some(Ipv4Addr::new(10, 8, 0, 50)));
        assert_eq!(s.routes.len(), 2);
        assert_eq!(s.ipv6_routes.len(), 1);
        assert_eq!(
            (s.limit_bytes_in, s.limit_bytes_out),
            (1_000_000, 2_000_000)
        );
        assert_eq!(s.caller_id.as_deref(), Some("192.0.2.7"));
        assert!(s.disabled);
        let printed = s.show_sensitive().to_string();
        assert_eq!(Secret::parse(&printed).unwrap(), s, "{printed}");
        assert!(!s.to_string().contains("password"));
        assert!(!format!("{s:?}").contains("p w$"));
    }

    #[test]
    fn defaults() {
        let s = Secret::parse("name=u").unwrap();
        assert_eq!(s, Secret::new("u", ""));
        assert_eq!(
            (s.service, s.profile.as_str(), s.disabled),
            (Service::Any, "default", false)
        );
        assert_eq!(s.to_string(), "name=u");
        let s = Secret::parse("name=u disabled=no service=\"\" profile=\"\"").unwrap();
        assert_eq!(s, Secret::new("u", ""));
    }

    #[test]
    fn ovpn_length_limits() {
        let name27 = "a".repeat(27);
        let name28 = "a".repeat(28);
        assert!(Secret::parse(&format!("name={name27} service=ovpn")).is_ok());
        assert_eq!(
            Secret::parse(&format!("name={name28} service=ovpn")).unwrap_err(),
            Error::invalid(
                "name",
                &name28,
                "OpenVPN user names are at most 27 characters"
            )
        );
        // Characters, not bytes.
        assert!(Secret::parse(&format!("name={} service=ovpn", "é".repeat(27))).is_ok());
        // Other services are not limited.
        assert!(Secret::parse(&format!("name={name28} service=any")).is_ok());
        let pw233 = "p".repeat(233);
        let pw234 = "p".repeat(234);
        assert!(Secret::parse(&format!("name=u password={pw233} service=ovpn")).is_ok());
        let err = Secret::parse(&format!("name=u password={pw234} service=ovpn")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"<hidden>\" for password: OpenVPN passwords are at most 233 characters"
        );
    }

    #[test]
    fn control_characters_are_refused_in_names_and_passwords() {
        let mut s = Secret::parse("name=client1 password=pw").unwrap();
        s.name = "client\u{0}1".into();
        assert_eq!(
            s.validate(),
            Err(Error::invalid(
                "name",
                "client\\01",
                "control characters (NUL included) are not allowed"
            ))
        );
        let mut s = Secret::parse("name=client1").unwrap();
        s.password = Password::new("p\u{0}w");
        assert!(matches!(
            s.validate(),
            Err(Error::InvalidValue {
                property: "password",
                ..
            })
        ));
        // Through the RouterOS text too (a quoted escape of the NUL byte).
        assert!(matches!(
            Secret::parse("name=\"a\\00b\" password=x"),
            Err(Error::InvalidValue {
                property: "name",
                ..
            })
        ));
    }

    #[test]
    fn errors_name_property_and_value() {
        let cases: &[(&str, Error)] = &[
            ("password=x", Error::MissingProperty { property: "name" }),
            (
                "name=a name=a",
                Error::DuplicateProperty {
                    property: "name".into(),
                },
            ),
            (
                "name=a last-caller-id=x",
                Error::UnknownProperty {
                    property: "last-caller-id".into(),
                },
            ),
            ("name=", Error::invalid("name", "", "empty name")),
            (
                "name=a service=ppp",
                Error::invalid(
                    "service",
                    "ppp",
                    "expected any, async, l2tp, ovpn, pppoe, pptp or sstp",
                ),
            ),
            (
                "name=a remote-address=ovpn-pool",
                Error::invalid("remote-address", "ovpn-pool", "not an IPv4 address"),
            ),
            (
                "name=a local-address=fe80::1",
                Error::invalid("local-address", "fe80::1", "not an IPv4 address"),
            ),
            (
                "name=a remote-ipv6-prefix=10.0.0.0/8",
                Error::invalid("remote-ipv6-prefix", "10.0.0.0/8", "not an IPv6 prefix"),
            ),
            (
                "name=a routes=10.0.0.0/8/8",
                Error::invalid(
                    "routes",
                    "10.0.0.0/8/8",
                    "expected dst-address [gateway [metric]]",
                ),
            ),
            (
                "name=a limit-bytes-in=-1",
                Error::invalid("limit-bytes-in", "-1", "expected a number of bytes"),
            ),
            (
                "name=a limit-bytes-out=1G",
                Error::invalid("limit-bytes-out", "1G", "expected a number of bytes"),
            ),
            (
                "name=a disabled=maybe",
                Error::invalid("disabled", "maybe", "expected yes or no"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&Secret::parse(text).unwrap_err(), want, "{text}");
        }
    }
}
