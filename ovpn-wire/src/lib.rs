//! OpenVPN packet formats, without I/O.
//!
//! This crate will own the opcodes, control/ack/data packet parsing and writing, and the TCP length
//! framing. It is filled by the project's issue 2.
