//! `/system logging` (the rules that choose the memory log's lines) and `/system logging
//! action` (`memory-lines`), at run time and kept across a restart.
//!
//! - `print [detail|terse|count-only]`, `add topics=ovpn,ppp action=memory [prefix=]
//!   [disabled=]`, `set`, `remove` (a default rule can be disabled, not removed), `enable`,
//!   `disable`;
//! - `/system logging action print`, `set memory memory-lines=N`.
//!
//! Only the `memory` action exists here: every line goes to stderr already (`echo`), and
//! `disk` and `remote` are refused with their names.

use super::exec::{Form, Row, named_targets, verb_props};
use super::render::{print_rows, two_flags};
use crate::log_memory::{self, Rule};
use crate::table;

fn rule_row(r: &Rule) -> Row {
    vec![
        ("topics", r.topics.join(",")),
        ("action", "memory".to_owned()),
        ("prefix", r.prefix.clone()),
        ("disabled", if r.disabled { "yes" } else { "no" }.to_owned()),
        ("default", if r.default { "yes" } else { "no" }.to_owned()),
    ]
}

fn action(v: &str) -> Result<(), String> {
    match v {
        "memory" => Ok(()),
        "echo" => Err(
            "action=echo: every line goes to stderr already; rules here choose the memory log"
                .into(),
        ),
        other => Err(format!(
            "action={other}: only action=memory exists here (the memory log)"
        )),
    }
}

/// Applies `key=value` to a rule.
fn set(rule: &mut Rule, key: &str, v: &str) -> Result<(), String> {
    match key {
        "topics" => rule.topics = Rule::new(v, "")?.topics,
        "prefix" => rule.prefix = v.to_owned(),
        "action" => action(v)?,
        "disabled" => rule.disabled = crate::settings::yes_no(v)?,
        "comment" => {}
        other => {
            return Err(format!(
                "unknown property {other:?} (topics, action, prefix, disabled)"
            ));
        }
    }
    Ok(())
}

/// The properties of a `/system logging` command accepted without effect here.
pub fn notes(c: &crate::rsc::Command) -> Vec<String> {
    c.props
        .iter()
        .filter(|(k, _)| k == "comment")
        .map(|(k, _)| format!("{k}: has no effect here (rules keep no comments)"))
        .collect()
}

/// Applies a `/system logging` change (`add`, `set`, `remove`, `enable`, `disable`) or
/// `/system logging action set memory memory-lines=N` to `rules` and `memory_lines`: the console
/// on the running program's, the script on those the program starts with. On an error nothing
/// changes.
pub fn apply(
    rules: &mut Vec<Rule>,
    memory_lines: &mut usize,
    c: &crate::rsc::Command,
) -> Result<(), String> {
    let mut new = rules.clone();
    match (c.menu.as_str(), c.verb.as_str()) {
        ("system logging", "add") => {
            if !c.positional.is_empty() {
                return Err("expected end of command (add takes properties only)".into());
            }
            let topics = c.prop("topics").ok_or("topics is required")?;
            let mut rule = Rule::new(topics, "")?;
            for (k, v) in c.props.iter().filter(|(k, _)| k != "topics") {
                set(&mut rule, k, v)?;
            }
            new.push(rule);
        }
        ("system logging", verb @ ("set" | "remove" | "enable" | "disable")) => {
            let names: Vec<String> = (0..new.len()).map(|i| i.to_string()).collect();
            let rows: Vec<Row> = new.iter().map(rule_row).collect();
            let targets: Vec<usize> = named_targets(c, &names, &rows)?
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect();
            let props = verb_props(c)?;
            if verb == "remove" {
                if targets
                    .iter()
                    .any(|i| new.get(*i).is_some_and(|r| r.default))
                {
                    return Err("a default rule cannot be removed (disable it)".into());
                }
                let mut i = 0;
                new.retain(|_| {
                    i += 1;
                    !targets.contains(&(i - 1))
                });
            } else {
                for i in &targets {
                    let r = new.get_mut(*i).ok_or("no such item")?;
                    for (k, v) in &props {
                        set(r, k, v)?;
                    }
                }
            }
        }
        ("system logging action", "set") => {
            match c.positional.first().map(String::as_str) {
                Some("memory" | "0") => {}
                Some(other) => {
                    return Err(format!("no such item ({other}): the one action is memory"));
                }
                None => return Err("expected a number, a name or [find ...]".into()),
            }
            let mut lines = *memory_lines;
            for (k, v) in &c.props {
                match k.as_str() {
                    "memory-lines" => {
                        lines = v
                            .parse()
                            .ok()
                            .filter(|n| (1..=65_535).contains(n))
                            .ok_or("memory-lines: expected 1..65535")?;
                    }
                    other => {
                        return Err(format!("unknown property {other:?} (memory-lines)"));
                    }
                }
            }
            *memory_lines = lines;
        }
        (m, v) => return Err(format!("bad command name {v} (/{m})")),
    }
    *rules = new;
    Ok(())
}

/// The memory log's rules and `memory-lines` as `/export` shows them: what differs from
/// RouterOS's defaults (empty when nothing does).
pub fn export() -> String {
    use std::fmt::Write as _;
    let rules = log_memory::rules();
    let mut out = String::new();
    let mut lines = Vec::new();
    for r in &rules {
        if r.default {
            if r.disabled {
                lines.push(format!(
                    "set [find topics={}] disabled=yes",
                    crate::rsc::quote(&r.topics.join(","))
                ));
            }
            continue;
        }
        let mut l = format!(
            "add topics={} action=memory",
            crate::rsc::quote(&r.topics.join(","))
        );
        if !r.prefix.is_empty() {
            let _ = write!(l, " prefix={}", crate::rsc::quote(&r.prefix));
        }
        if r.disabled {
            l.push_str(" disabled=yes");
        }
        lines.push(l);
    }
    if !lines.is_empty() {
        out.push_str("/system logging\n");
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if log_memory::max_lines() != log_memory::DEFAULT_LINES {
        let _ = writeln!(
            out,
            "/system logging action\nset memory memory-lines={}",
            log_memory::max_lines()
        );
    }
    out
}

/// Runs a `/system logging` command; `None` when `c` is not one.
pub(super) fn run(
    c: &crate::rsc::Command,
    form: impl FnOnce() -> Result<Form, String>,
    filter: &super::filter::Filter,
) -> Result<Option<String>, String> {
    match (c.menu.as_str(), c.verb.as_str()) {
        ("system logging", "print") => {
            let form = form()?;
            let rows = log_memory::rules().iter().map(rule_row).collect();
            Ok(Some(print_rows(
                form,
                rows,
                filter,
                "X - DISABLED; * - DEFAULT",
                &[
                    ("topics", "TOPICS"),
                    ("action", "ACTION"),
                    ("prefix", "PREFIX"),
                ],
                |r| two_flags(r, ("disabled", "X"), ("default", "*"), "X*"),
            )))
        }
        ("system logging action", "print") => {
            form()?;
            Ok(Some(table::columns_flagged(
                &["NAME", "TARGET", "MEMORY-LINES"],
                &[(
                    "*",
                    vec![
                        "memory".to_owned(),
                        "memory".to_owned(),
                        log_memory::max_lines().to_string(),
                    ],
                )],
                "* - DEFAULT",
            )))
        }
        ("system logging" | "system logging action", _) => {
            let mut lines = log_memory::max_lines();
            log_memory::change_rules(|rules| apply(rules, &mut lines, c))?;
            log_memory::set_max_lines(lines);
            Ok(Some(notes(c).into_iter().map(|n| n + "\n").collect()))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::console::client_live::ClientLive;
    use crate::console::exec::run;

    /// The rules are the process's: one test changes them.
    #[test]
    fn rules_print_add_set_remove_and_memory_lines() {
        let dir = tempfile::tempdir().unwrap();
        let l = ClientLive::new("ovpn-out1", Some(dir.path()));
        let out = run("/system logging print", &l).unwrap();
        assert!(out.contains("Flags: X - DISABLED; * - DEFAULT"), "{out}");
        assert!(out.contains(" 0 *   info     memory"), "{out}");
        run(
            "/system logging add topics=ovpn,!debug action=memory prefix=VPN",
            &l,
        )
        .unwrap();
        let out = run("/system logging set 3 comment=mine", &l).unwrap();
        assert!(out.contains("comment: has no effect here"), "{out}");
        run("/system logging disable 0", &l).unwrap();
        let out = run("/system logging print", &l).unwrap();
        assert!(out.contains(" 0 X*  info"), "{out}");
        assert!(out.contains(" 3     ovpn,!debug  memory  VPN"), "{out}");
        // The memory log now takes ovpn lines (with the prefix), not the ppp info lines.
        let rules = crate::log_memory::rules();
        let takes = |t: &[&str]| rules.iter().any(|r| r.matches(t));
        assert!(takes(&["ovpn", "info"]) && !takes(&["ppp", "info"]) && takes(&["ppp", "error"]));
        for (line, says) in [
            ("/system logging remove 0", "default rule"),
            (
                "/system logging add topics=ovpn action=disk",
                "only action=memory",
            ),
            ("/system logging add action=memory", "topics is required"),
            ("/system logging set 9 prefix=x", "no such item"),
            (
                "/system logging action set memory memory-lines=0",
                "1..65535",
            ),
        ] {
            let e = run(line, &l).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        run("/system logging action set memory memory-lines=5", &l).unwrap();
        assert_eq!(crate::log_memory::max_lines(), 5);
        assert!(
            run("/system logging action print", &l)
                .unwrap()
                .contains("memory  5")
        );
        run("/system logging set 3 topics=ppp", &l).unwrap();
        run("/system logging remove 3", &l).unwrap();
        run("/system logging enable 0", &l).unwrap();
        assert_eq!(
            crate::log_memory::rules(),
            crate::log_memory::default_rules()
        );
        run("/system logging action set memory memory-lines=1000", &l).unwrap();
        // Every change is kept for the next start.
        let kept =
            std::fs::read_to_string(dir.path().join(crate::console::journal::JOURNAL)).unwrap();
        assert_eq!(
            kept.lines()
                .filter(|l| l.starts_with("/system logging"))
                .count(),
            8,
            "{kept}"
        );
    }
}
