//! A running server program as the console sees it: its servers' settings and loops, the
//! session tables (asked of each loop), the shared PPP tables and pools, the certificate store,
//! and the journal of console changes. The client program's: [`super::client_live`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use ovpn_session::{ServerConfig, SessionInfo, Shared};

use super::journal::Journal;
use crate::runtime::{Control, ServerChange};
use crate::settings::ServerSettings;

/// How long the console waits for a loop's answer.
const ANSWER: Duration = Duration::from_secs(2);

/// The servers of one program: their loops' controls, their shared tables, and the journal of
/// console changes (`console.rsc` in the state directory, replayed at the next start).
pub struct ServerLive {
    /// Each server's loop, in the order of `servers` (None: not running, disabled or before
    /// the loops start). Locked after `servers` when both are.
    controls: Mutex<Vec<Option<Control>>>,
    /// Starts a server's loop (None: before the loops start).
    spawner: Option<ServerSpawner>,
    /// The servers' settings and configurations as they run now.
    servers: Mutex<Vec<RunningServer>>,
    /// The certificates the servers' certificates come from (shared with the CRL keeper).
    store: crate::crl_keeper::SharedStore,
    /// Where exports, kept certificates and imported files are.
    state_dir: Option<std::path::PathBuf>,
    /// The configuration script's folder (key files named there are read from it).
    script_dir: Option<std::path::PathBuf>,
    /// The script's `/certificate` commands (for `/export`).
    certificate_commands: Mutex<Vec<String>>,
    /// The address the servers listen on (`--listen`; all addresses when `None`).
    listen: Option<IpAddr>,
    /// When the program started.
    started: std::time::Instant,
    /// The tables they share.
    pub shared: Shared,
    /// The console's changes, kept for the next start.
    journal: Journal,
}

impl From<crate::script::ServerSetup> for RunningServer {
    fn from(s: crate::script::ServerSetup) -> Self {
        Self {
            settings: s.settings,
            config: s.config,
        }
    }
}

impl core::fmt::Debug for ServerLive {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerLive")
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

/// Starts a server's loop with this configuration on this address; gives the loop's control.
pub type ServerSpawner =
    Box<dyn Fn(ServerConfig, SocketAddr) -> Result<Control, String> + Send + Sync>;

/// A running server: its `/interface ovpn-server server` properties and the session
/// configuration made of them.
#[derive(Debug, Clone)]
pub struct RunningServer {
    /// Its properties.
    pub settings: ServerSettings,
    /// Its session configuration.
    pub config: ServerConfig,
}

/// The properties that cannot change while the server runs (the script's, read at start).
const FIXED: &[&str] = &[
    "name",
    "control-channel-protection",
    "tls-key-file",
    "key-direction",
    "tls-crypt-v2-key-file",
    "tls-crypt-v2-max-age",
    "tls-crypt-v2-force-cookie",
];

impl ServerLive {
    /// The servers over `shared` (given with [`Self::with_servers`], started with
    /// [`Self::start`]), keeping the console's changes in `state_dir` (None: not kept).
    pub fn new(shared: Shared, state_dir: Option<&std::path::Path>) -> Self {
        Self {
            controls: Mutex::default(),
            spawner: None,
            servers: Mutex::default(),
            store: crate::crl_keeper::SharedStore::default(),
            state_dir: state_dir.map(std::path::Path::to_path_buf),
            script_dir: None,
            certificate_commands: Mutex::default(),
            listen: None,
            started: crate::runtime::now(),
            shared,
            journal: Journal::new(state_dir),
        }
    }

    /// The servers the console shows and changes, their certificates' store, the script's
    /// certificate commands (for `/export`), and the address they listen on.
    pub fn with_servers(
        mut self,
        servers: Vec<RunningServer>,
        store: crate::crl_keeper::SharedStore,
        certificate_commands: Vec<String>,
        listen: Option<IpAddr>,
    ) -> Self {
        self.servers = Mutex::new(servers);
        self.store = store;
        self.certificate_commands = Mutex::new(certificate_commands);
        self.listen = listen;
        self
    }

    /// Key files the servers name (tls-key-file, tls-crypt-v2-key-file) are read from the
    /// configuration script's folder `dir`, then from the state directory, as at start.
    pub fn with_script_dir(mut self, dir: &std::path::Path) -> Self {
        self.script_dir = Some(dir.to_owned());
        self
    }

    /// The servers as they are now (after a replay: what to start).
    pub fn running(&self) -> Vec<RunningServer> {
        self.servers.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Starts a loop for every enabled server (after [`Self::replay`]) with `spawner`, which
    /// also starts the servers the console adds or enables later. Fails on the first server
    /// that cannot start.
    pub fn start(&mut self, spawner: ServerSpawner) -> Result<(), String> {
        let servers = self.running();
        let mut controls = Vec::new();
        for s in &servers {
            controls.push(if s.settings.enabled {
                Some(
                    spawner(s.config.clone(), self.listen_at(s.settings.port))
                        .map_err(|e| format!("{}: {e}", s.settings.name))?,
                )
            } else {
                None
            });
        }
        self.controls = Mutex::new(controls);
        self.spawner = Some(spawner);
        Ok(())
    }

    /// The running loops' controls.
    pub fn controls(&self) -> Vec<Control> {
        self.controls
            .lock()
            .map(|c| c.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// The running loops, each with whether it checks client certificates (for new CRLs).
    pub fn watched(&self) -> Vec<(Control, bool)> {
        let servers = self.running();
        let Ok(controls) = self.controls.lock() else {
            return Vec::new();
        };
        servers
            .iter()
            .zip(controls.iter())
            .filter_map(|(s, c)| Some((c.clone()?, s.config.client_check.is_some())))
            .collect()
    }

    /// Where a server on `port` listens.
    fn listen_at(&self, port: u16) -> SocketAddr {
        SocketAddr::new(
            self.listen
                .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
            port,
        )
    }

    /// Records server `i`'s loop.
    fn set_control(&self, i: usize, control: Option<Control>) {
        if let Ok(mut c) = self.controls.lock() {
            if c.len() <= i {
                c.resize(i + 1, None);
            }
            c[i] = control;
        }
    }

    /// `settings` with `props` applied (refusing what only the script may set), checked as the
    /// script checks a server, and the session configuration made of them (with the
    /// protection of `old`, the configuration it replaces); the warnings of properties without
    /// effect.
    fn make(
        &self,
        mut settings: ServerSettings,
        props: &[(String, String)],
        old: Option<&ServerConfig>,
    ) -> Result<(ServerSettings, ServerConfig, String), String> {
        let mut notes = String::new();
        for (k, v) in props {
            if FIXED.contains(&k.as_str()) {
                return Err(format!(
                    "{k}: cannot change while the server runs (change the script and restart)"
                ));
            }
            if let Some(n) = settings
                .set(k, v, 0)
                .map_err(|e| super::exec::property_error(k, v, &e))?
            {
                notes.push_str(&n);
                notes.push('\n');
            }
        }
        if !self
            .shared
            .view(|ppp, _| ppp.profile(&settings.default_profile).is_some())
        {
            return Err(format!(
                "default-profile={}: no such /ppp profile",
                settings.default_profile
            ));
        }
        let mut config = {
            let store = self
                .store
                .lock()
                .map_err(|_| "the certificates are unusable")?;
            settings.session_config(&store)?
        };
        if let Some(old) = old {
            config.protection = old.protection.clone();
            config.tls_crypt_v2 = old.tls_crypt_v2.clone();
        }
        Ok((settings, config, notes))
    }

    /// The control of server `i`, if it runs.
    fn control_of(&self, i: usize) -> Option<Control> {
        self.controls.lock().ok()?.get(i).cloned().flatten()
    }

    /// Replays the journal of an earlier run (after the script, before serving): every line
    /// must apply, or the start is refused with the file's path, the line and why.
    pub fn replay(&self) -> Result<usize, String> {
        self.journal.replay(|line| super::exec::run(line, self))
    }
}

impl super::exec::Live for ServerLive {
    fn sessions(&self) -> Vec<SessionInfo> {
        let asked: Vec<_> = self
            .controls()
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
        self.controls().iter().for_each(Control::wake);
        Ok(())
    }

    fn export(&self, show_sensitive: bool) -> String {
        use std::fmt::Write as _;
        // (The IPv6 pools first: the tables' lock is taken once at a time.)
        let pools6: Vec<String> = self.shared.view_ipv6(|p6| {
            p6.pools()
                .filter_map(|p| {
                    let prefix = p.prefix()?;
                    Some(format!(
                        "add name={} prefix={prefix} prefix-length={}",
                        crate::rsc::quote(p.name()),
                        p.lease_prefix_len()
                    ))
                })
                .collect()
        });
        self.shared.view(|ppp, pools| {
            let mut out = String::from("# the running configuration\n");
            let certificate_commands = self
                .certificate_commands
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default();
            out.push_str(&certificate_section(&certificate_commands, show_sensitive));
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
            if !pools6.is_empty() {
                out.push_str("/ipv6 pool\n");
                for l in pools6 {
                    out.push_str(&l);
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
            let servers = self.running();
            if !servers.is_empty() {
                out.push_str("/interface ovpn-server server\n");
                for r in &servers {
                    // (A server's properties hold no secrets: key files are named, not shown.)
                    let words = r.settings.export_words();
                    if servers.len() == 1 && r.settings.name == "ovpn-server1" {
                        let _ = writeln!(out, "set {words}");
                    } else {
                        let _ = writeln!(
                            out,
                            "add name={} {}",
                            crate::rsc::quote(&r.settings.name),
                            words
                        );
                    }
                }
            }
            out.push_str(&super::logging_rules::export());
            out
        })
    }

    fn keep(&self, line: &str) -> Result<(), String> {
        // The certificates made or changed from the console are part of the configuration
        // `/export` shows.
        if line.starts_with("/certificate ")
            && let Ok(mut c) = self.certificate_commands.lock()
        {
            c.push(line.to_owned());
        }
        self.journal.keep(line)
    }

    fn started(&self) -> Option<std::time::Instant> {
        Some(self.started)
    }

    fn view_pools(&self, family: ovpn_pool::Family, view: &mut dyn FnMut(&ovpn_pool::PoolSet)) {
        match family {
            ovpn_pool::Family::Ipv4 => self.shared.view(|_, pools| view(pools)),
            ovpn_pool::Family::Ipv6 => self.shared.view_ipv6(|pools| view(pools)),
        }
    }

    fn change_pools(
        &self,
        family: ovpn_pool::Family,
        change: &mut dyn FnMut(&mut ovpn_pool::PoolSet, &ovpn_ppp::PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        match family {
            ovpn_pool::Family::Ipv4 => self.shared.change(|ppp, pools| change(pools, ppp))?,
            ovpn_pool::Family::Ipv6 => {
                // The PPP tables first (a copy): the tables' lock is taken once at a time.
                let ppp = self.shared.view(|ppp, _| ppp.clone());
                self.shared.change_ipv6(|pools| change(pools, &ppp))?;
            }
        }
        self.controls().iter().for_each(Control::wake);
        Ok(())
    }

    fn with_store(
        &self,
        f: &mut dyn FnMut(&mut ovpn_pki::Store) -> Result<String, String>,
    ) -> Result<String, String> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| "the certificates are unusable")?;
        f(&mut store)
    }

    fn state_dir(&self) -> Option<std::path::PathBuf> {
        self.state_dir.clone()
    }

    fn certificate_user(&self, name: &str) -> Option<String> {
        self.running()
            .into_iter()
            .find(|r| r.settings.certificate.as_deref() == Some(name))
            .map(|r| r.settings.name)
    }

    fn certificates_changed(&self) -> Result<(), String> {
        let check = {
            let store = self
                .store
                .lock()
                .map_err(|_| "the certificates are unusable")?;
            store
                .peer_verifier(ovpn_pki::PeerRole::TlsClient)
                .map_err(|e| format!("the client check cannot be made: {e}"))?
        };
        let check: crate::runtime::ClientCheck = std::sync::Arc::new(check);
        for (control, checks) in self.watched() {
            if checks {
                control.set_client_check(check.clone());
            }
        }
        Ok(())
    }

    fn servers(&self) -> Vec<ServerSettings> {
        self.running().into_iter().map(|r| r.settings).collect()
    }

    fn read_file(&self, name: &str) -> Result<Vec<u8>, String> {
        let p = std::path::Path::new(name);
        let found = if p.is_absolute() {
            Some(p.to_owned())
        } else {
            self.script_dir
                .iter()
                .chain(self.state_dir.iter())
                .map(|d| d.join(p))
                .find(|x| x.is_file())
        };
        let path = found.ok_or_else(|| format!("{name}: no such file"))?;
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn export_client_profile(&self, props: &[(String, String)]) -> Result<String, String> {
        let servers = self.running();
        let named = props.iter().find(|(k, _)| k == "server").map(|(_, v)| v);
        let s = match named {
            Some(n) => servers.iter().find(|s| &s.settings.name == n),
            None => servers.first(),
        }
        .ok_or_else(|| {
            format!(
                "server={}: no such server",
                named.map_or("", |n| n.as_str())
            )
        })?;
        let dir = self
            .state_dir
            .clone()
            .ok_or("this program keeps no state directory")?;
        let read = |f: &str| super::exec::Live::read_file(self, f);
        let now = crate::runtime::unix_seconds();
        let file = {
            let store = self
                .store
                .lock()
                .map_err(|_| "the certificates are unusable")?;
            crate::export_profile::client_profile(&s.settings, props, &store, &read, now)?
        };
        let written = crate::script::write_files(std::slice::from_ref(&file), &dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(written
            .iter()
            .map(|p| format!("exported {}\n", p.display()))
            .collect())
    }

    fn set_server(
        &self,
        which: Option<&str>,
        props: &[(String, String)],
    ) -> Result<String, String> {
        let Ok(mut servers) = self.servers.lock() else {
            return Err("the server table is unusable".into());
        };
        let i = match which {
            None if servers.len() == 1 => 0,
            None => {
                return Err(format!(
                    "several servers ({}): name the one to set",
                    servers
                        .iter()
                        .map(|s| s.settings.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Some(w) => w
                .parse::<usize>()
                .ok()
                .filter(|n| *n < servers.len())
                .or_else(|| servers.iter().position(|s| s.settings.name == w))
                .ok_or_else(|| format!("no such item ({w})"))?,
        };
        if props.is_empty() {
            return Err("set: no properties given".into());
        }
        let old = servers[i].clone();
        let (settings, config, notes) =
            self.make(old.settings.clone(), props, Some(&old.config))?;
        if settings.enabled
            && let Some(other) = servers.iter().enumerate().find(|(j, o)| {
                *j != i
                    && o.settings.enabled
                    && o.settings.port == settings.port
                    && o.settings.transport == settings.transport
            })
        {
            return Err(format!(
                "port={}: server {}'s already",
                settings.port, other.1.settings.name
            ));
        }
        let running = self.control_of(i);
        match (running, settings.enabled, &self.spawner) {
            // Disabled: its loop ends its sessions, telling the clients.
            (Some(control), false, _) => {
                control.stop();
                self.set_control(i, None);
                tracing::info!(target: "ovpn", "{}: disabled from the console", settings.name);
            }
            (Some(control), true, _) => {
                let restart = (settings.port, settings.transport, settings.mode)
                    != (old.settings.port, old.settings.transport, old.settings.mode);
                let answer = control
                    .request_change(ServerChange {
                        config: config.clone(),
                        listen: restart.then(|| self.listen_at(settings.port)),
                    })
                    .recv_timeout(ANSWER)
                    .map_err(|_| "the server did not answer".to_owned())??;
                tracing::info!(target: "ovpn", "{}: changed from the console: {answer}", settings.name);
            }
            (None, true, Some(spawn)) => {
                let control = spawn(config.clone(), self.listen_at(settings.port))?;
                self.set_control(i, Some(control));
                tracing::info!(target: "ovpn", "{}: enabled from the console", settings.name);
            }
            // Not running yet (the journal's replay): the settings alone.
            (None, _, _) => {}
        }
        servers[i] = RunningServer { settings, config };
        Ok(notes)
    }

    fn add_server(&self, props: &[(String, String)]) -> Result<String, String> {
        let Ok(mut servers) = self.servers.lock() else {
            return Err("the server table is unusable".into());
        };
        // ovpn-serverN: the lowest N not taken; an added server starts enabled (its disabled
        // defaults to no), as on RouterOS 7.17.
        let mut settings = ServerSettings {
            name: crate::script::lowest_free(
                "ovpn-server",
                servers.iter().map(|s| &s.settings.name),
            ),
            enabled: true,
            ..ServerSettings::default()
        };
        if let Some((_, v)) = props.iter().find(|(k, _)| k == "name") {
            settings
                .set("name", v, 0)
                .map_err(|e| format!("name={v}: {e}"))?;
        }
        if servers.iter().any(|s| s.settings.name == settings.name) {
            return Err(format!("a server named {} exists already", settings.name));
        }
        let rest: Vec<(String, String)> =
            props.iter().filter(|(k, _)| k != "name").cloned().collect();
        let (settings, config, notes) = self.make(settings, &rest, None)?;
        if settings.enabled
            && let Some(other) = servers.iter().find(|o| {
                o.settings.enabled
                    && o.settings.port == settings.port
                    && o.settings.transport == settings.transport
            })
        {
            return Err(format!(
                "port={}: server {}'s already",
                settings.port, other.settings.name
            ));
        }
        let control = match (&self.spawner, settings.enabled) {
            (Some(spawn), true) => Some(spawn(config.clone(), self.listen_at(settings.port))?),
            _ => None,
        };
        tracing::info!(target: "ovpn", "{}: added from the console", settings.name);
        servers.push(RunningServer { settings, config });
        if let Ok(mut c) = self.controls.lock() {
            c.resize(servers.len() - 1, None);
            c.push(control);
        }
        Ok(notes)
    }

    fn remove_server(&self, name: &str) -> Result<(), String> {
        let Ok(mut servers) = self.servers.lock() else {
            return Err("the server table is unusable".into());
        };
        let i = servers
            .iter()
            .position(|s| s.settings.name == name)
            .ok_or_else(|| format!("no such item ({name})"))?;
        if servers.len() == 1 {
            return Err(format!(
                "{name} is the program's last server: disable it instead (enabled=no)"
            ));
        }
        servers.remove(i);
        if let Ok(mut c) = self.controls.lock()
            && i < c.len()
            && let Some(control) = c.remove(i)
        {
            control.stop();
        }
        tracing::info!(target: "ovpn", "{name}: removed from the console");
        Ok(())
    }

    fn remove_session(&self, session_id: u32) -> Result<(), String> {
        self.shared
            .remove_session(session_id)
            .map_err(|e| e.to_string())?;
        // Each loop ends it at its next turn.
        self.controls().iter().for_each(Control::wake);
        Ok(())
    }
}

/// The `/certificate` commands of a configuration as `/export` shows them (passphrases only
/// with `show_sensitive`, as RouterOS's export leaves them out).
pub(super) fn certificate_section(commands: &[String], show_sensitive: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if commands.is_empty() {
        return out;
    }
    out.push_str("/certificate\n");
    for line in commands {
        // Each was a command's printed form: it parses back to the same command (the
        // rsc_script fuzz target holds that).
        let Ok(mut parsed) = crate::rsc::parse(line) else {
            continue;
        };
        let Some(c) = parsed.first_mut() else {
            continue;
        };
        if !show_sensitive {
            c.props.retain(|(k, _)| !k.ends_with("passphrase"));
        }
        let text = c.to_string();
        let rest = text.strip_prefix("/certificate ").unwrap_or(&text);
        match rest.strip_prefix("settings ") {
            Some(settings) => {
                let _ = writeln!(
                    out,
                    "# settings\n/certificate settings\n{settings}\n/certificate"
                );
            }
            None => {
                let _ = writeln!(out, "{rest}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::exec::run;
    use crate::console::journal::JOURNAL;

    fn shared() -> Shared {
        let mut ppp = ovpn_ppp::PppConfig::new();
        ppp.add_secret_text("name=alice password=pw service=ovpn")
            .unwrap();
        Shared::new(ppp, ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4))
    }

    fn live(dir: &std::path::Path, shared: Shared) -> ServerLive {
        ServerLive::new(shared, Some(dir))
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
        let out = run("/ppp secret print detail where name=alice", &l).unwrap();
        assert!(
            out.starts_with("Flags: X - DISABLED\n 0 X  name=alice"),
            "each row's flags after its number: {out}"
        );
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
        // Kept by name: a number means the row of a console's last print, which a replay has
        // not got.
        assert!(
            kept.contains("/ppp secret disable [find name=alice]\n"),
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
        // A property accepted without effect here is said so, as the script warns.
        let out = run(
            "/ppp profile set p2 address-list=vpn use-compression=yes",
            &l,
        )
        .unwrap();
        assert!(
            out.contains("address-list=vpn: has no effect here")
                && out.contains("use-compression=yes: has no effect here"),
            "{out}"
        );
    }

    /// A server made by the script interpreter (keys: P-256, quick to make).
    const SERVER_SCRIPT: &str = "/certificate add name=ca common-name=ca key-size=prime256v1 key-usage=key-cert-sign,crl-sign
/certificate sign ca
/certificate add name=server common-name=server key-size=prime256v1
/certificate sign server ca=ca
/certificate import file-name=none.crt passphrase=\"two words\"
/ip pool add name=pool1 ranges=10.8.0.2-10.8.0.9
/ppp profile add name=p1 local-address=10.8.0.1 remote-address=pool1
/ppp secret add name=alice password=pw profile=p1 service=ovpn
/interface ovpn-server server set enabled=yes certificate=server cipher=aes256-gcm port=1195 protocol=udp
";

    fn interpret(script: &str, dir: &std::path::Path) -> Result<crate::script::Setup, String> {
        let env = crate::script::Env {
            script_dir: dir.to_owned(),
            state_dir: dir.to_owned(),
            now: rustls::pki_types::UnixTime::now(),
            allow_outside_paths: false,
        };
        crate::script::interpret(crate::script::Program::Server, script, &env)
            .map_err(|f| format!("{f:?}"))
    }

    fn server_live(dir: &std::path::Path) -> ServerLive {
        // The import's file is missing: the script is the server's without that line.
        let script: String = SERVER_SCRIPT
            .lines()
            .filter(|l| !l.contains("import"))
            .map(|l| format!("{l}\n"))
            .collect();
        let setup = interpret(&script, dir).unwrap();
        // The certificates made are kept, as the program does: the next start reuses them.
        setup.write_files(dir).unwrap();
        let running = setup.servers.into_iter().map(RunningServer::from).collect();
        let shared = Shared::new(setup.ppp, setup.pools);
        let mut commands = setup.certificate_commands;
        commands.push("/certificate import file-name=none.crt passphrase=\"two words\"".into());
        ServerLive::new(shared, Some(dir)).with_servers(
            running,
            std::sync::Arc::new(std::sync::Mutex::new(setup.store)),
            commands,
            None,
        )
    }

    #[test]
    fn server_settings_print_change_live_and_export() {
        let dir = tempfile::tempdir().unwrap();
        let l = server_live(dir.path());
        let out = run("/interface ovpn-server server print", &l).unwrap();
        let has = |out: &str, line: &str| out.lines().any(|l| l.trim_start() == line);
        assert!(has(&out, "cipher: aes256-gcm"), "{out}");
        assert!(
            has(&out, "port: 1195") && has(&out, "keepalive-timeout: 60"),
            "{out}"
        );
        // Keys are aligned on their colons.
        let colons: std::collections::HashSet<usize> =
            out.lines().filter_map(|l| l.find(": ")).collect();
        assert_eq!(colons.len(), 1, "{out}");
        run(
            "/interface ovpn-server server set cipher=aes128-gcm,aes256-gcm keepalive-timeout=30",
            &l,
        )
        .unwrap();
        let now = l.running().remove(0);
        assert_eq!(
            now.config.ciphers,
            vec![
                ovpn_crypto::Cipher::Aes128Gcm,
                ovpn_crypto::Cipher::Aes256Gcm
            ]
        );
        assert_eq!(now.config.keepalive_timeout, Some(Duration::from_secs(30)));
        let out = run("/interface ovpn-server server print detail", &l).unwrap();
        assert!(out.contains("cipher=aes128-gcm,aes256-gcm"), "{out}");
        // Refusals name the property and change nothing.
        for (line, says) in [
            ("set certificate=nosuch", "nosuch"),
            (
                "set tls-key-file=ta.key",
                "cannot change while the server runs",
            ),
            ("set default-profile=nope", "no such /ppp profile"),
            ("set bogus=1", "bogus"),
            ("set cipher=rot13", "unknown cipher"),
            ("set ovpn-server9 port=1", "no such item"),
            ("set", "no properties"),
        ] {
            let e = run(&format!("/interface ovpn-server server {line}"), &l).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        assert_eq!(l.running()[0].config.ciphers, now.config.ciphers);
        // `/export`: certificates, pools, PPP tables and the server; the passphrase hidden.
        let export = run("/export", &l).unwrap();
        assert!(
            export.contains("/certificate\nadd name=ca")
                && export.contains("sign server ca=ca")
                && export.contains("set enabled=yes port=1195")
                && export.contains("cipher=aes128-gcm,aes256-gcm")
                && export.contains("keepalive-timeout=30"),
            "{export}"
        );
        assert!(
            !export.contains("two words") && export.contains("import file-name=none.crt"),
            "{export}"
        );
        assert!(
            run("/export show-sensitive", &l)
                .unwrap()
                .contains("passphrase=\"two words\"")
        );
        // Fed back to the interpreter (`check`), it makes the same server.
        let script: String = export
            .lines()
            .filter(|l| !l.contains("import"))
            .map(|l| format!("{l}\n"))
            .collect();
        let again = interpret(&script, dir.path()).unwrap();
        let s = &again.servers[0];
        assert_eq!(s.config.ciphers, now.config.ciphers);
        assert_eq!(s.config.keepalive_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.settings.port, 1195);
        // The change is kept: a restart's replay gives the same settings.
        let next = server_live(dir.path());
        assert_eq!(next.replay().unwrap(), 1);
        assert_eq!(next.running()[0].config.ciphers, now.config.ciphers);
        assert_eq!(
            next.running()[0].config.keepalive_timeout,
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn certificates_change_live_and_signed_ones_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let l = server_live(dir.path());
        let out = run("/certificate print", &l).unwrap();
        assert!(out.contains("server") && out.contains(" ca "), "{out}");
        run(
            "/certificate add name=c2 common-name=c2 key-size=prime256v1 key-usage=tls-client",
            &l,
        )
        .unwrap();
        run("/certificate sign c2 ca=ca", &l).unwrap();
        let kept = dir.path().join("certificates/c2.pem");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&kept).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let der = |l: &ServerLive, name: &str| {
            let mut d = Vec::new();
            crate::console::exec::Live::with_store(l, &mut |s| {
                d = s.get(name).map(|c| c.der().to_vec()).unwrap_or_default();
                Ok(String::new())
            })
            .unwrap();
            d
        };
        let signed = der(&l, "c2");
        assert!(!signed.is_empty());
        let out = run(
            "/certificate export-certificate c2 export-passphrase=secret123",
            &l,
        )
        .unwrap();
        assert!(
            out.contains("cert_export_c2.crt") && out.contains("cert_export_c2.key"),
            "{out}"
        );
        // A profile for c2's client, at run time.
        let out = run(
            "/interface ovpn-server server export-client-configuration client-certificate=c2 server-address=vpn.example.com key-passphrase=secret123",
            &l,
        )
        .unwrap();
        assert!(out.contains("c2.ovpn"), "{out}");
        let profile = std::fs::read_to_string(dir.path().join("c2.ovpn")).unwrap();
        assert!(
            profile.contains("remote vpn.example.com 1195") && profile.contains("<cert>"),
            "{profile}"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("c2.ovpn"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        for (line, says) in [
            ("server-address=x", "client-certificate is required"),
            ("client-certificate=c2", "server-address is required"),
            (
                "client-certificate=c2 server-address=x server=nope",
                "no such server",
            ),
            (
                "client-certificate=c2 server-address=x colour=red",
                "colour",
            ),
        ] {
            let e = run(
                &format!("/interface ovpn-server server export-client-configuration {line}"),
                &l,
            )
            .unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        run("/certificate issued-revoke c2", &l).unwrap();
        let out = run("/certificate print detail", &l).unwrap();
        assert!(out.contains(" IR ") && out.contains("revoked="), "{out}");
        run("/certificate remove c2", &l).unwrap();
        run(
            "/certificate import file-name=cert_export_c2.crt name=c2back",
            &l,
        )
        .unwrap();
        assert_eq!(der(&l, "c2back"), signed);
        for (line, says) in [
            ("/certificate remove server", "ovpn-server1"),
            ("/certificate sign nothing", "nothing"),
            ("/certificate import file-name=../etc/passwd", "no folders"),
            ("/certificate issued-revoke nobody", "nobody"),
            ("/certificate print where name=ca", "where"),
        ] {
            let e = run(line, &l).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        assert_eq!(run("/certificate print count-only", &l).unwrap(), "3\n");
        run(
            "/certificate settings set crl-days-valid=7 crl-expiry=refuse",
            &l,
        )
        .unwrap();
        let out = run("/certificate settings print", &l).unwrap();
        assert!(
            out.contains("crl-days-valid: 7") && out.contains("crl-expiry: refuse"),
            "{out}"
        );
        let e = run("/certificate settings set crl-days-valid=3 crl-use=no", &l).unwrap_err();
        assert!(e.contains("crl-use=no"), "{e}");
        assert!(
            run("/certificate settings print", &l)
                .unwrap()
                .contains("crl-days-valid: 7")
        );
        // `/export` shows the certificates made from the console too.
        let export = run("/export", &l).unwrap();
        assert!(
            export.contains("\nsign c2 ca=ca\n")
                && export.contains("\nissued-revoke c2\n")
                && export
                    .contains("/certificate settings\nset crl-days-valid=7 crl-expiry=refuse\n"),
            "{export}"
        );
        // The next start replays the changes: c2 is the same certificate (loaded from where it
        // was kept, not signed again), revoked, removed and imported again.
        let next = server_live(dir.path());
        assert_eq!(next.replay().unwrap(), 6);
        assert_eq!(der(&next, "c2back"), signed);
        assert_eq!(run("/certificate print count-only", &next).unwrap(), "3\n");
    }
}
