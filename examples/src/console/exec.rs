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
pub use super::program::{ClientRow, Live};
pub(super) use super::render::{Form, Row, lookup, render};
use super::render::{detail, monitor, print_rows, two_flags};
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

/// A refused property in RouterOS's words: an unknown one is `expected end of command`, a value
/// that is not one of the property's is `input does not match any value of KEY`, with what was
/// expected; any other refusal names the property and its value.
pub fn property_error(key: &str, value: &str, why: &str) -> String {
    if why.starts_with("unknown property") {
        format!("expected end of command (unknown property {key})")
    } else if why.starts_with("expected") || why.starts_with("unknown ") {
        format!("input does not match any value of {key} ({value}: {why})")
    } else {
        format!("{key}={value}: {why}")
    }
}

/// The notes on a PPP command's properties that change nothing here, one per line (as the
/// script warns with them).
fn notes_of(c: &crate::rsc::Command) -> String {
    crate::script::ppp_notes(&c.props)
        .into_iter()
        .map(|n| n + "\n")
        .collect()
}

/// The properties a `set`, `enable`, `disable` or `remove` applies: `set`'s own (one at
/// least), `disabled=no` or `disabled=yes`, none; the other verbs take none.
pub(super) fn verb_props(c: &crate::rsc::Command) -> Result<Vec<(String, String)>, String> {
    let verb = c.verb.as_str();
    if verb != "set" && !c.props.is_empty() {
        return Err(format!(
            "expected end of command ({verb} takes no properties)"
        ));
    }
    Ok(match verb {
        "enable" => vec![("disabled".into(), "no".into())],
        "disable" => vec![("disabled".into(), "yes".into())],
        "set" if c.props.is_empty() => return Err("set: no properties given".into()),
        "set" => c.props.clone(),
        _ => Vec::new(),
    })
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
            // `once` or not, one look: the console's end repeats it every second without `once`.
            let mut which = None;
            for p in c.positional.iter().filter(|p| *p != "once") {
                match which {
                    None => which = Some(p.as_str()),
                    Some(_) => return Err(format!("expected end of command ({p})")),
                }
            }
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
            Ok(render(
                form,
                rows,
                "D - DYNAMIC; R - RUNNING",
                |_| "DR",
                |rows| {
                    let chosen: Vec<SessionInfo> =
                        rows.iter().map(|(i, _)| sessions[*i].clone()).collect();
                    table::interface_print(&chosen)
                },
            ))
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
                _ => {
                    let marks: Vec<&str> = rows
                        .iter()
                        .map(|(_, r)| {
                            let off = r.iter().any(|(k, v)| k == "enabled" && v == "no");
                            if off { "X" } else { "" }
                        })
                        .collect();
                    detail(&rows, "X - DISABLED", &marks)
                }
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
            Ok(render(
                form,
                rows,
                "",
                |_| "",
                |rows| {
                    let chosen: Vec<SessionInfo> =
                        rows.iter().map(|(i, _)| sessions[*i].clone()).collect();
                    table::ppp_active_print(&chosen)
                },
            ))
        }
        ("interface ovpn-client", "print") => {
            let form = form()?;
            let rows = live.clients().iter().map(client_row).collect();
            Ok(print_rows(
                form,
                rows,
                &filter,
                "X - DISABLED; R - RUNNING",
                &[
                    ("name", "NAME"),
                    ("connect-to", "CONNECT-TO"),
                    ("status", "STATUS"),
                    ("uptime", "UPTIME"),
                    ("encoding", "ENCODING"),
                ],
                // A disabled interface does not run.
                |r| two_flags(r, ("disabled", "X"), ("running", "R"), "X"),
            ))
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
        ("interface ovpn-client", "import-ovpn-configuration") => {
            if let Some(p) = c.positional.first() {
                return Err(format!("expected end of command ({p})"));
            }
            let out = live.import_profile(&c.props)?;
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
            let rows = live.secrets().iter().map(secret_row).collect();
            Ok(print_rows(
                form,
                rows,
                &filter,
                "X - DISABLED",
                &[
                    ("name", "NAME"),
                    ("service", "SERVICE"),
                    ("profile", "PROFILE"),
                    ("remote-address", "REMOTE-ADDRESS"),
                ],
                |r| {
                    if lookup(r)("disabled") == Some("yes") {
                        "X"
                    } else {
                        ""
                    }
                },
            ))
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
                    let props = verb_props(c)?;
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
            Ok(notes_of(c))
        }
        ("ppp profile", "print") => {
            let form = form()?;
            let rows = live.profiles().iter().map(profile_row).collect();
            Ok(print_rows(
                form,
                rows,
                &filter,
                "",
                &[
                    ("name", "NAME"),
                    ("local-address", "LOCAL-ADDRESS"),
                    ("remote-address", "REMOTE-ADDRESS"),
                    ("use-encryption", "USE-ENCRYPTION"),
                ],
                |_| "",
            ))
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
            Ok(notes_of(c))
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
            out.starts_with("Flags: D - DYNAMIC; R - RUNNING\n 0 DR name=ovpn-incoming2"),
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
    fn refused_properties_in_routeros_words() {
        assert_eq!(
            property_error("colour", "red", "unknown property \"colour\""),
            "expected end of command (unknown property colour)"
        );
        assert_eq!(
            property_error("protocol", "sctp", "expected udp or tcp"),
            "input does not match any value of protocol (sctp: expected udp or tcp)"
        );
        assert_eq!(
            property_error("certificate", "x", "no such certificate"),
            "certificate=x: no such certificate"
        );
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
