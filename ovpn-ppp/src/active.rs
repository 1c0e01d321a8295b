//! `/ppp active`: the sessions in progress.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::Service;
use crate::properties::quote;
use crate::value::format_duration;

/// Identifies one session in an [`ActiveSessions`] table. Never reused by a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u64);

impl SessionId {
    /// The number behind the id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "*{:X}", self.0)
    }
}

/// One session in progress (a `/ppp active` row).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActiveSession {
    /// The user name.
    pub name: String,
    /// The service (`ovpn`).
    pub service: Service,
    /// The client's outer address, as text.
    pub caller_id: String,
    /// The client's tunnel address, once assigned.
    pub address: Option<IpAddr>,
    /// The data-channel cipher and digest (`AES-256-GCM`, `AES-256-CBC/SHA256`), once known.
    pub encoding: String,
    /// The session's interface (`ovpn-incoming1`).
    pub interface: String,
    /// When the session started (from the caller's clock).
    pub started: Instant,
}

impl ActiveSession {
    /// How long the session has lasted at `now` (zero if `now` is before the start).
    pub fn uptime(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    /// The row as RouterOS prints it, with the uptime at `now` in whole seconds:
    /// `name=client1 service=ovpn caller-id=192.0.2.7 address=10.8.0.2 uptime=1h2m3s
    /// encoding=AES-256-GCM interface=ovpn-incoming1`.
    pub fn display(&self, now: Instant) -> impl fmt::Display + '_ {
        Row { session: self, now }
    }
}

struct Row<'a> {
    session: &'a ActiveSession,
    now: Instant,
}

impl fmt::Display for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.session;
        write!(
            f,
            "name={} service={} caller-id={}",
            quote(&s.name),
            s.service,
            quote(&s.caller_id)
        )?;
        if let Some(a) = s.address {
            write!(f, " address={a}")?;
        }
        let uptime = Duration::from_secs(s.uptime(self.now).as_secs());
        write!(f, " uptime={}", format_duration(uptime))?;
        if !s.encoding.is_empty() {
            write!(f, " encoding={}", quote(&s.encoding))?;
        }
        write!(f, " interface={}", quote(&s.interface))
    }
}

/// The active-session table (`/ppp active`): add when a login is accepted, remove on disconnect,
/// list, and count a user's sessions for `only-one`.
///
/// Each session gets an interface name made of a prefix (`ovpn-incoming` by default) and the
/// lowest number not in use, from 1. The table reads no clock: start times and `now` come from
/// the caller.
///
/// ```
/// use std::time::{Duration, Instant};
/// use ovpn_ppp::{ActiveSessions, Service};
///
/// let start = Instant::now();
/// let mut active = ActiveSessions::new();
/// let id = active.add(start, "client1", Service::Ovpn, "192.0.2.7");
/// active.set_address(id, Some("10.8.0.2".parse().unwrap()));
/// active.set_encoding(id, "AES-256-GCM");
/// assert_eq!(active.count_user("client1"), 1);
/// let row = active.get(id).unwrap().display(start + Duration::from_secs(3723)).to_string();
/// assert_eq!(
///     row,
///     "name=client1 service=ovpn caller-id=192.0.2.7 address=10.8.0.2 uptime=1h2m3s \
///      encoding=AES-256-GCM interface=ovpn-incoming1"
/// );
/// assert!(active.remove(id).is_some());
/// assert_eq!(active.count_user("client1"), 0);
/// ```
#[derive(Clone, Debug)]
pub struct ActiveSessions {
    prefix: String,
    sessions: BTreeMap<SessionId, (u32, ActiveSession)>,
    per_user: BTreeMap<String, usize>,
    next_id: u64,
    free_numbers: BTreeSet<u32>,
    next_number: u32,
}

impl Default for ActiveSessions {
    fn default() -> Self {
        Self::new()
    }
}

impl ActiveSessions {
    /// The interface-name prefix RouterOS uses for OpenVPN server sessions.
    pub const OVPN_INTERFACE_PREFIX: &'static str = "ovpn-incoming";

    /// An empty table naming interfaces `ovpn-incoming1`, `ovpn-incoming2`, ...
    pub fn new() -> Self {
        Self::with_interface_prefix(Self::OVPN_INTERFACE_PREFIX)
    }

    /// An empty table naming interfaces `PREFIX1`, `PREFIX2`, ...
    pub fn with_interface_prefix(prefix: impl Into<String>) -> Self {
        ActiveSessions {
            prefix: prefix.into(),
            sessions: BTreeMap::new(),
            per_user: BTreeMap::new(),
            next_id: 1,
            free_numbers: BTreeSet::new(),
            next_number: 1,
        }
    }

    /// Adds a session of `name` started at `now`, returning its id. The address and encoding can
    /// be set when known.
    pub fn add(
        &mut self,
        now: Instant,
        name: &str,
        service: Service,
        caller_id: &str,
    ) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        let number = self.free_numbers.pop_first().unwrap_or_else(|| {
            let n = self.next_number;
            self.next_number = self.next_number.saturating_add(1);
            n
        });
        let session = ActiveSession {
            name: name.to_owned(),
            service,
            caller_id: caller_id.to_owned(),
            address: None,
            encoding: String::new(),
            interface: format!("{}{number}", self.prefix),
            started: now,
        };
        *self.per_user.entry(name.to_owned()).or_default() += 1;
        self.sessions.insert(id, (number, session));
        id
    }

    /// Sets a session's tunnel address; false if there is no such session.
    pub fn set_address(&mut self, id: SessionId, address: Option<IpAddr>) -> bool {
        self.sessions
            .get_mut(&id)
            .map(|(_, s)| s.address = address)
            .is_some()
    }

    /// Sets a session's encoding (`AES-256-GCM`); false if there is no such session.
    pub fn set_encoding(&mut self, id: SessionId, encoding: impl Into<String>) -> bool {
        self.sessions
            .get_mut(&id)
            .map(|(_, s)| s.encoding = encoding.into())
            .is_some()
    }

    /// Removes a session (disconnect, or `/ppp active remove`), returning it; `None` if there is
    /// no such session (already removed).
    pub fn remove(&mut self, id: SessionId) -> Option<ActiveSession> {
        let (number, session) = self.sessions.remove(&id)?;
        self.free_numbers.insert(number);
        if let Some(count) = self.per_user.get_mut(&session.name) {
            *count -= 1;
            if *count == 0 {
                self.per_user.remove(&session.name);
            }
        }
        Some(session)
    }

    /// The session with this id.
    pub fn get(&self, id: SessionId) -> Option<&ActiveSession> {
        self.sessions.get(&id).map(|(_, s)| s)
    }

    /// The session on this interface (`ovpn-incoming1`).
    pub fn find_interface(&self, interface: &str) -> Option<SessionId> {
        self.sessions
            .iter()
            .find(|(_, (_, s))| s.interface == interface)
            .map(|(id, _)| *id)
    }

    /// All sessions, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (SessionId, &ActiveSession)> {
        self.sessions.iter().map(|(id, (_, s))| (*id, s))
    }

    /// How many sessions `name` has (for `only-one`).
    pub fn count_user(&self, name: &str) -> usize {
        self.per_user.get(name).copied().unwrap_or(0)
    }

    /// How many sessions are active.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is active.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// `/ppp active print` at `now`: one numbered row per session, oldest first.
    pub fn print(&self, now: Instant) -> impl fmt::Display + '_ {
        Table { table: self, now }
    }
}

struct Table<'a> {
    table: &'a ActiveSessions,
    now: Instant,
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (_, s)) in self.table.iter().enumerate() {
            writeln!(f, "{i} {}", s.display(self.now))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(
        clippy::disallowed_methods,
        reason = "a base Instant for the test; only durations added to it matter"
    )]
    fn base() -> Instant {
        Instant::now()
    }

    #[test]
    fn interface_numbers_reuse_the_lowest_free() {
        let t0 = base();
        let mut a = ActiveSessions::new();
        let ids: Vec<_> = (0..3)
            .map(|i| a.add(t0, &format!("u{i}"), Service::Ovpn, "x"))
            .collect();
        let names: Vec<_> = ids
            .iter()
            .map(|id| a.get(*id).unwrap().interface.clone())
            .collect();
        assert_eq!(
            names,
            ["ovpn-incoming1", "ovpn-incoming2", "ovpn-incoming3"]
        );
        assert_eq!(a.remove(ids[1]).unwrap().name, "u1");
        assert_eq!(a.remove(ids[1]), None);
        let again = a.add(t0, "u9", Service::Ovpn, "x");
        assert_eq!(a.get(again).unwrap().interface, "ovpn-incoming2");
        assert_ne!(again, ids[1], "ids are not reused");
        assert_eq!(a.find_interface("ovpn-incoming3"), Some(ids[2]));
        assert_eq!(a.find_interface("ovpn-incoming7"), None);
        assert_eq!(a.len(), 3);
        let mut l2tp = ActiveSessions::with_interface_prefix("l2tp-in");
        let id = l2tp.add(t0, "u", Service::L2tp, "x");
        assert_eq!(l2tp.get(id).unwrap().interface, "l2tp-in1");
    }

    #[test]
    fn counts_per_user() {
        let t0 = base();
        let mut a = ActiveSessions::default();
        assert!(a.is_empty());
        let x = a.add(t0, "alice", Service::Ovpn, "192.0.2.1");
        let y = a.add(t0, "alice", Service::Ovpn, "192.0.2.2");
        a.add(t0, "bob", Service::Ovpn, "192.0.2.3");
        assert_eq!(
            (
                a.count_user("alice"),
                a.count_user("bob"),
                a.count_user("carol")
            ),
            (2, 1, 0)
        );
        a.remove(x);
        assert_eq!(a.count_user("alice"), 1);
        a.remove(y);
        assert_eq!(a.count_user("alice"), 0);
        assert!(!a.set_address(x, None));
        assert!(!a.set_encoding(y, "x"));
    }

    #[test]
    fn uptime_and_print() {
        let t0 = base();
        let mut a = ActiveSessions::new();
        let id = a.add(
            t0 + Duration::from_secs(10),
            "client 1",
            Service::Ovpn,
            "2001:db8::7",
        );
        a.set_encoding(id, "AES-256-CBC/SHA256");
        let s = a.get(id).unwrap();
        assert_eq!(s.uptime(t0), Duration::ZERO, "clock before start");
        assert_eq!(
            s.uptime(t0 + Duration::from_millis(90_500)),
            Duration::from_millis(80_500)
        );
        assert_eq!(
            a.print(t0 + Duration::from_millis(90_500)).to_string(),
            "0 name=\"client 1\" service=ovpn caller-id=2001:db8::7 uptime=1m20s \
             encoding=AES-256-CBC/SHA256 interface=ovpn-incoming1\n"
        );
        assert_eq!(id.to_string(), "*1");
        assert_eq!(id.get(), 1);
    }
}
