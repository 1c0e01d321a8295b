//! Certificate templates (`/certificate add`) and their RouterOS property values.

use core::fmt;
use core::str::FromStr;
use std::net::IpAddr;

use crate::error::PkiError;
use crate::usage::{KeyUsage, KeyUsages};

/// The key a template's `sign` generates (`key-size`): RSA sizes or named EC curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeySize {
    /// RSA 1024 bits (signed with the `rsa` crate; ring and rustls refuse such keys).
    Rsa1024,
    /// RSA 1536 bits (signed with the `rsa` crate; ring and rustls refuse such keys).
    Rsa1536,
    /// RSA 2048 bits, RouterOS's default.
    #[default]
    Rsa2048,
    /// RSA 4096 bits.
    Rsa4096,
    /// RSA 8192 bits (signed with the `rsa` crate; ring cannot sign with it).
    Rsa8192,
    /// NIST P-256 (`prime256v1`).
    Prime256v1,
    /// NIST P-384 (`secp384r1`).
    Secp384r1,
    /// NIST P-521 (`secp521r1`): accepted in templates, but `sign` refuses it because ring (the
    /// workspace's crypto provider) has no P-521.
    Secp521r1,
}

impl KeySize {
    /// All values, in RouterOS's order.
    pub const ALL: [Self; 8] = [
        Self::Rsa1024,
        Self::Rsa1536,
        Self::Rsa2048,
        Self::Rsa4096,
        Self::Rsa8192,
        Self::Prime256v1,
        Self::Secp384r1,
        Self::Secp521r1,
    ];

    /// The RouterOS value (`2048`, `prime256v1`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa1024 => "1024",
            Self::Rsa1536 => "1536",
            Self::Rsa2048 => "2048",
            Self::Rsa4096 => "4096",
            Self::Rsa8192 => "8192",
            Self::Prime256v1 => "prime256v1",
            Self::Secp384r1 => "secp384r1",
            Self::Secp521r1 => "secp521r1",
        }
    }

    /// RSA modulus bits, or `None` for an EC curve.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa1024 => Some(1024),
            Self::Rsa1536 => Some(1536),
            Self::Rsa2048 => Some(2048),
            Self::Rsa4096 => Some(4096),
            Self::Rsa8192 => Some(8192),
            Self::Prime256v1 | Self::Secp384r1 | Self::Secp521r1 => None,
        }
    }

    /// RouterOS's `key-type` column: `rsa` or `ec`.
    pub fn key_type(self) -> &'static str {
        if self.rsa_bits().is_some() {
            "rsa"
        } else {
            "ec"
        }
    }
}

impl fmt::Display for KeySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeySize {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// The signature digest (`digest-algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// MD5: accepted in templates, refused by `sign` (OpenSSL 3 and rustls reject MD5 signatures).
    Md5,
    /// SHA-1: accepted in templates, refused by `sign` (OpenSSL 3 at its default security level
    /// and rustls reject SHA-1 signatures).
    Sha1,
    /// SHA-256, RouterOS's default.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// All values, in RouterOS's order.
    pub const ALL: [Self; 5] = [
        Self::Md5,
        Self::Sha1,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
    ];

    /// The RouterOS value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// One `subject-alt-name` entry: `DNS:name`, `IP:address` or `email:address`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubjectAltName {
    /// `DNS:` a DNS name.
    Dns(String),
    /// `IP:` an IPv4 or IPv6 address.
    Ip(IpAddr),
    /// `email:` an RFC 822 address.
    Email(String),
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(d) => write!(f, "DNS:{d}"),
            Self::Ip(ip) => write!(f, "IP:{ip}"),
            Self::Email(e) => write!(f, "email:{e}"),
        }
    }
}

impl FromStr for SubjectAltName {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, &'static str> {
        let (kind, value) = s
            .split_once(':')
            .ok_or("expected DNS:name, IP:address or email:address")?;
        let value = value.trim();
        if value.is_empty() {
            return Err("empty subject-alt-name value");
        }
        match kind.trim().to_ascii_lowercase().as_str() {
            "dns" if value.is_ascii() && !value.contains(char::is_whitespace) => {
                Ok(Self::Dns(value.to_owned()))
            }
            "dns" => Err("DNS names must be ASCII without spaces"),
            "ip" => value.parse().map(Self::Ip).map_err(|_| "not an IP address"),
            "email" if value.is_ascii() && value.contains('@') => Ok(Self::Email(value.to_owned())),
            "email" => Err("not an ASCII e-mail address"),
            _ => Err("expected DNS:, IP: or email:"),
        }
    }
}

/// The subject fields of a template or certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Subject {
    /// `common-name` (CN).
    pub common_name: String,
    /// `country` (C): two letters.
    pub country: Option<String>,
    /// `state` (ST).
    pub state: Option<String>,
    /// `locality` (L).
    pub locality: Option<String>,
    /// `organization` (O).
    pub organization: Option<String>,
    /// `unit` (OU).
    pub unit: Option<String>,
}

/// A certificate template, as `/certificate add` creates it. `sign` turns it into a certificate.
///
/// ```
/// use ovpn_pki::{KeySize, KeyUsage, Template};
/// let t = Template::from_properties(&[
///     ("name", "ca-template"),
///     ("common-name", "OpenVPN CA"),
///     ("days-valid", "3650"),
///     ("key-size", "2048"),
///     ("key-usage", "key-cert-sign,crl-sign"),
/// ])?;
/// assert_eq!(t.subject.common_name, "OpenVPN CA");
/// assert_eq!(t.key_size, KeySize::Rsa2048);
/// assert!(t.key_usage.contains(KeyUsage::KeyCertSign));
/// assert!(t.is_ca());
/// # Ok::<(), ovpn_pki::PkiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Template {
    /// `name`: the template's name, and the certificate's unless `sign` gives another.
    pub name: String,
    /// The subject (`common-name`, `country`, `state`, `locality`, `organization`, `unit`).
    pub subject: Subject,
    /// `subject-alt-name`: comma-separated `DNS:`, `IP:`, `email:` entries.
    pub subject_alt_names: Vec<SubjectAltName>,
    /// `days-valid` (default 365).
    pub days_valid: u32,
    /// `key-size` (default 2048).
    pub key_size: KeySize,
    /// `key-usage` (default [`KeyUsages::routeros_default`]).
    pub key_usage: KeyUsages,
    /// `digest-algorithm`; `None` means sha256 for RSA and P-256 issuers, sha384 for P-384.
    pub digest_algorithm: Option<DigestAlgorithm>,
    /// `trusted`; `None` means trusted when self-signed CA, else not.
    pub trusted: Option<bool>,
}

/// Longest `days-valid` accepted (100 years).
pub const MAX_DAYS_VALID: u32 = 36_500;

impl Template {
    /// A template with RouterOS's defaults (365 days, RSA 2048, default key usage, sha256).
    pub fn new(name: impl Into<String>, common_name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            subject: Subject {
                common_name: common_name.into(),
                ..Subject::default()
            },
            subject_alt_names: Vec::new(),
            days_valid: 365,
            key_size: KeySize::default(),
            key_usage: KeyUsages::routeros_default(),
            digest_algorithm: None,
            trusted: None,
        }
    }

    /// Builds a template from `/certificate add` properties, e.g.
    /// `[("name", "ca-template"), ("common-name", "OpenVPN CA"), ("key-usage", "key-cert-sign,crl-sign")]`.
    /// `name` and `common-name` are required. `copy-from` needs the store: use
    /// [`Store::add_from_properties`](crate::Store::add_from_properties).
    pub fn from_properties(props: &[(&str, &str)]) -> Result<Self, PkiError> {
        let mut t = Self::new(String::new(), String::new());
        for (k, v) in props {
            t.set_property(k, v)?;
        }
        t.check_complete()?;
        Ok(t)
    }

    pub(crate) fn check_complete(&self) -> Result<(), PkiError> {
        if self.name.is_empty() {
            return Err(PkiError::MissingProperty { property: "name" });
        }
        if self.subject.common_name.is_empty() {
            return Err(PkiError::MissingProperty {
                property: "common-name",
            });
        }
        Ok(())
    }

    /// Sets one property by its RouterOS name (`/certificate set`). The error names the property.
    pub fn set_property(&mut self, property: &str, value: &str) -> Result<(), PkiError> {
        let text = |max: usize| -> Result<Option<String>, PkiError> {
            if value.chars().any(char::is_control) {
                return Err(PkiError::invalid(
                    property,
                    value,
                    "control characters are not allowed",
                ));
            }
            if value.chars().count() > max {
                return Err(PkiError::invalid(
                    property,
                    value,
                    format!("at most {max} characters"),
                ));
            }
            Ok((!value.is_empty()).then(|| value.to_owned()))
        };
        match property {
            "name" => {
                let v = text(255)?.ok_or_else(|| PkiError::invalid(property, value, "empty"))?;
                self.name = v;
            }
            // RFC 5280 upper bounds (ub-common-name 64, ub-state-name 128, ...).
            "common-name" => self.subject.common_name = text(64)?.unwrap_or_default(),
            "country" => {
                let v = text(2)?;
                if let Some(c) = &v {
                    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(PkiError::invalid(property, value, "two letters"));
                    }
                }
                self.subject.country = v;
            }
            "state" => self.subject.state = text(128)?,
            "locality" => self.subject.locality = text(128)?,
            "organization" => self.subject.organization = text(64)?,
            "unit" => self.subject.unit = text(64)?,
            "subject-alt-name" => {
                let mut sans = Vec::new();
                for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    sans.push(
                        part.parse()
                            .map_err(|e: &str| PkiError::invalid(property, value, e))?,
                    );
                }
                self.subject_alt_names = sans;
            }
            "days-valid" => {
                let days: u32 = value
                    .parse()
                    .map_err(|_| PkiError::invalid(property, value, "a number of days"))?;
                if days == 0 || days > MAX_DAYS_VALID {
                    return Err(PkiError::invalid(
                        property,
                        value,
                        format!("1..={MAX_DAYS_VALID}"),
                    ));
                }
                self.days_valid = days;
            }
            "key-size" => {
                self.key_size = value.parse().map_err(|()| {
                    PkiError::invalid(
                        property,
                        value,
                        "1024, 1536, 2048, 4096, 8192, prime256v1, secp384r1 or secp521r1",
                    )
                })?;
            }
            "key-usage" => {
                self.key_usage = value.parse().map_err(|bad| {
                    PkiError::invalid(property, value, format!("unknown key usage `{bad}`"))
                })?;
            }
            "digest-algorithm" => {
                self.digest_algorithm = Some(value.parse().map_err(|()| {
                    PkiError::invalid(property, value, "md5, sha1, sha256, sha384 or sha512")
                })?);
            }
            "trusted" => self.trusted = Some(crate::props::yes_no(property, value)?),
            _ => {
                return Err(PkiError::UnknownProperty {
                    property: property.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Whether `sign` makes a CA of it (its key usage has `key-cert-sign`).
    pub fn is_ca(&self) -> bool {
        self.key_usage.contains(KeyUsage::KeyCertSign)
    }

    /// The template as RouterOS's `print detail` shows it.
    pub fn detail(&self) -> String {
        let mut s = format!(
            "name=\"{}\" key-type={} common-name=\"{}\"",
            self.name,
            self.key_size.key_type(),
            self.subject.common_name
        );
        for (k, v) in [
            ("country", &self.subject.country),
            ("state", &self.subject.state),
            ("locality", &self.subject.locality),
            ("organization", &self.subject.organization),
            ("unit", &self.subject.unit),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {k}=\"{v}\""));
            }
        }
        let sans: Vec<String> = self
            .subject_alt_names
            .iter()
            .map(ToString::to_string)
            .collect();
        s.push_str(&format!(
            " key-size={} subject-alt-name=\"{}\" days-valid={} key-usage={}",
            self.key_size,
            sans.join(","),
            self.days_valid,
            self.key_usage
        ));
        if let Some(d) = self.digest_algorithm {
            s.push_str(&format!(" digest-algorithm={d}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_templates_parse() {
        let t = Template::from_properties(&[
            ("name", "server-template"),
            ("common-name", "ovpn-server"),
            ("days-valid", "3650"),
            ("key-size", "2048"),
            ("key-usage", "digital-signature,key-encipherment,tls-server"),
        ])
        .unwrap();
        assert_eq!(t.name, "server-template");
        assert_eq!(t.days_valid, 3650);
        assert!(!t.is_ca());
        assert_eq!(
            t.key_usage.to_string(),
            "digital-signature,key-encipherment,tls-server"
        );
    }

    #[test]
    fn defaults_are_routeros_defaults() {
        let t = Template::from_properties(&[("name", "x"), ("common-name", "x")]).unwrap();
        assert_eq!(t.days_valid, 365);
        assert_eq!(t.key_size, KeySize::Rsa2048);
        assert_eq!(
            t.key_usage.to_string(),
            "digital-signature,key-encipherment,data-encipherment,key-cert-sign,crl-sign,tls-server,tls-client"
        );
    }

    #[test]
    fn errors_name_the_property() {
        let e = Template::from_properties(&[("name", "x"), ("key-size", "3000")]).unwrap_err();
        assert!(matches!(&e, PkiError::InvalidProperty { property, .. } if property == "key-size"));
        assert!(e.to_string().contains("key-size"));
        let e = Template::from_properties(&[("name", "x"), ("key-usage", "tls-server,fly")])
            .unwrap_err();
        assert!(e.to_string().contains("`fly`"), "{e}");
        let e = Template::from_properties(&[("name", "x")]).unwrap_err();
        assert_eq!(
            e,
            PkiError::MissingProperty {
                property: "common-name"
            }
        );
        let e = Template::from_properties(&[("colour", "red")]).unwrap_err();
        assert!(matches!(e, PkiError::UnknownProperty { .. }));
        let e = Template::from_properties(&[("name", "x"), ("days-valid", "0")]).unwrap_err();
        assert!(e.to_string().contains("days-valid"));
        let e = Template::from_properties(&[("name", "x"), ("country", "USA")]).unwrap_err();
        assert!(e.to_string().contains("country"));
    }

    #[test]
    fn subject_alt_names() {
        let t = Template::from_properties(&[
            ("name", "s"),
            ("common-name", "s"),
            (
                "subject-alt-name",
                "DNS:vpn.example.com,IP:192.0.2.1,email:a@b.c",
            ),
        ])
        .unwrap();
        assert_eq!(
            t.subject_alt_names,
            vec![
                SubjectAltName::Dns("vpn.example.com".into()),
                SubjectAltName::Ip("192.0.2.1".parse().unwrap()),
                SubjectAltName::Email("a@b.c".into()),
            ]
        );
        assert!(
            Template::from_properties(&[("subject-alt-name", "URI:x")])
                .unwrap_err()
                .to_string()
                .contains("subject-alt-name")
        );
    }

    #[test]
    fn key_usage_round_trip() {
        for u in KeyUsage::ALL {
            assert_eq!(u.as_str().parse::<KeyUsage>(), Ok(u));
        }
        let all: KeyUsages = KeyUsage::ALL.into_iter().collect();
        assert_eq!(all.to_string().parse::<KeyUsages>(), Ok(all));
        for k in KeySize::ALL {
            assert_eq!(k.as_str().parse::<KeySize>(), Ok(k));
        }
    }
}
