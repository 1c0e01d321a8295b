//! Key usages (RouterOS's `key-usage` values) and the role a peer's certificate must have:
//! plain values that every other module of the crate uses, so this one uses none of them.

use core::fmt;
use core::str::FromStr;

/// One RouterOS `key-usage` value: the nine X.509 key usage bits, then the extended key usages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyUsage {
    /// keyUsage digitalSignature.
    DigitalSignature,
    /// keyUsage contentCommitment (nonRepudiation).
    ContentCommitment,
    /// keyUsage keyEncipherment.
    KeyEncipherment,
    /// keyUsage dataEncipherment.
    DataEncipherment,
    /// keyUsage keyAgreement.
    KeyAgreement,
    /// keyUsage keyCertSign: makes the certificate a CA (basicConstraints CA:TRUE).
    KeyCertSign,
    /// keyUsage cRLSign.
    CrlSign,
    /// keyUsage encipherOnly.
    EncipherOnly,
    /// keyUsage decipherOnly.
    DecipherOnly,
    /// extendedKeyUsage serverAuth (OpenVPN `remote-cert-tls server`).
    TlsServer,
    /// extendedKeyUsage clientAuth (OpenVPN `remote-cert-tls client`).
    TlsClient,
    /// extendedKeyUsage codeSigning.
    CodeSign,
    /// extendedKeyUsage emailProtection.
    EmailProtect,
    /// extendedKeyUsage timeStamping.
    Timestamp,
    /// extendedKeyUsage OCSPSigning.
    OcspSign,
    /// extendedKeyUsage id-kp-dvcs (1.3.6.1.5.5.7.3.10).
    Dvcs,
}

impl KeyUsage {
    /// All values, in the order RouterOS prints them.
    pub const ALL: [Self; 16] = [
        Self::DigitalSignature,
        Self::ContentCommitment,
        Self::KeyEncipherment,
        Self::DataEncipherment,
        Self::KeyAgreement,
        Self::KeyCertSign,
        Self::CrlSign,
        Self::EncipherOnly,
        Self::DecipherOnly,
        Self::TlsServer,
        Self::TlsClient,
        Self::CodeSign,
        Self::EmailProtect,
        Self::Timestamp,
        Self::OcspSign,
        Self::Dvcs,
    ];

    /// The RouterOS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DigitalSignature => "digital-signature",
            Self::ContentCommitment => "content-commitment",
            Self::KeyEncipherment => "key-encipherment",
            Self::DataEncipherment => "data-encipherment",
            Self::KeyAgreement => "key-agreement",
            Self::KeyCertSign => "key-cert-sign",
            Self::CrlSign => "crl-sign",
            Self::EncipherOnly => "encipher-only",
            Self::DecipherOnly => "decipher-only",
            Self::TlsServer => "tls-server",
            Self::TlsClient => "tls-client",
            Self::CodeSign => "code-sign",
            Self::EmailProtect => "email-protect",
            Self::Timestamp => "timestamp",
            Self::OcspSign => "ocsp-sign",
            Self::Dvcs => "dvcs",
        }
    }

    /// Whether this is an extended key usage (an EKU OID) rather than a keyUsage bit.
    pub fn is_extended(self) -> bool {
        self >= Self::TlsServer
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyUsage {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// A set of [`KeyUsage`] values; `Display` is RouterOS's comma list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyUsages(u16);

impl KeyUsages {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// RouterOS's default for templates without `key-usage`:
    /// `digital-signature,key-encipherment,data-encipherment,key-cert-sign,crl-sign,tls-server,tls-client`.
    pub fn routeros_default() -> Self {
        [
            KeyUsage::DigitalSignature,
            KeyUsage::KeyEncipherment,
            KeyUsage::DataEncipherment,
            KeyUsage::KeyCertSign,
            KeyUsage::CrlSign,
            KeyUsage::TlsServer,
            KeyUsage::TlsClient,
        ]
        .into_iter()
        .collect()
    }

    /// Whether `usage` is in the set.
    pub fn contains(self, usage: KeyUsage) -> bool {
        self.0 & usage.bit() != 0
    }

    /// Adds `usage`.
    pub fn insert(&mut self, usage: KeyUsage) {
        self.0 |= usage.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The values in RouterOS's order.
    pub fn iter(self) -> impl Iterator<Item = KeyUsage> {
        KeyUsage::ALL.into_iter().filter(move |u| self.contains(*u))
    }
}

impl FromIterator<KeyUsage> for KeyUsages {
    fn from_iter<I: IntoIterator<Item = KeyUsage>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for u in iter {
            set.insert(u);
        }
        set
    }
}

impl fmt::Display for KeyUsages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, u) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(u.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for KeyUsages {
    type Err = String;
    /// Parses RouterOS's comma list; the error names the unknown value.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut set = Self::EMPTY;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            set.insert(part.parse().map_err(|()| part.to_owned())?);
        }
        Ok(set)
    }
}

/// The role the peer must have, like OpenVPN's `remote-cert-tls server|client`: a client checks
/// its server with [`PeerRole::TlsServer`], a server its clients with [`PeerRole::TlsClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerRole {
    /// The peer is a server: extended key usage `tls-server` (serverAuth).
    TlsServer,
    /// The peer is a client: extended key usage `tls-client` (clientAuth).
    TlsClient,
}

impl PeerRole {
    /// The key usage this role requires.
    pub fn key_usage(self) -> KeyUsage {
        match self {
            Self::TlsServer => KeyUsage::TlsServer,
            Self::TlsClient => KeyUsage::TlsClient,
        }
    }
}

impl fmt::Display for PeerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key_usage().as_str())
    }
}

impl FromStr for PeerRole {
    type Err = ();
    /// `server`/`tls-server` or `client`/`tls-client`.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "server" | "tls-server" => Ok(Self::TlsServer),
            "client" | "tls-client" => Ok(Self::TlsClient),
            _ => Err(()),
        }
    }
}
