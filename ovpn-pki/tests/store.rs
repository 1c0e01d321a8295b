//! RouterOS `/certificate` semantics of the store: add/sign, print, export/import, revoke.

mod common;

use common::{at, import, now, pki, store_with_ca};
use ovpn_pki::{
    ExportType, ImportOptions, KeySize, KeyType, KeyUsage, PeerRole, PkiError, Store, Template,
};

fn p256(name: &str, cn: &str, usage: &str) -> Template {
    let mut t = Template::new(name, cn);
    t.key_size = KeySize::Prime256v1;
    t.key_usage = usage.parse().unwrap();
    t
}

const CLIENT: &str = "digital-signature,key-encipherment,tls-client";

/// The RouterOS page's script, with its RSA-2048 keys (this test is about key generation).
#[test]
fn page_script_rsa_2048() {
    let now = now();
    let mut s = Store::new();
    s.add_from_properties(&[
        ("name", "ca-template"),
        ("common-name", "OpenVPN CA"),
        ("days-valid", "3650"),
        ("key-size", "2048"),
        ("key-usage", "key-cert-sign,crl-sign"),
    ])
    .unwrap();
    s.sign_from_properties("ca-template", &[("ca", "ca-template"), ("name", "ca")], now)
        .unwrap();
    s.add_from_properties(&[
        ("name", "server-template"),
        ("common-name", "ovpn-server"),
        ("days-valid", "3650"),
        ("key-size", "2048"),
        ("key-usage", "digital-signature,key-encipherment,tls-server"),
    ])
    .unwrap();
    s.sign_from_properties("server-template", &[("ca", "ca"), ("name", "server")], now)
        .unwrap();

    // Templates are consumed.
    assert!(s.template("ca-template").is_none());
    assert!(s.template("server-template").is_none());
    let ca = s.get("ca").unwrap();
    assert_eq!(ca.info().key_type, KeyType::Rsa { bits: 2048 });
    assert_eq!(ca.info().subject.common_name, "OpenVPN CA");
    assert!(ca.info().is_ca);
    assert!(ca.info().self_issued);
    assert_eq!(
        ca.info().not_after.as_secs() - ca.info().not_before.as_secs(),
        3650 * 86_400
    );
    assert_eq!(ca.info().not_before.as_secs(), now.as_secs());
    let server = s.get("server").unwrap();
    assert_eq!(server.issued_by(), Some("ca"));
    assert_eq!(server.info().key_type, KeyType::Rsa { bits: 2048 });
    assert_eq!(
        server.info().key_usage.to_string(),
        "digital-signature,key-encipherment,tls-server"
    );
    assert_eq!(server.info().akid, ca.info().skid);
    assert_ne!(server.info().serial, ca.info().serial);

    let flags = s.flags("ca", now).unwrap();
    assert_eq!(flags.to_string(), "K A   T");
    assert_eq!(s.flags("server", now).unwrap().to_string(), "K  I   ");

    let peer = s
        .verify_peer(&s.chain("server").unwrap(), PeerRole::TlsServer, now)
        .unwrap();
    assert_eq!(peer.common_name, "ovpn-server");
}

#[test]
fn sign_without_ca_self_signs_and_name_defaults_to_template() {
    let mut s = Store::new();
    s.add(p256("self", "self", "digital-signature,tls-server"))
        .unwrap();
    let c = s.sign("self", None, None, now()).unwrap();
    assert_eq!(c.name(), "self");
    assert!(c.info().self_issued);
    assert!(!c.info().is_ca);
    // Not a CA, so not trusted by default, and no I flag.
    assert_eq!(s.flags("self", now()).unwrap().to_string(), "K      ");
}

#[test]
fn sign_errors_leave_the_store_unchanged() {
    let mut s = store_with_ca();
    import(&mut s, "client1", true);
    s.add(p256("t", "t", CLIENT)).unwrap();
    let before = s.print_detail(now());

    let e = s.sign("nope", Some("ca"), None, now()).unwrap_err();
    assert_eq!(
        e,
        PkiError::NoSuchTemplate {
            name: "nope".into()
        }
    );
    let e = s.sign("t", Some("client1"), None, now()).unwrap_err();
    assert_eq!(
        e,
        PkiError::NotAuthority {
            name: "client1".into()
        }
    );
    let e = s.sign("t", Some("missing"), None, now()).unwrap_err();
    assert_eq!(
        e,
        PkiError::NoSuchCertificate {
            name: "missing".into()
        }
    );
    let e = s.sign("t", Some("ca"), Some("client1"), now()).unwrap_err();
    assert_eq!(
        e,
        PkiError::NameInUse {
            name: "client1".into()
        }
    );
    let e = s
        .sign_from_properties("t", &[("ca", "ca"), ("colour", "red")], now())
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::UnknownProperty {
            property: "colour".into()
        }
    );
    assert_eq!(s.print_detail(now()), before);

    // A CA without its key cannot sign.
    let mut s = Store::new();
    import(&mut s, "ca", false);
    s.add(p256("t", "t", CLIENT)).unwrap();
    let e = s.sign("t", Some("ca"), None, now()).unwrap_err();
    assert_eq!(e, PkiError::NoPrivateKey { name: "ca".into() });
    assert!(s.template("t").is_some());
}

#[test]
fn add_rejects_duplicates_and_incomplete_templates() {
    let mut s = store_with_ca();
    let e = s
        .add_from_properties(&[("name", "ca"), ("common-name", "x")])
        .unwrap_err();
    assert_eq!(e, PkiError::NameInUse { name: "ca".into() });
    let e = s.add_from_properties(&[("common-name", "x")]).unwrap_err();
    assert_eq!(e, PkiError::MissingProperty { property: "name" });
    let e = s
        .add_from_properties(&[("name", "x"), ("common-name", "x"), ("key-size", "huge")])
        .unwrap_err();
    assert!(e.to_string().contains("`key-size`"), "{e}");
}

#[test]
fn copy_from_copies_subject_and_usage() {
    let mut s = store_with_ca();
    import(&mut s, "client2", false);
    let t = s
        .add_from_properties(&[
            ("copy-from", "client2"),
            ("name", "client3"),
            ("common-name", "client3"),
        ])
        .unwrap();
    assert_eq!(t.subject.common_name, "client3");
    assert_eq!(t.key_size, KeySize::Prime256v1);
    assert_eq!(t.key_usage.to_string(), CLIENT);
    assert_eq!(t.days_valid, 9131);
    let t2 = s
        .add_from_properties(&[("copy-from", "client3"), ("name", "client4")])
        .unwrap();
    assert_eq!(t2.subject.common_name, "client3");
}

#[test]
fn subject_fields_sans_and_usages_are_written() {
    let mut s = store_with_ca();
    s.add_from_properties(&[
        ("name", "srv"),
        ("common-name", "vpn.example.com"),
        ("country", "LV"),
        ("state", "Riga"),
        ("locality", "Riga"),
        ("organization", "Example"),
        ("unit", "Net"),
        ("subject-alt-name", "DNS:vpn.example.com,IP:192.0.2.1,IP:2001:db8::1,email:a@example.com"),
        ("key-size", "secp384r1"),
        ("days-valid", "10"),
        ("key-usage", "digital-signature,key-agreement,tls-server,tls-client,code-sign,email-protect,timestamp,ocsp-sign,dvcs"),
    ])
    .unwrap();
    let c = s.sign("srv", Some("ca"), None, now()).unwrap();
    let i = c.info();
    assert_eq!(i.subject.country.as_deref(), Some("LV"));
    assert_eq!(i.subject.state.as_deref(), Some("Riga"));
    assert_eq!(i.subject.organization.as_deref(), Some("Example"));
    assert_eq!(i.subject.unit.as_deref(), Some("Net"));
    assert_eq!(i.key_type, KeyType::Ec(ovpn_pki::Curve::P384));
    assert_eq!(
        i.subject_alt_names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "DNS:vpn.example.com",
            "IP:192.0.2.1",
            "IP:2001:db8::1",
            "email:a@example.com"
        ]
    );
    assert_eq!(
        i.key_usage.to_string(),
        "digital-signature,key-agreement,tls-server,tls-client,code-sign,email-protect,timestamp,ocsp-sign,dvcs"
    );
    assert_eq!(i.issuer_common_name.as_deref(), Some("OpenVPN CA"));
    assert!(!i.is_ca);
}

#[test]
fn digests_and_unsupported_keys() {
    let mut s = Store::new();
    let mut ca = p256("ca", "P-256 CA", "key-cert-sign,crl-sign");
    ca.digest_algorithm = Some(ovpn_pki::DigestAlgorithm::Sha384);
    s.add(ca).unwrap();
    let e = s.sign("ca", None, None, now()).unwrap_err();
    assert!(matches!(e, PkiError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("sha384"), "{e}");
    s.template_mut("ca").unwrap().digest_algorithm = None;
    s.sign("ca", None, None, now()).unwrap();

    let mut t = p256("weak", "weak", CLIENT);
    t.digest_algorithm = Some(ovpn_pki::DigestAlgorithm::Md5);
    s.add(t).unwrap();
    assert!(s.sign("weak", Some("ca"), None, now()).is_err());

    let mut t = p256("p521", "p521", CLIENT);
    t.key_size = KeySize::Secp521r1;
    s.add(t).unwrap();
    let e = s.sign("p521", Some("ca"), None, now()).unwrap_err();
    assert!(e.to_string().contains("P-521"), "{e}");
    assert!(s.template("p521").is_some());
}

/// RSA signing with SHA-384/512 and the RSA sizes ring cannot sign with (the `rsa` crate does).
#[test]
fn rsa_digests_and_small_keys() {
    let mut s = store_with_ca();
    let mut t = p256("c384", "c384", CLIENT);
    t.digest_algorithm = Some(ovpn_pki::DigestAlgorithm::Sha512);
    s.add(t).unwrap();
    s.sign("c384", Some("ca"), None, now()).unwrap();
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    let chain = s.chain("c384").unwrap();
    assert_eq!(v.verify_chain(&chain, now()).unwrap().common_name, "c384");

    // A 1024-bit CA (key generation test): signs with the `rsa` crate; ring refuses to verify.
    let mut old = Template::new("old", "Old CA");
    old.key_size = KeySize::Rsa1024;
    old.key_usage = "key-cert-sign,crl-sign".parse().unwrap();
    s.add(old).unwrap();
    s.sign("old", None, None, now()).unwrap();
    s.add(p256("oldc", "oldc", CLIENT)).unwrap();
    s.sign("oldc", Some("old"), None, now()).unwrap();
    assert_eq!(
        s.get("old").unwrap().info().key_type,
        KeyType::Rsa { bits: 1024 }
    );
    let e = ovpn_pki::verify_peer(
        &s.chain("oldc").unwrap(),
        &[s.get("old").unwrap().der().clone()],
        PeerRole::TlsClient,
        now(),
        &[],
    )
    .unwrap_err();
    assert_eq!(e, ovpn_pki::VerifyError::UnsupportedAlgorithm);
}

#[test]
fn flags_follow_revocation_expiry_and_crls() {
    let mut s = store_with_ca();
    s.add(p256("c", "c", CLIENT)).unwrap();
    s.sign("c", Some("ca"), None, now()).unwrap();
    assert_eq!(s.flags("ca", now()).unwrap().to_string(), "K A   T");
    assert_eq!(s.flags("c", now()).unwrap().to_string(), "K  I   ");

    let crl = s.issued_revoke("c", now()).unwrap();
    assert_eq!(crl.number(), 1);
    assert_eq!(crl.revoked().len(), 1);
    assert_eq!(
        crl.next_update().unwrap().as_secs(),
        now().as_secs() + 180 * 86_400
    );
    assert_eq!(s.flags("ca", now()).unwrap().to_string(), "KLA   T");
    assert_eq!(s.flags("c", now()).unwrap().to_string(), "K  IR  ");
    // 366 days later it has expired.
    let later = at(now().as_secs() + 366 * 86_400);
    assert_eq!(s.flags("c", later).unwrap().to_string(), "K  IRE ");

    // Revoking a second one renews the CRL with both.
    s.add(p256("d", "d", CLIENT)).unwrap();
    s.sign("d", Some("ca"), None, now()).unwrap();
    let crl = s.issued_revoke("d", at(now().as_secs() + 60)).unwrap();
    assert_eq!(crl.number(), 2);
    assert_eq!(crl.revoked().len(), 2);
    let peer = s.peer_verifier(PeerRole::TlsClient).unwrap();
    for n in ["c", "d"] {
        let e = peer.verify_chain(&s.chain(n).unwrap(), now()).unwrap_err();
        assert_eq!(e, ovpn_pki::VerifyError::Revoked, "{n}");
    }
}

#[test]
fn issued_revoke_needs_a_local_crl_signing_ca() {
    let mut s = store_with_ca();
    import(&mut s, "client1", true);
    let e = s.issued_revoke("client1", now()).unwrap_err();
    assert_eq!(
        e,
        PkiError::NotIssuedHere {
            name: "client1".into()
        }
    );
    // Kept by this store's program and loaded again (a restart): its issue again.
    let mut router = Store::new();
    router
        .add(p256("ca", "CA", "key-cert-sign,crl-sign"))
        .unwrap();
    router.sign("ca", None, None, now()).unwrap();
    router.add(p256("k", "k", CLIENT)).unwrap();
    router.sign("k", Some("ca"), None, now()).unwrap();
    let pem = |st: &Store, n: &str| {
        let c = st.get(n).unwrap();
        let mut p = c.pem();
        p.push_str(&c.private_key_pem().unwrap());
        p
    };
    let (ca_pem, k_pem) = (pem(&router, "ca"), pem(&router, "k"));
    for kept in [false, true] {
        let mut again = Store::new();
        let opts = |name| ImportOptions {
            name: Some(name),
            kept,
            ..ImportOptions::default()
        };
        again
            .import("ca.pem", ca_pem.as_bytes(), &opts("ca"))
            .unwrap();
        again.import("k.pem", k_pem.as_bytes(), &opts("k")).unwrap();
        assert_eq!(again.get("k").unwrap().issued_by(), kept.then_some("ca"));
        assert_eq!(again.issued_revoke("k", now()).is_ok(), kept);
    }

    let mut s = Store::new();
    s.add(p256("ca", "no-crl CA", "key-cert-sign")).unwrap();
    s.sign("ca", None, None, now()).unwrap();
    s.add(p256("c", "c", CLIENT)).unwrap();
    s.sign("c", Some("ca"), None, now()).unwrap();
    let e = s.issued_revoke("c", now()).unwrap_err();
    assert_eq!(e, PkiError::NotCrlSigner { name: "ca".into() });
    assert!(s.get("c").unwrap().revoked_at().is_none());
}

#[test]
fn print_and_print_detail() {
    let mut s = store_with_ca();
    s.add(p256("tmpl", "template-cn", CLIENT)).unwrap();
    import(&mut s, "client1", false);
    let p = s.print(now());
    let lines: Vec<&str> = p.lines().collect();
    assert_eq!(lines[0], ovpn_pki::FLAGS_LEGEND);
    assert!(lines[1].contains("NAME") && lines[1].contains("FINGERPRINT"));
    assert!(lines[2].starts_with(" 0 ") && lines[2].contains("tmpl"));
    assert!(lines[3].starts_with(" 1 K A   T ca "), "{}", lines[3]);
    assert!(lines[3].contains(&s.get("ca").unwrap().info().fingerprint_hex()));
    assert!(lines[4].starts_with(" 2         client1 "), "{}", lines[4]);

    let d = s.print_detail(now());
    for needle in [
        "name=\"tmpl\" key-type=ec common-name=\"template-cn\"",
        "name=\"ca\" key-type=rsa common-name=\"OpenVPN CA\" key-size=2048",
        "trusted=yes key-usage=key-cert-sign,crl-sign",
        "invalid-before=2025-01-01 00:00:00 invalid-after=2050-01-01 00:00:00",
        "name=\"client1\"",
        " ca=ca ",
        "expires-after=",
    ] {
        assert!(d.contains(needle), "missing {needle:?} in\n{d}");
    }
    let serial = s.get("client1").unwrap().info().serial_hex();
    assert!(d.contains(&format!("serial-number=\"{serial}\"")));
}

#[test]
fn remove_ca_removes_what_it_issued() {
    let mut s = store_with_ca();
    s.add(p256("sub", "Sub CA", "key-cert-sign,crl-sign"))
        .unwrap();
    s.sign("sub", Some("ca"), None, now()).unwrap();
    s.add(p256("leaf", "leaf", CLIENT)).unwrap();
    s.sign("leaf", Some("sub"), None, now()).unwrap();
    s.issued_revoke("leaf", now()).unwrap();
    import(&mut s, "client2", false);
    s.remove("sub").unwrap();
    assert!(s.get("sub").is_none());
    assert!(s.get("leaf").is_none());
    assert!(s.crl("sub").is_none());
    assert!(s.get("ca").is_some() && s.get("client2").is_some());
    assert!(s.remove("sub").is_err());
}

#[test]
fn intermediate_ca_chain() {
    let mut s = store_with_ca();
    s.add(p256("sub", "Sub CA", "key-cert-sign,crl-sign"))
        .unwrap();
    s.sign("sub", Some("ca"), None, now()).unwrap();
    s.add(p256("leaf", "leaf", "digital-signature,tls-server"))
        .unwrap();
    s.sign("leaf", Some("sub"), None, now()).unwrap();
    let chain = s.chain("leaf").unwrap();
    assert_eq!(chain.len(), 2, "leaf and sub CA, not the root");
    assert_eq!(&chain[1], s.get("sub").unwrap().der());
    // Trust only the root: the intermediate comes from the peer's chain.
    let root = [s.get("ca").unwrap().der().clone()];
    let peer = ovpn_pki::verify_peer(&chain, &root, PeerRole::TlsServer, now(), &[]).unwrap();
    assert_eq!(peer.common_name, "leaf");
    assert_eq!(peer.issuer_common_name.as_deref(), Some("Sub CA"));
    // Without the intermediate the root alone is not enough.
    let e = ovpn_pki::verify_peer(&chain[..1], &root, PeerRole::TlsServer, now(), &[]).unwrap_err();
    assert_eq!(e, ovpn_pki::VerifyError::UnknownCa);
}

#[test]
fn export_pem_key_only_with_passphrase() {
    let s = {
        let mut s = store_with_ca();
        import(&mut s, "client1", true);
        s
    };
    let files = s
        .export_certificate("client1", "", ExportType::Pem)
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name, "cert_export_client1.crt");
    assert_eq!(files[0].contents, pki("client1.crt"));

    let files = s
        .export_certificate("client1", "export-password", ExportType::Pem)
        .unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1].file_name, "cert_export_client1.key");
    let key = String::from_utf8(files[1].contents.clone()).unwrap();
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{key}"
    );
    assert!(!key.contains("BEGIN PRIVATE KEY"));

    // export-certificate with properties, file-name and type.
    let files = s
        .export_from_properties(
            "client1",
            &[
                ("export-passphrase", "pw"),
                ("type", "pem"),
                ("file-name", "c1"),
            ],
        )
        .unwrap();
    assert_eq!(files[0].file_name, "c1.crt");
    assert_eq!(files[1].file_name, "c1.key");
    let e = s
        .export_from_properties("client1", &[("type", "der")])
        .unwrap_err();
    assert!(e.to_string().contains("`type`"), "{e}");
    assert!(s.export_certificate("nope", "", ExportType::Pem).is_err());
}

#[test]
fn export_then_import_gives_one_certificate_with_its_key() {
    let mut router = store_with_ca();
    router.add(p256("client1", "client1", CLIENT)).unwrap();
    router.sign("client1", Some("ca"), None, now()).unwrap();
    router.settings_mut().export_pbkdf2_iterations = 2048;
    let ca = router
        .export_certificate("ca", "", ExportType::Pem)
        .unwrap();
    let c1 = router
        .export_certificate("client1", "export-password", ExportType::Pem)
        .unwrap();

    // The page's client-side commands.
    let mut client = Store::new();
    let sum = client
        .import_from_properties(
            &[("file-name", "cert_export_ca.crt"), ("passphrase", "")],
            &ca[0].contents,
        )
        .unwrap();
    assert_eq!(sum.certificates_imported, 1);
    assert_eq!(sum.names, ["ca"]);
    client
        .import_from_properties(
            &[("file-name", "cert_export_client1.crt"), ("passphrase", "")],
            &c1[0].contents,
        )
        .unwrap();
    assert!(!client.get("client1").unwrap().has_private_key());

    // Wrong and missing passphrases are errors and change nothing.
    let e = client
        .import_from_properties(
            &[
                ("file-name", "cert_export_client1.key"),
                ("passphrase", "wrong"),
            ],
            &c1[1].contents,
        )
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::WrongPassphrase {
            file: "cert_export_client1.key".into()
        }
    );
    let e = client
        .import_from_properties(
            &[("file-name", "cert_export_client1.key"), ("passphrase", "")],
            &c1[1].contents,
        )
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::PassphraseRequired {
            file: "cert_export_client1.key".into()
        }
    );
    assert!(!client.get("client1").unwrap().has_private_key());

    let sum = client
        .import_from_properties(
            &[
                ("file-name", "cert_export_client1.key"),
                ("passphrase", "export-password"),
            ],
            &c1[1].contents,
        )
        .unwrap();
    assert_eq!(sum.certificates_imported, 0);
    assert_eq!(sum.private_keys_imported, 1);
    assert!(sum.to_string().contains("private-keys-imported: 1"));
    assert_eq!(client.certificates().count(), 2);
    let c = client.get("client1").unwrap();
    assert!(c.has_private_key());
    // The imported CA is trusted, the client certificate not.
    assert_eq!(client.flags("ca", now()).unwrap().to_string(), "  A   T");
    assert_eq!(
        client.flags("client1", now()).unwrap().to_string(),
        "K      "
    );
    // Same key as on the router.
    assert_eq!(
        c.private_key_der().unwrap().secret_der(),
        router
            .get("client1")
            .unwrap()
            .private_key_der()
            .unwrap()
            .secret_der()
    );
    // Importing the same files again adds nothing.
    let sum = client
        .import(
            "cert_export_ca.crt",
            &ca[0].contents,
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(sum.certificates_imported, 0);
}

#[test]
fn import_errors_are_clear_and_atomic() {
    let mut s = store_with_ca();
    let before = s.print_detail(now());
    let e = s
        .import("junk.bin", b"hello world", &ImportOptions::default())
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::Unrecognized {
            file: "junk.bin".into()
        }
    );
    let e = s
        .import("empty", b"", &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(e, PkiError::Unrecognized { .. }));
    // A key without its certificate.
    let e = s
        .import(
            "client2.key",
            &pki("client2.key"),
            &ImportOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::KeyWithoutCertificate {
            file: "client2.key".into()
        }
    );
    // A good certificate followed by a broken block: nothing is imported.
    let mut mixed = pki("client2.crt");
    mixed.extend_from_slice(
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let e = s
        .import("mixed.pem", &mixed, &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(e, PkiError::Malformed { .. }), "{e}");
    // An unterminated block.
    let e = s
        .import(
            "cut.pem",
            b"-----BEGIN CERTIFICATE-----\nMIIB",
            &ImportOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(e, PkiError::Malformed { .. }), "{e}");
    // A CRL whose CA is not in the store.
    let mut other = Store::new();
    let e = other
        .import("ca.crl", &pki("ca.crl"), &ImportOptions::default())
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::CrlWithoutCa {
            file: "ca.crl".into()
        }
    );
    // Legacy OpenSSL-encrypted PEM.
    let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let e = s
        .import("old.key", legacy, &ImportOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
    assert_eq!(s.print_detail(now()), before);
    assert!(
        s.import_from_properties(&[("passphrase", "")], b"x")
            .unwrap_err()
            .to_string()
            .contains("file-name")
    );
}

#[test]
fn import_chain_file_der_and_crl() {
    let mut s = Store::new();
    // A chain file: server then CA, plus text around, as OpenSSL tools write it.
    let mut chain = b"subject=CN = ovpn-server\n".to_vec();
    chain.extend(pki("server.crt"));
    chain.extend(b"\nsubject=CN = OpenVPN CA\n");
    chain.extend(pki("ca.crt"));
    chain.extend(pki("server.key"));
    let sum = s
        .import(
            "fullchain.pem",
            &chain,
            &ImportOptions {
                name: Some("srv"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(sum.certificates_imported, 2);
    assert_eq!(sum.private_keys_imported, 1);
    assert_eq!(sum.names, ["srv", "srv_1"]);
    assert!(s.get("srv").unwrap().has_private_key());
    assert!(s.get("srv_1").unwrap().trusted(), "imported CA is trusted");
    assert!(!s.get("srv").unwrap().trusted());

    // DER certificate.
    let der = common::der("client2");
    let sum = s
        .import("client2.der", &der, &ImportOptions::default())
        .unwrap();
    assert_eq!(sum.names, ["client2"]);

    // The CA's CRL: L on the CA, R on nothing here yet.
    let sum = s
        .import("ca.crl", &pki("ca.crl"), &ImportOptions::default())
        .unwrap();
    assert_eq!(sum.crls_imported, 1);
    assert_eq!(s.crl("srv_1").unwrap().revoked().len(), 1);
    assert!(s.flags("srv_1", now()).unwrap().crl);
    import(&mut s, "revoked-client1", false);
    assert!(s.flags("revoked-client1", now()).unwrap().revoked);
    assert!(!s.flags("client2", now()).unwrap().revoked);
    // `trusted=no` on import.
    let sum = s
        .import_from_properties(
            &[("file-name", "foreign-ca.crt"), ("trusted", "no")],
            &pki("foreign-ca.crt"),
        )
        .unwrap();
    assert!(!s.get(&sum.names[0]).unwrap().trusted());
}

#[test]
fn import_pkcs1_and_sec1_keys() {
    use pkcs8::der::{Decode, Encode};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;

    let mut s = Store::new();
    import(&mut s, "client1", false);
    import(&mut s, "client2", false);

    // PKCS#1 from the RSA key.
    let pk8 = pem_der(&pki("client1.key"));
    let rsa = rsa::RsaPrivateKey::from_pkcs8_der(&pk8).unwrap();
    let pkcs1 = rsa.to_pkcs1_pem(pkcs8::LineEnding::LF).unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    s.import("client1.key", pkcs1.as_bytes(), &ImportOptions::default())
        .unwrap();
    assert!(s.get("client1").unwrap().has_private_key());

    // SEC1 (with curve parameters) from the P-256 key, as DER.
    let pk8 = pem_der(&pki("client2.key"));
    let info = pkcs8::PrivateKeyInfo::from_der(&pk8).unwrap();
    let mut ec = sec1::EcPrivateKey::from_der(info.private_key).unwrap();
    ec.parameters = Some(sec1::EcParameters::NamedCurve(
        info.algorithm.parameters_oid().unwrap(),
    ));
    let sec1_der = ec.to_der().unwrap();
    s.import("client2.key", &sec1_der, &ImportOptions::default())
        .unwrap();
    assert!(s.get("client2").unwrap().has_private_key());
    // The stored key is the same PKCS#8 key (normalised).
    assert_eq!(
        s.get("client2")
            .unwrap()
            .private_key_der()
            .unwrap()
            .secret_der(),
        &pk8[..]
    );
}

fn pem_der(pem: &[u8]) -> Vec<u8> {
    pkcs8::der::pem::decode_vec(pem).unwrap().1
}

#[test]
fn export_pkcs12() {
    let mut s = store_with_ca();
    import(&mut s, "client2", true);
    s.settings_mut().export_pbkdf2_iterations = 2048;
    let files = s
        .export_certificate("client2", "pw", ExportType::Pkcs12)
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name, "cert_export_client2.p12");
    let ks = p12_keystore::KeyStore::from_pkcs12(&files[0].contents, "pw").unwrap();
    let (_, chain) = ks.private_key_chain().unwrap();
    assert_eq!(
        chain.chain()[0].as_der(),
        &s.get("client2").unwrap().der()[..]
    );
    assert_eq!(
        chain.key(),
        s.get("client2")
            .unwrap()
            .private_key_der()
            .unwrap()
            .secret_der()
    );
    // Without a passphrase: certificates only.
    let files = s
        .export_certificate("client2", "", ExportType::Pkcs12)
        .unwrap();
    let ks = p12_keystore::KeyStore::from_pkcs12(&files[0].contents, "").unwrap();
    assert!(ks.private_key_chain().is_none());
    assert_eq!(ks.entries_count(), 1);
    // Our import reads it back: the certificate alone.
    let sum = Store::new()
        .import("x.p12", &files[0].contents, &ImportOptions::default())
        .unwrap();
    assert_eq!(
        (sum.certificates_imported, sum.private_keys_imported),
        (1, 0)
    );
}

#[test]
fn identity_for_rustls() {
    let mut s = store_with_ca();
    import(&mut s, "server", true);
    import(&mut s, "client2", true);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    for name in ["server", "client2"] {
        let (chain, key) = s.identity(name).unwrap();
        assert_eq!(chain.len(), 1);
        rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let e = s.identity("ca").map(|_| ());
    assert!(e.is_ok(), "the CA has its key");
    import(&mut s, "client1", false);
    assert_eq!(
        s.identity("client1").unwrap_err(),
        PkiError::NoPrivateKey {
            name: "client1".into()
        }
    );
}

#[test]
fn key_usage_template_values_reach_the_certificate() {
    let mut s = store_with_ca();
    let all: ovpn_pki::KeyUsages = KeyUsage::ALL.into_iter().collect();
    let mut t = p256("all", "all", "");
    t.key_usage = all;
    s.add(t).unwrap();
    let c = s.sign("all", Some("ca"), None, now()).unwrap();
    assert_eq!(c.info().key_usage, all);
    assert!(c.info().is_ca, "key-cert-sign makes a CA");
}

#[test]
fn save_and_load_round_trip() {
    let mut s = store_with_ca();
    s.settings_mut().crl_days_valid = 30;
    import(&mut s, "client1", true);
    import(&mut s, "foreign-ca", false);
    s.add(p256("c", "c", CLIENT)).unwrap();
    s.sign("c", Some("ca"), None, now()).unwrap();
    s.issued_revoke("c", now()).unwrap();
    let mut t = p256("pending", "pending cn", CLIENT);
    t.subject.organization = Some("Org".into());
    t.subject_alt_names = vec!["DNS:x.example".parse().unwrap()];
    t.digest_algorithm = Some(ovpn_pki::DigestAlgorithm::Sha256);
    t.trusted = Some(false);
    s.add(t.clone()).unwrap();

    let text = s.save();
    let back = Store::load(&text).unwrap();
    assert_eq!(back.print_detail(now()), s.print_detail(now()));
    assert_eq!(*back.save(), *text);
    assert_eq!(back.settings(), s.settings());
    assert_eq!(back.template("pending"), Some(&t));
    assert_eq!(back.get("c").unwrap().issued_by(), Some("ca"));
    assert!(back.flags("c", now()).unwrap().revoked);
    assert_eq!(back.crl("ca").unwrap().number(), 1);
    assert_eq!(
        back.get("client1")
            .unwrap()
            .private_key_der()
            .unwrap()
            .secret_der(),
        s.get("client1")
            .unwrap()
            .private_key_der()
            .unwrap()
            .secret_der()
    );
    // The loaded CA keeps signing and revoking where it left off.
    let mut back = back;
    back.add(p256("d", "d", CLIENT)).unwrap();
    back.sign("d", Some("ca"), None, now()).unwrap();
    assert_eq!(back.issued_revoke("d", now()).unwrap().number(), 2);

    // Damaged files are refused.
    assert!(Store::load("").is_err());
    assert!(Store::load("ovpn-pki-store 1\n[nonsense]\n").is_err());
    let swapped = text.replacen(
        &String::from_utf8(pki("client1.key")).unwrap(),
        &String::from_utf8(pki("client2.key")).unwrap(),
        1,
    );
    assert_ne!(swapped, *text);
    let e = Store::load(&swapped).unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");
    let e = Store::load(&text.replace("days-valid: 365", "days-valid: forever")).unwrap_err();
    assert!(e.to_string().contains("days-valid"), "{e}");
}

#[test]
fn set_from_properties() {
    let mut s = store_with_ca();
    s.add(p256("t", "t", CLIENT)).unwrap();
    s.set_from_properties("t", &[("days-valid", "30"), ("common-name", "renamed")])
        .unwrap();
    assert_eq!(s.template("t").unwrap().days_valid, 30);
    assert_eq!(s.template("t").unwrap().subject.common_name, "renamed");
    // All or nothing.
    let e = s
        .set_from_properties("t", &[("days-valid", "31"), ("key-size", "7")])
        .unwrap_err();
    assert!(e.to_string().contains("key-size"));
    assert_eq!(s.template("t").unwrap().days_valid, 30);
    let e = s.set_from_properties("t", &[("name", "ca")]).unwrap_err();
    assert_eq!(e, PkiError::NameInUse { name: "ca".into() });
    s.set_from_properties("ca", &[("trusted", "no")]).unwrap();
    assert!(!s.get("ca").unwrap().trusted());
    assert!(s.trusted_cas().is_empty());
    let e = s
        .set_from_properties("ca", &[("common-name", "x")])
        .unwrap_err();
    assert!(e.to_string().contains("trusted"), "{e}");
    assert!(s.set_from_properties("nope", &[]).is_err());
}

#[test]
fn import_under_a_name_in_use_is_refused_and_changes_nothing() {
    let mut router = store_with_ca();
    for n in ["client1", "client2"] {
        router.add(p256(n, n, CLIENT)).unwrap();
        router.sign(n, Some("ca"), None, now()).unwrap();
    }
    let c1 = router
        .export_certificate("client1", "", ExportType::Pem)
        .unwrap();
    let c2 = router
        .export_certificate("client2", "", ExportType::Pem)
        .unwrap();
    let mut client = Store::new();
    let named = |name| ImportOptions {
        name: Some(name),
        ..ImportOptions::default()
    };
    client
        .import("c1.crt", &c1[0].contents, &named("peer"))
        .unwrap();
    // Another certificate under the same name: refused, the table is as it was.
    let before = client.print(now());
    assert_eq!(
        client.import("c2.crt", &c2[0].contents, &named("peer")),
        Err(PkiError::NameInUse {
            name: "peer".into()
        })
    );
    assert_eq!(client.print(now()), before);
    // The same certificate again (a script run twice) imports nothing and is no error.
    let again = client
        .import("c1.crt", &c1[0].contents, &named("peer"))
        .unwrap();
    assert_eq!(again.certificates_imported, 0);
    // Without name= the file's name is numbered, as RouterOS does.
    let sum = client
        .import("peer", &c2[0].contents, &ImportOptions::default())
        .unwrap();
    assert_eq!(sum.names, ["peer_1"]);
}

/// Our own PKCS#12 export imports back: the key and its chain, under the file's name; a wrong
/// passphrase says so; a file asking for more key-derivation work than allowed is refused
/// before any is done.
#[test]
fn pkcs12_round_trip_and_its_limits() {
    let mut s = store_with_ca();
    import(&mut s, "client1", true);
    s.settings_mut().export_pbkdf2_iterations = 4096;
    let f = s
        .export_certificate("client1", "p12-pass", ExportType::Pkcs12)
        .unwrap();
    let p12 = &f[0];
    let mut back = Store::new();
    let opts = ImportOptions {
        passphrase: "p12-pass",
        ..ImportOptions::default()
    };
    let sum = back.import(&p12.file_name, &p12.contents, &opts).unwrap();
    assert_eq!(sum.private_keys_imported, 1);
    assert!(sum.certificates_imported >= 1);
    let got = back.get("client1").expect("named after the file");
    assert!(got.has_private_key());
    assert_eq!(
        got.info().fingerprint,
        s.get("client1").unwrap().info().fingerprint
    );
    let wrong = ImportOptions {
        passphrase: "nope",
        ..ImportOptions::default()
    };
    assert!(matches!(
        Store::new().import(&p12.file_name, &p12.contents, &wrong),
        Err(PkiError::WrongPassphrase { .. })
    ));
    let mut strict = Store::new();
    strict.settings_mut().import_max_kdf_cost = 1000;
    let e = strict
        .import(&p12.file_name, &p12.contents, &opts)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("key-derivation cost 4096 above the limit 1000"),
        "{e}"
    );
    // Truncated files are malformed, not a panic.
    for cut in [10, p12.contents.len() / 2, p12.contents.len() - 1] {
        assert!(
            Store::new()
                .import("x.p12", &p12.contents[..cut], &opts)
                .is_err()
        );
    }
}
