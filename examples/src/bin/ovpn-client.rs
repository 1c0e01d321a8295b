//! `ovpn-client`: an OpenVPN client configured with RouterOS commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use ovpn_examples::cli::{self, EXIT_CONFIG, EXIT_RUNTIME};
use ovpn_examples::console::client_live::ClientLive;
use ovpn_examples::logging;
use ovpn_examples::ovpn_config::{Credentials, read_profile};
use ovpn_examples::runtime::client::ClientRuntime;
use ovpn_examples::runtime::loops::Loops;
use ovpn_examples::runtime::{ClientChange, Control, SystemTuns};
use ovpn_examples::script::Program;

const ABOUT: &str = "An OpenVPN client configured the way MikroTik RouterOS configures its own.";

const LONG_ABOUT: &str = "\
An OpenVPN client configured the way MikroTik RouterOS configures its own: the configuration is a
script of RouterOS commands, and the client commands of RouterOS's OpenVPN page work as written. It
connects to an OpenVPN 2.6 server or to ovpn-server, logs in with a PPP user name and password (and
a certificate if given), and while connected brings up a TUN interface named after the client
(ovpn-out1 by default) with the address, routes and MTU the server pushes. It reconnects after a
failure, as RouterOS does.

It also runs an OpenVPN client profile as `openvpn --config` would:
  ovpn-client --state-dir DIR run provider.ovpn --auth-user-pass creds.txt [--askpass pass.txt]
dev tun|tap, inline or file ca/cert/key/pkcs12, tls-auth (key-direction) and tls-crypt, auth-user-pass,
remote-cert-tls, verify-x509-name NAME name, cipher/data-ciphers/auth, tun-mtu, keepalive, route,
redirect-gateway, route-nopull, comp-lzo no / compress / compress stub-v2 take effect; directives
without effect here are named as warnings; what it cannot honour safely (tls-crypt-v2, real
compression, other verify-x509-name types) is an error with its line.

The script (CONFIG.rsc) may use:
  /certificate import file-name= passphrase= [name=]   CA, client certificate, key (matched by key)
  /interface ovpn-client add name= connect-to= port= protocol=udp|tcp user= password=
      certificate= ca-certificate= cipher= auth= add-default-route= route-nopull=
      keepalive-timeout= max-mtu= tls-version= disabled= verify-server-certificate= mode=ip|ethernet
      ncp=yes|no   (not RouterOS: ncp=no behaves exactly like a RouterOS client: no cipher
                    negotiation, the cipher of the options string, the legacy key derivation)
      control-channel-protection=tls-auth|tls-crypt tls-key-file=PATH key-direction=0|1
      control-channel-protection=tls-crypt-v2 tls-crypt-v2-key-file=PATH
                   (not RouterOS: for OpenVPN servers that use tls-auth, tls-crypt(-v2))
  /interface ovpn-client import-ovpn-configuration file-name=X.ovpn ovpn-user= ovpn-password=
      [key-passphrase=] [skip-cert-import=no]     an OpenVPN profile as the interface
  /interface ovpn-client set [find] PROPERTY=VALUE ...
  /ip route add dst-address=NET/LEN gateway=NAME        a route through the tunnel
Every /interface ovpn-client of the script runs, each with its own session and interface, as on
a router; a disabled one (RouterOS's default disabled=yes) waits for `enable` in the console.
/ip firewall ... and /interface list ... are skipped with a warning; any other command is an
error. Line continuations (\\), quotes and # comments work as in RouterOS. Every problem is
reported with its line before anything starts (exit status 2). The server's certificate is checked
against ca-certificate (or every imported CA when it is none) and must be a TLS server certificate.

/certificate import file-name= is read from the script's directory, then from the state directory.

Log lines go to stderr as `HH:MM:SS TOPIC,LEVEL MESSAGE`, with RouterOS's topics, e.g.
  12:00:01 ovpn,info ovpn-out1: connecting to 192.0.2.1:1194
  12:00:02 ovpn,info ovpn-out1: connected (AES-256-GCM)
  12:00:09 ovpn,info ovpn-out1: terminating... - login incorrect
A line is written once what it says is in place: when `ovpn-out1: connected` appears, the interface
is up with its address and routes. SIGUSR1 logs the state and the packets through the tunnel
(`ovpn-out1: status: connected address=10.8.0.2/24 ...`). Creating the interface needs root
(CAP_NET_ADMIN). SIGINT or SIGTERM closes the tunnels, telling the servers, and exits with status
0; exit status 1 is a failure while running (every interface's loop ended, one of them failing).
`ovpn-client --state-dir DIR console` reaches the running program: /interface ovpn-client print,
monitor, add, set, remove, enable, disable, /log print, /system logging, /export ...";

#[derive(Parser)]
#[command(name = "ovpn-client", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    /// Directory where certificate files are also looked up (created if missing)
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// More log lines: -v adds debug lines, -vv everything (TLS included)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Let the script's file-name= and tls-key-file= name files outside its folder and the
    /// state directory (absolute paths, ..)
    #[arg(long, global = true)]
    allow_outside_paths: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the client in the foreground until SIGINT or SIGTERM
    Run {
        /// The configuration script (RouterOS commands), or an OpenVPN client profile
        /// (`.ovpn` or `.conf`), run as `openvpn --config` would
        #[arg(value_name = "CONFIG.rsc|PROFILE.ovpn")]
        config: PathBuf,
        /// For a profile: the user name and password, one a line (OpenVPN's --auth-user-pass FILE)
        #[arg(long, value_name = "FILE")]
        auth_user_pass: Option<PathBuf>,
        /// For a profile: the passphrase of its encrypted key (OpenVPN's --askpass FILE)
        #[arg(long, value_name = "FILE")]
        askpass: Option<PathBuf>,
    },
    /// Check the script and report every problem, without connecting or writing anything
    Check {
        /// The configuration script (RouterOS commands)
        #[arg(value_name = "CONFIG.rsc")]
        config: PathBuf,
    },
    /// Talk to the running client of this --state-dir: one command (-c), or one per line from
    /// stdin (an interactive console on a terminal). Exit status 0 when every command
    /// succeeded, 1 otherwise
    Console {
        /// The command to run, e.g. '/interface ovpn-client print detail'
        #[arg(short = 'c', value_name = "COMMAND")]
        command: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    match cli.command {
        Command::Console { command } => {
            ovpn_examples::console::client::run(&cli.state_dir, command.as_deref())
        }
        Command::Check { config } if is_profile(&config) => {
            // An OpenVPN profile is checked as one (never as a RouterOS script, which would
            // echo its lines, keys included, as unknown commands), without asking for
            // credentials.
            match profile(&config, None, None, true) {
                Some((c, _)) => {
                    println!(
                        "{}: OK: profile for {} ({:?})",
                        config.display(),
                        c.server,
                        c.transport
                    );
                    ExitCode::SUCCESS
                }
                None => ExitCode::from(EXIT_CONFIG),
            }
        }
        Command::Check { config } => {
            match cli::prepare(
                Program::Client,
                &config,
                &cli.state_dir,
                false,
                cli.allow_outside_paths,
            ) {
                Ok(setup) => {
                    if let Some(c) = &setup.client {
                        println!("{}: OK: {}", config.display(), cli::describe_client(c));
                    }
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            }
        }
        Command::Run {
            config,
            auth_user_pass,
            askpass,
        } => {
            let mut live = if is_profile(&config) {
                match profile(
                    &config,
                    auth_user_pass.as_deref(),
                    askpass.as_deref(),
                    false,
                ) {
                    Some((c, r)) => {
                        ClientLive::new(&c.name.clone(), Some(&cli.state_dir)).with_profile(c, r)
                    }
                    None => return ExitCode::from(EXIT_CONFIG),
                }
            } else {
                let setup = match cli::prepare(
                    Program::Client,
                    &config,
                    &cli.state_dir,
                    true,
                    cli.allow_outside_paths,
                ) {
                    Ok(s) => s,
                    Err(code) => return code,
                };
                setup.install_logging();
                for c in &setup.clients {
                    tracing::info!(target: "ovpn", "ovpn-client: {}", cli::describe_client(&c.settings));
                }
                ClientLive::scripted(
                    setup.clients,
                    setup.store,
                    setup.certificate_commands,
                    Some(&cli.state_dir),
                )
            };
            // The console's changes of earlier runs apply before the start.
            if let Err(code) = cli::replayed("ovpn-client", live.replay()) {
                return code;
            }
            // SIGINT/SIGTERM stop the program: every interface's loop (they end their sessions,
            // telling their servers), then the console.
            let program = match cli::program_control("ovpn-client") {
                Ok(c) => c,
                Err(code) => return code,
            };
            // Each interface's loop on its own thread.
            let loops = std::sync::Arc::new(Loops::default());
            let spawner = {
                let loops = loops.clone();
                Box::new(
                    move |config: ovpn_session::ClientConfig,
                          routes: Vec<ipnet::Ipv4Net>,
                          enabled: bool|
                          -> Result<Control, String> {
                        let name = config.name.clone();
                        let mut rt = ClientRuntime::new(config, routes, SystemTuns)
                            .map_err(|e| format!("{name}: {e}"))?;
                        if !enabled {
                            rt.change(ClientChange::Disable)?;
                        }
                        let control = rt.control();
                        loops.spawn(&name, move || rt.run().map_err(|e| e.to_string()))?;
                        Ok(control)
                    },
                ) as ovpn_examples::console::client_live::Spawner
            };
            if let Err(e) = live.start(spawner) {
                tracing::error!(target: "ovpn", "ovpn-client: {e}");
                live.controls().iter().for_each(Control::stop);
                return ExitCode::from(EXIT_RUNTIME);
            }
            // The console: `ovpn-client --state-dir DIR console`.
            let console = match ovpn_examples::console::socket::bind(&cli.state_dir) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(target: "system", "ovpn-client: no console: {e}");
                    None
                }
            };
            let failed = std::thread::scope(|scope| {
                if let Some(listener) = &console {
                    let (live, program) = (&live, &program);
                    scope.spawn(move || {
                        ovpn_examples::console::socket::serve(
                            listener,
                            &|line| ovpn_examples::console::exec::run(line, live),
                            &|| program.is_stopped(),
                        );
                    });
                }
                // Until a signal, or until every loop has ended and one of them failed (the
                // one interface of most clients failing ends the program, as it always has).
                loops.watch(
                    "ovpn-client",
                    &program,
                    &|| live.controls(),
                    |running, failed| running == 0 && failed > 0,
                )
            });
            if console.is_some() {
                let _ = std::fs::remove_file(ovpn_examples::console::socket::path(&cli.state_dir));
            }
            logging::flush();
            if failed {
                ExitCode::from(EXIT_RUNTIME)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Whether `path` names an OpenVPN client profile rather than a RouterOS script.
fn is_profile(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("ovpn" | "conf")
    )
}

/// Reads an OpenVPN client profile; prints every problem and returns None when it cannot run.
/// With `check`, nothing is asked on the terminal: credentials it would ask for are stand-ins.
fn profile(
    path: &Path,
    auth_user_pass: Option<&Path>,
    askpass: Option<&Path>,
    check: bool,
) -> Option<(ovpn_session::ClientConfig, Vec<ipnet::Ipv4Net>)> {
    let read = |p: &Path| {
        cli::read_script(p)
            .map_err(|e| eprintln!("{}: error: {e}", p.display()))
            .ok()
    };
    let text = read(path)?;
    let mut creds = Credentials::default();
    if let Some(f) = auth_user_pass {
        let t = zeroize::Zeroizing::new(read(f)?);
        let mut l = t.lines();
        creds.user_pass = Some((
            l.next().unwrap_or_default().to_owned(),
            l.next().unwrap_or_default().to_owned().into(),
        ));
    }
    if let Some(f) = askpass {
        let t = zeroize::Zeroizing::new(read(f)?);
        creds.key_passphrase = t.lines().next().unwrap_or_default().to_owned().into();
    }
    // `auth-user-pass` with no file and none given: asked on the terminal, as openvpn does.
    let asks = text.lines().any(|l| l.trim() == "auth-user-pass");
    if asks && check && creds.user_pass.is_none() {
        creds.user_pass = Some(("(check)".to_owned(), String::new().into()));
    }
    if asks && creds.user_pass.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("Enter Auth Username: ");
        let mut user = String::new();
        if std::io::stdin().read_line(&mut user).is_err() {
            return None;
        }
        let password = rpassword::prompt_password("Enter Auth Password: ")
            .map_err(|e| eprintln!("reading the password: {e}"))
            .ok()?;
        creds.user_pass = Some((user.trim_end().to_owned(), password.into()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match read_profile(&text, dir, &creds) {
        Ok(p) => {
            for w in &p.warnings {
                match w.line {
                    Some(l) => {
                        tracing::warn!(target: "script", "{}:{l}: {}", path.display(), w.message)
                    }
                    None => tracing::warn!(target: "script", "{}: {}", path.display(), w.message),
                }
            }
            tracing::info!(target: "ovpn", "ovpn-client: profile {}: {} {:?}", path.display(), p.config.server, p.config.transport);
            Some((p.config, p.routes))
        }
        Err(f) => {
            eprint!("{}", cli::error_report(path, &f));
            None
        }
    }
}
