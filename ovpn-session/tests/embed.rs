//! The embedding examples (`examples/embed_server.rs`, `examples/embed_client.rs`) run here as
//! they are: a server and a client over loopback UDP, written against the public API only. If a
//! piece of policy or framing were still the driver's job, these pages would have to carry it.

#[allow(dead_code, reason = "the example's main is not called here")]
#[path = "../examples/embed_server.rs"]
mod embed_server;

#[allow(dead_code, reason = "the example's main is not called here")]
#[path = "../examples/embed_client.rs"]
mod embed_client;

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

#[test]
fn the_embedding_examples_connect_ping_and_close() {
    let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pki");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let until = embed_server::clocks().0 + Duration::from_secs(60);
    let server_pki = pki.clone();
    let server = std::thread::spawn(move || {
        embed_server::serve(socket, &server_pki, 1, until).map_err(|e| e.to_string())
    });
    let replies = embed_client::ping(addr, &pki, 3, until).map_err(|e| e.to_string());
    assert_eq!(
        replies,
        Ok(3),
        "every echo request is answered through the tunnel"
    );
    // The client's close reached the server: its one session ended and it returned.
    assert_eq!(server.join().unwrap(), Ok(()));
}
