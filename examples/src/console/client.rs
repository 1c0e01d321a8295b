//! The console's end: `ovpn-server --state-dir DIR console [-c COMMAND]` talks to the running
//! program through its control socket.

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
    let mut one = |line: &str| -> bool {
        match crate::console::socket::ask(&mut stream, line) {
            Ok(Ok(out)) => {
                print!("{out}");
                let _ = std::io::stdout().flush();
                true
            }
            Ok(Err(e)) => {
                eprintln!("{e}");
                failed = true;
                true
            }
            Err(e) => {
                eprintln!("console: {e}");
                failed = true;
                false
            }
        }
    };
    if let Some(c) = command {
        one(c);
    } else {
        let interactive = std::io::stdin().is_terminal();
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        loop {
            if interactive {
                print!("[admin@ovpn] > ");
                let _ = std::io::stdout().flush();
            }
            let Some(Ok(line)) = lines.next() else {
                break;
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "quit" || line == "/quit" {
                break;
            }
            if !one(line) {
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
