//! Authentication rules, inheritance and table rules through the public API.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use ovpn_ppp::{
    AddressSpec, AuthError, AuthRequest, Authenticator, Error, Grant, PppConfig, Profile,
    RateLimit, Secret, Service, UseEncryption,
};

fn ovpn(user: &str, password: &str) -> AuthRequest {
    AuthRequest::new(user, password, Service::Ovpn, "192.0.2.7")
}

fn routeros_example() -> PppConfig {
    let mut ppp = PppConfig::new();
    ppp.add_profile_text(
        "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8 \
         use-compression=no use-encryption=required",
    )
    .unwrap();
    ppp.add_secret_text("name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn")
        .unwrap();
    ppp
}

#[test]
fn the_routeros_example_logs_in() {
    let ppp = routeros_example();
    let g = ppp
        .authenticate(&ovpn("client1", "StrongPassword1"))
        .unwrap();
    assert_eq!(g.user, "client1");
    assert_eq!(g.profile, "ovpn-profile");
    assert_eq!(
        g.local_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 8, 0, 1)))
    );
    assert_eq!(
        g.remote_address,
        Some(AddressSpec::Pool("ovpn-pool".into()))
    );
    assert_eq!(g.dns_servers, vec![IpAddr::from([8, 8, 8, 8])]);
    assert!(!g.use_compression);
    assert_eq!(g.use_encryption, UseEncryption::Required);
    assert!(!g.only_one);
    assert!(g.change_tcp_mss, "inherited from default");
    assert_eq!(
        (g.session_timeout, g.idle_timeout, g.rate_limit),
        (None, None, None)
    );
    assert_eq!((g.limit_bytes_in, g.limit_bytes_out), (None, None));
}

#[test]
fn unknown_user_and_wrong_password_are_the_same_error() {
    let ppp = routeros_example();
    let wrong = ppp.authenticate(&ovpn("client1", "StrongPassword2"));
    let unknown = ppp.authenticate(&ovpn("client2", "StrongPassword1"));
    assert_eq!(wrong, Err(AuthError::LoginIncorrect));
    assert_eq!(unknown, wrong);
    assert_eq!(wrong.unwrap_err().to_string(), "login incorrect");
    // Case matters, and a prefix of the password is not the password.
    assert!(
        ppp.authenticate(&ovpn("Client1", "StrongPassword1"))
            .is_err()
    );
    assert!(
        ppp.authenticate(&ovpn("client1", "StrongPassword"))
            .is_err()
    );
    assert!(ppp.authenticate(&ovpn("client1", "")).is_err());
}

#[test]
fn service_must_match() {
    let mut ppp = PppConfig::new();
    ppp.add_secret_text("name=p password=x service=pppoe")
        .unwrap();
    ppp.add_secret_text("name=a password=x").unwrap();
    ppp.add_secret_text("name=o password=x service=ovpn")
        .unwrap();
    let err = ppp.authenticate(&ovpn("p", "x")).unwrap_err();
    assert_eq!(err, AuthError::UnknownService);
    assert_eq!(err.to_string(), "unknown service");
    // The service check comes after the password check: no probing with wrong passwords.
    assert_eq!(
        ppp.authenticate(&ovpn("p", "y")),
        Err(AuthError::LoginIncorrect)
    );
    assert!(
        ppp.authenticate(&ovpn("a", "x")).is_ok(),
        "service=any matches ovpn"
    );
    assert!(ppp.authenticate(&ovpn("o", "x")).is_ok());
    let l2tp = AuthRequest::new("o", "x", Service::L2tp, "192.0.2.7");
    assert_eq!(ppp.authenticate(&l2tp), Err(AuthError::UnknownService));
}

#[test]
fn disabled_secrets_are_refused_after_the_password_check() {
    let mut ppp = PppConfig::new();
    ppp.add_secret_text("name=d password=x disabled=yes")
        .unwrap();
    let err = ppp.authenticate(&ovpn("d", "x")).unwrap_err();
    assert_eq!(err, AuthError::Disabled);
    assert_eq!(err.to_string(), "account disabled");
    assert_eq!(
        ppp.authenticate(&ovpn("d", "y")),
        Err(AuthError::LoginIncorrect)
    );
    ppp.set_secret("d", [("disabled", "no")]).unwrap();
    assert!(ppp.authenticate(&ovpn("d", "x")).is_ok());
}

#[test]
fn caller_id_restricts_the_client_address() {
    let mut ppp = PppConfig::new();
    ppp.add_secret_text("name=c password=x caller-id=192.0.2.7")
        .unwrap();
    assert!(ppp.authenticate(&ovpn("c", "x")).is_ok());
    let elsewhere = AuthRequest::new("c", "x", Service::Ovpn, "198.51.100.1");
    assert_eq!(
        ppp.authenticate(&elsewhere),
        Err(AuthError::CallerIdMismatch)
    );
}

#[test]
fn only_one_refuses_a_second_session() {
    let mut ppp = PppConfig::new();
    ppp.add_profile_text("name=single only-one=yes").unwrap();
    ppp.add_profile_text("name=multi only-one=no").unwrap();
    ppp.add_profile_text("name=inherit").unwrap();
    ppp.add_secret_text("name=s password=x profile=single")
        .unwrap();
    ppp.add_secret_text("name=m password=x profile=multi")
        .unwrap();
    ppp.add_secret_text("name=i password=x profile=inherit")
        .unwrap();
    assert!(ppp.authenticate(&ovpn("s", "x")).unwrap().only_one);
    let err = ppp
        .authenticate(&ovpn("s", "x").with_active_sessions(1))
        .unwrap_err();
    assert_eq!(err, AuthError::OnlyOne);
    assert_eq!(err.to_string(), "only-one: user already logged in");
    assert!(
        ppp.authenticate(&ovpn("m", "x").with_active_sessions(3))
            .is_ok()
    );
    assert!(
        ppp.authenticate(&ovpn("i", "x").with_active_sessions(1))
            .is_ok(),
        "default is no"
    );
    // only-one=default inherits from the default profile.
    ppp.set_profile("default", [("only-one", "yes")]).unwrap();
    assert_eq!(
        ppp.authenticate(&ovpn("i", "x").with_active_sessions(1)),
        Err(AuthError::OnlyOne)
    );
    assert!(
        ppp.authenticate(&ovpn("m", "x").with_active_sessions(1))
            .is_ok(),
        "profile's no wins"
    );
}

#[test]
fn unset_fields_inherit_from_default_and_secrets_override() {
    let mut ppp = PppConfig::new();
    ppp.set_profile(
        "default",
        [
            ("local-address", "10.0.0.1"),
            ("remote-address", "main-pool"),
            ("dns-server", "1.1.1.1,9.9.9.9"),
            ("session-timeout", "8h"),
            ("idle-timeout", "10m"),
            ("rate-limit", "1M/2M"),
            ("address-list", "vpn-users"),
            ("remote-ipv6-prefix-pool", "v6"),
            ("use-encryption", "yes"),
            ("use-compression", "yes"),
        ],
    )
    .unwrap();
    ppp.add_profile_text("name=branch remote-address=branch-pool dns-server=8.8.8.8 idle-timeout=1m use-encryption=required")
        .unwrap();
    ppp.add_secret_text("name=plain password=x profile=branch")
        .unwrap();
    ppp.add_secret_text(
        "name=fixed password=x profile=branch local-address=10.9.0.1 remote-address=10.9.0.2 \
         remote-ipv6-prefix=2001:db8:5::/64 routes=\"192.168.7.0/24\" limit-bytes-in=1000 limit-bytes-out=2000",
    )
    .unwrap();

    let g = ppp.authenticate(&ovpn("plain", "x")).unwrap();
    assert_eq!(
        g.local_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 0, 0, 1))),
        "from default"
    );
    assert_eq!(
        g.remote_address,
        Some(AddressSpec::Pool("branch-pool".into())),
        "from profile"
    );
    assert_eq!(
        g.dns_servers,
        vec![IpAddr::from([8, 8, 8, 8])],
        "profile's list replaces default's"
    );
    assert_eq!(
        g.session_timeout,
        Some(Duration::from_secs(8 * 3600)),
        "from default"
    );
    assert_eq!(
        g.idle_timeout,
        Some(Duration::from_secs(60)),
        "from profile"
    );
    assert_eq!(g.rate_limit, Some(RateLimit::new(1_000_000, 2_000_000)));
    assert_eq!(g.address_list.as_deref(), Some("vpn-users"));
    assert_eq!(g.remote_ipv6_prefix_pool.as_deref(), Some("v6"));
    assert_eq!(g.use_encryption, UseEncryption::Required);
    assert!(g.use_compression, "from default");
    assert_eq!(g.remote_ipv6_prefix, None);

    let f = ppp.authenticate(&ovpn("fixed", "x")).unwrap();
    assert_eq!(
        f.local_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 9, 0, 1)))
    );
    assert_eq!(
        f.remote_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 9, 0, 2)))
    );
    assert_eq!(
        f.remote_ipv6_prefix.map(|p| p.to_string()).as_deref(),
        Some("2001:db8:5::/64")
    );
    assert_eq!(f.routes.len(), 1);
    assert_eq!(
        (f.limit_bytes_in, f.limit_bytes_out),
        (Some(1000), Some(2000))
    );
}

#[test]
fn builtin_profiles() {
    let mut ppp = PppConfig::new();
    let names: Vec<&str> = ppp.profiles().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "default-encryption"]);
    ppp.add_secret_text("name=d password=x").unwrap();
    ppp.add_secret_text("name=e password=x profile=default-encryption")
        .unwrap();
    let d = ppp.authenticate(&ovpn("d", "x")).unwrap();
    assert_eq!(
        (d.profile.as_str(), d.use_encryption),
        ("default", UseEncryption::No)
    );
    assert!(!d.use_compression && !d.only_one && d.change_tcp_mss);
    assert_eq!((d.local_address, d.remote_address), (None, None));
    let e = ppp.authenticate(&ovpn("e", "x")).unwrap();
    assert_eq!(
        (e.profile.as_str(), e.use_encryption),
        ("default-encryption", UseEncryption::Yes)
    );
    assert_eq!(
        ppp.remove_profile("default"),
        Err(Error::BuiltinProfile("default".into()))
    );
    assert_eq!(
        ppp.set_profile("default-encryption", [("name", "x")]),
        Err(Error::BuiltinProfile("default-encryption".into()))
    );
    // default-encryption inherits unset fields from default too.
    ppp.set_profile("default", [("dns-server", "9.9.9.9")])
        .unwrap();
    let e = ppp.authenticate(&ovpn("e", "x")).unwrap();
    assert_eq!(e.dns_servers, vec![IpAddr::from([9, 9, 9, 9])]);
}

#[test]
fn ovpn_length_limits_at_login() {
    let mut ppp = PppConfig::new();
    let long = "u".repeat(28);
    let long_pw = "p".repeat(234);
    ppp.add_secret(Secret::new(long.clone(), "x")).unwrap();
    ppp.add_secret(Secret::new("short", long_pw.clone()))
        .unwrap();
    assert_eq!(
        ppp.authenticate(&ovpn(&long, "x")),
        Err(AuthError::LoginIncorrect)
    );
    assert_eq!(
        ppp.authenticate(&ovpn("short", &long_pw)),
        Err(AuthError::LoginIncorrect)
    );
    // The same secrets serve other services.
    assert!(
        ppp.authenticate(&AuthRequest::new(long.clone(), "x", Service::L2tp, "x"))
            .is_ok()
    );
    let mut ovpn_only = Secret::new(long, "x");
    ovpn_only.service = Service::Ovpn;
    ovpn_only.name.push('!');
    assert!(matches!(
        ppp.add_secret(ovpn_only),
        Err(Error::InvalidValue {
            property: "name",
            ..
        })
    ));
}

#[test]
fn table_rules() {
    let mut ppp = routeros_example();
    assert_eq!(
        ppp.add_secret_text("name=client1 password=y"),
        Err(Error::DuplicateSecret("client1".into()))
    );
    assert_eq!(
        ppp.add_secret_text("name=client2 password=y profile=missing"),
        Err(Error::UnknownProfile("missing".into()))
    );
    assert_eq!(
        ppp.add_profile_text("name=ovpn-profile"),
        Err(Error::DuplicateProfile("ovpn-profile".into()))
    );
    let err = ppp.remove_profile("ovpn-profile").unwrap_err();
    assert_eq!(
        err,
        Error::ProfileInUse {
            profile: "ovpn-profile".into(),
            secret: "client1".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "profile ovpn-profile is used by secret client1"
    );
    assert_eq!(
        ppp.remove_profile("nope"),
        Err(Error::UnknownProfile("nope".into()))
    );
    // A failed set changes nothing.
    assert_eq!(
        ppp.set_secret("client1", [("profile", "missing")]),
        Err(Error::UnknownProfile("missing".into()))
    );
    assert_eq!(ppp.secret("client1").unwrap().profile, "ovpn-profile");
    assert!(
        ppp.set_secret("client1", [("password", "new"), ("service", "ppp")])
            .is_err()
    );
    assert!(
        ppp.authenticate(&ovpn("client1", "StrongPassword1"))
            .is_ok()
    );
    assert_eq!(
        ppp.set_secret("ghost", [("password", "x")]),
        Err(Error::UnknownSecret("ghost".into()))
    );
    // Renaming a profile follows into its secrets.
    ppp.set_profile("ovpn-profile", [("name", "renamed")])
        .unwrap();
    assert_eq!(ppp.secret("client1").unwrap().profile, "renamed");
    assert!(ppp.profile("ovpn-profile").is_none());
    ppp.add_profile_text("name=other").unwrap();
    assert_eq!(
        ppp.set_profile("other", [("name", "renamed")]),
        Err(Error::DuplicateProfile("renamed".into()))
    );
    assert_eq!(
        ppp.set_profile("ghost", [("comment", "x")]),
        Err(Error::UnknownProfile("ghost".into()))
    );
    // Renaming a secret.
    ppp.add_secret_text("name=client2 password=y").unwrap();
    assert_eq!(
        ppp.set_secret("client2", [("name", "client1")]),
        Err(Error::DuplicateSecret("client1".into()))
    );
    ppp.set_secret("client2", [("name", "client3")]).unwrap();
    assert!(ppp.secret("client2").is_none());
    assert_eq!(ppp.remove_secret("client3").unwrap().name, "client3");
    assert_eq!(
        ppp.remove_secret("client3"),
        Err(Error::UnknownSecret("client3".into()))
    );
    assert_eq!(ppp.secrets().count(), 1);
    ppp.remove_secret("client1").unwrap();
    assert!(ppp.remove_profile("renamed").is_ok());
}

/// A product's own store: any type can answer.
struct Fixed;

impl Authenticator for Fixed {
    fn authenticate(&self, request: &AuthRequest) -> Result<Grant, AuthError> {
        if request.user == "radius-user" {
            let mut grant = Grant::new(&request.user, "from-radius");
            grant.remote_address = Some(AddressSpec::Address(Ipv4Addr::new(10, 1, 1, 1)));
            Ok(grant)
        } else if request.user == "down" {
            Err(AuthError::Unavailable("RADIUS server timed out".into()))
        } else {
            Err(AuthError::LoginIncorrect)
        }
    }
}

#[test]
fn a_custom_authenticator_plugs_in() {
    let stores: Vec<Box<dyn Authenticator + Send + Sync>> =
        vec![Box::new(Fixed), Box::new(routeros_example())];
    let shared: Arc<dyn Authenticator + Send + Sync> = Arc::new(Fixed);
    let g = shared.authenticate(&ovpn("radius-user", "x")).unwrap();
    assert_eq!(g.profile, "from-radius");
    assert_eq!(
        stores[0]
            .authenticate(&ovpn("down", "x"))
            .unwrap_err()
            .to_string(),
        "authentication backend unavailable: RADIUS server timed out"
    );
    assert!(
        stores[1]
            .authenticate(&ovpn("client1", "StrongPassword1"))
            .is_ok()
    );
    let by_ref: &dyn Authenticator = &*stores[1];
    assert_eq!(
        by_ref.authenticate(&ovpn("x", "y")),
        Err(AuthError::LoginIncorrect)
    );
}

#[test]
fn requests_hide_passwords() {
    let r = ovpn("client1", "StrongPassword1");
    assert!(!format!("{r:?}").contains("StrongPassword1"));
    let p = Profile::new("x");
    assert_eq!(p.to_string(), "name=x");
}

#[test]
fn a_secret_on_default_gets_the_servers_default_profile() {
    let mut ppp = routeros_example();
    ppp.add_profile_text("name=server-default remote-address=10.9.0.5 session-timeout=1h")
        .unwrap();
    ppp.set_profile("default", [("dns-server", "9.9.9.9")])
        .unwrap();
    ppp.add_secret_text("name=plain password=pw service=ovpn")
        .unwrap();
    let g = ppp
        .authenticate_under(&ovpn("plain", "pw"), "server-default")
        .unwrap();
    assert_eq!(g.profile, "server-default");
    assert_eq!(
        g.remote_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 9, 0, 5)))
    );
    assert_eq!(g.session_timeout, Some(Duration::from_secs(3600)));
    // What the server's profile leaves unset still comes from `default`.
    assert_eq!(g.dns_servers, [IpAddr::from([9, 9, 9, 9])]);
    // Without the server's rule, the secret stays on `default`.
    assert_eq!(
        ppp.authenticate(&ovpn("plain", "pw")).unwrap().profile,
        "default"
    );
    // A secret naming its own profile keeps it.
    let own = ppp
        .authenticate_under(&ovpn("client1", "StrongPassword1"), "server-default")
        .unwrap();
    assert_eq!(own.profile, "ovpn-profile");
    // A server default profile that does not exist falls back to `default`.
    let gone = ppp.authenticate_under(&ovpn("plain", "pw"), "nonexistent");
    assert_eq!(gone.unwrap().profile, "default");
    assert_eq!(
        ppp.authenticate_under(&ovpn("plain", "wrong"), "server-default"),
        Err(AuthError::LoginIncorrect)
    );
}

#[test]
fn a_certificate_alone_logs_in_under_its_secret_or_the_default_profile() {
    let mut ppp = routeros_example();
    ppp.add_profile_text("name=certs remote-address=10.9.0.9")
        .unwrap();
    ppp.add_secret_text("name=pptp-only password=x service=pptp")
        .unwrap();
    ppp.add_secret_text("name=off password=x service=ovpn disabled=yes")
        .unwrap();
    let cert = |cn: &str| AuthRequest::certificate(cn, Service::Ovpn, "192.0.2.7");
    // The secret named by the common name gives its profile; no password is checked.
    let g = ppp.authenticate_under(&cert("client1"), "certs").unwrap();
    assert_eq!(g.profile, "ovpn-profile");
    assert_eq!(g.user, "client1");
    // No such secret: the server's default profile.
    let g = ppp.authenticate_under(&cert("laptop-7"), "certs").unwrap();
    assert_eq!((g.profile.as_str(), g.user.as_str()), ("certs", "laptop-7"));
    assert_eq!(
        g.remote_address,
        Some(AddressSpec::Address(Ipv4Addr::new(10, 9, 0, 9)))
    );
    // A secret that exists still says no when it must.
    assert_eq!(
        ppp.authenticate_under(&cert("pptp-only"), "certs"),
        Err(AuthError::UnknownService)
    );
    assert_eq!(
        ppp.authenticate_under(&cert("off"), "certs"),
        Err(AuthError::Disabled)
    );
    // A password login with an empty password is still a password login.
    assert_eq!(
        ppp.authenticate(&ovpn("laptop-7", "")),
        Err(AuthError::LoginIncorrect)
    );
}
