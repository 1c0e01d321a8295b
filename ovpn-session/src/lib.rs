//! Sans-IO OpenVPN client and server state machines in the RouterOS model.
//!
//! This crate composes `ovpn-wire`, `ovpn-crypto`, `ovpn-ppp`, `ovpn-pool` and `ovpn-pki` into a
//! `Client` and a `Server` that take bytes and `now` in and give transmits, events and the next timer
//! out; it opens no socket and reads no clock.

pub mod control;
pub mod km2;
pub mod peer_info;
pub mod push;
pub mod reliable;
