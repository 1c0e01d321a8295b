//! RouterOS script (`.rsc`) parsing: the command syntax of RouterOS's console, as far as the
//! OpenVPN page's commands need it.
//!
//! - `# comment` lines; blank lines.
//! - A line ending in `\` continues on the next line.
//! - A menu path alone on a line (`/certificate`) sets the context for the following relative
//!   commands (`add ...`, `sign ...`); an absolute command names its menu (`/ip pool add ...`).
//! - Arguments are `key=value` or positional (`sign ca-template ca=ca`); values may be quoted, with
//!   RouterOS's escapes; `[find ...]` is kept as one positional token. The words of a line are
//!   `ovpn-rsc`'s, the workspace's one reading of RouterOS text.

use core::fmt;

use ovpn_rsc::Token;

/// The menus the programs know; the longest matching prefix of a command's words is its menu.
pub const MENUS: &[&str] = &[
    "certificate",
    "certificate crl",
    "certificate settings",
    "interface ovpn-server server",
    "interface ovpn-server",
    "interface ovpn-client",
    "interface list",
    "interface list member",
    "interface",
    "ip pool",
    "ip pool used",
    "ip address",
    "ip route",
    "ip firewall filter",
    "ip firewall nat",
    "ip firewall mangle",
    "ipv6 pool",
    "ipv6 pool used",
    "ppp profile",
    "ppp secret",
    "ppp aaa",
    "ppp active",
    "system logging",
    "system logging action",
    "system identity",
    "system resource",
    "log",
];

/// One command of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The 1-based line it starts on.
    pub line: usize,
    /// The menu, words joined by spaces (`ip pool`).
    pub menu: String,
    /// The verb (`add`, `set`, `sign`, ...).
    pub verb: String,
    /// Positional arguments, in order.
    pub positional: Vec<String>,
    /// `key=value` arguments, in order.
    pub props: Vec<(String, String)>,
}

impl Command {
    /// The value of property `key`, if given.
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The properties as borrowed pairs.
    pub fn prop_pairs(&self) -> Vec<(&str, &str)> {
        self.props
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{} {}", self.menu, self.verb)?;
        for p in &self.positional {
            write!(f, " {}", quote(p))?;
        }
        for (k, v) in &self.props {
            write!(f, " {k}={}", quote(v))?;
        }
        Ok(())
    }
}

/// Quotes a value when RouterOS would need it (the workspace's one quoting, `ovpn-rsc`'s).
pub use ovpn_rsc::quote;

/// A script error, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ScriptError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// The longest command a script or console line may be, continuations included (64 KiB): a
/// longer one is refused with its line, and not tokenized (so that one huge line cannot cost
/// many times its size in memory).
pub const MAX_LINE: usize = 64 * 1024;

/// Parses a whole script. Every problem is reported (not only the first), each with its line.
pub fn parse(script: &str) -> Result<Vec<Command>, Vec<ScriptError>> {
    let (commands, errors) = parse_all(script);
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(errors)
    }
}

/// Like [`parse`], but keeps going: every command that parses, and every line that does not, so
/// that one bad line never hides the problems of the others.
pub fn parse_all(script: &str) -> (Vec<Command>, Vec<ScriptError>) {
    let mut commands = Vec::new();
    let mut errors = Vec::new();
    let mut context: Vec<String> = Vec::new();
    let mut pending = String::new();
    let mut start_line = 0;
    // Inside a command already refused as too long: skipped to its last continued line.
    let mut skipping = false;
    for (i, raw) in script.lines().enumerate() {
        let line_no = i + 1;
        if pending.is_empty() && !skipping {
            start_line = line_no;
        }
        let trimmed = raw.trim_end();
        let continued = trimmed.ends_with('\\') && !trimmed.ends_with("\\\\");
        if skipping {
            skipping = continued;
            continue;
        }
        if pending.len() + trimmed.len() > MAX_LINE {
            errors.push(ScriptError {
                line: start_line,
                what: format!(
                    "the command is longer than {} KiB: not read",
                    MAX_LINE / 1024
                ),
            });
            pending.clear();
            skipping = continued;
            continue;
        }
        if let Some(cont) = trimmed.strip_suffix('\\')
            && !cont.ends_with('\\')
        {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let text = core::mem::take(&mut pending);
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        match parse_line(text, &context) {
            Ok(Line::Context(c)) => context = c,
            Ok(Line::Command(mut c)) => {
                c.line = start_line;
                commands.push(c);
            }
            Err(what) => errors.push(ScriptError {
                line: start_line,
                what,
            }),
        }
    }
    if !pending.trim().is_empty() {
        errors.push(ScriptError {
            line: start_line,
            what: "the script ends inside a continued line".into(),
        });
    }
    (commands, errors)
}

enum Line {
    Context(Vec<String>),
    Command(Command),
}

fn parse_line(text: &str, context: &[String]) -> Result<Line, String> {
    let tokens = ovpn_rsc::tokenize(text).map_err(|e| e.to_string())?;
    let (absolute, mut words) = match tokens.first() {
        Some(Token::Word(w)) if w.starts_with('/') => {
            let mut v = Vec::new();
            for part in w.trim_start_matches('/').split('/') {
                if !part.is_empty() {
                    v.push(Token::Word(part.to_owned()));
                }
            }
            v.extend(tokens[1..].iter().cloned());
            (true, v)
        }
        _ => (false, tokens),
    };
    // `..` goes up one menu level in relative commands.
    let mut base: Vec<String> = if absolute {
        Vec::new()
    } else {
        context.to_vec()
    };
    while let Some(Token::Word(w)) = words.first() {
        if w != ".." {
            break;
        }
        base.pop();
        words.remove(0);
    }
    if words.is_empty() {
        return Ok(Line::Context(base));
    }
    // The menu: base plus the longest run of leading bare words that names a known menu.
    let leading: Vec<String> = words
        .iter()
        .map_while(|t| match t {
            Token::Word(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    let mut menu_len = None;
    for n in (0..=leading.len()).rev() {
        let mut m = base.clone();
        m.extend(leading[..n].iter().cloned());
        if MENUS.contains(&m.join(" ").as_str()) {
            menu_len = Some(n);
            break;
        }
    }
    let Some(n) = menu_len else {
        let mut m = base.clone();
        m.extend(leading.iter().cloned());
        let path = m.join(" ");
        // A menu level on its own (`/ip`) is a context when some known menu lies below it.
        if leading.len() == words.len()
            && MENUS
                .iter()
                .any(|k| k.starts_with(&path) && k.as_bytes().get(path.len()) == Some(&b' '))
        {
            return Ok(Line::Context(m));
        }
        return Err(unknown_menu(&m));
    };
    let mut menu = base;
    menu.extend(leading[..n].iter().cloned());
    let rest = &words[n..];
    let Some(first) = rest.first() else {
        return Ok(Line::Context(menu));
    };
    let Token::Word(verb) = first else {
        return Err(format!("expected a command after /{}", menu.join(" ")));
    };
    // A command's name is a word of letters, digits and dashes (`export-client-configuration`):
    // anything else (an escape, a bracket) is no command of any menu.
    if !verb.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("bad command name {verb} (/{})", menu.join(" ")));
    }
    let mut cmd = Command {
        line: 0,
        menu: menu.join(" "),
        verb: verb.clone(),
        positional: Vec::new(),
        props: Vec::new(),
    };
    for t in &rest[1..] {
        match t {
            Token::Word(w) | Token::Quoted(w) | Token::Bracket(w) => cmd.positional.push(w.clone()),
            Token::Prop(k, v) => cmd.props.push((k.clone(), v.clone())),
        }
    }
    Ok(Line::Command(cmd))
}

/// The error for a line that names no known menu. It shows the first words only, shortened,
/// and nothing at all of a line that looks like key or certificate material (a PEM boundary,
/// base64), so that a key file given as a script is never echoed into a log.
fn unknown_menu(words: &[String]) -> String {
    let secret_like = |w: &str| {
        w.starts_with("-----")
            || (w.len() >= 16
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
    };
    if words.iter().any(|w| secret_like(w)) {
        return "unknown menu or command (not shown: the line looks like key or certificate \
                material; is this a PEM or .ovpn file rather than a script?)"
            .into();
    }
    let mut shown: String = words.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
    if shown.chars().count() > 40 {
        shown = shown.chars().take(40).collect::<String>() + "...";
    }
    format!("unknown menu or command: /{shown}")
}

#[cfg(test)]
mod tests {
    /// A command over 64 KiB is refused with its line and skipped whole (continuations too);
    /// the commands around it still parse.
    #[test]
    fn a_command_name_is_a_plain_word() {
        // Found by the rsc_script fuzz target: `/interface ovpn-client\\dd ...` made a verb with
        // a backslash, which printed back as something else.
        let e = parse("/interface ovpn-client\\\\dd name=x\n").unwrap_err();
        assert!(e[0].what.contains("bad command name"), "{e:?}");
        assert!(parse("/ppp secret add name=x\n").is_ok());
    }

    #[test]
    fn an_overlong_command_is_refused_and_skipped() {
        let long = "x".repeat(super::MAX_LINE + 1);
        let script = format!(
            "/ip pool add name=a ranges=10.0.0.1\n/ppp secret add name=b password={long}\n\
             /ppp secret add name=c \\\npassword={long} \\\nservice=ovpn\n\
             /ip pool add name=d ranges=10.0.0.2\n"
        );
        let (commands, errors) = super::parse_all(&script);
        let names: Vec<_> = commands.iter().filter_map(|c| c.prop("name")).collect();
        assert_eq!(names, ["a", "d"]);
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3], "{errors:?}");
        assert!(errors[0].what.contains("longer than 64 KiB"));
    }

    use super::*;

    /// The server commands of the RouterOS OpenVPN page, as written there.
    const PAGE: &str = r#"
/certificate
add name=ca-template common-name="OpenVPN CA" days-valid=3650 \
    key-size=2048 key-usage=key-cert-sign,crl-sign
sign ca-template ca=ca-template name=ca

/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254
/ppp profile add name=ovpn-profile \
    local-address=10.8.0.1 \
    remote-address=ovpn-pool \
    dns-server=8.8.8.8 \
    use-compression=no \
    use-encryption=required
/ppp secret add name=client1 password=StrongPassword1 \
    profile=ovpn-profile service=ovpn
/interface ovpn-server server set \
    enabled=yes \
    port=1194 \
    cipher=aes256-cbc \
    max-mtu=1500
/ip firewall filter
add chain=input protocol=udp dst-port=1194 action=accept comment="OpenVPN UDP server"
/interface ovpn-client set [find] keepalive-timeout=30
"#;

    #[test]
    fn parses_the_routeros_page() {
        let cmds = parse(PAGE).unwrap();
        let summary: Vec<(usize, &str, &str)> = cmds
            .iter()
            .map(|c| (c.line, c.menu.as_str(), c.verb.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (3, "certificate", "add"),
                (5, "certificate", "sign"),
                (7, "ip pool", "add"),
                (8, "ppp profile", "add"),
                (14, "ppp secret", "add"),
                (16, "interface ovpn-server server", "set"),
                (22, "ip firewall filter", "add"),
                (23, "interface ovpn-client", "set"),
            ]
        );
        assert_eq!(cmds[0].prop("common-name"), Some("OpenVPN CA"));
        assert_eq!(cmds[0].prop("key-usage"), Some("key-cert-sign,crl-sign"));
        assert_eq!(cmds[1].positional, ["ca-template"]);
        assert_eq!(cmds[1].prop("ca"), Some("ca-template"));
        assert_eq!(cmds[3].props.len(), 6);
        assert_eq!(cmds[6].prop("comment"), Some("OpenVPN UDP server"));
        assert_eq!(cmds[7].positional, ["[find]"]);
        assert_eq!(cmds[5].prop("max-mtu"), Some("1500"));
    }

    #[test]
    fn quoting_and_escapes() {
        let c = &parse(r#"/ppp secret add name=a password="p \"q\" \\ r" comment="""#).unwrap()[0];
        assert_eq!(c.prop("password"), Some(r#"p "q" \ r"#));
        assert_eq!(c.prop("comment"), Some(""));
        let back = parse(&c.to_string()).unwrap();
        assert_eq!(back[0].props, c.props);
        assert_eq!(
            parse("/certificate export-certificate ca export-passphrase=\"\"").unwrap()[0]
                .prop("export-passphrase"),
            Some("")
        );
    }

    #[test]
    fn every_error_has_its_line() {
        let errs =
            parse("/ip pool add name=a\n/nonsense thing\n/ppp secret add name=\"x\n").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].what.contains("unknown menu"), "{}", errs[0]);
        assert_eq!(errs[1].line, 3);
        assert!(errs[1].what.contains("unterminated quote"));
        let errs = parse("/ip pool add \\").unwrap_err();
        assert!(errs[0].what.contains("continued line"));
    }

    #[test]
    fn context_and_relative_paths() {
        let cmds = parse("/ip\npool add name=a ranges=10.0.0.1\n/ppp\nsecret add name=b\n..\nip pool print # all\n").unwrap();
        assert_eq!(cmds[0].menu, "ip pool");
        assert_eq!(cmds[1].menu, "ppp secret");
        assert_eq!(cmds[2].menu, "ip pool");
        assert_eq!(cmds[2].verb, "print");
    }
}
