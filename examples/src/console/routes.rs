//! `/ip route` on a running client: the routes through its interfaces (`gateway=ovpn-out1`),
//! as the script's `/ip route add` makes them. `add` and `remove` change the kernel's routes at
//! once while the interface is up (its session stays), and are kept.

use super::exec::{Form, Live, Row, named_targets};
use super::filter::Filter;
use super::render::print_rows;

/// What `comment=` of a route does here (the script warns with the same words).
pub const COMMENT: &str =
    "comment: has no effect here (routes through the tunnel keep no comments)";

fn route_row(net: &ipnet::Ipv4Net, gw: &str) -> Row {
    vec![
        ("dst-address", net.to_string()),
        ("gateway", gw.to_owned()),
        ("id", format!("{net} {gw}")),
    ]
}

/// Runs an `/ip route` command; `None` when `c` is not one.
pub(super) fn run(
    c: &crate::rsc::Command,
    form: impl FnOnce() -> Result<Form, String>,
    filter: &Filter,
    live: &dyn Live,
) -> Result<Option<String>, String> {
    if c.menu != "ip route" {
        return Ok(None);
    }
    let routes = live.routes()?;
    match c.verb.as_str() {
        "print" => {
            let form = form()?;
            let rows = routes.iter().map(|(n, g)| route_row(n, g)).collect();
            Ok(Some(print_rows(
                form,
                rows,
                filter,
                "A - ACTIVE; s - STATIC",
                &[("dst-address", "DST-ADDRESS"), ("gateway", "GATEWAY")],
                |_| "As",
            )))
        }
        "add" => {
            if let Some(p) = c.positional.first() {
                return Err(format!("expected end of command ({p})"));
            }
            let dst = c.prop("dst-address").ok_or("dst-address is required")?;
            let gw = c.prop("gateway").ok_or("gateway is required")?;
            for (k, _) in &c.props {
                if !matches!(k.as_str(), "dst-address" | "gateway" | "comment") {
                    return Err(format!("unknown property {k:?} (dst-address, gateway)"));
                }
            }
            let net = dst
                .parse::<ipnet::Ipv4Net>()
                .or_else(|_| dst.parse::<std::net::Ipv4Addr>().map(ipnet::Ipv4Net::from))
                .map_err(|_| {
                    format!("dst-address={dst}: expected an IPv4 network like 192.168.1.0/24")
                })?
                .trunc();
            if routes.iter().any(|(n, g)| *n == net && g == gw) {
                return Err(format!("dst-address={net} gateway={gw}: exists already"));
            }
            let mut through: Vec<ipnet::Ipv4Net> = routes
                .iter()
                .filter(|(_, g)| g == gw)
                .map(|(n, _)| *n)
                .collect();
            through.push(net);
            live.set_routes(gw, through)?;
            live.keep(&format!(
                "/ip route add dst-address={net} gateway={}",
                crate::rsc::quote(gw)
            ))?;
            Ok(Some(if c.prop("comment").is_some() {
                COMMENT.to_owned() + "\n"
            } else {
                String::new()
            }))
        }
        "remove" => {
            if let Some((k, _)) = c.props.first() {
                return Err(format!(
                    "expected end of command (remove takes no property {k}=)"
                ));
            }
            let rows: Vec<Row> = routes.iter().map(|(n, g)| route_row(n, g)).collect();
            let ids: Vec<String> = routes.iter().map(|(n, g)| format!("{n} {g}")).collect();
            let gone = named_targets(c, &ids, &rows)?;
            let mut by_gw: Vec<(String, Vec<ipnet::Ipv4Net>)> = Vec::new();
            for (n, g) in &routes {
                if gone.contains(&format!("{n} {g}")) {
                    continue;
                }
                match by_gw.iter_mut().find(|(x, _)| x == g) {
                    Some((_, v)) => v.push(*n),
                    None => by_gw.push((g.clone(), vec![*n])),
                }
            }
            for id in &gone {
                let (net, gw) = id.split_once(' ').unwrap_or((id, ""));
                let rest = by_gw
                    .iter()
                    .find(|(g, _)| g == gw)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                live.set_routes(gw, rest)?;
                live.keep(&format!(
                    "/ip route remove [find dst-address=\"{net}\" and gateway=\"{gw}\"]"
                ))?;
            }
            Ok(Some(String::new()))
        }
        other => Err(format!("bad command name {other} (/ip route)")),
    }
}
