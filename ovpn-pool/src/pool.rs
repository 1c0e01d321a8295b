//! One pool's configuration: `/ip pool` and `/ipv6 pool` entries.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::Ipv6Net;

use crate::{PoolError, Ranges, quote};

/// The address family of a pool or of a [`PoolSet`](crate::PoolSet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4: RouterOS `/ip pool`, addresses handed out one by one.
    Ipv4,
    /// IPv6: RouterOS `/ipv6 pool`, prefixes of `prefix-length` handed out per client.
    Ipv6,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Space {
    V4(Ranges),
    V6 { prefix: Ipv6Net, prefix_length: u8 },
}

/// One pool's configuration: a name, its addresses, an optional `next-pool` and a comment.
///
/// A pool holds no state; the addresses in use live in the [`PoolSet`](crate::PoolSet) it is added
/// to. `Display` prints the RouterOS properties (`name=ovpn-pool ranges=10.8.0.2-10.8.0.254`),
/// which [`Pool::from_properties`] reads back.
///
/// ```
/// use ovpn_pool::{Family, Pool};
///
/// let pool = Pool::from_properties(
///     Family::Ipv4,
///     [("name", "ovpn-pool"), ("ranges", "10.8.0.2-10.8.0.254")],
/// )?;
/// assert_eq!(pool.total(), 253);
/// assert_eq!(pool.to_string(), "name=ovpn-pool ranges=10.8.0.2-10.8.0.254");
///
/// let v6 = Pool::from_properties(
///     Family::Ipv6,
///     [("name", "v6"), ("prefix", "2001:db8::/48"), ("prefix-length", "64")],
/// )?;
/// assert_eq!(v6.total(), 65536);
/// # Ok::<(), ovpn_pool::PoolError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    name: String,
    space: Space,
    next_pool: Option<String>,
    comment: Option<String>,
}

fn check_name(name: &str) -> Result<(), PoolError> {
    if name.is_empty() {
        return Err(PoolError::InvalidValue {
            property: "name",
            value: String::new(),
            reason: "empty name",
        });
    }
    if name == "none" {
        return Err(PoolError::InvalidValue {
            property: "name",
            value: name.to_owned(),
            reason: "\"none\" means no pool",
        });
    }
    Ok(())
}

impl Pool {
    /// An IPv4 pool (`/ip pool add name=NAME ranges=RANGES`).
    pub fn ipv4(name: impl Into<String>, ranges: Ranges) -> Result<Self, PoolError> {
        let name = name.into();
        check_name(&name)?;
        Ok(Pool {
            name,
            space: Space::V4(ranges),
            next_pool: None,
            comment: None,
        })
    }

    /// An IPv6 pool (`/ipv6 pool add name=NAME prefix=PREFIX prefix-length=LEN`): it hands out
    /// the prefixes of length `prefix_length` inside `prefix`, one per client.
    ///
    /// `prefix` must have no host bits set, and `prefix_length` must lie between the prefix's own
    /// length and 128. A pool of 2^128 prefixes (`::/0` with `prefix-length=128`) is refused.
    pub fn ipv6(
        name: impl Into<String>,
        prefix: Ipv6Net,
        prefix_length: u8,
    ) -> Result<Self, PoolError> {
        let name = name.into();
        check_name(&name)?;
        if prefix.addr() != prefix.network() {
            return Err(PoolError::MalformedRange {
                text: prefix.to_string(),
                reason: "prefix has host bits set",
            });
        }
        let invalid = |reason| PoolError::InvalidValue {
            property: "prefix-length",
            value: prefix_length.to_string(),
            reason,
        };
        if prefix_length > 128 || prefix_length < prefix.prefix_len() {
            return Err(invalid("must lie between the prefix's length and 128"));
        }
        if prefix_length - prefix.prefix_len() == 128 {
            return Err(invalid("the pool would hold 2^128 prefixes"));
        }
        Ok(Pool {
            name,
            space: Space::V6 {
                prefix,
                prefix_length,
            },
            next_pool: None,
            comment: None,
        })
    }

    /// Sets `next-pool`: the pool tried when this one is exhausted (`None` for RouterOS `none`).
    /// RouterOS has `next-pool` on `/ip pool` only; here IPv6 pools may chain too.
    pub fn with_next_pool(mut self, next_pool: Option<&str>) -> Self {
        self.next_pool = next_pool.map(str::to_owned);
        self
    }

    /// Sets the comment.
    pub fn with_comment(mut self, comment: Option<&str>) -> Self {
        self.comment = comment.map(str::to_owned);
        self
    }

    /// Builds a pool from RouterOS properties, as `/ip pool add` (for [`Family::Ipv4`]: `name`,
    /// `ranges`, `next-pool`, `comment`) or `/ipv6 pool add` (for [`Family::Ipv6`]: `name`,
    /// `prefix`, `prefix-length`, `comment`, and `next-pool` as an extension) take them.
    ///
    /// The pairs are the already split `key=value` properties, unquoted. Errors name the property
    /// and the bad value; unknown, repeated and missing properties are errors.
    pub fn from_properties<I, K, V>(family: Family, properties: I) -> Result<Self, PoolError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut name = None;
        let mut ranges = None;
        let mut prefix = None;
        let mut prefix_length = None;
        let mut next_pool = None;
        let mut comment = None;
        for (key, value) in properties {
            let (key, value) = (key.as_ref(), value.as_ref());
            let slot = match (family, key) {
                (_, "name") => &mut name,
                (_, "comment") => &mut comment,
                (_, "next-pool") => &mut next_pool,
                (Family::Ipv4, "ranges") => &mut ranges,
                (Family::Ipv6, "prefix") => &mut prefix,
                (Family::Ipv6, "prefix-length") => &mut prefix_length,
                _ => {
                    return Err(PoolError::UnknownProperty {
                        property: key.to_owned(),
                    });
                }
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(PoolError::DuplicateProperty {
                    property: key.to_owned(),
                });
            }
        }
        let name = name.ok_or(PoolError::MissingProperty { property: "name" })?;
        let pool = match family {
            Family::Ipv4 => {
                let ranges = ranges.ok_or(PoolError::MissingProperty { property: "ranges" })?;
                Pool::ipv4(name, ranges.parse()?)?
            }
            Family::Ipv6 => {
                let prefix_text =
                    prefix.ok_or(PoolError::MissingProperty { property: "prefix" })?;
                let prefix: Ipv6Net = prefix_text.parse().map_err(|_| PoolError::InvalidValue {
                    property: "prefix",
                    value: prefix_text.clone(),
                    reason: "not an IPv6 prefix",
                })?;
                let length_text = prefix_length.ok_or(PoolError::MissingProperty {
                    property: "prefix-length",
                })?;
                let length: u8 = length_text.parse().map_err(|_| PoolError::InvalidValue {
                    property: "prefix-length",
                    value: length_text.clone(),
                    reason: "not a number from 1 to 128",
                })?;
                Pool::ipv6(name, prefix, length)?
            }
        };
        let next_pool = next_pool.filter(|n| n != "none");
        if next_pool.as_deref() == Some("") {
            return Err(PoolError::InvalidValue {
                property: "next-pool",
                value: String::new(),
                reason: "empty pool name",
            });
        }
        Ok(pool
            .with_next_pool(next_pool.as_deref())
            .with_comment(comment.as_deref()))
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pool's address family.
    pub fn family(&self) -> Family {
        match self.space {
            Space::V4(_) => Family::Ipv4,
            Space::V6 { .. } => Family::Ipv6,
        }
    }

    /// The IPv4 ranges (`None` for an IPv6 pool).
    pub fn ranges(&self) -> Option<&Ranges> {
        match &self.space {
            Space::V4(r) => Some(r),
            Space::V6 { .. } => None,
        }
    }

    /// The IPv6 prefix the pool hands out prefixes from (`None` for an IPv4 pool).
    pub fn prefix(&self) -> Option<Ipv6Net> {
        match self.space {
            Space::V4(_) => None,
            Space::V6 { prefix, .. } => Some(prefix),
        }
    }

    /// The length of the prefixes handed out: 32 for IPv4 pools (one address), `prefix-length`
    /// for IPv6 pools.
    pub fn lease_prefix_len(&self) -> u8 {
        match self.space {
            Space::V4(_) => 32,
            Space::V6 { prefix_length, .. } => prefix_length,
        }
    }

    /// The `next-pool`, if any.
    pub fn next_pool(&self) -> Option<&str> {
        self.next_pool.as_deref()
    }

    /// The comment, if any.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// How many addresses (IPv4) or prefixes (IPv6) the pool holds.
    pub fn total(&self) -> u128 {
        self.intervals().map(|(a, b)| b - a + 1).sum()
    }

    /// Whether `address` lies in the pool (for IPv6: in one of the prefixes it hands out).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.unit_of(address).is_some()
    }

    /// The unit intervals (inclusive) in hand-out order.
    pub(crate) fn intervals(&self) -> impl Iterator<Item = (u128, u128)> + '_ {
        let (v4, v6) = match &self.space {
            Space::V4(ranges) => (Some(ranges.iter()), None),
            Space::V6 {
                prefix,
                prefix_length,
            } => {
                let shift = 128 - u32::from(*prefix_length);
                let first = u128::from(prefix.network()).checked_shr(shift).unwrap_or(0);
                let last = u128::from(prefix.broadcast())
                    .checked_shr(shift)
                    .unwrap_or(0);
                (None, Some((first, last)))
            }
        };
        v4.into_iter()
            .flatten()
            .map(|r| {
                (
                    u128::from(u32::from(r.first())),
                    u128::from(u32::from(r.last())),
                )
            })
            .chain(v6)
    }

    /// The unit of `address` if it lies in the pool.
    pub(crate) fn unit_of(&self, address: IpAddr) -> Option<u128> {
        match (&self.space, address) {
            (Space::V4(ranges), IpAddr::V4(a)) => {
                ranges.contains(a).then_some(u128::from(u32::from(a)))
            }
            (
                Space::V6 {
                    prefix,
                    prefix_length,
                },
                IpAddr::V6(a),
            ) => {
                let shift = 128 - u32::from(*prefix_length);
                prefix
                    .contains(&a)
                    .then(|| u128::from(a).checked_shr(shift).unwrap_or(0))
            }
            _ => None,
        }
    }

    /// The address (or prefix start) of a unit of this pool.
    pub(crate) fn address_of(&self, unit: u128) -> IpAddr {
        match self.space {
            Space::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(unit).unwrap_or(0))),
            Space::V6 { prefix_length, .. } => {
                let shift = 128 - u32::from(prefix_length);
                IpAddr::V6(Ipv6Addr::from(unit.checked_shl(shift).unwrap_or(0)))
            }
        }
    }

    pub(crate) fn overlaps(&self, other: &Pool) -> bool {
        match (&self.space, &other.space) {
            (Space::V4(a), Space::V4(b)) => a.overlaps(b),
            (Space::V6 { prefix: a, .. }, Space::V6 { prefix: b, .. }) => {
                a.contains(b) || b.contains(a)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Pool {
    /// RouterOS properties, as `/ip pool export` writes them after `add`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "name={}", quote(&self.name))?;
        match &self.space {
            Space::V4(ranges) => write!(f, " ranges={ranges}")?,
            Space::V6 {
                prefix,
                prefix_length,
            } => write!(f, " prefix={prefix} prefix-length={prefix_length}")?,
        }
        if let Some(next) = &self.next_pool {
            write!(f, " next-pool={}", quote(next))?;
        }
        if let Some(comment) = &self.comment {
            write!(f, " comment={}", quote(comment))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(props: &[(&str, &str)]) -> Result<Pool, PoolError> {
        Pool::from_properties(Family::Ipv4, props.iter().copied())
    }

    fn v6(props: &[(&str, &str)]) -> Result<Pool, PoolError> {
        Pool::from_properties(Family::Ipv6, props.iter().copied())
    }

    #[test]
    fn properties_round_trip() {
        let p = v4(&[
            ("name", "pool a"),
            ("ranges", "10.0.0.0/8"),
            ("next-pool", "b"),
            ("comment", "say \"hi\""),
        ])
        .unwrap();
        assert_eq!(p.total(), 16_777_214);
        assert_eq!(p.next_pool(), Some("b"));
        assert_eq!(
            p.to_string(),
            r#"name="pool a" ranges=10.0.0.0/8 next-pool=b comment="say \"hi\"""#
        );
        let none = v4(&[("name", "a"), ("ranges", "1.1.1.1"), ("next-pool", "none")]).unwrap();
        assert_eq!(none.next_pool(), None);
        let p6 = v6(&[
            ("name", "v6"),
            ("prefix", "2001:db8::/48"),
            ("prefix-length", "56"),
        ])
        .unwrap();
        assert_eq!(
            p6.to_string(),
            "name=v6 prefix=2001:db8::/48 prefix-length=56"
        );
        assert_eq!((p6.total(), p6.lease_prefix_len()), (256, 56));
        assert_eq!(p6.family(), Family::Ipv6);
    }

    #[test]
    fn property_errors_name_property_and_value() {
        assert_eq!(
            v4(&[("name", "a"), ("ranges", "1.1.1.1"), ("prefix", "x")]),
            Err(PoolError::UnknownProperty {
                property: "prefix".into()
            })
        );
        assert_eq!(
            v4(&[("name", "a"), ("name", "b")]),
            Err(PoolError::DuplicateProperty {
                property: "name".into()
            })
        );
        assert_eq!(
            v4(&[("name", "a")]),
            Err(PoolError::MissingProperty { property: "ranges" })
        );
        assert_eq!(
            v4(&[("ranges", "1.1.1.1")]),
            Err(PoolError::MissingProperty { property: "name" })
        );
        assert_eq!(
            v4(&[("name", "a"), ("ranges", "1.1.1")]),
            Err(PoolError::MalformedRange {
                text: "1.1.1".into(),
                reason: "not an IPv4 address"
            })
        );
        assert_eq!(
            v4(&[("name", "none"), ("ranges", "1.1.1.1")])
                .unwrap_err()
                .to_string(),
            "invalid value \"none\" for name: \"none\" means no pool"
        );
        assert!(matches!(
            v4(&[("name", ""), ("ranges", "1.1.1.1")]),
            Err(PoolError::InvalidValue {
                property: "name",
                ..
            })
        ));
        assert!(matches!(
            v4(&[("name", "a"), ("ranges", "1.1.1.1"), ("next-pool", "")]),
            Err(PoolError::InvalidValue {
                property: "next-pool",
                ..
            })
        ));
        assert_eq!(
            v6(&[
                ("name", "a"),
                ("prefix", "2001:db8::/48"),
                ("prefix-length", "40")
            ])
            .unwrap_err()
            .to_string(),
            "invalid value \"40\" for prefix-length: must lie between the prefix's length and 128"
        );
        assert!(matches!(
            v6(&[
                ("name", "a"),
                ("prefix", "2001:db8::/48"),
                ("prefix-length", "x")
            ]),
            Err(PoolError::InvalidValue {
                property: "prefix-length",
                ..
            })
        ));
        assert!(matches!(
            v6(&[
                ("name", "a"),
                ("prefix", "2001:db8::/129"),
                ("prefix-length", "130")
            ]),
            Err(PoolError::InvalidValue {
                property: "prefix",
                ..
            })
        ));
        assert!(matches!(
            v6(&[
                ("name", "a"),
                ("prefix", "2001:db8::1/48"),
                ("prefix-length", "64")
            ]),
            Err(PoolError::MalformedRange {
                reason: "prefix has host bits set",
                ..
            })
        ));
        assert!(matches!(
            v6(&[("name", "a"), ("prefix", "::/0"), ("prefix-length", "128")]),
            Err(PoolError::InvalidValue {
                property: "prefix-length",
                ..
            })
        ));
        assert!(matches!(
            v6(&[("name", "a"), ("prefix-length", "64")]),
            Err(PoolError::MissingProperty { property: "prefix" })
        ));
        assert!(matches!(
            v6(&[("name", "a"), ("prefix", "::/0")]),
            Err(PoolError::MissingProperty {
                property: "prefix-length"
            })
        ));
        assert!(matches!(
            v6(&[("name", "a"), ("ranges", "1.1.1.1")]),
            Err(PoolError::UnknownProperty { .. })
        ));
    }

    #[test]
    fn ipv6_units() {
        let p = v6(&[
            ("name", "v6"),
            ("prefix", "2001:db8::/48"),
            ("prefix-length", "64"),
        ])
        .unwrap();
        let a: IpAddr = "2001:db8:0:5::1".parse().unwrap();
        let unit = p.unit_of(a).unwrap();
        assert_eq!(
            p.address_of(unit),
            "2001:db8:0:5::".parse::<IpAddr>().unwrap()
        );
        assert!(!p.contains("2001:db9::".parse().unwrap()));
        assert!(!p.contains("10.0.0.1".parse().unwrap()));
        let all = v6(&[("name", "all"), ("prefix", "::/0"), ("prefix-length", "0")]).unwrap();
        assert_eq!(all.total(), 1);
        assert_eq!(
            all.address_of(all.unit_of(a).unwrap()),
            "::".parse::<IpAddr>().unwrap()
        );
        let host = v6(&[
            ("name", "h"),
            ("prefix", "2001:db8::/120"),
            ("prefix-length", "128"),
        ])
        .unwrap();
        assert_eq!(host.total(), 256);
    }
}
