//! A profile's bridge settings (`/ppp profile bridge=...`): which bridge an ethernet-mode
//! (`mode=ethernet`) session's `ovpn-incomingN` joins as a port, and how.

use std::fmt;

use crate::properties::quote;
use crate::{Error, YesNoDefault};

/// The bridge a session's interface joins, with its port settings, as a PPP profile sets them
/// (RouterOS 7: `bridge`, `bridge-horizon`, `bridge-learning`, `bridge-path-cost`,
/// `bridge-port-priority`, `bridge-port-trusted`, `bridge-port-vid`). Unset fields inherit from
/// the `default` profile, field by field, like the rest of a profile.
///
/// ```
/// use ovpn_ppp::{Profile, YesNoDefault};
///
/// let p = Profile::parse("name=lan bridge=br-lan bridge-horizon=1 bridge-port-priority=0x40")?;
/// assert_eq!(p.bridge.bridge.as_deref(), Some("br-lan"));
/// assert_eq!(p.bridge.horizon, Some(1));
/// assert_eq!(p.bridge.port_priority, Some(64));
/// assert_eq!(p.bridge.learning, YesNoDefault::Default);
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgePort {
    /// `bridge`: the bridge's name (None: the interface is not bridged).
    pub bridge: Option<String>,
    /// `bridge-horizon`: ports with the same horizon do not forward to each other (None:
    /// `none`).
    pub horizon: Option<u32>,
    /// `bridge-learning`: whether the bridge learns MAC addresses on the port.
    pub learning: YesNoDefault,
    /// `bridge-path-cost`: the port's STP path cost (1..200000000).
    pub path_cost: Option<u32>,
    /// `bridge-port-priority`: the port's STP priority (0..240 in steps of 16).
    pub port_priority: Option<u8>,
    /// `bridge-port-trusted` (7.17): whether DHCP snooping trusts the port.
    pub trusted: YesNoDefault,
    /// `bridge-port-vid` (7.17): the port's VLAN id (1..4094) for untagged frames.
    pub vid: Option<u16>,
}

/// The property names, in print order.
pub(crate) const PROPERTIES: [&str; 7] = [
    "bridge",
    "bridge-horizon",
    "bridge-learning",
    "bridge-path-cost",
    "bridge-port-priority",
    "bridge-port-trusted",
    "bridge-port-vid",
];

impl BridgePort {
    /// Sets one of the bridge properties from its RouterOS text; an empty value unsets it.
    /// `Ok(false)` when `key` is not a bridge property.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<bool, Error> {
        let property = match PROPERTIES.iter().find(|p| **p == key) {
            Some(p) => *p,
            None => return Ok(false),
        };
        let empty = value.is_empty();
        match property {
            "bridge" => self.bridge = (!empty && value != "none").then(|| value.to_owned()),
            "bridge-horizon" => {
                self.horizon =
                    match value {
                        "" | "none" => None,
                        v => Some(v.parse().map_err(|_| {
                            Error::invalid(property, v, "expected none or a number")
                        })?),
                    };
            }
            "bridge-learning" => self.learning = switch(property, value)?,
            "bridge-path-cost" => {
                self.path_cost = (!empty)
                    .then(|| match value.parse::<u32>() {
                        Ok(n @ 1..=200_000_000) => Ok(n),
                        _ => Err(Error::invalid(property, value, "expected 1..200000000")),
                    })
                    .transpose()?;
            }
            "bridge-port-priority" => {
                self.port_priority = (!empty)
                    .then(|| match parse_number(value) {
                        Some(n) if n <= 240 && n % 16 == 0 => Ok(n as u8),
                        _ => Err(Error::invalid(
                            property,
                            value,
                            "expected 0..240 in steps of 16",
                        )),
                    })
                    .transpose()?;
            }
            "bridge-port-trusted" => self.trusted = switch(property, value)?,
            _ => {
                self.vid = (!empty)
                    .then(|| match value.parse::<u16>() {
                        Ok(n @ 1..=4094) => Ok(n),
                        _ => Err(Error::invalid(property, value, "expected 1..4094")),
                    })
                    .transpose()?;
            }
        }
        Ok(true)
    }

    /// These settings, with what they leave unset taken from `inherited` (the `default`
    /// profile's).
    pub fn or(&self, inherited: &BridgePort) -> BridgePort {
        BridgePort {
            bridge: self.bridge.clone().or_else(|| inherited.bridge.clone()),
            horizon: self.horizon.or(inherited.horizon),
            learning: self.learning.or(inherited.learning),
            path_cost: self.path_cost.or(inherited.path_cost),
            port_priority: self.port_priority.or(inherited.port_priority),
            trusted: self.trusted.or(inherited.trusted),
            vid: self.vid.or(inherited.vid),
        }
    }
}

fn switch(property: &'static str, value: &str) -> Result<YesNoDefault, Error> {
    if value.is_empty() {
        Ok(YesNoDefault::Default)
    } else {
        YesNoDefault::parse(property, value)
    }
}

/// A decimal or `0x` hexadecimal number (RouterOS prints priorities in hex).
fn parse_number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl fmt::Display for BridgePort {
    /// The set fields as RouterOS properties, each with a leading space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(b) = &self.bridge {
            write!(f, " bridge={}", quote(b))?;
        }
        if let Some(h) = self.horizon {
            write!(f, " bridge-horizon={h}")?;
        }
        if self.learning != YesNoDefault::Default {
            write!(f, " bridge-learning={}", self.learning)?;
        }
        if let Some(c) = self.path_cost {
            write!(f, " bridge-path-cost={c}")?;
        }
        if let Some(p) = self.port_priority {
            write!(f, " bridge-port-priority=0x{p:x}")?;
        }
        if self.trusted != YesNoDefault::Default {
            write!(f, " bridge-port-trusted={}", self.trusted)?;
        }
        if let Some(v) = self.vid {
            write!(f, " bridge-port-vid={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_property_round_trips_and_bad_values_are_named() {
        let mut b = BridgePort::default();
        for (k, v) in [
            ("bridge", "br0"),
            ("bridge-horizon", "2"),
            ("bridge-learning", "no"),
            ("bridge-path-cost", "100"),
            ("bridge-port-priority", "0x40"),
            ("bridge-port-trusted", "yes"),
            ("bridge-port-vid", "10"),
        ] {
            assert_eq!(b.set(k, v), Ok(true), "{k}");
        }
        assert_eq!(
            b.to_string(),
            " bridge=br0 bridge-horizon=2 bridge-learning=no bridge-path-cost=100 \
             bridge-port-priority=0x40 bridge-port-trusted=yes bridge-port-vid=10"
        );
        assert_eq!(b.set("comment", "x"), Ok(false));
        for (k, v) in [
            ("bridge-horizon", "-1"),
            ("bridge-learning", "maybe"),
            ("bridge-path-cost", "0"),
            ("bridge-port-priority", "17"),
            ("bridge-port-priority", "256"),
            ("bridge-port-vid", "4095"),
        ] {
            let e = b.clone().set(k, v).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidValue { property, value, .. } if *property == k && value == v),
                "{k}={v}: {e}"
            );
        }
        b.set("bridge", "none").unwrap();
        b.set("bridge-horizon", "none").unwrap();
        assert_eq!((b.bridge, b.horizon), (None, None));
    }

    #[test]
    fn unset_fields_inherit() {
        let mut own = BridgePort::default();
        own.set("bridge-horizon", "1").unwrap();
        let mut default = BridgePort::default();
        default.set("bridge", "br-lan").unwrap();
        default.set("bridge-horizon", "5").unwrap();
        let r = own.or(&default);
        assert_eq!(r.bridge.as_deref(), Some("br-lan"));
        assert_eq!(r.horizon, Some(1));
    }
}
