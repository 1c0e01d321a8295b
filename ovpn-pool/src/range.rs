//! IPv4 address ranges in RouterOS `/ip pool ranges=` syntax.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;

use crate::PoolError;

/// One element of a RouterOS `ranges=` list.
///
/// The form it was written in is kept, so that printing gives back the same text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Range {
    /// A single address: `10.8.0.5`.
    Single(Ipv4Addr),
    /// First and last address, both included: `10.8.0.2-10.8.0.254`.
    Span(Ipv4Addr, Ipv4Addr),
    /// A prefix: `10.8.0.0/24`. It stands for the prefix's host addresses: without the network and
    /// broadcast addresses for prefixes up to /30, every address for /31 and /32 (so a /8 holds
    /// 16,777,214 addresses).
    Prefix(Ipv4Net),
}

impl Range {
    /// The first address of the range.
    pub fn first(&self) -> Ipv4Addr {
        match *self {
            Range::Single(a) | Range::Span(a, _) => a,
            Range::Prefix(net) if net.prefix_len() >= 31 => net.network(),
            Range::Prefix(net) => Ipv4Addr::from(u32::from(net.network()) + 1),
        }
    }

    /// The last address of the range.
    pub fn last(&self) -> Ipv4Addr {
        match *self {
            Range::Single(a) | Range::Span(_, a) => a,
            Range::Prefix(net) if net.prefix_len() >= 31 => net.broadcast(),
            Range::Prefix(net) => Ipv4Addr::from(u32::from(net.broadcast()) - 1),
        }
    }

    /// How many addresses the range holds (at least 1).
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.last())) - u64::from(u32::from(self.first())) + 1
    }

    /// Always false: a range holds at least one address (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `address` is in the range.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.first() <= address && address <= self.last()
    }

    fn overlaps(&self, other: &Range) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }
}

fn malformed(text: &str, reason: &'static str) -> PoolError {
    PoolError::MalformedRange {
        text: text.to_owned(),
        reason,
    }
}

/// Blocks no client can be given an address from (RFC 6890): "this network" (0.0.0.0/8, 0.0.0.0
/// included), loopback, and multicast with the reserved block above it (255.255.255.255, the
/// limited broadcast, included).
const UNUSABLE: [(u32, u32, &str); 3] = [
    (0x0000_0000, 0x00ff_ffff, "0.0.0.0/8 (this network)"),
    (0x7f00_0000, 0x7fff_ffff, "127.0.0.0/8 (loopback)"),
    (
        0xe000_0000,
        0xffff_ffff,
        "224.0.0.0/3 (multicast, reserved and broadcast)",
    ),
];

/// Refuses a range that reaches into an [`UNUSABLE`] block.
fn usable(range: Range, text: &str) -> Result<Range, PoolError> {
    let (first, last) = (u32::from(range.first()), u32::from(range.last()));
    match UNUSABLE.iter().find(|(a, b, _)| first <= *b && *a <= last) {
        Some((_, _, block)) => Err(PoolError::UnusableRange {
            text: text.to_owned(),
            block,
        }),
        None => Ok(range),
    }
}

fn parse_addr(text: &str, whole: &str) -> Result<Ipv4Addr, PoolError> {
    text.parse()
        .map_err(|_| malformed(whole, "not an IPv4 address"))
}

impl FromStr for Range {
    type Err = PoolError;

    /// Parses one element: `A.B.C.D`, `A.B.C.D-E.F.G.H` or `A.B.C.D/len`.
    fn from_str(text: &str) -> Result<Self, PoolError> {
        if text.is_empty() {
            return Err(malformed(text, "empty range"));
        }
        if text.contains('/') {
            let net: Ipv4Net = text
                .parse()
                .map_err(|_| malformed(text, "not an IPv4 prefix"))?;
            if net.addr() != net.network() {
                return Err(malformed(text, "prefix has host bits set"));
            }
            return usable(Range::Prefix(net), text);
        }
        if let Some((a, b)) = text.split_once('-') {
            let first = parse_addr(a, text)?;
            let last = parse_addr(b, text)?;
            if first > last {
                return Err(malformed(text, "first address is above the last"));
            }
            return usable(Range::Span(first, last), text);
        }
        usable(Range::Single(parse_addr(text, text)?), text)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Range::Single(a) => write!(f, "{a}"),
            Range::Span(a, b) => write!(f, "{a}-{b}"),
            Range::Prefix(net) => write!(f, "{net}"),
        }
    }
}

/// A RouterOS `ranges=` value: one or more comma-separated [`Range`]s that do not overlap.
///
/// ```
/// use ovpn_pool::Ranges;
///
/// let ranges: Ranges = "10.8.0.2-10.8.0.254,10.9.0.0/24".parse()?;
/// assert_eq!(ranges.len(), 253 + 254);
/// assert_eq!(ranges.to_string(), "10.8.0.2-10.8.0.254,10.9.0.0/24");
/// assert!("10.8.0.2-10.8.0.9,10.8.0.5".parse::<Ranges>().is_err()); // overlap
/// # Ok::<(), ovpn_pool::PoolError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ranges(Vec<Range>);

impl Ranges {
    /// Builds a list from ranges, refusing an empty list and overlapping ranges.
    pub fn new(ranges: Vec<Range>) -> Result<Self, PoolError> {
        if ranges.is_empty() {
            return Err(malformed("", "empty range list"));
        }
        let mut sorted = ranges.clone();
        sorted.sort_by_key(Range::first);
        for pair in sorted.windows(2) {
            if let [a, b] = pair {
                if a.overlaps(b) {
                    return Err(PoolError::OverlappingRanges {
                        first: a.to_string(),
                        second: b.to_string(),
                    });
                }
            }
        }
        Ok(Ranges(ranges))
    }

    /// The ranges in the order they were written (addresses are handed out in this order).
    pub fn iter(&self) -> std::slice::Iter<'_, Range> {
        self.0.iter()
    }

    /// The total number of addresses.
    pub fn len(&self) -> u64 {
        self.0.iter().map(Range::len).sum()
    }

    /// Always false: a list holds at least one range.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is in one of the ranges.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.0.iter().any(|r| r.contains(address))
    }

    pub(crate) fn overlaps(&self, other: &Ranges) -> bool {
        self.0.iter().any(|a| other.0.iter().any(|b| a.overlaps(b)))
    }
}

impl FromStr for Ranges {
    type Err = PoolError;

    fn from_str(text: &str) -> Result<Self, PoolError> {
        if text.is_empty() {
            return Err(malformed(text, "empty range list"));
        }
        let ranges = text
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<Range>, _>>()?;
        Ranges::new(ranges)
    }
}

impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a Ranges {
    type Item = &'a Range;
    type IntoIter = std::slice::Iter<'a, Range>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn forms() {
        assert_eq!(
            "10.8.0.5".parse::<Range>().unwrap(),
            Range::Single(a("10.8.0.5"))
        );
        let span: Range = "10.8.0.2-10.8.0.254".parse().unwrap();
        assert_eq!(
            (span.first(), span.last(), span.len()),
            (a("10.8.0.2"), a("10.8.0.254"), 253)
        );
        let p: Range = "10.8.0.0/24".parse().unwrap();
        assert_eq!(
            (p.first(), p.last(), p.len()),
            (a("10.8.0.1"), a("10.8.0.254"), 254)
        );
        let p8: Range = "10.0.0.0/8".parse().unwrap();
        assert_eq!(p8.len(), 16_777_214);
        let p31: Range = "10.0.0.0/31".parse().unwrap();
        assert_eq!((p31.first(), p31.len()), (a("10.0.0.0"), 2));
        let p32: Range = "10.0.0.7/32".parse().unwrap();
        assert_eq!((p32.first(), p32.last()), (a("10.0.0.7"), a("10.0.0.7")));
        let big: Range = "1.0.0.0/8".parse().unwrap();
        assert_eq!(big.len(), (1u64 << 24) - 2);
        assert!(p.contains(a("10.8.0.1")) && !p.contains(a("10.8.0.0")));
    }

    #[test]
    fn addresses_no_client_can_use_are_refused() {
        for (text, block) in [
            ("0.0.0.0-255.255.255.255", "0.0.0.0/8 (this network)"),
            ("0.0.0.0/0", "0.0.0.0/8 (this network)"),
            ("0.0.0.0", "0.0.0.0/8 (this network)"),
            ("126.255.255.250-127.0.0.1", "127.0.0.0/8 (loopback)"),
            (
                "224.0.0.1",
                "224.0.0.0/3 (multicast, reserved and broadcast)",
            ),
            (
                "255.255.255.255",
                "224.0.0.0/3 (multicast, reserved and broadcast)",
            ),
            (
                "128.0.0.0/1",
                "224.0.0.0/3 (multicast, reserved and broadcast)",
            ),
        ] {
            assert_eq!(
                text.parse::<Range>(),
                Err(PoolError::UnusableRange {
                    text: text.into(),
                    block
                }),
                "{text}"
            );
        }
        // Right up to the blocks is fine.
        assert!("1.0.0.1-126.255.255.255".parse::<Range>().is_ok());
        assert!("128.0.0.1-223.255.255.255".parse::<Range>().is_ok());
    }

    #[test]
    fn malformed_ranges_name_the_text() {
        for (text, reason) in [
            ("", "empty range"),
            ("10.8.0", "not an IPv4 address"),
            ("10.8.0.9-10.8.0.1", "first address is above the last"),
            ("10.8.0.1-", "not an IPv4 address"),
            ("10.8.0.1/33", "not an IPv4 prefix"),
            ("10.8.0.1/24", "prefix has host bits set"),
            ("fe80::1", "not an IPv4 address"),
            (" 10.8.0.1", "not an IPv4 address"),
        ] {
            assert_eq!(
                text.parse::<Range>(),
                Err(PoolError::MalformedRange {
                    text: text.into(),
                    reason
                }),
                "{text}"
            );
        }
        let err = "10.8.0.1,,10.8.0.3".parse::<Ranges>().unwrap_err();
        assert_eq!(err.to_string(), "malformed range \"\": empty range");
        let err = "10.8.0.1,10.8.0.x".parse::<Ranges>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed range \"10.8.0.x\": not an IPv4 address"
        );
        assert!(matches!(
            "".parse::<Ranges>(),
            Err(PoolError::MalformedRange { .. })
        ));
    }

    #[test]
    fn overlapping_ranges_are_refused() {
        let err = "10.8.0.0/24,10.8.0.200-10.8.1.5"
            .parse::<Ranges>()
            .unwrap_err();
        assert_eq!(
            err,
            PoolError::OverlappingRanges {
                first: "10.8.0.0/24".into(),
                second: "10.8.0.200-10.8.1.5".into()
            }
        );
        assert!("10.8.0.1,10.8.0.1".parse::<Ranges>().is_err());
        // Adjacent is fine.
        let r: Ranges = "10.8.0.1-10.8.0.5,10.8.0.6".parse().unwrap();
        assert_eq!(r.len(), 6);
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "10.8.0.2-10.8.0.254",
            "10.8.0.5",
            "10.0.0.0/8,192.168.1.1",
            "1.1.1.1-1.1.1.1",
        ] {
            let r: Ranges = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
            assert_eq!(r.to_string().parse::<Ranges>().unwrap(), r);
        }
    }
}
