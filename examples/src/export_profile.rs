//! `export-client-configuration`: a `.ovpn` profile for OpenVPN 2.6 clients of a server, from
//! its properties and the certificate store. The script runs it at start and the console at
//! run time.

use ovpn_pki::Store;

use crate::profile::ClientProfile;
use crate::script::OutputFile;
use crate::settings::ServerSettings;

/// `export-client-configuration`: a `.ovpn` profile for OpenVPN 2.6 clients of server `s`, with
/// the certificates of `store` inline; `read` reads the key files the server's protection names
/// (a tls-crypt-v2 client key is made now, `now` its time). The profile holds a private key:
/// the file is private (0600).
pub fn client_profile(
    s: &ServerSettings,
    props: &[(String, String)],
    store: &Store,
    read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    now: u64,
) -> Result<OutputFile, String> {
    let mut ca = None;
    let mut client = None;
    let mut key_cert = None;
    let mut address = None;
    let mut file = None;
    let mut passphrase = String::new();
    for (k, v) in props {
        match k.as_str() {
            "ca-certificate" => ca = Some(cert_ref(store, v)?),
            "client-certificate" => client = Some(cert_ref(store, v)?),
            "client-cert-key" => key_cert = Some(cert_ref(store, v)?),
            "server-address" => address = Some(v.clone()),
            "file" => file = Some(v.clone()),
            "key-passphrase" => passphrase = v.clone(),
            "server" => {}
            _ => {
                return Err(format!(
                    "unknown property {k:?} (ca-certificate, client-certificate, client-cert-key, server-address, file, key-passphrase)"
                ));
            }
        }
    }
    let client = client.ok_or("client-certificate is required")?;
    let ca = match ca {
        Some(ca) => ca,
        None => issuer_of(store, &client).ok_or(
            "ca-certificate is required (the client certificate's CA is not in /certificate)",
        )?,
    };
    if let Some(k) = key_cert
        && k != client
    {
        return Err(format!(
            "client-cert-key names {k}, not the client certificate {client}"
        ));
    }
    let address = address.ok_or("server-address is required (the address clients connect to)")?;
    let mut profile = ClientProfile::new(address, s.port);
    profile.transport = s.transport;
    profile.mode = s.mode;
    // A password is asked for only when the server needs one.
    profile.auth_user_pass = s.require_user_password;
    profile.cipher = *s.ciphers.first().ok_or("the server has no cipher")?;
    profile.auth = s
        .auths
        .first()
        .copied()
        .unwrap_or(ovpn_crypto::Digest::Sha1);
    if s.protection.v2 {
        // A key of the client's own, made now and wrapped with the server key (the time of
        // making as its metadata, as `openvpn --genkey tls-crypt-v2-client`).
        let file = s
            .protection
            .v2_key_file
            .as_deref()
            .ok_or("tls-crypt-v2 needs tls-crypt-v2-key-file")?;
        let text = String::from_utf8(read(file)?)
            .map_err(|_| format!("{file}: not a tls-crypt-v2 server key"))?;
        let server =
            ovpn_crypto::TlsCryptV2ServerKey::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        let unix = now;
        let key = crate::protection::generate_v2_client_key(&server, None, unix)?;
        profile.control = crate::profile::ControlKey::TlsCryptV2 { key };
    } else if let (mode, Some(file)) = (s.protection.mode, s.protection.key_file.as_deref()) {
        let key = String::from_utf8(read(file)?).map_err(|_| format!("{file}: not a key file"))?;
        profile.control = match mode {
            crate::protection::Mode::TlsAuth => crate::profile::ControlKey::TlsAuth {
                key,
                // The client's direction is the server's other one.
                direction: match s.protection.direction {
                    None | Some(ovpn_crypto::KeyDirection::Normal) => Some(1),
                    Some(ovpn_crypto::KeyDirection::Inverse) => Some(0),
                    Some(ovpn_crypto::KeyDirection::Bidirectional) => None,
                },
            },
            crate::protection::Mode::TlsCrypt => crate::profile::ControlKey::TlsCrypt { key },
            crate::protection::Mode::None | crate::protection::Mode::TlsCryptV2 => {
                crate::profile::ControlKey::None
            }
        };
    }
    let text = profile
        .for_certificate(store, &ca, &client, &passphrase)
        .map_err(|e| e.to_string())?;
    let mut out = OutputFile {
        name: format!("{client}.ovpn"),
        contents: text.into_bytes(),
        private: true,
    };
    if let Some(f) = file.filter(|f| !f.is_empty()) {
        if f.contains('/') {
            return Err(format!("file={f}: a plain file name"));
        }
        out.name = if f.ends_with(".ovpn") {
            f
        } else {
            format!("{f}.ovpn")
        };
    }
    Ok(out)
}

/// The CA in the store that issued the certificate `name`.
fn issuer_of(store: &Store, name: &str) -> Option<String> {
    let c = store.get(name)?;
    if let Some(by) = c.issued_by() {
        return Some(by.to_owned());
    }
    let issuer = c.info().issuer_common_name.as_deref()?;
    store
        .certificates()
        .find(|ca| ca.info().is_ca && ca.info().subject.common_name == issuer)
        .map(|ca| ca.name().to_owned())
}

/// A certificate named directly or by its exported file (`cert_export_client1.crt`).
fn cert_ref(store: &Store, v: &str) -> Result<String, String> {
    if store.get(v).is_some() {
        return Ok(v.to_owned());
    }
    let base = v
        .strip_prefix("cert_export_")
        .unwrap_or(v)
        .trim_end_matches(".crt")
        .trim_end_matches(".key")
        .trim_end_matches(".pem");
    if store.get(base).is_some() {
        return Ok(base.to_owned());
    }
    Err(format!("no certificate {v} in /certificate"))
}
