//! Sans-IO OpenVPN client and server state machines in the RouterOS model.
//!
//! This crate composes `ovpn-wire`, `ovpn-crypto`, `ovpn-ppp`, `ovpn-pool` and `ovpn-pki` into a
//! `Client` and a `Server` that take bytes and `now` in and give transmits, events and the next timer
//! out; it opens no socket and reads no clock.

mod channel;
mod client;
pub mod config;
pub mod control;
mod error;
#[cfg(feature = "sim")]
#[doc(hidden)]
pub mod fuzzing;
pub mod km2;
pub mod peer_info;
pub mod push;
pub mod random;
pub mod reliable;
mod server;
#[cfg(feature = "sim")]
pub mod sim;
mod tls;
pub mod tls_config;
pub mod verify;
mod wrap;

pub use channel::Traffic;
pub use client::{
    Client, ClientConfig, ClientConfigError, ClientEvent, ClientState, Received, TunSettings,
};
pub use config::{HEADROOM, Mode, TAILROOM, Transmit, Transport};
pub use error::{DisconnectReason, DropReason, EncapError};
pub use server::{
    AuthMode, Server, ServerConfig, ServerConfigError, ServerEvent, ServerReceived, SessionInfo,
    SharedAuthenticator,
};
pub use wrap::ControlProtection;
