//! The RouterOS console of a running program: row filters (`print where`, `[find]`), the
//! commands it runs, and the control socket it is reached through.

pub mod certificates;
pub mod client;
pub mod client_live;
pub mod complete;
pub mod exec;
pub mod filter;
pub mod journal;
pub mod keys;
pub mod live;
pub mod logging_rules;
pub mod numbers;
pub mod pools;
pub mod program;
pub mod render;
pub mod routes;
pub mod socket;
pub mod system;
