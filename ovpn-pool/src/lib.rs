//! RouterOS-style IP pools (`/ip pool`, `/ipv6 pool`), without I/O.
//!
//! This crate will own address ranges, `next-pool` chaining, and allocation and release of client
//! addresses. It is filled by the project's issue 4; until then it is empty.
