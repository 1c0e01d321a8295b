//! Half-done logins at scale: 500 peers that finish TLS and then never send their key-method-2
//! record, and 500 clients with a wrong password, all at once against one server. No pool
//! address is ever taken for them, every one of their sessions ends (the mute ones at the
//! hand-window), and a legitimate client logs in while they are all there. The figures are
//! printed (`--nocapture`) and quoted in README.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use ovpn_session::sim::{Crowd, LinkConfig, Member, seed_from_env};
use ovpn_session::{Client, ClientState, DisconnectReason, ServerEvent};

const MUTE: usize = 500;
const WRONG: usize = 500;

fn used_addresses(crowd: &Crowd) -> usize {
    crowd.server.shared().view(|_, p| p.used().count())
}

/// How many server sessions ended for `what`.
fn ended(crowd: &Crowd, what: impl Fn(&DisconnectReason) -> bool) -> usize {
    crowd
        .server_events
        .iter()
        .filter(|e| matches!(e, ServerEvent::Disconnected { reason, .. } if what(reason)))
        .count()
}

#[test]
fn five_hundred_mute_peers_and_five_hundred_wrong_passwords_leak_nothing() {
    let seed = seed_from_env(61);
    let epoch = start();
    let mut clients = Vec::with_capacity(MUTE + WRONG);
    for i in 0..MUTE + WRONG {
        let mut c = client_config(seed ^ (i as u64 + 1));
        if i >= MUTE {
            c.password = "not-the-password".to_owned().into();
        }
        let mut client = Client::new(c, epoch, unix_epoch()).unwrap();
        if i < MUTE {
            ovpn_session::fuzzing::hold_key_method(&mut client);
        }
        clients.push(client);
    }
    let server = ovpn_session::Server::new(server_config(seed), shared(), epoch, unix_epoch())
        .expect("server");
    let mut crowd = Crowd::new(seed, epoch, server, clients, LinkConfig::default());
    #[expect(
        clippy::disallowed_methods,
        reason = "the test reports its own wall time, nothing in the run reads it"
    )]
    let wall = Instant::now();

    // Every mute peer has a session stuck after TLS, and every wrong password was refused.
    let refused = |c: &Crowd| ended(c, |r| matches!(r, DisconnectReason::Auth(_)));
    let mute: std::collections::HashSet<SocketAddr> =
        crowd.members[..MUTE].iter().map(|m| m.addr).collect();
    let stuck = |c: &Crowd| {
        c.server
            .sessions(c.now)
            .iter()
            .filter(|s| mute.contains(&s.remote) && !s.connected && s.common_name.is_some())
            .count()
    };
    let mut most_used = 0;
    let all_in = crowd.run_until(Duration::from_secs(55), |c| {
        most_used = most_used.max(used_addresses(c));
        refused(c) >= WRONG && stuck(c) >= MUTE
    });
    assert!(
        all_in,
        "after {:?}: {} refused, {} stuck after TLS",
        crowd.now - epoch,
        refused(&crowd),
        stuck(&crowd)
    );
    let gathered = crowd.now - epoch;
    assert_eq!(most_used, 0, "a half-done login took a pool address");
    assert_eq!(used_addresses(&crowd), 0);
    assert!(
        crowd
            .server
            .sessions(crowd.now)
            .iter()
            .all(|s| s.address.is_none() && s.name.is_none()),
        "a session without a login has an address or a name"
    );

    // A real client logs in while all of them are there.
    let addr: SocketAddr = "198.51.100.7:50000".parse().unwrap();
    let joined = crowd.now;
    crowd.members.push(Member {
        addr,
        client: Client::new(client_config(seed ^ 0x5eed), joined, unix_epoch()).unwrap(),
        events: Vec::new(),
        tun: Default::default(),
    });
    let legit = crowd.members.len() - 1;
    assert!(
        crowd.run_until(Duration::from_secs(30), |c| {
            c.members[legit].client.state() == &ClientState::Connected
        }),
        "the real client did not log in beside the half-done logins"
    );
    let took = crowd.now - joined;
    assert!(stuck(&crowd) > 0, "the half-done logins were gone already");
    assert_eq!(
        used_addresses(&crowd),
        1,
        "only the real client has an address"
    );

    // The mute sessions end at the server's hand-window, and give nothing back because they
    // took nothing; the real client keeps its address.
    assert!(
        crowd.run_until(Duration::from_secs(90), |c| {
            ended(c, |r| matches!(r, DisconnectReason::HandshakeTimeout)) >= MUTE
        }),
        "mute peers outlived the hand-window: {} ended",
        ended(&crowd, |r| matches!(r, DisconnectReason::HandshakeTimeout))
    );
    assert_eq!(used_addresses(&crowd), 1);
    assert_eq!(crowd.members[legit].client.state(), &ClientState::Connected);
    let logged_in: Vec<_> = crowd
        .server
        .sessions(crowd.now)
        .into_iter()
        .filter(|s| s.name.is_some())
        .collect();
    assert_eq!(logged_in.len(), 1);
    assert_eq!(logged_in[0].remote, addr);
    println!(
        "half-done logins: {MUTE} mute + {WRONG} wrong passwords in place after {gathered:?} \
         (simulated); a real client logged in {took:?} after joining; {} sessions ended at the \
         hand-window, {} refused; pool addresses taken by them: 0; {:.1} s of wall time",
        ended(&crowd, |r| matches!(r, DisconnectReason::HandshakeTimeout)),
        refused(&crowd),
        wall.elapsed().as_secs_f64()
    );
}
