//! A RouterOS-style certificate authority (`/certificate`), without I/O.
//!
//! This crate will own CA creation, certificate templates and signing, export and import (PEM, PKCS#8),
//! CRLs, certificate checks for the OpenVPN roles, and `.ovpn` client-profile export. Files are read
//! and written by the caller. It is filled by the project's issue 5; until then it is empty.
