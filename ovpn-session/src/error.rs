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
    /// A tls-crypt-v2 client's wrapped key was refused: it does not unwrap under the server
    /// key, is too old (`tls-crypt-v2-max-age`), or the packet does not authenticate under it.
    #[error("tls-crypt-v2 client key refused")]
    BadClientKey,
    /// A tls-crypt-v2 client that cannot resend its wrapped key, refused by `force-cookie`.
    #[error("tls-crypt-v2 client without early negotiation (force-cookie)")]
    CookieRequired,
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
    /// Ethernet mode: not an Ethernet frame (shorter than its header), or its source address
    /// is a group or the zero address, which no station sends from.
    #[error("not a valid Ethernet frame")]
    BadFrame,
    /// Ethernet mode: the frame's source MAC address is another live session's, or the session
    /// has learned `max_macs_per_client` addresses already.
    #[error("source MAC address refused (held by another session, or too many)")]
    MacRefused,
    /// The session's `rate-limit` has no room for it now (policed, not queued).
    #[error("rate limit exceeded")]
    RateLimited,
    /// The session's `limit-bytes-in` is reached; the session is ending.
    #[error("limit-bytes-in reached")]
    LimitReached,
    /// The server is at its client limit or refuses new sessions right now.
    #[error("refused: too many sessions")]
    TooManySessions,
    /// A new TCP connection past the server's limits (per source address, or in all): close
    /// it.
    #[error("refused: too many TCP connections")]
    TooManyConnections,
    /// A session start over the server's `connect-freq-initial`, `connect-freq` or per-source
    /// limit: not answered, nothing kept (the client retries).
    #[error("session start not answered: new-session rate limit reached")]
    StartLimited,
    /// Shaped like the third packet of a session start, but it does not acknowledge a cookie
    /// this server issued to that address and session id within the last 60 to 90 s, or it is
    /// past the three-way handshake: a forged, stale or foreign packet (or one of an earlier
    /// server process). Nothing is kept.
    #[error("session start with an invalid or expired cookie")]
    BadCookie,
    /// A TCP connection's framing is broken (a zero or over-long length prefix): nothing more
    /// can be read from it. Close the connection and call `connection_closed`.
    #[error("broken TCP stream: {0}")]
    BrokenStream(ovpn_wire::WireError),
    /// `handle_stream` on a UDP endpoint (use `handle_datagram`).
    #[error("stream input on a UDP endpoint")]
    WrongTransport,
    /// The peer compressed the payload: the session is ending
    /// ([`DisconnectReason::Compressed`]).
    #[error("compressed data packet")]
    Compressed,
}

/// Why a session ended. Arrives once, as an event.
///
/// The causes from the other crates keep their type: a refused login is the
/// [`AuthError`](ovpn_ppp::AuthError), a failed address the [`PoolError`](ovpn_pool::PoolError),
/// a TLS failure the `rustls::Error` (shown in RouterOS's words). Match on them; the text is for
/// people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The handshake did not complete within hand-window.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// Nothing was heard from the peer for the keepalive timeout.
    #[error("keepalive timeout")]
    PingRestart,
    /// TLS failed. Shown in RouterOS's words where it is about certificates
    /// (`certificate verification failed`, `could not verify peer certificate: ...`).
    #[error("{}", crate::verify::refusal_reason(.0))]
    Tls(rustls::Error),
    /// The peer's key-method-2 record was invalid.
    #[error("key exchange failed: {0}")]
    KeyExchange(String),
    /// The server refused the login (`login incorrect`, `unknown service`, `only-one`, ...).
    #[error(transparent)]
    Auth(ovpn_ppp::AuthError),
    /// Authentication failed, in words: the server's `AUTH_FAILED` text (on a client), or a
    /// renegotiation that changed the client's identity (on a server).
    #[error("{0}")]
    AuthFailed(String),
    /// No cipher both sides accept (`no encryption`, naming what each offered).
    #[error("{0}")]
    NoEncryption(String),
    /// The client's `remote-address` (or the profile's pooled `local-address`) could not be given:
    /// the pool is exhausted, unknown, or the fixed address is in use.
    #[error("no address available: {0}")]
    Address(ovpn_pool::PoolError),
    /// The login gives the client no IPv4 `remote-address` at all (neither the secret nor its
    /// profile names one).
    #[error("no address available: no IPv4 remote-address for this user")]
    NoRemoteAddress,
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
    /// The session's PPP secret was removed, renamed or disabled while it was up.
    #[error("secret removed or disabled")]
    SecretRemoved,
    /// The administrator removed the session (`/ppp active remove`).
    #[error("removed by the administrator")]
    Removed,
    /// The certificate the client logged in with is refused now (revoked by a new CRL, or the
    /// check changed): [`crate::Server::set_client_check`].
    #[error("{0}")]
    CertificateRefused(String),
    /// The peer's device type differs from ours (its options string says `dev-type tap` and we
    /// run `mode=ip`, or the reverse): neither could carry the other's packets.
    #[error("the peer uses {} and we use {}: set the same mode on both ends", mode_name(*.peer), mode_name(*.ours))]
    DeviceTypeMismatch {
        /// Our mode.
        ours: crate::Mode,
        /// The peer's, from its options string.
        peer: crate::Mode,
    },
    /// The peer really compresses (the algorithm and setting named): compression is not
    /// supported. Its framing alone (`comp-lzo no`, `compress`, `compress stub-v2`) is.
    #[error(
        "the peer compresses its packets with {0}: compression is not supported (configure `compress stub-v2`, `comp-lzo no` or no compression there; OpenVPN 2.6's allow-compression no does that)"
    )]
    Compressed(String),
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

fn mode_name(m: crate::Mode) -> &'static str {
    match m {
        crate::Mode::Ip => "dev tun (mode=ip)",
        crate::Mode::Ethernet => "dev tap (mode=ethernet)",
    }
}
