//! Generates the project's committed test PKI (`testdata/pki/`) with ovpn-pki itself:
//!
//! ```text
//! cargo run -p ovpn-pki --example make-test-pki -- testdata/pki
//! ```
//!
//! It was run once; the files are committed so that tests never generate keys. The dates are
//! fixed (validity starts 2025-01-01 00:00:00 UTC) and the good certificates last 25 years, so
//! the tests do not rot before 2049. Running it again makes new keys and serials.

use std::path::PathBuf;

use ovpn_pki::rustls_pki_types::UnixTime;
use ovpn_pki::{KeySize, Store, Template};
use std::time::Duration;

/// 2025-01-01 00:00:00 UTC.
const START: u64 = 1_735_689_600;
/// 25 years.
const DAYS: u32 = 9_131;

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

fn template(name: &str, cn: &str, size: KeySize, usage: &str, days: u32) -> Template {
    let mut t = Template::new(name, cn);
    t.key_size = size;
    t.key_usage = usage.parse().expect("key usage");
    t.days_valid = days;
    t
}

const CLIENT: &str = "digital-signature,key-encipherment,tls-client";
const SERVER: &str = "digital-signature,key-encipherment,tls-server";
const CA: &str = "key-cert-sign,crl-sign";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: make-test-pki OUTDIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let now = at(START);
    let mut s = Store::new();
    // 25-year CRLs too.
    s.settings_mut().crl_days_valid = DAYS;

    let sign = |s: &mut Store, t: Template, ca: &str, when: UnixTime| {
        let name = t.name.clone();
        s.add(t).expect("add");
        s.sign(&name, Some(ca), None, when).expect("sign");
        eprintln!("signed {name}");
    };

    sign(
        &mut s,
        template("ca", "OpenVPN CA", KeySize::Rsa2048, CA, DAYS),
        "ca",
        now,
    );
    let mut server = template("server", "ovpn-server", KeySize::Rsa2048, SERVER, DAYS);
    server.subject_alt_names = vec!["DNS:ovpn-server".parse().expect("san")];
    sign(&mut s, server, "ca", now);
    sign(
        &mut s,
        template("client1", "client1", KeySize::Rsa2048, CLIENT, DAYS),
        "ca",
        now,
    );
    sign(
        &mut s,
        template("client2", "client2", KeySize::Prime256v1, CLIENT, DAYS),
        "ca",
        now,
    );
    sign(
        &mut s,
        template("foreign-ca", "Foreign CA", KeySize::Prime256v1, CA, DAYS),
        "foreign-ca",
        now,
    );
    sign(
        &mut s,
        template(
            "foreign-client1",
            "client1",
            KeySize::Prime256v1,
            CLIENT,
            DAYS,
        ),
        "foreign-ca",
        now,
    );
    // Valid for one year from 2000-01-01: expired long ago.
    sign(
        &mut s,
        template(
            "expired-client1",
            "expired-client1",
            KeySize::Prime256v1,
            CLIENT,
            365,
        ),
        "ca",
        at(946_684_800),
    );
    // Valid from 2090-01-01: not yet valid for decades.
    sign(
        &mut s,
        template(
            "notyet-client1",
            "notyet-client1",
            KeySize::Prime256v1,
            CLIENT,
            365,
        ),
        "ca",
        at(3_786_912_000),
    );
    sign(
        &mut s,
        template(
            "revoked-client1",
            "revoked-client1",
            KeySize::Prime256v1,
            CLIENT,
            DAYS,
        ),
        "ca",
        now,
    );
    // Key usage for TLS but no extended key usage: `remote-cert-tls server` must refuse it.
    sign(
        &mut s,
        template(
            "server-no-eku",
            "ovpn-server",
            KeySize::Prime256v1,
            "digital-signature,key-encipherment",
            DAYS,
        ),
        "ca",
        now,
    );
    s.issued_revoke("revoked-client1", now)?;

    let names: Vec<String> = s.certificates().map(|c| c.name().to_owned()).collect();
    for n in &names {
        let c = s.get(n).ok_or("missing")?;
        std::fs::write(out.join(format!("{n}.crt")), c.pem())?;
        let key = c.private_key_pem().ok_or("no key")?;
        std::fs::write(out.join(format!("{n}.key")), key.as_bytes())?;
    }
    std::fs::write(out.join("ca.crl"), s.crl("ca").ok_or("no CRL")?.pem())?;
    print!("{}", s.print_detail(now));
    Ok(())
}
