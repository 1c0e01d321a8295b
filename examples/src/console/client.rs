//! The console's end: `ovpn-server --state-dir DIR console [-c COMMAND]` talks to the running
//! program through its control socket: one command (`-c`), commands from a pipe, or an
//! interactive console with line editing, history and Tab completion (rustyline).

use std::path::Path;
use std::process::ExitCode;

/// `PROGRAM --state-dir DIR console [-c COMMAND]`: runs one command, or one per line from stdin
/// (with a RouterOS prompt when stdin is a terminal), against the running program's console.
/// Output goes to stdout, errors to stderr; exit status 0 when every command succeeded, 1 when
/// one failed, 2 when the program cannot be reached.
pub fn run(state_dir: &Path, command: Option<&str>) -> ExitCode {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    let mut stream = match crate::console::socket::connect(state_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("console: {e}");
            return ExitCode::from(crate::cli::EXIT_CONFIG);
        }
    };
    let mut failed = false;
    let mut one = |line: &str| -> Step {
        match crate::console::socket::ask(&mut stream, line) {
            Ok(Ok(out)) => {
                print!("{out}");
                let _ = std::io::stdout().flush();
                Step::Done
            }
            Ok(Err(e)) => {
                eprintln!("{e}");
                failed = true;
                Step::Failed
            }
            Err(e) => {
                eprintln!("console: {e}");
                failed = true;
                Step::Lost
            }
        }
    };
    if let Some(c) = command {
        if is_monitor(c) {
            monitor(c, &mut one);
        } else {
            one(c);
        }
    } else if std::io::stdin().is_terminal() {
        interactive(state_dir, &mut one);
    } else {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else {
                break;
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "/quit" || line == "quit" {
                break;
            }
            if one(line) == Step::Lost {
                break;
            }
        }
    }
    if failed {
        ExitCode::from(crate::cli::EXIT_RUNTIME)
    } else {
        ExitCode::SUCCESS
    }
}

/// Whether `line` is a `monitor` to repeat (without `once`).
fn is_monitor(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.contains(&"monitor") && !words.contains(&"once")
}

/// `monitor` without `once`: the figures again every second (the screen cleared on a
/// terminal) until Ctrl-C, which ends the monitor, not the console.
fn monitor(line: &str, one: &mut dyn FnMut(&str) -> Step) -> Step {
    use std::io::{IsTerminal as _, Write as _};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let interrupted = Arc::new(AtomicBool::new(false));
    let id = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone()).ok();
    let tty = std::io::stdout().is_terminal();
    let once = format!("{line} once");
    let mut step = Step::Done;
    while !interrupted.load(Ordering::SeqCst) {
        if tty {
            print!("\x1b[H\x1b[2J");
            let _ = std::io::stdout().flush();
        }
        step = one(&once);
        if step != Step::Done {
            break;
        }
        if id.is_none() {
            break; // no way to be interrupted: once is all
        }
        // The refresh interval (RouterOS's: one second).
        for _ in 0..10 {
            if interrupted.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    if let Some(id) = id {
        signal_hook::low_level::unregister(id);
    }
    step
}

/// How a command went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Its output was printed.
    Done,
    /// Its error was printed.
    Failed,
    /// The program cannot be reached any more.
    Lost,
}

/// The console's line editor: completion of menus, commands and keys.
struct Helper;

impl rustyline::completion::Completer for Helper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(super::complete::complete(line.get(..pos).unwrap_or(line)))
    }
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}

impl rustyline::highlight::Highlighter for Helper {}

impl rustyline::validate::Validator for Helper {}

impl rustyline::Helper for Helper {}

/// The interactive console: a RouterOS prompt, line editing, history kept in the state
/// directory (`console_history`, 0600), Tab to complete. `quit` or Ctrl-D ends it.
fn interactive(state_dir: &Path, one: &mut dyn FnMut(&str) -> Step) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut editor = match rustyline::Editor::<Helper, rustyline::history::DefaultHistory>::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("console: {e}");
            return;
        }
    };
    editor.set_helper(Some(Helper));
    let history = state_dir.join("console_history");
    let _ = editor.load_history(&history);
    loop {
        match editor.readline("[admin@ovpn] > ") {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                if line == "quit" || line == "/quit" {
                    break;
                }
                let _ = editor.add_history_entry(line);
                let step = if is_monitor(line) {
                    monitor(line, one)
                } else {
                    one(line)
                };
                if step == Step::Lost {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => {}
            Err(_) => break,
        }
    }
    if editor.save_history(&history).is_ok() {
        let _ = std::fs::set_permissions(&history, std::fs::Permissions::from_mode(0o600));
    }
}
