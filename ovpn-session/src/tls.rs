//! rustls run in memory: TLS records in and out as byte strings, as OpenVPN carries them in
//! P_CONTROL_V1 packets.

use std::io::{Read as _, Write as _};

/// One TLS connection (client or server side) fed from and drained into memory.
pub(crate) struct Tls {
    conn: rustls::Connection,
}

impl core::fmt::Debug for Tls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls")
            .field("handshaking", &self.conn.is_handshaking())
            .finish_non_exhaustive()
    }
}

impl Tls {
    pub(crate) fn new(conn: rustls::Connection) -> Self {
        Self { conn }
    }

    /// Feeds TLS ciphertext received from the peer and moves any plaintext it yields into
    /// `plaintext`. Errors are fatal (rustls keeps them sticky); an alert for the peer may be waiting
    /// in [`Self::take_ciphertext`].
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<(), rustls::Error> {
        loop {
            let before = data.len();
            // A full rustls buffer refuses more; processing and draining plaintext makes room.
            let _ = self.conn.read_tls(&mut data);
            self.conn.process_new_packets()?;
            self.read_plaintext(plaintext);
            if data.is_empty() || data.len() == before {
                if !self.conn.is_handshaking() {
                    // An empty read with nothing buffered makes rustls shrink its receive
                    // buffer back to one 4 KiB read (it grew for the handshake flights): an
                    // idle session keeps no more.
                    let _ = self.conn.read_tls(&mut &[][..]);
                }
                return Ok(());
            }
        }
    }

    /// Moves the TLS ciphertext waiting to be sent to the peer into `out`.
    pub(crate) fn take_ciphertext(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }

    /// Moves received plaintext into `out`.
    fn read_plaintext(&mut self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 4096];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Writes plaintext as one TLS record (when it fits one), as OpenVPN writes each message with one
    /// `SSL_write`.
    pub(crate) fn write_plaintext(&mut self, data: &[u8]) {
        // Writing to rustls' in-memory buffer cannot fail short of allocation failure.
        let _ = self.conn.writer().write_all(data);
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The 256-byte key block from the TLS keying-material exporter (tls-ekm).
    pub(crate) fn export_key_block(&self, label: &[u8]) -> Result<[u8; 256], rustls::Error> {
        self.conn.export_keying_material([0u8; 256], label, None)
    }

    /// The common name of the certificate the peer presented (checked by then), if any.
    pub(crate) fn peer_common_name(&self) -> Option<String> {
        let der = self.conn.peer_certificates()?.first()?;
        let info = ovpn_pki::CertInfo::from_der(der).ok()?;
        Some(info.subject.common_name).filter(|cn| !cn.is_empty())
    }

    /// The certificate chain the peer presented (end entity first), if any.
    pub(crate) fn peer_chain(&self) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
        let certs = self.conn.peer_certificates()?;
        Some(certs.iter().map(|c| c.clone().into_owned()).collect())
    }

    /// A description of the negotiated protocol and suite for logs (`TLSv1_3 / TLS13_AES_256_GCM_SHA384`).
    pub(crate) fn describe(&self) -> String {
        format!(
            "{:?} / {:?}",
            self.conn.protocol_version(),
            self.conn.negotiated_cipher_suite().map(|s| s.suite())
        )
    }
}
