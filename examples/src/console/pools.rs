//! `/ip pool` and `/ipv6 pool` at run time: `print`, `used print` (address, owner, info), and
//! `add`, `set`, `remove`, live on the pools every server shares (the next login sees the
//! change).
//!
//! A pool with addresses in use keeps its ranges (`set ranges=` is refused, naming how many are
//! in use); `remove` is refused while addresses are in use, while it is another pool's
//! `next-pool`, or while a `/ppp profile` hands out its addresses.

use super::exec::{Form, Live, Row, keep_change, named_targets};
use super::filter::Filter;
use super::render::print_rows;

/// A pool as its rows show it: `ranges` (IPv4), or `prefix` and `prefix-length` (IPv6).
fn pool_row(p: &ovpn_pool::Pool, pools: &ovpn_pool::PoolSet) -> Row {
    let stats = pools.stats(p.name());
    let mut row = vec![("name", p.name().to_owned())];
    match p.prefix() {
        Some(prefix) => {
            row.push(("prefix", prefix.to_string()));
            row.push(("prefix-length", p.lease_prefix_len().to_string()));
        }
        None => row.push((
            "ranges",
            p.ranges().map(ToString::to_string).unwrap_or_default(),
        )),
    }
    row.extend([
        ("next-pool", p.next_pool().unwrap_or_default().to_owned()),
        ("comment", p.comment().unwrap_or_default().to_owned()),
        (
            "total",
            stats.map(|s| s.total.to_string()).unwrap_or_default(),
        ),
        (
            "used",
            stats.map(|s| s.used.to_string()).unwrap_or_default(),
        ),
        (
            "available",
            stats.map(|s| s.free.to_string()).unwrap_or_default(),
        ),
    ]);
    row
}

/// The properties of `p` as `/ip pool add` takes them.
fn pool_props(p: &ovpn_pool::Pool) -> Vec<(String, String)> {
    let mut props = vec![("name".to_owned(), p.name().to_owned())];
    if let Some(r) = p.ranges() {
        props.push(("ranges".into(), r.to_string()));
    }
    if let Some(prefix) = p.prefix() {
        props.push(("prefix".into(), prefix.to_string()));
        props.push(("prefix-length".into(), p.lease_prefix_len().to_string()));
    }
    if let Some(n) = p.next_pool() {
        props.push(("next-pool".into(), n.to_owned()));
    }
    if let Some(c) = p.comment() {
        props.push(("comment".into(), c.to_owned()));
    }
    props
}

/// Runs an `/ip pool`, `/ipv6 pool` or `... used` command; `None` when `c` is not one.
pub(super) fn run(
    c: &crate::rsc::Command,
    line: &str,
    form: impl FnOnce() -> Result<Form, String>,
    filter: &Filter,
    live: &dyn Live,
) -> Result<Option<String>, String> {
    let (family, menu) = match c.menu.split_once(' ') {
        Some(("ip", rest)) => (ovpn_pool::Family::Ipv4, rest),
        Some(("ipv6", rest)) => (ovpn_pool::Family::Ipv6, rest),
        _ => return Ok(None),
    };
    let v6 = family == ovpn_pool::Family::Ipv6;
    match (menu, c.verb.as_str()) {
        ("pool", "print") => {
            let form = form()?;
            let mut rows: Vec<Row> = Vec::new();
            live.view_pools(family, &mut |pools| {
                rows = pools.pools().map(|p| pool_row(p, pools)).collect();
            });
            let columns: &[(&str, &str)] = if v6 {
                &[
                    ("name", "NAME"),
                    ("prefix", "PREFIX"),
                    ("prefix-length", "PREFIX-LENGTH"),
                    ("total", "TOTAL"),
                    ("used", "USED"),
                    ("available", "AVAILABLE"),
                ]
            } else {
                &[
                    ("name", "NAME"),
                    ("ranges", "RANGES"),
                    ("total", "TOTAL"),
                    ("used", "USED"),
                    ("available", "AVAILABLE"),
                ]
            };
            Ok(Some(print_rows(form, rows, filter, "", columns, |_| "")))
        }
        ("pool used", "print") => {
            let form = form()?;
            let mut rows: Vec<Row> = Vec::new();
            live.view_pools(family, &mut |pools| {
                rows = pools
                    .used()
                    .map(|l| {
                        vec![
                            ("pool", l.pool.clone().unwrap_or_default()),
                            (
                                "address",
                                if v6 {
                                    l.network().to_string()
                                } else {
                                    l.address.to_string()
                                },
                            ),
                            ("owner", l.owner.clone()),
                            ("info", "ovpn".to_owned()),
                        ]
                    })
                    .collect();
            });
            Ok(Some(print_rows(
                form,
                rows,
                filter,
                "",
                &[
                    ("pool", "POOL"),
                    ("address", "ADDRESS"),
                    ("owner", "OWNER"),
                    ("info", "INFO"),
                ],
                |_| "",
            )))
        }
        ("pool", "add") => {
            if !c.positional.is_empty() {
                return Err("expected end of command (add takes properties only)".into());
            }
            let pool = ovpn_pool::Pool::from_properties(
                family,
                c.props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .map_err(|e| e.to_string())?;
            live.change_pools(family, &mut |pools, _| {
                pools.add(pool.clone()).map_err(|e| e.to_string())
            })?;
            keep_change(live, c, line, None)?;
            Ok(Some(String::new()))
        }
        ("pool", verb @ ("set" | "remove")) => {
            let mut names: Vec<String> = Vec::new();
            let mut rows: Vec<Row> = Vec::new();
            live.view_pools(family, &mut |pools| {
                names = pools.pools().map(|p| p.name().to_owned()).collect();
                rows = pools.pools().map(|p| pool_row(p, pools)).collect();
            });
            let targets = named_targets(c, &names, &rows)?;
            if verb == "set" && c.props.is_empty() {
                return Err("set: no properties given".into());
            }
            if verb == "remove" && !c.props.is_empty() {
                return Err("expected end of command (remove takes no properties)".into());
            }
            if let Some((k, _)) = c.props.iter().find(|(k, _)| k == "name") {
                return Err(format!("{k}: a pool keeps its name (remove and add it)"));
            }
            live.change_pools(family, &mut |pools, ppp| {
                for name in &targets {
                    if verb == "remove" {
                        let names_it = |a: &Option<ovpn_ppp::AddressSpec>| {
                            matches!(a, Some(ovpn_ppp::AddressSpec::Pool(n)) if n == name)
                        };
                        if let Some(p) = ppp.profiles().find(|p| {
                            if v6 {
                                p.remote_ipv6_prefix_pool.as_deref() == Some(name.as_str())
                            } else {
                                names_it(&p.remote_address) || names_it(&p.local_address)
                            }
                        }) {
                            return Err(format!(
                                "pool {name} is used by /ppp profile {}",
                                p.name
                            ));
                        }
                        pools.remove(name).map_err(|e| e.to_string())?;
                        continue;
                    }
                    set_pool(pools, family, name, &c.props)?;
                }
                Ok(())
            })?;
            keep_change(live, c, line, Some(&targets))?;
            Ok(Some(String::new()))
        }
        _ => Ok(None),
    }
}

/// `/ip pool set NAME ...`: `next-pool` in place; `ranges` and `comment` by replacing the
/// pool ([`ovpn_pool::PoolSet::replace`]), which only a pool without addresses in use allows.
fn set_pool(
    pools: &mut ovpn_pool::PoolSet,
    family: ovpn_pool::Family,
    name: &str,
    props: &[(String, String)],
) -> Result<(), String> {
    let old = pools
        .get(name)
        .cloned()
        .ok_or_else(|| format!("no such item ({name})"))?;
    let only_next = props.iter().all(|(k, _)| k == "next-pool");
    if only_next {
        let next = props
            .last()
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && *v != "none");
        return pools.set_next_pool(name, next).map_err(|e| e.to_string());
    }
    let used = pools.stats(name).map_or(0, |s| s.used);
    if used > 0 {
        return Err(format!(
            "pool {name} has {used} addresses in use: only next-pool can change now"
        ));
    }
    let mut merged = pool_props(&old);
    for (k, v) in props {
        merged.retain(|(x, _)| x != k);
        if !v.is_empty() {
            merged.push((k.clone(), v.clone()));
        }
    }
    let pool = ovpn_pool::Pool::from_properties(
        family,
        merged.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|e| e.to_string())?;
    pools.replace(pool).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use crate::console::exec::run;
    use crate::console::live::ServerLive;
    use ovpn_session::Shared;

    fn live(dir: &std::path::Path) -> (ServerLive, Shared) {
        let mut ppp = ovpn_ppp::PppConfig::new();
        ppp.add_profile_text("name=p1 local-address=10.8.0.1 remote-address=pool1")
            .unwrap();
        let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
        pools
            .add(ovpn_pool::Pool::ipv4("pool1", "10.8.0.2-10.8.0.9".parse().unwrap()).unwrap())
            .unwrap();
        let shared = Shared::new(ppp, pools);
        (ServerLive::new(shared.clone(), Some(dir)), shared)
    }

    #[test]
    fn pools_print_change_live_and_refuse_what_would_break() {
        let dir = tempfile::tempdir().unwrap();
        let (l, shared) = live(dir.path());
        let out = run("/ip pool print", &l).unwrap();
        assert!(
            out.contains("Columns: NAME, RANGES, TOTAL, USED, AVAILABLE"),
            "{out}"
        );
        assert!(
            out.contains("pool1  10.8.0.2-10.8.0.9  8      0     8"),
            "{out}"
        );
        run("/ip pool add name=pool2 ranges=10.9.0.2-10.9.0.5", &l).unwrap();
        run("/ip pool set pool1 next-pool=pool2", &l).unwrap();
        // A login takes an address: it shows in `used`, and pool1's ranges are then fixed.
        shared
            .change(|_, pools| pools.acquire("pool1", "alice").map(|_| ()))
            .unwrap();
        let out = run("/ip pool used print", &l).unwrap();
        assert!(out.contains("pool1  10.8.0.2  alice  ovpn"), "{out}");
        let e = run("/ip pool set pool1 ranges=10.8.0.2-10.8.0.3", &l).unwrap_err();
        assert!(e.contains("1 addresses in use"), "{e}");
        run(
            "/ip pool set pool2 ranges=10.9.0.2-10.9.0.9 comment=spare",
            &l,
        )
        .unwrap();
        let out = run("/ip pool print detail where name=pool2", &l).unwrap();
        assert!(
            out.contains("ranges=10.9.0.2-10.9.0.9") && out.contains("comment=spare"),
            "{out}"
        );
        // Refused: a referenced pool, a pool a profile uses, an overlapping pool, a renaming.
        for (line, says) in [
            ("/ip pool remove pool2", "pool1"),
            ("/ip pool remove pool1", "profile p1"),
            (
                "/ip pool add name=pool3 ranges=10.8.0.5-10.8.0.6",
                "overlap",
            ),
            ("/ip pool set pool2 name=other", "keeps its name"),
            ("/ip pool set pool9 comment=x", "no such item"),
        ] {
            let e = run(line, &l).unwrap_err();
            assert!(e.to_lowercase().contains(says), "{line}: {e}");
        }
        // Kept for the next start: add, set next-pool, set ranges (4 refusals are not).
        let kept =
            std::fs::read_to_string(dir.path().join(crate::console::journal::JOURNAL)).unwrap();
        assert_eq!(
            kept.lines().filter(|l| l.starts_with("/ip pool")).count(),
            3,
            "{kept}"
        );
        let (again, _) = live(dir.path());
        assert_eq!(again.replay().unwrap(), 3);
        let out = run("/ip pool print count-only", &again).unwrap();
        assert_eq!(out, "2\n");
    }
}

#[cfg(test)]
mod v6_tests {
    use crate::console::exec::run;
    use crate::console::live::ServerLive;
    use ovpn_session::Shared;

    #[test]
    fn ipv6_pools_print_change_and_refuse() {
        let mut ppp = ovpn_ppp::PppConfig::new();
        ppp.add_profile_text("name=p1 local-address=10.8.0.1 remote-ipv6-prefix-pool=v6")
            .unwrap();
        let mut pools6 = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv6);
        pools6
            .add(
                ovpn_pool::Pool::from_properties(
                    ovpn_pool::Family::Ipv6,
                    [
                        ("name", "v6"),
                        ("prefix", "2001:db8::/48"),
                        ("prefix-length", "64"),
                    ],
                )
                .unwrap(),
            )
            .unwrap();
        let shared = Shared::new(ppp, ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4))
            .with_ipv6_pools(pools6);
        let l = ServerLive::new(shared.clone(), None);
        let out = run("/ipv6 pool print", &l).unwrap();
        assert!(
            out.contains("Columns: NAME, PREFIX, PREFIX-LENGTH"),
            "{out}"
        );
        assert!(out.contains("v6    2001:db8::/48  64"), "{out}");
        shared
            .change_ipv6(|p| p.acquire("v6", "alice").map(|_| ()))
            .unwrap();
        let out = run("/ipv6 pool used print", &l).unwrap();
        assert!(out.contains("v6    2001:db8::/64  alice"), "{out}");
        run(
            "/ipv6 pool add name=spare prefix=2001:db8:1::/48 prefix-length=56",
            &l,
        )
        .unwrap();
        run("/ipv6 pool set spare prefix-length=60", &l).unwrap();
        assert!(
            run("/ipv6 pool print detail where name=spare", &l)
                .unwrap()
                .contains("prefix-length=60")
        );
        for (line, says) in [
            ("/ipv6 pool remove v6", "profile p1"),
            ("/ipv6 pool add name=x ranges=10.0.0.1-10.0.0.2", "ranges"),
            ("/ipv6 pool set v6 prefix-length=56", "in use"),
        ] {
            let e = run(line, &l).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        run("/ipv6 pool remove spare", &l).unwrap();
        assert_eq!(run("/ipv6 pool print count-only", &l).unwrap(), "1\n");
        // The IPv4 menu sees only IPv4 pools.
        assert_eq!(run("/ip pool print count-only", &l).unwrap(), "0\n");
    }
}
