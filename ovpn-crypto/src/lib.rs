//! OpenVPN 2.6 data-channel cryptography, key derivation, replay protection and control-channel
//! wrapping (tls-auth, tls-crypt), byte for byte compatible with OpenVPN 2.6 and MikroTik
//! RouterOS.
//!
//! This crate does no I/O: no sockets, files, clock reads or random number generation. Keys,
//! randomness (`iv_seed`, [`StaticKey::generate`]) and time (`now: Instant`, Unix time for
//! long-form packet ids) come from the caller. It works on byte slices and does not depend on a
//! packet parser; the few packet offsets it uses (the opcode byte, the 8-byte session id, the 1-
//! or 4-byte data header) are OpenVPN's (`ssl_pkt.h`, `session_id.h`).
//!
//! - [`Cipher`] and [`Digest`]: the suites (`aes256-cbc` and `AES-256-CBC` both parse).
//! - [`KeyBlock`]: the 256-byte key block, from the key-method-2 PRF ([`KeyBlock::from_prf`]) or
//!   the TLS exporter ([`KeyBlock::from_ekm`] with [`EKM_LABEL`]); [`Role`] and
//!   [`KeyDirection`] pick its halves; [`StaticKey`] reads and writes key files.
//! - [`DataKeys`]: seal and open data packets in place, with no allocation per packet.
//! - [`ReplayWindow`] and [`PacketIdSend`]: packet ids (`--replay-window`, wrap detection).
//! - [`TlsAuth`] and [`TlsCrypt`]: control-channel protection.
//!
//! Keys are zeroed on drop where this crate holds them as bytes ([`KeyBlock`], [`StaticKey`],
//! the PRF's intermediate master secret) and in the RustCrypto cipher states (AES, Blowfish,
//! CBC, CTR, AES-192-GCM, built with their `zeroize` feature); ring's expanded keys and the HMAC
//! states are not under this crate's control. No key is printed by `Debug`, and [`KeyBlock`]
//! compares in constant time.
//!
//! ```
//! use std::time::Instant;
//! use ovpn_crypto::{Cipher, DataKeys, Digest, KeyBlock, Role, HEADER_LEN_V1};
//!
//! // Both sides derive the same block (here from the legacy PRF, as with a RouterOS peer).
//! let block = KeyBlock::from_prf(&[1; 48], &[2; 32], &[3; 32], &[4; 32], &[5; 32], &[6; 8], &[7; 8]);
//! let cipher: Cipher = "aes256-cbc".parse()?;
//! let digest: Digest = "sha1".parse()?;
//! let mut client = DataKeys::new(cipher, digest, &block, Role::Client, [0xA5; 32])?;
//! let mut server = DataKeys::new(cipher, digest, &block, Role::Server, [0x5A; 32])?;
//!
//! let ip_packet = [0x45u8; 60];
//! let over = client.overhead();
//! let mut buf = vec![0u8; HEADER_LEN_V1 + over.head + ip_packet.len() + over.tail];
//! buf[0] = 0x30; // P_DATA_V1, key id 0
//! buf[HEADER_LEN_V1 + over.head..][..ip_packet.len()].copy_from_slice(&ip_packet);
//! let len = client.seal(&mut buf, HEADER_LEN_V1, ip_packet.len())?;
//!
//! let plain = server.open(Instant::now(), &mut buf[..len], HEADER_LEN_V1)?;
//! assert_eq!(&buf[plain], &ip_packet[..]);
//! // A replay is refused.
//! # let mut again = vec![0u8; len];
//! # let mut c2 = DataKeys::new(cipher, digest, &block, Role::Client, [0xA5; 32])?;
//! # again[0] = 0x30; again[HEADER_LEN_V1 + over.head..][..ip_packet.len()].copy_from_slice(&ip_packet);
//! # let n = c2.seal(&mut again, HEADER_LEN_V1, ip_packet.len())?;
//! assert!(server.open(Instant::now(), &mut again[..n], HEADER_LEN_V1).is_err());
//! # Ok::<(), ovpn_crypto::CryptoError>(())
//! ```

mod data;
mod error;
mod keys;
mod mac;
mod packet_id;
mod prf;
mod suite;
mod tls;
mod tls_crypt_v2;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use data::{
    AEAD_TAG_LEN, DataKeys, DataStats, HEADER_LEN_V1, HEADER_LEN_V2, MAX_PLAINTEXT_LEN, Overhead,
};
pub use error::{CryptoError, ReplayError};
pub use keys::{
    DYNAMIC_TLS_CRYPT_EKM_LABEL, EKM_LABEL, KEY_BLOCK_LEN, KeyBlock, KeyDirection, Role, StaticKey,
};
pub use packet_id::{PACKET_ID_WRAP_TRIGGER, PacketId, PacketIdSend, ReplayWindow};
pub use suite::{Cipher, Digest};
pub use tls::{TlsAuth, TlsCrypt};
pub use tls_crypt_v2::{
    MAX_METADATA_LEN, MAX_WKC_LEN, METADATA_TIMESTAMP, METADATA_USER, Metadata,
    TlsCryptV2ClientKey, TlsCryptV2Error, TlsCryptV2ServerKey, split_wkc,
};
