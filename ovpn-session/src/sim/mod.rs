//! A deterministic in-memory network for driving clients and servers without sockets.

mod link;

pub use link::{Link, LinkConfig, LinkStats, SimRng};
