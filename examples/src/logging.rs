//! Log lines in RouterOS's form, on stderr (and in memory for `/log print`: [`crate::log_memory`]): `HH:MM:SS TOPIC,LEVEL MESSAGE`, for example
//! `12:00:01 ovpn,info ovpn-incoming1: connected`.
//!
//! The libraries log with `tracing`, on the targets `ovpn` and `ppp` (RouterOS's topics); the
//! programs add `script` (configuration warnings) and `route`. Other targets are mapped to a topic
//! by their crate (`ovpn_pki` is `certificate`, `rustls` is `ovpn`, the rest `system`).
//!
//! Lines emitted during one turn of an event loop are held back ([`hold`]) and written when the
//! turn is over, so that what a line announces is in place when it appears: when a script sees
//! `ovpn-out1: connected`, the `ovpn-out1` interface exists and has its address and routes.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// RouterOS's topic for a `tracing` target.
pub fn topic(target: &str) -> &str {
    let krate = target.split("::").next().unwrap_or(target);
    match krate {
        "ovpn" | "ppp" | "script" | "route" | "certificate" | "interface" => krate,
        "ovpn_session" | "ovpn_wire" | "ovpn_crypto" | "rustls" | "ovpn_examples" => "ovpn",
        "ovpn_ppp" | "ovpn_pool" => "ppp",
        "ovpn_pki" | "webpki" => "certificate",
        "ovpn_tun" | "tun_rs" => "interface",
        _ => "system",
    }
}

/// RouterOS's word for a level (`info`, `warning`, `error`, `debug`).
pub fn level_word(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG | Level::TRACE => "debug",
    }
}

/// The prefix of a line: `HH:MM:SS TOPIC,LEVEL `.
pub fn prefix(hms: (u8, u8, u8), target: &str, level: &Level) -> String {
    let (h, m, s) = hms;
    format!(
        "{h:02}:{m:02}:{s:02} {},{} ",
        topic(target),
        level_word(level)
    )
}

struct RouterOsFormat {
    offset: time::UtcOffset,
}

impl RouterOsFormat {
    fn hms(&self) -> (u8, u8, u8) {
        let t = time::OffsetDateTime::now_utc().to_offset(self.offset);
        (t.hour(), t.minute(), t.second())
    }
}

impl<S, N> FormatEvent<S, N> for RouterOsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        writer.write_str(&prefix(self.hms(), meta.target(), meta.level()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

thread_local! {
    static HELD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// While alive, log lines of this thread are kept and written when the last guard is dropped.
#[derive(Debug)]
pub struct Hold(());

/// Holds this thread's log lines until the returned guard (and any outer one) is dropped.
pub fn hold() -> Hold {
    DEPTH.with(|d| d.set(d.get() + 1));
    Hold(())
}

impl Drop for Hold {
    fn drop(&mut self) {
        let depth = DEPTH.with(|d| {
            let n = d.get().saturating_sub(1);
            d.set(n);
            n
        });
        if depth == 0 {
            flush();
        }
    }
}

/// Writes the held lines of this thread now.
pub fn flush() {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if !h.is_empty() {
            let _ = io::stderr().lock().write_all(&h);
            h.clear();
        }
    });
}

/// The writer behind the log: stderr, or this thread's held lines while a [`Hold`] is alive.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeldStderr;

impl Write for HeldStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if DEPTH.with(Cell::get) > 0 {
            HELD.with(|h| h.borrow_mut().extend_from_slice(buf));
            Ok(buf.len())
        } else {
            io::stderr().lock().write_all(buf)?;
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for HeldStderr {
    type Writer = HeldStderr;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Which lines are shown: 0 is `info` and above, 1 (`-v`) adds `debug` from the ovpn crates, 2
/// (`-vv`) shows everything, TLS internals included.
pub fn filter(verbosity: u8) -> Targets {
    match verbosity {
        0 => Targets::new().with_default(LevelFilter::INFO),
        1 => Targets::new()
            .with_default(LevelFilter::DEBUG)
            .with_target("rustls", LevelFilter::INFO)
            .with_target("mio", LevelFilter::INFO),
        _ => Targets::new().with_default(LevelFilter::TRACE),
    }
}

/// Installs the global logger. Call it once, early (while the process has one thread, so that
/// the local time offset can be read; otherwise times are UTC).
pub fn init(verbosity: u8) {
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let fmt = tracing_subscriber::fmt::layer()
        .event_format(RouterOsFormat { offset })
        .with_writer(HeldStderr);
    // The memory log (`/log print`) keeps the lines its rules choose (`/system logging`; by
    // default info, warning and error, as RouterOS's), whatever stderr shows; debug lines
    // only with -v.
    let memory_level = if verbosity == 0 {
        LevelFilter::INFO
    } else {
        LevelFilter::DEBUG
    };
    let memory = crate::log_memory::MemoryLayer { offset }.with_filter(memory_level);
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter(verbosity)))
        .with(memory)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_routeros_form() {
        assert_eq!(
            prefix((12, 0, 1), "ovpn", &Level::INFO),
            "12:00:01 ovpn,info "
        );
        assert_eq!(
            prefix((9, 5, 0), "ppp", &Level::WARN),
            "09:05:00 ppp,warning "
        );
        assert_eq!(
            prefix((23, 59, 59), "ovpn_pki::store", &Level::DEBUG),
            "23:59:59 certificate,debug "
        );
        assert_eq!(topic("rustls::conn"), "ovpn");
        assert_eq!(topic("something_else"), "system");
        assert_eq!(level_word(&Level::ERROR), "error");
    }

    #[test]
    fn held_lines_wait_for_the_last_guard() {
        let outer = hold();
        {
            let _inner = hold();
            let _ = HeldStderr.write(b"one\n");
        }
        // The inner guard is gone but the outer one still holds.
        assert_eq!(HELD.with(|h| h.borrow().clone()), b"one\n");
        drop(outer);
        assert!(HELD.with(|h| h.borrow().is_empty()));
    }

    #[test]
    fn verbosity_levels() {
        assert!(!filter(0).would_enable("ovpn", &Level::DEBUG));
        assert!(filter(0).would_enable("ppp", &Level::INFO));
        assert!(filter(1).would_enable("ovpn", &Level::DEBUG));
        assert!(!filter(1).would_enable("rustls::conn", &Level::DEBUG));
        assert!(filter(2).would_enable("rustls::conn", &Level::TRACE));
    }
}
