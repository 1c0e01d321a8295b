//! Property value types: services, addresses, switches, durations, rate limits, routes, passwords.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use ovpn_rsc::{format_duration, parse_duration};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::Error;

/// A PPP service, as in a secret's `service=` and in `/ppp active`.
///
/// RouterOS's values are `any`, `async`, `l2tp`, `ovpn`, `pppoe`, `pptp` and `sstp`; anything else
/// (including `ppp`, which the RouterOS OpenVPN page mentions as not matching OpenVPN) is refused
/// as an invalid value. A secret with `service=any` (the default) or `service=ovpn` may log in over
/// OpenVPN; the others never do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Any service (the default for secrets).
    #[default]
    Any,
    /// Asynchronous PPP (serial).
    Async,
    /// L2TP.
    L2tp,
    /// OpenVPN.
    Ovpn,
    /// PPPoE.
    Pppoe,
    /// PPTP.
    Pptp,
    /// SSTP.
    Sstp,
}

impl Service {
    /// RouterOS's name for the service.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Any => "any",
            Service::Async => "async",
            Service::L2tp => "l2tp",
            Service::Ovpn => "ovpn",
            Service::Pppoe => "pppoe",
            Service::Pptp => "pptp",
            Service::Sstp => "sstp",
        }
    }

    /// Whether a secret with this `service` may log in to `requested` (`any` matches everything).
    pub fn allows(self, requested: Service) -> bool {
        self == Service::Any || self == requested
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "any" => Service::Any,
            "async" => Service::Async,
            "l2tp" => Service::L2tp,
            "ovpn" => Service::Ovpn,
            "pppoe" => Service::Pppoe,
            "pptp" => Service::Pptp,
            "sstp" => Service::Sstp,
            _ => {
                return Err(Error::invalid(
                    "service",
                    s,
                    "expected any, async, l2tp, ovpn, pppoe, pptp or sstp",
                ));
            }
        })
    }
}

/// A profile's `local-address` or `remote-address`: a fixed IPv4 address or the name of an
/// `/ip pool` to take one from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddressSpec {
    /// A fixed address.
    Address(Ipv4Addr),
    /// The name of an IP pool.
    Pool(String),
}

impl AddressSpec {
    pub(crate) fn parse(property: &'static str, s: &str) -> Result<Self, Error> {
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Ok(AddressSpec::Address(a));
        }
        if s.is_empty() {
            return Err(Error::invalid(property, s, "empty"));
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(Error::invalid(property, s, "not an IPv4 address"));
        }
        if s.parse::<Ipv6Addr>().is_ok() || s.parse::<IpNet>().is_ok() {
            return Err(Error::invalid(
                property,
                s,
                "expected an IPv4 address or a pool name",
            ));
        }
        Ok(AddressSpec::Pool(s.to_owned()))
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressSpec::Address(a) => write!(f, "{a}"),
            AddressSpec::Pool(p) => f.write_str(p),
        }
    }
}

/// A `yes`/`no`/`default` switch (`only-one`, `use-compression`, `change-tcp-mss`). `default`
/// takes the value of the `default` profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum YesNoDefault {
    /// Take the `default` profile's value.
    #[default]
    Default,
    /// Off.
    No,
    /// On.
    Yes,
}

impl YesNoDefault {
    pub(crate) fn parse(property: &'static str, s: &str) -> Result<Self, Error> {
        match s {
            "default" => Ok(YesNoDefault::Default),
            "no" => Ok(YesNoDefault::No),
            "yes" => Ok(YesNoDefault::Yes),
            _ => Err(Error::invalid(property, s, "expected default, no or yes")),
        }
    }

    /// `self` unless it is `default`, then `inherited`.
    pub fn or(self, inherited: YesNoDefault) -> YesNoDefault {
        match self {
            YesNoDefault::Default => inherited,
            v => v,
        }
    }

    /// The switch as a boolean, with `default` meaning `fallback`.
    pub fn resolve(self, fallback: bool) -> bool {
        match self {
            YesNoDefault::Default => fallback,
            YesNoDefault::No => false,
            YesNoDefault::Yes => true,
        }
    }
}

impl fmt::Display for YesNoDefault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            YesNoDefault::Default => "default",
            YesNoDefault::No => "no",
            YesNoDefault::Yes => "yes",
        })
    }
}

/// A profile's `use-encryption`. OpenVPN always encrypts; the value is kept and reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UseEncryption {
    /// Take the `default` profile's value (`no` when that is `default` too).
    #[default]
    Default,
    /// Encryption not asked for.
    No,
    /// Encryption required.
    Required,
    /// Encryption wanted.
    Yes,
}

impl UseEncryption {
    pub(crate) fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "default" => Ok(UseEncryption::Default),
            "no" => Ok(UseEncryption::No),
            "required" => Ok(UseEncryption::Required),
            "yes" => Ok(UseEncryption::Yes),
            _ => Err(Error::invalid(
                "use-encryption",
                s,
                "expected default, no, required or yes",
            )),
        }
    }

    /// `self` unless it is `default`, then `inherited`.
    pub fn or(self, inherited: UseEncryption) -> UseEncryption {
        match self {
            UseEncryption::Default => inherited,
            v => v,
        }
    }
}

impl fmt::Display for UseEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UseEncryption::Default => "default",
            UseEncryption::No => "no",
            UseEncryption::Required => "required",
            UseEncryption::Yes => "yes",
        })
    }
}

pub(crate) fn parse_yes_no(property: &'static str, s: &str) -> Result<bool, Error> {
    match s {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(Error::invalid(property, s, "expected yes or no")),
    }
}

/// Parses a timeout property: a duration, with empty and zero meaning none.
pub(crate) fn parse_timeout(property: &'static str, s: &str) -> Result<Option<Duration>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    let d = parse_duration(s).ok_or_else(|| {
        Error::invalid(
            property,
            s,
            "expected a duration such as 30s, 1h30m or 00:10:00",
        )
    })?;
    if d > MAX_TIMEOUT {
        return Err(Error::invalid(
            property,
            s,
            "longer than 4294967295 seconds (RADIUS's Session-Timeout range)",
        ));
    }
    Ok((!d.is_zero()).then_some(d))
}

/// The longest `session-timeout` or `idle-timeout`: what RADIUS's 32-bit Session-Timeout and
/// Idle-Timeout (RFC 2865 §5.27, §5.28) can say, so that local and RADIUS logins agree.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(u32::MAX as u64);

/// A pair of values for the two directions, as RouterOS writes them: `rx/tx`.
///
/// Directions are the router's: `rx` is what the server receives from the client (the client's
/// upload), `tx` what it sends to the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RxTx<T> {
    /// Towards the server (client upload).
    pub rx: T,
    /// Towards the client (client download).
    pub tx: T,
}

/// A profile's `rate-limit`, kept and reported (enforcing it is the server's job).
///
/// RouterOS syntax: `rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate]
/// [rx-burst-threshold[/tx-burst-threshold] [rx-burst-time[/tx-burst-time] [priority
/// [rx-rate-min[/tx-rate-min]]]]]]`. Rates are bits per second with an optional `k`, `M` or `G`
/// (×1000, ×10⁶, ×10⁹); a missing tx value equals the rx value; 0 means unlimited. Printing writes
/// the parts present up to the first absent one.
///
/// ```
/// use ovpn_ppp::RateLimit;
/// let r: RateLimit = "10M/2M 20M 8M/1M 10".parse()?;
/// assert_eq!((r.rate.rx, r.rate.tx), (10_000_000, 2_000_000));
/// assert_eq!(r.burst_rate.map(|b| b.tx), Some(20_000_000));
/// assert_eq!(r.to_string(), "10M/2M 20M/20M 8M/1M 10s/10s");
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimit {
    /// The sustained rate, bits per second.
    pub rate: RxTx<u64>,
    /// The rate allowed during a burst.
    pub burst_rate: Option<RxTx<u64>>,
    /// The average rate below which a burst is allowed.
    pub burst_threshold: Option<RxTx<u64>>,
    /// The period the average is taken over.
    pub burst_time: Option<RxTx<Duration>>,
    /// Queue priority, 1 (highest) to 8.
    pub priority: Option<u8>,
    /// The guaranteed minimum rate.
    pub rate_min: Option<RxTx<u64>>,
}

impl RateLimit {
    /// A plain `rx/tx` limit, bits per second.
    pub fn new(rx: u64, tx: u64) -> Self {
        RateLimit {
            rate: RxTx { rx, tx },
            ..RateLimit::default()
        }
    }
}

fn parse_rate(s: &str) -> Option<u64> {
    let (digits, factor) = match s.as_bytes().last()? {
        b'k' | b'K' => (s.get(..s.len() - 1)?, 1_000),
        b'M' => (s.get(..s.len() - 1)?, 1_000_000),
        b'G' => (s.get(..s.len() - 1)?, 1_000_000_000),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

fn format_rate(rate: u64) -> String {
    match rate {
        0 => "0".to_owned(),
        r if r % 1_000_000_000 == 0 => format!("{}G", r / 1_000_000_000),
        r if r % 1_000_000 == 0 => format!("{}M", r / 1_000_000),
        r if r % 1_000 == 0 => format!("{}k", r / 1_000),
        r => r.to_string(),
    }
}

fn parse_pair<T: Copy>(s: &str, one: impl Fn(&str) -> Option<T>) -> Option<RxTx<T>> {
    match s.split_once('/') {
        Some((rx, tx)) => Some(RxTx {
            rx: one(rx)?,
            tx: one(tx)?,
        }),
        None => {
            let v = one(s)?;
            Some(RxTx { rx: v, tx: v })
        }
    }
}

impl FromStr for RateLimit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason| Error::invalid("rate-limit", s, reason);
        let mut parts = s.split(' ');
        let mut limit = RateLimit::new(0, 0);
        let first = parts.next().unwrap_or_default();
        limit.rate = parse_pair(first, parse_rate).ok_or_else(|| bad("bad rate"))?;
        if let Some(p) = parts.next() {
            limit.burst_rate =
                Some(parse_pair(p, parse_rate).ok_or_else(|| bad("bad burst rate"))?);
        }
        if let Some(p) = parts.next() {
            limit.burst_threshold =
                Some(parse_pair(p, parse_rate).ok_or_else(|| bad("bad burst threshold"))?);
        }
        if let Some(p) = parts.next() {
            limit.burst_time =
                Some(parse_pair(p, parse_duration).ok_or_else(|| bad("bad burst time"))?);
        }
        if let Some(p) = parts.next() {
            let prio = p
                .parse::<u8>()
                .ok()
                .filter(|p| (1..=8).contains(p))
                .ok_or_else(|| bad("priority must be 1 to 8"))?;
            limit.priority = Some(prio);
        }
        if let Some(p) = parts.next() {
            limit.rate_min =
                Some(parse_pair(p, parse_rate).ok_or_else(|| bad("bad minimum rate"))?);
        }
        if parts.next().is_some() {
            return Err(bad("too many parts"));
        }
        Ok(limit)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rates = |p: RxTx<u64>| format!("{}/{}", format_rate(p.rx), format_rate(p.tx));
        write!(f, "{}", rates(self.rate))?;
        let Some(b) = self.burst_rate else {
            return Ok(());
        };
        write!(f, " {}", rates(b))?;
        let Some(t) = self.burst_threshold else {
            return Ok(());
        };
        write!(f, " {}", rates(t))?;
        let Some(time) = self.burst_time else {
            return Ok(());
        };
        write!(
            f,
            " {}/{}",
            format_duration(time.rx),
            format_duration(time.tx)
        )?;
        let Some(p) = self.priority else {
            return Ok(());
        };
        write!(f, " {p}")?;
        let Some(m) = self.rate_min else {
            return Ok(());
        };
        write!(f, " {}", rates(m))
    }
}

/// A route: one entry of a secret's `routes` (IPv4) or `ipv6-routes`, installed on the server
/// towards the client while it is connected (RouterOS syntax `dst-address [gateway [metric]]`;
/// without a gateway the client's address is the gateway), and the workspace's one route type:
/// the routes a server pushes and a client installs are these too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination network.
    pub dst: IpNet,
    /// The gateway, if given.
    pub gateway: Option<IpAddr>,
    /// The metric (RouterOS distance: 0 to 255 in a secret's `routes`), if given.
    pub metric: Option<u32>,
}

impl Route {
    /// A route to `dst` with no gateway or metric.
    pub fn to(dst: impl Into<IpNet>) -> Self {
        Self {
            dst: dst.into(),
            gateway: None,
            metric: None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dst)?;
        if let Some(g) = self.gateway {
            write!(f, " {g}")?;
            if let Some(m) = self.metric {
                write!(f, " {m}")?;
            }
        }
        Ok(())
    }
}

/// Parses a comma-separated route list of one family.
pub(crate) fn parse_routes(property: &'static str, s: &str, v6: bool) -> Result<Vec<Route>, Error> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let family_ok = |a: IpAddr| a.is_ipv6() == v6;
    s.split(',')
        .map(|entry| {
            let bad = |reason| Error::invalid(property, entry, reason);
            let mut parts = entry.split(' ');
            let dst_text = parts.next().unwrap_or_default();
            let dst = dst_text
                .parse::<IpNet>()
                .or_else(|_| dst_text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| bad("expected dst-address [gateway [metric]]"))?;
            if !family_ok(dst.addr()) {
                return Err(bad(if v6 {
                    "not an IPv6 route"
                } else {
                    "not an IPv4 route"
                }));
            }
            let gateway = parts
                .next()
                .map(|g| {
                    g.parse::<IpAddr>()
                        .ok()
                        .filter(|g| family_ok(*g))
                        .ok_or_else(|| bad("bad gateway"))
                })
                .transpose()?;
            let metric = parts
                .next()
                .map(|m| {
                    m.parse::<u8>()
                        .map(u32::from)
                        .map_err(|_| bad("metric must be 0 to 255"))
                })
                .transpose()?;
            if parts.next().is_some() {
                return Err(bad("too many parts"));
            }
            Ok(Route {
                dst,
                gateway,
                metric,
            })
        })
        .collect()
}

pub(crate) fn format_list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A password: wiped from memory when dropped, hidden from `Debug`, compared in constant time.
///
/// The comparison takes the same time whatever the contents; only the length may show.
#[derive(Clone, Default)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(Zeroizing::new(password.into()))
    }

    /// The password text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length in characters (RouterOS limits OpenVPN passwords to 233).
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &Password) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for Password {}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Password::new(s)
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services() {
        for s in ["any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"] {
            assert_eq!(s.parse::<Service>().unwrap().to_string(), s);
        }
        assert_eq!(
            "ppp".parse::<Service>().unwrap_err().to_string(),
            "invalid value \"ppp\" for service: expected any, async, l2tp, ovpn, pppoe, pptp or sstp"
        );
        assert!(Service::Any.allows(Service::Ovpn));
        assert!(Service::Ovpn.allows(Service::Ovpn));
        for other in [
            Service::Async,
            Service::L2tp,
            Service::Pppoe,
            Service::Pptp,
            Service::Sstp,
        ] {
            assert!(!other.allows(Service::Ovpn), "{other}");
        }
    }

    #[test]
    fn address_specs() {
        assert_eq!(
            AddressSpec::parse("local-address", "10.8.0.1").unwrap(),
            AddressSpec::Address(Ipv4Addr::new(10, 8, 0, 1))
        );
        assert_eq!(
            AddressSpec::parse("remote-address", "ovpn-pool").unwrap(),
            AddressSpec::Pool("ovpn-pool".into())
        );
        for bad in ["10.8.0", "10.8.0.256", "fe80::1", "10.0.0.0/24", ""] {
            assert!(
                matches!(
                    AddressSpec::parse("remote-address", bad),
                    Err(Error::InvalidValue {
                        property: "remote-address",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn switches() {
        assert_eq!(
            YesNoDefault::parse("only-one", "yes").unwrap(),
            YesNoDefault::Yes
        );
        assert!(YesNoDefault::parse("only-one", "on").is_err());
        assert_eq!(YesNoDefault::Default.or(YesNoDefault::No), YesNoDefault::No);
        assert_eq!(YesNoDefault::Yes.or(YesNoDefault::No), YesNoDefault::Yes);
        assert!(YesNoDefault::Default.resolve(true));
        assert!(!YesNoDefault::No.resolve(true));
        assert_eq!(
            UseEncryption::parse("required").unwrap(),
            UseEncryption::Required
        );
        assert!(UseEncryption::parse("maybe").is_err());
        assert_eq!(
            UseEncryption::Default.or(UseEncryption::Yes),
            UseEncryption::Yes
        );
        assert!(parse_yes_no("disabled", "true").unwrap());
        assert!(parse_yes_no("disabled", "2").is_err());
    }

    #[test]
    fn durations() {
        let s = Duration::from_secs;
        for (text, d) in [
            ("30", s(30)),
            ("30s", s(30)),
            ("1h30m", s(5400)),
            (
                "1w2d3h4m5s",
                s(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            ),
            ("500ms", Duration::from_millis(500)),
            ("00:10:00", s(600)),
            ("1d02:00:00", s(86_400 + 7200)),
            ("0s", s(0)),
        ] {
            assert_eq!(parse_duration(text), Some(d), "{text}");
            assert_eq!(parse_duration(&format_duration(d)), Some(d), "{text}");
        }
        for bad in [
            "",
            "h",
            "1x",
            "1h 2m",
            "10:61:00",
            "1:2",
            "1:2:3:4",
            "-1",
            "99999999999999999999",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(s(3600 * 25 + 61)), "1d1h1m1s");
        assert_eq!(parse_timeout("session-timeout", "0s").unwrap(), None);
        assert_eq!(parse_timeout("session-timeout", "").unwrap(), None);
        assert_eq!(
            parse_timeout("session-timeout", "4294967295s").unwrap(),
            Some(MAX_TIMEOUT)
        );
        assert!(parse_timeout("session-timeout", "4294967296s").is_err());
        assert!(parse_timeout("idle-timeout", "18446744073709551615s").is_err());
        assert!(matches!(
            parse_timeout("idle-timeout", "later"),
            Err(Error::InvalidValue {
                property: "idle-timeout",
                ..
            })
        ));
    }

    #[test]
    fn rate_limits() {
        let r: RateLimit = "512k".parse().unwrap();
        assert_eq!(r, RateLimit::new(512_000, 512_000));
        assert_eq!(r.to_string(), "512k/512k");
        let full: RateLimit = "10M/2M 20M/4M 8M/1M 16/8 5 1M/256k".parse().unwrap();
        assert_eq!(full.priority, Some(5));
        assert_eq!(
            full.rate_min,
            Some(RxTx {
                rx: 1_000_000,
                tx: 256_000
            })
        );
        assert_eq!(full.burst_time.map(|t| t.tx), Some(Duration::from_secs(8)));
        assert_eq!(full.to_string(), "10M/2M 20M/4M 8M/1M 16s/8s 5 1M/256k");
        assert_eq!(full.to_string().parse::<RateLimit>().unwrap(), full);
        assert_eq!(
            "1500/1G".parse::<RateLimit>().unwrap().to_string(),
            "1500/1G"
        );
        for bad in [
            "",
            "fast",
            "1M/",
            "1M 2M 3M 4 9",
            "1M 2M 3M 4 1 5M 6",
            "99999999999G",
            "1M  2M",
        ] {
            assert!(
                matches!(
                    bad.parse::<RateLimit>(),
                    Err(Error::InvalidValue {
                        property: "rate-limit",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn routes() {
        let r = parse_routes(
            "routes",
            "10.1.0.0/24 10.8.0.2 1,10.2.0.0/16,10.3.0.1",
            false,
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].gateway, Some("10.8.0.2".parse().unwrap()));
        assert_eq!(r[0].metric, Some(1));
        assert_eq!(r[2].dst.to_string(), "10.3.0.1/32");
        assert_eq!(
            format_list(&r),
            "10.1.0.0/24 10.8.0.2 1,10.2.0.0/16,10.3.0.1/32"
        );
        let v6 = parse_routes("ipv6-routes", "2001:db8::/48 fe80::1", true).unwrap();
        assert_eq!(v6[0].to_string(), "2001:db8::/48 fe80::1");
        for bad in [
            "10.1.0.0/33",
            "2001:db8::/48",
            "10.1.0.0/24 fe80::1",
            "10.1.0.0/24 1.1.1.1 300",
            "10.1.0.0/24 1.1.1.1 1 x",
            ",",
        ] {
            assert!(
                matches!(
                    parse_routes("routes", bad, false),
                    Err(Error::InvalidValue {
                        property: "routes",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert!(parse_routes("ipv6-routes", "10.0.0.0/8", true).is_err());
    }

    #[test]
    fn passwords() {
        let p = Password::new("secret");
        assert_eq!(format!("{p:?}"), "Password(<hidden>)");
        assert!(p.ct_eq(&"secret".into()));
        assert!(!p.ct_eq(&"secreT".into()));
        assert!(!p.ct_eq(&"secret1".into()));
        assert_eq!(Password::new("é").chars(), 1);
    }
}
