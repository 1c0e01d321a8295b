//! The crate's error type.

use std::net::IpAddr;

/// Everything that can go wrong when configuring pools or acquiring and releasing addresses.
///
/// Every variant names what was wrong (the text, the pool, the address), so that a server can log
/// it as is. None of them leaves a [`PoolSet`](crate::PoolSet) half-changed: an operation that
/// fails has no effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// One element of a `ranges=` list (or an IPv6 `prefix=`) could not be parsed.
    #[error("malformed range {text:?}: {reason}")]
    MalformedRange {
        /// The offending element, as written.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A range reaches into addresses no client can use.
    #[error("range {text:?} includes {block}: no client can be given such an address")]
    UnusableRange {
        /// The offending element, as written.
        text: String,
        /// The block it reaches into.
        block: &'static str,
    },
    /// Two ranges of one pool share addresses.
    #[error("ranges {first} and {second} overlap")]
    OverlappingRanges {
        /// The first range, as RouterOS prints it.
        first: String,
        /// The second range, as RouterOS prints it.
        second: String,
    },
    /// A new pool shares addresses with a pool already in the set.
    #[error("pool {pool} overlaps pool {other}")]
    OverlappingPools {
        /// The pool being added.
        pool: String,
        /// The pool already in the set.
        other: String,
    },
    /// A property of `/ip pool` or `/ipv6 pool` that this crate does not know.
    #[error("unknown property {property:?}")]
    UnknownProperty {
        /// The property name.
        property: String,
    },
    /// The same property was given twice.
    #[error("property {property} given twice")]
    DuplicateProperty {
        /// The property name.
        property: String,
    },
    /// A required property is missing.
    #[error("missing property {property}")]
    MissingProperty {
        /// The property name.
        property: &'static str,
    },
    /// A property value is not valid.
    #[error("invalid value {value:?} for {property}: {reason}")]
    InvalidValue {
        /// The property name.
        property: &'static str,
        /// The value, as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A pool of the wrong address family (an IPv6 pool in an `/ip pool` set, or the reverse), or an
    /// address of the wrong family.
    #[error("{what} is not of this pool set's address family")]
    WrongFamily {
        /// The pool name or address that was refused.
        what: String,
    },
    /// A pool with this name exists already.
    #[error("pool {0} already exists")]
    DuplicatePool(String),
    /// No pool has this name.
    #[error("no such pool: {0}")]
    UnknownPool(String),
    /// `next-pool` names a pool that does not exist.
    #[error("pool {pool}: unknown next-pool {next}")]
    UnknownNextPool {
        /// The pool whose `next-pool` is wrong.
        pool: String,
        /// The name it refers to.
        next: String,
    },
    /// Setting this `next-pool` would make the chain loop back on itself.
    #[error("next-pool cycle: {}", .chain.join(" -> "))]
    NextPoolCycle {
        /// The pools in the loop, starting and ending at the same pool.
        chain: Vec<String>,
    },
    /// The pool cannot be removed: addresses are in use in it.
    #[error("pool {pool} has {used} address(es) in use")]
    PoolInUse {
        /// The pool.
        pool: String,
        /// How many addresses are in use.
        used: u128,
    },
    /// The pool cannot be removed: another pool names it as its `next-pool`.
    #[error("pool {pool} is the next-pool of {by}")]
    PoolReferenced {
        /// The pool.
        pool: String,
        /// The pool that refers to it.
        by: String,
    },
    /// No free address in the pool nor in any pool of its `next-pool` chain.
    #[error("no free address in pool(s) {}", .tried.join(", "))]
    Exhausted {
        /// The pools tried, in order.
        tried: Vec<String>,
    },
    /// The requested address is held by someone else.
    #[error("address {address} is in use by {owner}")]
    AddressInUse {
        /// The address.
        address: IpAddr,
        /// Its current owner.
        owner: String,
    },
    /// The address (or IPv6 prefix) is not in the pool asked for.
    #[error("address {address} is not in pool {pool}")]
    NotInPool {
        /// The address.
        address: IpAddr,
        /// The pool.
        pool: String,
    },
    /// Release of an address that is not in use: released twice, or never acquired.
    #[error("address {0} is not in use")]
    NotAcquired(IpAddr),
}
