//! Property tests for the parsers: import (PEM/DER), the peer check, and property values.

mod common;

use common::{der, import, now, pki, store_with_ca};
use ovpn_pki::rustls_pki_types::CertificateDer;
use ovpn_pki::{
    ImportOptions, KeyUsage, KeyUsages, PeerRole, PeerVerifier, Store, SubjectAltName, Template,
};
use proptest::prelude::*;

fn store() -> Store {
    let mut s = store_with_ca();
    import(&mut s, "client1", false);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes never panic the import, and a failed import changes nothing.
    #[test]
    fn import_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048), pass in "[a-z]{0,4}") {
        let mut s = store();
        let before = s.print_detail(now());
        let opts = ImportOptions { passphrase: &pass, ..ImportOptions::default() };
        if s.import("x.pem", &data, &opts).is_err() {
            prop_assert_eq!(s.print_detail(now()), before);
        }
    }

    /// A PEM file with one byte changed imports or fails cleanly; on failure nothing changes.
    #[test]
    fn import_mutated_pem(pos in any::<prop::sample::Index>(), byte in any::<u8>(), which in 0usize..4) {
        let file = ["client2.crt", "ca.crl", "client1.key", "server.crt"][which];
        let mut data = pki(file);
        let i = pos.index(data.len());
        data[i] = byte;
        let mut s = store();
        let before = s.print_detail(now());
        match s.import(file, &data, &ImportOptions::default()) {
            Ok(sum) => prop_assert!(sum.certificates_imported + sum.private_keys_imported + sum.crls_imported <= 2),
            Err(_) => prop_assert_eq!(s.print_detail(now()), before),
        }
    }

    /// Any change to one byte of a signed certificate makes the peer check refuse it.
    #[test]
    fn verify_rejects_any_single_byte_change(pos in any::<prop::sample::Index>(), flip in 1u8..=255, which in 0usize..2) {
        let name = ["client1", "client2"][which];
        let mut bytes = der(name).to_vec();
        let i = pos.index(bytes.len());
        bytes[i] ^= flip;
        let v = PeerVerifier::new(&[der("ca")], PeerRole::TlsClient).unwrap();
        prop_assert!(v.verify(&CertificateDer::from(bytes), &[], now()).is_err());
    }

    /// `Store::load` never panics on damaged text, and what it loads saves back identically.
    #[test]
    fn load_mutated_store(pos in any::<prop::sample::Index>(), c in any::<char>(), cut in any::<bool>()) {
        let mut s = store();
        s.add(Template::new("t", "t")).unwrap();
        let text = s.save().to_string();
        let mut chars: Vec<char> = text.chars().collect();
        let i = pos.index(chars.len());
        if cut {
            chars.truncate(i);
        } else {
            chars[i] = c;
        }
        let damaged: String = chars.into_iter().collect();
        if let Ok(back) = Store::load(&damaged) {
            let saved = back.save();
            prop_assert_eq!(&*Store::load(&saved).unwrap().save(), &*saved);
        }
    }

    /// Key usage lists print back as they parse.
    #[test]
    fn key_usages_round_trip(bits in any::<u16>()) {
        let set: KeyUsages = KeyUsage::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, u)| u)
            .collect();
        let text = set.to_string();
        prop_assert_eq!(text.parse::<KeyUsages>(), Ok(set));
    }

    /// Subject alternative names print back as they parse.
    #[test]
    fn subject_alt_names_round_trip(host in "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,6}){0,2}", ip in any::<std::net::IpAddr>()) {
        for san in [SubjectAltName::Dns(host.clone()), SubjectAltName::Ip(ip), SubjectAltName::Email(format!("u@{host}"))] {
            prop_assert_eq!(san.to_string().parse::<SubjectAltName>(), Ok(san));
        }
    }

    /// Any property value either sets the template or is refused naming the property.
    #[test]
    fn template_properties(which in 0usize..13, value in "\\PC{0,80}") {
        let props = [
            "name", "common-name", "country", "state", "locality", "organization", "unit",
            "subject-alt-name", "days-valid", "key-size", "key-usage", "digest-algorithm", "trusted",
        ];
        let property = props[which];
        let mut t = Template::new("t", "t");
        match t.set_property(property, &value) {
            Ok(()) => {
                let _ = t.detail();
            }
            Err(e) => prop_assert!(e.to_string().contains(property), "{}", e),
        }
    }
}
