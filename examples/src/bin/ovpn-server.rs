//! `ovpn-server`: an OpenVPN server configured with RouterOS commands.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use ovpn_examples::cli::{self, EXIT_CONFIG, EXIT_RUNTIME};
use ovpn_examples::console::live::{RunningServer, ServerLive, ServerSpawner};
use ovpn_examples::logging;
use ovpn_examples::runtime::loops::Loops;
use ovpn_examples::runtime::server::{ServerOptions, ServerRuntime};
use ovpn_examples::runtime::{Control, SystemTuns};
use ovpn_examples::script::{Program, Setup};
use ovpn_session::Shared;

const ABOUT: &str = "An OpenVPN server configured the way MikroTik RouterOS configures its own.";

const LONG_ABOUT: &str = "\
An OpenVPN server configured the way MikroTik RouterOS configures its own: the configuration is a
script of RouterOS commands, and the commands of RouterOS's OpenVPN page work as written. OpenVPN 2.6
clients (and our ovpn-client) connect with a certificate and a PPP user name and password; each
client gets an address from an IP pool and its own point-to-point interface ovpn-incomingN (a TAP
interface in mode=ethernet, a port of the profile's bridge= if it names one).

The script (CONFIG.rsc) may use:
  /certificate add|sign|import|export-certificate|set     the built-in CA (keys are generated here)
  /ip pool add name= ranges=                              client addresses
  /ipv6 pool add name= prefix= prefix-length=             client IPv6 addresses
  /ppp profile add|set  name= local-address= remote-address= dns-server= ...
      remote-ipv6-prefix-pool= bridge= bridge-horizon= bridge-learning= bridge-path-cost=
      bridge-port-priority= ...
  /ppp secret add|set   name= password= profile= service=ovpn ...
  /interface ovpn-server server set enabled=yes port= protocol=udp|tcp mode=ip|ethernet certificate=
      (or, as RouterOS 7.17, `add name= port= protocol= ...` for each of several servers, which
      share the pools and the PPP secrets; `set NAME ...` changes one)
      require-client-certificate= auth=SET cipher=SET max-mtu= keepalive-timeout= default-profile=
      redirect-gateway=def1 netmask= reneg-sec= tls-version= push-routes=\"NET/LEN,...\"
      enable-tun-ipv6=yes tun-server-ipv6= ipv6-prefix-len= push-routes-ipv6= redirect-gateway=ipv6
      topology=subnet|net30 (an extension: net30 pushes OpenVPN's point-to-point form)
      extensions: require-user-password=no (a certificate alone logs in as its common name),
      control-channel-protection=tls-auth|tls-crypt tls-key-file=PATH key-direction=0|1
      control-channel-protection=tls-crypt-v2|none,tls-crypt-v2|tls-auth,tls-crypt-v2
      tls-crypt-v2-key-file=PATH tls-crypt-v2-max-age=DAYS tls-crypt-v2-force-cookie=yes|no
  /interface ovpn-server server generate-tls-key file-name=ta.key
                                                          a static key, made once and kept
  /interface ovpn-server server generate-tls-crypt-v2-key file-name=v2.key
                                                          a tls-crypt-v2 server key, made once
  /interface ovpn-server server generate-tls-crypt-v2-client-key server-key-file=v2.key
      file-name=alice.key [metadata=TEXT]                 a client's own key (exports make one)
  /interface ovpn-server server export-client-configuration client-certificate=client1
      server-address=HOST [ca-certificate=ca] [key-passphrase=P] [file=NAME]
                                                          writes NAME.ovpn for OpenVPN 2.6 clients
/ip firewall ... and /interface list ... are skipped with a warning (the host's firewall is yours);
any other command is an error. Line continuations (\\), quotes and # comments work as in RouterOS.
Every problem is reported with its line before anything starts (exit status 2).

The state directory keeps the certificates the script generates (they are reused on the next run,
so exported client certificates stay valid) and receives the exports: cert_export_NAME.crt/.key and
the .ovpn profiles. /certificate import file-name= is read from the script's directory, then from
the state directory.

Log lines go to stderr as `HH:MM:SS TOPIC,LEVEL MESSAGE`, with RouterOS's topics, e.g.
  12:00:01 ovpn,info ovpn-server: listening on udp [::]:1194
  12:00:05 ppp,info client1 logged in, 10.8.0.2 from 192.0.2.2
  12:00:05 ovpn,info ovpn-incoming1: connected
  12:00:05 ovpn,info ovpn-incoming1: session up: name=ovpn-incoming1 user=client1 ...
  12:07:10 ovpn,info ovpn-incoming1: disconnected (keepalive timeout)
SIGUSR1 logs the session table and the pools' usage (`pool ovpn-pool: total=253 used=1 ...`).
Creating interfaces needs root (CAP_NET_ADMIN). SIGINT or SIGTERM stops the server (exit status 0);
exit status 1 is a failure while running.

`ovpn-server --state-dir DIR console [-c COMMAND]` reaches the running server (DIR/console.sock,
its user only): /interface ovpn-server print|monitor, /interface ovpn-server server print|set|
export-client-configuration, /ppp active|secret|profile, /ip pool, /ip pool used, /certificate,
/log print, /system logging, /system resource print, /interface print, /export. Changes apply at
once and are kept in DIR/console.rsc, applied after the script at the next start.";

#[derive(Parser)]
#[command(name = "ovpn-server", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    /// Directory for generated certificates and exported files (created if missing)
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
    /// Run the server in the foreground until SIGINT or SIGTERM
    Run {
        /// The configuration script (RouterOS commands)
        #[arg(value_name = "CONFIG.rsc")]
        config: PathBuf,
        /// The address to listen on (default: all addresses, IPv6 and IPv4); the port is the script's
        /// `port`. On a host with several addresses, give the one clients connect to: UDP
        /// replies leave from the bound address
        #[arg(long, value_name = "ADDR")]
        listen: Option<IpAddr>,
        /// Use one TUN interface NAME for all clients instead of one ovpn-incomingN per client
        #[arg(long, value_name = "NAME")]
        shared_tun: Option<String>,
    },
    /// Talk to the running server of this --state-dir: one command (-c), or one per line from
    /// stdin. Exit status 0 when every command succeeded, 1 otherwise
    Console {
        /// The command to run, e.g. '/ppp active print'
        #[arg(short = 'c', value_name = "COMMAND")]
        command: Option<String>,
    },
    /// Check the script and report every problem, without starting or writing anything
    Check {
        /// The configuration script (RouterOS commands)
        #[arg(value_name = "CONFIG.rsc")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    match cli.command {
        Command::Check { config } => {
            match cli::prepare(
                Program::Server,
                &config,
                &cli.state_dir,
                false,
                cli.allow_outside_paths,
            ) {
                Ok(setup) => {
                    for s in &setup.servers {
                        println!(
                            "{}: OK: {}",
                            config.display(),
                            cli::describe_server(&s.settings)
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            }
        }
        Command::Console { command } => {
            ovpn_examples::console::client::run(&cli.state_dir, command.as_deref())
        }
        Command::Run {
            config,
            listen,
            shared_tun,
        } => {
            let setup = match cli::prepare(
                Program::Server,
                &config,
                &cli.state_dir,
                true,
                cli.allow_outside_paths,
            ) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let script_dir = config
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .to_owned();
            run(setup, &cli.state_dir, &script_dir, listen, shared_tun)
        }
    }
}

/// Runs every enabled server of the script, each on its own thread, over one set of pools and
/// PPP tables: until a signal stops them all, or one fails (which stops the others).
fn run(
    setup: Setup,
    state_dir: &std::path::Path,
    script_dir: &std::path::Path,
    listen: Option<IpAddr>,
    shared_tun: Option<String>,
) -> ExitCode {
    // The memory log's rules the script set (`/system logging`), before anything logs.
    setup.install_logging();
    let Setup {
        servers,
        ppp,
        pools,
        pools6,
        store,
        crl_files,
        certificate_commands,
        ..
    } = setup;
    if servers.is_empty() {
        return ExitCode::from(EXIT_CONFIG);
    }
    if shared_tun.is_some() && servers.len() > 1 {
        tracing::error!(target: "ovpn", "ovpn-server: --shared-tun serves one server, and the script enables {}", servers.len());
        return ExitCode::from(EXIT_CONFIG);
    }
    let shared = Shared::new(ppp, pools).with_ipv6_pools(pools6);
    // The console's view of the servers; the changes it made in earlier runs apply after the
    // script, before anything starts.
    let running = servers.into_iter().map(RunningServer::from).collect();
    // One certificate store for the CRL keeper and the console's /certificate.
    let store: ovpn_examples::crl_keeper::SharedStore =
        std::sync::Arc::new(std::sync::Mutex::new(store));
    let mut live = ServerLive::new(shared.clone(), Some(state_dir))
        .with_servers(running, store.clone(), certificate_commands, listen)
        .with_script_dir(script_dir);
    if let Err(code) = cli::replayed("ovpn-server", live.replay()) {
        return code;
    }
    // SIGINT/SIGTERM stop the program: every server's loop (each ends its sessions, telling
    // the clients), the CRL keeper and the console.
    let program = match cli::program_control("ovpn-server") {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Each server's loop on its own thread: those of the script, and those the console adds
    // or enables later.
    let loops = std::sync::Arc::new(Loops::default());
    let spawner: ServerSpawner = {
        let (loops, shared, shared_tun) = (loops.clone(), shared.clone(), shared_tun.clone());
        let started = std::sync::atomic::AtomicUsize::new(0);
        Box::new(move |config, at| {
            // One shared interface serves one server.
            if shared_tun.is_some() && started.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                return Err("--shared-tun serves one server".into());
            }
            let options = ServerOptions {
                listen: at,
                shared_tun: shared_tun.clone(),
            };
            let mut rt = ServerRuntime::new(config, shared.clone(), &options, SystemTuns)
                .map_err(|e| e.to_string())?;
            started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let control = rt.control();
            loops.spawn(&format!("ovpn-server on {at}"), move || {
                rt.run().map_err(|e| e.to_string())
            })?;
            Ok(control)
        })
    };
    for s in live.running() {
        tracing::info!(target: "ovpn", "ovpn-server: {}", cli::describe_server(&s.settings));
    }
    if let Err(e) = live.start(spawner) {
        tracing::error!(target: "ovpn", "ovpn-server: {e}");
        live.controls().iter().for_each(Control::stop);
        return ExitCode::from(EXIT_RUNTIME);
    }
    let keeper = ovpn_examples::crl_keeper::CrlKeeper::shared(store, crl_files);
    // The console: `ovpn-server --state-dir DIR console`.
    let console = match ovpn_examples::console::socket::bind(state_dir) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(target: "system", "ovpn-server: no console: {e}");
            None
        }
    };
    let failed = std::thread::scope(|scope| {
        let (live, program) = (&live, &program);
        // CRLs: files read again when they change, own CRLs renewed, expiry warned about.
        scope.spawn(move || {
            ovpn_examples::crl_keeper::keep(keeper, &|| live.watched(), &|| program.is_stopped());
        });
        if let Some(listener) = &console {
            scope.spawn(move || {
                ovpn_examples::console::socket::serve(
                    listener,
                    &|line| ovpn_examples::console::exec::run(line, live),
                    &|| program.is_stopped(),
                );
            });
        }
        // Until a signal, or a server fails (which stops the others, as it always has).
        loops.watch("ovpn-server", program, &|| live.controls(), |_, failed| {
            failed > 0
        })
    });
    if console.is_some() {
        let _ = std::fs::remove_file(ovpn_examples::console::socket::path(state_dir));
    }
    logging::flush();
    if failed {
        ExitCode::from(EXIT_RUNTIME)
    } else {
        ExitCode::SUCCESS
    }
}
