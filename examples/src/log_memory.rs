//! The in-memory log (RouterOS's `memory` action): the last lines, for `/log print`, and the
//! rules that choose them (`/system logging`).
//!
//! RouterOS's default rules send `info`, `warning` and `error` lines of every topic to memory and
//! keep the last 1000 (`/system logging action memory-lines`). A rule names topics
//! (`ovpn,ppp`, `ovpn,!debug`): a line goes to memory when some enabled rule's topics are all
//! among the line's (its topic and its level), and none of its `!` topics is. The lines are the
//! ones the program logs on stderr, in the same words: time, topics (`ovpn,info`) and message
//! (after the rule's `prefix`, if it has one). `debug` lines exist only when the program runs
//! with `-v`.

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

/// A `/system logging` rule with `action=memory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its topics; `!topic` excludes.
    pub topics: Vec<String>,
    /// Put before the message.
    pub prefix: String,
    /// `disabled=yes`.
    pub disabled: bool,
    /// One of RouterOS's default rules (these can be disabled, not removed).
    pub default: bool,
}

impl Rule {
    /// A rule for `topics` (comma-separated, `!` to exclude): refused when empty or when a
    /// topic is not a word.
    pub fn new(topics: &str, prefix: &str) -> Result<Self, String> {
        let topics: Vec<String> = topics
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if topics.is_empty() {
            return Err("topics: expected one topic at least (ovpn, ppp, info, ...)".into());
        }
        if let Some(bad) = topics.iter().find(|t| {
            let w = t.strip_prefix('!').unwrap_or(t);
            w.is_empty() || !w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }) {
            return Err(format!("topics: {bad:?} is not a topic"));
        }
        Ok(Self {
            topics,
            prefix: prefix.to_owned(),
            disabled: false,
            default: false,
        })
    }

    /// Whether a line of `topics` (its topic and its level) matches.
    pub fn matches(&self, line_topics: &[&str]) -> bool {
        !self.disabled
            && self.topics.iter().all(|t| match t.strip_prefix('!') {
                Some(not) => !line_topics.contains(&not),
                None => line_topics.contains(&t.as_str()),
            })
    }
}

/// RouterOS's default memory rules: `info`, `error`, `warning`.
pub fn default_rules() -> Vec<Rule> {
    ["info", "error", "warning"]
        .into_iter()
        .map(|t| Rule {
            default: true,
            ..Rule::new(t, "").unwrap_or_else(|_| unreachable!())
        })
        .collect()
}

static RULES: Mutex<Vec<Rule>> = Mutex::new(Vec::new());
static RULES_SET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The rules in use, in order.
pub fn rules() -> Vec<Rule> {
    if !RULES_SET.load(std::sync::atomic::Ordering::SeqCst) {
        return default_rules();
    }
    RULES.lock().map(|r| r.clone()).unwrap_or_default()
}

/// Changes the rules: `change` gets them and may refuse (then nothing changes).
pub fn change_rules(
    change: impl FnOnce(&mut Vec<Rule>) -> Result<(), String>,
) -> Result<(), String> {
    let mut rules = rules();
    change(&mut rules)?;
    let mut r = RULES.lock().map_err(|_| "the logging rules are unusable")?;
    *r = rules;
    RULES_SET.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// The lines kept at most (`memory-lines`).
pub fn max_lines() -> usize {
    RING.lock().map(|r| r.max).unwrap_or(DEFAULT_LINES)
}

/// Keeps at most `n` lines (`/system logging action set memory memory-lines=N`), dropping the
/// oldest beyond.
pub fn set_max_lines(n: usize) {
    if let Ok(mut r) = RING.lock() {
        r.max = n;
        while r.lines.len() > n {
            r.lines.pop_front();
        }
    }
}

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

/// The layer that keeps the lines the rules choose.
#[derive(Debug, Clone, Copy)]
pub struct MemoryLayer {
    /// The local time offset.
    pub offset: time::UtcOffset,
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for MemoryLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > Level::DEBUG {
            return;
        }
        let (topic, level) = (
            crate::logging::topic(meta.target()),
            crate::logging::level_word(meta.level()),
        );
        let Some(rule) = rules().into_iter().find(|r| r.matches(&[topic, level])) else {
            return;
        };
        let mut m = Message::default();
        if !rule.prefix.is_empty() {
            m.0.push_str(&rule.prefix);
            m.0.push(' ');
        }
        event.record(&mut m);
        push(Entry {
            time: time::OffsetDateTime::now_utc().to_offset(self.offset),
            topics: format!("{topic},{level}"),
            message: m.0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_as_routeros() {
        let r = Rule::new("ovpn,!debug", "").unwrap();
        assert!(r.matches(&["ovpn", "info"]));
        assert!(!r.matches(&["ovpn", "debug"]));
        assert!(!r.matches(&["ppp", "info"]));
        assert!(Rule::new("info", "").unwrap().matches(&["ppp", "info"]));
        assert!(Rule::new("", "").is_err());
        assert!(Rule::new("ovpn,bad topic", "").is_err());
        let mut off = Rule::new("ovpn", "").unwrap();
        off.disabled = true;
        assert!(!off.matches(&["ovpn", "info"]));
        assert_eq!(default_rules().len(), 3);
    }

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
