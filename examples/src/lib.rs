//! The example programs built on the ovpn crates, and the code they share: `ovpn-server` and
//! `ovpn-client` (configured by RouterOS scripts, running on real TUN devices), `ovpn-demo` (both
//! in one process, no root needed) and `ovpn-dissect` (packet fixtures).
//!
//! Unlike the library crates, this one does I/O: it reads scripts and certificate files, writes
//! the state directory, opens sockets and TUN devices, and reads the clock in its event loops.
//!
//! - [`rsc`]: RouterOS script syntax (commands, continuations, quoting, comments).
//! - [`script`]: what the commands do: `/certificate`, `/ip pool`, `/ppp`, `/interface
//!   ovpn-server server`, `/interface ovpn-client`, with every problem reported by line.
//! - [`settings`]: the server's and client's RouterOS properties and defaults, turned into
//!   `ovpn-session` configurations; [`limits`]: the server's bounds on new clients
//!   (`max-clients`, `connect-freq*`, TCP connections).
//! - [`runtime`]: the single-threaded event loops (mio) over sockets and TUN devices.
//! - [`logging`]: RouterOS-style log lines (`12:00:01 ovpn,info ovpn-incoming1: connected`).
//! - [`table`]: `/interface ovpn-server print` and `/ppp active print`.
//! - [`demo`]: the in-process demonstration; [`cli`]: what the programs share on their command line.
//!
//! ```
//! let cmds = ovpn_examples::rsc::parse("/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254").unwrap();
//! assert_eq!(cmds[0].menu, "ip pool");
//! assert_eq!(cmds[0].prop("ranges"), Some("10.8.0.2-10.8.0.254"));
//! ```

pub mod cli;
pub mod console;
pub mod crl_keeper;
pub mod demo;
pub mod export_profile;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod log_memory;
pub mod logging;
pub mod ovpn_config;
pub mod profile;
pub mod protection;
pub mod rsc;
pub mod runtime;
pub mod script;
pub mod settings;
pub mod table;
