//! Control-channel text messages: what travels in the TLS tunnel after the key-method-2 records.
//!
//! Each message is ASCII text followed by a NUL, written as one TLS record (forward.c
//! `send_control_channel_string_dowork`). The receiver splits the plaintext stream on NUL; since 2.6.11
//! a message without NUL, or with non-printable characters other than a trailing CR/LF, is dropped
//! (ssl_pkt.c `extract_command_buffer`).

use core::fmt;

/// The largest control message accepted; longer ones are dropped (OpenVPN reads at most
/// `TLS_CHANNEL_BUF_SIZE` = 2048 bytes per record, common.h).
pub const MAX_CONTROL_MESSAGE: usize = 2048;

/// `PUSH_BUNDLE_SIZE` (common.h): the budget of one PUSH_REPLY message. OpenVPN keeps a safety margin
/// of 84 bytes below it (push.c `send_push_options`); so do we.
pub const PUSH_BUNDLE_SIZE: usize = 1024;

/// A control message, classified by its prefix (forward.c `parse_incoming_control_channel_command`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlMessage {
    /// `PUSH_REQUEST` (client to server).
    PushRequest,
    /// `PUSH_REPLY,opt,opt,...`: the options text after `PUSH_REPLY` (without the leading comma).
    PushReply(String),
    /// `AUTH_FAILED[,reason]`.
    AuthFailed(Option<String>),
    /// `AUTH_PENDING[,args]`.
    AuthPending(Option<String>),
    /// `RESTART[,text]`: the server asks the client to reconnect.
    Restart(Option<String>),
    /// `HALT[,text]`: the server asks the client to stop.
    Halt(Option<String>),
    /// `EXIT`: the peer is shutting down (cc-exit).
    Exit,
    /// `INFO,text` or `INFO_PRE,text`.
    Info(String),
    /// Anything else, kept for the log.
    Unknown(String),
}

impl ControlMessage {
    /// Classifies one message's text (without its NUL).
    pub fn parse(text: &str) -> Self {
        let (head, rest) = match text.split_once(',') {
            Some((h, r)) => (h, Some(r.to_owned())),
            None => (text, None),
        };
        match head {
            "PUSH_REQUEST" => Self::PushRequest,
            "PUSH_REPLY" => Self::PushReply(rest.unwrap_or_default()),
            "AUTH_FAILED" => Self::AuthFailed(rest),
            "AUTH_PENDING" => Self::AuthPending(rest),
            "RESTART" => Self::Restart(rest),
            "HALT" => Self::Halt(rest),
            "EXIT" => Self::Exit,
            "INFO" | "INFO_PRE" => Self::Info(rest.unwrap_or_default()),
            _ => Self::Unknown(text.to_owned()),
        }
    }
}

impl fmt::Display for ControlMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |f: &mut fmt::Formatter<'_>, head: &str, rest: &Option<String>| match rest {
            Some(r) => write!(f, "{head},{r}"),
            None => f.write_str(head),
        };
        match self {
            Self::PushRequest => f.write_str("PUSH_REQUEST"),
            Self::PushReply(o) if o.is_empty() => f.write_str("PUSH_REPLY"),
            Self::PushReply(o) => write!(f, "PUSH_REPLY,{o}"),
            Self::AuthFailed(r) => opt(f, "AUTH_FAILED", r),
            Self::AuthPending(r) => opt(f, "AUTH_PENDING", r),
            Self::Restart(r) => opt(f, "RESTART", r),
            Self::Halt(r) => opt(f, "HALT", r),
            Self::Exit => f.write_str("EXIT"),
            Self::Info(t) => write!(f, "INFO,{t}"),
            Self::Unknown(t) => f.write_str(t),
        }
    }
}

/// Appends `msg` as a control message (text and NUL) to `out`.
pub fn encode_message(msg: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(msg.as_bytes());
    out.push(0);
}

/// Splits the TLS plaintext stream into NUL-terminated messages.
///
/// Bytes arrive in any split; a message is returned once its NUL has arrived. Messages with characters
/// OpenVPN would refuse are dropped (and counted), as are messages longer than
/// [`MAX_CONTROL_MESSAGE`].
#[derive(Debug, Default)]
pub struct MessageSplitter {
    buf: Vec<u8>,
    dropped: u64,
    overflowing: bool,
}

impl MessageSplitter {
    /// Gives back the buffer's memory when it holds nothing (between messages).
    pub fn release_idle(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.buf = Vec::new();
        }
    }

    /// Adds plaintext bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete, valid message, if any.
    pub fn next_message(&mut self) -> Option<String> {
        loop {
            let Some(nul) = self.buf.iter().position(|&b| b == 0) else {
                if self.buf.len() > MAX_CONTROL_MESSAGE {
                    // Too long: discard what we have and everything up to the next NUL.
                    self.buf.clear();
                    if !self.overflowing {
                        self.dropped += 1;
                        tracing::debug!("dropping an over-long control message");
                    }
                    self.overflowing = true;
                }
                return None;
            };
            let raw: Vec<u8> = self.buf.drain(..=nul).collect();
            if core::mem::take(&mut self.overflowing) {
                continue;
            }
            let mut text = &raw[..nul];
            while let [rest @ .., b'\r' | b'\n'] = text {
                text = rest;
            }
            if text.iter().all(|&c| (32..127).contains(&c)) {
                // All printable ASCII, hence valid UTF-8.
                return Some(String::from_utf8_lossy(text).into_owned());
            }
            self.dropped += 1;
            tracing::debug!(
                len = raw.len(),
                "dropping a control message with invalid characters"
            );
        }
    }

    /// How many messages were dropped as invalid.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Splits a list of pushed options into PUSH_REPLY messages within [`PUSH_BUNDLE_SIZE`], adding
/// `push-continuation 2` to all but the last and `push-continuation 1` to the last when more than one
/// message is needed (push.c `send_push_options`).
pub fn push_reply_messages(options: &[String]) -> Vec<String> {
    // Leave room for ",push-continuation 2" and OpenVPN's safety margin.
    let budget = PUSH_BUNDLE_SIZE - 84;
    let mut messages = Vec::new();
    let mut cur = String::from("PUSH_REPLY");
    for opt in options {
        if cur.len() + 1 + opt.len() > budget && cur.len() > "PUSH_REPLY".len() {
            cur.push_str(",push-continuation 2");
            messages.push(core::mem::replace(&mut cur, String::from("PUSH_REPLY")));
        }
        cur.push(',');
        cur.push_str(opt);
    }
    if !messages.is_empty() {
        cur.push_str(",push-continuation 1");
    }
    messages.push(cur);
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classifies_by_prefix() {
        assert_eq!(
            ControlMessage::parse("PUSH_REQUEST"),
            ControlMessage::PushRequest
        );
        assert_eq!(
            ControlMessage::parse("PUSH_REPLY,ping 10,peer-id 0"),
            ControlMessage::PushReply("ping 10,peer-id 0".into())
        );
        assert_eq!(
            ControlMessage::parse("AUTH_FAILED"),
            ControlMessage::AuthFailed(None)
        );
        assert_eq!(
            ControlMessage::parse("AUTH_FAILED,login incorrect"),
            ControlMessage::AuthFailed(Some("login incorrect".into()))
        );
        assert_eq!(ControlMessage::parse("EXIT"), ControlMessage::Exit);
        assert_eq!(
            ControlMessage::parse("RESTART,server shutdown"),
            ControlMessage::Restart(Some("server shutdown".into()))
        );
        assert_eq!(
            ControlMessage::parse("PUSH_REPLYX"),
            ControlMessage::Unknown("PUSH_REPLYX".into())
        );
        for m in [
            "PUSH_REQUEST",
            "PUSH_REPLY,a,b",
            "AUTH_FAILED,x",
            "EXIT",
            "HALT",
            "INFO,hello",
        ] {
            assert_eq!(ControlMessage::parse(m).to_string(), m);
        }
    }

    #[test]
    fn splitter_handles_any_split_and_drops_invalid() {
        let mut stream = Vec::new();
        encode_message("PUSH_REQUEST", &mut stream);
        stream.extend_from_slice(b"bad\x01text\0");
        encode_message("PUSH_REPLY,ping 10\r\n", &mut stream);
        for cut in 0..stream.len() {
            let mut s = MessageSplitter::default();
            let mut got = Vec::new();
            s.push(&stream[..cut]);
            got.extend(core::iter::from_fn(|| s.next_message()));
            s.push(&stream[cut..]);
            got.extend(core::iter::from_fn(|| s.next_message()));
            assert_eq!(got, ["PUSH_REQUEST", "PUSH_REPLY,ping 10"], "cut {cut}");
            assert_eq!(s.dropped(), 1);
        }
    }

    #[test]
    fn splitter_drops_over_long_messages_and_recovers() {
        let mut s = MessageSplitter::default();
        s.push(&[b'a'; MAX_CONTROL_MESSAGE + 10]);
        assert_eq!(s.next_message(), None);
        s.push(b"aaaa\0EXIT\0");
        assert_eq!(s.next_message().as_deref(), Some("EXIT"));
        assert_eq!(s.dropped(), 1);
    }

    #[test]
    fn long_pushes_are_continued() {
        let opts: Vec<String> = (0..100)
            .map(|i| format!("route 10.{i}.0.0 255.255.0.0"))
            .collect();
        let msgs = push_reply_messages(&opts);
        assert!(msgs.len() > 1);
        let mut seen = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            assert!(m.len() <= PUSH_BUNDLE_SIZE, "{}", m.len());
            let body = m.strip_prefix("PUSH_REPLY,").unwrap();
            let mut parts: Vec<&str> = body.split(',').collect();
            let cont = parts.pop().unwrap();
            let want = if i + 1 == msgs.len() {
                "push-continuation 1"
            } else {
                "push-continuation 2"
            };
            assert_eq!(cont, want);
            seen.extend(parts.into_iter().map(str::to_owned));
        }
        assert_eq!(seen, opts);
        assert_eq!(push_reply_messages(&[]), ["PUSH_REPLY"]);
    }

    proptest! {
        #[test]
        fn splitter_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..10)) {
            let mut s = MessageSplitter::default();
            for c in chunks {
                s.push(&c);
                while let Some(m) = s.next_message() {
                    prop_assert!(m.bytes().all(|b| (32..127).contains(&b)));
                }
            }
        }
    }
}
