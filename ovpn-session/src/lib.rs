//! Sans-IO OpenVPN client and server state machines in the RouterOS model.
//!
//! This crate will compose `ovpn-wire`, `ovpn-crypto`, `ovpn-ppp`, `ovpn-pool` and `ovpn-pki` into a
//! `Client` and a `Server` that take bytes and `now` in and give transmits, events and the next timer
//! out; it opens no socket and reads no clock. It is filled by the project's issue 6; until then it is
//! empty.
