//! What the console reads and changes in a running program ([`Live`]), and the rows it shows
//! of a client interface ([`ClientRow`]). The server program implements it in
//! [`super::live`], the client program in [`super::client_live`].

use ovpn_session::SessionInfo;

use crate::table;

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
    /// Adds a client interface from an OpenVPN profile in the state directory
    /// (`/interface ovpn-client import-ovpn-configuration file-name= ovpn-user= ovpn-password=
    /// [key-passphrase=]`), connecting at once.
    fn import_profile(&self, props: &[(String, String)]) -> Result<String, String> {
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
    /// The file `name` (property `key`) of the state directory: a plain name, no folders.
    fn state_file(&self, key: &str, name: &str) -> Result<std::path::PathBuf, String> {
        crate::script::plain_file(key, name)?;
        let dir = self
            .state_dir()
            .ok_or("this program keeps no state directory")?;
        Ok(dir.join(name))
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
