//! One OpenVPN TLS session with one peer: session ids, control-channel protection, the key states
//! (each with its reliability layer, TLS connection, key-method-2 exchange and data keys), key
//! rotation, keepalive and the data path. Client and server sessions are both built on it; what
//! differs (pushing, authenticating, addresses) lives in `client.rs` and `server.rs`.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ovpn_crypto::{Cipher, DataKeys, Digest, KeyBlock};
use ovpn_wire::{
    AckList, ControlPacket, DataHeader, KeyId, OccMessage, Opcode, PING_MAGIC, PeerId, SessionId,
};
use zeroize::Zeroizing;

use crate::compress::{Compressed, FRAMING_HEAD, Framing};
use crate::control::{MessageSplitter, encode_message};
use crate::error::{DisconnectReason, DropReason};
use crate::km2::{KeyMethod2, KeySource, Parsed};
use crate::random::{Random, array};
use crate::reliable::Reliable;
use crate::tls::Tls;
use crate::wrap::Wrap;

/// Acknowledgements piggy-backed on a message packet, and in one P_ACK_V1 (`CONTROL_SEND_ACK_MAX`,
/// ssl.h; 2.6 sends up to 8 in a P_ACK_V1 but only 4 to peers like SoftEther, ssl_pkt.c: 4 is safe
/// with everyone).
const MAX_ACKS: usize = 4;
/// The largest control packet we send, headers included (`TLS_MTU_DEFAULT`, mtu.h).
const TLS_MTU: usize = 1250;
/// Room left for outer headers and the plain control header with four acks.
const CONTROL_OVERHEAD: usize = 48 + 1 + 8 + 1 + 4 * MAX_ACKS + 8 + 4;

/// Which side of the TLS session we are. The OpenVPN client is always the TLS client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// The data channel's parameters, fixed for the session once negotiated (renegotiations reuse them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataParams {
    pub(crate) cipher: Cipher,
    pub(crate) digest: Digest,
    /// Keys from the TLS exporter (tls-ekm) rather than the legacy PRF.
    pub(crate) ekm: bool,
}

/// How to make the TLS connection of each key state.
#[derive(Debug, Clone)]
pub(crate) enum TlsFactory {
    Client(Arc<rustls::ClientConfig>),
    Server(Arc<rustls::ServerConfig>),
}

impl TlsFactory {
    fn connect(&self) -> Result<Tls, rustls::Error> {
        Ok(Tls::new(match self {
            Self::Client(c) => {
                // No host name is verified or sent: an IP address name makes rustls send no SNI.
                let name = rustls::pki_types::ServerName::IpAddress(
                    std::net::IpAddr::from([0, 0, 0, 0]).into(),
                );
                rustls::ClientConnection::new(c.clone(), name)?.into()
            }
            Self::Server(s) => rustls::ServerConnection::new(s.clone())?.into(),
        }))
    }
}

/// What our key-method-2 records say (the key sources are made per key state).
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalInfo {
    pub(crate) options: String,
    pub(crate) username: String,
    pub(crate) password: Zeroizing<String>,
    pub(crate) peer_info: String,
    /// Test hook: a client that never sends its key-method-2 record (a peer that stalls once
    /// TLS is up).
    #[cfg(feature = "fuzzing")]
    pub(crate) hold_key_method: bool,
}

/// Timings of a session (OpenVPN option names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timings {
    /// `tls-timeout`: the first control-packet retransmission.
    pub(crate) tls_timeout: Duration,
    /// `hand-window`: how long a key negotiation may take.
    pub(crate) hand_window: Duration,
    /// `tran-window`: how long a replaced key still decrypts.
    pub(crate) tran_window: Duration,
    /// `reneg-sec` (None: never by time).
    pub(crate) reneg: Option<Duration>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            tls_timeout: Duration::from_secs(2),
            hand_window: Duration::from_secs(60),
            tran_window: Duration::from_secs(60),
            reneg: Some(Duration::from_secs(3600)),
        }
    }
}

/// What the channel reports to the client or server logic.
#[derive(Debug)]
pub(crate) enum ChannelEvent {
    /// TLS finished for a key state (the peer's certificate is checked).
    TlsEstablished {
        key_id: KeyId,
        description: String,
        /// The common name of the peer's certificate, if it presented one.
        common_name: Option<String>,
    },
    /// The peer's key-method-2 record arrived.
    PeerKeyMethod { key_id: KeyId, km2: Box<KeyMethod2> },
    /// A control message arrived (NUL-split text).
    Message(String),
    /// Data keys were installed for a key state, which is now the one we send with.
    KeysInstalled { key_id: KeyId },
    /// The data channel carried an OCC EXIT.
    OccExit,
    /// The session cannot go on.
    Failed(DisconnectReason),
}

/// Data-channel traffic of a session (tunnel payload bytes and packets; keepalives excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes received from the peer into the tunnel.
    pub bytes_in: u64,
    /// Bytes sent to the peer from the tunnel.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Data packets received and dropped: replayed, failing authentication, malformed, or
    /// under a key that is gone.
    pub dropped_in: u64,
}

/// A control message as the reliability layer keeps it (retransmission clones a refcount).
#[derive(Debug, Clone)]
struct Msg {
    opcode: Opcode,
    payload: Bytes,
}

struct KeyState {
    key_id: KeyId,
    reliable: Reliable<Msg>,
    tls: Tls,
    plain_in: Vec<u8>,
    splitter: MessageSplitter,
    local: KeySource,
    remote: Option<KeySource>,
    km2_sent: bool,
    km2_received: bool,
    data: Option<DataKeys>,
    deadline: Instant,
    established: Option<Instant>,
    retire_at: Option<Instant>,
}

impl core::fmt::Debug for KeyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyState")
            .field("key_id", &self.key_id)
            .field("km2_sent", &self.km2_sent)
            .field("km2_received", &self.km2_received)
            .field("keys", &self.data.is_some())
            .finish_non_exhaustive()
    }
}

impl KeyState {
    fn tls_done(&self) -> bool {
        !self.tls.is_handshaking()
    }
}

/// One TLS session with one peer.
#[derive(Debug)]
pub(crate) struct Channel {
    side: Side,
    local_sid: SessionId,
    remote_sid: Option<SessionId>,
    wrap: Wrap,
    factory: TlsFactory,
    /// At most a few (the current key, one being negotiated, one retiring). Grown one at a time
    /// and shrunk when idle, so that an idle session holds one key state, not a vector's spare
    /// capacity of them (about 3 KiB each).
    keys: Vec<KeyState>,
    last_key_id: KeyId,
    params: Option<DataParams>,
    pub(crate) local: LocalInfo,
    timings: Timings,
    rng: Arc<dyn Random>,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<ChannelEvent>,
    /// Send P_DATA_V2 with this peer id (None: P_DATA_V1).
    pub(crate) tx_peer_id: Option<PeerId>,
    last_rx: Instant,
    last_tx: Instant,
    /// Keepalive: send a ping after this much silence from us.
    pub(crate) ping_interval: Option<Duration>,
    /// Keepalive: give up after this much silence from the peer.
    pub(crate) ping_timeout: Option<Duration>,
    failed: bool,
    clock: crate::tls_config::SessionClock,
    pub(crate) traffic: Traffic,
    /// The send counter passed the wrap trigger: renegotiate at the next timer.
    reneg_due: bool,
    /// How payloads are framed for compression (agreed, configured or pushed).
    pub(crate) framing: Framing,
    /// In ip mode with no framing agreed: adopt the peer's framing from its first framed packet
    /// (no IP packet looks like one).
    pub(crate) recognise_framing: bool,
    /// A tls-crypt-v2 client whose server asked (early negotiation) for WKc again: message 1
    /// of key 0 goes as `P_CONTROL_WKC_V1`.
    resend_wkc: bool,
}

impl Channel {
    /// A new session. A client queues its hard reset at once; a server is created from the client's
    /// reset (see [`Channel::accept`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        now: Instant,
        clock: crate::tls_config::SessionClock,
        side: Side,
        wrap: Wrap,
        factory: TlsFactory,
        local: LocalInfo,
        timings: Timings,
        rng: Arc<dyn Random>,
    ) -> Result<Self, DisconnectReason> {
        let mut sid: [u8; 8] = array(rng.as_ref());
        if sid == [0; 8] {
            sid[0] = 1; // a session id must be "defined" (non-zero), session_id.h
        }
        let mut ch = Self {
            side,
            local_sid: SessionId(sid),
            remote_sid: None,
            wrap,
            factory,
            keys: Vec::new(),
            last_key_id: KeyId::ZERO,
            params: None,
            local,
            timings,
            rng,
            out: VecDeque::new(),
            events: VecDeque::new(),
            tx_peer_id: None,
            last_rx: now,
            last_tx: now,
            ping_interval: None,
            ping_timeout: None,
            failed: false,
            clock,
            traffic: Traffic::default(),
            reneg_due: false,
            framing: Framing::None,
            recognise_framing: false,
            resend_wkc: false,
        };
        if side == Side::Client {
            let reset = if ch.wrap.is_v2_client() {
                // tls-crypt-v2 with early negotiation: the reset's packet id says we can resend
                // WKc (`ssl.c` `tls_session_init`: the counter starts at EARLY_NEG_START).
                let unix = ch.unix_time(now) as u32;
                ch.wrap.set_send_counter(crate::wrap::EARLY_NEG_START, unix);
                Opcode::HardResetClientV3
            } else {
                Opcode::HardResetClientV2
            };
            ch.new_key_state(now, KeyId::ZERO, reset)?;
        }
        Ok(ch)
    }

    /// Test hook: restarts the control channel's packet ids, so a tls-crypt-v2 client's reset
    /// looks like one from before early negotiation (ids from 1).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn restart_wrap_counter(&mut self) {
        self.wrap.set_send_counter(0, 0);
    }

    /// The peer's session id, once known.
    pub(crate) fn remote_session_id(&self) -> Option<SessionId> {
        self.remote_sid
    }

    /// Server side, over UDP: the session starts where a stateless server's cookie exchange
    /// left it (`ssl.c` `session_skip_to_pre_start`). Our session id is the `cookie`, the
    /// client's is `client_sid`; both resets were sent and acknowledged, so the next message
    /// ids are 1 both ways; our answer used control-channel packet id 1, so the next is 2.
    pub(crate) fn resume_from_cookie(
        &mut self,
        now: Instant,
        cookie: SessionId,
        client_sid: SessionId,
    ) -> Result<(), DisconnectReason> {
        if self.side != Side::Server || !self.keys.is_empty() {
            return Err(DisconnectReason::Protocol(
                "a session resumes from a cookie only before it starts".into(),
            ));
        }
        self.local_sid = cookie;
        self.remote_sid = Some(client_sid);
        self.new_key_state(now, KeyId::ZERO, Opcode::HardResetServerV2)?;
        if let Some(ks) = self.keys.first_mut() {
            ks.reliable.skip_handshake();
        }
        let unix = self.unix_time(now) as u32;
        self.wrap.set_send_counter(1, unix);
        self.last_rx = now;
        Ok(())
    }

    fn unix_time(&self, now: Instant) -> u64 {
        self.clock.unix_at(now)
    }

    fn new_key_state(
        &mut self,
        now: Instant,
        key_id: KeyId,
        reset: Opcode,
    ) -> Result<(), DisconnectReason> {
        let tls = self.factory.connect().map_err(DisconnectReason::Tls)?;
        let mut local = KeySource {
            pre_master: None,
            random1: array(self.rng.as_ref()),
            random2: array(self.rng.as_ref()),
        };
        if self.side == Side::Client {
            local.pre_master = Some(array(self.rng.as_ref()));
        }
        let mut reliable = Reliable::new(self.timings.tls_timeout);
        reliable.send(Msg {
            opcode: reset,
            payload: Bytes::new(),
        });
        self.keys.reserve_exact(1);
        self.keys.push(KeyState {
            key_id,
            reliable,
            tls,
            plain_in: Vec::new(),
            splitter: MessageSplitter::default(),
            local,
            remote: None,
            km2_sent: false,
            km2_received: false,
            data: None,
            deadline: now + self.timings.hand_window,
            established: None,
            retire_at: None,
        });
        self.last_key_id = key_id;
        // Keep at most three states: the one negotiating, the current and one lame duck.
        while self.keys.len() > 3 {
            self.keys.remove(0);
        }
        Ok(())
    }

    fn fail(&mut self, reason: DisconnectReason) {
        if !self.failed {
            self.failed = true;
            tracing::debug!(%reason, "session failed");
            self.events.push_back(ChannelEvent::Failed(reason));
        }
    }

    /// Starts a renegotiation (soft reset) from our side.
    pub(crate) fn renegotiate(&mut self, now: Instant) {
        if self.failed || self.negotiating() {
            return;
        }
        let next = self.last_key_id.next();
        if let Err(e) = self.new_key_state(now, next, Opcode::SoftResetV1) {
            self.fail(e);
        }
    }

    /// Whether a key state is still negotiating.
    fn negotiating(&self) -> bool {
        self.keys.iter().any(|k| k.data.is_none())
    }

    /// Takes a control packet (any opcode but data) from the peer.
    pub(crate) fn handle_control(
        &mut self,
        now: Instant,
        datagram: &[u8],
    ) -> Result<(), DropReason> {
        if self.failed {
            return Err(DropReason::NotReady);
        }
        let plain = self
            .wrap
            .unwrap(now, datagram)
            .ok_or(DropReason::BadControlAuth)?;
        let pkt = ControlPacket::parse(&plain)?;
        let wrong_role = match self.side {
            Side::Client => matches!(
                pkt.opcode,
                Opcode::HardResetClientV2 | Opcode::HardResetClientV3 | Opcode::ControlWkcV1
            ),
            Side::Server => pkt.opcode == Opcode::HardResetServerV2,
        };
        if wrong_role {
            return Err(DropReason::WrongRole);
        }
        match self.remote_sid {
            Some(r) if r != pkt.session_id => {
                // A server restarted (new session id) while we still talk to the old one.
                return Err(DropReason::SessionMismatch);
            }
            Some(_) => {}
            None => {
                if !pkt.opcode.is_hard_reset() {
                    return Err(DropReason::SessionMismatch);
                }
                self.remote_sid = Some(pkt.session_id);
            }
        }
        if pkt.remote_session_id.is_some_and(|r| r != self.local_sid) {
            return Err(DropReason::SessionMismatch);
        }
        let kid = pkt.key_id;
        let idx = match self.keys.iter().position(|k| k.key_id == kid) {
            Some(i) => i,
            None if pkt.opcode == Opcode::SoftResetV1 && !self.negotiating() => {
                // The peer renegotiates: answer with our own soft reset for that key id.
                if let Err(e) = self.new_key_state(now, kid, Opcode::SoftResetV1) {
                    self.fail(e);
                    return Ok(());
                }
                self.keys.len() - 1
            }
            None if self.side == Side::Server
                && pkt.opcode.is_hard_reset()
                && kid == KeyId::ZERO
                && self.keys.is_empty() =>
            {
                if let Err(e) = self.new_key_state(now, kid, Opcode::HardResetServerV2) {
                    self.fail(e);
                    return Ok(());
                }
                0
            }
            None => return Err(DropReason::UnknownKeyId(kid.get())),
        };
        self.last_rx = now;
        let ks = &mut self.keys[idx];
        ks.reliable.handle_acks(now, pkt.acks.as_slice());
        if let Some(id) = pkt.message_id {
            ks.reliable.receive(
                id,
                Msg {
                    opcode: pkt.opcode,
                    payload: Bytes::copy_from_slice(pkt.payload),
                },
            );
        }
        self.progress(now, idx);
        Ok(())
    }

    /// Feeds delivered messages to TLS and moves the key exchange on.
    fn progress(&mut self, now: Instant, idx: usize) {
        let side = self.side;
        let wkc_len = self.wrap.wkc_len();
        let mut resend_wkc = false;
        let mut events = Vec::new();
        let result = (|| -> Result<(), DisconnectReason> {
            let ks = &mut self.keys[idx];
            while let Some(msg) = ks.reliable.poll_received() {
                match msg.opcode {
                    Opcode::ControlV1 | Opcode::ControlWkcV1 => {
                        let was_handshaking = ks.tls.is_handshaking();
                        ks.tls
                            .feed(&msg.payload, &mut ks.plain_in)
                            .map_err(DisconnectReason::Tls)?;
                        if was_handshaking && !ks.tls.is_handshaking() {
                            events.push(ChannelEvent::TlsEstablished {
                                key_id: ks.key_id,
                                description: ks.tls.describe(),
                                common_name: ks.tls.peer_common_name(),
                            });
                        }
                    }
                    // A server's reset may carry early negotiation (tls-crypt-v2 clients only
                    // ask for it); the client's carries nothing we read.
                    Opcode::HardResetServerV2
                        if side == Side::Client && !msg.payload.is_empty() =>
                    {
                        let neg = crate::early_neg::parse(&msg.payload)
                            .map_err(|e| DisconnectReason::Protocol(e.to_string()))?;
                        if neg.resend_wkc && ks.key_id == KeyId::ZERO && wkc_len.is_some() {
                            resend_wkc = true;
                        }
                    }
                    _ => {}
                }
            }
            // The client speaks first once TLS is up; the server answers the client's record
            // once its logic has chosen the options ([`Channel::send_key_method`]).
            #[cfg(feature = "fuzzing")]
            let held = self.local.hold_key_method;
            #[cfg(not(feature = "fuzzing"))]
            let held = false;
            if ks.tls_done() && !ks.km2_sent && side == Side::Client && !held {
                write_km2(ks, &self.local, side)?;
            }
            if !ks.km2_received && ks.tls_done() {
                match KeyMethod2::parse(&ks.plain_in, side == Side::Server)
                    .map_err(|e| DisconnectReason::KeyExchange(e.to_string()))?
                {
                    Parsed::Partial => {}
                    Parsed::Complete(km2, used) => {
                        ks.plain_in.drain(..used);
                        ks.km2_received = true;
                        ks.remote = Some(km2.source.clone());
                        events.push(ChannelEvent::PeerKeyMethod {
                            key_id: ks.key_id,
                            km2,
                        });
                    }
                }
            }
            if ks.km2_received && !ks.plain_in.is_empty() {
                ks.splitter.push(&ks.plain_in);
                ks.plain_in = Vec::new();
            }
            while let Some(m) = ks.splitter.next_message() {
                events.push(ChannelEvent::Message(m));
            }
            Ok(())
        })();
        self.resend_wkc |= resend_wkc;
        self.events.extend(events);
        if let Err(e) = result {
            self.fail(e);
            return;
        }
        self.try_install_keys(now, idx);
    }

    /// Server side: answers the client's key-method-2 record of key state `key_id` with ours,
    /// carrying `options` (the options string for the data channel chosen for this client).
    pub(crate) fn send_key_method(&mut self, now: Instant, key_id: KeyId, options: &str) {
        self.local.options = options.to_owned();
        let Some(idx) = self.keys.iter().position(|k| k.key_id == key_id) else {
            return;
        };
        let ks = &mut self.keys[idx];
        if ks.km2_sent || !ks.km2_received {
            return;
        }
        if let Err(e) = write_km2(ks, &self.local, self.side) {
            self.fail(e);
            return;
        }
        self.try_install_keys(now, idx);
    }

    /// Sets the data-channel parameters (after negotiation) and installs keys where possible.
    pub(crate) fn set_data_params(&mut self, now: Instant, params: DataParams) {
        self.params = Some(params);
        for i in 0..self.keys.len() {
            self.try_install_keys(now, i);
        }
    }

    /// The negotiated data-channel parameters.
    pub(crate) fn data_params(&self) -> Option<DataParams> {
        self.params
    }

    fn try_install_keys(&mut self, now: Instant, idx: usize) {
        let Some(params) = self.params else { return };
        let Some(remote_sid) = self.remote_sid else {
            return;
        };
        let (client_sid, server_sid) = match self.side {
            Side::Client => (self.local_sid, remote_sid),
            Side::Server => (remote_sid, self.local_sid),
        };
        let side = self.side;
        let seed = array::<32>(self.rng.as_ref());
        let ks = &mut self.keys[idx];
        if ks.data.is_some() || !ks.km2_sent || !ks.km2_received || !ks.tls_done() {
            return;
        }
        let Some(remote) = &ks.remote else { return };
        let block = if params.ekm {
            match ks.tls.export_key_block(ovpn_crypto::EKM_LABEL.as_bytes()) {
                Ok(b) => KeyBlock::from_ekm(b),
                Err(e) => {
                    self.fail(DisconnectReason::KeyExchange(format!(
                        "TLS keying-material export failed: {e}"
                    )));
                    return;
                }
            }
        } else {
            let (client, server) = match side {
                Side::Client => (&ks.local, remote),
                Side::Server => (remote, &ks.local),
            };
            let Some(pre_master) = &client.pre_master else {
                return;
            };
            KeyBlock::from_prf(
                pre_master,
                &client.random1,
                &server.random1,
                &client.random2,
                &server.random2,
                &client_sid.0,
                &server_sid.0,
            )
        };
        let role = match side {
            Side::Client => ovpn_crypto::Role::Client,
            Side::Server => ovpn_crypto::Role::Server,
        };
        match DataKeys::new(params.cipher, params.digest, &block, role, seed) {
            Ok(k) => {
                ks.data = Some(k);
                ks.established = Some(now);
                let key_id = ks.key_id;
                // Older keys become lame ducks: they still decrypt for tran-window.
                for old in &mut self.keys[..idx] {
                    old.retire_at.get_or_insert(now + self.timings.tran_window);
                }
                self.events
                    .push_back(ChannelEvent::KeysInstalled { key_id });
            }
            Err(e) => self.fail(DisconnectReason::KeyExchange(format!(
                "cannot set up the data channel: {e}"
            ))),
        }
    }

    /// Sends a control message (text; a NUL is added) on the newest key state whose TLS is up.
    pub(crate) fn send_message(&mut self, text: &str) {
        let Some(ks) = self.keys.iter_mut().rev().find(|k| k.tls_done()) else {
            tracing::debug!(text, "no TLS session to send a control message on");
            return;
        };
        let mut buf = Vec::with_capacity(text.len() + 1);
        encode_message(text, &mut buf);
        ks.tls.write_plaintext(&buf);
    }

    /// Takes the next event.
    pub(crate) fn poll_event(&mut self) -> Option<ChannelEvent> {
        self.events.pop_front()
    }

    /// Turns pending TLS output, retransmissions and acknowledgements into packets.
    fn flush(&mut self, now: Instant) {
        let max_payload = TLS_MTU - CONTROL_OVERHEAD - self.wrap.overhead();
        let unix = self.unix_time(now) as u32;
        for i in 0..self.keys.len() {
            // TLS may only speak once our reset was acknowledged (S_PRE_START -> S_START).
            let ks = &mut self.keys[i];
            // tls-crypt-v2 early negotiation: message 1 of key 0 carries WKc again, as a
            // P_CONTROL_WKC_V1 that fits the packet size with it (`ssl.c`
            // `control_packet_needs_wkc`).
            let wkc =
                (self.resend_wkc && ks.key_id == KeyId::ZERO && ks.reliable.next_send_id() == 1)
                    .then_some(self.wrap.wkc_len())
                    .flatten();
            if ks.reliable.is_acked(0) {
                let mut ct = Vec::new();
                ks.tls.take_ciphertext(&mut ct);
                let mut rest = &ct[..];
                if let Some(w) = wkc
                    && !rest.is_empty()
                {
                    // 2.6 sends at least 16 bytes even when a large WKc leaves less room.
                    let (first, after) =
                        rest.split_at(rest.len().min(max_payload.saturating_sub(w).max(16)));
                    ks.reliable.send(Msg {
                        opcode: Opcode::ControlWkcV1,
                        payload: Bytes::copy_from_slice(first),
                    });
                    rest = after;
                }
                for chunk in rest.chunks(max_payload) {
                    ks.reliable.send(Msg {
                        opcode: Opcode::ControlV1,
                        payload: Bytes::copy_from_slice(chunk),
                    });
                }
            }
            // Only an acknowledgement is due where WKc must go: an empty P_CONTROL_WKC_V1
            // carries both (and is retransmitted until acknowledged, unlike a bare ACK).
            if wkc.is_some() && ks.reliable.next_send_id() == 1 && ks.reliable.has_acks() {
                ks.reliable.send(Msg {
                    opcode: Opcode::ControlWkcV1,
                    payload: Bytes::new(),
                });
            }
            let key_id = ks.key_id;
            let mut packets = Vec::new();
            while let Some((id, msg)) = self.keys[i].reliable.poll_transmit(now) {
                let mut acks = Vec::new();
                if self.remote_sid.is_some() {
                    self.keys[i]
                        .reliable
                        .take_acks_and_recent(MAX_ACKS, &mut acks);
                }
                let mut pkt =
                    ControlPacket::new(msg.opcode, key_id, self.local_sid, id, &msg.payload);
                if let (Some(r), Ok(list)) = (self.remote_sid, AckList::from_slice(&acks)) {
                    pkt = pkt.with_acks(list, r);
                }
                packets.push(encode(&pkt));
            }
            if let Some(r) = self.remote_sid {
                while self.keys[i].reliable.has_acks() {
                    let mut acks = Vec::new();
                    self.keys[i].reliable.take_acks(MAX_ACKS, &mut acks);
                    if let Ok(list) = AckList::from_slice(&acks) {
                        packets.push(encode(&ControlPacket::ack(key_id, self.local_sid, list, r)));
                    }
                }
            }
            for p in packets.into_iter().flatten() {
                if let Some(w) = self.wrap.wrap(&p, unix) {
                    self.out.push_back(w);
                    self.last_tx = now;
                }
            }
        }
    }

    /// The next packet to send (without TCP framing).
    pub(crate) fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.out.is_empty() && !self.failed {
            self.flush(now);
        }
        let p = self.out.pop_front();
        if p.is_none() {
            self.release_idle();
        }
        p
    }

    /// Gives back the memory of empty queues and buffers: between bursts of control traffic an
    /// established session keeps only its state (a server holds thousands of them).
    fn release_idle(&mut self) {
        if self.out.capacity() > 0 {
            self.out = VecDeque::new();
        }
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
        if self.keys.capacity() > self.keys.len() {
            self.keys.shrink_to_fit();
        }
        for ks in &mut self.keys {
            ks.reliable.release_idle();
            ks.splitter.release_idle();
            if ks.plain_in.is_empty() && ks.plain_in.capacity() > 0 {
                ks.plain_in = Vec::new();
            }
        }
    }

    /// Timers: retransmissions, handshake deadlines, key retirement, renegotiation, keepalive.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.failed {
            return;
        }
        if let Some(k) = self
            .keys
            .iter()
            .find(|k| k.data.is_none() && now >= k.deadline)
        {
            let first = k.key_id == KeyId::ZERO;
            if first {
                self.fail(DisconnectReason::HandshakeTimeout);
                return;
            }
            // A failed renegotiation: drop that key state and keep the current key.
            tracing::warn!(key_id = k.key_id.get(), "renegotiation timed out");
            let kid = k.key_id;
            self.keys.retain(|k| k.key_id != kid);
        }
        self.keys
            .retain(|k| k.retire_at.is_none_or(|t| now < t) || k.data.is_none());
        if let (Some(reneg), Some(est)) = (
            self.timings.reneg,
            self.current().and_then(|k| k.established),
        ) && crate::config::elapsed(now, est, reneg)
        {
            self.renegotiate(now);
        }
        if core::mem::take(&mut self.reneg_due)
            && self.current().is_some_and(|k| {
                k.data
                    .as_ref()
                    .is_some_and(ovpn_crypto::DataKeys::needs_renegotiation)
            })
        {
            tracing::info!(target: "ovpn", "data channel packet ids near exhaustion: renegotiating");
            self.renegotiate(now);
        }
        if let Some(t) = self.ping_timeout
            && crate::config::elapsed(now, self.last_rx, t)
        {
            self.fail(DisconnectReason::PingRestart);
            return;
        }
        if let Some(p) = self.ping_interval
            && crate::config::elapsed(now, self.last_tx, p)
        {
            self.send_data_payload(now, &PING_MAGIC);
        }
    }

    /// The next time [`Channel::handle_timeout`] has something to do.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.failed {
            return None;
        }
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |t: Instant| t.min(x)));
        for k in &self.keys {
            if let Some(r) = k.reliable.next_timeout() {
                at(r);
            }
            if k.data.is_none() {
                at(k.deadline);
            }
            if let Some(r) = k.retire_at {
                at(r);
            }
        }
        if let (Some(reneg), Some(est)) = (
            self.timings.reneg,
            self.current().and_then(|k| k.established),
        ) && let Some(t) = crate::config::later(est, reneg)
        {
            at(t);
        }
        if self.reneg_due {
            at(self.last_tx);
        }
        if let Some(t) = self
            .ping_timeout
            .and_then(|p| crate::config::later(self.last_rx, p))
        {
            at(t);
        }
        if self.current().is_some()
            && let Some(t) = self
                .ping_interval
                .and_then(|p| crate::config::later(self.last_tx, p))
        {
            at(t);
        }
        t
    }

    /// The key state we send data with: the newest one with keys.
    /// The certificate chain the peer presented in its latest completed handshake (end entity
    /// first).
    pub(crate) fn peer_chain(&self) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.tls_done())
            .and_then(|k| k.tls.peer_chain())
    }

    fn current(&self) -> Option<&KeyState> {
        self.keys.iter().rev().find(|k| k.data.is_some())
    }

    /// Data-channel overhead before and after the payload (header included).
    pub(crate) fn overhead(&self) -> Option<(usize, usize)> {
        let k = self.current()?.data.as_ref()?;
        let o = k.overhead();
        Some((self.header_len() + o.head, o.tail))
    }

    fn header_len(&self) -> usize {
        if self.tx_peer_id.is_some() {
            DataHeader::V2_LEN
        } else {
            DataHeader::V1_LEN
        }
    }

    /// Seals `buf[start..start + len]` in place: the header and crypto head go in the `head`
    /// bytes before `start`, the tail after. Returns the packet's range in `buf`.
    pub(crate) fn seal(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Range<usize>, crate::EncapError> {
        let framed = self
            .framing
            .frame(buf, start, len)
            .ok_or(crate::EncapError::BufferTooSmall { needed: 2 })?;
        let (start, len) = (framed.start, framed.len());
        let header_len = self.header_len();
        let header = match self.tx_peer_id {
            Some(peer_id) => DataHeader::V2 {
                key_id: KeyId::ZERO,
                peer_id,
            },
            None => DataHeader::V1 {
                key_id: KeyId::ZERO,
            },
        };
        let Some(ks) = self.keys.iter_mut().rev().find(|k| k.data.is_some()) else {
            return Err(crate::EncapError::NotConnected);
        };
        let key_id = ks.key_id;
        let Some(keys) = ks.data.as_mut() else {
            return Err(crate::EncapError::NotConnected);
        };
        let o = keys.overhead();
        let head = header_len + o.head;
        if start < head {
            return Err(crate::EncapError::BufferTooSmall {
                needed: head - start,
            });
        }
        if buf.len() < start + len + o.tail {
            return Err(crate::EncapError::BufferTooSmall {
                needed: start + len + o.tail - buf.len(),
            });
        }
        let pkt_start = start - head;
        let header = match header {
            DataHeader::V2 { peer_id, .. } => DataHeader::V2 { key_id, peer_id },
            DataHeader::V1 { .. } => DataHeader::V1 { key_id },
        };
        let packet = &mut buf[pkt_start..];
        header
            .write(packet)
            .map_err(|_| crate::EncapError::BufferTooSmall { needed: header_len })?;
        let n = keys
            .seal(packet, header_len, len)
            .map_err(|_| crate::EncapError::NotConnected)?;
        // Near packet-id exhaustion: renegotiate at the next timer (which is now), not here, so
        // that sealing never allocates.
        self.reneg_due |= keys.needs_renegotiation();
        self.last_tx = now;
        Ok(pkt_start..pkt_start + n)
    }

    /// Whether the send counter passed the wrap trigger and a renegotiation is due.
    pub(crate) fn reneg_due(&self) -> bool {
        self.reneg_due
    }

    /// Moves the current key's send counter forward (simulation hook, see
    /// `ovpn_crypto::DataKeys::advance_send_packet_id`).
    #[cfg(feature = "sim")]
    pub(crate) fn advance_send_packet_id(&mut self, last_id: u32) {
        if let Some(k) = self.keys.iter_mut().rev().find_map(|k| k.data.as_mut()) {
            k.advance_send_packet_id(last_id);
        }
    }

    /// Sends a data-channel payload generated by us (ping, OCC) as a queued packet.
    fn send_data_payload(&mut self, now: Instant, payload: &[u8]) {
        let Some((head, tail)) = self.overhead() else {
            return;
        };
        let (head, tail) = (head + FRAMING_HEAD, tail + 1);
        let mut buf = vec![0u8; head + payload.len() + tail];
        buf[head..head + payload.len()].copy_from_slice(payload);
        if let Ok(r) = self.seal(now, &mut buf, head, payload.len()) {
            self.out.push_back(buf[r].to_vec());
        }
    }

    /// Sends OCC EXIT on the data channel (explicit-exit-notify without cc-exit).
    pub(crate) fn send_occ_exit(&mut self, now: Instant) {
        let mut p = [0u8; 17];
        if let Ok(n) = OccMessage::Exit.write(&mut p) {
            self.send_data_payload(now, &p[..n]);
        }
    }

    /// Opens a data packet in place. `Ok(Some(range))` is an IP packet (or frame) for the tunnel;
    /// `Ok(None)` was a keepalive or OCC message, consumed. A packet dropped is counted
    /// ([`Traffic::dropped_in`]).
    pub(crate) fn open(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Range<usize>>, DropReason> {
        let r = self.open_uncounted(now, buf);
        if r.is_err() {
            self.traffic.dropped_in += 1;
        }
        r
    }

    fn open_uncounted(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Range<usize>>, DropReason> {
        if self.failed {
            return Err(DropReason::NotReady);
        }
        let header = DataHeader::parse(buf)?;
        let (key_id, header_len) = match header {
            DataHeader::V1 { key_id } => (key_id, DataHeader::V1_LEN),
            DataHeader::V2 { key_id, .. } => (key_id, DataHeader::V2_LEN),
        };
        let ks = self
            .keys
            .iter_mut()
            .find(|k| k.key_id == key_id && k.data.is_some())
            .ok_or(DropReason::UnknownKeyId(key_id.get()))?;
        let keys = ks.data.as_mut().ok_or(DropReason::NotReady)?;
        let range = keys.open(now, buf, header_len).map_err(|e| match e {
            ovpn_crypto::CryptoError::Replay(_) => DropReason::Replay,
            _ => DropReason::DecryptFailed,
        })?;
        self.last_rx = now;
        if self.recognise_framing
            && let Some(f) = buf
                .get(range.start)
                .and_then(|&b| self.framing.recognise(b))
        {
            tracing::info!(target: "ovpn", "the peer's compression framing is {}, not {}: framing ours the same way", f.name(), self.framing.name());
            self.framing = f;
        }
        let range = match self.framing.unframe(buf, range) {
            Ok(r) => r,
            Err(Compressed(what)) => {
                self.fail(DisconnectReason::Compressed(what.to_owned()));
                return Err(DropReason::Compressed);
            }
        };
        let payload = &buf[range.clone()];
        if ovpn_wire::is_ping(payload) {
            return Ok(None);
        }
        if ovpn_wire::is_occ(payload) {
            if matches!(OccMessage::parse(payload), Ok(OccMessage::Exit)) {
                self.events.push_back(ChannelEvent::OccExit);
            }
            return Ok(None);
        }
        self.traffic.packets_in += 1;
        self.traffic.bytes_in += range.len() as u64;
        Ok(Some(range))
    }
}

fn write_km2(ks: &mut KeyState, local: &LocalInfo, side: Side) -> Result<(), DisconnectReason> {
    let km2 = KeyMethod2 {
        source: ks.local.clone(),
        options: local.options.clone(),
        username: if side == Side::Client {
            local.username.clone()
        } else {
            String::new()
        },
        password: if side == Side::Client {
            local.password.clone()
        } else {
            Zeroizing::new(String::new())
        },
        peer_info: if side == Side::Client {
            local.peer_info.clone()
        } else {
            String::new()
        },
    };
    let mut buf = Zeroizing::new(Vec::new());
    km2.write(&mut buf)
        .map_err(|e| DisconnectReason::KeyExchange(e.to_string()))?;
    ks.tls.write_plaintext(&buf);
    ks.km2_sent = true;
    Ok(())
}

fn encode(pkt: &ControlPacket<'_>) -> Option<Vec<u8>> {
    let mut v = vec![0u8; pkt.encoded_len()];
    match pkt.write(&mut v) {
        Ok(n) => {
            v.truncate(n);
            Some(v)
        }
        Err(e) => {
            tracing::warn!("cannot encode a control packet: {e}");
            None
        }
    }
}
