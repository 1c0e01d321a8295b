//! Support code shared by the example programs (`ovpn-server`, `ovpn-client`, `ovpn-demo`,
//! `ovpn-dissect`): RouterOS script parsing and the glue between scripts and the ovpn crates.
//!
//! ```
//! let cmds = ovpn_examples::rsc::parse("/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254").unwrap();
//! assert_eq!(cmds[0].menu, "ip pool");
//! assert_eq!(cmds[0].prop("ranges"), Some("10.8.0.2-10.8.0.254"));
//! ```

pub mod cli;
pub mod demo;
pub mod logging;
pub mod rsc;
pub mod runtime;
pub mod script;
pub mod settings;
pub mod table;
