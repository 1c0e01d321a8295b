//! The in-memory log (RouterOS's `memory` action): the last lines, for `/log print`.
//!
//! RouterOS's default rules send `info`, `warning` and `error` lines of every topic to memory and
//! keep the last 1000. The lines are the ones the program logs on stderr, in the same words:
//! time, topics (`ovpn,info`) and message.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;

/// RouterOS's default number of lines kept (`/system logging action memory-lines`).
pub const DEFAULT_LINES: usize = 1000;

/// One logged line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// When, in local time.
    pub time: time::OffsetDateTime,
    /// Its topics: the topic and the level (`ovpn,info`).
    pub topics: String,
    /// The message.
    pub message: String,
}

#[derive(Debug)]
struct Ring {
    lines: VecDeque<Entry>,
    max: usize,
}

static RING: Mutex<Ring> = Mutex::new(Ring {
    lines: VecDeque::new(),
    max: DEFAULT_LINES,
});

/// Keeps `entry`, dropping the oldest line past the limit.
pub fn push(entry: Entry) {
    if let Ok(mut r) = RING.lock() {
        if r.max == 0 {
            return;
        }
        while r.lines.len() >= r.max {
            r.lines.pop_front();
        }
        r.lines.push_back(entry);
    }
}

/// The lines kept, oldest first.
pub fn lines() -> Vec<Entry> {
    RING.lock()
        .map(|r| r.lines.iter().cloned().collect())
        .unwrap_or_default()
}

/// `/log print`'s form of a line: ` HH:MM:SS topics message` for a line of `today` (a date,
/// local), with the date before the time otherwise.
pub fn format_line(e: &Entry, today: time::Date) -> String {
    let t = e.time;
    let mut s = String::with_capacity(e.message.len() + 32);
    if t.date() != today {
        let _ = write!(s, " {}", t.date());
    }
    let _ = write!(
        s,
        " {:02}:{:02}:{:02} {} {}",
        t.hour(),
        t.minute(),
        t.second(),
        e.topics,
        e.message
    );
    s
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

/// The layer that keeps `info`, `warning` and `error` lines (RouterOS's default memory rules).
#[derive(Debug, Clone, Copy)]
pub struct MemoryLayer {
    /// The local time offset.
    pub offset: time::UtcOffset,
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for MemoryLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > Level::INFO {
            return;
        }
        let mut m = Message::default();
        event.record(&mut m);
        push(Entry {
            time: time::OffsetDateTime::now_utc().to_offset(self.offset),
            topics: format!(
                "{},{}",
                crate::logging::topic(meta.target()),
                crate::logging::level_word(meta.level())
            ),
            message: m.0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_up_to_the_limit_and_printed_as_routeros() {
        let t = time::macros::datetime!(2026-12-06 12:00:01 UTC);
        let e = Entry {
            time: t,
            topics: "ovpn,info".into(),
            message: "ovpn-incoming1: connected".into(),
        };
        assert_eq!(
            format_line(&e, t.date()),
            " 12:00:01 ovpn,info ovpn-incoming1: connected"
        );
        assert_eq!(
            format_line(&e, time::macros::date!(2026 - 12 - 07)),
            " 2026-12-06 12:00:01 ovpn,info ovpn-incoming1: connected"
        );
    }
}
