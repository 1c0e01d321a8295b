//! OpenVPN data-channel cryptography, without I/O.
//!
//! This crate will own the data-channel cipher and HMAC suites (CBC+HMAC, AEAD), OpenVPN key
//! derivation (the key-method-2 PRF and tls-ekm), packet-id replay protection, and the control-channel
//! wrappers tls-auth and tls-crypt. It is filled by the project's issue 3; until then it is empty.
