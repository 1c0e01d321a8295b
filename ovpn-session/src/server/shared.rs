//! What several servers share: the PPP tables, the IP pools, the `ovpn-incomingN` numbers, the
//! `/ppp active` session ids and the count of sessions per user. RouterOS 7.17 and later runs
//! several OpenVPN servers (`/interface ovpn-server server add ...`) over one `/ppp secret` table
//! and one set of pools; a process serving UDP 1194 and TCP 443 does the same by giving both
//! [`Server`](crate::Server)s one [`Shared`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ovpn_pool::PoolSet;
use ovpn_ppp::PppConfig;

use super::slots::Numbers;

/// The first `/ppp active` session-id (RouterOS numbers its PPP sessions from `0x81000001`
/// upwards; the ids only need to be unique while the servers run).
const FIRST_SESSION_ID: u32 = 0x8100_0001;

/// The tables several servers share, behind one lock: a cheap handle to clone into each
/// [`Server`](crate::Server).
///
/// Changes go through [`Shared::change`] (add, change or remove secrets, profiles and pools) and
/// [`Shared::remove_session`] (`/ppp active remove`). They take effect without a restart: a new
/// login sees the tables as they are, and each server ends what a change removed (a session whose
/// secret is gone, a removed session) on its next call, telling its driver with
/// [`ServerEvent::Disconnected`](crate::ServerEvent::Disconnected). After a change, wake each
/// server's loop: its [`Server::poll_timeout`](crate::Server::poll_timeout) is then due.
///
/// The lock is held only inside a call of this crate, never across one: nothing here blocks.
///
/// ```
/// use ovpn_session::Shared;
/// let mut ppp = ovpn_ppp::PppConfig::new();
/// ppp.add_secret_text("name=alice password=pw service=ovpn")?;
/// let shared = Shared::new(ppp, ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4));
/// let for_tcp = shared.clone(); // the same tables
/// shared.change(|ppp, _pools| ppp.remove_secret("alice"))?;
/// assert!(for_tcp.view(|ppp, _| ppp.secret("alice").is_none()));
/// # Ok::<(), ovpn_ppp::Error>(())
/// ```
#[derive(Clone)]
pub struct Shared {
    inner: Arc<Inner>,
}

struct Inner {
    /// Bumped by every change a server must look at.
    revision: AtomicU64,
    state: Mutex<State>,
}

/// The shared tables, for the servers while they hold the lock.
#[derive(Debug)]
pub(super) struct State {
    pub(super) ppp: PppConfig,
    pub(super) pools: PoolSet,
    /// The `/ipv6 pool`s (IPv6 inside the tunnel).
    pub(super) pools6: PoolSet,
    /// The `N` of each logged-in session's `ovpn-incomingN`, unique across the servers.
    pub(super) numbers: Numbers,
    /// Logged-in sessions per PPP user (for `only-one`, across the servers).
    pub(super) users: HashMap<String, usize>,
    next_session_id: u32,
    /// The session ids of the logged-in sessions.
    active: HashSet<u32>,
    /// Sessions removed by the administrator, until their server has ended them.
    pub(super) removed: HashSet<u32>,
}

impl State {
    /// A logged-in session's number and `/ppp active` session id.
    pub(super) fn open_session(&mut self, user: &str) -> (u32, u32) {
        let number = self.numbers.take();
        let mut id = self.next_session_id;
        // Skip ids still in use after a wrap-around (after four billion logins).
        while self.active.contains(&id) {
            id = id.wrapping_add(1).max(FIRST_SESSION_ID);
        }
        self.next_session_id = id.wrapping_add(1).max(FIRST_SESSION_ID);
        self.active.insert(id);
        *self.users.entry(user.to_owned()).or_default() += 1;
        (number, id)
    }

    /// The end of a session [`State::open_session`] opened.
    pub(super) fn close_session(&mut self, user: &str, number: u32, session_id: u32) {
        self.numbers.give_back(number);
        self.active.remove(&session_id);
        self.removed.remove(&session_id);
        if let Some(n) = self.users.get_mut(user) {
            *n -= 1;
            if *n == 0 {
                self.users.remove(user);
            }
        }
    }
}

/// [`Shared::remove_session`] named no logged-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such item: no active session {0:#x}")]
pub struct NoSuchSession(pub u32);

impl Shared {
    /// Tables to share: the PPP profiles and secrets, and the IP pools.
    pub fn new(ppp: PppConfig, pools: PoolSet) -> Self {
        Self {
            inner: Arc::new(Inner {
                revision: AtomicU64::new(0),
                state: Mutex::new(State {
                    ppp,
                    pools,
                    pools6: PoolSet::new(ovpn_pool::Family::Ipv6),
                    numbers: Numbers::new(),
                    users: HashMap::new(),
                    next_session_id: FIRST_SESSION_ID,
                    active: HashSet::new(),
                    removed: HashSet::new(),
                }),
            }),
        }
    }

    /// Reads the tables (for `/ppp secret print`, `/ip pool used print`, ...).
    pub fn view<R>(&self, f: impl FnOnce(&PppConfig, &PoolSet) -> R) -> R {
        let state = self.lock();
        f(&state.ppp, &state.pools)
    }

    /// Changes the tables: add, change or remove secrets, profiles and pools. A new login sees
    /// the change at once; a session whose secret is gone ends on its server's next call (with
    /// [`DisconnectReason::SecretRemoved`](crate::DisconnectReason::SecretRemoved)), and its
    /// address goes back to its pool. Sessions whose secret or profile changed keep what they
    /// logged in with, as on RouterOS.
    pub fn change<R>(&self, f: impl FnOnce(&mut PppConfig, &mut PoolSet) -> R) -> R {
        let mut guard = self.lock();
        let state = &mut *guard;
        let r = f(&mut state.ppp, &mut state.pools);
        self.bump();
        r
    }

    /// With these `/ipv6 pool`s (for IPv6 inside the tunnel: a profile's
    /// `remote-ipv6-prefix-pool`). Without them, the IPv6 pool set is empty.
    pub fn with_ipv6_pools(self, pools6: PoolSet) -> Self {
        self.lock().pools6 = pools6;
        self
    }

    /// Reads the `/ipv6 pool`s (`/ipv6 pool used print`).
    pub fn view_ipv6<R>(&self, f: impl FnOnce(&PoolSet) -> R) -> R {
        f(&self.lock().pools6)
    }

    /// Changes the `/ipv6 pool`s, as [`Shared::change`] does the rest.
    pub fn change_ipv6<R>(&self, f: impl FnOnce(&mut PoolSet) -> R) -> R {
        let r = f(&mut self.lock().pools6);
        self.bump();
        r
    }

    /// Ends a logged-in session by its `/ppp active` session id (`/ppp active remove`), on
    /// whichever server holds it: on that server's next call, with
    /// [`DisconnectReason::Removed`](crate::DisconnectReason::Removed).
    pub fn remove_session(&self, session_id: u32) -> Result<(), NoSuchSession> {
        let mut state = self.lock();
        if !state.active.contains(&session_id) {
            return Err(NoSuchSession(session_id));
        }
        state.removed.insert(session_id);
        drop(state);
        self.bump();
        Ok(())
    }

    /// How many sessions are logged in on all the servers.
    pub fn active_sessions(&self) -> usize {
        self.lock().active.len()
    }

    /// The current revision: it changes with every change a server must look at.
    pub(super) fn revision(&self) -> u64 {
        self.inner.revision.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.inner.revision.fetch_add(1, Ordering::AcqRel);
    }

    /// The tables. A lock poisoned by a panic in a [`Shared::change`] closure is used as it is:
    /// each table's own calls change it whole or not at all.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl core::fmt::Debug for Shared {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}
