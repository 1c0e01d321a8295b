//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).
//!
//! They are compiled in every build so that the crate's own tests run them over a few inputs.
#![doc(hidden)]

use crate::{
    AuthError, AuthRequest, Authenticator, PppConfig, Profile, Secret, Service, properties,
};

/// `ppp_properties`: tokenizes arbitrary text as RouterOS properties and builds a profile and a
/// secret from it. Whatever parses must print back to the same value; a secret that builds must
/// then log in with its own name and password unless disabled or limited to another service.
pub fn ppp_properties(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pairs) = properties::parse(text) else {
        return;
    };
    let printed = properties::format(&pairs);
    assert_eq!(
        properties::parse(&printed).as_ref(),
        Ok(&pairs),
        "{printed}"
    );

    if let Ok(profile) = Profile::from_properties(pairs_ref(&pairs)) {
        let again = Profile::parse(&profile.to_string());
        assert_eq!(again.as_ref(), Ok(&profile), "{profile}");
    }
    if let Ok(secret) = Secret::from_properties(pairs_ref(&pairs)) {
        let shown = secret.show_sensitive().to_string();
        assert_eq!(Secret::parse(&shown).as_ref(), Ok(&secret), "{shown}");

        let mut ppp = PppConfig::new();
        if !Profile::is_builtin(&secret.profile) {
            let _ = ppp.add_profile(Profile::new(secret.profile.clone()));
        }
        let added = ppp.add_secret(secret.clone());
        assert_eq!(added, Ok(()));
        let caller = secret
            .caller_id
            .clone()
            .unwrap_or_else(|| "192.0.2.1".into());
        let request = AuthRequest::new(
            secret.name.clone(),
            secret.password.clone(),
            Service::Ovpn,
            caller,
        );
        let result = ppp.authenticate(&request);
        let too_long = secret.name.chars().count() > crate::MAX_OVPN_USER
            || secret.password.chars() > crate::MAX_OVPN_PASSWORD;
        let expected = if too_long {
            Err(AuthError::LoginIncorrect)
        } else if secret.disabled {
            Err(AuthError::Disabled)
        } else if !secret.service.allows(Service::Ovpn) {
            Err(AuthError::UnknownService)
        } else {
            Ok(secret.name.clone())
        };
        assert_eq!(result.map(|g| g.user), expected);
        let wrong = AuthRequest::new(secret.name.clone(), "\u{0}wrong", Service::Ovpn, "x");
        if secret.password.as_str() != "\u{0}wrong" {
            assert_eq!(ppp.authenticate(&wrong), Err(AuthError::LoginIncorrect));
        }
    }
}

fn pairs_ref(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_entry_runs() {
        for input in [
            &b"name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn"[..],
            b"name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool dns-server=8.8.8.8 use-compression=no use-encryption=required",
            b"name=\"a b\" password=\"x\\\"y\" disabled=yes",
            b"name=u service=pppoe",
            b"name=u caller-id=1.2.3.4 rate-limit=\"1M/2M 3M\" routes=\"10.0.0.0/8 1.1.1.1 3\"",
            b"name=\"unterminated",
            b"\xff",
            b"",
        ] {
            super::ppp_properties(input);
        }
    }
}
