//! The peer check (`remote-cert-tls`, CA, dates, CRL) on the committed test PKI: each refusal
//! has its own error.

mod common;

use common::{at, der, import, now, pki, store_with_ca};
use ovpn_pki::rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use ovpn_pki::{CrlExpiry, PeerRole, PeerVerifier, VerifyError, verify_peer};

fn crl() -> CertificateRevocationListDer<'static> {
    CertificateRevocationListDer::from(pkcs8::der::pem::decode_vec(&pki("ca.crl")).unwrap().1)
}

fn clients() -> PeerVerifier {
    PeerVerifier::new(&[der("ca")], PeerRole::TlsClient)
        .unwrap()
        .with_crls(&[crl()])
        .unwrap()
}

fn servers() -> PeerVerifier {
    PeerVerifier::new(&[der("ca")], PeerRole::TlsServer)
        .unwrap()
        .with_crls(&[crl()])
        .unwrap()
}

#[test]
fn good_peers_pass_with_their_identity() {
    let v = clients();
    for (name, cn) in [("client1", "client1"), ("client2", "client2")] {
        let peer = v.verify(&der(name), &[], now()).unwrap();
        assert_eq!(peer.common_name, cn);
        let mut s = ovpn_pki::Store::new();
        import(&mut s, name, false);
        let info = s.get(name).unwrap().info();
        assert_eq!(peer.serial, info.serial);
        assert_eq!(peer.fingerprint, info.fingerprint);
        assert_eq!(peer.serial_hex(), info.serial_hex());
        assert_eq!(peer.fingerprint_hex().len(), 64);
        assert_eq!(peer.issuer_common_name.as_deref(), Some("OpenVPN CA"));
        assert_eq!(peer.not_after.as_secs(), 2_524_608_000); // 2050-01-01
    }
    let peer = servers().verify(&der("server"), &[], now()).unwrap();
    assert_eq!(peer.common_name, "ovpn-server");
    // The chain may carry the CA itself, as OpenVPN peers often send it.
    let peer = servers()
        .verify(&der("server"), &[der("ca")], now())
        .unwrap();
    assert_eq!(peer.common_name, "ovpn-server");
    // No host name is involved: the server's CN/SAN never matter.
    assert_eq!(v.role(), PeerRole::TlsClient);
}

#[test]
fn expired() {
    let e = clients()
        .verify(&der("expired-client1"), &[], now())
        .unwrap_err();
    assert_eq!(
        e,
        VerifyError::Expired {
            not_after: 978_220_800, // 2000-12-31
            now: now().as_secs()
        }
    );
    assert_eq!(
        e.to_string(),
        "could not verify peer certificate: certificate expired"
    );
    assert_eq!(e.reason(), "certificate expired");
}

#[test]
fn not_yet_valid() {
    let e = clients()
        .verify(&der("notyet-client1"), &[], now())
        .unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::NotYetValid {
                not_before: 3_786_912_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "could not verify peer certificate: certificate not yet valid"
    );
}

#[test]
fn wrong_ca() {
    // Same CN as client1, signed by another CA.
    let e = clients()
        .verify(&der("foreign-client1"), &[], now())
        .unwrap_err();
    assert_eq!(e, VerifyError::UnknownCa);
    assert_eq!(
        e.to_string(),
        "could not verify peer certificate: certificate not signed by a trusted CA"
    );
    // Even when the peer sends its own CA along.
    let e = clients()
        .verify(&der("foreign-client1"), &[der("foreign-ca")], now())
        .unwrap_err();
    assert_eq!(e, VerifyError::UnknownCa);
    // Trusting the foreign CA instead accepts it and refuses ours.
    let foreign = PeerVerifier::new(&[der("foreign-ca")], PeerRole::TlsClient).unwrap();
    assert_eq!(
        foreign
            .verify(&der("foreign-client1"), &[], now())
            .unwrap()
            .common_name,
        "client1"
    );
    assert_eq!(
        foreign.verify(&der("client1"), &[], now()).unwrap_err(),
        VerifyError::UnknownCa
    );
    // No trusted CA at all.
    let none = PeerVerifier::new(&[], PeerRole::TlsClient).unwrap();
    assert_eq!(
        none.verify(&der("client1"), &[], now()).unwrap_err(),
        VerifyError::UnknownCa
    );
}

#[test]
fn wrong_key_usage() {
    // A client certificate presented by a server, and the reverse.
    let e = servers().verify(&der("client1"), &[], now()).unwrap_err();
    assert_eq!(
        e,
        VerifyError::WrongKeyUsage {
            expected: PeerRole::TlsServer,
            detail: "extended key usage lacks tls-server"
        }
    );
    assert_eq!(
        e.to_string(),
        "could not verify peer certificate: wrong key usage (expected tls-server): extended key usage lacks tls-server"
    );
    let e = clients().verify(&der("server"), &[], now()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::WrongKeyUsage {
                expected: PeerRole::TlsClient,
                ..
            }
        ),
        "{e:?}"
    );
    // No extended key usage at all: remote-cert-tls requires it (webpki alone would accept).
    let e = servers()
        .verify(&der("server-no-eku"), &[], now())
        .unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::WrongKeyUsage {
                expected: PeerRole::TlsServer,
                ..
            }
        ),
        "{e:?}"
    );
    // A CA certificate is no peer certificate.
    let e = servers().verify(&der("ca"), &[], now()).unwrap_err();
    assert!(matches!(e, VerifyError::WrongKeyUsage { .. }), "{e:?}");
}

#[test]
fn key_usage_extension_required() {
    // tls-client EKU but no keyUsage extension at all (OPENVPN_KU_REQUIRED).
    let mut s = store_with_ca();
    let mut t = ovpn_pki::Template::new("noku", "noku");
    t.key_size = ovpn_pki::KeySize::Prime256v1;
    t.key_usage = "tls-client".parse().unwrap();
    s.add(t).unwrap();
    s.sign("noku", Some("ca"), None, now()).unwrap();
    assert!(!s.get("noku").unwrap().info().has_key_usage_extension);
    let e = clients()
        .verify(s.get("noku").unwrap().der(), &[], now())
        .unwrap_err();
    assert_eq!(
        e,
        VerifyError::WrongKeyUsage {
            expected: PeerRole::TlsClient,
            detail: "no key usage extension"
        }
    );
    // keyUsage present but only data-encipherment.
    let mut t = ovpn_pki::Template::new("dataonly", "dataonly");
    t.key_size = ovpn_pki::KeySize::Prime256v1;
    t.key_usage = "data-encipherment,tls-client".parse().unwrap();
    s.add(t).unwrap();
    s.sign("dataonly", Some("ca"), None, now()).unwrap();
    let e = clients()
        .verify(s.get("dataonly").unwrap().der(), &[], now())
        .unwrap_err();
    assert!(matches!(e, VerifyError::WrongKeyUsage { .. }), "{e:?}");
}

#[test]
fn revoked() {
    let e = clients()
        .verify(&der("revoked-client1"), &[], now())
        .unwrap_err();
    assert_eq!(e, VerifyError::Revoked);
    assert_eq!(
        e.to_string(),
        "could not verify peer certificate: certificate revoked"
    );
    // Without the CRL it passes: revocation comes only from CRLs.
    let no_crl = PeerVerifier::new(&[der("ca")], PeerRole::TlsClient).unwrap();
    assert!(no_crl.verify(&der("revoked-client1"), &[], now()).is_ok());
    // The store's verifier uses the CRLs it holds.
    let mut s = store_with_ca();
    s.import("ca.crl", &pki("ca.crl"), &Default::default())
        .unwrap();
    let e = s
        .verify_peer(&[der("revoked-client1")], PeerRole::TlsClient, now())
        .unwrap_err();
    assert_eq!(e, ovpn_pki::PkiError::Verify(VerifyError::Revoked));
}

#[test]
fn stale_crl() {
    let mut s = store_with_ca();
    // A CRL issued in 2025 with next-update one day later.
    let issued = 1_735_689_600;
    s.update_crl_until("ca", at(issued), issued + 86_400)
        .unwrap();
    // The store's default (crl-expiry=warn): the stale CRL is still used, nobody is locked out.
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    assert_eq!(
        v.verify(&der("client1"), &[], now()).unwrap().common_name,
        "client1"
    );
    // crl-expiry=refuse: every certificate of that CA is refused, as OpenVPN does.
    s.settings_mut().crl_expiry = CrlExpiry::Enforce;
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    let e = v.verify(&der("client1"), &[], now()).unwrap_err();
    assert_eq!(e, VerifyError::CrlExpired);
    assert!(e.to_string().contains("CRL expired"));
    // A stale CRL that lists a certificate keeps refusing it under warn.
    let mut w = store_with_ca();
    w.import(
        "ca-expired.crl",
        &pki("ca-expired.crl"),
        &Default::default(),
    )
    .unwrap();
    let v = w.peer_verifier(PeerRole::TlsClient).unwrap();
    assert_eq!(
        v.verify(&der("revoked-client1"), &[], now()).unwrap_err(),
        VerifyError::Revoked
    );
    assert!(v.verify(&der("client1"), &[], now()).is_ok());
    // Renewing the CRL fixes it.
    s.update_crl("ca", now()).unwrap();
    let v = s.peer_verifier(PeerRole::TlsClient).unwrap();
    assert!(v.verify(&der("client1"), &[], now()).is_ok());
}

#[test]
fn malformed_input() {
    let v = clients();
    let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
    let e = v.verify(&junk, &[], now()).unwrap_err();
    assert!(matches!(e, VerifyError::Malformed { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("could not verify peer certificate: malformed certificate")
    );
    // A certificate with one flipped byte in its signature.
    let mut bad = der("client1").to_vec();
    let n = bad.len();
    bad[n - 5] ^= 0x55;
    let e = v
        .verify(&CertificateDer::from(bad), &[], now())
        .unwrap_err();
    assert_eq!(e, VerifyError::UnknownCa);
    // An empty chain.
    assert_eq!(
        v.verify_chain(&[], now()).unwrap_err(),
        VerifyError::NoCertificate
    );
    // A bad trusted CA or CRL is refused up front.
    assert!(PeerVerifier::new(&[junk], PeerRole::TlsClient).is_err());
    assert!(
        clients()
            .with_crls(&[CertificateRevocationListDer::from(vec![1, 2, 3])])
            .is_err()
    );
}

#[test]
fn one_shot_function() {
    let peer = verify_peer(
        &[der("client2")],
        &[der("ca")],
        PeerRole::TlsClient,
        now(),
        &[crl()],
    )
    .unwrap();
    assert_eq!(peer.common_name, "client2");
    let e = verify_peer(
        &[der("revoked-client1")],
        &[der("ca")],
        PeerRole::TlsClient,
        now(),
        &[crl()],
    )
    .unwrap_err();
    assert_eq!(e, VerifyError::Revoked);
    assert_eq!("server".parse::<PeerRole>(), Ok(PeerRole::TlsServer));
    assert_eq!("tls-client".parse::<PeerRole>(), Ok(PeerRole::TlsClient));
    assert!("peer".parse::<PeerRole>().is_err());
}

#[test]
fn verifier_for_one_ca() {
    let mut s = store_with_ca();
    import(&mut s, "foreign-ca", false);
    let both = s.peer_verifier(PeerRole::TlsClient).unwrap();
    assert!(both.verify(&der("foreign-client1"), &[], now()).is_ok());
    let only = s.peer_verifier_for_ca("ca", PeerRole::TlsClient).unwrap();
    assert_eq!(
        only.verify(&der("foreign-client1"), &[], now())
            .unwrap_err(),
        VerifyError::UnknownCa
    );
    assert!(only.verify(&der("client1"), &[], now()).is_ok());
}

#[test]
fn the_expected_name_is_the_common_name_in_any_case() {
    // verify-server-certificate=yes with connect-to=ovpn-server.
    let v = servers().with_expected_name("OVPN-Server");
    let peer = v.verify(&der("server"), &[], now()).unwrap();
    assert_eq!(peer.common_name, "ovpn-server");
    let v = servers().with_expected_name("192.0.2.1");
    let err = v.verify(&der("server"), &[], now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::NameMismatch {
            expected: "192.0.2.1".into(),
            found: "ovpn-server".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "certificate verification failed: the certificate is for \"ovpn-server\", not \"192.0.2.1\" (verify-server-certificate=yes)"
    );
    // The chain is checked first: a bad chain is never reported as a name mismatch.
    let v = PeerVerifier::new(&[der("foreign-ca")], PeerRole::TlsServer)
        .unwrap()
        .with_expected_name("nobody");
    assert_eq!(
        v.verify(&der("server"), &[], now()).unwrap_err(),
        VerifyError::UnknownCa
    );
}
