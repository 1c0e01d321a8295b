//! The session's errors: per-packet drops (cheap, non-fatal), terminal reasons (arrive once as an
//! event), and caller misuse.

/// Why one received packet was dropped. Per packet: log or count it and carry on; the session is
/// unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// The packet could not be parsed.
    #[error("malformed packet: {0}")]
    Wire(#[from] ovpn_wire::WireError),
    /// It came from an address with no session and was not a session start.
    #[error("no session for this peer")]
    UnknownPeer,
    /// tls-auth or tls-crypt refused it (wrong key, forged, or replayed).
    #[error("control packet authentication failed")]
    BadControlAuth,
    /// Its session id is not the one of this session.
    #[error("session id mismatch")]
    SessionMismatch,
    /// Its key id belongs to no key state.
    #[error("unknown key id {0}")]
    UnknownKeyId(u8),
    /// The data-channel tag/HMAC did not verify, or decryption failed.
    #[error("data packet authentication failed")]
    DecryptFailed,
    /// A data packet seen before, or too old for the replay window.
    #[error("replayed data packet")]
    Replay,
    /// No data keys yet (handshake in progress) or the session is closing.
    #[error("session not ready for data")]
    NotReady,
    /// A packet from a role that cannot send it (a client reset sent to a client, ...).
    #[error("unexpected opcode for this role")]
    WrongRole,
    /// An inner packet from a source address the client was not given (neither its tunnel
    /// address nor inside its secret's `routes`): a spoofing attempt or a misconfigured client.
    #[error("source address not assigned to this client")]
    SourceNotAllowed,
    /// The session's `rate-limit` has no room for it now (policed, not queued).
    #[error("rate limit exceeded")]
    RateLimited,
    /// The session's `limit-bytes-in` is reached; the session is ending.
    #[error("limit-bytes-in reached")]
    LimitReached,
    /// The server is at its client limit or refuses new sessions right now.
    #[error("refused: too many sessions")]
    TooManySessions,
}

/// Why a session ended. Arrives once, as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The handshake did not complete within hand-window.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// Nothing was heard from the peer for the keepalive timeout.
    #[error("keepalive timeout")]
    PingRestart,
    /// TLS failed; the text says why in RouterOS's words where it is about certificates.
    #[error("{0}")]
    Tls(String),
    /// The peer's key-method-2 record was invalid.
    #[error("key exchange failed: {0}")]
    KeyExchange(String),
    /// Authentication was refused (`login incorrect`, `unknown service`, ...).
    #[error("{0}")]
    AuthFailed(String),
    /// No cipher both sides accept (`no encryption`, naming what each offered).
    #[error("{0}")]
    NoEncryption(String),
    /// The pool had no address for the client.
    #[error("no address available: {0}")]
    PoolExhausted(String),
    /// The peer said it is leaving (EXIT, OCC EXIT, RESTART, HALT).
    #[error("closed by peer{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    ClosedByPeer(Option<String>),
    /// The local application closed it.
    #[error("closed locally")]
    LocallyClosed,
    /// A protocol violation that makes going on pointless.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The data-channel send counter is exhausted and renegotiation did not happen in time.
    #[error("data channel packet ids exhausted")]
    PacketIdsExhausted,
    /// The login's `session-timeout` passed.
    #[error("session timeout")]
    SessionTimeout,
    /// No data either way for the login's `idle-timeout`.
    #[error("idle timeout")]
    IdleTimeout,
    /// The secret's byte limit (the property named) is reached.
    #[error("{0} reached")]
    LimitReached(&'static str),
}

/// Caller misuse on the data path ([`crate::Client::encapsulate`], [`crate::Server::encapsulate`]).
/// The buffer is left untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncapError {
    /// Not enough headroom before or tailroom after the packet.
    #[error("buffer too small: need {needed} more bytes of head- or tailroom")]
    BufferTooSmall {
        /// The bytes missing.
        needed: usize,
    },
    /// The packet is larger than the tunnel MTU.
    #[error("packet of {len} bytes exceeds the tunnel MTU {mtu}")]
    PacketTooLarge {
        /// Its length.
        len: usize,
        /// The MTU.
        mtu: usize,
    },
    /// No data keys: the tunnel is not up (drop the packet).
    #[error("tunnel not connected")]
    NotConnected,
    /// No such peer.
    #[error("unknown peer")]
    UnknownPeer,
    /// The session's `rate-limit` has no room for it now (drop it).
    #[error("rate limit exceeded")]
    RateLimited,
    /// The session's `limit-bytes-out` is reached; the session is ending.
    #[error("limit-bytes-out reached")]
    LimitReached,
}

/// A command naming a session ([`crate::Server::auth_verdict`], [`crate::Server::disconnect`])
/// that cannot apply. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session has ended (its handle is stale, even if a new session has its slot).
    #[error("no such session: it has ended")]
    Gone,
    /// The session is not waiting for a verdict (it was already given, or it never asked).
    #[error("the session is not waiting for an authentication verdict")]
    NotAuthenticating,
}
