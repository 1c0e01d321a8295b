//! The running programs as the console sees them: a server's session tables (asked of each
//! loop) and shared PPP tables (`/ppp active remove`); a client's interface.

use std::time::Duration;

use ovpn_session::{SessionInfo, Shared};

use crate::runtime::Control;

/// How long the console waits for a loop's answer.
const ANSWER: Duration = Duration::from_secs(2);

/// The servers of one program: their loops' controls, their shared tables, and the journal of
/// console changes (`console.rsc` in the state directory, replayed at the next start).
#[derive(Debug)]
pub struct ServerLive {
    /// Each server loop's control.
    pub controls: Vec<Control>,
    /// The tables they share.
    pub shared: Shared,
    /// The console's changes so far, as command lines.
    pub journal: std::sync::Mutex<Vec<String>>,
    /// Where the journal is kept (None: not kept).
    pub journal_file: Option<std::path::PathBuf>,
    /// Replaying the journal: changes are collected, the file is left as it is.
    replaying: std::sync::atomic::AtomicBool,
}

/// The journal's file name in the state directory.
pub const JOURNAL: &str = "console.rsc";

/// Writes `lines` to `path` atomically (a temporary file, fsync, rename), 0600.
fn write_atomically(path: &std::path::Path, lines: &[String]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("rsc.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(b"# changes made from the console, applied after the script at start\n")?;
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl ServerLive {
    /// The servers behind `controls` over `shared`, keeping the console's changes in
    /// `state_dir` (None: not kept).
    pub fn new(
        controls: Vec<Control>,
        shared: Shared,
        state_dir: Option<&std::path::Path>,
    ) -> Self {
        Self {
            controls,
            shared,
            journal: std::sync::Mutex::default(),
            journal_file: state_dir.map(|d| d.join(JOURNAL)),
            replaying: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Replays the journal of an earlier run (after the script, before serving): every line
    /// must apply, or the start is refused with the file's path, the line and why.
    pub fn replay(&self) -> Result<usize, String> {
        let Some(path) = &self.journal_file else {
            return Ok(0);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        use std::sync::atomic::Ordering;
        self.replaying.store(true, Ordering::SeqCst);
        let mut n = 0;
        let mut result = Ok(());
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(e) = super::exec::run(line, self) {
                result = Err(format!("{}:{}: {e}", path.display(), i + 1));
                break;
            }
            n += 1;
        }
        self.replaying.store(false, Ordering::SeqCst);
        result.map(|()| n)
    }
}

impl super::exec::Live for ServerLive {
    fn sessions(&self) -> Vec<SessionInfo> {
        let asked: Vec<_> = self
            .controls
            .iter()
            .map(Control::request_sessions)
            .collect();
        let mut rows: Vec<SessionInfo> = asked
            .into_iter()
            .filter_map(|rx| rx.recv_timeout(ANSWER).ok())
            .flatten()
            .collect();
        rows.sort_by_key(|s| s.session_id);
        rows
    }

    fn secrets(&self) -> Vec<ovpn_ppp::Secret> {
        self.shared.view(|ppp, _| ppp.secrets().cloned().collect())
    }

    fn profiles(&self) -> Vec<ovpn_ppp::Profile> {
        self.shared.view(|ppp, _| ppp.profiles().cloned().collect())
    }

    fn change_ppp(
        &self,
        change: &mut dyn FnMut(&mut ovpn_ppp::PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        self.shared.change(|ppp, _| change(ppp))?;
        // Each loop looks at the change at its next turn.
        self.controls.iter().for_each(Control::wake);
        Ok(())
    }

    fn export(&self, show_sensitive: bool) -> String {
        use std::fmt::Write as _;
        self.shared.view(|ppp, pools| {
            let mut out = String::from(
                "# the live pools and PPP tables (the server settings and certificates are the\n# configuration script's)\n",
            );
            if pools.pools().next().is_some() {
                out.push_str("/ip pool\n");
                for p in pools.pools() {
                    let _ = write!(out, "add name={}", crate::rsc::quote(p.name()));
                    if let Some(r) = p.ranges() {
                        let _ = write!(out, " ranges={}", crate::rsc::quote(&r.to_string()));
                    }
                    if let Some(n) = p.next_pool() {
                        let _ = write!(out, " next-pool={}", crate::rsc::quote(n));
                    }
                    if let Some(c) = p.comment() {
                        let _ = write!(out, " comment={}", crate::rsc::quote(c));
                    }
                    out.push('\n');
                }
            }
            let custom: Vec<_> = ppp
                .profiles()
                .filter(|p| {
                    !ovpn_ppp::Profile::is_builtin(&p.name)
                        || (p.name == ovpn_ppp::Profile::DEFAULT
                            && **p != ovpn_ppp::Profile::builtin_default())
                        || (p.name == ovpn_ppp::Profile::DEFAULT_ENCRYPTION
                            && **p != ovpn_ppp::Profile::builtin_default_encryption())
                })
                .collect();
            if !custom.is_empty() {
                out.push_str("/ppp profile\n");
                for p in custom {
                    if ovpn_ppp::Profile::is_builtin(&p.name) {
                        let text = p.to_string();
                        let props = text.split_once(' ').map_or("", |(_, r)| r);
                        let _ = writeln!(out, "set {} {props}", crate::rsc::quote(&p.name));
                    } else {
                        let _ = writeln!(out, "add {p}");
                    }
                }
            }
            let secrets: Vec<_> = ppp.secrets().collect();
            if !secrets.is_empty() {
                out.push_str("/ppp secret\n");
                for s in secrets {
                    if show_sensitive {
                        let _ = writeln!(out, "add {}", s.show_sensitive());
                    } else {
                        let _ = writeln!(out, "add {s}");
                    }
                }
            }
            out
        })
    }

    fn keep(&self, line: &str) -> Result<(), String> {
        let Ok(mut journal) = self.journal.lock() else {
            return Err("the journal is unusable".into());
        };
        journal.push(line.to_owned());
        let replaying = self.replaying.load(std::sync::atomic::Ordering::SeqCst);
        if let Some(path) = self.journal_file.as_ref().filter(|_| !replaying) {
            write_atomically(path, &journal).map_err(|e| {
                format!(
                    "{}: {e}: the change applies now but is not kept",
                    path.display()
                )
            })?;
        }
        Ok(())
    }

    fn remove_session(&self, session_id: u32) -> Result<(), String> {
        self.shared
            .remove_session(session_id)
            .map_err(|e| e.to_string())?;
        // Each loop ends it at its next turn.
        self.controls.iter().for_each(Control::wake);
        Ok(())
    }
}

/// A client program: its loop's control.
#[derive(Debug, Clone)]
pub struct ClientLive {
    /// The client loop's control.
    pub control: Control,
}

impl super::exec::Live for ClientLive {
    fn clients(&self) -> Vec<super::exec::ClientRow> {
        self.control
            .request_client_row()
            .recv_timeout(ANSWER)
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::exec::run;

    fn shared() -> Shared {
        let mut ppp = ovpn_ppp::PppConfig::new();
        ppp.add_secret_text("name=alice password=pw service=ovpn")
            .unwrap();
        Shared::new(ppp, ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4))
    }

    fn live(dir: &std::path::Path, shared: Shared) -> ServerLive {
        ServerLive::new(Vec::new(), shared, Some(dir))
    }

    #[test]
    fn export_hides_passwords_unless_asked_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared();
        shared
            .change(|ppp, pools| {
                ppp.add_profile_text("name=p1 local-address=10.8.0.1 remote-address=pool1 dns-server=8.8.8.8")?;
                pools
                    .add(ovpn_pool::Pool::ipv4("pool1", "10.8.0.2-10.8.0.9".parse().unwrap()).unwrap())
                    .unwrap();
                ppp.add_secret_text("name=bob password=\"two words\" profile=p1 service=ovpn remote-address=10.8.0.5")
            })
            .unwrap();
        let l = live(dir.path(), shared.clone());
        let hidden = run("/export", &l).unwrap();
        assert!(!hidden.contains("password"), "{hidden}");
        assert!(hidden.contains("add name=bob"), "{hidden}");
        let shown = run("/export show-sensitive", &l).unwrap();
        assert!(shown.contains("password=\"two words\""), "{shown}");
        // Fed back (as a script's lines), it gives the same tables.
        let mut ppp = ovpn_ppp::PppConfig::new();
        let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
        let mut menu = "";
        for line in shown.lines().filter(|l| !l.starts_with('#')) {
            if let Some(m) = line.strip_prefix('/') {
                menu = m;
                continue;
            }
            let props = line.strip_prefix("add ").unwrap();
            match menu {
                "ip pool" => pools
                    .add(
                        ovpn_pool::Pool::from_properties(
                            ovpn_pool::Family::Ipv4,
                            ovpn_rsc::parse_properties(props).unwrap(),
                        )
                        .unwrap(),
                    )
                    .unwrap(),
                "ppp profile" => ppp.add_profile_text(props).unwrap(),
                "ppp secret" => ppp.add_secret_text(props).unwrap(),
                other => panic!("{other}"),
            }
        }
        shared.view(|live_ppp, live_pools| {
            assert_eq!(
                ppp.secrets().collect::<Vec<_>>(),
                live_ppp.secrets().collect::<Vec<_>>()
            );
            assert_eq!(ppp.profile("p1"), live_ppp.profile("p1"));
            assert_eq!(
                pools
                    .get("pool1")
                    .and_then(|p| p.ranges())
                    .map(ToString::to_string),
                live_pools
                    .get("pool1")
                    .and_then(|p| p.ranges())
                    .map(ToString::to_string)
            );
        });
        assert!(run("/export sideways", &l).is_err());
        let terse = run("/export terse", &l).unwrap();
        assert!(terse.contains("\n/ppp secret add name=bob"), "{terse}");
        assert!(
            terse.lines().all(|l| l.starts_with('#')
                || l.starts_with("/ip pool add")
                || l.starts_with("/ppp profile add")
                || l.starts_with("/ppp secret add")),
            "{terse}"
        );
    }

    #[test]
    fn secrets_change_live_and_the_changes_survive_a_restart() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let l = live(dir.path(), shared());
        run("/ppp secret add name=bob password=secret1 service=ovpn", &l).unwrap();
        run("/ppp secret disable alice", &l).unwrap();
        run(
            "/ppp profile add name=p2 local-address=10.9.0.1 only-one=yes",
            &l,
        )
        .unwrap();
        run("/ppp profile set p2 dns-server=9.9.9.9", &l).unwrap();
        let out = run("/ppp profile print detail where name=p2", &l).unwrap();
        assert!(
            out.contains("local-address=10.9.0.1") && out.contains("dns-server=9.9.9.9"),
            "{out}"
        );
        assert!(run("/ppp profile remove nothing", &l).is_err());
        let out = run("/ppp secret print", &l).unwrap();
        assert!(out.contains(" 0 X   alice"), "{out}");
        assert!(out.contains(" 1     bob"), "{out}");
        assert!(!out.contains("secret1"), "passwords are not printed: {out}");
        let out = run("/ppp secret print detail where name=bob", &l).unwrap();
        assert!(
            out.contains("name=bob") && !out.contains("secret1"),
            "{out}"
        );
        // Refusals change nothing and are not kept.
        assert!(run("/ppp secret add name=bob password=x", &l).is_err());
        assert!(
            run("/ppp secret remove 7", &l)
                .unwrap_err()
                .contains("no such item")
        );
        assert!(run("/ppp secret set bob", &l).is_err());
        let path = dir.path().join(JOURNAL);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let kept = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            kept.lines().filter(|l| !l.starts_with('#')).count(),
            4,
            "{kept}"
        );
        // The next start: the script's tables, then the journal.
        let again = live(dir.path(), shared());
        assert_eq!(again.replay().unwrap(), 4);
        assert!(
            crate::console::exec::Live::profiles(&again)
                .iter()
                .any(|p| p.name == "p2")
        );
        let secrets = crate::console::exec::Live::secrets(&again);
        assert!(secrets.iter().any(|s| s.name == "bob"));
        assert!(secrets.iter().any(|s| s.name == "alice" && s.disabled));
        // A journal that no longer applies refuses the start, naming the file and line, and
        // is left as it was.
        let broken = "# x\n/ppp secret add name=carol password=p\n/ppp secret remove nobody\n";
        std::fs::write(&path, broken).unwrap();
        let e = live(dir.path(), shared()).replay().unwrap_err();
        assert!(
            e.contains("console.rsc:3:") && e.contains("no such item"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    }
}
