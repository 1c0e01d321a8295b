//! `ovpn-dissect`: decodes OpenVPN packets from hex fixture files with `ovpn-wire` and prints one
//! line per packet.
//!
//! ```text
//! ovpn-dissect [--protection none|tls-auth[:N]|tls-crypt] [--tcp|--udp] [FILE...]
//! cargo run -p ovpn-examples --bin ovpn-dissect -- testdata/wire/*.hex
//! ```
//!
//! Input is the fixture format written by `testdata/wire/capture.sh`: one packet per line as
//! `c2s HEX` / `s2c HEX` (client to server / server to client; the direction word is optional,
//! and the hex may contain spaces),
//! anything after `#` is a comment, and the header comments `# protection: ...` and
//! `# transport: udp|tcp` say how to decode the file. With `--tcp` (or `# transport: tcp`) each
//! line is a piece of a TCP stream, and each direction's stream is deframed (2-byte length
//! prefixes) before decoding. Command-line options override the headers. Without files, or with
//! `-`, standard input is read.
//!
//! For every packet it prints the direction, opcode, key id, session ids, acks, message id,
//! payload length and peer id, plus the tls-auth / tls-crypt fields (the tls-crypt body is
//! encrypted, so its acks and message id are not visible). A line that does not decode gets an
//! error message naming the file and line, and the exit status is then 1.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use ovpn_wire::{
    ControlPacket, ControlProtection, Decoded, Packet, TcpFrameDecoder, TlsAuthPacket,
    TlsCryptPacket, WireError,
};

const USAGE: &str = "usage: ovpn-dissect [--protection none|tls-auth[:N]|tls-crypt] [--tcp|--udp] [FILE...]
Decodes hex fixture files (testdata/wire/*.hex) with ovpn-wire; reads stdin without FILE or with -.";

/// Command-line settings; `None` means "take it from the file's header comments".
#[derive(Default)]
struct Options {
    protection: Option<ControlProtection>,
    tcp: Option<bool>,
    files: Vec<String>,
}

fn parse_protection(s: &str) -> Result<ControlProtection, String> {
    match s {
        "none" => Ok(ControlProtection::None),
        "tls-crypt" | "tls-crypt-v2" => Ok(ControlProtection::TlsCrypt),
        "tls-auth" => Ok(ControlProtection::TLS_AUTH_SHA1),
        other => {
            let len = other
                .strip_prefix("tls-auth:")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("bad protection {other:?} (none, tls-auth:N, tls-crypt)"))?;
            let protection = ControlProtection::TlsAuth { hmac_len: len };
            protection.validate().map_err(|e| e.to_string())?;
            Ok(protection)
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--tcp" => options.tcp = Some(true),
            "--udp" => options.tcp = Some(false),
            "--protection" => {
                let value = args.next().ok_or("--protection needs a value")?;
                options.protection = Some(parse_protection(&value)?);
            }
            _ if arg.starts_with("--protection=") => {
                options.protection = Some(parse_protection(&arg["--protection=".len()..])?);
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => options.files.push(arg),
        }
    }
    if options.files.is_empty() {
        options.files.push("-".to_owned());
    }
    Ok(options)
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex at character {i}"))
        })
        .collect()
}

fn ids(list: &[u32]) -> String {
    let inner: Vec<String> = list.iter().map(u32::to_string).collect();
    format!("[{}]", inner.join(","))
}

/// The fields of a plain control packet, for the output line.
fn describe_control(out: &mut String, p: &ControlPacket<'_>) {
    let _ = write!(out, " sid {} acks {}", p.session_id, ids(&p.acks));
    if let Some(remote) = p.remote_session_id {
        let _ = write!(out, " remote {remote}");
    }
    match p.message_id {
        Some(id) => {
            let _ = write!(out, " msg {id}");
        }
        None => out.push_str(" msg -"),
    }
    let _ = write!(out, " payload {}", p.payload.len());
}

fn describe_tls_auth(out: &mut String, p: &TlsAuthPacket<'_>) -> Result<(), WireError> {
    let control = p.control()?;
    describe_control(out, &control);
    let _ = write!(
        out,
        " | tls-auth hmac {}B replay {} time {}",
        p.hmac.len(),
        p.replay_id,
        p.time
    );
    Ok(())
}

fn describe_tls_crypt(out: &mut String, p: &TlsCryptPacket<'_>) {
    let _ = write!(
        out,
        " sid {} | tls-crypt replay {:#010x} time {} encrypted {}",
        p.session_id,
        p.replay_id,
        p.time,
        p.ciphertext.len()
    );
    if let Some(wkc) = p.wkc {
        let _ = write!(out, " wkc {}", wkc.len());
    }
}

/// One output line for a packet, or the decoding error.
fn describe(packet: &[u8], protection: ControlProtection) -> Result<String, WireError> {
    let parsed = Packet::parse(packet, protection)?;
    let mut out = format!("{} kid {}", parsed.opcode(), parsed.key_id());
    match &parsed {
        Packet::Control(p) => describe_control(&mut out, p),
        Packet::TlsAuth(p) => describe_tls_auth(&mut out, p)?,
        Packet::TlsCrypt(p) => describe_tls_crypt(&mut out, p),
        Packet::Data(p) => {
            match p.header.peer_id() {
                Some(peer) if peer.is_set() => {
                    let _ = write!(out, " peer {peer}");
                }
                Some(_) => out.push_str(" peer unset"),
                None => {}
            }
            let _ = write!(out, " payload {}", p.payload.len());
        }
    }
    Ok(out)
}

/// Dissects one file's text; prints to `out`, errors to stderr; returns the number of errors.
fn dissect(name: &str, text: &str, options: &Options, out: &mut impl Write) -> io::Result<usize> {
    let mut protection = options.protection;
    let mut tcp = options.tcp;
    // headers may come anywhere before the first packet line; read them all first
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            continue;
        };
        let comment = comment.trim();
        if let Some(value) = comment.strip_prefix("protection:") {
            if protection.is_none() {
                match parse_protection(value.trim()) {
                    Ok(p) => protection = Some(p),
                    Err(e) => {
                        eprintln!("{name}: {e}");
                        return Ok(1);
                    }
                }
            }
        } else if let Some(value) = comment.strip_prefix("transport:") {
            tcp = tcp.or(Some(value.trim() == "tcp"));
        }
    }
    let protection = protection.unwrap_or_default();
    let tcp = tcp.unwrap_or(false);
    writeln!(
        out,
        "== {name} (protection {}, {})",
        match protection {
            ControlProtection::None => "none".to_owned(),
            ControlProtection::TlsAuth { hmac_len } => format!("tls-auth:{hmac_len}"),
            ControlProtection::TlsCrypt => "tls-crypt".to_owned(),
        },
        if tcp { "tcp" } else { "udp" }
    )?;

    let mut errors = 0;
    let mut count = 0;
    // one TCP stream per direction word ("c2s", "s2c", or "" when absent)
    let mut streams: Vec<(String, TcpFrameDecoder)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        let data = line.split_once('#').map_or(line, |(data, _)| data);
        let mut words = data.split_whitespace().peekable();
        let direction = match words.peek() {
            None => continue,
            Some(&d @ ("c2s" | "s2c")) => {
                words.next();
                d
            }
            Some(_) => "",
        };
        let hex: String = words.collect();
        let bytes = match decode_hex(&hex) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{name}:{number}: {e}");
                errors += 1;
                continue;
            }
        };
        let shown = if direction.is_empty() { "?" } else { direction };
        if !tcp {
            count += 1;
            match describe(&bytes, protection) {
                Ok(text) => writeln!(out, "{count:4} {shown} {text}")?,
                Err(e) => {
                    eprintln!("{name}:{number}: cannot decode packet: {e}");
                    errors += 1;
                }
            }
            continue;
        }
        let index = match streams.iter().position(|(d, _)| d == direction) {
            Some(index) => index,
            None => {
                streams.push((direction.to_owned(), TcpFrameDecoder::new()));
                streams.len() - 1
            }
        };
        let Some((_, decoder)) = streams.get_mut(index) else {
            continue;
        };
        let mut input = &bytes[..];
        loop {
            match decoder.decode(input) {
                Ok(Decoded::Frame { frame, consumed }) => {
                    count += 1;
                    match describe(frame, protection) {
                        Ok(text) => writeln!(out, "{count:4} {shown} {text}")?,
                        Err(e) => {
                            eprintln!("{name}:{number}: cannot decode packet: {e}");
                            errors += 1;
                        }
                    }
                    input = input.get(consumed..).unwrap_or_default();
                }
                Ok(Decoded::NeedMore) => break,
                Err(e) => {
                    eprintln!("{name}:{number}: broken TCP stream ({shown}): {e}");
                    errors += 1;
                    decoder.reset();
                    break;
                }
            }
        }
    }
    for (direction, decoder) in &streams {
        if decoder.buffered() > 0 {
            let shown = if direction.is_empty() { "?" } else { direction };
            eprintln!(
                "{name}: {shown} stream ends inside a packet ({} bytes left)",
                decoder.buffered()
            );
            errors += 1;
        }
    }
    Ok(errors)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ovpn-dissect: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut errors = 0;
    // stdout is line-buffered, so output and error lines interleave in order
    let mut out = io::stdout().lock();
    for file in &options.files {
        let (name, text) = if file == "-" {
            let mut text = String::new();
            if let Err(e) = io::stdin().read_to_string(&mut text) {
                eprintln!("ovpn-dissect: stdin: {e}");
                errors += 1;
                continue;
            }
            ("<stdin>", text)
        } else {
            match std::fs::read_to_string(file) {
                Ok(text) => (file.as_str(), text),
                Err(e) => {
                    eprintln!("ovpn-dissect: {file}: {e}");
                    errors += 1;
                    continue;
                }
            }
        };
        match dissect(name, &text, &options, &mut out) {
            Ok(n) => errors += n,
            // e.g. `| head` closed the pipe: stop quietly
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ovpn-dissect: writing output: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(e) = out.flush() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("ovpn-dissect: writing output: {e}");
            return ExitCode::FAILURE;
        }
    }
    if errors > 0 {
        eprintln!("ovpn-dissect: {errors} error(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
