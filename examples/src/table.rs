//! The session table as RouterOS prints it: `/interface ovpn-server print` and `/ppp active print`,
//! plus the one-line form the server logs when a session comes and goes. The rows are the
//! library's [`SessionInfo`]s.

use std::fmt::Write as _;
use std::time::Duration;

use ovpn_rsc::format_duration;
use ovpn_session::SessionInfo;

/// Packets and bytes through a tunnel interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Packets from the peer, written to the interface.
    pub rx_packets: u64,
    /// Their bytes.
    pub rx_bytes: u64,
    /// Packets read from the interface, sent to the peer.
    pub tx_packets: u64,
    /// Their bytes.
    pub tx_bytes: u64,
}

impl Counters {
    /// Counts a packet from the peer.
    pub fn rx(&mut self, len: usize) {
        self.rx_packets += 1;
        self.rx_bytes += len as u64;
    }

    /// Counts a packet to the peer.
    pub fn tx(&mut self, len: usize) {
        self.tx_packets += 1;
        self.tx_bytes += len as u64;
    }
}

/// Uptime in whole seconds, as RouterOS prints it (`1h2m3s`, `0s`).
pub fn uptime(d: Duration) -> String {
    format_duration(Duration::from_secs(d.as_secs()))
}

/// The one-line form, logged when a session connects or disconnects:
/// `name=ovpn-incoming1 user=client1 caller-id=192.0.2.2:40001 remote-address=10.8.0.2
/// encoding=AES-256-GCM uptime=0s rx-packets=0 tx-packets=0`.
pub fn row_line(r: &SessionInfo) -> String {
    format!(
        "name={} user={} caller-id={} remote-address={} encoding={} uptime={} rx-packets={} tx-packets={}",
        cell(r.name.as_deref()),
        ovpn_rsc::quote(r.user.as_deref().unwrap_or_default()),
        r.remote,
        cell(r.address),
        cell(r.encoding),
        uptime(r.uptime.unwrap_or_default()),
        r.traffic.packets_in,
        r.traffic.packets_out,
    )
}

/// A value, or empty.
fn cell(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Lays out rows under headers, RouterOS 7 style (` #` column, two spaces between columns);
/// with a `flags` legend, every row is flagged `DR` (the dynamic, running interfaces).
pub fn columns(headers: &[&str], rows: &[Vec<String>], flags: &str) -> String {
    let marks = if flags.is_empty() { "" } else { "DR" };
    let flagged: Vec<(&str, Vec<String>)> = rows.iter().map(|r| (marks, r.clone())).collect();
    columns_flagged(headers, &flagged, flags)
}

/// [`columns`] with each row's own flags (`R` for a running interface, blank otherwise).
pub fn columns_flagged(headers: &[&str], rows: &[(&str, Vec<String>)], flags: &str) -> String {
    let mut width: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for (_, r) in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let num_width = rows.len().saturating_sub(1).to_string().len().max(1);
    let mut out = String::new();
    if !flags.is_empty() {
        let _ = writeln!(out, "Flags: {flags}");
    }
    let _ = writeln!(out, "Columns: {}", headers.join(", "));
    let flag_col = if flags.is_empty() { "" } else { "   " };
    let mut line = format!(" {:>num_width$}{flag_col}", "#");
    for (h, w) in headers.iter().zip(&width) {
        let _ = write!(line, "  {h:<w$}");
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for (i, (marks, r)) in rows.iter().enumerate() {
        let mut line = if flags.is_empty() {
            format!(" {i:>num_width$}")
        } else {
            format!(" {i:>num_width$} {marks:<2}")
        };
        for (c, w) in r.iter().zip(&width) {
            let _ = write!(line, "  {c:<w$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `/interface ovpn-server print`: the dynamic `ovpn-incomingN` interfaces.
pub fn interface_print(rows: &[SessionInfo]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                cell(r.name.as_deref()),
                cell(r.user.as_deref()),
                r.remote.to_string(),
                cell(r.address),
                r.mtu.to_string(),
                cell(r.encoding),
                uptime(r.uptime.unwrap_or_default()),
            ]
        })
        .collect();
    columns(
        &[
            "NAME",
            "USER",
            "CALLER-ID",
            "REMOTE-ADDRESS",
            "MTU",
            "ENCODING",
            "UPTIME",
        ],
        &cells,
        "D - DYNAMIC; R - RUNNING",
    )
}

/// `/ppp active print`: the logged-in users.
pub fn ppp_active_print(rows: &[SessionInfo]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                cell(r.user.as_deref()),
                "ovpn".to_owned(),
                r.remote.ip().to_string(),
                cell(r.address),
                uptime(r.uptime.unwrap_or_default()),
                cell(r.encoding),
            ]
        })
        .collect();
    columns(
        &[
            "NAME",
            "SERVICE",
            "CALLER-ID",
            "ADDRESS",
            "UPTIME",
            "ENCODING",
        ],
        &cells,
        "",
    )
}

/// Two session rows (`client1` on `ovpn-incoming1`, `client2` on `ovpn-incoming2`) for tests and
/// fuzzing.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn two_rows() -> Vec<SessionInfo> {
    let a = rows::row();
    let mut b = a.clone();
    b.user = Some("client2".into());
    b.name = Some("ovpn-incoming2".into());
    b.session_id = a.session_id.map(|i| i + 1);
    vec![a, b]
}

#[cfg(test)]
mod tests {
    use super::rows::row;
    use super::*;

    #[test]
    fn one_line_form() {
        assert_eq!(
            row_line(&row()),
            "name=ovpn-incoming1 user=client1 caller-id=192.0.2.2:40001 remote-address=10.8.0.2 \
             encoding=AES-256-GCM uptime=1h2m3s rx-packets=5 tx-packets=6"
        );
    }

    #[test]
    fn tables_line_up() {
        let t = interface_print(&[row()]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Flags: D - DYNAMIC; R - RUNNING");
        assert!(lines[2].starts_with(" #     NAME"), "{t}");
        assert!(
            lines[3].starts_with(" 0 DR  ovpn-incoming1  client1"),
            "{t}"
        );
        // Columns start at the same offsets in the header and the row.
        let col = |l: &str, w: &str| l.find(w).unwrap();
        assert_eq!(col(lines[2], "ENCODING"), col(lines[3], "AES-256-GCM"));
        let p = ppp_active_print(&[row()]);
        assert!(
            p.lines()
                .nth(2)
                .unwrap()
                .starts_with(" 0  client1  ovpn     192.0.2.2"),
            "{p}"
        );
        assert_eq!(ppp_active_print(&[]).lines().count(), 2);
    }

    #[test]
    fn counters_count() {
        let mut c = Counters::default();
        c.rx(100);
        c.rx(50);
        c.tx(7);
        assert_eq!(
            (c.rx_packets, c.rx_bytes, c.tx_packets, c.tx_bytes),
            (2, 150, 1, 7)
        );
    }
}

/// The sample rows' making (tests and fuzzing).
#[cfg(any(test, feature = "fuzzing"))]
mod rows {
    use super::*;

    /// A real session: our client logged in to our server in memory, with the committed test
    /// PKI, then five packets in and six out, an hour, two minutes and three seconds later.
    pub(super) fn row() -> SessionInfo {
        use ovpn_pki::rustls_pki_types::pem::PemObject as _;
        use ovpn_pki::rustls_pki_types::{CertificateDer, PrivateKeyDer};
        use ovpn_session::{Client, ClientConfig, ClientState, Server, ServerConfig};
        use std::sync::Arc;
        use std::time::{Instant, SystemTime};

        let pki = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/");
        let cert = |n: &str| CertificateDer::from_pem_file(format!("{pki}{n}.crt")).unwrap();
        let id = |n: &str| ovpn_session::tls_config::Identity {
            chain: vec![cert(n)],
            key: PrivateKeyDer::from_pem_file(format!("{pki}{n}.key")).unwrap(),
        };
        let check = |role| Arc::new(ovpn_pki::PeerVerifier::new(&[cert("ca")], role).unwrap());
        let mut ppp = ovpn_ppp::PppConfig::new();
        ppp.add_profile_text("name=p local-address=10.8.0.1 remote-address=pool")
            .unwrap();
        ppp.add_secret_text("name=client1 password=pw profile=p")
            .unwrap();
        let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
        pools
            .add(ovpn_pool::Pool::ipv4("pool", "10.8.0.2-10.8.0.9".parse().unwrap()).unwrap())
            .unwrap();
        let sc = ServerConfig::new(id("server"));
        let from = "192.0.2.2:40001".parse().unwrap();
        let check = check(ovpn_pki::PeerRole::TlsServer);
        let cc = ClientConfig::new(
            "c",
            "192.0.2.1:1194".parse().unwrap(),
            "client1",
            "pw",
            check,
        );
        #[allow(clippy::disallowed_methods, reason = "a test's one clock read")]
        let (mut now, wall) = (
            Instant::now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_737_600),
        );
        let mut server = Server::new(sc, ovpn_session::Shared::new(ppp, pools), now, wall).unwrap();
        let mut client = Client::new(cc, now, wall).unwrap();
        let mut buf = Vec::new();
        while client.state() != &ClientState::Connected {
            while let Some(t) = client.poll_transmit(now, &mut buf) {
                let _ = server.handle_datagram(now, from, &mut buf[..t.len]);
            }
            while let Some(t) = server.poll_transmit(now, &mut buf) {
                let _ = client.handle_datagram(now, &mut buf[..t.len]);
            }
            while client.poll_event().is_some() {}
            while server.poll_event().is_some() {}
            now += Duration::from_millis(1);
        }
        let peer = server.sessions(now)[0].peer;
        let mut b = vec![0u8; ovpn_session::HEADROOM + 60 + ovpn_session::TAILROOM];
        let h = ovpn_session::HEADROOM;
        for i in 0..6 {
            let (_, r) = server.encapsulate(now, peer, &mut b, h, 60).unwrap();
            let _ = client.handle_datagram(now, &mut b[r]);
            if i < 5 {
                b[h] = 0x45;
                b[h + 12..h + 16].copy_from_slice(&[10, 8, 0, 2]);
                let r = client.encapsulate(now, &mut b, h, 60).unwrap();
                let _ = server.handle_datagram(now, from, &mut b[r]);
            }
        }
        server
            .sessions(now + Duration::from_millis(3_723_400))
            .remove(0)
    }
}
