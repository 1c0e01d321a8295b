//! OpenVPN client profiles read into our client: every directive takes effect, is noted, or is
//! refused with its line.

use std::path::Path;

use ovpn_crypto::Cipher;
use ovpn_examples::ovpn_config::{Credentials, literal_resolve, read_profile_with};
use ovpn_session::{ControlProtection, Framing, Transport};

fn pki(file: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../testdata/pki/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn profile(extra: &str) -> String {
    format!(
        "client\ndev tun\nproto tcp-client\nremote 127.0.0.1 1443\nremote 127.0.0.2 1443\n\
         resolv-retry infinite\nnobind\nremote-cert-tls server\nauth-user-pass\n\
         data-ciphers AES-128-GCM:AES-256-CBC\nauth SHA256\n{extra}\
         <ca>\n{}</ca>\n<cert>\n{}</cert>\n<key>\n{}</key>\n",
        pki("ca.crt"),
        pki("client1.crt"),
        pki("client1.key")
    )
}

fn creds() -> Credentials {
    Credentials {
        user_pass: Some(("client1".into(), "pw".to_owned().into())),
        ..Credentials::default()
    }
}

#[test]
fn a_providers_profile_becomes_the_session_configuration() {
    let key = ovpn_crypto::StaticKey::generate([9; ovpn_crypto::KEY_BLOCK_LEN]).to_file_string();
    let text = profile(&format!(
        "compress stub-v2\nroute 192.168.7.0 255.255.255.0\nexplicit-exit-notify 1\n\
         frobnicate yes\nverb 3\nkey-direction 1\n<tls-crypt>\n{key}</tls-crypt>\n"
    ));
    let p = read_profile_with(&text, Path::new("."), &creds(), &literal_resolve).unwrap();
    let c = &p.config;
    assert_eq!(c.mode, ovpn_session::Mode::Ip);
    assert_eq!(c.server, "127.0.0.1:1443".parse().unwrap());
    assert_eq!(c.transport, Transport::Tcp);
    assert_eq!(
        c.data_ciphers,
        Some(vec![Cipher::Aes128Gcm, Cipher::Aes256Cbc])
    );
    assert_eq!(c.auth, "sha256".parse().unwrap());
    assert_eq!(c.compression, Framing::V2);
    assert!(matches!(c.protection, ControlProtection::TlsCrypt { .. }));
    assert!(c.identity.is_some());
    assert_eq!((c.user.as_str(), c.password.as_str()), ("client1", "pw"));
    assert_eq!(
        p.routes,
        ["192.168.7.0/24".parse::<ipnet::Ipv4Net>().unwrap()]
    );
    // The unknown directive is named with its line; the second remote is noted.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.line == Some(15) && w.message.contains("frobnicate")),
        "{:#?}",
        p.warnings
    );
    // Tuning this client does not have, and a key-direction tls-crypt does not use, are named.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.line == Some(16) && w.message == "verb: no effect here")
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.starts_with("key-direction: no effect"))
    );
    // The second remote is the fallback.
    assert_eq!(c.fallback_servers, ["127.0.0.2:1443".parse().unwrap()]);
}

#[test]
fn dev_tap_is_ethernet_mode() {
    for extra in ["dev tap\n", "dev tap0\n", "dev tun\ndev-type tap\n"] {
        let p = read_profile_with(&profile(extra), Path::new("."), &creds(), &literal_resolve)
            .unwrap_or_else(|f| panic!("{extra}: {:#?}", f.errors));
        assert_eq!(p.config.mode, ovpn_session::Mode::Ethernet, "{extra}");
    }
}

#[test]
fn what_it_cannot_honour_is_refused_with_its_line() {
    for (extra, line, words) in [
        (
            "verify-x509-name ovpn-server subject\n",
            12,
            "only the `name` type",
        ),
        (
            "tls-crypt-v2 no-such-client.key\n",
            12,
            "tls-crypt-v2 no-such-client.key:",
        ),
        ("comp-lzo yes\n", 12, "real compression"),
        ("compress lz4-v2\n", 12, "real compression"),
        ("dev null\n", 12, "dev: expected tun or tap"),
        (
            "tls-version-min 1.3\n",
            12,
            "refusing rather than weakening",
        ),
    ] {
        let f = read_profile_with(&profile(extra), Path::new("."), &creds(), &literal_resolve)
            .unwrap_err();
        assert!(
            f.errors
                .iter()
                .any(|e| e.line == Some(line) && e.message.contains(words)),
            "{extra}: {:#?}",
            f.errors
        );
    }
    // A block that is never closed.
    let open = format!("{}<tls-crypt>\nabc\n", profile(""));
    let f = read_profile_with(&open, Path::new("."), &creds(), &literal_resolve).unwrap_err();
    assert!(
        f.errors
            .iter()
            .any(|e| e.message.contains("<tls-crypt> is not closed")),
        "{:#?}",
        f.errors
    );
    // No credentials for auth-user-pass, and no remote: each said.
    let f = read_profile_with(
        &profile("").replace("remote 127.0.0.1 1443\nremote 127.0.0.2 1443\n", ""),
        Path::new("."),
        &Credentials::default(),
        &literal_resolve,
    )
    .unwrap_err();
    let all: Vec<&str> = f.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(all.iter().any(|m| m.contains("no remote")), "{all:?}");
    assert!(
        all.iter().any(|m| m.contains("--auth-user-pass FILE")),
        "{all:?}"
    );
}

#[test]
fn verify_x509_name_checks_the_servers_name() {
    let p = read_profile_with(
        &profile("verify-x509-name ovpn-server name\n"),
        Path::new("."),
        &creds(),
        &literal_resolve,
    )
    .unwrap();
    let server = rustls::pki_types::CertificateDer::from(
        rustls::pki_types::pem::PemObject::from_pem_slice(pki("server.crt").as_bytes())
            .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
            .unwrap(),
    );
    let now = rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        1_800_000_000,
    ));
    assert!(p.config.check.check(&server, &[], now).is_ok());
    let other = read_profile_with(
        &profile("verify-x509-name someone-else name\n"),
        Path::new("."),
        &creds(),
        &literal_resolve,
    )
    .unwrap();
    assert!(other.config.check.check(&server, &[], now).is_err());
}

#[test]
fn remote_random_shuffles_the_remotes() {
    let remotes =
        "remote 127.0.0.1 1\nremote 127.0.0.2 2\nremote 127.0.0.3 3\nremote 127.0.0.4 4\n";
    let text = profile("remote-random\n")
        .replace("remote 127.0.0.1 1443\nremote 127.0.0.2 1443\n", remotes);
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let p = read_profile_with(&text, Path::new("."), &creds(), &literal_resolve).unwrap();
        let mut all = vec![p.config.server];
        all.extend(p.config.fallback_servers);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((all.len(), sorted.len()), (4, 4), "every remote, once");
        orders.insert(all);
    }
    assert!(orders.len() > 1, "the order changes");
}
