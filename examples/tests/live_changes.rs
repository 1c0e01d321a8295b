//! Console changes on running loops: `/interface ovpn-server server set` (settings for new
//! sessions change in place; a new port or protocol makes the loop listen anew, RouterOS's
//! restart), and `/interface ovpn-client disable|enable`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;

use ovpn_examples::demo::{DemoOptions, client_script, server_script};
use ovpn_examples::runtime::client::ClientRuntime;
use ovpn_examples::runtime::server::{ServerOptions, ServerRuntime};
use ovpn_examples::runtime::{ClientChange, PipeTuns, ServerChange};
use ovpn_examples::script::{Env, Program, interpret};
use ovpn_session::Transport;

fn env(script_dir: &std::path::Path, state_dir: &std::path::Path) -> Env {
    Env {
        script_dir: script_dir.to_owned(),
        state_dir: state_dir.to_owned(),
        now: rustls::pki_types::UnixTime::now(),
        allow_outside_paths: false,
    }
}

fn runtime(dir: &std::path::Path) -> (ServerRuntime<PipeTuns>, ovpn_session::ServerConfig) {
    let setup = interpret(
        Program::Server,
        &server_script(&DemoOptions::default()),
        &env(dir, dir),
    )
    .unwrap();
    let config = setup.servers.into_iter().next().unwrap().config;
    let (tx, _rx) = mpsc::channel();
    let rt = ServerRuntime::new(
        config.clone(),
        ovpn_session::Shared::new(setup.ppp, setup.pools),
        &ServerOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            shared_tun: None,
        },
        PipeTuns::new(tx),
    )
    .unwrap();
    (rt, config)
}

#[test]
fn settings_change_in_place_and_a_new_port_or_protocol_listens_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rt, config) = runtime(dir.path());
    let first = rt.local_addr();

    // In place: the socket stays, new sessions get the new cipher set.
    let mut c = config.clone();
    c.ciphers = vec![ovpn_crypto::Cipher::Aes128Gcm];
    let said = rt
        .change(ServerChange {
            config: c,
            listen: None,
        })
        .unwrap();
    assert!(said.contains("new sessions"), "{said}");
    assert_eq!(rt.local_addr(), first);
    assert_eq!(
        rt.server().config().ciphers,
        vec![ovpn_crypto::Cipher::Aes128Gcm]
    );

    // A protocol change in place is refused, and nothing changes.
    let mut c = config.clone();
    c.transport = Transport::Tcp;
    let e = rt
        .change(ServerChange {
            config: c.clone(),
            listen: None,
        })
        .unwrap_err();
    assert!(e.contains("protocol"), "{e}");
    assert_eq!(rt.server().config().transport, Transport::Udp);

    // A port already taken: refused, and the server stays where it was.
    let taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let e = rt
        .change(ServerChange {
            config: c.clone(),
            listen: Some(taken.local_addr().unwrap()),
        })
        .unwrap_err();
    assert!(e.contains("listening on"), "{e}");
    assert_eq!(rt.local_addr(), first);
    assert_eq!(rt.server().config().transport, Transport::Udp);

    // Over TCP on a new port: the old UDP port is free again, the new one accepts connections.
    let said = rt
        .change(ServerChange {
            config: c,
            listen: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        })
        .unwrap();
    assert!(said.starts_with("restarted on tcp"), "{said}");
    let now_at = rt.local_addr();
    assert_ne!(now_at.port(), first.port());
    assert_eq!(rt.server().config().transport, Transport::Tcp);
    std::net::UdpSocket::bind(first).expect("the old port is closed");
    std::net::TcpStream::connect(now_at).expect("the new listener accepts");
}

/// The demo server's state directory under `dir`, with the files it exports (the CA, the
/// client's certificate and key) that the demo client script imports.
fn exported(dir: &std::path::Path) -> std::path::PathBuf {
    let server_state = dir.join("server");
    let setup = interpret(
        Program::Server,
        &server_script(&DemoOptions::default()),
        &env(dir, &server_state),
    )
    .unwrap();
    setup.write_files(&server_state).unwrap();
    server_state
}

/// A stand-in server: a UDP socket on loopback that only receives (reads fail after 30 s
/// rather than hang), and its port.
fn stand_in() -> (std::net::UdpSocket, u16) {
    let server = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    server
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let port = server.local_addr().unwrap().port();
    (server, port)
}

/// The demo client's script made with the server's exported files, towards `port`.
fn client_setup(
    server_state: &std::path::Path,
    client_dir: &std::path::Path,
    port: u16,
) -> ovpn_examples::script::Setup {
    interpret(
        Program::Client,
        &client_script(&DemoOptions::default(), port),
        &env(server_state, client_dir),
    )
    .unwrap()
}

/// The opcode of a control-channel packet (the first byte's high five bits).
fn opcode(datagram: &[u8]) -> u8 {
    datagram[0] >> 3
}

#[test]
fn a_disabled_client_sends_nothing_and_enable_starts_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let server_state = exported(dir.path());
    let (server, port) = stand_in();
    let csetup = client_setup(&server_state, &dir.path().join("client"), port);
    let (tx, _rx) = mpsc::channel();
    let mut rt =
        ClientRuntime::new(csetup.client_config.unwrap(), Vec::new(), PipeTuns::new(tx)).unwrap();
    let mut buf = [0u8; 2048];
    // The first turn sends the hard reset (P_CONTROL_HARD_RESET_CLIENT_V2 = 7, or V3 = 10).
    rt.turn().unwrap();
    let (n, _) = server.recv_from(&mut buf).unwrap();
    assert!(
        matches!(opcode(&buf[..n]), 7 | 10),
        "{:?}",
        &buf[..n.min(8)]
    );
    let first_session = buf[1..9].to_vec();

    assert_eq!(rt.change(ClientChange::Disable).unwrap(), "disabled");
    let row = rt.row(ovpn_examples::runtime::now());
    assert_eq!(
        (row.status.as_str(), row.reason.as_deref(), row.disabled),
        ("disconnected", Some("disabled"), true)
    );
    assert_eq!(
        rt.change(ClientChange::Disable).unwrap(),
        "already disabled"
    );
    // Nothing more leaves while disabled: a woken turn sends nothing.
    server.set_nonblocking(true).unwrap();
    while server.recv_from(&mut buf).is_ok() {}
    rt.control().wake();
    rt.turn().unwrap();
    assert_eq!(
        server.recv_from(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    server.set_nonblocking(false).unwrap();

    assert_eq!(rt.change(ClientChange::Enable).unwrap(), "enabled");
    let row = rt.row(ovpn_examples::runtime::now());
    assert_eq!((row.status.as_str(), row.disabled), ("connecting", false));
    rt.turn().unwrap();
    let (n, _) = server.recv_from(&mut buf).unwrap();
    assert!(matches!(opcode(&buf[..n]), 7 | 10));
    assert_ne!(buf[1..9].to_vec(), first_session, "a new session id");

    // `set port=`: the session ends and a new one starts at the other server.
    let other = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    other
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut config = rt.client().config().clone();
    config.server = other.local_addr().unwrap();
    let said = rt
        .change(ClientChange::Reconfigure(
            Box::new(config.clone()),
            Vec::new(),
        ))
        .unwrap();
    assert_eq!(said, "reconnecting");
    rt.turn().unwrap();
    let (n, _) = other.recv_from(&mut buf).unwrap();
    assert!(matches!(opcode(&buf[..n]), 7 | 10));
    assert_eq!(
        rt.row(ovpn_examples::runtime::now()).connect_to,
        other.local_addr().unwrap().to_string()
    );
    // Another name is refused, and nothing changes.
    let mut renamed = config;
    renamed.name = "ovpn-out9".into();
    assert!(
        rt.change(ClientChange::Reconfigure(Box::new(renamed), Vec::new()))
            .is_err()
    );
    assert_eq!(rt.row(ovpn_examples::runtime::now()).name, "ovpn-out1");
}

#[test]
fn client_set_makes_the_configuration_anew_and_is_kept() {
    use ovpn_examples::console::client_live::ClientLive;
    use ovpn_examples::console::exec::run;
    let dir = tempfile::tempdir().unwrap();
    let server_state = exported(dir.path());
    let client_state = dir.path().join("client");
    let live = || {
        let c = client_setup(&server_state, &client_state, 1194);
        ClientLive::new("ovpn-out1", Some(&client_state)).with_settings(
            c.client.unwrap(),
            c.client_config.unwrap(),
            c.store,
        )
    };
    let l = live();
    run(
        "/interface ovpn-client set ovpn-out1 port=1195 cipher=aes128-gcm",
        &l,
    )
    .unwrap();
    let (config, _) = l.configuration().unwrap();
    assert_eq!(config.server.port(), 1195);
    assert_eq!(config.cipher, ovpn_crypto::Cipher::Aes128Gcm);
    for (line, says) in [
        (
            "set ovpn-out1 name=x",
            "cannot change while the client runs",
        ),
        ("set ovpn-out1 tls-key-file=ta.key", "cannot change"),
        ("set ovpn-out1 port=0", "value of port"),
        ("set ovpn-out1 bogus=1", "bogus"),
        ("set ovpn-out2 port=1", "no such item"),
        ("set ovpn-out1 certificate=nosuch", "nosuch"),
    ] {
        let e = run(&format!("/interface ovpn-client {line}"), &l).unwrap_err();
        assert!(e.contains(says), "{line}: {e}");
    }
    assert_eq!(l.configuration().unwrap().0.server.port(), 1195);
    // The next start replays the change.
    let next = live();
    assert_eq!(next.replay().unwrap(), 1);
    assert_eq!(next.configuration().unwrap().0.server.port(), 1195);
    assert_eq!(
        next.configuration().unwrap().0.cipher,
        ovpn_crypto::Cipher::Aes128Gcm
    );
}

#[test]
fn client_interfaces_are_added_and_removed_at_run_time() {
    use ovpn_examples::console::client_live::{ClientLive, Spawner};
    use ovpn_examples::console::exec::run;
    use ovpn_examples::runtime::Control;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let server_state = exported(dir.path());
    let (server, port) = stand_in();
    let csetup = client_setup(&server_state, &dir.path().join("client"), port);
    let mut live = ClientLive::scripted(
        csetup.clients,
        csetup.store,
        csetup.certificate_commands,
        Some(&dir.path().join("client")),
    );
    let loops: Arc<Mutex<Vec<std::thread::JoinHandle<()>>>> = Arc::default();
    let spawner: Spawner = {
        let loops = loops.clone();
        Box::new(move |config, routes, enabled| {
            let (tx, _rx) = mpsc::channel();
            let mut rt =
                ClientRuntime::new(config, routes, PipeTuns::new(tx)).map_err(|e| e.to_string())?;
            if !enabled {
                rt.change(ClientChange::Disable)?;
            }
            let control = rt.control();
            loops.lock().unwrap().push(std::thread::spawn(move || {
                let _ = rt.run();
            }));
            Ok(control)
        })
    };
    live.start(spawner).unwrap();
    let mut buf = [0u8; 2048];
    let (_, first) = server.recv_from(&mut buf).unwrap();
    // A second interface from the console: its own session, from its own socket.
    run(
        &format!(
            "/interface ovpn-client add name=office connect-to=127.0.0.1 port={port} protocol=udp \
             user=client1 password=StrongPassword1 certificate=client1 ca-certificate=ca \
             cipher=aes256-gcm auth=sha256 disabled=no"
        ),
        &live,
    )
    .unwrap();
    let second = loop {
        let (n, from) = server.recv_from(&mut buf).unwrap();
        if from != first {
            assert!(matches!(opcode(&buf[..n]), 7 | 10));
            break from;
        }
    };
    assert_ne!(second, first);
    let out = run("/interface ovpn-client print terse", &live).unwrap();
    assert!(
        out.contains("name=ovpn-out1") && out.contains("name=office"),
        "{out}"
    );
    assert!(
        run(
            "/interface ovpn-client add name=office connect-to=127.0.0.1",
            &live
        )
        .unwrap_err()
        .contains("exists already")
    );
    // An added interface is disabled unless disabled=no, as RouterOS's.
    run(
        "/interface ovpn-client add name=spare connect-to=127.0.0.1 user=u certificate=client1 ca-certificate=ca",
        &live,
    )
    .unwrap();
    let out = run(
        "/interface ovpn-client print detail where name=spare",
        &live,
    )
    .unwrap();
    assert!(out.contains("disabled=yes"), "{out}");
    // Removed: its loop ends.
    run("/interface ovpn-client remove office", &live).unwrap();
    assert_eq!(
        run("/interface ovpn-client print count-only", &live).unwrap(),
        "2\n"
    );
    assert_eq!(live.controls().len(), 2);
    // An OpenVPN profile imported at run time is another interface, connecting at once.
    let server_setup = interpret(
        Program::Server,
        &server_script(&DemoOptions::default()),
        &env(dir.path(), &server_state),
    )
    .unwrap();
    let mut settings = server_setup.servers[0].settings.clone();
    settings.port = port;
    let profile = ovpn_examples::export_profile::client_profile(
        &settings,
        &[
            ("client-certificate".into(), "client1".into()),
            ("server-address".into(), "127.0.0.1".into()),
        ],
        &server_setup.store,
        &|f| Err(format!("{f}: not read here")),
        0,
    )
    .unwrap();
    std::fs::write(dir.path().join("client/office.ovpn"), &profile.contents).unwrap();
    let out = run(
        "/interface ovpn-client import-ovpn-configuration file-name=office.ovpn ovpn-user=client1 ovpn-password=StrongPassword1",
        &live,
    )
    .unwrap();
    assert!(out.contains("ovpn-out2"), "{out}");
    let third = loop {
        let (_, from) = server.recv_from(&mut buf).unwrap();
        if from != first && from != second {
            break from;
        }
    };
    assert_ne!(third, first);
    assert!(
        run(
            "/interface ovpn-client import-ovpn-configuration file-name=../etc/passwd",
            &live
        )
        .unwrap_err()
        .contains("no folders")
    );
    run("/interface ovpn-client remove ovpn-out2", &live).unwrap();
    assert_eq!(live.controls().len(), 2);
    // The kept changes name the interfaces.
    let kept = std::fs::read_to_string(dir.path().join("client").join("console.rsc")).unwrap();
    assert!(
        kept.contains("/interface ovpn-client remove [find name=office]"),
        "{kept}"
    );
    // Routes through the interfaces: added and removed while they run, kept by destination.
    run(
        "/ip route add dst-address=10.9.0.0/16 gateway=ovpn-out1",
        &live,
    )
    .unwrap();
    let out = run(
        "/ip route add dst-address=10.7.1.1 gateway=spare comment=lab",
        &live,
    )
    .unwrap();
    assert!(out.contains("comment: has no effect here"), "{out}");
    let out = run("/ip route print", &live).unwrap();
    assert!(
        out.contains("10.9.0.0/16  ovpn-out1") && out.contains("10.7.1.1/32  spare"),
        "{out}"
    );
    for (line, says) in [
        (
            "/ip route add dst-address=10.9.0.0/16 gateway=ovpn-out1",
            "exists already",
        ),
        (
            "/ip route add dst-address=10.8.0.0/16 gateway=ether1",
            "gateway=ether1",
        ),
        (
            "/ip route add dst-address=nonsense gateway=spare",
            "dst-address=nonsense",
        ),
    ] {
        let e = run(line, &live).unwrap_err();
        assert!(e.contains(says), "{line}: {e}");
    }
    run("/ip route remove [find gateway=spare]", &live).unwrap();
    assert_eq!(run("/ip route print count-only", &live).unwrap(), "1\n");
    // `/export`: the script's imports (passphrase hidden), the interfaces (spare disabled) and
    // the route; with the secrets shown it makes the same interfaces again.
    let export = run("/export", &live).unwrap();
    assert!(
        !export.contains("export-password") && !export.contains("StrongPassword1"),
        "{export}"
    );
    let full = run("/export show-sensitive", &live).unwrap();
    assert!(
        full.contains("name=spare") && full.contains("disabled=yes"),
        "{full}"
    );
    let again = interpret(
        Program::Client,
        &full,
        &env(&server_state, &dir.path().join("client")),
    )
    .unwrap();
    let names: Vec<(&str, bool, usize)> = again
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
    assert_eq!(names, [("ovpn-out1", false, 1), ("spare", true, 0)]);
    // A restart replays the changes: the same interfaces and routes.
    let next = ClientLive::scripted(
        client_setup(&server_state, &dir.path().join("client"), port).clients,
        again.store,
        Vec::new(),
        Some(&dir.path().join("client")),
    );
    next.replay().unwrap();
    assert_eq!(run("/ip route print count-only", &next).unwrap(), "1\n");
    assert_eq!(
        run("/interface ovpn-client print count-only", &next).unwrap(),
        "2\n"
    );
    live.controls().iter().for_each(Control::stop);
    for h in loops.lock().unwrap().drain(..) {
        h.join().unwrap();
    }
}

#[test]
fn servers_are_added_disabled_enabled_and_removed_at_run_time() {
    use ovpn_examples::console::exec::run;
    use ovpn_examples::console::live::{RunningServer, ServerLive, ServerSpawner};
    use ovpn_examples::runtime::Control;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let setup = interpret(
        Program::Server,
        &server_script(&DemoOptions::default()),
        &env(dir.path(), dir.path()),
    )
    .unwrap();
    let running = setup.servers.into_iter().map(RunningServer::from).collect();
    let shared = ovpn_session::Shared::new(setup.ppp, setup.pools);
    let mut live = ServerLive::new(shared.clone(), Some(dir.path())).with_servers(
        running,
        Arc::new(Mutex::new(setup.store)),
        Vec::new(),
        Some(Ipv4Addr::LOCALHOST.into()),
    );
    // Each loop on loopback at a port of the system's choosing; the addresses asked for are
    // recorded.
    type Loops = Vec<(SocketAddr, SocketAddr, std::thread::JoinHandle<()>)>;
    let loops: Arc<Mutex<Loops>> = Arc::default();
    let spawner: ServerSpawner = {
        let (loops, shared) = (loops.clone(), shared.clone());
        Box::new(move |config, asked| {
            let (tx, _rx) = mpsc::channel();
            let mut rt = ServerRuntime::new(
                config,
                shared.clone(),
                &ServerOptions {
                    listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    shared_tun: None,
                },
                PipeTuns::new(tx),
            )
            .map_err(|e| e.to_string())?;
            let control = rt.control();
            let at = rt.local_addr();
            loops.lock().unwrap().push((
                asked,
                at,
                std::thread::spawn(move || {
                    let _ = rt.run();
                }),
            ));
            Ok(control)
        })
    };
    live.start(spawner).unwrap();
    assert_eq!(live.controls().len(), 1);
    let m = "/interface ovpn-server server";
    run(
        &format!("{m} add name=tcp443 protocol=tcp port=443 certificate=server cipher=aes256-gcm"),
        &live,
    )
    .unwrap();
    assert_eq!(live.controls().len(), 2);
    let asked = loops.lock().unwrap()[1].0;
    assert_eq!(asked, SocketAddr::from((Ipv4Addr::LOCALHOST, 443)));
    // The new loop is a TCP server that accepts connections.
    let at = loops.lock().unwrap()[1].1;
    std::net::TcpStream::connect(at).expect("the added server listens");
    let out = run(&format!("{m} print detail"), &live).unwrap();
    assert!(
        out.contains("name=tcp443") && out.contains("protocol=tcp"),
        "{out}"
    );
    for (line, says) in [
        (
            "add name=tcp443 port=444 certificate=server",
            "exists already",
        ),
        (
            "add name=dup protocol=tcp port=443 certificate=server",
            "tcp443's already",
        ),
        ("add name=nocert port=445", "certificate"),
        (
            "add name=k tls-key-file=ta.key certificate=server port=446",
            "cannot change",
        ),
    ] {
        let e = run(&format!("{m} {line}"), &live).unwrap_err();
        assert!(e.contains(says), "{line}: {e}");
    }
    // Disabled: its loop ends; enabled: a new one starts.
    run(&format!("{m} set tcp443 enabled=no"), &live).unwrap();
    assert_eq!(live.controls().len(), 1);
    let stopped = loops.lock().unwrap().remove(1);
    stopped.2.join().unwrap();
    run(&format!("{m} set tcp443 enabled=yes"), &live).unwrap();
    assert_eq!(live.controls().len(), 2);
    // Removed: its loop ends; the last server is not removed.
    run(&format!("{m} remove tcp443"), &live).unwrap();
    assert_eq!(live.controls().len(), 1);
    let e = run(&format!("{m} remove 0"), &live).unwrap_err();
    assert!(e.contains("last server"), "{e}");
    // Kept for the next start, by name.
    let kept = std::fs::read_to_string(dir.path().join("console.rsc")).unwrap();
    assert!(kept.contains("server remove [find name=tcp443]"), "{kept}");
    live.controls().iter().for_each(Control::stop);
    for (_, _, h) in loops.lock().unwrap().drain(..) {
        h.join().unwrap();
    }
}
