//! Runs a RouterOS configuration script (`.rsc`) against the ovpn crates: `/certificate`,
//! `/ip pool`, `/ppp profile`, `/ppp secret`, `/interface ovpn-server server` and
//! `/interface ovpn-client`, as the RouterOS OpenVPN page writes them.
//!
//! Interpretation reads the files the script imports but writes nothing: every problem is
//! collected, each with its line, and only a script without problems gives a [`Setup`], whose
//! files (exports, `.ovpn` profiles, generated certificates) the program then writes into its state
//! directory with [`Setup::write_files`].
//!
//! Certificates that a script generates (`/certificate add` + `sign`) are kept in the state
//! directory (`certificates/NAME.pem`, with their private keys, mode 0600) and reused on the next
//! run instead of being generated again, as RouterOS keeps its `/certificate` table across
//! reboots: the clients' exported certificates stay valid when the server restarts. Delete the
//! state directory to start over.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ovpn_pki::rustls_pki_types::UnixTime;
use ovpn_pki::{ExportedFile, ImportOptions, Store};
use ovpn_pool::{Family, PoolSet};
use ovpn_ppp::{AddressSpec, PppConfig, Profile};
use ovpn_session::{ClientConfig, ServerConfig};

use crate::rsc::{self, Command};
use crate::settings::{ClientSettings, ServerSettings, yes_no};

/// Which program runs the script (each takes its own commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// `ovpn-server`.
    Server,
    /// `ovpn-client`.
    Client,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Self::Server => "ovpn-server",
            Self::Client => "ovpn-client",
        }
    }
}

/// Where the script runs.
#[derive(Debug, Clone)]
pub struct Env {
    /// The script's directory: `file-name=` of `/certificate import` is looked up here first.
    pub script_dir: PathBuf,
    /// The state directory: exports go here, imports are looked up here second, generated
    /// certificates are kept here.
    pub state_dir: PathBuf,
    /// The time certificates are signed at.
    pub now: UnixTime,
    /// Whether `file-name=` and `tls-key-file=` may name files outside the script's folder
    /// and the state directory (absolute paths, `..`): only when the operator says so for a
    /// script run at start (`--allow-outside-paths`), as RouterOS keeps them in its files.
    pub allow_outside_paths: bool,
}

/// Why a script cannot run: every error, each with its line, and the warnings found on the way
/// (one bad line hides neither the other errors nor the warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What stops the script.
    pub errors: Vec<Problem>,
    /// Commands skipped or properties without effect.
    pub warnings: Vec<Problem>,
}

/// A problem (an error or a warning), with the line it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line of the command (`None`: about the script as a whole).
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        Self {
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A file to write into the state directory.
#[derive(Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The file name (relative to the state directory).
    pub name: String,
    /// The contents.
    pub contents: Vec<u8>,
    /// Holds a private key: written with mode 0600.
    pub private: bool,
}

impl fmt::Debug for OutputFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputFile")
            .field("name", &self.name)
            .field("len", &self.contents.len())
            .field("private", &self.private)
            .finish()
    }
}

/// One server to run: its properties and its session configuration.
#[derive(Debug)]
pub struct ServerSetup {
    /// `/interface ovpn-server server` properties.
    pub settings: ServerSettings,
    /// The session configuration made from them.
    pub config: ServerConfig,
}

/// One client interface to run: its properties and its session configuration.
#[derive(Debug, Clone)]
pub struct ClientSetup {
    /// `/interface ovpn-client` properties (with its routes).
    pub settings: ClientSettings,
    /// The session configuration made from them.
    pub config: ClientConfig,
}

/// What a script configures, ready to run.
#[derive(Debug)]
pub struct Setup {
    /// `/certificate`.
    pub store: Store,
    /// `/ip pool`.
    pub pools: PoolSet,
    /// `/ipv6 pool`.
    pub pools6: PoolSet,
    /// `/ppp profile` and `/ppp secret`.
    pub ppp: PppConfig,
    /// The enabled entries of `/interface ovpn-server server` (ovpn-server): one before
    /// RouterOS 7.17, several since. They share the pools and the PPP tables.
    pub servers: Vec<ServerSetup>,
    /// `/interface ovpn-client` (ovpn-client): the first enabled one.
    pub client: Option<ClientSettings>,
    /// Its session configuration (ovpn-client).
    pub client_config: Option<ClientConfig>,
    /// Every client interface of the script (ovpn-client), the disabled ones too, in order.
    pub clients: Vec<ClientSetup>,
    /// Files to write into the state directory.
    pub files: Vec<OutputFile>,
    /// Commands skipped or properties without effect.
    pub warnings: Vec<Problem>,
    /// Certificates reused from the state directory instead of generated.
    pub kept: Vec<String>,
    /// The files `/certificate import` took CRLs from, to read again when they change.
    pub crl_files: Vec<CrlSource>,
    /// The memory log's rules and `memory-lines` the script's `/system logging` set (None: it
    /// has none; RouterOS's defaults stand). [`Setup::install_logging`] puts them in place.
    pub logging: Option<(Vec<crate::log_memory::Rule>, usize)>,
    /// The script's `/certificate` commands that make the store (add, sign, import, set,
    /// issued-revoke, settings set), as command lines for `/export`: run again with the same
    /// state directory, they give the same certificates (generated ones are kept there).
    pub certificate_commands: Vec<String>,
}

/// A file a CRL was imported from (`/certificate import file-name=X`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSource {
    /// Where it was read.
    pub path: PathBuf,
    /// The import command's properties.
    pub props: Vec<(String, String)>,
}

impl Setup {
    /// Puts the script's `/system logging` rules in place for the memory log (`/log print`).
    pub fn install_logging(&self) {
        if let Some((rules, lines)) = &self.logging {
            let _ = crate::log_memory::change_rules(|r| {
                r.clone_from(rules);
                Ok(())
            });
            crate::log_memory::set_max_lines(*lines);
        }
    }

    /// Writes [`Setup::files`] into `dir` (created if missing); returns the paths written.
    /// `dir` and the folders made in it are 0700, private files (keys) 0600, also when they
    /// existed before with wider permissions.
    pub fn write_files(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        write_files(&self.files, dir)
    }
}

/// Writes `files` into `dir` (created if missing); returns the paths written. `dir` and the
/// folders made in it are 0700, private files (keys) 0600, also when they existed before with
/// wider permissions.
pub fn write_files(files: &[OutputFile], dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    private_dir(dir)?;
    let mut written = Vec::new();
    for f in files {
        let path = dir.join(&f.name);
        if let Some(parent) = path.parent()
            && parent != dir
        {
            private_dir(parent)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        if f.private {
            opts.mode(0o600);
        }
        let mut file = opts.open(&path)?;
        if f.private {
            // `mode` applies only to a file it creates.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&f.contents)?;
        written.push(path);
    }
    Ok(written)
}

/// Applies one property of `/certificate settings set` to `store` (the script at start, the
/// console at run time); `Ok(Some(note))` for a property without effect here.
pub fn certificate_setting(store: &mut Store, k: &str, v: &str) -> Result<Option<String>, String> {
    let days = || -> Result<u32, String> {
        v.strip_suffix('d')
            .unwrap_or(v)
            .parse()
            .map_err(|_| format!("{k}={v}: expected a number of days"))
    };
    match k {
        "crl-days-valid" => store.settings_mut().crl_days_valid = days()?.max(1),
        "crl-warning-days" => store.settings_mut().crl_warning_days = days()?,
        "crl-expiry" => store.settings_mut().crl_expiry = v.parse()?,
        "crl-use" if v == "yes" => {}
        "crl-use" => {
            return Err(
                "crl-use=no is not implemented: the CRLs held are always used (remove them to stop)"
                    .into(),
            );
        }
        "crl-download" | "crl-store" | "builtin-trust-anchors" => {
            return Ok(Some(format!(
                "/certificate settings {k}: no effect here (CRLs come from issued-revoke and import)"
            )));
        }
        _ => {
            return Err(format!(
                "unknown property {k:?} (crl-days-valid, crl-warning-days, crl-expiry=warn|refuse, crl-use)"
            ));
        }
    }
    Ok(None)
}

/// The PPP properties (of `/ppp profile` and `/ppp secret`) that are accepted but change
/// nothing here, or change it otherwise than on RouterOS: a note for each (the script warns
/// with them at their line, the console prints them).
pub fn ppp_notes(props: &[(String, String)]) -> Vec<String> {
    let mut notes = Vec::new();
    for (k, v) in props {
        let why = match (k.as_str(), v.as_str()) {
            ("address-list", v) if !v.is_empty() => {
                "ovpn-server adds no host firewall address list; the name is in the session table for a firewall to use"
            }
            ("use-compression", "yes") => "RouterOS's OpenVPN never compresses",
            ("use-encryption", "yes" | "no") => {
                "OpenVPN always encrypts with the negotiated cipher; only use-encryption=required changes anything (it refuses the null cipher)"
            }
            ("bridge-port-trusted", "yes") => {
                "Linux bridges have no DHCP snooping; the host's firewall decides"
            }
            ("bridge-port-vid", v) if !v.is_empty() => {
                "the port joins the bridge untagged; VLAN filtering is the host bridge's"
            }
            ("bridge-horizon", v) if !v.is_empty() && v != "none" => {
                notes.push(format!("bridge-horizon={}: applied as a Linux isolated port: isolated ports of any horizon do not forward to each other, so use one horizon value", rsc::quote(v)));
                continue;
            }
            _ => continue,
        };
        notes.push(format!("{k}={}: has no effect here: {why}", rsc::quote(v)));
    }
    notes
}

/// Checks that `file` (property `key`) names a file of the state directory: no folders, not
/// `.`, `..` or another name starting with a dot.
pub(crate) fn plain_file(key: &str, file: &str) -> Result<(), String> {
    if file.is_empty() || file.contains('/') || file.starts_with('.') {
        return Err(format!(
            "{key}={file}: a plain file name of the state directory (no folders)"
        ));
    }
    Ok(())
}

/// Creates `dir` (and its parents) if missing and makes it 0700: the state directory holds
/// private keys.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// The directory, inside the state directory, where generated certificates are kept.
pub const KEPT_DIR: &str = "certificates";

/// Where a generated certificate `name` is kept, relative to the state directory
/// (`certificates/NAME.pem`; None for a name that cannot be a file name).
pub fn kept_path(name: &str) -> Option<String> {
    kept_file(name)
}

fn kept_file(name: &str) -> Option<String> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    plain.then(|| format!("{KEPT_DIR}/{name}.pem"))
}

/// A `[find name=X]` or plain positional name; `None` for `[find]` (every entry).
pub(crate) fn target(cmd: &Command) -> Result<Option<String>, String> {
    let Some(p) = cmd.positional.first() else {
        return Err(format!(
            "/{} {} needs the name of an entry",
            cmd.menu, cmd.verb
        ));
    };
    if let Some(inner) = p.strip_prefix("[find").and_then(|s| s.strip_suffix(']')) {
        let inner = inner.trim().trim_start_matches("where").trim();
        if inner.is_empty() {
            return Ok(None);
        }
        return match inner.strip_prefix("name=") {
            Some(n) => Ok(Some(n.trim_matches('"').to_owned())),
            None => Err(format!(
                "only [find] and [find name=X] are understood, not {p}"
            )),
        };
    }
    Ok(Some(p.clone()))
}

/// `PREFIXn` with the lowest `n` from 1 that no name in `taken` has (RouterOS's default names).
pub(crate) fn lowest_free<'a>(
    prefix: &str,
    taken: impl Iterator<Item = &'a String> + Clone,
) -> String {
    (1u32..)
        .map(|n| format!("{prefix}{n}"))
        .find(|name| !taken.clone().any(|t| t == name))
        .unwrap_or_else(|| prefix.to_owned())
}

struct Interpreter<'a> {
    program: Program,
    env: &'a Env,
    store: Store,
    pools: PoolSet,
    pools6: PoolSet,
    ppp: PppConfig,
    /// `/interface ovpn-server server` entries, in the order they were made.
    servers: Vec<ServerSettings>,
    clients: Vec<ClientSettings>,
    /// Profiles read by `import-ovpn-configuration`, with their command's line.
    imported: Vec<(usize, crate::ovpn_config::ClientProfileSetup)>,
    /// `/ip route add`: line, destination, gateway.
    routes: Vec<(usize, ipnet::Ipv4Net, String)>,
    profile_lines: HashMap<String, usize>,
    exports: Vec<(usize, Vec<(String, String)>)>,
    files: Vec<OutputFile>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    /// template -> the certificate its `sign` makes.
    signs: HashMap<String, String>,
    /// templates whose certificate is kept from an earlier run: template -> `trusted=` of its add.
    replayed: HashMap<String, Option<bool>>,
    generated: Vec<String>,
    kept: Vec<String>,
    crl_files: Vec<CrlSource>,
    /// `/system logging`: the memory log's rules and memory-lines.
    logging: Option<(Vec<crate::log_memory::Rule>, usize)>,
}

/// The tables a server script is making, as the console's dispatcher sees a program
/// ([`crate::console::exec::Live`]): the script runs the console's verbs on them.
struct Tables<'a> {
    ppp: std::cell::RefCell<&'a mut PppConfig>,
    pools: std::cell::RefCell<&'a mut PoolSet>,
    pools6: std::cell::RefCell<&'a mut PoolSet>,
}

impl crate::console::exec::Live for Tables<'_> {
    fn secrets(&self) -> Vec<ovpn_ppp::Secret> {
        self.ppp.borrow().secrets().cloned().collect()
    }

    fn profiles(&self) -> Vec<Profile> {
        self.ppp.borrow().profiles().cloned().collect()
    }

    fn change_ppp(
        &self,
        change: &mut dyn FnMut(&mut PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        // All or nothing, as the running program's tables.
        let mut copy = (**self.ppp.borrow()).clone();
        change(&mut copy)?;
        **self.ppp.borrow_mut() = copy;
        Ok(())
    }

    fn view_pools(&self, family: Family, view: &mut dyn FnMut(&PoolSet)) {
        match family {
            Family::Ipv4 => view(&self.pools.borrow()),
            Family::Ipv6 => view(&self.pools6.borrow()),
        }
    }

    fn change_pools(
        &self,
        family: Family,
        change: &mut dyn FnMut(&mut PoolSet, &PppConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        let cell = match family {
            Family::Ipv4 => &self.pools,
            Family::Ipv6 => &self.pools6,
        };
        let mut copy = (**cell.borrow()).clone();
        change(&mut copy, &self.ppp.borrow())?;
        **cell.borrow_mut() = copy;
        Ok(())
    }
}

/// Parses and interprets `script` for `program`. Every problem is reported, each with its line.
pub fn interpret(program: Program, script: &str, env: &Env) -> Result<Setup, Failure> {
    let (commands, syntax) = rsc::parse_all(script);
    let mut it = Interpreter {
        program,
        env,
        store: Store::new(),
        pools: PoolSet::new(Family::Ipv4),
        pools6: PoolSet::new(Family::Ipv6),
        ppp: PppConfig::new(),
        servers: Vec::new(),
        imported: Vec::new(),
        clients: Vec::new(),
        routes: Vec::new(),
        profile_lines: HashMap::new(),
        exports: Vec::new(),
        files: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        signs: HashMap::new(),
        replayed: HashMap::new(),
        generated: Vec::new(),
        crl_files: Vec::new(),
        kept: Vec::new(),
        logging: None,
    };
    for c in &commands {
        if c.menu == "certificate" && c.verb == "sign" {
            if let Some(t) = c.positional.first() {
                let name = c
                    .prop("name")
                    .filter(|n| !n.is_empty())
                    .unwrap_or(t)
                    .to_owned();
                it.signs.insert(t.clone(), name);
            }
        }
    }
    let certificate_commands = commands
        .iter()
        .filter(|c| {
            (c.menu == "certificate"
                && matches!(
                    c.verb.as_str(),
                    "add" | "sign" | "import" | "set" | "issued-revoke"
                ))
                || (c.menu == "certificate settings" && c.verb == "set")
        })
        .map(ToString::to_string)
        .collect();
    // Lines that do not parse are reported with the rest, never instead of the rest.
    it.errors
        .extend(syntax.into_iter().map(|e| Problem::at(e.line, e.what)));
    for c in &commands {
        if let Err(e) = it.command(c) {
            it.errors.push(Problem::at(c.line, e));
        }
    }
    it.finish().map(|mut setup| {
        setup.certificate_commands = certificate_commands;
        setup
    })
}

impl Interpreter<'_> {
    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings.push(Problem::at(line, message));
    }

    fn command(&mut self, c: &Command) -> Result<(), String> {
        let menu = c.menu.as_str();
        // The page's read-only commands: nothing runs yet when a script is read.
        if matches!(c.verb.as_str(), "print" | "monitor") {
            self.warn(
                c.line,
                format!(
                    "/{menu} {}: has no effect in a script (nothing runs yet); a running {} logs its table at SIGUSR1",
                    c.verb,
                    self.program.name()
                ),
            );
            return Ok(());
        }
        if menu.starts_with("system logging") {
            // The memory log's rules, which the program starts with (every line goes to
            // stderr too).
            let (rules, lines) = self.logging.get_or_insert_with(|| {
                (
                    crate::log_memory::default_rules(),
                    crate::log_memory::DEFAULT_LINES,
                )
            });
            crate::console::logging_rules::apply(rules, lines, c)?;
            for note in crate::console::logging_rules::notes(c) {
                self.warn(c.line, note);
            }
            return Ok(());
        }
        if menu.starts_with("ip firewall") || menu.starts_with("interface list") {
            self.warn(
                c.line,
                format!("/{menu} {} skipped: the host's firewall and interface lists are not ours to change", c.verb),
            );
            return Ok(());
        }
        let server = self.program == Program::Server;
        match (menu, c.verb.as_str()) {
            ("certificate", verb) => self.certificate(c, verb),
            ("certificate settings", "set") => self.certificate_settings(c),
            // The PPP tables and the pools: the console's dispatcher, on the tables the script
            // is making (one implementation, one set of refusals and notes for both).
            ("ppp secret" | "ppp profile" | "ip pool" | "ipv6 pool", verb) if server => {
                let adapter = Tables {
                    ppp: std::cell::RefCell::new(&mut self.ppp),
                    pools: std::cell::RefCell::new(&mut self.pools),
                    pools6: std::cell::RefCell::new(&mut self.pools6),
                };
                let out = crate::console::exec::run(&c.to_string(), &adapter)?;
                // What it says of properties without effect is a warning at the line.
                for note in out.lines().filter(|l| !l.trim().is_empty()) {
                    self.warn(c.line, note.to_owned());
                }
                // Where each profile was made, for the checks at the end.
                if menu == "ppp profile" {
                    let name = match verb {
                        "add" => c.prop("name").map(str::to_owned),
                        "set" => target(c).ok().flatten(),
                        _ => None,
                    };
                    if let Some(name) = name {
                        self.profile_lines.entry(name).or_insert(c.line);
                    }
                }
                Ok(())
            }
            ("interface ovpn-server server", "set") if server => {
                let which: Vec<usize> = if c.positional.is_empty() {
                    // The one server (RouterOS before 7.17).
                    match self.servers.len() {
                        0 => {
                            self.servers.push(ServerSettings {
                                line: c.line,
                                ..ServerSettings::default()
                            });
                            vec![0]
                        }
                        1 => vec![0],
                        _ => {
                            return Err(format!(
                                "several servers ({}): name the one to set (`set NAME ...` or `set [find name=NAME] ...`)",
                                self.server_names()
                            ));
                        }
                    }
                } else {
                    match target(c)? {
                        None => (0..self.servers.len()).collect(),
                        Some(name) => vec![
                            self.servers
                                .iter()
                                .position(|s| s.name == name)
                                .ok_or_else(|| format!("no such item: no server named {name}"))?,
                        ],
                    }
                };
                for i in which {
                    self.server_props(c, i)?;
                }
                self.check_server_names()
            }
            ("interface ovpn-server server", "add") if server => {
                // ovpn-serverN: the lowest N not taken (the one server of `set` is ovpn-server1).
                let name = lowest_free("ovpn-server", self.servers.iter().map(|x| &x.name));
                self.servers.push(ServerSettings {
                    name,
                    line: c.line,
                    enabled: true,
                    ..ServerSettings::default()
                });
                let i = self.servers.len() - 1;
                self.server_props(c, i)?;
                self.check_server_names()
            }
            ("interface ovpn-server server", "generate-tls-key") if server => {
                let file = c.prop("file-name").ok_or("file-name is required")?;
                if file.is_empty() || file.contains('/') {
                    return Err(format!(
                        "file-name={file}: a plain file name (it goes into the state directory)"
                    ));
                }
                for (k, _) in &c.props {
                    if k != "file-name" {
                        return Err(format!("unknown property {k:?} (file-name)"));
                    }
                }
                if self.env.state_dir.join(file).is_file() {
                    // A key clients already have: kept, as generated certificates are.
                    self.kept.push(format!("tls key {file}"));
                } else {
                    self.add_files(vec![ExportedFile {
                        file_name: file.to_owned(),
                        contents: crate::protection::generate_key_file().into_bytes(),
                    }]);
                    if let Some(f) = self.files.last_mut() {
                        f.private = true;
                    }
                }
                Ok(())
            }
            ("interface ovpn-server server", "generate-tls-crypt-v2-key") if server => {
                let file = plain_file_name(c, "file-name", &["file-name"])?;
                if self.env.state_dir.join(&file).is_file() {
                    // A key whose clients exist already: kept.
                    self.kept.push(format!("tls-crypt-v2 server key {file}"));
                } else {
                    self.add_files(vec![ExportedFile {
                        file_name: file,
                        contents: crate::protection::generate_v2_server_key().into_bytes(),
                    }]);
                    if let Some(f) = self.files.last_mut() {
                        f.private = true;
                    }
                }
                Ok(())
            }
            ("interface ovpn-server server", "generate-tls-crypt-v2-client-key") if server => {
                let allowed = ["file-name", "server-key-file", "metadata"];
                let file = plain_file_name(c, "file-name", &allowed)?;
                let server_file = c
                    .prop("server-key-file")
                    .ok_or("server-key-file is required (the tls-crypt-v2 server key)")?;
                let text = String::from_utf8(self.read_input(server_file)?)
                    .map_err(|_| format!("{server_file}: not a tls-crypt-v2 server key"))?;
                let key = ovpn_crypto::TlsCryptV2ServerKey::parse(&text)
                    .map_err(|e| format!("server-key-file={server_file}: {e}"))?;
                let unix = self.env.now.as_secs();
                let meta = c.prop("metadata").map(str::as_bytes);
                let pem = crate::protection::generate_v2_client_key(&key, meta, unix)
                    .map_err(|e| format!("metadata: {e}"))?;
                if self.env.state_dir.join(&file).is_file() {
                    self.kept.push(format!("tls-crypt-v2 client key {file}"));
                } else {
                    self.add_files(vec![ExportedFile {
                        file_name: file,
                        contents: pem.into_bytes(),
                    }]);
                    if let Some(f) = self.files.last_mut() {
                        f.private = true;
                    }
                }
                Ok(())
            }
            ("interface ovpn-server server", "export-client-configuration") if server => {
                self.exports.push((c.line, c.props.clone()));
                Ok(())
            }
            ("interface ovpn-client", "import-ovpn-configuration") if !server => {
                self.import_ovpn(c)
            }
            ("interface ovpn-client", "add") if !server => {
                let mut s = ClientSettings::new(c.line);
                // ovpn-outN: the lowest N not taken.
                s.name = lowest_free("ovpn-out", self.clients.iter().map(|x| &x.name));
                self.client_props(c, &mut s)?;
                if self.clients.iter().any(|x| x.name == s.name) {
                    return Err(format!("an ovpn-client named {} exists already", s.name));
                }
                self.clients.push(s);
                Ok(())
            }
            ("interface ovpn-client", "set") if !server => {
                let which = target(c)?;
                let mut all = core::mem::take(&mut self.clients);
                let mut found = false;
                let mut result = Ok(());
                for s in all.iter_mut() {
                    if which.as_deref().is_none_or(|n| n == s.name) {
                        found = true;
                        if let Err(e) = self.client_props(c, s) {
                            result = Err(e);
                        }
                    }
                }
                self.clients = all;
                if !found {
                    return Err(match which {
                        Some(n) => format!("no ovpn-client named {n}"),
                        None => "no ovpn-client to set (add one first)".into(),
                    });
                }
                result
            }
            ("ip route", "add") if !server => {
                let dst = c.prop("dst-address").ok_or("dst-address is required")?;
                let gw = c.prop("gateway").ok_or("gateway is required")?;
                let net = dst
                    .parse::<ipnet::Ipv4Net>()
                    .or_else(|_| dst.parse::<Ipv4Addr>().map(ipnet::Ipv4Net::from))
                    .map_err(|_| {
                        format!("dst-address={dst}: expected an IPv4 network like 192.168.1.0/24")
                    })?;
                for (k, _) in &c.props {
                    if !matches!(k.as_str(), "dst-address" | "gateway" | "comment") {
                        return Err(format!("unknown property {k:?} (dst-address, gateway)"));
                    }
                }
                if c.prop("comment").is_some() {
                    self.warn(c.line, crate::console::routes::COMMENT);
                }
                self.routes.push((c.line, net.trunc(), gw.to_owned()));
                Ok(())
            }
            (m, v) => {
                let owner = match m {
                    "ip pool"
                    | "ipv6 pool"
                    | "ppp profile"
                    | "ppp secret"
                    | "interface ovpn-server server"
                        if !server =>
                    {
                        " (an ovpn-server command)"
                    }
                    "interface ovpn-client" | "ip route" if server => " (an ovpn-client command)",
                    _ => "",
                };
                Err(format!(
                    "/{m} {v} is not something {} does{owner}",
                    self.program.name()
                ))
            }
        }
    }

    fn client_props(&mut self, c: &Command, s: &mut ClientSettings) -> Result<(), String> {
        let mut last = None;
        for (k, v) in &c.props {
            match s.set(k, v) {
                Ok(Some(n)) => self.warn(c.line, n),
                Ok(None) => {}
                Err(e) => {
                    if let Some(prev) = last.replace(format!("{k}={}: {e}", rsc::quote(v))) {
                        self.errors.push(Problem::at(c.line, prev));
                    }
                }
            }
        }
        last.map_or(Ok(()), Err)
    }

    fn certificate(&mut self, c: &Command, verb: &str) -> Result<(), String> {
        let now = self.env.now;
        match verb {
            "add" => {
                let name = c.prop("name").unwrap_or_default().to_owned();
                let final_name = self.signs.get(&name).cloned().unwrap_or(name.clone());
                if let Some(file) = kept_file(&final_name)
                    && self.env.state_dir.join(&file).is_file()
                {
                    let trusted = c.prop("trusted").map(yes_no).transpose()?;
                    self.replayed.insert(name, trusted);
                    return Ok(());
                }
                self.store
                    .add_from_properties(&c.prop_pairs())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "sign" => {
                let template = c.positional.first().ok_or("sign needs a template name")?;
                if c.positional.len() > 1 {
                    return Err(format!("unexpected {:?}", c.positional[1]));
                }
                let final_name = self
                    .signs
                    .get(template)
                    .cloned()
                    .unwrap_or(template.clone());
                if let Some(trusted) = self.replayed.get(template).copied() {
                    return self.replay(template, &final_name, c.prop("ca"), trusted);
                }
                let mut props = c.prop_pairs();
                if let Some(host) = c.prop("ca-crl-host").filter(|h| !h.is_empty()) {
                    self.warn(
                        c.line,
                        format!("ca-crl-host={host} ignored: no CRL distribution point is written"),
                    );
                    props.retain(|(k, _)| *k != "ca-crl-host");
                }
                self.store
                    .sign_from_properties(template, &props, now)
                    .map_err(|e| e.to_string())?;
                self.generated.push(final_name);
                Ok(())
            }
            "import" => {
                let file = c.prop("file-name").ok_or("file-name is required")?;
                let data = self.read_input(file)?;
                let summary = self
                    .store
                    .import_from_properties(&c.prop_pairs(), &data)
                    .map_err(|e| e.to_string())?;
                tracing::debug!(target: "certificate", "{file}: {} certificates, {} keys imported {:?}",
                    summary.certificates_imported, summary.private_keys_imported, summary.names);
                if summary.crls_imported > 0
                    && let Some(path) = self.input_path(file)
                {
                    // Read again while the server runs, when it changes.
                    self.crl_files.push(CrlSource {
                        path,
                        props: c
                            .prop_pairs()
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .collect(),
                    });
                }
                Ok(())
            }
            "issued-revoke" => {
                let name = target(c)?.ok_or("name the certificate to revoke")?;
                self.store
                    .issued_revoke(&name, self.env.now)
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
            "export-certificate" => {
                let name = target(c)?.ok_or("name the certificate to export")?;
                let files = self
                    .store
                    .export_from_properties(&name, &c.prop_pairs())
                    .map_err(|e| e.to_string())?;
                self.add_files(files);
                Ok(())
            }
            "set" => {
                let name = target(c)?.ok_or("name the certificate to set")?;
                for (k, v) in &c.props {
                    match k.as_str() {
                        "trusted" => self
                            .store
                            .set_trusted(&name, yes_no(v)?)
                            .map_err(|e| e.to_string())?,
                        _ => {
                            return Err(format!(
                                "unknown property {k:?} (only trusted= can be set)"
                            ));
                        }
                    }
                }
                Ok(())
            }
            _ => Err(format!(
                "/certificate {verb} is not something {} does",
                self.program.name()
            )),
        }
    }

    /// `/certificate settings set`: how CRLs are kept and what an expired one does.
    fn certificate_settings(&mut self, c: &Command) -> Result<(), String> {
        for (k, v) in &c.props {
            if let Some(note) = certificate_setting(&mut self.store, k, v)? {
                self.warn(c.line, note);
            }
        }
        Ok(())
    }

    /// Loads a certificate generated by an earlier run instead of generating it again.
    fn replay(
        &mut self,
        template: &str,
        name: &str,
        ca: Option<&str>,
        trusted: Option<bool>,
    ) -> Result<(), String> {
        let file = kept_file(name).ok_or("bad certificate name")?;
        let path = self.env.state_dir.join(&file);
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let opts = ImportOptions {
            name: Some(name),
            kept: true,
            ..ImportOptions::default()
        };
        self.store.import(&file, &data, &opts).map_err(|e| {
            format!(
                "{} (delete it to generate the certificate again): {e}",
                path.display()
            )
        })?;
        let self_signed = ca.is_none_or(|c| c.is_empty() || c == template);
        let is_ca = self.store.get(name).is_some_and(|c| c.info().is_ca);
        self.store
            .set_trusted(name, trusted.unwrap_or(self_signed && is_ca))
            .map_err(|e| e.to_string())?;
        self.kept.push(name.to_owned());
        Ok(())
    }

    fn add_files(&mut self, files: Vec<ExportedFile>) {
        for f in files {
            let private = f.file_name.ends_with(".key") || f.file_name.ends_with(".p12");
            self.files.retain(|x| x.name != f.file_name);
            self.files.push(OutputFile {
                name: f.file_name,
                contents: f.contents,
                private,
            });
        }
    }

    /// Where [`Self::read_input`] finds `file` on disk (None for a file this run makes).
    fn input_path(&self, file: &str) -> Option<PathBuf> {
        let p = Path::new(file);
        if p.is_absolute() {
            return Some(p.to_owned());
        }
        [self.env.script_dir.join(p), self.env.state_dir.join(p)]
            .into_iter()
            .find(|c| c.is_file())
    }

    fn read_input(&self, file: &str) -> Result<Vec<u8>, String> {
        if let Some(f) = self.files.iter().find(|f| f.name == file) {
            return Ok(f.contents.clone());
        }
        let p = Path::new(file);
        let outside =
            p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir);
        if outside && !self.env.allow_outside_paths {
            return Err(format!(
                "{file}: outside the script's folder and the state directory (an absolute path \
                 or ..); name a file there, or run with --allow-outside-paths"
            ));
        }
        let candidates: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_owned()]
        } else {
            vec![self.env.script_dir.join(p), self.env.state_dir.join(p)]
        };
        for c in &candidates {
            if c.is_file() {
                return std::fs::read(c).map_err(|e| format!("{}: {e}", c.display()));
            }
        }
        Err(format!(
            "file {file} not found (looked for {})",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ))
    }

    /// Applies the properties of `c` to server `i`: every bad one is reported, the last as the
    /// command's error.
    fn server_props(&mut self, c: &Command, i: usize) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        let Some(s) = self.servers.get_mut(i) else {
            return Ok(());
        };
        for (k, v) in &c.props {
            match s.set(k, v, c.line) {
                Ok(Some(n)) => notes.push(n),
                Ok(None) => {}
                Err(e) => errors.push(format!("{k}={}: {e}", rsc::quote(v))),
            }
        }
        for n in notes {
            self.warn(c.line, n);
        }
        let last = errors.pop();
        for e in errors {
            self.errors.push(Problem::at(c.line, e));
        }
        last.map_or(Ok(()), Err)
    }

    /// Server names are unique.
    fn check_server_names(&self) -> Result<(), String> {
        for (i, s) in self.servers.iter().enumerate() {
            if self.servers[..i].iter().any(|o| o.name == s.name) {
                return Err(format!("a server named {} exists already", s.name));
            }
        }
        Ok(())
    }

    fn server_names(&self) -> String {
        self.servers
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_profiles(&mut self) {
        // A bridge= only acts on ethernet-mode interfaces.
        let ethernet = self
            .servers
            .iter()
            .any(|s| s.mode == ovpn_session::Mode::Ethernet);
        if !ethernet && self.program == Program::Server {
            let bridged: Vec<(Option<usize>, String)> = self
                .ppp
                .profiles()
                .filter_map(|p| {
                    let b = p.bridge.bridge.as_ref()?;
                    Some((self.profile_lines.get(&p.name).copied(), format!(
                        "profile {}: bridge={b} has no effect here: no server runs mode=ethernet (an ip-mode interface is not a bridge port)",
                        p.name
                    )))
                })
                .collect();
            for (line, message) in bridged {
                self.warnings.push(Problem { line, message });
            }
        }
        // IPv6 settings only act with enable-tun-ipv6=yes.
        let idle6: Vec<Problem> = self
            .servers
            .iter()
            .filter(|s| {
                !s.enable_tun_ipv6 && (s.redirect_gateway_ipv6 || !s.push_routes_ipv6.is_empty())
            })
            .map(|s| Problem {
                line: s.line("push-routes-ipv6").or(s.line("redirect-gateway")),
                message: format!(
                    "{}: redirect-gateway=ipv6 and push-routes-ipv6 have no effect here without enable-tun-ipv6=yes",
                    s.name
                ),
            })
            .collect();
        self.warnings.extend(idle6);
        // Limits of the other transport's session starts or connections.
        let idle_limits: Vec<Problem> = self
            .servers
            .iter()
            .flat_map(|s| {
                s.limits
                    .without_effect(s.transport)
                    .into_iter()
                    .filter_map(|(key, why)| {
                        Some(Problem {
                            line: Some(s.line(key)?),
                            message: format!("{}: {key} has no effect here: {why}", s.name),
                        })
                    })
            })
            .collect();
        self.warnings.extend(idle_limits);
        // force-cookie decides whether old tls-crypt-v2 clients get state before proving their
        // address: over TCP the connection proves it, and every start keeps state.
        let idle_cookie: Vec<Problem> = self
            .servers
            .iter()
            .filter(|s| s.transport == ovpn_session::Transport::Tcp && s.protection.v2_force_cookie)
            .filter_map(|s| {
                Some(Problem {
                    line: Some(s.line("tls-crypt-v2-force-cookie")?),
                    message: format!(
                        "{}: tls-crypt-v2-force-cookie has no effect here: only UDP session starts are answered statelessly; protocol=tcp",
                        s.name
                    ),
                })
            })
            .collect();
        self.warnings.extend(idle_cookie);
        let ipv6 = self.servers.iter().any(|s| s.enable_tun_ipv6);
        if !ipv6 && self.program == Program::Server {
            let unused: Vec<(Option<usize>, String)> = self
                .ppp
                .profiles()
                .filter_map(|p| {
                    let pool = p.remote_ipv6_prefix_pool.as_ref()?;
                    Some((self.profile_lines.get(&p.name).copied(), format!(
                        "profile {}: remote-ipv6-prefix-pool={pool} has no effect here: no server has enable-tun-ipv6=yes",
                        p.name
                    )))
                })
                .chain(self.ppp.secrets().filter(|s| s.remote_ipv6_prefix.is_some() || !s.ipv6_routes.is_empty()).map(|s| {
                    (None, format!(
                        "secret {}: remote-ipv6-prefix and ipv6-routes have no effect here: no server has enable-tun-ipv6=yes",
                        s.name
                    ))
                }))
                .collect();
            for (line, message) in unused {
                self.warnings.push(Problem { line, message });
            }
        }
        let mut problems = Vec::new();
        for p in self.ppp.profiles() {
            for (prop, spec) in [
                ("local-address", &p.local_address),
                ("remote-address", &p.remote_address),
            ] {
                if let Some(AddressSpec::Pool(pool)) = spec
                    && self.pools.stats(pool).is_none()
                {
                    let line = self.profile_lines.get(&p.name).copied();
                    problems.push(Problem {
                        line,
                        message: format!("profile {}: {prop}={pool} names no /ip pool", p.name),
                    });
                }
            }
        }
        for p in self.ppp.profiles() {
            if let Some(pool) = &p.remote_ipv6_prefix_pool
                && self.pools6.stats(pool).is_none()
            {
                let line = self.profile_lines.get(&p.name).copied();
                problems.push(Problem {
                    line,
                    message: format!(
                        "profile {}: remote-ipv6-prefix-pool={pool} names no /ipv6 pool",
                        p.name
                    ),
                });
            }
        }
        self.errors.extend(problems);
    }

    fn finish_server(&mut self) -> Vec<ServerSetup> {
        let servers = self.servers.clone();
        if servers.is_empty() {
            self.errors.push(Problem::whole(
                "no `/interface ovpn-server server set` (or `add`) in the script: nothing to run",
            ));
            return Vec::new();
        }
        let enabled: Vec<&ServerSettings> = servers.iter().filter(|s| s.enabled).collect();
        if enabled.is_empty() {
            let s = &servers[0];
            self.errors.push(Problem::at(
                s.line("enabled").or(s.line("disabled")).unwrap_or(s.line),
                if servers.len() == 1 {
                    "the server is not enabled: add enabled=yes to `/interface ovpn-server server set`"
                        .to_owned()
                } else {
                    format!("no server is enabled ({})", self.server_names())
                },
            ));
        }
        for s in servers.iter().filter(|s| !s.enabled && servers.len() > 1) {
            self.warn(
                s.line("disabled").or(s.line("enabled")).unwrap_or(s.line),
                format!("server {} is disabled: not started", s.name),
            );
        }
        // Each listens on its own port and protocol.
        for (i, s) in enabled.iter().enumerate() {
            if let Some(o) = enabled[..i]
                .iter()
                .find(|o| o.port == s.port && o.transport == s.transport)
            {
                self.errors.push(Problem::at(
                    s.line("port").unwrap_or(s.line),
                    format!(
                        "server {}: port={} protocol={} is server {}'s already",
                        s.name,
                        s.port,
                        match s.transport {
                            ovpn_session::Transport::Udp => "udp",
                            ovpn_session::Transport::Tcp => "tcp",
                        },
                        o.name
                    ),
                ));
            }
        }
        self.check_profiles();
        let mut out = Vec::new();
        // Every entry is checked, also a disabled one; the enabled ones run.
        for s in &servers {
            if self.ppp.profile(&s.default_profile).is_none() {
                self.errors.push(Problem::at(
                    s.line("default-profile").unwrap_or(s.line),
                    format!(
                        "default-profile={}: no such /ppp profile",
                        s.default_profile
                    ),
                ));
            }
            let digest = s
                .auths
                .first()
                .copied()
                .unwrap_or(ovpn_crypto::Digest::Sha1);
            let protection = s.protection.resolve_server(digest, |f| self.read_input(f));
            let (protection, v2) = match protection {
                Ok(p) => p,
                Err(e) => {
                    let at = [
                        "tls-crypt-v2-key-file",
                        "tls-key-file",
                        "control-channel-protection",
                    ]
                    .into_iter()
                    .find_map(|k| s.line(k))
                    .unwrap_or(s.line);
                    self.errors.push(Problem::at(at, e));
                    Default::default()
                }
            };
            match s.session_config(&self.store) {
                Ok(mut config) if s.enabled => {
                    config.protection = protection;
                    config.tls_crypt_v2 = v2;
                    out.push(ServerSetup {
                        settings: s.clone(),
                        config,
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    let at = s
                        .line("certificate")
                        .or(s.line("require-client-certificate"))
                        .unwrap_or(s.line);
                    self.errors.push(Problem::at(at, e));
                }
            }
        }
        for (line, props) in core::mem::take(&mut self.exports) {
            // `server=NAME` (7.17) picks the server; the first enabled one otherwise.
            let named = props.iter().find(|(k, _)| k == "server").map(|(_, v)| v);
            let s = match named {
                Some(n) => servers.iter().find(|s| &s.name == n),
                None => enabled.first().copied().or(servers.first()),
            };
            let Some(s) = s else {
                let n = named.map_or("", |n| n.as_str());
                self.errors
                    .push(Problem::at(line, format!("server={n}: no such server")));
                continue;
            };
            if let Err(e) = self.export_profile(s, &props) {
                self.errors.push(Problem::at(line, e));
            }
        }
        out
    }

    /// `export-client-configuration`: a `.ovpn` profile for OpenVPN 2.6 clients.
    fn export_profile(
        &mut self,
        s: &ServerSettings,
        props: &[(String, String)],
    ) -> Result<(), String> {
        let file = crate::export_profile::client_profile(
            s,
            props,
            &self.store,
            &|f| self.read_input(f),
            self.env.now.as_secs(),
        )?;
        self.files.retain(|x| x.name != file.name);
        self.files.push(file);
        Ok(())
    }

    /// `/interface ovpn-client import-ovpn-configuration file-name= [ovpn-user=] [ovpn-password=]
    /// [key-passphrase=] [skip-cert-import=no]`: the profile becomes an interface (its problems
    /// reported as `FILE:LINE` on this command's line), and its certificates and keys go into
    /// `/certificate` unless skip-cert-import=yes.
    fn import_ovpn(&mut self, c: &Command) -> Result<(), String> {
        let mut skip_certs = false;
        for (k, v) in &c.props {
            match k.as_str() {
                "file-name" | "ovpn-user" | "ovpn-password" | "key-passphrase" => {}
                "skip-cert-import" => skip_certs = yes_no(v)?,
                _ => {
                    return Err(format!(
                        "unknown property {k:?} (file-name, ovpn-user, ovpn-password, key-passphrase, skip-cert-import)"
                    ));
                }
            }
        }
        let file = c.prop("file-name").ok_or("file-name is required")?;
        let text = String::from_utf8(self.read_input(file)?)
            .map_err(|_| format!("{file}: not a text profile"))?;
        let creds = crate::ovpn_config::Credentials {
            user_pass: c.prop("ovpn-user").map(|u| {
                (
                    u.to_owned(),
                    c.prop("ovpn-password")
                        .unwrap_or_default()
                        .to_owned()
                        .into(),
                )
            }),
            key_passphrase: c
                .prop("key-passphrase")
                .unwrap_or_default()
                .to_owned()
                .into(),
        };
        let where_ = |p: &Problem| match p.line {
            Some(l) => format!("{file}:{l}: {}", p.message),
            None => format!("{file}: {}", p.message),
        };
        let dir = self.env.script_dir.clone();
        match crate::ovpn_config::read_profile(&text, &dir, &creds) {
            Ok(p) => {
                for w in &p.warnings {
                    self.warn(c.line, where_(w));
                }
                if !skip_certs {
                    let stem = Path::new(file)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("ovpn")
                        .to_owned();
                    for (kind, data) in &p.credentials {
                        let name = match *kind {
                            "ca" => Some(format!("{stem}-ca")),
                            "cert" | "pkcs12" => Some(stem.clone()),
                            _ => None,
                        };
                        let opts = ImportOptions {
                            passphrase: &creds.key_passphrase,
                            name: name.as_deref(),
                            trusted: None,
                            kept: false,
                        };
                        if let Err(e) = self.store.import(&format!("{stem}.{kind}"), data, &opts) {
                            self.errors
                                .push(Problem::at(c.line, format!("{file}: {kind}: {e}")));
                        }
                    }
                }
                self.imported.push((c.line, p));
                Ok(())
            }
            Err(f) => {
                for w in &f.warnings {
                    self.warn(c.line, where_(w));
                }
                let mut errors = f.errors.iter().map(where_).collect::<Vec<_>>();
                let last = errors.pop();
                for e in errors {
                    self.errors.push(Problem::at(c.line, e));
                }
                last.map_or(Ok(()), Err)
            }
        }
    }

    /// The client interfaces to run: the imported profile (the one interface), or every
    /// `/interface ovpn-client` of the script, the disabled ones too (they start disabled; the
    /// console enables them), each with its routes and its session configuration.
    fn finish_client(&mut self) -> Vec<ClientSetup> {
        let mut imported = core::mem::take(&mut self.imported).into_iter();
        if let Some((line, p)) = imported.next() {
            // An imported profile is the interface; any other enabled one is one too many.
            for c in self.clients.iter().filter(|c| !c.disabled) {
                self.errors.push(Problem::at(
                    c.line,
                    format!(
                        "ovpn-client runs the profile imported on line {line} as its interface; disable this one"
                    ),
                ));
            }
            for (l, _) in imported {
                self.errors.push(Problem::at(
                    l,
                    "ovpn-client runs one imported profile: one import-ovpn-configuration",
                ));
            }
            let mut s = ClientSettings::from_config(line, &p.config);
            s.routes = p.routes.clone();
            return vec![ClientSetup {
                settings: s,
                config: p.config,
            }];
        }
        if self.clients.is_empty() {
            self.errors.push(Problem::whole(
                "no `/interface ovpn-client add` in the script: nothing to run",
            ));
            return Vec::new();
        }
        if self.clients.iter().all(|c| c.disabled) {
            self.errors.push(Problem::whole(
                "every ovpn-client is disabled (RouterOS's default is disabled=yes: add disabled=no): nothing to run",
            ));
            return Vec::new();
        }
        for c in self.clients.iter().filter(|c| c.disabled) {
            self.warnings.push(Problem::at(
                c.line,
                format!(
                    "{} is disabled (disabled=yes, RouterOS's default): it does not connect until enabled (disabled=no, or `enable` in the console)",
                    c.name
                ),
            ));
        }
        let mut clients = self.clients.clone();
        for (line, net, gw) in core::mem::take(&mut self.routes) {
            match clients.iter_mut().find(|c| c.name == gw) {
                Some(c) => c.routes.push(net),
                None => {
                    let names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
                    self.errors.push(Problem::at(
                        line,
                        format!(
                            "gateway={gw}: routes can only go through an ovpn-client interface ({})",
                            names.join(", ")
                        ),
                    ));
                }
            }
        }
        let mut out = Vec::new();
        for s in clients {
            let protection = s.protection.resolve_client(s.auth, |f| self.read_input(f));
            let protection = match protection {
                Ok(p) => p,
                Err(e) => {
                    self.errors.push(Problem::at(s.line, e));
                    Default::default()
                }
            };
            match s.session_config(&self.store) {
                Ok(mut c) => {
                    c.protection = protection;
                    out.push(ClientSetup {
                        settings: s,
                        config: c,
                    });
                }
                Err(errs) => {
                    for e in errs {
                        self.errors.push(Problem::at(s.line, e));
                    }
                }
            }
        }
        out
    }

    fn finish(mut self) -> Result<Setup, Failure> {
        let (mut servers, mut clients) = (Vec::new(), Vec::new());
        match self.program {
            Program::Server => servers = self.finish_server(),
            Program::Client => clients = self.finish_client(),
        }
        // The first enabled interface, for the callers that run one.
        let first = clients.iter().find(|c| !c.settings.disabled).cloned();
        let (client, client_config) = match first {
            Some(c) => (Some(c.settings), Some(c.config)),
            None => (None, None),
        };
        // Keep what was generated, for the next run.
        let mut keep = Vec::new();
        for name in &self.generated {
            let Some(file) = kept_file(name) else {
                self.warnings.push(Problem::whole(format!(
                    "certificate {name}: its name cannot be a file name, so it is not kept for the next run"
                )));
                continue;
            };
            if let Some(c) = self.store.get(name) {
                let mut pem = c.pem();
                if let Some(k) = c.private_key_pem() {
                    pem.push_str(&k);
                }
                keep.push(OutputFile {
                    name: file,
                    contents: pem.into_bytes(),
                    private: true,
                });
            }
        }
        self.files.extend(keep);
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            return Err(Failure {
                errors: self.errors,
                warnings: self.warnings,
            });
        }
        Ok(Setup {
            store: self.store,
            pools: self.pools,
            pools6: self.pools6,
            ppp: self.ppp,
            servers,
            client,
            client_config,
            clients,
            files: self.files,
            warnings: self.warnings,
            kept: self.kept,
            crl_files: self.crl_files,
            certificate_commands: Vec::new(),
            logging: self.logging,
        })
    }
}

/// The plain file name of property `key` of a generating command (it goes into the state
/// directory), after checking that the command has no property but `allowed`.
pub(crate) fn plain_file_name(c: &Command, key: &str, allowed: &[&str]) -> Result<String, String> {
    let file = c.prop(key).ok_or(format!("{key} is required"))?;
    plain_file(key, file)?;
    for (k, _) in &c.props {
        if !allowed.contains(&k.as_str()) {
            return Err(format!("unknown property {k:?} ({})", allowed.join(", ")));
        }
    }
    Ok(file.to_owned())
}
