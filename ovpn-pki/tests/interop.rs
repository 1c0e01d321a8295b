//! Interop with the real tools: OpenSSL accepts what we make, we read what OpenSSL and easy-rsa
//! make, and what they sign passes our checks. The tests need the tools, so the runner reports them as
//! ignored unless asked (`cargo test -- --include-ignored`, as scripts/test.sh does after
//! installing them); asked, a missing tool fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{at, import, pki, store_with_ca, tool};
use ovpn_pki::{
    ExportType, ImportOptions, KeySize, PeerRole, PkiError, Store, Template, VerifyError,
};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ovpn-pki-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn write(&self, file: &str, data: &[u8]) -> PathBuf {
        let p = self.path(file);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

fn run_ok(program: &Path, args: &[&str], dir: &Path) -> String {
    let out = run(program, args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{text}",
        program.display()
    );
    text
}

fn pki_dir() -> PathBuf {
    PathBuf::from(format!("{}/../testdata/pki", env!("CARGO_MANIFEST_DIR")))
}

/// 2025-01-01: the start of the test PKI, before the real clock (OpenSSL checks dates with it).
fn start() -> ovpn_pki::rustls_pki_types::UnixTime {
    at(1_735_689_600)
}

fn p256(name: &str, cn: &str, usage: &str) -> Template {
    let mut t = Template::new(name, cn);
    t.key_size = KeySize::Prime256v1;
    t.key_usage = usage.parse().unwrap();
    // Signed at `start()`: valid for as long as the test PKI.
    t.days_valid = 9131;
    t
}

#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn openssl_verifies_our_certificates() {
    let openssl = tool("openssl");
    let dir = pki_dir();
    let out = run_ok(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "server.crt",
            "client1.crt",
            "client2.crt",
        ],
        &dir,
    );
    assert!(
        out.contains("server.crt: OK") && out.contains("client1.crt: OK"),
        "{out}"
    );
    let out = run_ok(
        &openssl,
        &["verify", "-CAfile", "foreign-ca.crt", "foreign-client1.crt"],
        &dir,
    );
    assert!(out.contains("OK"), "{out}");
    // The negative cases fail in OpenSSL too, for the same reasons.
    for (file, why) in [
        ("expired-client1.crt", "certificate has expired"),
        ("notyet-client1.crt", "certificate is not yet valid"),
        (
            "foreign-client1.crt",
            "unable to get local issuer certificate",
        ),
    ] {
        let out = run(&openssl, &["verify", "-CAfile", "ca.crt", file], &dir);
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && text.contains(why),
            "{file}: {text}"
        );
    }
    let out = run(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-crl_check",
            "-CRLfile",
            "ca.crl",
            "revoked-client1.crt",
        ],
        &dir,
    );
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("certificate revoked"),
        "{text}"
    );
    run_ok(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-crl_check",
            "-CRLfile",
            "ca.crl",
            "client1.crt",
        ],
        &dir,
    );

    // Freshly signed here too, through an intermediate CA, with a fresh CRL.
    let scratch = Scratch::new("verify");
    let mut s = store_with_ca();
    s.add(p256("sub", "Sub CA", "key-cert-sign,crl-sign"))
        .unwrap();
    s.sign("sub", Some("ca"), None, start()).unwrap();
    s.add(p256(
        "leaf",
        "leaf",
        "digital-signature,key-encipherment,tls-client",
    ))
    .unwrap();
    s.sign("leaf", Some("sub"), None, start()).unwrap();
    s.add(p256(
        "gone",
        "gone",
        "digital-signature,key-encipherment,tls-client",
    ))
    .unwrap();
    s.sign("gone", Some("sub"), None, start()).unwrap();
    let crl = s.issued_revoke("gone", start()).unwrap().pem();
    scratch.write("ca.crt", &pki("ca.crt"));
    scratch.write("sub.crt", s.get("sub").unwrap().pem().as_bytes());
    scratch.write("leaf.crt", s.get("leaf").unwrap().pem().as_bytes());
    scratch.write("gone.crt", s.get("gone").unwrap().pem().as_bytes());
    scratch.write("sub.crl", crl.as_bytes());
    run_ok(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-untrusted",
            "sub.crt",
            "leaf.crt",
        ],
        &scratch.0,
    );
    let out = run_ok(
        &openssl,
        &["crl", "-in", "sub.crl", "-CAfile", "sub.crt", "-noout"],
        &scratch.0,
    );
    assert!(out.contains("verify OK"), "{out}");
    let out = run(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-untrusted",
            "sub.crt",
            "-crl_check",
            "-CRLfile",
            "sub.crl",
            "gone.crt",
        ],
        &scratch.0,
    );
    assert!(!out.status.success());
}

#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn openssl_shows_key_usages_and_validity() {
    let openssl = tool("openssl");
    let dir = pki_dir();
    let text = run_ok(
        &openssl,
        &["x509", "-in", "ca.crt", "-noout", "-text"],
        &dir,
    );
    for needle in [
        "Issuer: CN = OpenVPN CA",
        "Subject: CN = OpenVPN CA",
        "Not Before: Jan  1 00:00:00 2025 GMT",
        "Not After : Jan  1 00:00:00 2050 GMT",
        "Public-Key: (2048 bit)",
        "CA:TRUE",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "sha256WithRSAEncryption",
    ] {
        assert!(text.contains(needle), "ca.crt lacks {needle:?}:\n{text}");
    }
    let text = run_ok(
        &openssl,
        &["x509", "-in", "server.crt", "-noout", "-text"],
        &dir,
    );
    for needle in [
        "Subject: CN = ovpn-server",
        "Digital Signature, Key Encipherment",
        "TLS Web Server Authentication",
        "CA:FALSE",
        "DNS:ovpn-server",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(
            text.contains(needle),
            "server.crt lacks {needle:?}:\n{text}"
        );
    }
    let text = run_ok(
        &openssl,
        &["x509", "-in", "client2.crt", "-noout", "-text"],
        &dir,
    );
    assert!(
        text.contains("TLS Web Client Authentication") && text.contains("prime256v1"),
        "{text}"
    );

    // A template with subject fields, days-valid and a digest, signed now.
    let scratch = Scratch::new("x509");
    let mut s = store_with_ca();
    s.add_from_properties(&[
        ("name", "t"),
        ("common-name", "vpn.example.com"),
        ("country", "LV"),
        ("organization", "Example"),
        ("unit", "VPN"),
        ("days-valid", "30"),
        ("key-size", "prime256v1"),
        ("digest-algorithm", "sha512"),
        ("subject-alt-name", "DNS:vpn.example.com,IP:192.0.2.7"),
        (
            "key-usage",
            "digital-signature,key-agreement,tls-server,tls-client",
        ),
    ])
    .unwrap();
    s.sign("t", Some("ca"), None, start()).unwrap();
    scratch.write("t.crt", s.get("t").unwrap().pem().as_bytes());
    let text = run_ok(
        &openssl,
        &["x509", "-in", "t.crt", "-noout", "-text"],
        &scratch.0,
    );
    for needle in [
        "Subject: C = LV, O = Example, OU = VPN, CN = vpn.example.com",
        "Not Before: Jan  1 00:00:00 2025 GMT",
        "Not After : Jan 31 00:00:00 2025 GMT",
        "sha512WithRSAEncryption",
        "Digital Signature, Key Agreement",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        "DNS:vpn.example.com, IP Address:192.0.2.7",
    ] {
        assert!(text.contains(needle), "t.crt lacks {needle:?}:\n{text}");
    }
}

#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn openssl_decrypts_our_exported_key() {
    let openssl = tool("openssl");
    let scratch = Scratch::new("pkey");
    let mut s = store_with_ca();
    import(&mut s, "client1", true);
    import(&mut s, "client2", true);
    for name in ["client1", "client2"] {
        let files = s
            .export_certificate(name, "export-password", ExportType::Pem)
            .unwrap();
        for f in &files {
            scratch.write(&f.file_name, &f.contents);
        }
        let key = format!("cert_export_{name}.key");
        let crt = format!("cert_export_{name}.crt");
        let structure = run_ok(&openssl, &["asn1parse", "-in", &key], &scratch.0);
        for needle in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
            assert!(
                structure.contains(needle),
                "{key} lacks {needle}:\n{structure}"
            );
        }
        let from_key = run_ok(
            &openssl,
            &[
                "pkey",
                "-in",
                &key,
                "-passin",
                "pass:export-password",
                "-pubout",
            ],
            &scratch.0,
        );
        let from_crt = run_ok(
            &openssl,
            &["x509", "-in", &crt, "-noout", "-pubkey"],
            &scratch.0,
        );
        assert_eq!(
            from_key, from_crt,
            "{name}: the exported key belongs to the certificate"
        );
        let out = run(
            &openssl,
            &["pkey", "-in", &key, "-passin", "pass:wrong", "-noout"],
            &scratch.0,
        );
        assert!(!out.status.success(), "a wrong passphrase must fail");
    }
}

#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn openssl_reads_our_pkcs12() {
    let openssl = tool("openssl");
    let scratch = Scratch::new("p12");
    let mut s = store_with_ca();
    import(&mut s, "client1", true);
    let f = s
        .export_certificate("client1", "p12-pass", ExportType::Pkcs12)
        .unwrap();
    scratch.write(&f[0].file_name, &f[0].contents);
    let text = run_ok(
        &openssl,
        &[
            "pkcs12",
            "-in",
            "cert_export_client1.p12",
            "-passin",
            "pass:p12-pass",
            "-nodes",
        ],
        &scratch.0,
    );
    assert!(
        text.contains("BEGIN CERTIFICATE") && text.contains("BEGIN PRIVATE KEY"),
        "{text}"
    );
    assert!(text.contains("subject=CN = client1"), "{text}");
    // The PEM OpenSSL gives back imports into a fresh store as certificate plus key.
    let mut back = Store::new();
    let sum = back
        .import("back.pem", text.as_bytes(), &ImportOptions::default())
        .unwrap();
    assert_eq!(sum.private_keys_imported, 1);
    assert!(back.get("back").unwrap().has_private_key());
}

/// Keys and certificates made by `openssl req` / `openssl genpkey` and converted with
/// `openssl rsa|ec|pkcs8|x509`, in PEM and DER, plain and encrypted.
#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn we_import_what_openssl_makes() {
    let openssl = tool("openssl");
    let scratch = Scratch::new("import");
    let d = &scratch.0;
    run_ok(
        &openssl,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.crt",
            "-subj",
            "/CN=openssl-rsa",
            "-days",
            "30",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.key",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "ec.key",
            "-out",
            "ec.crt",
            "-subj",
            "/CN=openssl-ec",
            "-days",
            "30",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-aes-256-cbc",
            "-pass",
            "pass:secret",
            "-out",
            "enc.key",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "enc.key",
            "-passin",
            "pass:secret",
            "-out",
            "enc.crt",
            "-subj",
            "/CN=openssl-enc",
            "-days",
            "30",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-traditional",
            "-out",
            "rsa-pkcs1.key",
        ],
        d,
    );
    run_ok(&openssl, &["ec", "-in", "ec.key", "-out", "ec-sec1.key"], d);
    run_ok(
        &openssl,
        &[
            "pkey",
            "-in",
            "ec.key",
            "-outform",
            "DER",
            "-out",
            "ec-pkcs8.der",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "ec",
            "-in",
            "ec.key",
            "-outform",
            "DER",
            "-out",
            "ec-sec1.der",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "x509", "-in", "rsa.crt", "-outform", "DER", "-out", "rsa.der",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "ec.key",
            "-v2",
            "aes-128-cbc",
            "-v2prf",
            "hmacWithSHA1",
            "-passout",
            "pass:old",
            "-out",
            "ec-sha1.key",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "ec.key",
            "-v2",
            "des3",
            "-passout",
            "pass:des",
            "-out",
            "ec-des3.key",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "ec.key",
            "-outform",
            "DER",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:der",
            "-out",
            "ec-enc.der",
        ],
        d,
    );
    run_ok(
        &openssl,
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-aes256",
            "-traditional",
            "-passout",
            "pass:x",
            "-out",
            "rsa-legacy.key",
        ],
        d,
    );
    assert!(
        String::from_utf8_lossy(&scratch.read("rsa-pkcs1.key")).contains("BEGIN RSA PRIVATE KEY")
    );
    assert!(String::from_utf8_lossy(&scratch.read("ec-sec1.key")).contains("BEGIN EC PRIVATE KEY"));
    assert!(
        String::from_utf8_lossy(&scratch.read("enc.key")).contains("BEGIN ENCRYPTED PRIVATE KEY")
    );

    let cases: [(&str, &str, &str); 10] = [
        ("rsa.crt", "rsa.key", ""),
        ("rsa.der", "rsa-pkcs1.key", ""),
        ("ec.crt", "ec.key", ""),
        ("ec.crt", "ec-sec1.key", ""),
        ("ec.crt", "ec-pkcs8.der", ""),
        ("ec.crt", "ec-sec1.der", ""),
        ("enc.crt", "enc.key", "secret"),
        ("ec.crt", "ec-sha1.key", "old"),
        ("ec.crt", "ec-des3.key", "des"),
        ("ec.crt", "ec-enc.der", "der"),
    ];
    for (crt, key, pass) in cases {
        let mut s = Store::new();
        let sum = s
            .import(crt, &scratch.read(crt), &ImportOptions::default())
            .unwrap();
        assert_eq!(sum.certificates_imported, 1, "{crt}");
        let name = sum.names[0].clone();
        let opts = ImportOptions {
            passphrase: pass,
            ..ImportOptions::default()
        };
        let sum = s
            .import(key, &scratch.read(key), &opts)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(sum.private_keys_imported, 1, "{key}");
        assert!(s.get(&name).unwrap().has_private_key(), "{key}");
        let (_, k) = s.identity(&name).unwrap();
        assert!(matches!(
            k,
            ovpn_pki::rustls_pki_types::PrivateKeyDer::Pkcs8(_)
        ));
        if !pass.is_empty() {
            let mut s2 = Store::new();
            s2.import(crt, &scratch.read(crt), &ImportOptions::default())
                .unwrap();
            let bad = ImportOptions {
                passphrase: "nope",
                ..ImportOptions::default()
            };
            let e = s2.import(key, &scratch.read(key), &bad).unwrap_err();
            assert_eq!(e, PkiError::WrongPassphrase { file: key.into() }, "{key}");
        }
    }
    // OpenSSL's pre-PKCS#8 encryption is refused with a way out.
    let mut s = Store::new();
    s.import(
        "rsa.crt",
        &scratch.read("rsa.crt"),
        &ImportOptions::default(),
    )
    .unwrap();
    let e = s
        .import(
            "rsa-legacy.key",
            &scratch.read("rsa-legacy.key"),
            &ImportOptions {
                passphrase: "x",
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
}

/// An OpenSSL-made CA imported with its key signs certificates OpenSSL accepts (the issuer name
/// is reproduced byte for byte).
#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn we_sign_with_an_openssl_ca() {
    let openssl = tool("openssl");
    let scratch = Scratch::new("osslca");
    let d = &scratch.0;
    run_ok(
        &openssl,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "30",
            "-subj",
            "/C=LV/ST=Riga/O=Example Org/OU=IT/CN=OpenSSL CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        d,
    );
    let mut s = Store::new();
    s.import("ca.crt", &scratch.read("ca.crt"), &ImportOptions::default())
        .unwrap();
    s.import("ca.key", &scratch.read("ca.key"), &ImportOptions::default())
        .unwrap();
    assert!(s.get("ca").unwrap().trusted());
    // Issued "now" by the real clock's standard: OpenSSL checks the dates against it.
    #[allow(
        clippy::disallowed_methods,
        reason = "OpenSSL verifies with the real clock"
    )]
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = at(wall - 3600);
    s.add(p256("c", "client", "digital-signature,tls-client"))
        .unwrap();
    s.sign("c", Some("ca"), None, now).unwrap();
    s.add(p256("r", "revoked", "digital-signature,tls-client"))
        .unwrap();
    s.sign("r", Some("ca"), None, now).unwrap();
    let crl = s.issued_revoke("r", now).unwrap().pem();
    scratch.write("c.crt", s.get("c").unwrap().pem().as_bytes());
    scratch.write("r.crt", s.get("r").unwrap().pem().as_bytes());
    scratch.write("ca.crl", crl.as_bytes());
    run_ok(&openssl, &["verify", "-CAfile", "ca.crt", "c.crt"], d);
    run_ok(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-crl_check",
            "-CRLfile",
            "ca.crl",
            "c.crt",
        ],
        d,
    );
    let out = run(
        &openssl,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-crl_check",
            "-CRLfile",
            "ca.crl",
            "r.crt",
        ],
        d,
    );
    assert!(!out.status.success());
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    assert_eq!(
        v.verify_chain(&s.chain("c").unwrap(), now)
            .unwrap()
            .common_name,
        "client"
    );
}

/// An easy-rsa PKI (what most OpenVPN users have): CA, server, clients (one with an encrypted
/// key), a revoked client and the CRL.
#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn we_import_an_easy_rsa_pki() {
    let easyrsa = [
        "/usr/share/easy-rsa/easyrsa",
        "/usr/bin/easyrsa",
        "/usr/local/bin/easyrsa",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    let easyrsa = easyrsa.expect("easy-rsa is not installed (scripts/setup.sh installs it)");
    tool("openssl");
    let scratch = Scratch::new("easyrsa");
    let d = &scratch.0;
    let pki_path = scratch.path("pki");
    let er = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(&easyrsa)
            .args(args)
            .current_dir(d)
            .env("EASYRSA_BATCH", "1")
            .env("EASYRSA_PKI", &pki_path)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "easyrsa {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    er(&["init-pki"], &[]);
    er(
        &["build-ca", "nopass"],
        &[("EASYRSA_REQ_CN", "Easy-RSA CA")],
    );
    er(&["build-server-full", "server", "nopass"], &[]);
    er(&["build-client-full", "client1", "nopass"], &[]);
    er(
        &["build-client-full", "client2"],
        &[
            ("EASYRSA_PASSOUT", "pass:secret"),
            ("EASYRSA_PASSIN", "pass:secret"),
        ],
    );
    er(&["build-client-full", "client3", "nopass"], &[]);
    er(&["revoke", "client3"], &[]);
    er(&["gen-crl"], &[]);

    let read =
        |rel: &str| std::fs::read(pki_path.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut s = Store::new();
    s.import("ca.crt", &read("ca.crt"), &ImportOptions::default())
        .unwrap();
    for name in ["server", "client1"] {
        s.import(
            &format!("{name}.crt"),
            &read(&format!("issued/{name}.crt")),
            &ImportOptions::default(),
        )
        .unwrap();
        s.import(
            &format!("{name}.key"),
            &read(&format!("private/{name}.key")),
            &ImportOptions::default(),
        )
        .unwrap();
        assert!(s.get(name).unwrap().has_private_key(), "{name}");
    }
    s.import(
        "client2.crt",
        &read("issued/client2.crt"),
        &ImportOptions::default(),
    )
    .unwrap();
    let e = s
        .import(
            "client2.key",
            &read("private/client2.key"),
            &ImportOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e,
        PkiError::PassphraseRequired {
            file: "client2.key".into()
        }
    );
    s.import(
        "client2.key",
        &read("private/client2.key"),
        &ImportOptions {
            passphrase: "secret",
            ..Default::default()
        },
    )
    .unwrap();
    assert!(s.get("client2").unwrap().has_private_key());
    s.import("crl.pem", &read("crl.pem"), &ImportOptions::default())
        .unwrap();
    assert_eq!(s.crl("ca").unwrap().revoked().len(), 1);

    #[allow(
        clippy::disallowed_methods,
        reason = "easy-rsa issued the certificates at the real time"
    )]
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = at(wall + 60);
    let servers = s.peer_verifier(PeerRole::TlsServer).unwrap();
    let clients = s.peer_verifier(PeerRole::TlsClient).unwrap();
    assert_eq!(
        servers
            .verify_chain(&s.chain("server").unwrap(), now)
            .unwrap()
            .common_name,
        "server"
    );
    assert_eq!(
        clients
            .verify_chain(&s.chain("client1").unwrap(), now)
            .unwrap()
            .common_name,
        "client1"
    );
    assert_eq!(
        clients
            .verify_chain(&s.chain("client2").unwrap(), now)
            .unwrap()
            .common_name,
        "client2"
    );
    assert!(matches!(
        clients.verify_chain(&s.chain("server").unwrap(), now),
        Err(VerifyError::WrongKeyUsage { .. })
    ));
    let revoked = std::fs::read_dir(pki_path.join("revoked/certs_by_serial"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    s.import(
        "client3.crt",
        &std::fs::read(revoked).unwrap(),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        clients
            .verify_chain(&s.chain("client3").unwrap(), now)
            .unwrap_err(),
        VerifyError::Revoked
    );
    assert!(s.flags("client3", now).unwrap().revoked);
    // The easy-rsa CA key signs in our store too.
    s.import("ca.key", &read("private/ca.key"), &ImportOptions::default())
        .unwrap();
    s.add(p256("ours", "ours", "digital-signature,tls-client"))
        .unwrap();
    s.sign("ours", Some("ca"), None, at(wall - 60)).unwrap();
    assert!(clients.verify_chain(&s.chain("ours").unwrap(), now).is_ok());
}

/// `/certificate import` of PKCS#12 files made by `openssl pkcs12 -export`, in its default
/// (PBES2, AES-256) and `-legacy` (3DES, RC2) algorithms: the key and its chain arrive; a wrong
/// passphrase says so.
#[test]
#[ignore = "needs openssl (and easy-rsa): scripts/test.sh runs it with --include-ignored"]
fn we_import_pkcs12_from_openssl() {
    let openssl = tool("openssl");
    let scratch = Scratch::new("p12-in");
    scratch.write("c.crt", &pki("client1.crt"));
    scratch.write("c.key", &pki("client1.key"));
    scratch.write("ca.crt", &pki("ca.crt"));
    for (name, legacy) in [("default.p12", false), ("legacy.p12", true)] {
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            "c.key",
            "-in",
            "c.crt",
            "-certfile",
            "ca.crt",
            "-passout",
            "pass:p12-pass",
            "-out",
            name,
        ];
        if legacy {
            args.push("-legacy");
        }
        run_ok(&openssl, &args, &scratch.0);
        let data = scratch.read(name);
        let mut s = Store::new();
        let opts = ImportOptions {
            passphrase: "p12-pass",
            ..ImportOptions::default()
        };
        let sum = s.import(name, &data, &opts).unwrap();
        assert_eq!(sum.private_keys_imported, 1, "{name}");
        assert_eq!(
            sum.certificates_imported, 2,
            "{name}: the client and its CA"
        );
        let client = s
            .certificates()
            .find(|c| c.info().subject.common_name == "client1")
            .unwrap();
        assert!(client.has_private_key(), "{name}");
        let wrong = ImportOptions {
            passphrase: "nope",
            ..ImportOptions::default()
        };
        assert!(
            matches!(
                Store::new().import(name, &data, &wrong),
                Err(PkiError::WrongPassphrase { .. })
            ),
            "{name}"
        );
    }
}
