//! Revocation while the server runs: a new client check (a CRL that lists a certificate) ends
//! the live sessions that logged in with that certificate, frees their addresses, leaves the
//! others alone, and refuses the revoked client when it comes back.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ovpn_pki::{PeerRole, PeerVerifier};
use ovpn_session::sim::{Crowd, LinkConfig, seed_from_env};
use ovpn_session::{Client, ClientState, DisconnectReason, Server, ServerEvent};

#[test]
fn revoking_a_certificate_ends_its_live_session_only() {
    let seed = seed_from_env(81);
    let epoch = start();
    let mut sc = server_config(seed);
    // No CRL yet: the certificate that `ca.crl` revokes is still accepted.
    sc.client_check = Some(Arc::new(
        PeerVerifier::new(&[cert("ca")], PeerRole::TlsClient).unwrap(),
    ));
    let server = Server::new(sc, shared(), epoch, unix_epoch()).unwrap();
    let mut doomed = client_config(seed);
    doomed.identity = Some(identity("revoked-client1"));
    let mut other = client_config(seed + 1);
    other.identity = Some(identity("client2"));
    other.user = "client2".into();
    other.password = "pw2".to_owned().into();
    let clients = vec![
        Client::new(doomed, epoch, unix_epoch()).unwrap(),
        Client::new(other, epoch, unix_epoch()).unwrap(),
    ];
    let mut crowd = Crowd::new(seed, epoch, server, clients, LinkConfig::default());
    assert!(
        crowd.run_until(Duration::from_secs(60), Crowd::all_connected),
        "{}",
        crowd.transcript()
    );
    let used = |c: &Crowd| c.server.shared().view(|_, p| p.used().count());
    assert_eq!(used(&crowd), 2);
    let doomed_peer = crowd
        .server
        .sessions(crowd.now)
        .into_iter()
        .find(|s| s.common_name.as_deref() == Some("revoked-client1"))
        .unwrap()
        .peer;

    // The CRL arrives (`issued-revoke`, or a new CRL file): only that session ends.
    let now = crowd.now;
    let ended = crowd
        .server
        .set_client_check(now, Some(verifier("ca", PeerRole::TlsClient)))
        .unwrap();
    assert_eq!(ended, vec![doomed_peer]);
    // The crowd takes the server's events as it steps.
    crowd.run_until(Duration::from_millis(1), |_| true);
    assert!(
        crowd.server_events.iter().any(|e| matches!(
            e,
            ServerEvent::Disconnected { peer, reason: DisconnectReason::CertificateRefused(why), .. }
                if *peer == doomed_peer && why.contains("revoked")
        )),
        "{}",
        crowd.transcript()
    );
    assert_eq!(used(&crowd), 1, "the revoked session's address is free");
    // The revoked client is told, tries again, and is refused at its handshake; the other
    // client never notices.
    crowd.run_until(Duration::from_secs(30), |_| false);
    assert_ne!(crowd.members[0].client.state(), &ClientState::Connected);
    assert_eq!(crowd.members[1].client.state(), &ClientState::Connected);
    let sessions = crowd.server.sessions(crowd.now);
    assert!(
        sessions
            .iter()
            .all(|s| s.common_name.as_deref() != Some("revoked-client1") || !s.connected),
        "the revoked certificate logged in again"
    );
    assert_eq!(sessions.iter().filter(|s| s.connected).count(), 1);

    // Setting the same check again ends nothing more.
    let now = crowd.now;
    let again = crowd
        .server
        .set_client_check(now, Some(verifier("ca", PeerRole::TlsClient)))
        .unwrap();
    assert!(again.is_empty());
}
