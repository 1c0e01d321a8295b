//! The RouterOS configuration scripts: the OpenVPN page's commands as written give the server and
//! client configurations they describe; every problem names its line; firewall lines warn.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use ovpn_crypto::{Cipher, Digest};
use ovpn_examples::script::{Env, Failure, Problem, Program, Setup, interpret};
use ovpn_pki::PeerRole;
use ovpn_pki::rustls_pki_types::UnixTime;
use ovpn_ppp::{AddressSpec, AuthRequest, Authenticator, Service};
use ovpn_session::Transport;
use ovpn_session::tls_config::TlsVersion;

fn env(script_dir: &Path, state_dir: &Path) -> Env {
    Env {
        script_dir: script_dir.to_owned(),
        state_dir: state_dir.to_owned(),
        // 2026-11-27
        now: UnixTime::since_unix_epoch(Duration::from_secs(1_795_737_600)),
        allow_outside_paths: false,
    }
}

fn server(script: &str, state: &Path) -> Result<Setup, Failure> {
    interpret(Program::Server, script, &env(state, state))
}

fn errors(r: Result<Setup, Failure>) -> Vec<Problem> {
    match r {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.errors,
    }
}

/// The server side of the RouterOS OpenVPN page, in its order, as written (RSA 2048 keys).
const PAGE_SERVER: &str = r#"/certificate
add name=ca-template common-name="OpenVPN CA" days-valid=3650 \
    key-size=2048 key-usage=key-cert-sign,crl-sign
sign ca-template ca=ca-template name=ca

/certificate
add name=server-template common-name="ovpn-server" days-valid=3650 \
    key-size=2048 key-usage=digital-signature,key-encipherment,tls-server
sign server-template ca=ca name=server

/certificate
add name=client1-template common-name="client1" days-valid=3650 \
    key-size=2048 key-usage=digital-signature,key-encipherment,tls-client
sign client1-template ca=ca name=client1

/certificate export-certificate ca export-passphrase=""
/certificate export-certificate client1 export-passphrase="export-password"

/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254

/ppp profile add name=ovpn-profile \
    local-address=10.8.0.1 \
    remote-address=ovpn-pool \
    dns-server=8.8.8.8 \
    use-compression=no \
    use-encryption=required

/ppp secret add name=client1 password=StrongPassword1 \
    profile=ovpn-profile service=ovpn

/interface ovpn-server server set \
    enabled=yes \
    port=1194 \
    mode=ip \
    protocol=tcp \
    certificate=server \
    require-client-certificate=yes \
    auth=sha256 \
    cipher=aes256-cbc \
    max-mtu=1500

/interface ovpn-server server set \
    enabled=yes \
    port=1194 \
    protocol=udp \
    certificate=server \
    require-client-certificate=yes \
    auth=sha256 \
    cipher=aes256-cbc \
    keepalive-timeout=30

/ip firewall filter
add chain=input protocol=udp dst-port=1194 action=accept comment="OpenVPN UDP server"

/interface ovpn-server server set max-mtu=1420

/ip firewall mangle
add chain=forward action=change-mss new-mss=1380 protocol=tcp tcp-flags=syn \
    out-interface-list=ovpn tcp-mss=1381-65535 comment="Clamp MSS for OVPN UDP"
add chain=forward action=change-mss new-mss=1380 protocol=tcp tcp-flags=syn \
    in-interface-list=ovpn tcp-mss=1381-65535 comment="Clamp MSS return for OVPN UDP"

/interface ovpn-server server set keepalive-timeout=30

/interface list add name=ovpn
/interface list member add interface=ovpn-incoming1 list=ovpn
/ip firewall nat add chain=srcnat out-interface=ether1 \
    src-address=10.8.0.0/24 action=masquerade \
    comment="Masquerade OpenVPN clients"
"#;

/// The client side of the page; `connect-to=vpn.example.com` becomes an address (the test
/// machine resolves no names).
const PAGE_CLIENT: &str = r#"/certificate import file-name=cert_export_ca.crt passphrase=""
/certificate import file-name=cert_export_client1.crt passphrase=""
/certificate import file-name=cert_export_client1.key passphrase="export-password"

/interface ovpn-client add \
    name=ovpn-to-hq \
    connect-to=192.0.2.1 \
    port=1194 \
    protocol=udp \
    user=client1 \
    password=StrongPassword1 \
    certificate=client1 \
    ca-certificate=ca \
    cipher=aes256-cbc \
    auth=sha256 \
    add-default-route=no \
    disabled=no

/interface ovpn-client set [find] keepalive-timeout=30
/ip route add dst-address=192.168.1.0/24 gateway=ovpn-to-hq
"#;

#[test]
fn the_routeros_page_configures_server_and_client() {
    let state = tempfile::tempdir().unwrap();
    let s = server(PAGE_SERVER, state.path()).unwrap();

    // The server: the later `set`s override the earlier ones, as in RouterOS.
    let set = &s.servers[0].settings;
    assert!(set.enabled);
    assert_eq!(set.port, 1194);
    assert_eq!(set.transport, Transport::Udp);
    assert_eq!(set.certificate.as_deref(), Some("server"));
    assert!(set.require_client_certificate);
    assert_eq!(set.auths, [Digest::Sha256]);
    assert_eq!(set.ciphers, [Cipher::Aes256Cbc]);
    assert_eq!(set.max_mtu, 1420);
    assert_eq!(set.keepalive_timeout, Some(Duration::from_secs(30)));
    let c = &s.servers[0].config;
    assert_eq!(c.transport, Transport::Udp);
    assert_eq!(c.ciphers, [Cipher::Aes256Cbc]);
    assert_eq!(c.auths, [Digest::Sha256]);
    assert_eq!(c.max_mtu, 1420);
    assert!(c.client_check.is_some(), "require-client-certificate=yes");
    assert_eq!(
        c.identity.chain.len(),
        1,
        "the server certificate (the root is not sent)"
    );

    // PPP: the page's secret logs in and gets the profile's addresses.
    let grant = s
        .ppp
        .authenticate(&AuthRequest::new(
            "client1",
            "StrongPassword1",
            Service::Ovpn,
            "192.0.2.2",
        ))
        .unwrap();
    assert_eq!(
        grant.remote_address,
        Some(AddressSpec::Pool("ovpn-pool".into()))
    );
    assert_eq!(
        grant.local_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 8, 0, 1)))
    );
    assert_eq!(s.pools.stats("ovpn-pool").unwrap().total, 253);

    // The firewall and interface-list lines are skipped with a warning naming their line.
    let warned: Vec<usize> = s.warnings.iter().filter_map(|w| w.line).collect();
    assert_eq!(warned, [53, 58, 60, 65, 66, 67]);
    assert!(
        s.warnings[0]
            .message
            .contains("/ip firewall filter add skipped")
    );

    // The exports, and the generated certificates kept for the next run.
    let mut names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "cert_export_ca.crt",
            "cert_export_client1.crt",
            "cert_export_client1.key",
            "certificates/ca.pem",
            "certificates/client1.pem",
            "certificates/server.pem",
        ]
    );
    // A key file left with wide permissions by an earlier run, and a state directory anyone
    // can read: both are tightened.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let key = state.path().join("cert_export_client1.key");
    std::fs::write(&key, b"old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(state.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    s.write_files(state.path()).unwrap();
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(state.path()), 0o700);
    assert_eq!(mode(&state.path().join("certificates")), 0o700);

    // The client, from a directory of its own, imports what the server exported (found in the
    // state directory).
    let client_dir = tempfile::tempdir().unwrap();
    let cl = interpret(
        Program::Client,
        PAGE_CLIENT,
        &env(client_dir.path(), state.path()),
    )
    .unwrap();
    let settings = cl.client.as_ref().unwrap();
    assert_eq!(settings.name, "ovpn-to-hq");
    assert_eq!(
        settings.routes,
        ["192.168.1.0/24".parse::<ipnet::Ipv4Net>().unwrap()]
    );
    let cc = cl.client_config.as_ref().unwrap();
    assert_eq!(cc.name, "ovpn-to-hq");
    assert_eq!(cc.server, "192.0.2.1:1194".parse().unwrap());
    assert_eq!(cc.transport, Transport::Udp);
    assert_eq!(cc.user, "client1");
    assert_eq!(cc.password.as_str(), "StrongPassword1");
    assert_eq!((cc.cipher, cc.auth), (Cipher::Aes256Cbc, Digest::Sha256));
    assert!(cc.negotiate, "ncp=yes unless the script says ncp=no");
    assert!(!cc.add_default_route);
    assert_eq!(cc.keepalive_timeout, Some(Duration::from_secs(30)));
    assert_eq!(cc.tls_version, TlsVersion::Any);
    assert!(cc.identity.is_some(), "certificate=client1 with its key");
    assert!(cl.store.get("client1").unwrap().has_private_key());
    assert!(cl.store.get("ca").unwrap().trusted());

    // The client's store accepts the server's certificate as a TLS server, and the server's
    // the client's as a TLS client.
    let (server_chain, _) = s.store.identity("server").unwrap();
    cl.store
        .verify_peer(
            &server_chain,
            PeerRole::TlsServer,
            env(state.path(), state.path()).now,
        )
        .unwrap();
    let (client_chain, _) = cl.store.identity("client1").unwrap();
    s.store
        .verify_peer(
            &client_chain,
            PeerRole::TlsClient,
            env(state.path(), state.path()).now,
        )
        .unwrap();

    // A second run reuses the certificates: the client's imported chain still verifies.
    let again = server(PAGE_SERVER, state.path()).unwrap();
    assert_eq!(again.kept, ["ca", "server", "client1"]);
    let (server_chain, _) = again.store.identity("server").unwrap();
    cl.store
        .verify_peer(
            &server_chain,
            PeerRole::TlsServer,
            env(state.path(), state.path()).now,
        )
        .unwrap();
    assert!(again.store.get("ca").unwrap().trusted());
    assert!(!again.store.get("server").unwrap().trusted());
}

/// A small valid server with P-256 keys, to which tests add lines.
const SMALL: &str = r#"/certificate
add name=ca-t common-name=CA key-size=prime256v1 key-usage=key-cert-sign,crl-sign
sign ca-t name=ca
add name=srv-t common-name=localhost key-size=prime256v1 key-usage=digital-signature,tls-server
sign srv-t ca=ca name=server
add name=c1-t common-name=client1 key-size=prime256v1 key-usage=digital-signature,tls-client
sign c1-t ca=ca name=client1
/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254
/ppp profile add name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool
/ppp secret add name=client1 password=pw profile=ovpn-profile service=ovpn
/interface ovpn-server server set enabled=yes protocol=udp certificate=server cipher=aes256-gcm,aes256-cbc auth=sha256
"#;

#[test]
fn every_problem_is_reported_with_its_line() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{SMALL}\
/interface ovpn-server server set colour=blue
/system identity set name=router
/ip pool add name=bad ranges=10.9.0.9-10.9.0.1
/ppp secret add name=client2 password=x profile=nope
/certificate import file-name=missing.crt
/certificate sign no-such-template
/interface ovpn-client add connect-to=192.0.2.1 user=x
/interface ovpn-server server set cipher=des,aes256-cbc keepalive-timeout=soon
"
    );
    let errs = errors(server(&script, state.path()));
    let lines: Vec<Option<usize>> = errs.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [12, 13, 14, 15, 16, 17, 18, 19, 19].map(Some),
        "{errs:#?}"
    );
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        text[0].starts_with("line 12: colour=blue: unknown property"),
        "{}",
        text[0]
    );
    assert!(text[1].contains("/system identity set is not something ovpn-server does"));
    assert!(text[4].contains("file missing.crt not found"));
    assert!(text[6].contains("an ovpn-client command"));
    assert!(text.iter().any(|t| t.contains("unknown cipher \"des\"")));
    assert!(text.iter().any(|t| t.contains("keepalive-timeout=soon")));
}

#[test]
fn syntax_errors_are_reported_by_line_with_everything_else() {
    let state = tempfile::tempdir().unwrap();
    let errs = errors(server(
        "/ip pool add name=a ranges=10.0.0.1\n/ppp secret add name=\"x\n/ip pool add \\",
        state.path(),
    ));
    // One bad line hides nothing: the lines that parse are checked too.
    assert_eq!(
        errs.iter().map(|e| e.line).collect::<Vec<_>>(),
        [Some(2), Some(3), None]
    );
    assert!(errs[2].message.contains("nothing to run"), "{errs:#?}");
}

#[test]
fn a_server_that_cannot_run_says_why() {
    let state = tempfile::tempdir().unwrap();
    // No `set` at all.
    let errs = errors(server(
        "/ip pool add name=p ranges=10.0.0.1-10.0.0.9\n",
        state.path(),
    ));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, None);
    assert!(errs[0].message.contains("nothing to run"));

    // enabled=no (RouterOS's default), a missing default-profile, a profile naming no pool.
    let script = SMALL
        .replace("set enabled=yes", "set enabled=no")
        .replace("remote-address=ovpn-pool", "remote-address=no-pool")
        + "/interface ovpn-server server set default-profile=gone\n";
    let errs = errors(server(&script, state.path()));
    let found: Vec<(Option<usize>, bool)> = errs
        .iter()
        .map(|e| (e.line, e.message.contains("not enabled")))
        .collect();
    assert!(found.contains(&(Some(11), true)), "{errs:#?}");
    assert!(
        errs.iter()
            .any(|e| e.line == Some(12) && e.message.contains("default-profile=gone"))
    );
    assert!(errs.iter().any(|e| {
        e.line == Some(9)
            && e.message
                .contains("remote-address=no-pool names no /ip pool")
    }));

    // A bridge= with no ethernet-mode server is accepted with a warning naming it.
    let s = server(
        &SMALL.replace(
            "remote-address=ovpn-pool",
            "remote-address=ovpn-pool bridge=br-lan",
        ),
        state.path(),
    )
    .unwrap();
    assert!(
        s.warnings
            .iter()
            .any(|w| w.line == Some(9) && w.message.contains("bridge=br-lan has no effect here")),
        "{:#?}",
        s.warnings
    );
    // A limit of TCP connections on a UDP server is accepted with a warning naming it.
    let s = server(
        &SMALL.replace(
            "protocol=udp",
            "protocol=udp max-connections=10 max-clients=10",
        ),
        state.path(),
    )
    .unwrap();
    let idle: Vec<&str> = s
        .warnings
        .iter()
        .filter(|w| w.line == Some(11))
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(
        idle,
        [
            "ovpn-server1: max-connections has no effect here: it bounds TCP connections; protocol=udp"
        ],
        "{:#?}",
        s.warnings
    );
    assert_eq!(s.servers[0].config.max_clients, 10);
    let tap = server(
        &SMALL
            .replace(
                "remote-address=ovpn-pool",
                "remote-address=ovpn-pool bridge=br-lan",
            )
            .replace("protocol=udp", "protocol=udp mode=ethernet"),
        state.path(),
    )
    .unwrap();
    assert!(!tap.warnings.iter().any(|w| w.message.contains("bridge=")));

    // No certificate (in TAP mode, which is accepted).
    let errs = errors(server(
        &SMALL.replace("certificate=server ", "mode=ethernet "),
        state.path(),
    ));
    assert!(!errs.iter().any(|e| e.message.contains("mode=ethernet")));
    assert!(
        errs.iter()
            .any(|e| e.message.contains("needs a certificate"))
    );

    // require-client-certificate without any trusted CA.
    let errs = errors(server(
        "/certificate add name=t common-name=s key-size=prime256v1 key-usage=tls-server\n\
         /certificate sign t name=server\n\
         /certificate set server trusted=no\n\
         /interface ovpn-server server set enabled=yes certificate=server require-client-certificate=yes\n",
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(4) && e.message.contains("no trusted CA")),
        "{errs:#?}"
    );
}

#[test]
fn server_extras_profiles_and_warnings() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{}\
/interface ovpn-server server set default-profile=ovpn-profile redirect-gateway=def1 push-routes=192.168.88.0/24
/interface ovpn-server server export-client-configuration client-certificate=client1 server-address=198.51.100.7
/certificate sign x-t ca-crl-host=127.0.0.1
",
        SMALL.replace(
            "/ip pool",
            "/certificate add name=x-t common-name=x key-size=prime256v1\n/ip pool"
        )
        .replace(" profile=ovpn-profile service=ovpn", " service=ovpn")
    );
    let s = server(&script, state.path()).unwrap();
    // The secret has no profile: the server's default-profile gives it the pool and address.
    let c = &s.servers[0].config;
    assert_eq!(c.default_profile, "ovpn-profile");
    let g = s
        .ppp
        .authenticate_under(
            &AuthRequest::new("client1", "pw", Service::Ovpn, "x"),
            &c.default_profile,
        )
        .unwrap();
    assert_eq!(g.profile, "ovpn-profile");
    assert_eq!(
        g.remote_address,
        Some(AddressSpec::Pool("ovpn-pool".into()))
    );
    let c = &s.servers[0].config;
    assert!(c.redirect_gateway);
    assert_eq!(c.push_routes.len(), 1);
    assert_eq!(c.ciphers, [Cipher::Aes256Gcm, Cipher::Aes256Cbc]);

    // The .ovpn profile for OpenVPN 2.6.
    let ovpn = s.files.iter().find(|f| f.name == "client1.ovpn").unwrap();
    assert!(ovpn.private);
    let text = String::from_utf8(ovpn.contents.clone()).unwrap();
    for line in [
        "remote 198.51.100.7 1194",
        "proto udp",
        "data-ciphers AES-256-GCM",
        "auth SHA256",
        "remote-cert-tls server",
        "<ca>",
        "<cert>",
        "<key>",
    ] {
        assert!(
            text.contains(&format!("{line}\n")),
            "{line} missing:\n{text}"
        );
    }
    assert!(!text.contains("ncp-disable"));

    // ca-crl-host is ignored with a warning naming the line.
    assert!(
        s.warnings
            .iter()
            .any(|w| w.line == Some(15) && w.message.contains("ca-crl-host")),
        "{:#?}",
        s.warnings
    );
}

#[test]
fn client_scripts() {
    let state = tempfile::tempdir().unwrap();
    let s = server(
        &format!(
            "{SMALL}/certificate export-certificate ca\n/certificate export-certificate client1 export-passphrase=secret12\n"
        ),
        state.path(),
    )
    .unwrap();
    s.write_files(state.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Absolute file names work too; the key is found by its public key.
    std::fs::copy(
        state.path().join("cert_export_client1.key"),
        dir.path().join("k.pem"),
    )
    .unwrap();
    // An absolute file-name= needs the operator's --allow-outside-paths.
    let allowed = Env {
        allow_outside_paths: true,
        ..env(dir.path(), state.path())
    };
    let client = |script: &str| interpret(Program::Client, script, &allowed);
    let imports = format!(
        "/certificate import file-name={}\n/certificate import file-name=cert_export_client1.crt\n/certificate import file-name=k.pem passphrase=secret12\n",
        state.path().join("cert_export_ca.crt").display()
    );
    for outside in [
        state
            .path()
            .join("cert_export_ca.crt")
            .display()
            .to_string(),
        "../elsewhere/ca.crt".to_owned(),
    ] {
        let errs = errors(interpret(
            Program::Client,
            &format!("/certificate import file-name={outside}\n"),
            &env(dir.path(), state.path()),
        ));
        assert!(
            errs.iter()
                .any(|e| e.line == Some(1) && e.message.contains("outside the script's folder")),
            "{outside}: {errs:#?}"
        );
    }

    let ok = client(&format!(
        "{imports}/interface ovpn-client add connect-to=127.0.0.1 port=1195 protocol=udp user=client1 password=pw \
         certificate=client1 cipher=aes256-gcm ncp=no disabled=no\n\
         /interface ovpn-client add name=spare connect-to=127.0.0.1 user=u disabled=yes\n"
    ))
    .unwrap();
    let c = ok.client_config.as_ref().unwrap();
    assert_eq!(c.name, "ovpn-out1", "RouterOS's default name");
    assert_eq!(c.server, "127.0.0.1:1195".parse().unwrap());
    assert!(!c.negotiate, "ncp=no");
    assert_eq!(c.cipher, Cipher::Aes256Gcm);
    assert!(c.identity.is_some());
    assert!(
        ok.warnings
            .iter()
            .any(|w| w.line == Some(5) && w.message.contains("disabled"))
    );

    // verify-server-certificate=yes: the server's common name must be the connect-to name.
    let server_cert = s.store.get("server").unwrap().der().clone();
    let check = |connect_to: &str| {
        let c = client(&format!(
            "{imports}/interface ovpn-client add connect-to={connect_to} user=client1 password=pw \
             certificate=client1 verify-server-certificate=yes disabled=no\n"
        ))
        .unwrap();
        let now = ovpn_pki::rustls_pki_types::UnixTime::since_unix_epoch(
            std::time::Duration::from_secs(1_800_000_000),
        );
        c.client_config
            .unwrap()
            .check
            .check(&server_cert, &[], now)
            .map_err(|e| e.to_string())
    };
    assert_eq!(check("LOCALHOST"), Ok(()));
    let refused = check("127.0.0.1").unwrap_err();
    assert!(
        refused
            .starts_with("certificate verification failed: the certificate is for \"localhost\""),
        "{refused}"
    );

    // Two enabled clients (both run, one with a certificate that is not there); a route
    // through an unknown interface; server commands; a bad property.
    let errs = errors(client(&format!(
        "{imports}/interface ovpn-client add connect-to=127.0.0.1 user=a certificate=nobody disabled=no\n\
         /interface ovpn-client add name=second connect-to=127.0.0.1 user=b disabled=no\n\
         /ip route add dst-address=10.1.0.0/16 gateway=ether1\n\
         /ppp secret add name=x password=y\n\
         /interface ovpn-client set [find] cipher=aes256-gcm,aes128-gcm\n"
    )));
    let lines: Vec<Option<usize>> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, [4, 6, 7, 8].map(Some), "{errs:#?}");
    assert!(errs[0].message.contains("certificate=nobody"));
    assert!(
        errs[1].message.contains("gateway=ether1") && errs[1].message.contains("ovpn-out1, second")
    );
    assert!(errs[2].message.contains("an ovpn-server command"));
    assert!(errs[3].message.contains("one cipher"));
    // Several interfaces run in one program, the disabled ones too (they wait for `enable`),
    // each with its routes.
    let ok = client(&format!(
        "{imports}/interface ovpn-client add connect-to=127.0.0.1 user=a disabled=no\n\
         /interface ovpn-client add name=second connect-to=127.0.0.2 user=b\n\
         /ip route add dst-address=10.1.0.0/16 gateway=second\n"
    ))
    .unwrap();
    let names: Vec<(&str, bool, usize)> = ok
        .clients
        .iter()
        .map(|c| {
            (
                c.settings.name.as_str(),
                c.settings.disabled,
                c.settings.routes.len(),
            )
        })
        .collect();
    assert_eq!(names, [("ovpn-out1", false, 0), ("second", true, 1)]);
    assert_eq!(ok.clients[1].config.server.ip().to_string(), "127.0.0.2");
    assert_eq!(ok.client.as_ref().unwrap().name, "ovpn-out1");

    // No CA to check the server with.
    let errs = errors(client(
        "/interface ovpn-client add connect-to=127.0.0.1 user=a disabled=no\n",
    ));
    assert!(errs[0].message.contains("cannot be checked"), "{errs:#?}");
}

/// The rest of the page pasted after the configuration: its read-only commands and its logging
/// line are accepted and noted, and the PPP properties that change nothing here are named.
#[test]
fn the_whole_page_pasted_runs_with_notes() {
    let state = tempfile::tempdir().unwrap();
    let extra = "\n/interface ovpn-server print\n/ppp active print\n/log print where topics~\"ovpn\"\n\
                 /system logging add topics=ovpn,ppp action=memory\n/system resource print\n\
                 /interface ovpn-server monitor ovpn-incoming1\n\
                 /ppp profile set ovpn-profile address-list=vpn-clients\n";
    let script = format!("{PAGE_SERVER}{extra}");
    let first = PAGE_SERVER.lines().count() + 2;
    let s = server(&script, state.path()).unwrap();
    // The logging line sets the memory log's rules the server starts with.
    let (rules, lines) = s.logging.as_ref().unwrap();
    assert_eq!(*lines, 1000);
    assert_eq!(rules.last().unwrap().topics, ["ovpn", "ppp"]);
    assert_eq!(rules.len(), 4);
    for (i, what) in [
        "/interface ovpn-server print: has no effect in a script",
        "/ppp active print: has no effect in a script",
        "/log print: has no effect in a script",
        "/system resource print: has no effect in a script",
        "/interface ovpn-server monitor: has no effect in a script",
        "address-list=vpn-clients: has no effect here",
    ]
    .iter()
    .enumerate()
    .map(|(i, w)| (if i >= 3 { i + 1 } else { i }, w))
    {
        assert!(
            s.warnings
                .iter()
                .any(|w| w.line == Some(first + i) && w.message.starts_with(what)),
            "line {}: {what}: {:#?}",
            first + i,
            s.warnings
        );
    }
}

/// The console's verbs in a script: the PPP tables and pools the script makes can be changed
/// further down with remove, enable, disable and a pool's set, through the console's
/// dispatcher, with its refusals at their lines.
#[test]
fn the_consoles_verbs_work_in_a_script() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{PAGE_SERVER}\n/ppp secret add name=bob password=b profile=ovpn-profile service=ovpn\n\
         /ppp secret disable bob\n/ip pool add name=spare ranges=10.9.0.2-10.9.0.9\n\
         /ip pool set spare ranges=10.9.0.2-10.9.0.3\n/ppp profile add name=unused\n\
         /ppp profile remove unused\n"
    );
    let s = server(&script, state.path()).unwrap();
    let bob = s.ppp.secrets().find(|x| x.name == "bob").unwrap();
    assert!(bob.disabled);
    assert_eq!(
        s.pools.get("spare").unwrap().ranges().unwrap().to_string(),
        "10.9.0.2-10.9.0.3"
    );
    assert!(s.ppp.profile("unused").is_none());
    let errs = errors(server(
        &format!("{PAGE_SERVER}\n/ppp secret remove nobody\n/ip pool remove ovpn-pool\n"),
        state.path(),
    ));
    let first = PAGE_SERVER.lines().count() + 2;
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!(errs[0].line, Some(first));
    assert!(errs[0].message.contains("no such item"), "{errs:#?}");
    assert!(errs[1].message.contains("ovpn-profile"), "{errs:#?}");
}

/// RouterOS 7.17's several servers: `add` makes each, `set NAME` changes one, and they share the
/// pools and secrets.
#[test]
fn several_servers_from_add() {
    let state = tempfile::tempdir().unwrap();
    let base = SMALL.replace("/interface ovpn-server server set enabled=yes protocol=udp certificate=server cipher=aes256-gcm,aes256-cbc auth=sha256\n", "");
    let script = format!(
        "{base}\
/interface ovpn-server server add name=udp1194 protocol=udp port=1194 certificate=server cipher=aes256-gcm
/interface ovpn-server server add name=tcp443 protocol=tcp port=443 certificate=server
/interface ovpn-server server add name=spare protocol=udp port=1195 certificate=server disabled=yes
/interface ovpn-server server set tcp443 cipher=aes256-cbc auth=sha256
/interface ovpn-server server export-client-configuration server=tcp443 client-certificate=client1 server-address=198.51.100.7
"
    );
    let s = server(&script, state.path()).unwrap();
    let names: Vec<&str> = s.servers.iter().map(|x| x.settings.name.as_str()).collect();
    assert_eq!(names, ["udp1194", "tcp443"], "the disabled one is not run");
    assert_eq!(s.servers[0].config.transport, Transport::Udp);
    assert_eq!(s.servers[1].config.transport, Transport::Tcp);
    assert_eq!(s.servers[1].settings.port, 443);
    assert_eq!(s.servers[1].config.ciphers, [Cipher::Aes256Cbc]);
    assert_eq!(
        s.servers[0].config.ciphers,
        [Cipher::Aes256Gcm],
        "set changed one"
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.line == Some(13) && w.message.contains("spare is disabled")),
        "{:#?}",
        s.warnings
    );
    let ovpn = s.files.iter().find(|f| f.name == "client1.ovpn").unwrap();
    let text = String::from_utf8(ovpn.contents.clone()).unwrap();
    assert!(text.contains("remote 198.51.100.7 443\n"), "{text}");
    assert!(text.contains("proto tcp"), "{text}");

    // A `set` without a name is ambiguous; a second server on a taken port, a taken name and
    // an unknown server are errors, each on its line.
    let bad = format!(
        "{base}\
/interface ovpn-server server add name=a protocol=udp certificate=server
/interface ovpn-server server add name=b protocol=udp certificate=server
/interface ovpn-server server set cipher=aes256-gcm
/interface ovpn-server server add name=a protocol=tcp certificate=server
/interface ovpn-server server set nobody port=1
"
    );
    let errs = errors(server(&bad, state.path()));
    let at = |line: usize, text: &str| {
        errs.iter()
            .any(|e| e.line == Some(line) && e.message.contains(text))
    };
    assert!(
        at(12, "port=1194 protocol=udp is server a's already"),
        "{errs:#?}"
    );
    assert!(at(13, "name the one to set"), "{errs:#?}");
    assert!(at(14, "a server named a exists already"), "{errs:#?}");
    assert!(at(15, "no server named nobody"), "{errs:#?}");
}

/// What a script leaves unset is the RouterOS page's default, and the library's
/// `ServerConfig::routeros`/`ClientConfig::routeros` are those same defaults: the two cannot
/// drift apart. (`ncp` is this client's extension, not a page property: the script's default
/// negotiates, so that it reaches OpenVPN 2.6 servers; a RouterOS client does not.)
#[test]
fn script_defaults_are_the_libraries_routeros_defaults() {
    let state = tempfile::tempdir().unwrap();
    let s = server(
        "/certificate\nadd name=t common-name=srv key-size=prime256v1\nsign t name=server\n\
         /interface ovpn-server server set enabled=yes certificate=server\n",
        state.path(),
    )
    .unwrap();
    let got = &s.servers[0].config;
    let (chain, key) = s.store.identity("server").unwrap();
    let want =
        ovpn_session::ServerConfig::routeros(ovpn_session::tls_config::Identity { chain, key });
    assert_eq!(got.transport, want.transport);
    assert_eq!(got.mode, want.mode);
    assert_eq!(got.ciphers, want.ciphers);
    assert_eq!(got.auths, want.auths);
    assert_eq!(got.max_mtu, want.max_mtu);
    assert_eq!(got.keepalive_timeout, want.keepalive_timeout);
    assert_eq!(got.redirect_gateway, want.redirect_gateway);
    assert_eq!(got.push_routes, want.push_routes);
    assert_eq!(got.netmask, want.netmask);
    assert_eq!(got.topology, want.topology);
    assert_eq!(got.reneg, want.reneg);
    assert_eq!(got.tls_version, want.tls_version);
    assert_eq!(got.default_profile, want.default_profile);
    assert_eq!(s.servers[0].settings.port, 1194);
    assert!(got.client_check.is_none(), "require-client-certificate=no");

    s.write_files(state.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca.crt"),
        s.store.get("server").unwrap().pem(),
    )
    .unwrap();
    let c = interpret(
        Program::Client,
        "/certificate import file-name=ca.crt passphrase=\"\" name=ca\n\
         /interface ovpn-client add connect-to=192.0.2.1 user=u password=p disabled=no\n",
        &env(dir.path(), state.path()),
    )
    .unwrap();
    let got = c.client_config.unwrap();
    let want = ovpn_session::ClientConfig::routeros(
        "ovpn-out1",
        "192.0.2.1:1194".parse().unwrap(),
        "u",
        "p",
        got.check.clone(),
    );
    assert_eq!(got.name, want.name);
    assert_eq!(got.server, want.server);
    assert_eq!(got.transport, want.transport);
    assert_eq!(got.mode, want.mode);
    assert_eq!((got.cipher, got.auth), (want.cipher, want.auth));
    assert_eq!(got.keepalive_timeout, want.keepalive_timeout);
    assert_eq!(got.max_mtu, want.max_mtu);
    assert_eq!(got.add_default_route, want.add_default_route);
    assert_eq!(got.route_nopull, want.route_nopull);
    assert_eq!(got.reneg, want.reneg);
    assert_eq!(got.tls_version, want.tls_version);
    assert_eq!(got.disconnect_notify, want.disconnect_notify);
    assert!(got.identity.is_none());
    assert!(
        !want.negotiate && got.negotiate,
        "ncp: the one documented difference"
    );
}

/// A script that cannot run still shows its warnings, next to every error.
#[test]
fn warnings_are_shown_with_the_errors() {
    let state = tempfile::tempdir().unwrap();
    let failure = server(
        &format!(
            "{SMALL}/ip firewall filter add chain=input action=accept\n\
             /ppp secret add name=x password=y profile=nowhere\n"
        ),
        state.path(),
    )
    .unwrap_err();
    assert!(
        failure.errors.iter().any(|e| e.line == Some(13)),
        "{failure:#?}"
    );
    assert!(
        failure
            .warnings
            .iter()
            .any(|w| w.line == Some(12) && w.message.contains("skipped")),
        "{failure:#?}"
    );
    let report = ovpn_examples::cli::error_report(Path::new("s.rsc"), &failure);
    assert!(report.contains("s.rsc:12: warning: "), "{report}");
    assert!(report.contains("s.rsc:13: error: "), "{report}");
    assert!(
        report.ends_with("1 error in s.rsc; nothing was started\n"),
        "{report}"
    );
}

/// `require-user-password=no` (an extension) reaches the session configuration, and only with
/// client certificates required: otherwise nobody would have to prove anything.
#[test]
fn require_user_password_no_needs_client_certificates() {
    let state = tempfile::tempdir().unwrap();
    let s = server(
        &format!(
            "{SMALL}/interface ovpn-server server set require-client-certificate=yes require-user-password=no\n"
        ),
        state.path(),
    )
    .unwrap();
    assert!(!s.servers[0].config.require_user_password);
    let errs = errors(server(
        &format!("{SMALL}/interface ovpn-server server set require-user-password=no\n"),
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.message.contains("needs require-client-certificate=yes")),
        "{errs:#?}"
    );
}

/// tls-auth for the programs: `generate-tls-key` makes the key once (kept on the next run),
/// the server uses it, and the exported profile carries it inline with the client's direction.
#[test]
fn generated_tls_key_serves_and_is_exported() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{SMALL}/interface ovpn-server server generate-tls-key file-name=ta.key\n\
         /interface ovpn-server server set control-channel-protection=tls-auth tls-key-file=ta.key\n\
         /interface ovpn-server server export-client-configuration client-certificate=client1 server-address=198.51.100.7\n"
    );
    let s = server(&script, state.path()).unwrap();
    assert!(matches!(
        s.servers[0].config.protection,
        ovpn_session::ControlProtection::TlsAuth {
            direction: ovpn_crypto::KeyDirection::Normal,
            ..
        }
    ));
    let key = s.files.iter().find(|f| f.name == "ta.key").unwrap();
    assert!(key.private);
    let key_text = String::from_utf8(key.contents.clone()).unwrap();
    assert!(key_text.contains("BEGIN OpenVPN Static key V1"));
    let ovpn = s.files.iter().find(|f| f.name == "client1.ovpn").unwrap();
    let text = String::from_utf8(ovpn.contents.clone()).unwrap();
    assert!(text.contains("\nkey-direction 1\n"), "{text}");
    assert!(
        text.contains("<tls-auth>\n#\n# 2048 bit OpenVPN static key"),
        "{text}"
    );
    s.write_files(state.path()).unwrap();
    // The next run keeps the key its clients have.
    let again = server(&script, state.path()).unwrap();
    assert!(
        again.files.iter().all(|f| f.name != "ta.key"),
        "not generated again"
    );
    assert!(again.kept.iter().any(|k| k.contains("ta.key")));
    let ovpn = again
        .files
        .iter()
        .find(|f| f.name == "client1.ovpn")
        .unwrap();
    assert!(
        String::from_utf8(ovpn.contents.clone())
            .unwrap()
            .contains(&key_text)
    );
    // Protection without a key is an error on its line.
    let errs = errors(server(
        &format!("{SMALL}/interface ovpn-server server set control-channel-protection=tls-crypt\n"),
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(12) && e.message.contains("needs tls-key-file")),
        "{errs:#?}"
    );
}

/// tls-crypt-v2 for the programs: `generate-tls-crypt-v2-key` makes the server key once, the
/// server serves with it, `generate-tls-crypt-v2-client-key` wraps a client key with metadata,
/// the exported profile carries a key of the client's own inline, and a client runs from it.
#[test]
fn tls_crypt_v2_keys_serve_and_are_exported() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{SMALL}/interface ovpn-server server generate-tls-crypt-v2-key file-name=v2.key\n\
         /interface ovpn-server server generate-tls-crypt-v2-client-key server-key-file=v2.key file-name=alice.key metadata=alice\n\
         /interface ovpn-server server set control-channel-protection=none,tls-crypt-v2 tls-crypt-v2-key-file=v2.key tls-crypt-v2-max-age=365\n\
         /interface ovpn-server server export-client-configuration client-certificate=client1 server-address=198.51.100.7\n"
    );
    let s = server(&script, state.path()).unwrap();
    let v2 = s.servers[0]
        .config
        .tls_crypt_v2
        .as_ref()
        .expect("tls-crypt-v2");
    assert!(v2.others, "none,tls-crypt-v2 serves plain clients too");
    assert_eq!(v2.max_age, Some(Duration::from_secs(365 * 86_400)));
    let file = |name: &str| {
        let f = s.files.iter().find(|f| f.name == name).unwrap();
        assert!(f.private, "{name} is private");
        String::from_utf8(f.contents.clone()).unwrap()
    };
    let server_key = ovpn_crypto::TlsCryptV2ServerKey::parse(&file("v2.key")).unwrap();
    assert_eq!(server_key, v2.key);
    let alice = ovpn_crypto::TlsCryptV2ClientKey::parse(&file("alice.key")).unwrap();
    let (_, meta) = server_key.unwrap_client_key(alice.wkc()).unwrap();
    assert_eq!(meta.user_data(), Some(&b"alice"[..]));
    // The exported profile: a new key of the client's own, with its time of making.
    let ovpn = file("client1.ovpn");
    let start = ovpn.find("<tls-crypt-v2>\n").expect("inline key") + 15;
    let end = ovpn.find("</tls-crypt-v2>").unwrap();
    let exported = ovpn_crypto::TlsCryptV2ClientKey::parse(&ovpn[start..end]).unwrap();
    let (_, meta) = server_key.unwrap_client_key(exported.wkc()).unwrap();
    assert_eq!(
        meta.timestamp(),
        Some(1_795_737_600),
        "made at the run's time"
    );
    // Our client runs the exported profile.
    std::fs::write(state.path().join("client1.ovpn"), &ovpn).unwrap();
    let c = interpret(
        Program::Client,
        "/interface ovpn-client import-ovpn-configuration file-name=client1.ovpn ovpn-user=client1 ovpn-password=pw\n",
        &env(state.path(), state.path()),
    )
    .unwrap();
    assert!(matches!(
        &c.client_config.as_ref().unwrap().protection,
        ovpn_session::ControlProtection::TlsCryptV2 { key } if key == &exported
    ));
    s.write_files(state.path()).unwrap();
    // The next run keeps both keys.
    let again = server(&script, state.path()).unwrap();
    assert!(
        again
            .files
            .iter()
            .all(|f| f.name != "v2.key" && f.name != "alice.key")
    );
    assert!(
        again.kept.iter().any(|k| k.ends_with("v2.key"))
            && again.kept.iter().any(|k| k.ends_with("alice.key")),
        "{:?}",
        again.kept
    );
    // force-cookie over TCP is warned about, on its line.
    let tcp = server(
        &format!("{SMALL}/interface ovpn-server server set protocol=tcp control-channel-protection=tls-crypt-v2 tls-crypt-v2-key-file=v2.key tls-crypt-v2-force-cookie=yes\n"),
        state.path(),
    )
    .unwrap();
    assert!(
        tcp.warnings.iter().any(|w| w.line == Some(12)
            && w.message
                .contains("tls-crypt-v2-force-cookie has no effect here")),
        "{:#?}",
        tcp.warnings
    );
    // A client key given where the server key belongs is named for what it is, on its line.
    let errs = errors(server(
        &format!(
            "{SMALL}/interface ovpn-server server set control-channel-protection=tls-crypt-v2 tls-crypt-v2-key-file=alice.key\n"
        ),
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(12) && e.message.contains("not a tls-crypt-v2 server key")),
        "{errs:#?}"
    );
}

/// Revocation in a script: `issued-revoke` signs the CA's CRL and the server's client check
/// refuses the certificate; `/certificate settings` sets the CRL policy; what cannot be honoured
/// is refused or warned about on its line.
#[test]
fn issued_revoke_and_crl_settings() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{SMALL}/interface ovpn-server server set require-client-certificate=yes\n\
         /certificate issued-revoke client1\n\
         /certificate settings set crl-expiry=refuse crl-warning-days=3 crl-days-valid=30 crl-download=yes\n"
    );
    let s = server(&script, state.path()).unwrap();
    let settings = s.store.settings();
    assert_eq!(settings.crl_expiry, ovpn_pki::CrlExpiry::Enforce);
    assert_eq!(
        (settings.crl_warning_days, settings.crl_days_valid),
        (3, 30)
    );
    let crl = s
        .store
        .crl("ca")
        .expect("issued-revoke signed the CA's CRL");
    assert_eq!(crl.revoked().len(), 1);
    let chain = s.store.chain("client1").unwrap();
    let check = s.servers[0].config.client_check.as_ref().unwrap();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(1_795_737_600));
    let e = check.check(&chain[0], &chain[1..], now).unwrap_err();
    assert!(e.to_string().contains("certificate revoked"), "{e}");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.line == Some(14) && w.message.contains("crl-download: no effect here")),
        "{:#?}",
        s.warnings
    );
    // crl-use=no cannot be honoured, and says so on its line.
    let errs = errors(server(
        &format!("{SMALL}/certificate settings set crl-use=no\n"),
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(12) && e.message.contains("crl-use=no is not implemented")),
        "{errs:#?}"
    );
    let errs = errors(server(
        &format!("{SMALL}/certificate settings set crl-expiry=sometimes\n"),
        state.path(),
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(12) && e.message.contains("expected warn or refuse")),
        "{errs:#?}"
    );
}

/// RouterOS's `import-ovpn-configuration`: the profile becomes the interface, its certificates
/// go into /certificate, and its problems are reported as FILE:LINE on the command's line.
#[test]
fn import_ovpn_configuration_makes_the_interface() {
    let dir = tempfile::tempdir().unwrap();
    let pki = |f: &str| {
        std::fs::read_to_string(format!(
            "{}/../testdata/pki/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let profile = format!(
        "client\ndev tun\nproto udp\nremote 192.0.2.1 1194\nremote-cert-tls server\nauth-user-pass\n\
         data-ciphers AES-256-GCM\nfrobnicate\n<ca>\n{}</ca>\n<cert>\n{}</cert>\n<key>\n{}</key>\n",
        pki("ca.crt"),
        pki("client1.crt"),
        pki("client1.key")
    );
    std::fs::write(dir.path().join("office.ovpn"), &profile).unwrap();
    let run = |script: &str| interpret(Program::Client, script, &env(dir.path(), dir.path()));
    let s = run(
        "/interface ovpn-client import-ovpn-configuration file-name=office.ovpn ovpn-user=client1 ovpn-password=pw\n",
    )
    .unwrap();
    let c = s.client_config.as_ref().unwrap();
    assert_eq!(c.server, "192.0.2.1:1194".parse().unwrap());
    assert_eq!(c.transport, Transport::Udp);
    assert_eq!((c.user.as_str(), c.password.as_str()), ("client1", "pw"));
    assert!(c.identity.is_some());
    assert_eq!(s.client.as_ref().unwrap().connect_to, "192.0.2.1");
    assert!(s.store.get("office-ca").is_some_and(|ca| ca.info().is_ca));
    assert!(s.store.get("office").is_some_and(|c| c.has_private_key()));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.line == Some(1) && w.message.contains("office.ovpn:8: frobnicate")),
        "{:#?}",
        s.warnings
    );
    // skip-cert-import=yes leaves /certificate alone.
    let s = run(
        "/interface ovpn-client import-ovpn-configuration file-name=office.ovpn ovpn-user=u skip-cert-import=yes\n",
    )
    .unwrap();
    assert!(s.store.get("office").is_none());
    // A profile it cannot honour, and a second interface: errors on their lines.
    std::fs::write(
        dir.path().join("bad.ovpn"),
        profile.replace("frobnicate\n", "tls-crypt-v2 v2.key\n"),
    )
    .unwrap();
    let errs = errors(run(
        "/interface ovpn-client import-ovpn-configuration file-name=bad.ovpn ovpn-user=u\n",
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(1) && e.message.contains("bad.ovpn:8: tls-crypt-v2")),
        "{errs:#?}"
    );
    let errs = errors(run(
        "/interface ovpn-client import-ovpn-configuration file-name=office.ovpn ovpn-user=u\n\
         /interface ovpn-client add connect-to=192.0.2.9 user=x disabled=no\n",
    ));
    assert!(
        errs.iter()
            .any(|e| e.line == Some(2) && e.message.contains("runs the profile imported on line 1")),
        "{errs:#?}"
    );
}

/// IPv6 inside the tunnel: `/ipv6 pool`, the profile's pool and the server's properties reach
/// the configuration; what cannot work is refused with its line.
#[test]
fn ipv6_inside_the_tunnel_is_configured_or_refused() {
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "{SMALL}\
/ipv6 pool add name=v6pool prefix=fd00:8::/64 prefix-length=128
/ppp profile set ovpn-profile remote-ipv6-prefix-pool=v6pool
/interface ovpn-server server set enable-tun-ipv6=yes tun-server-ipv6=fd00:8::1 push-routes-ipv6=fd00:99::/64 redirect-gateway=ipv6
"
    );
    let s = server(&script, state.path()).unwrap();
    assert_eq!(s.pools6.stats("v6pool").map(|st| st.total), Some(1 << 64));
    let c = &s.servers[0].config;
    assert_eq!(
        c.ipv6.map(|v| (v.server.to_string(), v.prefix_len)),
        Some(("fd00:8::1".into(), 64))
    );
    assert_eq!(c.push_routes_ipv6.len(), 1);
    assert!(c.redirect_gateway_ipv6 && !c.redirect_gateway);
    assert!(
        !s.warnings
            .iter()
            .any(|w| w.message.contains("remote-ipv6-prefix-pool")),
        "{:#?}",
        s.warnings
    );

    let off = script.replace("enable-tun-ipv6=yes", "enable-tun-ipv6=no");
    let s = server(&off, state.path()).unwrap();
    assert!(
        s.warnings.iter().any(|w| w.line.is_some()
            && w.message.contains("push-routes-ipv6 have no effect here")),
        "{:#?}",
        s.warnings
    );
    assert!(
        s.warnings.iter().any(|w| w
            .message
            .contains("remote-ipv6-prefix-pool=v6pool has no effect here")),
        "{:#?}",
        s.warnings
    );

    let no_pool = script.replace(
        "/ipv6 pool add name=v6pool prefix=fd00:8::/64 prefix-length=128\n",
        "",
    );
    let errs = errors(server(&no_pool, state.path()));
    assert!(
        errs.iter().any(|e| e
            .message
            .contains("remote-ipv6-prefix-pool=v6pool names no /ipv6 pool")),
        "{errs:#?}"
    );
    let no_address = script.replace(" tun-server-ipv6=fd00:8::1", "");
    let errs = errors(server(&no_address, state.path()));
    assert!(
        errs.iter().any(|e| e
            .message
            .contains("enable-tun-ipv6=yes needs tun-server-ipv6")),
        "{errs:#?}"
    );
}
