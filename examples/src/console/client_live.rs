//! A running client program as the console sees it: its interfaces (one `ovpn-client` runs
//! several, as a router does), each with its loop, its script properties and configuration;
//! `add` starts another loop, `remove` ends one (telling its server); the journal of console
//! changes is replayed before the loops start.

use std::sync::Mutex;
use std::time::Duration;

use ovpn_session::ClientConfig;

use super::journal::Journal;
use crate::runtime::{ClientChange, Control};
use crate::settings::ClientSettings;

/// How long the console waits for a loop's answer.
const ANSWER: Duration = Duration::from_secs(2);

/// The client properties `set` and `add` leave to the script (key files are read at start;
/// the name names the interface; enable and disable are commands of their own).
const CLIENT_FIXED: &[&str] = &[
    "name",
    "disabled",
    "control-channel-protection",
    "tls-key-file",
    "key-direction",
];

/// Starts a loop for an interface: its configuration, routes, and whether it starts enabled;
/// gives the loop's control.
pub type Spawner =
    Box<dyn Fn(ClientConfig, Vec<ipnet::Ipv4Net>, bool) -> Result<Control, String> + Send + Sync>;

/// One client interface.
#[derive(Debug)]
struct Interface {
    name: String,
    /// Its loop (None before the loops start: the journal's replay).
    control: Option<Control>,
    /// What the console last said.
    enabled: bool,
    /// Its script properties and configuration (None: it runs an OpenVPN profile).
    settings: Option<(ClientSettings, ClientConfig)>,
    /// The configuration and routes of an OpenVPN profile (which `set` does not change).
    profile: Option<(ClientConfig, Vec<ipnet::Ipv4Net>)>,
}

impl Interface {
    /// What its loop starts with.
    fn start_with(&self) -> Option<(ClientConfig, Vec<ipnet::Ipv4Net>)> {
        match (&self.settings, &self.profile) {
            (Some((s, c)), _) => Some((c.clone(), s.routes.clone())),
            (None, Some(p)) => Some(p.clone()),
            (None, None) => None,
        }
    }
}

/// The client program's interfaces and the journal of console changes.
pub struct ClientLive {
    interfaces: Mutex<Vec<Interface>>,
    journal: Journal,
    /// When the program started.
    started: std::time::Instant,
    /// The certificates the configurations are made with.
    store: ovpn_pki::Store,
    /// Starts a loop for an interface added from the console (None: not before the loops run).
    spawner: Option<Spawner>,
    /// The script's `/certificate` commands (for `/export`).
    certificate_commands: Vec<String>,
    /// Where profiles to import are read from.
    state_dir: Option<std::path::PathBuf>,
}

impl core::fmt::Debug for ClientLive {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientLive")
            .field("interfaces", &self.interfaces)
            .finish_non_exhaustive()
    }
}

impl ClientLive {
    /// A program with the interface `name` (from an OpenVPN profile, or given its settings
    /// with [`Self::with_settings`]), keeping the console's changes in `state_dir` (None: not
    /// kept).
    pub fn new(name: &str, state_dir: Option<&std::path::Path>) -> Self {
        Self {
            interfaces: Mutex::new(vec![Interface {
                name: name.to_owned(),
                control: None,
                enabled: true,
                settings: None,
                profile: None,
            }]),
            journal: Journal::new(state_dir),
            started: crate::runtime::now(),
            store: ovpn_pki::Store::default(),
            spawner: None,
            certificate_commands: Vec::new(),
            state_dir: state_dir.map(std::path::Path::to_path_buf),
        }
    }

    /// A program with the script's interfaces (`setups`, in order; the disabled ones start
    /// disabled) and the store their configurations are made with.
    pub fn scripted(
        setups: Vec<crate::script::ClientSetup>,
        store: ovpn_pki::Store,
        certificate_commands: Vec<String>,
        state_dir: Option<&std::path::Path>,
    ) -> Self {
        let interfaces = setups
            .into_iter()
            .map(|c| Interface {
                name: c.settings.name.clone(),
                control: None,
                enabled: !c.settings.disabled,
                settings: Some((c.settings, c.config)),
                profile: None,
            })
            .collect();
        Self {
            interfaces: Mutex::new(interfaces),
            journal: Journal::new(state_dir),
            started: crate::runtime::now(),
            store,
            spawner: None,
            certificate_commands,
            state_dir: state_dir.map(std::path::Path::to_path_buf),
        }
    }

    /// The interface runs an OpenVPN profile: this configuration and these routes.
    pub fn with_profile(mut self, config: ClientConfig, routes: Vec<ipnet::Ipv4Net>) -> Self {
        if let Ok(list) = self.interfaces.get_mut()
            && let Some(first) = list.first_mut()
        {
            first.name.clone_from(&config.name);
            first.profile = Some((config, routes));
        }
        self
    }

    /// The first interface's script properties and configuration, and the store: `set`
    /// changes them (an interface made from an OpenVPN profile has none).
    pub fn with_settings(
        mut self,
        settings: ClientSettings,
        config: ClientConfig,
        store: ovpn_pki::Store,
    ) -> Self {
        if let Ok(list) = self.interfaces.get_mut()
            && let Some(first) = list.first_mut()
        {
            first.name.clone_from(&settings.name);
            first.settings = Some((settings, config));
        }
        self.store = store;
        self
    }

    /// Replays the journal of an earlier run (before the loops start): every line must apply,
    /// or the start is refused with the file's path, the line and why.
    pub fn replay(&self) -> Result<usize, String> {
        self.journal.replay(|line| super::exec::run(line, self))
    }

    /// The first interface's configuration and routes (after [`Self::replay`]), when it has
    /// script properties.
    pub fn configuration(&self) -> Option<(ClientConfig, Vec<ipnet::Ipv4Net>)> {
        let list = self.interfaces.lock().ok()?;
        let (s, c) = list.first()?.settings.as_ref()?;
        Some((c.clone(), s.routes.clone()))
    }

    /// Starts a loop for every interface (after [`Self::replay`]) with `spawner`, which also
    /// starts the loops of interfaces the console adds later. Fails on the first loop that
    /// cannot start.
    pub fn start(&mut self, spawner: Spawner) -> Result<(), String> {
        let list = self
            .interfaces
            .get_mut()
            .map_err(|_| "the interfaces are unusable")?;
        for i in list.iter_mut() {
            let (config, routes) = i
                .start_with()
                .ok_or_else(|| format!("{}: no configuration to start", i.name))?;
            i.control = Some(spawner(config, routes, i.enabled)?);
        }
        self.spawner = Some(spawner);
        Ok(())
    }

    /// The loops' controls (to stop them all).
    pub fn controls(&self) -> Vec<Control> {
        self.interfaces
            .lock()
            .map(|l| l.iter().filter_map(|i| i.control.clone()).collect())
            .unwrap_or_default()
    }

    /// The interfaces, locked.
    fn list(&self) -> Result<std::sync::MutexGuard<'_, Vec<Interface>>, String> {
        self.interfaces
            .lock()
            .map_err(|_| "the interfaces are unusable".to_owned())
    }

    /// The interface called `name`.
    fn find<'a>(list: &'a mut [Interface], name: &str) -> Result<&'a mut Interface, String> {
        list.iter_mut()
            .find(|i| i.name == name)
            .ok_or_else(|| format!("no such item ({name})"))
    }

    /// A change to one interface's loop, waiting for its answer.
    fn ask(control: &Control, change: ClientChange) -> Result<String, String> {
        control
            .request_client_change(change)
            .recv_timeout(ANSWER)
            .map_err(|_| "the client did not answer".to_owned())?
    }

    /// `settings` with `props` applied, refusing what cannot change now, and the
    /// configuration made of them; the warnings of properties without effect.
    fn apply(
        &self,
        mut settings: ClientSettings,
        props: &[(String, String)],
        fixed: &[&str],
    ) -> Result<(ClientSettings, ClientConfig, String), String> {
        let mut notes = String::new();
        for (k, v) in props {
            if fixed.contains(&k.as_str()) || k.starts_with("tls-crypt-v2") {
                return Err(format!(
                    "{k}: cannot change while the client runs (enable/disable for disabled; change the script and restart for the rest)"
                ));
            }
            if let Some(n) = settings
                .set(k, v)
                .map_err(|e| super::exec::property_error(k, v, &e))?
            {
                notes.push_str(&n);
                notes.push('\n');
            }
        }
        let config = settings
            .session_config(&self.store)
            .map_err(|e| e.join("; "))?;
        Ok((settings, config, notes))
    }
}

impl super::exec::Live for ClientLive {
    fn clients(&self) -> Vec<super::exec::ClientRow> {
        let Ok(list) = self.interfaces.lock() else {
            return Vec::new();
        };
        // Every loop asked at once; each answers after its current turn.
        let asked: Vec<_> = list
            .iter()
            .map(|i| (i, i.control.as_ref().map(Control::request_client_row)))
            .collect();
        asked
            .into_iter()
            .map(|(i, rx)| {
                rx.and_then(|rx| rx.recv_timeout(ANSWER).ok())
                    .unwrap_or_else(|| super::exec::ClientRow {
                        name: i.name.clone(),
                        connect_to: i
                            .start_with()
                            .map(|(c, _)| c.server.to_string())
                            .unwrap_or_default(),
                        status: "disconnected".into(),
                        disabled: !i.enabled,
                        ..Default::default()
                    })
            })
            .collect()
    }

    fn started(&self) -> Option<std::time::Instant> {
        Some(self.started)
    }

    fn state_dir(&self) -> Option<std::path::PathBuf> {
        self.state_dir.clone()
    }

    fn add_client(&self, props: &[(String, String)]) -> Result<String, String> {
        let Ok(mut list) = self.interfaces.lock() else {
            return Err("the interfaces are unusable".into());
        };
        let mut settings = ClientSettings::new(0);
        // ovpn-outN: the lowest N not taken (as the script names them), or the name given.
        settings.name = crate::script::lowest_free("ovpn-out", list.iter().map(|i| &i.name));
        if let Some((_, v)) = props.iter().find(|(k, _)| k == "name") {
            settings
                .set("name", v)
                .map_err(|e| format!("name={v}: {e}"))?;
        }
        if list.iter().any(|i| i.name == settings.name) {
            return Err(format!(
                "an ovpn-client named {} exists already",
                settings.name
            ));
        }
        // RouterOS's default: an added interface is disabled until disabled=no.
        let mut enabled = false;
        let rest: Vec<(String, String)> = props
            .iter()
            .filter(|(k, _)| k != "name")
            .filter(|(k, v)| {
                if k == "disabled" {
                    enabled = v == "no";
                }
                k != "disabled"
            })
            .cloned()
            .collect();
        if let Some((_, v)) = props.iter().find(|(k, _)| k == "disabled") {
            crate::settings::yes_no(v).map_err(|e| format!("disabled={v}: {e}"))?;
        }
        let (settings, config, notes) = self.apply(settings, &rest, CLIENT_FIXED)?;
        let control = match &self.spawner {
            Some(spawn) => Some(spawn(config.clone(), settings.routes.clone(), enabled)?),
            None => None,
        };
        tracing::info!(target: "ovpn", "{}: added from the console{}", settings.name, if enabled { "" } else { " (disabled)" });
        list.push(Interface {
            name: settings.name.clone(),
            control,
            enabled,
            settings: Some((settings, config)),
            profile: None,
        });
        Ok(notes)
    }

    fn routes(&self) -> Result<Vec<(ipnet::Ipv4Net, String)>, String> {
        let list = self
            .interfaces
            .lock()
            .map_err(|_| "the interfaces are unusable")?;
        Ok(list
            .iter()
            .flat_map(|i| {
                let routes = match (&i.settings, &i.profile) {
                    (Some((s, _)), _) => s.routes.clone(),
                    (None, Some((_, r))) => r.clone(),
                    (None, None) => Vec::new(),
                };
                routes.into_iter().map(|r| (r, i.name.clone()))
            })
            .collect())
    }

    fn set_routes(&self, gateway: &str, routes: Vec<ipnet::Ipv4Net>) -> Result<(), String> {
        let Ok(mut list) = self.interfaces.lock() else {
            return Err("the interfaces are unusable".into());
        };
        let names: Vec<String> = list.iter().map(|i| i.name.clone()).collect();
        let iface = list.iter_mut().find(|i| i.name == gateway).ok_or_else(|| {
            format!(
                "gateway={gateway}: routes can only go through an ovpn-client interface ({})",
                names.join(", ")
            )
        })?;
        if let Some(c) = &iface.control {
            Self::ask(c, ClientChange::Routes(routes.clone()))?;
        }
        match (&mut iface.settings, &mut iface.profile) {
            (Some((s, _)), _) => s.routes = routes,
            (None, Some((_, r))) => *r = routes,
            (None, None) => {}
        }
        Ok(())
    }

    fn import_profile(&self, props: &[(String, String)]) -> Result<String, String> {
        let get = |k: &str| props.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        for (k, v) in props {
            match k.as_str() {
                "file-name" | "ovpn-user" | "ovpn-password" | "key-passphrase" => {}
                "skip-cert-import" => {
                    crate::settings::yes_no(v)
                        .map_err(|e| super::exec::property_error(k, v, &e))?;
                }
                _ => {
                    return Err(format!(
                        "expected end of command (unknown property {k}: file-name, ovpn-user, ovpn-password, key-passphrase, skip-cert-import)"
                    ));
                }
            }
        }
        let file = get("file-name").ok_or("file-name is required")?;
        let path = self.state_file("file-name", file)?;
        let dir = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let creds = crate::ovpn_config::Credentials {
            user_pass: get("ovpn-user").map(|u| {
                (
                    u.to_owned(),
                    get("ovpn-password").unwrap_or_default().to_owned().into(),
                )
            }),
            key_passphrase: get("key-passphrase").unwrap_or_default().to_owned().into(),
        };
        let shown = |p: &crate::script::Problem| match p.line {
            Some(l) => format!("{file}:{l}: {}", p.message),
            None => format!("{file}: {}", p.message),
        };
        let mut profile = crate::ovpn_config::read_profile(&text, &dir, &creds)
            .map_err(|f| f.errors.iter().map(shown).collect::<Vec<_>>().join("; "))?;
        let Ok(mut list) = self.interfaces.lock() else {
            return Err("the interfaces are unusable".into());
        };
        profile.config.name = crate::script::lowest_free("ovpn-out", list.iter().map(|i| &i.name));
        let control = match &self.spawner {
            Some(spawn) => Some(spawn(profile.config.clone(), profile.routes.clone(), true)?),
            None => None,
        };
        tracing::info!(target: "ovpn", "{}: added from the console, profile {file}", profile.config.name);
        let mut out: String = profile.warnings.iter().map(|w| shown(w) + "\n").collect();
        out.push_str(&format!(
            "{}: {} (its certificates stay in the profile)\n",
            profile.config.name, profile.config.server
        ));
        list.push(Interface {
            name: profile.config.name.clone(),
            control,
            enabled: true,
            settings: None,
            profile: Some((profile.config, profile.routes)),
        });
        Ok(out)
    }

    fn remove_client(&self, name: &str) -> Result<(), String> {
        let Ok(mut list) = self.interfaces.lock() else {
            return Err("the interfaces are unusable".into());
        };
        let i = list
            .iter()
            .position(|i| i.name == name)
            .ok_or_else(|| format!("no such item ({name})"))?;
        let gone = list.remove(i);
        // Its loop ends its session (telling the server) and removes the interface.
        if let Some(c) = gone.control {
            c.stop();
        }
        tracing::info!(target: "ovpn", "{name}: removed from the console");
        Ok(())
    }

    fn set_client(&self, name: &str, props: &[(String, String)]) -> Result<String, String> {
        if props.is_empty() {
            return Err("set: no properties given".into());
        }
        let mut list = self.list()?;
        let iface = Self::find(&mut list, name)?;
        let Some((old, old_config)) = iface.settings.as_ref() else {
            return Err(format!(
                "{name} runs an OpenVPN profile: change the profile and restart"
            ));
        };
        let (settings, mut config, notes) = self.apply(old.clone(), props, CLIENT_FIXED)?;
        config.protection = old_config.protection.clone();
        if let Some(c) = &iface.control {
            let said = Self::ask(
                c,
                ClientChange::Reconfigure(Box::new(config.clone()), settings.routes.clone()),
            )?;
            tracing::info!(target: "ovpn", "{name}: changed from the console: {said}");
        }
        iface.settings = Some((settings, config));
        Ok(notes)
    }

    fn enable_client(&self, name: &str, enable: bool) -> Result<(), String> {
        let mut list = self.list()?;
        let iface = Self::find(&mut list, name)?;
        if let Some(c) = &iface.control {
            let change = if enable {
                ClientChange::Enable
            } else {
                ClientChange::Disable
            };
            let said = Self::ask(c, change)?;
            tracing::debug!(target: "ovpn", "{name}: {said}");
        }
        iface.enabled = enable;
        Ok(())
    }

    fn keep(&self, line: &str) -> Result<(), String> {
        self.journal.keep(line)
    }

    fn export(&self, show_sensitive: bool) -> String {
        use std::fmt::Write as _;
        let mut out = String::from("# the running configuration\n");
        let Ok(list) = self.interfaces.lock() else {
            return out;
        };
        out.push_str(&super::live::certificate_section(
            &self.certificate_commands,
            show_sensitive,
        ));
        let mut routes = Vec::new();
        out.push_str("/interface ovpn-client\n");
        for i in list.iter() {
            match &i.settings {
                Some((s, _)) => {
                    let mut s = s.clone();
                    s.disabled = !i.enabled;
                    let _ = writeln!(out, "add {}", s.export_words(show_sensitive));
                    routes.extend(s.routes.iter().map(|r| (*r, i.name.clone())));
                }
                None => {
                    let _ = writeln!(
                        out,
                        "# {} runs an OpenVPN profile (import-ovpn-configuration)",
                        i.name
                    );
                }
            }
        }
        if !routes.is_empty() {
            out.push_str("/ip route\n");
            for (net, gw) in routes {
                let _ = writeln!(
                    out,
                    "add dst-address={net} gateway={}",
                    crate::rsc::quote(&gw)
                );
            }
        }
        out.push_str(&super::logging_rules::export());
        out
    }
}
