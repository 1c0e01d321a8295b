//! Property tests: property text, profiles, secrets, durations and rate limits print back to what
//! they were parsed from, and arbitrary text never panics.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ovpn_ppp::{
    AddressSpec, Profile, RateLimit, Secret, Service, UseEncryption, YesNoDefault, format_duration,
    parse_duration, properties,
};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,12}"
}

fn name() -> impl Strategy<Value = String> {
    // Anything but empty; "none" is fine for profiles and secrets.
    "\\PC{1,20}"
}

fn switch() -> impl Strategy<Value = YesNoDefault> {
    prop_oneof![
        Just(YesNoDefault::Default),
        Just(YesNoDefault::No),
        Just(YesNoDefault::Yes)
    ]
}

fn address_spec() -> impl Strategy<Value = Option<AddressSpec>> {
    prop_oneof![
        Just(None),
        any::<u32>().prop_map(|a| Some(AddressSpec::Address(Ipv4Addr::from(a)))),
        "[a-z][a-z0-9-]{0,10}".prop_map(|p| Some(AddressSpec::Pool(p))),
    ]
}

fn duration() -> impl Strategy<Value = Option<Duration>> {
    prop_oneof![
        Just(None),
        (1u64..10_000_000).prop_map(|s| Some(Duration::from_secs(s)))
    ]
}

fn rate() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..10_000,
        (0u64..1000).prop_map(|k| k * 1000),
        (0u64..1000).prop_map(|m| m * 1_000_000)
    ]
}

fn rate_limit() -> impl Strategy<Value = Option<RateLimit>> {
    prop_oneof![
        Just(None),
        (
            rate(),
            rate(),
            proptest::option::of((rate(), rate(), 1u8..=8))
        )
            .prop_map(|(rx, tx, more)| {
                let text = match more {
                    None => format!("{rx}/{tx}"),
                    Some((b, t, p)) => format!("{rx}/{tx} {b} {t} 10/20 {p}"),
                };
                Some(text.parse().unwrap())
            }),
    ]
}

prop_compose! {
    fn profile()(
        name in name(),
        local in address_spec(),
        remote in address_spec(),
        dns in proptest::collection::vec(any::<[u8; 4]>().prop_map(IpAddr::from), 0..=2),
        compression in switch(),
        encryption in prop_oneof![Just(UseEncryption::Default), Just(UseEncryption::No), Just(UseEncryption::Required), Just(UseEncryption::Yes)],
        only_one in switch(),
        mss in switch(),
        session in duration(),
        idle in duration(),
        rate in rate_limit(),
        list in proptest::option::of("\\PC{1,10}"),
        comment in proptest::option::of("\\PC{1,30}"),
    ) -> Profile {
        let mut p = Profile::new(name);
        p.local_address = local;
        p.remote_address = remote;
        p.dns_servers = dns;
        p.use_compression = compression;
        p.use_encryption = encryption;
        p.only_one = only_one;
        p.change_tcp_mss = mss;
        p.session_timeout = session;
        p.idle_timeout = idle;
        p.rate_limit = rate;
        p.address_list = list;
        p.comment = comment;
        p
    }
}

prop_compose! {
    fn secret()(
        name in name(),
        password in "\\PC{0,40}",
        service in prop_oneof![Just(Service::Any), Just(Service::Ovpn), Just(Service::Pppoe), Just(Service::Sstp)],
        profile in "[a-z-]{1,10}",
        remote in proptest::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
        limit in any::<u64>(),
        disabled in any::<bool>(),
        caller in proptest::option::of("[0-9.]{1,15}"),
    ) -> Secret {
        let mut s = Secret::new(name, password);
        s.service = service;
        s.profile = profile;
        s.remote_address = remote;
        s.limit_bytes_in = limit;
        s.disabled = disabled;
        s.caller_id = caller;
        s
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn property_text_round_trips(pairs in proptest::collection::vec((key(), "\\PC{0,20}|[\\\\\"$? \t\n\\x01]{0,5}"), 0..6)) {
        let text = properties::format(&pairs);
        prop_assert_eq!(properties::parse(&text), Ok(pairs));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}|[a-z=\" \\\\]{0,30}") {
        if let Ok(pairs) = properties::parse(&text) {
            let again = properties::parse(&properties::format(&pairs));
            prop_assert_eq!(again, Ok(pairs.clone()));
            let _ = Profile::from_properties(pairs.clone());
            let _ = Secret::from_properties(pairs);
        }
    }

    #[test]
    fn profiles_round_trip(p in profile()) {
        let text = p.to_string();
        prop_assert_eq!(Profile::parse(&text), Ok(p), "{}", text);
    }

    #[test]
    fn secrets_round_trip(s in secret()) {
        let ovpn_too_long = s.service == Service::Ovpn && (s.name.chars().count() > 27);
        let text = s.show_sensitive().to_string();
        match Secret::parse(&text) {
            Ok(parsed) => prop_assert_eq!(parsed, s),
            Err(e) => prop_assert!(ovpn_too_long, "{} -> {}", text, e),
        }
    }

    #[test]
    fn durations_round_trip(secs in any::<u64>(), ms in 0u32..1000) {
        let d = Duration::new(secs, ms * 1_000_000);
        prop_assert_eq!(parse_duration(&format_duration(d)), Some(d));
    }

    #[test]
    fn rate_limits_round_trip(r in rate_limit()) {
        if let Some(r) = r {
            prop_assert_eq!(r.to_string().parse::<RateLimit>(), Ok(r));
        }
    }
}
