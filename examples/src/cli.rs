//! What `ovpn-server` and `ovpn-client` share on their command line: reading and checking the
//! script, reporting its problems, writing the state directory, exit statuses.

use std::path::Path;
use std::process::ExitCode;

use ovpn_pki::rustls_pki_types::UnixTime;

use crate::runtime::unix_now;
use crate::script::{Env, Failure, Problem, Program, Setup, interpret};
use crate::settings::{ClientSettings, ServerSettings};

/// Exit status for a configuration that cannot run (every problem was printed).
pub const EXIT_CONFIG: u8 = 2;
/// Exit status for a failure while running (socket, interface, permissions).
pub const EXIT_RUNTIME: u8 = 1;

/// The lines printed for a script's problems: `SCRIPT:LINE: error: MESSAGE`, then a summary.
pub fn error_report(script: &Path, failure: &Failure) -> String {
    let mut all: Vec<(&Problem, &str)> = failure
        .errors
        .iter()
        .map(|p| (p, "error"))
        .chain(failure.warnings.iter().map(|p| (p, "warning")))
        .collect();
    // By line, the whole-script problems last; errors before warnings on one line.
    all.sort_by_key(|(p, kind)| (p.line.unwrap_or(usize::MAX), *kind != "error"));
    let mut out = String::new();
    for (p, kind) in all {
        match p.line {
            Some(l) => out.push_str(&format!(
                "{}:{l}: {kind}: {}\n",
                script.display(),
                p.message
            )),
            None => out.push_str(&format!("{}: {kind}: {}\n", script.display(), p.message)),
        }
    }
    let n = failure.errors.len();
    out.push_str(&format!(
        "{n} error{} in {}; nothing was started\n",
        if n == 1 { "" } else { "s" },
        script.display()
    ));
    out
}

/// The largest script read (16 MiB): RouterOS exports are far smaller, and a bigger file is
/// refused before it is read.
pub const MAX_SCRIPT: u64 = 16 * 1024 * 1024;

/// Reads a script: a regular file of at most [`MAX_SCRIPT`] bytes, in UTF-8. A directory, a
/// device or a FIFO is said to be one.
pub fn read_script(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err("cannot read it: it is a directory".into());
    }
    if !ft.is_file() {
        return Err("cannot read it: it is not a regular file (a device, FIFO or socket)".into());
    }
    if meta.len() > MAX_SCRIPT {
        return Err(format!(
            "cannot read it: {} bytes, more than the {} MiB a script may be",
            meta.len(),
            MAX_SCRIPT / (1024 * 1024)
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCRIPT).read_to_string(&mut text))
        .map_err(|e| format!("cannot read it: {e}"))?;
    Ok(text)
}

/// Reads and interprets the script for `program`. On problems, prints them all and returns the
/// exit status. With `write`, creates the state directory and writes the exports and kept
/// certificates into it.
///
/// A script is at most [`MAX_SCRIPT`] bytes, and a command at most
/// [`MAX_LINE`](crate::rsc::MAX_LINE).
pub fn prepare(
    program: Program,
    script: &Path,
    state_dir: &Path,
    write: bool,
    allow_outside_paths: bool,
) -> Result<Setup, ExitCode> {
    let text = match read_script(script) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: error: {e}", script.display());
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    let script_dir = script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let now = unix_now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let env = Env {
        script_dir,
        state_dir: state_dir.to_owned(),
        now: UnixTime::since_unix_epoch(now),
        allow_outside_paths,
    };
    let setup = match interpret(program, &text, &env) {
        Ok(s) => s,
        Err(failure) => {
            eprint!("{}", error_report(script, &failure));
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    let name = script.display();
    for w in &setup.warnings {
        match w.line {
            Some(l) => tracing::warn!(target: "script", "{name}:{l}: {}", w.message),
            None => tracing::warn!(target: "script", "{name}: {}", w.message),
        }
    }
    for k in &setup.kept {
        tracing::info!(target: "certificate", "{k}: kept from {}", state_dir.display());
    }
    if write {
        if let Err(e) = crate::script::private_dir(state_dir) {
            eprintln!("{}: error: cannot create it: {e}", state_dir.display());
            return Err(ExitCode::from(EXIT_RUNTIME));
        }
        match setup.write_files(state_dir) {
            Ok(paths) => {
                for p in paths {
                    tracing::info!(target: "certificate", "wrote {}", p.display());
                }
            }
            Err(e) => {
                eprintln!("{}: error: writing: {e}", state_dir.display());
                return Err(ExitCode::from(EXIT_RUNTIME));
            }
        }
    }
    Ok(setup)
}

fn names<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn seconds(d: Option<std::time::Duration>) -> String {
    d.map_or("disabled".into(), |d| format!("{}s", d.as_secs()))
}

/// One line describing a server configuration.
pub fn describe_server(s: &ServerSettings) -> String {
    format!(
        "name={} protocol={} port={} certificate={} require-client-certificate={} cipher={} auth={} max-mtu={} keepalive-timeout={} default-profile={} netmask={}",
        s.name,
        match s.transport {
            ovpn_session::Transport::Udp => "udp",
            ovpn_session::Transport::Tcp => "tcp",
        },
        s.port,
        s.certificate.as_deref().unwrap_or("none"),
        if s.require_client_certificate {
            "yes"
        } else {
            "no"
        },
        names(&s.ciphers),
        names(&s.auths),
        s.max_mtu,
        seconds(s.keepalive_timeout),
        s.default_profile,
        s.netmask,
    )
}

/// One line describing a client configuration.
pub fn describe_client(c: &ClientSettings) -> String {
    format!(
        "name={} connect-to={} port={} protocol={} user={} certificate={} ca-certificate={} cipher={} auth={} ncp={} add-default-route={}",
        c.name,
        c.connect_to,
        c.port,
        match c.transport {
            ovpn_session::Transport::Udp => "udp",
            ovpn_session::Transport::Tcp => "tcp",
        },
        c.user,
        c.certificate.as_deref().unwrap_or("none"),
        c.ca_certificate.as_deref().unwrap_or("none"),
        c.cipher,
        c.auth,
        if c.ncp { "yes" } else { "no" },
        if c.add_default_route { "yes" } else { "no" },
    )
}

/// Logs how the console's changes of earlier runs applied (`console.rsc`, replayed after the
/// script); a journal that no longer applies refuses the start (exit status 2).
pub fn replayed(program: &str, replay: Result<usize, String>) -> Result<(), ExitCode> {
    match replay {
        Ok(0) => Ok(()),
        Ok(n) => {
            tracing::info!(target: "system", "{program}: {n} console changes of earlier runs applied");
            Ok(())
        }
        Err(e) => {
            tracing::error!(target: "system", "{program}: {e}");
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}

/// The program's own stop flag: SIGINT and SIGTERM set it, SIGUSR1 asks for the status.
pub fn program_control(program: &str) -> Result<crate::runtime::Control, ExitCode> {
    crate::runtime::Control::standalone()
        .and_then(|c| c.stop_on_signals().map(|()| c))
        .map_err(|e| {
            tracing::error!(target: "ovpn", "{program}: {e}");
            ExitCode::from(EXIT_RUNTIME)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_script_and_line() {
        let r = error_report(
            Path::new("server.rsc"),
            &Failure {
                errors: vec![
                    Problem {
                        line: Some(3),
                        message: "bad".into(),
                    },
                    Problem {
                        line: None,
                        message: "nothing to run".into(),
                    },
                ],
                warnings: vec![Problem {
                    line: Some(2),
                    message: "comment has no effect here".into(),
                }],
            },
        );
        assert_eq!(
            r,
            "server.rsc:2: warning: comment has no effect here\nserver.rsc:3: error: bad\nserver.rsc: error: nothing to run\n2 errors in server.rsc; nothing was started\n"
        );
    }

    #[test]
    fn descriptions() {
        let s = ServerSettings::default();
        assert!(
            describe_server(&s)
                .starts_with("name=ovpn-server1 protocol=tcp port=1194 certificate=none")
        );
        let c = ClientSettings::new(1);
        assert!(describe_client(&c).contains("cipher=AES-128-CBC auth=SHA1"));
    }
}
