//! The console's commands on a running server: one line in, RouterOS's output (or error) out.
//!
//! - `/interface ovpn-server print [detail|terse|count-only] [where ...]`: the dynamic
//!   `ovpn-incomingN` interfaces;
//! - `/ppp active print [detail|terse|count-only] [where ...]` and
//!   `/ppp active remove <number|[find ...]>`;
//! - `/interface ovpn-server server print [detail|terse|count-only]`: the servers' properties
//!   (`key: value` for the one server, as RouterOS before 7.17);
//! - `/interface ovpn-server server set [NAME] ...`: live; new sessions get the new settings
//!   (cipher, auth, keepalive-timeout, max-mtu, default-profile, certificate, ...), established
//!   ones keep theirs; a new `port`, `protocol` or `mode` makes the server listen anew, ending
//!   its sessions (RouterOS's restart); kept across a restart;
//! - `/interface ovpn-client print [detail|terse|count-only] [where ...]`: the client's
//!   interfaces, with their status (`connected`, `connecting`, `disconnected`, `error` and why);
//! - `/interface ovpn-client enable|disable <name|number|[find ...]>`: `disable` ends the
//!   session, telling the server, and the interface stays down until `enable`; kept;
//! - `/ppp secret print|add|set|remove|enable|disable`: live (the next login sees the change;
//!   removing or disabling a secret ends its session), and kept across a restart;
//! - `/ppp profile print|add|set|remove`: live (the next login uses the change), kept;
//! - `/log print [where ...]`: the memory log;
//! - `/export [terse] [show-sensitive]`: the running configuration as a script (certificates,
//!   pools, PPP tables, servers), passwords and passphrases only with `show-sensitive`.
//!
//! Row numbers are the positions in the listing as it is at the moment (oldest session first),
//! so `remove 0` after `print` removes the first row printed.

use ovpn_session::SessionInfo;

use super::filter::Filter;
use crate::table;

/// The console's commands: each menu with its verbs (for completion and help).
pub const COMMANDS: &[(&str, &[&str])] = &[
    ("interface ovpn-server", &["print", "monitor"]),
    (
        "interface ovpn-server server",
        &[
            "print",
            "add",
            "set",
            "remove",
            "export-client-configuration",
            "generate-tls-key",
            "generate-tls-crypt-v2-key",
            "generate-tls-crypt-v2-client-key",
        ],
    ),
    (
        "interface ovpn-client",
        &["print", "monitor", "enable", "disable"],
    ),
    ("ppp active", &["print", "remove"]),
    (
        "ppp secret",
        &["print", "add", "set", "remove", "enable", "disable"],
    ),
    ("interface", &["print"]),
    (
        "certificate",
        &[
            "print",
            "add",
            "sign",
            "import",
            "export-certificate",
            "issued-revoke",
            "set",
            "remove",
        ],
    ),
    ("certificate settings", &["print", "set"]),
    ("system resource", &["print"]),
    ("ip route", &["print", "add", "remove"]),
    (
        "system logging",
        &["print", "add", "set", "remove", "enable", "disable"],
    ),
    ("system logging action", &["print", "set"]),
    ("ip pool", &["print", "add", "set", "remove"]),
    ("ip pool used", &["print"]),
    ("ipv6 pool", &["print", "add", "set", "remove"]),
    ("ipv6 pool used", &["print"]),
    ("log", &["print"]),
];

/// The words `print` takes.
pub const PRINT_WORDS: &[&str] = &["detail", "terse", "count-only", "where"];

/// The keys a menu's rows have (for `where` and `[find]`, and their completion).
pub fn row_keys(menu: &str) -> &'static [&'static str] {
    match menu {
        "interface ovpn-server" => &[
            "name",
            "user",
            "caller-id",
            "remote-address",
            "local-address",
            "mtu",
            "encoding",
            "uptime",
            "rx-byte",
            "tx-byte",
            "rx-packet",
            "tx-packet",
            "dynamic",
            "running",
        ],
        "ppp active" => &[
            "name",
            "service",
            "caller-id",
            "encoding",
            "address",
            "uptime",
            "session-id",
            "interface",
        ],
        "interface ovpn-client" => &[
            "name",
            "connect-to",
            "status",
            "reason",
            "uptime",
            "encoding",
            "mtu",
            "local-address",
            "remote-address",
            "rx-byte",
            "tx-byte",
            "rx-packet",
            "tx-packet",
            "running",
            "disabled",
        ],
        "ppp secret" => &[
            "name",
            "password",
            "service",
            "profile",
            "local-address",
            "remote-address",
            "caller-id",
            "limit-bytes-in",
            "limit-bytes-out",
            "comment",
            "disabled",
        ],
        "ppp profile" => &[
            "name",
            "local-address",
            "remote-address",
            "remote-ipv6-prefix-pool",
            "dns-server",
            "use-compression",
            "use-encryption",
            "only-one",
            "change-tcp-mss",
            "session-timeout",
            "idle-timeout",
            "rate-limit",
            "address-list",
            "bridge",
            "comment",
        ],
        "ip pool" => &[
            "name",
            "ranges",
            "next-pool",
            "comment",
            "total",
            "used",
            "available",
        ],
        "ip pool used" | "ipv6 pool used" => &["pool", "address", "owner", "info"],
        "ip route" => &["dst-address", "gateway"],
        "ipv6 pool" => &[
            "name",
            "prefix",
            "prefix-length",
            "next-pool",
            "comment",
            "total",
            "used",
            "available",
        ],
        "interface" => &["name", "type", "actual-mtu", "dynamic", "running"],
        "system logging" => &["topics", "action", "prefix", "disabled", "default"],
        "system logging action" => &["memory-lines"],
        "log" => &["topics", "message"],
        _ => &[],
    }
}

/// An `ovpn-client` interface as `/interface ovpn-client print` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRow {
    /// `ovpn-out1`.
    pub name: String,
    /// The server it connects to (`host:port`).
    pub connect_to: String,
    /// `connected`, `connecting`, `disconnected` or `error`.
    pub status: String,
    /// Why it is not connected, when it says.
    pub reason: Option<String>,
    /// Since when it is connected.
    pub uptime: Option<std::time::Duration>,
    /// The data channel's cipher (and digest).
    pub encoding: Option<String>,
    /// The interface's MTU.
    pub mtu: Option<u16>,
    /// Our tunnel address (`10.8.0.2/24`).
    pub local_address: Option<String>,
    /// The server's tunnel address.
    pub remote_address: Option<String>,
    /// Traffic through the interface.
    pub counters: table::Counters,
    /// Disabled from the console (`disable`).
    pub disabled: bool,
}

/// What the console reads and changes in the running program. A program implements what it
/// has: a server its sessions, a client its interfaces.
pub trait Live {
    /// The logged-in sessions of every server, oldest first.
    fn sessions(&self) -> Vec<SessionInfo> {
        Vec::new()
    }
    /// Ends a session (`/ppp active remove`): its server tells the client and frees its address.
    fn remove_session(&self, session_id: u32) -> Result<(), String> {
        Err(format!("no such item ({session_id:#x})"))
    }
    /// The client interfaces.
    fn clients(&self) -> Vec<ClientRow> {
        Vec::new()
    }
    /// The PPP secrets (`/ppp secret`).
    fn secrets(&self) -> Vec<ovpn_ppp::Secret> {
        Vec::new()
    }
    /// The PPP profiles (`/ppp profile`).
    fn profiles(&self) -> Vec<ovpn_ppp::Profile> {
        Vec::new()
    }
    /// Changes the PPP tables the servers use (the next login sees the change; a removed or
    /// disabled secret's session ends).
    fn change_ppp(
        &self,
        change: &mut dyn FnMut(&mut ovpn_ppp::PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        let _ = change;
        Err("bad command name (this program has no /ppp tables)".into())
    }
    /// The live tables as a script (`/export`): pools, PPP profiles and secrets, passwords only
    /// with `show_sensitive`.
    fn export(&self, show_sensitive: bool) -> String {
        let _ = show_sensitive;
        String::new()
    }
    /// Adds a client interface (`/interface ovpn-client add ...`), disabled unless
    /// `disabled=no`, as RouterOS does. Returns the warnings of properties without effect.
    fn add_client(&self, props: &[(String, String)]) -> Result<String, String> {
        let _ = props;
        Err("bad command name (this program has no client interfaces)".into())
    }
    /// Removes a client interface (`/interface ovpn-client remove`): its session ends, the
    /// server told.
    fn remove_client(&self, name: &str) -> Result<(), String> {
        let _ = name;
        Err("bad command name (this program has no client interfaces)".into())
    }
    /// The routes through the client interfaces (`/ip route`): destination and interface.
    fn routes(&self) -> Result<Vec<(ipnet::Ipv4Net, String)>, String> {
        Err("bad command name (this program has no routes of its own)".into())
    }
    /// Makes `routes` the routes through client interface `gateway`.
    fn set_routes(&self, gateway: &str, routes: Vec<ipnet::Ipv4Net>) -> Result<(), String> {
        let _ = (gateway, routes);
        Err("bad command name (this program has no routes of its own)".into())
    }
    /// Changes a client interface's properties (`/interface ovpn-client set`): its session
    /// ends and a new one starts with them. Returns the warnings of properties without effect.
    fn set_client(&self, name: &str, props: &[(String, String)]) -> Result<String, String> {
        let _ = (name, props);
        Err("bad command name (this program has no client interfaces)".into())
    }
    /// Enables or disables a client interface (`/interface ovpn-client enable|disable`).
    fn enable_client(&self, name: &str, enable: bool) -> Result<(), String> {
        let _ = (name, enable);
        Err("bad command name (this program has no client interfaces)".into())
    }
    /// Runs `f` on the certificate store (`/certificate` at run time).
    fn with_store(
        &self,
        f: &mut dyn FnMut(&mut ovpn_pki::Store) -> Result<String, String>,
    ) -> Result<String, String> {
        let _ = f;
        Err("bad command name (this program has no /certificate at run time)".into())
    }
    /// The state directory: exports go there, kept certificates and imports are found there.
    fn state_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// The server whose certificate `name` is, if one is.
    fn certificate_user(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }
    /// The certificates changed (a CA trusted, a CRL made or read): the servers that check
    /// client certificates get a new check (a newly revoked client's session ends).
    fn certificates_changed(&self) -> Result<(), String> {
        Ok(())
    }
    /// When the program started (`/system resource print`'s uptime).
    fn started(&self) -> Option<std::time::Instant> {
        None
    }
    /// Reads the IP pools of `family` the servers share (`/ip pool print`, `/ipv6 pool used
    /// print`, ...).
    fn view_pools(&self, family: ovpn_pool::Family, view: &mut dyn FnMut(&ovpn_pool::PoolSet)) {
        let _ = (family, view);
    }
    /// Changes the IP pools of `family` (`/ip pool add|set|remove`, `/ipv6 pool ...`), with the
    /// PPP tables to look at: the next login sees the change.
    fn change_pools(
        &self,
        family: ovpn_pool::Family,
        change: &mut dyn FnMut(&mut ovpn_pool::PoolSet, &ovpn_ppp::PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        let _ = (family, change);
        Err("bad command name (this program has no /ip pool)".into())
    }
    /// The servers' `/interface ovpn-server server` properties.
    fn servers(&self) -> Vec<crate::settings::ServerSettings> {
        Vec::new()
    }
    /// Changes a server's properties (`/interface ovpn-server server set [NAME] ...`): new
    /// sessions get the new settings; a new port, protocol or mode makes it listen anew,
    /// ending its sessions. Returns the warnings of properties without effect.
    fn set_server(
        &self,
        which: Option<&str>,
        props: &[(String, String)],
    ) -> Result<String, String> {
        let _ = (which, props);
        Err("bad command name (this program runs no server)".into())
    }
    /// Reads a file a command names: from the configuration script's folder, then from the
    /// state directory (an absolute path as it is), as the script does at start.
    fn read_file(&self, name: &str) -> Result<Vec<u8>, String> {
        Err(format!(
            "{name}: this program reads no files from the console"
        ))
    }
    /// Writes a `.ovpn` profile for a client into the state directory
    /// (`/interface ovpn-server server export-client-configuration ...`); says where.
    fn export_client_profile(&self, props: &[(String, String)]) -> Result<String, String> {
        let _ = props;
        Err("bad command name (this program runs no server)".into())
    }
    /// Adds a server (`/interface ovpn-server server add ...`, RouterOS 7.17): it starts
    /// listening at once unless `disabled=yes`. Returns the warnings of properties without
    /// effect.
    fn add_server(&self, props: &[(String, String)]) -> Result<String, String> {
        let _ = props;
        Err("bad command name (this program runs no server)".into())
    }
    /// Removes a server: its sessions end, the clients told.
    fn remove_server(&self, name: &str) -> Result<(), String> {
        let _ = name;
        Err("bad command name (this program runs no server)".into())
    }
    /// Keeps a change made from the console, so that a restart keeps it.
    fn keep(&self, line: &str) -> Result<(), String> {
        let _ = line;
        Ok(())
    }
}

fn secret_row(s: &ovpn_ppp::Secret) -> Row {
    vec![
        ("name", s.name.clone()),
        ("service", s.service.to_string()),
        ("profile", s.profile.clone()),
        (
            "local-address",
            s.local_address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        (
            "remote-address",
            s.remote_address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("caller-id", s.caller_id.clone().unwrap_or_default()),
        ("limit-bytes-in", s.limit_bytes_in.to_string()),
        ("limit-bytes-out", s.limit_bytes_out.to_string()),
        ("comment", s.comment.clone().unwrap_or_default()),
        ("disabled", if s.disabled { "yes" } else { "no" }.into()),
    ]
}

fn profile_row(p: &ovpn_ppp::Profile) -> Row {
    let text = p.to_string();
    let mut row: Row = vec![("name", p.name.clone())];
    // Every property the profile sets, as `/ppp profile print detail` lists them.
    if let Ok(props) = ovpn_rsc::parse_properties(&text) {
        for (k, v) in props.into_iter().filter(|(k, _)| k != "name") {
            if let Some(key) = row_keys("ppp profile").iter().find(|x| **x == k) {
                row.push((key, v));
            }
        }
    }
    row
}

/// The names a `set`/`remove`/`enable`/`disable` targets among `names` (listing order): row
/// numbers, `[find ...]` over the rows, or names.
pub(super) fn named_targets(
    c: &crate::rsc::Command,
    names: &[String],
    rows: &[Row],
) -> Result<Vec<String>, String> {
    let Some(what) = c.positional.first() else {
        return Err("expected a number, a name or [find ...]".into());
    };
    if let Some(inner) = what.strip_prefix("[find").and_then(|s| s.strip_suffix(']')) {
        let filter = Filter::parse(inner.trim().trim_start_matches("where").trim())
            .map_err(|e| e.to_string())?;
        return Ok(names
            .iter()
            .zip(rows)
            .filter(|(_, r)| filter.matches(&lookup(r)))
            .map(|(n, _)| n.clone())
            .collect());
    }
    what.split(',')
        .map(|w| {
            let w = w.trim();
            match w.parse::<usize>() {
                Ok(n) => match super::numbers::resolve(n) {
                    // The row this console's last print showed as n, if it is still there.
                    Some(id) => id.and_then(|id| names.iter().find(|s| **s == id).cloned()),
                    None => names.get(n).cloned(),
                },
                Err(_) => names.iter().find(|s| *s == w).cloned(),
            }
            .ok_or_else(|| format!("no such item ({w})"))
        })
        .collect()
}

fn client_row(c: &ClientRow) -> Row {
    vec![
        ("name", c.name.clone()),
        ("connect-to", c.connect_to.clone()),
        ("status", c.status.clone()),
        ("reason", c.reason.clone().unwrap_or_default()),
        ("uptime", c.uptime.map(table::uptime).unwrap_or_default()),
        ("encoding", c.encoding.clone().unwrap_or_default()),
        ("mtu", c.mtu.map(|m| m.to_string()).unwrap_or_default()),
        ("local-address", c.local_address.clone().unwrap_or_default()),
        (
            "remote-address",
            c.remote_address.clone().unwrap_or_default(),
        ),
        ("rx-byte", c.counters.rx_bytes.to_string()),
        ("tx-byte", c.counters.tx_bytes.to_string()),
        ("rx-packet", c.counters.rx_packets.to_string()),
        ("tx-packet", c.counters.tx_packets.to_string()),
        (
            "running",
            if c.status == "connected" { "yes" } else { "no" }.into(),
        ),
        ("disabled", if c.disabled { "yes" } else { "no" }.into()),
    ]
}

/// Keeps a change for the next start. A command that named its rows by number (or by
/// `[find]`) is kept once per row it changed, by name (`[find name="bob"]`): numbers depend on
/// a console's last print, which a replay does not have.
pub(super) fn keep_change(
    live: &dyn Live,
    c: &crate::rsc::Command,
    line: &str,
    targets: Option<&[String]>,
) -> Result<(), String> {
    let Some(targets) = targets.filter(|_| !c.positional.is_empty()) else {
        return live.keep(line.trim());
    };
    let props: String = c
        .props
        .iter()
        .map(|(k, v)| format!(" {k}={}", crate::rsc::quote(v)))
        .collect();
    for t in targets {
        live.keep(&format!(
            "/{} {} [find name={}]{props}",
            c.menu,
            c.verb,
            crate::rsc::quote(t)
        ))?;
    }
    Ok(())
}

/// How `print` lays rows out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    Table,
    Detail,
    Terse,
    Count,
}

/// Splits `... where EXPR` at the word `where` (outside quotes and brackets).
fn split_where(line: &str) -> (&str, Option<&str>) {
    let b = line.as_bytes();
    let (mut quoted, mut depth) = (false, 0usize);
    for i in 0..b.len() {
        match b[i] {
            b'"' if i == 0 || b[i - 1] != b'\\' => quoted = !quoted,
            b'[' if !quoted => depth += 1,
            b']' if !quoted => depth = depth.saturating_sub(1),
            _ if quoted || depth > 0 => {}
            b'w' if line[i..].starts_with("where")
                && (i == 0 || b[i - 1].is_ascii_whitespace())
                && b.get(i + 5).is_none_or(u8::is_ascii_whitespace) =>
            {
                return (&line[..i], Some(line[i + 5..].trim()));
            }
            _ => {}
        }
    }
    (line, None)
}

/// A row as `key=value` pairs (for `where`, `detail` and `terse`).
pub(super) type Row = Vec<(&'static str, String)>;

fn ppp_active_row(s: &SessionInfo) -> Row {
    vec![
        ("name", s.user.clone().unwrap_or_default()),
        ("service", "ovpn".into()),
        ("caller-id", s.remote.ip().to_string()),
        (
            "encoding",
            s.encoding.map(|e| e.to_string()).unwrap_or_default(),
        ),
        (
            "address",
            s.address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("uptime", table::uptime(s.uptime.unwrap_or_default())),
        (
            "session-id",
            s.session_id.map(|i| format!("{i:#x}")).unwrap_or_default(),
        ),
        ("interface", s.name.clone().unwrap_or_default()),
    ]
}

fn interface_row(s: &SessionInfo) -> Row {
    vec![
        ("name", s.name.clone().unwrap_or_default()),
        ("user", s.user.clone().unwrap_or_default()),
        ("caller-id", s.remote.to_string()),
        (
            "remote-address",
            s.address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        (
            "local-address",
            s.local_address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("mtu", s.mtu.to_string()),
        (
            "encoding",
            s.encoding.map(|e| e.to_string()).unwrap_or_default(),
        ),
        ("uptime", table::uptime(s.uptime.unwrap_or_default())),
        ("rx-byte", s.traffic.bytes_in.to_string()),
        ("tx-byte", s.traffic.bytes_out.to_string()),
        ("rx-packet", s.traffic.packets_in.to_string()),
        ("tx-packet", s.traffic.packets_out.to_string()),
        ("dynamic", "yes".into()),
        ("running", "yes".into()),
    ]
}

pub(super) fn lookup<'a>(row: &'a Row) -> impl Fn(&str) -> Option<&'a str> {
    move |k| row.iter().find(|(x, _)| *x == k).map(|(_, v)| v.as_str())
}

/// RouterOS's `print detail`: a numbered block of `key=value` per row, wrapped at 80 columns.
fn detail<K: AsRef<str>>(rows: &[(usize, Vec<(K, String)>)], flags: &str) -> String {
    let mut out = String::new();
    if !flags.is_empty() {
        out.push_str(&format!("Flags: {flags}\n"));
    }
    for (n, row) in rows {
        let mut line = format!("{n:>2}   ");
        let indent = line.len();
        for (k, v) in row {
            let item = format!("{}={} ", k.as_ref(), crate::rsc::quote(v));
            if line.len() + item.len() > 80 && line.len() > indent {
                out.push_str(line.trim_end());
                out.push('\n');
                line = " ".repeat(indent);
            }
            line.push_str(&item);
        }
        out.push_str(line.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// RouterOS's `monitor`: `key: value` lines, keys aligned right.
fn monitor(row: &Row, server: bool) -> String {
    let keys: &[&str] = if server {
        &[
            "name",
            "user",
            "caller-id",
            "encoding",
            "local-address",
            "remote-address",
            "mtu",
            "uptime",
            "rx-byte",
            "tx-byte",
            "rx-packet",
            "tx-packet",
        ]
    } else {
        &[
            "name",
            "status",
            "reason",
            "connect-to",
            "encoding",
            "local-address",
            "remote-address",
            "mtu",
            "uptime",
            "rx-byte",
            "tx-byte",
            "rx-packet",
            "tx-packet",
        ]
    };
    let get = lookup(row);
    let mut lines: Vec<(&str, String)> = Vec::new();
    if server {
        lines.push(("status", "connected".to_owned()));
    }
    for k in keys {
        let v = get(k).unwrap_or_default();
        if *k == "reason" && v.is_empty() {
            continue;
        }
        lines.push((k, v.to_owned()));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    lines
        .iter()
        .map(|(k, v)| format!("{}\n", format!("{k:>width$}: {v}").trim_end()))
        .collect()
}

/// RouterOS's `print terse`: one line per row.
fn terse(rows: &[(usize, Row)]) -> String {
    rows.iter()
        .map(|(n, row)| {
            let kv: Vec<String> = row
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::rsc::quote(v)))
                .collect();
            format!("{n:>2} {}\n", kv.join(" "))
        })
        .collect()
}

/// Runs one console line against `live`. `Ok` holds the output, `Err` RouterOS's error.
pub fn run(line: &str, live: &dyn Live) -> Result<String, String> {
    let (head, filter_text) = split_where(line.trim());
    let filter = Filter::parse(filter_text.unwrap_or_default()).map_err(|e| e.to_string())?;
    // `/export [terse] [show-sensitive]`: the root menu's command.
    let mut words = head.split_whitespace();
    let first = words.next();
    if first == Some("/quit") {
        // The console ends (its client leaves); the program runs on.
        return match words.next() {
            None => Ok(String::new()),
            Some(w) => Err(format!("expected end of command ({w})")),
        };
    }
    if first == Some("/export") {
        let (mut sensitive, mut terse) = (false, false);
        for w in words {
            match w {
                "show-sensitive" => sensitive = true,
                "terse" => terse = true,
                other => return Err(format!("expected end of command ({other})")),
            }
        }
        if filter_text.is_some() {
            return Err("expected end of command (where)".into());
        }
        let text = live.export(sensitive);
        if !terse {
            return Ok(text);
        }
        // `terse`: every command on one line with its whole menu path.
        let mut menu = String::new();
        let mut out = String::new();
        for line in text.lines() {
            if line.starts_with('#') {
                out.push_str(line);
                out.push('\n');
            } else if let Some(m) = line.strip_prefix('/') {
                menu = m.to_owned();
            } else {
                out.push_str(&format!("/{menu} {line}\n"));
            }
        }
        return Ok(out);
    }
    let commands = crate::rsc::parse(head).map_err(|e| {
        e.first()
            .map(|e| format!("syntax error: {}", e.what))
            .unwrap_or_default()
    })?;
    let [c] = commands.as_slice() else {
        return Err("expected one command".into());
    };
    super::numbers::begin(&c.menu);
    let form = || -> Result<Form, String> {
        let mut form = Form::Table;
        for p in &c.positional {
            form = match p.as_str() {
                "detail" => Form::Detail,
                "terse" => Form::Terse,
                "count-only" => Form::Count,
                "brief" => Form::Table,
                other => {
                    return Err(format!(
                        "expected end of command (line 1 column {})",
                        line.find(other).map_or(1, |i| i + 1)
                    ));
                }
            };
        }
        if let Some((k, _)) = c.props.first() {
            return Err(format!(
                "expected end of command ({k}= is not a print option)"
            ));
        }
        Ok(form)
    };
    if c.menu.starts_with("ip firewall") || c.menu.starts_with("interface list") {
        // As the script does: accepted, named as without effect.
        return Ok(format!(
            "/{} {} skipped: the host's firewall and interface lists are not ours to change\n",
            c.menu, c.verb
        ));
    }
    if let Some(out) = super::routes::run(c, form, &filter, live)? {
        return Ok(out);
    }
    if let Some(out) = super::keys::run(c, live)? {
        return Ok(out);
    }
    if let Some(out) = super::system::run(c, form, &filter, live)? {
        return Ok(out);
    }
    if c.menu.starts_with("system logging")
        && let Some(out) = super::logging_rules::run(c, form, &filter)?
    {
        if c.verb != "print" {
            live.keep(line.trim())?;
        }
        return Ok(out);
    }
    if let Some(out) = super::certificates::run(c, line, form, filter_text.is_some(), live)? {
        return Ok(out);
    }
    if (c.menu.starts_with("ip pool") || c.menu.starts_with("ipv6 pool"))
        && let Some(out) = super::pools::run(c, line, form, &filter, live)?
    {
        return Ok(out);
    }
    match (c.menu.as_str(), c.verb.as_str()) {
        (menu @ ("interface ovpn-server" | "interface ovpn-client"), "monitor") => {
            let (mut which, mut once) = (None, false);
            for p in &c.positional {
                match p.as_str() {
                    "once" => once = true,
                    w if which.is_none() => which = Some(w),
                    other => return Err(format!("expected end of command ({other})")),
                }
            }
            let _ = once; // the console's end repeats the command every second without it
            if let Some((k, _)) = c.props.first() {
                return Err(format!("expected end of command ({k}=)"));
            }
            let which = which.ok_or("expected an interface name or number")?;
            let rows: Vec<Row> = if menu == "interface ovpn-server" {
                live.sessions().iter().map(interface_row).collect()
            } else {
                live.clients().iter().map(client_row).collect()
            };
            let row = which
                .parse::<usize>()
                .ok()
                .and_then(|n| rows.get(n))
                .or_else(|| rows.iter().find(|r| lookup(r)("name") == Some(which)))
                .ok_or_else(|| format!("no such item ({which})"))?;
            Ok(monitor(row, menu == "interface ovpn-server"))
        }
        ("interface ovpn-server", "print") => {
            let form = form()?;
            let sessions = live.sessions();
            let rows = select(&sessions, interface_row, &filter);
            Ok(render(form, rows, "D - DYNAMIC; R - RUNNING", |rows| {
                let chosen: Vec<SessionInfo> =
                    rows.iter().map(|(i, _)| sessions[*i].clone()).collect();
                table::interface_print(&chosen)
            }))
        }
        ("interface ovpn-server server", "print") => {
            let form = form()?;
            let servers = live.servers();
            let rows: Vec<(usize, Vec<(String, String)>)> = servers
                .iter()
                .map(crate::settings::ServerSettings::print_rows)
                .filter(|r| {
                    filter
                        .matches(&|k: &str| r.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str()))
                })
                .enumerate()
                .collect();
            Ok(match form {
                Form::Count => format!("{}\n", rows.len()),
                // The one server (RouterOS before 7.17): `key: value`, keys aligned right.
                Form::Table if servers.len() == 1 => rows
                    .first()
                    .map(|(_, r)| {
                        let width = r.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
                        r.iter()
                            .map(|(k, v)| format!("{}\n", format!("{k:>width$}: {v}").trim_end()))
                            .collect()
                    })
                    .unwrap_or_default(),
                Form::Terse => rows
                    .iter()
                    .map(|(n, r)| {
                        let kv: Vec<String> = r
                            .iter()
                            .map(|(k, v)| format!("{k}={}", crate::rsc::quote(v)))
                            .collect();
                        format!("{n:>2} {}\n", kv.join(" "))
                    })
                    .collect(),
                _ => detail(&rows, "X - DISABLED"),
            })
        }
        ("interface ovpn-server server", "export-client-configuration") => {
            if let Some(p) = c.positional.first() {
                return Err(format!("expected end of command ({p})"));
            }
            // An action: the file is the result, nothing to keep.
            live.export_client_profile(&c.props)
        }
        ("interface ovpn-server server", "add") => {
            if let Some(p) = c.positional.first() {
                return Err(format!(
                    "expected end of command (add takes properties only: {p})"
                ));
            }
            let out = live.add_server(&c.props)?;
            keep_change(live, c, line, None)?;
            Ok(out)
        }
        ("interface ovpn-server server", "remove") => {
            if let Some((k, _)) = c.props.first() {
                return Err(format!(
                    "expected end of command (remove takes no property {k}=)"
                ));
            }
            let servers = live.servers();
            let names: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
            let rows: Vec<Row> = servers
                .iter()
                .map(|s| vec![("name", s.name.clone())])
                .collect();
            let targets = named_targets(c, &names, &rows)?;
            for n in &targets {
                live.remove_server(n)?;
            }
            keep_change(live, c, line, Some(&targets))?;
            Ok(String::new())
        }
        ("interface ovpn-server server", "set") => {
            if c.positional.len() > 1 {
                return Err(format!("expected end of command ({})", c.positional[1]));
            }
            let which = match c.positional.first() {
                Some(p) if p.starts_with("[find") => {
                    let inner = p
                        .strip_prefix("[find")
                        .and_then(|s| s.strip_suffix(']'))
                        .unwrap_or_default();
                    let f = Filter::parse(inner.trim().trim_start_matches("where").trim())
                        .map_err(|e| e.to_string())?;
                    let found: Vec<String> = live
                        .servers()
                        .iter()
                        .filter(|s| {
                            let r = s.print_rows();
                            f.matches(&|k: &str| {
                                r.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
                            })
                        })
                        .map(|s| s.name.clone())
                        .collect();
                    match found.as_slice() {
                        [one] => Some(one.clone()),
                        [] => return Err("no such item".into()),
                        _ => return Err("set one server at a time".into()),
                    }
                }
                other => other.cloned(),
            };
            let out = live.set_server(which.as_deref(), &c.props)?;
            live.keep(line.trim())?;
            Ok(out)
        }
        ("ppp active", "print") => {
            let form = form()?;
            let sessions = live.sessions();
            let rows = select(&sessions, ppp_active_row, &filter);
            Ok(render(form, rows, "", |rows| {
                let chosen: Vec<SessionInfo> =
                    rows.iter().map(|(i, _)| sessions[*i].clone()).collect();
                table::ppp_active_print(&chosen)
            }))
        }
        ("interface ovpn-client", "print") => {
            let form = form()?;
            let clients = live.clients();
            let rows: Vec<(usize, Row)> = clients
                .iter()
                .map(client_row)
                .filter(|r| filter.matches(&lookup(r)))
                .enumerate()
                .collect();
            Ok(render(form, rows, "X - DISABLED; R - RUNNING", |rows| {
                let cells: Vec<(&str, Vec<String>)> = rows
                    .iter()
                    .map(|(_, r)| {
                        let running = lookup(r)("running") == Some("yes");
                        let disabled = lookup(r)("disabled") == Some("yes");
                        let cells = ["name", "connect-to", "status", "uptime", "encoding"]
                            .iter()
                            .map(|k| lookup(r)(k).unwrap_or_default().to_owned())
                            .collect();
                        let flag = match (disabled, running) {
                            (true, _) => "X",
                            (false, true) => "R",
                            (false, false) => "",
                        };
                        (flag, cells)
                    })
                    .collect();
                table::columns_flagged(
                    &["NAME", "CONNECT-TO", "STATUS", "UPTIME", "ENCODING"],
                    &cells,
                    "X - DISABLED; R - RUNNING",
                )
            }))
        }
        ("interface ovpn-client", "add") => {
            if let Some(p) = c.positional.first() {
                return Err(format!(
                    "expected end of command (add takes properties only: {p})"
                ));
            }
            let out = live.add_client(&c.props)?;
            keep_change(live, c, line, None)?;
            Ok(out)
        }
        ("interface ovpn-client", "remove") => {
            if let Some((k, _)) = c.props.first() {
                return Err(format!(
                    "expected end of command (remove takes no property {k}=)"
                ));
            }
            let clients = live.clients();
            let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
            let rows: Vec<Row> = clients.iter().map(client_row).collect();
            let targets = named_targets(c, &names, &rows)?;
            for n in &targets {
                live.remove_client(n)?;
            }
            keep_change(live, c, line, Some(&targets))?;
            Ok(String::new())
        }
        ("interface ovpn-client", "set") => {
            let clients = live.clients();
            let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
            let rows: Vec<Row> = clients.iter().map(client_row).collect();
            let targets = named_targets(c, &names, &rows)?;
            let mut out = String::new();
            for n in &targets {
                out.push_str(&live.set_client(n, &c.props)?);
            }
            keep_change(live, c, line, Some(&targets))?;
            Ok(out)
        }
        ("interface ovpn-client", verb @ ("enable" | "disable")) => {
            if !c.props.is_empty() {
                return Err(format!(
                    "expected end of command ({verb} takes no properties)"
                ));
            }
            let clients = live.clients();
            let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
            let rows: Vec<Row> = clients.iter().map(client_row).collect();
            let targets = named_targets(c, &names, &rows)?;
            for n in &targets {
                live.enable_client(n, verb == "enable")?;
            }
            keep_change(live, c, line, Some(&targets))?;
            Ok(String::new())
        }
        ("ppp secret", "print") => {
            let form = form()?;
            let secrets = live.secrets();
            let rows: Vec<(usize, Row)> = secrets
                .iter()
                .map(secret_row)
                .filter(|r| filter.matches(&lookup(r)))
                .enumerate()
                .collect();
            Ok(render(form, rows, "X - DISABLED", |rows| {
                let cells: Vec<(&str, Vec<String>)> = rows
                    .iter()
                    .map(|(_, r)| {
                        let get = lookup(r);
                        let mark = if get("disabled") == Some("yes") {
                            "X"
                        } else {
                            ""
                        };
                        let cells = ["name", "service", "profile", "remote-address"]
                            .iter()
                            .map(|k| get(k).unwrap_or_default().to_owned())
                            .collect();
                        (mark, cells)
                    })
                    .collect();
                table::columns_flagged(
                    &["NAME", "SERVICE", "PROFILE", "REMOTE-ADDRESS"],
                    &cells,
                    "X - DISABLED",
                )
            }))
        }
        ("ppp secret", verb @ ("add" | "set" | "remove" | "enable" | "disable")) => {
            let targets = match verb {
                "add" => {
                    if !c.positional.is_empty() {
                        return Err("expected end of command (add takes properties only)".into());
                    }
                    let secret = ovpn_ppp::Secret::from_properties(c.prop_pairs())
                        .map_err(|e| e.to_string())?;
                    live.change_ppp(&mut |ppp| {
                        ppp.add_secret(secret.clone()).map_err(|e| e.to_string())
                    })?;
                    None
                }
                _ => {
                    let secrets = live.secrets();
                    let all: Vec<String> = secrets.iter().map(|s| s.name.clone()).collect();
                    let rows: Vec<Row> = secrets.iter().map(secret_row).collect();
                    let names = named_targets(c, &all, &rows)?;
                    let props: Vec<(String, String)> = match verb {
                        "enable" => vec![("disabled".into(), "no".into())],
                        "disable" => vec![("disabled".into(), "yes".into())],
                        _ => c.props.clone(),
                    };
                    if verb == "set" && props.is_empty() {
                        return Err("set: no properties given".into());
                    }
                    if verb != "set" && !c.props.is_empty() {
                        return Err(format!(
                            "expected end of command ({verb} takes no properties)"
                        ));
                    }
                    live.change_ppp(&mut |ppp| {
                        for n in &names {
                            if verb == "remove" {
                                ppp.remove_secret(n).map_err(|e| e.to_string())?;
                            } else {
                                ppp.set_secret(
                                    n,
                                    props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                                )
                                .map_err(|e| e.to_string())?;
                            }
                        }
                        Ok(())
                    })?;
                    Some(names)
                }
            };
            keep_change(live, c, line, targets.as_deref())?;
            Ok(String::new())
        }
        ("ppp profile", "print") => {
            let form = form()?;
            let rows: Vec<(usize, Row)> = live
                .profiles()
                .iter()
                .map(profile_row)
                .filter(|r| filter.matches(&lookup(r)))
                .enumerate()
                .collect();
            Ok(render(form, rows, "", |rows| {
                let cells: Vec<(&str, Vec<String>)> = rows
                    .iter()
                    .map(|(_, r)| {
                        let get = lookup(r);
                        let cells = ["name", "local-address", "remote-address", "use-encryption"]
                            .iter()
                            .map(|k| get(k).unwrap_or_default().to_owned())
                            .collect();
                        ("", cells)
                    })
                    .collect();
                table::columns_flagged(
                    &["NAME", "LOCAL-ADDRESS", "REMOTE-ADDRESS", "USE-ENCRYPTION"],
                    &cells,
                    "",
                )
            }))
        }
        ("ppp profile", verb @ ("add" | "set" | "remove")) => {
            let kept = if verb == "add" {
                if !c.positional.is_empty() {
                    return Err("expected end of command (add takes properties only)".into());
                }
                let profile = ovpn_ppp::Profile::from_properties(c.prop_pairs())
                    .map_err(|e| e.to_string())?;
                live.change_ppp(&mut |ppp| {
                    ppp.add_profile(profile.clone()).map_err(|e| e.to_string())
                })?;
                None
            } else {
                let profiles = live.profiles();
                let names: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
                let rows: Vec<Row> = profiles.iter().map(profile_row).collect();
                let targets = named_targets(c, &names, &rows)?;
                if verb == "set" && c.props.is_empty() {
                    return Err("set: no properties given".into());
                }
                if verb == "remove" && !c.props.is_empty() {
                    return Err("expected end of command (remove takes no properties)".into());
                }
                live.change_ppp(&mut |ppp| {
                    for n in &targets {
                        if verb == "remove" {
                            ppp.remove_profile(n).map_err(|e| e.to_string())?;
                        } else {
                            ppp.set_profile(n, c.prop_pairs())
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    Ok(())
                })?;
                Some(targets)
            };
            keep_change(live, c, line, kept.as_deref())?;
            Ok(String::new())
        }
        ("ppp active", "remove") => {
            if let Some((k, _)) = c.props.first() {
                return Err(format!(
                    "expected end of command (remove takes no property {k}=)"
                ));
            }
            let sessions = live.sessions();
            let targets = targets(c, &sessions)?;
            for s in targets {
                let id = s.session_id.ok_or("no such item")?;
                live.remove_session(id)?;
            }
            Ok(String::new())
        }
        ("log", "print") => {
            let form = form()?;
            let today = time::OffsetDateTime::now_utc()
                .to_offset(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC))
                .date();
            let lines: Vec<_> = crate::log_memory::lines()
                .into_iter()
                .filter(|e| {
                    let row: Row =
                        vec![("topics", e.topics.clone()), ("message", e.message.clone())];
                    filter.matches(&lookup(&row))
                })
                .collect();
            Ok(match form {
                Form::Count => format!("{}\n", lines.len()),
                _ => lines
                    .iter()
                    .map(|e| crate::log_memory::format_line(e, today) + "\n")
                    .collect(),
            })
        }
        (menu, verb) => Err(format!("bad command name {verb} (line 1 column {})", {
            let _ = menu;
            line.find(verb).map_or(1, |i| i + 1)
        })),
    }
}

/// The rows that pass `filter`, with their index in `sessions`.
fn select(
    sessions: &[SessionInfo],
    row: fn(&SessionInfo) -> Row,
    filter: &Filter,
) -> Vec<(usize, Row)> {
    sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (i, row(s)))
        .filter(|(_, r)| filter.matches(&lookup(r)))
        .collect()
}

/// `print` in `form`: `table` lays out the selected rows (with their indexes in the source),
/// the other forms number them 0, 1, ... as printed.
pub(super) fn render(
    form: Form,
    rows: Vec<(usize, Row)>,
    legend: &str,
    table: impl FnOnce(&[(usize, Row)]) -> String,
) -> String {
    if form != Form::Count {
        let key = |r: &Row| {
            let menu_key = r
                .iter()
                .find(|(k, _)| Some(*k) == super::numbers::id_key_of_current())
                .map(|(_, v)| v.clone());
            menu_key.unwrap_or_default()
        };
        super::numbers::remember(rows.iter().map(|(_, r)| key(r)).collect());
    }
    match form {
        Form::Table => table(&rows),
        Form::Detail => detail(&number(rows), legend),
        Form::Terse => terse(&number(rows)),
        Form::Count => format!("{}\n", rows.len()),
    }
}

/// Numbers the selected rows 0, 1, ... as printed.
fn number(rows: Vec<(usize, Row)>) -> Vec<(usize, Row)> {
    rows.into_iter()
        .enumerate()
        .map(|(n, (_, r))| (n, r))
        .collect()
}

/// The sessions `remove` names: row numbers (comma-separated) or `[find ...]`.
fn targets<'a>(
    c: &crate::rsc::Command,
    sessions: &'a [SessionInfo],
) -> Result<Vec<&'a SessionInfo>, String> {
    let Some(what) = c.positional.first() else {
        return Err("expected a number or [find ...]".into());
    };
    if let Some(inner) = what.strip_prefix("[find").and_then(|s| s.strip_suffix(']')) {
        let filter = Filter::parse(inner.trim().trim_start_matches("where").trim())
            .map_err(|e| e.to_string())?;
        return Ok(sessions
            .iter()
            .filter(|s| filter.matches(&lookup(&ppp_active_row(s))))
            .collect());
    }
    what.split(',')
        .map(|n| {
            let found =
                n.trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| match super::numbers::resolve(i) {
                        Some(id) => id.and_then(|id| {
                            sessions.iter().find(|s| {
                                s.session_id.map(|x| format!("{x:#x}")) == Some(id.clone())
                            })
                        }),
                        None => sessions.get(i),
                    });
            found.ok_or_else(|| format!("no such item ({})", n.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Fake {
        rows: Vec<SessionInfo>,
        removed: RefCell<Vec<u32>>,
    }

    impl Live for Fake {
        fn sessions(&self) -> Vec<SessionInfo> {
            self.rows.clone()
        }
        fn remove_session(&self, id: u32) -> Result<(), String> {
            self.removed.borrow_mut().push(id);
            Ok(())
        }
    }

    fn fake() -> Fake {
        Fake {
            rows: crate::table::two_rows(),
            removed: RefCell::new(Vec::new()),
        }
    }

    #[test]
    fn prints_filters_and_removes() {
        let f = fake();
        let out = run("/ppp active print", &f).unwrap();
        assert!(out.starts_with("Columns: NAME, SERVICE"), "{out}");
        assert!(out.contains("client2"));
        let out = run("/ppp active print where name=client2", &f).unwrap();
        assert!(out.contains("client2") && !out.contains("client1"), "{out}");
        assert_eq!(run("/ppp active print count-only", &f).unwrap(), "2\n");
        let out = run("/interface ovpn-server print detail where name~\"2$\"", &f).unwrap();
        assert!(
            out.starts_with("Flags: D - DYNAMIC; R - RUNNING\n 0   name=ovpn-incoming2"),
            "{out}"
        );
        let out = run("/ppp active print terse", &f).unwrap();
        assert_eq!(out.lines().count(), 2);
        assert!(
            out.lines().nth(1).unwrap().starts_with(" 1 name=client2"),
            "{out}"
        );
        run("/ppp active remove [find name=client2]", &f).unwrap();
        run("/ppp active remove 0", &f).unwrap();
        assert_eq!(
            *f.removed.borrow(),
            vec![f.rows[1].session_id.unwrap(), f.rows[0].session_id.unwrap()]
        );
    }

    #[test]
    fn numbers_are_the_last_prints_of_this_console() {
        crate::console::numbers::forget_all();
        let f = fake();
        // Printed with a filter: 0 is client2, whatever the listing's order.
        let out = run("/ppp active print where name=client2", &f).unwrap();
        assert!(out.contains("client2") && !out.contains("client1"), "{out}");
        run("/ppp active remove 0", &f).unwrap();
        assert_eq!(*f.removed.borrow(), vec![f.rows[1].session_id.unwrap()]);
        // The last print had no row 1.
        assert!(
            run("/ppp active remove 1", &f)
                .unwrap_err()
                .contains("no such item")
        );
        // A new console numbers the listing as it is.
        crate::console::numbers::forget_all();
        run("/ppp active remove 1", &f).unwrap();
        assert_eq!(f.removed.borrow()[1], f.rows[1].session_id.unwrap());
    }

    #[test]
    fn monitor_shows_one_interface() {
        let f = fake();
        let out = run("/interface ovpn-server monitor ovpn-incoming2 once", &f).unwrap();
        let keys: Vec<&str> = out
            .lines()
            .map(|l| l.split(':').next().unwrap().trim())
            .collect();
        assert_eq!(
            keys,
            [
                "status",
                "name",
                "user",
                "caller-id",
                "encoding",
                "local-address",
                "remote-address",
                "mtu",
                "uptime",
                "rx-byte",
                "tx-byte",
                "rx-packet",
                "tx-packet"
            ],
            "{out}"
        );
        assert!(out.contains("user: client2"), "{out}");
        // By number too; one interface at a time; a name that is not there.
        assert_eq!(
            run("/interface ovpn-server monitor 1", &f).unwrap(),
            out,
            "without once, the same figures (the console repeats them)"
        );
        assert!(run("/interface ovpn-server monitor 0 1", &f).is_err());
        assert!(
            run("/interface ovpn-server monitor ovpn-incoming9", &f)
                .unwrap_err()
                .contains("no such item")
        );
        assert!(run("/interface ovpn-server monitor", &f).is_err());
    }

    #[test]
    fn client_interfaces_print_with_their_status() {
        struct C;
        impl Live for C {
            fn clients(&self) -> Vec<ClientRow> {
                vec![
                    ClientRow {
                        name: "ovpn-out1".into(),
                        connect_to: "192.0.2.1:1194".into(),
                        status: "connected".into(),
                        encoding: Some("AES-256-GCM".into()),
                        mtu: Some(1500),
                        ..ClientRow::default()
                    },
                    ClientRow {
                        name: "ovpn-out2".into(),
                        status: "error".into(),
                        reason: Some("login incorrect".into()),
                        ..ClientRow::default()
                    },
                ]
            }
        }
        let out = run("/interface ovpn-client print", &C).unwrap();
        assert!(out.contains(" 0 R   ovpn-out1"), "{out}");
        assert!(out.contains(" 1     ovpn-out2"), "{out}");
        let out = run("/interface ovpn-client print detail where status=error", &C).unwrap();
        assert!(out.contains("reason=\"login incorrect\""), "{out}");
        assert!(!out.contains("ovpn-out1"), "{out}");
        // A client has no sessions to remove.
        assert!(run("/ppp active remove 0", &C).is_err());
    }

    #[test]
    fn errors_are_routeros_words() {
        let f = fake();
        assert!(
            run("/ppp active frobnicate", &f)
                .unwrap_err()
                .starts_with("bad command name frobnicate")
        );
        assert!(
            run("/ppp active print sideways", &f)
                .unwrap_err()
                .starts_with("expected end of command")
        );
        assert!(
            run("/ppp active remove 7", &f)
                .unwrap_err()
                .starts_with("no such item")
        );
        assert!(
            run("/ppp active print where name=", &f)
                .unwrap_err()
                .contains("syntax error")
        );
        assert!(run("/ppp active print \"", &f).is_err());
        assert!(f.removed.borrow().is_empty());
    }

    #[test]
    fn where_is_found_outside_quotes_and_brackets() {
        assert_eq!(
            split_where("/log print where topics~\"ovpn\""),
            ("/log print ", Some("topics~\"ovpn\""))
        );
        assert_eq!(
            split_where("/x remove [find where name=a]"),
            ("/x remove [find where name=a]", None)
        );
        assert_eq!(
            split_where("/x print where message~\"where\""),
            ("/x print ", Some("message~\"where\""))
        );
        assert_eq!(
            split_where("/x print somewhere"),
            ("/x print somewhere", None)
        );
    }
}
