//! RouterOS script text, written once for every ovpn crate: the words of a command line
//! ([`tokenize`]), `key=value` property text ([`parse_properties`], [`format_properties`]),
//! quoting and escapes ([`quote`]), `yes`/`no` ([`yes_no`]) and durations ([`parse_duration`],
//! [`format_duration`]). Each crate keeps `FromStr`/`Display` for its own value types and builds
//! them on these.
//!
//! The syntax, as RouterOS's console writes it:
//! - words are separated by white space; a word that starts with `#` starts a comment to the end
//!   of the text;
//! - a property is `key=value`, its key lower-case letters, digits and `-`;
//! - a value (or a positional word) is bare, up to the next white space with no `"` inside, or in
//!   double quotes;
//! - in both, a backslash starts an escape: `\"`, `\\`, `\n`, `\r`, `\t`, `\$`, `\?`, `\_` (a
//!   space), `\a`, `\b`, `\f`, `\v`, or two upper-case hex digits for a byte (`\41` is `A`); the
//!   bytes must form UTF-8. Any other escape is an error;
//! - `[...]` (as in `[find name=x]`) is one word, brackets nested.
//!
//! Line continuations (a `\` at the end of a line) and menus are the script reader's business.
//!
//! ```
//! use ovpn_rsc::{Token, format_properties, parse_properties, quote, tokenize};
//!
//! let words = tokenize(r#"set [find name=x] comment="a b\"c" disabled=no"#)?;
//! assert_eq!(words[0], Token::Word("set".into()));
//! assert_eq!(words[1], Token::Bracket("[find name=x]".into()));
//! assert_eq!(words[2], Token::Prop("comment".into(), "a b\"c".into()));
//! assert_eq!(quote("a b\"c"), r#""a b\"c""#);
//!
//! let pairs = parse_properties("name=client1 password=\"p w\"")?;
//! assert_eq!(format_properties(&pairs), "name=client1 password=\"p w\"");
//! assert_eq!(ovpn_rsc::yes_no("yes"), Some(true));
//! assert_eq!(ovpn_rsc::parse_duration("1h30m"), Some(std::time::Duration::from_secs(5400)));
//! # Ok::<(), ovpn_rsc::SyntaxError>(())
//! ```

mod duration;
mod quote;
mod scan;

pub use duration::{format_duration, parse_duration};
pub use quote::quote;
pub use scan::{SyntaxError, Token, format_properties, parse_properties, tokenize};

/// RouterOS's `yes`/`no` (also `true`/`false`); `None` for anything else.
pub fn yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// `yes` or `no`, as RouterOS prints a switch.
pub fn yes_no_str(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn yes_and_no() {
        for (t, want) in [
            ("yes", Some(true)),
            ("true", Some(true)),
            ("no", Some(false)),
        ] {
            assert_eq!(super::yes_no(t), want);
        }
        assert_eq!(super::yes_no("Yes"), None);
        assert_eq!(super::yes_no_str(false), "no");
    }
}
