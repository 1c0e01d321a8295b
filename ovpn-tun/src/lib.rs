//! Linux TUN and TAP devices, with their addresses and routes, for the ovpn crates.
//!
//! This is the one library crate of the workspace that talks to the operating system. It will own
//! opening `ovpn-incomingN`/`ovpn-outN` devices, setting their MTU, addresses and routes. It is filled
//! by the project's issue 6; until then it is empty.
