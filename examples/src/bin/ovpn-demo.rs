//! `ovpn-demo`: our OpenVPN server and client in one process, no root needed.

use std::process::ExitCode;

use clap::Parser;
use ovpn_examples::demo::{self, DemoOptions};
use ovpn_examples::{logging, table};

const LONG_ABOUT: &str = "\
Runs our OpenVPN server and our OpenVPN client in one process, over real sockets on 127.0.0.1,
each configured by a RouterOS script (printed below): a CA and certificates made with ovpn-pki, an
IP pool, a PPP secret. Stand-in interfaces replace the TUN devices, so no root is needed. Numbered
IP packets go through the tunnel both ways; each must arrive once and intact. It prints the session
table and the throughput, and exits 0 when everything arrived (1 otherwise). The server's and the
client's log lines (RouterOS style) go to stderr.";

#[derive(Parser)]
#[command(name = "ovpn-demo", version, about = "Our OpenVPN server and client talking in one process (no root needed)", long_about = LONG_ABOUT)]
struct Cli {
    /// Packets to send each way
    #[arg(long, default_value_t = 20000)]
    packets: u32,
    /// Size of each IP packet in bytes (32..=1500)
    #[arg(long, default_value_t = 1400)]
    size: usize,
    /// The data cipher (RouterOS name: aes256-gcm, aes128-gcm, aes256-cbc, aes128-cbc, blowfish128, ...)
    #[arg(long, default_value = "aes256-gcm")]
    cipher: String,
    /// The HMAC for CBC ciphers (sha1, sha256, sha512, md5)
    #[arg(long, default_value = "sha256")]
    auth: String,
    /// Use TCP instead of UDP
    #[arg(long)]
    tcp: bool,
    /// More log lines (-v debug)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let options = DemoOptions {
        packets: cli.packets,
        size: cli.size,
        cipher: cli.cipher,
        auth: cli.auth,
        tcp: cli.tcp,
        ..DemoOptions::default()
    };
    println!(
        "ovpn-demo: our OpenVPN server and client in one process, over {} on 127.0.0.1\n",
        if options.tcp { "TCP" } else { "UDP" }
    );
    let report = match demo::run(&options) {
        Ok(r) => r,
        Err(e) => {
            logging::flush();
            println!("FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("The server's script:\n{}", indent(&report.server_script));
    println!("The client's script:\n{}", indent(&report.client_script));
    println!(
        "The client's interface came up {} ms after it started.\n",
        report.connect_time.as_millis()
    );
    println!(
        "/interface ovpn-server print\n{}",
        indent(&table::interface_print(&report.sessions))
    );
    println!(
        "/ppp active print\n{}",
        indent(&table::ppp_active_print(&report.sessions))
    );
    let encoding = report
        .sessions
        .first()
        .and_then(|s| s.encoding)
        .map_or_else(|| "?".to_owned(), |e| e.to_string());
    println!(
        "Through the tunnel ({encoding}, {} packets of {} bytes each way, at most {} in flight):",
        options.packets, options.size, options.window
    );
    for t in &report.throughput {
        println!(
            "    {}: {}/{} packets arrived in {:.3} s: {:.1} Mbit/s, {:.0} packets/s",
            t.direction,
            t.arrived,
            t.packets,
            t.elapsed.as_secs_f64(),
            t.mbit_per_s(),
            t.packets_per_s()
        );
    }
    println!("\nOK: every packet arrived once and intact, both ways.");
    ExitCode::SUCCESS
}
