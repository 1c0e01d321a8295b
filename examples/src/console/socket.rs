//! The control socket a running program serves its console on: a Unix stream socket
//! `console.sock` in the state directory (0700), itself 0600, and only the socket's owner may
//! talk to it (checked again with the peer's credentials).
//!
//! The protocol is lines: the console sends one command per line; for each, the program answers
//! `ok N` or `error N` on a line, then N bytes of output or of the error. Lines are bounded
//! ([`crate::rsc::MAX_LINE`]); a longer one is read to its end, dropped and answered with an
//! error.

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The socket's file name in the state directory.
pub const SOCKET: &str = "console.sock";

/// How often a waiting console connection looks whether the program is stopping.
const READ_TIMEOUT: Duration = Duration::from_millis(250);

/// How long an answer may wait for a console that does not read: past it, the console is
/// dropped (its thread ends; the program and the other consoles never wait for it).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest answer: a longer output is refused (narrow it with `where` or `count-only`).
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// The socket's path for a state directory.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET)
}

/// Binds the control socket in `state_dir` (replacing a stale one), 0600.
pub fn bind(state_dir: &Path) -> io::Result<UnixListener> {
    let p = path(state_dir);
    if p.exists() {
        // A live program answers; a stale socket of a dead one is replaced.
        if UnixStream::connect(&p).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{}: another program serves its console here", p.display()),
            ));
        }
        std::fs::remove_file(&p)?;
    }
    let listener = UnixListener::bind(&p)?;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Whether the peer of `stream` runs as our user.
fn same_user(stream: &UnixStream) -> bool {
    rustix::net::sockopt::socket_peercred(stream)
        .is_ok_and(|cred| cred.uid == rustix::process::geteuid())
}

/// Serves consoles on `listener` until `stopped` says so: each connection on its own thread,
/// each line run by `run` (`Ok(output)` or `Err(message)`).
pub fn serve(
    listener: &UnixListener,
    run: &(dyn Fn(&str) -> Result<String, String> + Sync),
    stopped: &(dyn Fn() -> bool + Sync),
) {
    serve_with(listener, run, stopped, WRITE_TIMEOUT);
}

/// [`serve`], dropping a console that has not taken an answer within `write_timeout`.
fn serve_with(
    listener: &UnixListener,
    run: &(dyn Fn(&str) -> Result<String, String> + Sync),
    stopped: &(dyn Fn() -> bool + Sync),
    write_timeout: Duration,
) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    std::thread::scope(|scope| {
        while !stopped() {
            match listener.accept() {
                Ok((stream, _)) => {
                    scope.spawn(move || {
                        if let Err(e) = session(stream, run, stopped, write_timeout) {
                            tracing::debug!(target: "system", "console: {e}");
                        }
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => {
                    tracing::warn!(target: "system", "console: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    });
}

/// One console connection, until the console leaves or the program stops (an idle console
/// never holds up a stop).
fn session(
    stream: UnixStream,
    run: &(dyn Fn(&str) -> Result<String, String> + Sync),
    stopped: &(dyn Fn() -> bool + Sync),
    write_timeout: Duration,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut out = stream.try_clone()?;
    // The socket's buffer holds what the console has not read yet; past it, an answer waits
    // at most this long, and the console is dropped.
    out.set_write_timeout(Some(write_timeout))?;
    if !same_user(&stream) {
        tracing::warn!(target: "system", "console: a connection of another user refused");
        return answer(
            &mut out,
            Err("not allowed: only the program's user may use its console"),
        );
    }
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    // A console's row numbers are its own.
    super::numbers::forget_all();
    let mut reader = BufReader::new(stream);
    loop {
        // A line longer than the bound is read to its end and dropped, then refused: the
        // console stays usable, and its writer never meets a closed socket.
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = match reader.fill_buf() {
                Ok(b) => b,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if stopped() {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if line.is_empty() && !too_long {
                    return Ok(());
                }
                break;
            }
            let (take, end) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !too_long {
                line.extend_from_slice(&buf[..take]);
                if line.len() > crate::rsc::MAX_LINE + 1 {
                    too_long = true;
                    line = Vec::new();
                }
            }
            reader.consume(take);
            if end {
                break;
            }
        }
        if too_long {
            answer(&mut out, Err("line too long"))?;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let result = run(text);
        let result = match &result {
            Ok(o) if o.len() > MAX_OUTPUT => {
                answer(
                    &mut out,
                    Err("output too long: narrow it with where or count-only"),
                )?;
                continue;
            }
            r => r.as_deref().map_err(String::as_str),
        };
        if let Err(e) = answer(&mut out, result) {
            tracing::warn!(target: "system", "console: dropped: it did not take its answer ({e})");
            return Err(e);
        }
    }
}

fn answer(out: &mut UnixStream, r: Result<&str, &str>) -> io::Result<()> {
    let (word, body) = match r {
        Ok(o) => ("ok", o),
        Err(e) => ("error", e),
    };
    write!(out, "{word} {}\n{body}", body.len())?;
    out.flush()
}

/// A console's end: sends `line` and reads the answer (`Ok(output)` or `Err(error)`).
pub fn ask(stream: &mut UnixStream, line: &str) -> io::Result<Result<String, String>> {
    writeln!(stream, "{}", line.trim_end())?;
    stream.flush()?;
    read_answer(stream)
}

fn read_answer(stream: &mut UnixStream) -> io::Result<Result<String, String>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while head.len() < 32 {
        if stream.read(&mut b)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the program closed the console",
            ));
        }
        if b[0] == b'\n' {
            break;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad answer {head:?}"));
    let (word, len) = head.split_once(' ').ok_or_else(bad)?;
    let len: usize = len
        .parse()
        .ok()
        .filter(|n| *n <= MAX_OUTPUT)
        .ok_or_else(bad)?;
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    match word {
        "ok" => Ok(Ok(body)),
        "error" => Ok(Err(body)),
        _ => Err(bad()),
    }
}

/// Connects to the console of the program whose state directory is `state_dir`.
pub fn connect(state_dir: &Path) -> io::Result<UnixStream> {
    let p = path(state_dir);
    UnixStream::connect(&p).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{}: {e} (is the program running with this --state-dir?)",
                p.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Stops the server when the test's body ends, even by a failed assertion (or the scope
    /// would wait for the server for ever).
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn lines_are_answered_in_order_and_long_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let listener = bind(dir.path()).unwrap();
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second program cannot take the socket of a live one.
        assert_eq!(
            bind(dir.path()).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        let stop = AtomicBool::new(false);
        let run = |l: &str| -> Result<String, String> {
            if l == "fail" {
                Err("bad command name fail".into())
            } else {
                Ok(format!("{l}\n"))
            }
        };
        std::thread::scope(|s| {
            s.spawn(|| serve(&listener, &run, &|| stop.load(Ordering::SeqCst)));
            let _stop = StopOnDrop(&stop);
            let mut c = connect(dir.path()).unwrap();
            // A fail-safe only: an answer that never comes fails the test instead of hanging it.
            c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            assert_eq!(
                ask(&mut c, "/ppp active print").unwrap(),
                Ok("/ppp active print\n".into())
            );
            assert_eq!(
                ask(&mut c, "fail").unwrap(),
                Err("bad command name fail".into())
            );
            // Longer than the bound, and longer than a socket buffer: refused, and the
            // connection still answers.
            for n in [crate::rsc::MAX_LINE + 10, 1 << 20] {
                let long = "x".repeat(n);
                assert_eq!(ask(&mut c, &long).unwrap(), Err("line too long".into()));
            }
            let exact = "y".repeat(crate::rsc::MAX_LINE);
            assert_eq!(ask(&mut c, &exact).unwrap(), Ok(format!("{exact}\n")));
            assert_eq!(ask(&mut c, "after").unwrap(), Ok("after\n".into()));
            // An idle console connection does not hold the server up when it stops.
            let _idle = connect(dir.path()).unwrap();
        });
    }

    #[test]
    fn a_console_that_does_not_read_is_dropped_and_holds_nothing_up() {
        let dir = tempfile::tempdir().unwrap();
        let listener = bind(dir.path()).unwrap();
        let stop = AtomicBool::new(false);
        // 4 MiB answers: far more than a socket buffer holds.
        let run = |l: &str| -> Result<String, String> {
            match l {
                "huge" => Ok("x".repeat(MAX_OUTPUT + 1)),
                _ => Ok("y".repeat(4 << 20)),
            }
        };
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                serve_with(
                    &listener,
                    &run,
                    &|| stop.load(Ordering::SeqCst),
                    Duration::from_millis(200),
                );
                let _ = done_tx.send(());
            });
            let _stop = StopOnDrop(&stop);
            // A console that asks and never reads.
            let mut slow = connect(dir.path()).unwrap();
            writeln!(slow, "big").unwrap();
            // Another console is answered meanwhile, and an answer past the bound is refused.
            let mut other = connect(dir.path()).unwrap();
            other
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            assert_eq!(
                ask(&mut other, "huge").unwrap(),
                Err("output too long: narrow it with where or count-only".into())
            );
            assert_eq!(ask(&mut other, "small").unwrap().unwrap().len(), 4 << 20);
            // The program stops: the slow console's thread has given up on it.
            stop.store(true, Ordering::SeqCst);
            let ended = done_rx.recv_timeout(Duration::from_secs(60));
            assert!(
                ended.is_ok(),
                "the server waited for a console that does not read"
            );
            drop(slow);
        });
    }
}
