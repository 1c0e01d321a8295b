//! RouterOS-style PPP secrets, profiles, authentication and active sessions, without I/O.
//!
//! This crate will own `/ppp secret`, `/ppp profile` and `/ppp active` as RouterOS models them, and the
//! authenticator trait the server asks "may this user log in, and with which addresses?". It is filled
//! by the project's issue 4; until then it is empty.
