//! RouterOS-style IP pools (`/ip pool`, `/ipv6 pool`), without I/O.
//!
//! A [`Pool`] is a name, addresses (IPv4 [`Ranges`] in RouterOS syntax, or an IPv6 prefix handed
//! out in prefixes of `prefix-length`), an optional `next-pool` and a comment. A [`PoolSet`] holds
//! the pools of one family and the addresses in use (`/ip pool used`): it acquires a free address
//! for an owner (sticky: an owner gets its previous address back when it is still free), acquires
//! a given address, releases, follows `next-pool` chains when a pool is exhausted, and counts
//! total, used and free addresses. Memory grows with the addresses in use, not with the pool size,
//! and acquire/release are O(log n).
//!
//! The crate does no I/O and reads no clock; it is plain data, `Send` and `Sync`.
//!
//! ```
//! use ovpn_pool::{Family, Pool, PoolSet};
//!
//! // /ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254 next-pool=spare
//! // /ip pool add name=spare ranges=10.9.0.0/30
//! let mut pools = PoolSet::new(Family::Ipv4);
//! pools.add(Pool::from_properties(Family::Ipv4, [("name", "spare"), ("ranges", "10.9.0.0/30")])?)?;
//! pools.add(Pool::from_properties(
//!     Family::Ipv4,
//!     [("name", "ovpn-pool"), ("ranges", "10.8.0.2-10.8.0.254"), ("next-pool", "spare")],
//! )?)?;
//!
//! let lease = pools.acquire("ovpn-pool", "client1")?;
//! assert_eq!(lease.address.to_string(), "10.8.0.2");
//! assert_eq!(lease.to_string(), "pool=ovpn-pool address=10.8.0.2 owner=client1");
//! assert_eq!(pools.stats("ovpn-pool").map(|s| (s.total, s.used, s.free)), Some((253, 1, 252)));
//!
//! // Disconnect, someone else connects, client1 comes back: it gets 10.8.0.2 again if free.
//! pools.release(lease.address)?;
//! let again = pools.acquire("ovpn-pool", "client1")?;
//! assert_eq!(again.address, lease.address);
//! # Ok::<(), ovpn_pool::PoolError>(())
//! ```
//!
//! Differences from RouterOS, on purpose:
//! - Pools in one set must not overlap (RouterOS accepts overlapping pools and can then hand one
//!   address to two clients).
//! - Releasing an address that is not in use is an error ([`PoolError::NotAcquired`]).
//! - IPv6 pools may have a `next-pool` too.

mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod pool;
mod range;
mod set;
mod used;

pub use error::PoolError;
pub use pool::{Family, Pool};
pub use range::{Range, Ranges};
pub use set::{Lease, PoolSet, PoolStats};

/// Quotes a property value as RouterOS prints it (the workspace's one quoting, `ovpn-rsc`'s).
pub(crate) use ovpn_rsc::quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<PoolSet>();
        check::<Lease>();
        check::<PoolError>();
    }
}
