//! The session table as RouterOS prints it: `/interface ovpn-server print` and `/ppp active print`,
//! plus the one-line form the server logs when a session comes and goes.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ovpn_ppp::format_duration;

/// One session, as the programs know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// `ovpn-incomingN`.
    pub name: String,
    /// The PPP user.
    pub user: String,
    /// The client's outer address and port (`caller-id`).
    pub caller_id: SocketAddr,
    /// The client's tunnel address.
    pub address: Ipv4Addr,
    /// Our end of the tunnel (`local-address`).
    pub local_address: Ipv4Addr,
    /// `AES-256-GCM`, `AES-256-CBC/SHA256`.
    pub encoding: String,
    /// Time since login.
    pub uptime: Duration,
    /// The tunnel MTU.
    pub mtu: u16,
    /// Traffic through the tunnel, counted at the tunnel interface.
    pub counters: Counters,
}

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
pub fn row_line(r: &SessionRow) -> String {
    format!(
        "name={} user={} caller-id={} remote-address={} encoding={} uptime={} rx-packets={} tx-packets={}",
        r.name,
        ovpn_ppp::properties::quote(&r.user),
        r.caller_id,
        r.address,
        r.encoding,
        uptime(r.uptime),
        r.counters.rx_packets,
        r.counters.tx_packets,
    )
}

/// Lays out rows under headers, RouterOS 7 style (` #` column, two spaces between columns).
pub fn columns(headers: &[&str], rows: &[Vec<String>], flags: &str) -> String {
    let mut width: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
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
    for (i, r) in rows.iter().enumerate() {
        let mut line = if flags.is_empty() {
            format!(" {i:>num_width$}")
        } else {
            format!(" {i:>num_width$} DR")
        };
        for (c, w) in r.iter().zip(&width) {
            let _ = write!(line, "  {c:<w$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `/interface ovpn-server print`: the dynamic `ovpn-incomingN` interfaces.
pub fn interface_print(rows: &[SessionRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.user.clone(),
                r.caller_id.to_string(),
                r.address.to_string(),
                r.mtu.to_string(),
                r.encoding.clone(),
                uptime(r.uptime),
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
pub fn ppp_active_print(rows: &[SessionRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.user.clone(),
                "ovpn".to_owned(),
                r.caller_id.ip().to_string(),
                r.address.to_string(),
                uptime(r.uptime),
                r.encoding.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> SessionRow {
        SessionRow {
            name: "ovpn-incoming1".into(),
            user: "client1".into(),
            caller_id: "192.0.2.2:40001".parse().unwrap(),
            address: Ipv4Addr::new(10, 8, 0, 2),
            local_address: Ipv4Addr::new(10, 8, 0, 1),
            encoding: "AES-256-GCM".into(),
            uptime: Duration::from_millis(3_723_400),
            mtu: 1500,
            counters: Counters {
                rx_packets: 5,
                rx_bytes: 500,
                tx_packets: 6,
                tx_bytes: 600,
            },
        }
    }

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
