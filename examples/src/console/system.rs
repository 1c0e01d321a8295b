//! The `/system` and `/interface` commands: `/system resource print` (uptime, version,
//! memory) and `/interface print` (the ovpn interfaces of the program).

use super::exec::{Form, Live, Row};
use super::filter::Filter;
use super::render::{print_rows, two_flags};
use crate::table;

/// `MemTotal`/`MemAvailable` of `/proc/meminfo`, and this process's `VmRSS`, in bytes.
fn memory() -> (Option<u64>, Option<u64>, Option<u64>) {
    let field = |text: &str, key: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (
        field(&info, "MemTotal:"),
        field(&info, "MemAvailable:"),
        field(&status, "VmRSS:"),
    )
}

/// RouterOS's memory figures: `123.4MiB`.
fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(String::new, |b| {
        format!("{:.1}MiB", b as f64 / (1024.0 * 1024.0))
    })
}

/// Runs a root or `/system` command; `None` when `c` is not one.
pub(super) fn run(
    c: &crate::rsc::Command,
    form: impl FnOnce() -> Result<Form, String>,
    filter: &Filter,
    live: &dyn Live,
) -> Result<Option<String>, String> {
    match (c.menu.as_str(), c.verb.as_str()) {
        ("system resource", "print") => {
            form()?;
            let (total, free, rss) = memory();
            let rows = [
                (
                    "uptime",
                    live.started()
                        .map(|t| table::uptime(crate::runtime::now().saturating_duration_since(t)))
                        .unwrap_or_default(),
                ),
                ("version", format!("{} (ovpn)", env!("CARGO_PKG_VERSION"))),
                ("free-memory", mib(free)),
                ("total-memory", mib(total)),
                ("process-memory", mib(rss)),
                (
                    "cpu-count",
                    std::thread::available_parallelism()
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                ),
                ("architecture-name", std::env::consts::ARCH.to_owned()),
                ("platform", "ovpn".to_owned()),
            ];
            let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
            Ok(Some(
                rows.iter()
                    .map(|(k, v)| format!("{}\n", format!("{k:>width$}: {v}").trim_end()))
                    .collect(),
            ))
        }
        ("interface", "print") => {
            let form = form()?;
            let mut rows: Vec<Row> = live
                .sessions()
                .iter()
                .map(|s| {
                    vec![
                        ("name", s.name.clone().unwrap_or_default()),
                        ("type", "ovpn-in".to_owned()),
                        ("actual-mtu", s.mtu.to_string()),
                        ("dynamic", "yes".to_owned()),
                        ("running", "yes".to_owned()),
                    ]
                })
                .collect();
            rows.extend(live.clients().iter().map(|c| {
                vec![
                    ("name", c.name.clone()),
                    ("type", "ovpn-out".to_owned()),
                    (
                        "actual-mtu",
                        c.mtu.map(|m| m.to_string()).unwrap_or_default(),
                    ),
                    ("dynamic", "no".to_owned()),
                    (
                        "running",
                        if c.status == "connected" { "yes" } else { "no" }.to_owned(),
                    ),
                ]
            }));
            Ok(Some(print_rows(
                form,
                rows,
                filter,
                "D - DYNAMIC; R - RUNNING",
                &[
                    ("name", "NAME"),
                    ("type", "TYPE"),
                    ("actual-mtu", "ACTUAL-MTU"),
                ],
                |r| two_flags(r, ("dynamic", "D"), ("running", "R"), "DR"),
            )))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::console::exec::run;
    use crate::console::live::ServerLive;

    #[test]
    fn resource_interface_and_quit() {
        let shared = ovpn_session::Shared::new(
            ovpn_ppp::PppConfig::new(),
            ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4),
        );
        let l = ServerLive::new(shared, None);
        let out = run("/system resource print", &l).unwrap();
        for key in ["uptime: 0s", "version: ", "total-memory: ", "cpu-count: "] {
            assert!(
                out.lines().any(|l| l.trim_start().starts_with(key)),
                "{key}: {out}"
            );
        }
        assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
        let out = run("/interface print", &l).unwrap();
        assert!(
            out.starts_with("Flags: D - DYNAMIC; R - RUNNING\nColumns: NAME, TYPE, ACTUAL-MTU"),
            "{out}"
        );
        assert_eq!(run("/interface print count-only", &l).unwrap(), "0\n");
        assert_eq!(run("/quit", &l).unwrap(), "");
        assert!(run("/system resource print sideways", &l).is_err());
    }
}
