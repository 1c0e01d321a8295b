//! RouterOS property text: `name=client1 password="a b" service=ovpn`.
//!
//! [`parse`] splits the properties of one command (what follows `add` or `set`) into unquoted
//! `(key, value)` pairs; [`quote`] and [`format()`] write them back. Splitting a script into
//! commands, line continuations and command words are the caller's business.
//!
//! The syntax:
//! - pairs are separated by spaces, tabs or line breaks; each is `key=value`;
//! - a key is lower-case letters, digits and `-` (RouterOS property names);
//! - a value is either bare (up to the next white space, no `"` inside) or in double quotes;
//! - in both, a backslash starts an escape: `\"`, `\\`, `\n`, `\r`, `\t`, `\$`, `\?`, `\_` (a
//!   space), `\a`, `\b`, `\f`, `\v`, or two upper-case hex digits for a byte (`\41` is `A`); the bytes must
//!   form UTF-8.
//!
//! ```
//! use ovpn_ppp::properties;
//!
//! let pairs = properties::parse(r#"name=client1 password="a b\"c" service=ovpn"#)?;
//! assert_eq!(pairs[1], ("password".to_string(), "a b\"c".to_string()));
//! assert_eq!(properties::format(&pairs), r#"name=client1 password="a b\"c" service=ovpn"#);
//! # Ok::<(), ovpn_ppp::Error>(())
//! ```

use std::borrow::Cow;

use crate::Error;

fn syntax(offset: usize, reason: &'static str) -> Error {
    Error::Syntax { offset, reason }
}

/// A RouterOS hex escape digit: `0-9` or upper-case `A-F` (so `\a`, `\b`, `\f` stay escapes).
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits property text into `(key, value)` pairs, in order, with quotes and escapes removed.
///
/// Repeated keys are kept (the entry constructors refuse them). Errors give the byte offset.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, Error> {
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(pairs);
        }
        let key_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        {
            i += 1;
        }
        let key = text.get(key_start..i).unwrap_or_default();
        match bytes.get(i) {
            Some(b'=') if !key.is_empty() => i += 1,
            Some(b'=') => return Err(syntax(i, "missing property name")),
            None => return Err(syntax(i, "expected key=value")),
            Some(b) if b.is_ascii_whitespace() => return Err(syntax(i, "expected key=value")),
            Some(_) => return Err(syntax(i, "invalid character in property name")),
        }
        let quoted = bytes.get(i) == Some(&b'"');
        if quoted {
            i += 1;
        }
        let value_start = i;
        let mut value = Vec::new();
        loop {
            match bytes.get(i) {
                None if quoted => return Err(syntax(value_start - 1, "unterminated quote")),
                None => break,
                Some(b'"') if quoted => {
                    i += 1;
                    if bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                        return Err(syntax(i, "expected white space after closing quote"));
                    }
                    break;
                }
                Some(b'"') => return Err(syntax(i, "quote inside a bare value")),
                Some(b) if !quoted && b.is_ascii_whitespace() => break,
                Some(b'\\') => {
                    let at = i;
                    let escaped = match bytes.get(i + 1) {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'$') => b'$',
                        Some(b'?') => b'?',
                        Some(b'_') => b' ',
                        Some(b'a') => 0x07,
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'v') => 0x0b,
                        Some(&h) => match (hex(h), bytes.get(i + 2).copied().and_then(hex)) {
                            (Some(hi), Some(lo)) => {
                                i += 1;
                                hi << 4 | lo
                            }
                            _ => return Err(syntax(at, "unknown escape")),
                        },
                        None => return Err(syntax(at, "backslash at end of text")),
                    };
                    value.push(escaped);
                    i += 2;
                }
                Some(&b) => {
                    value.push(b);
                    i += 1;
                }
            }
        }
        let value =
            String::from_utf8(value).map_err(|_| syntax(value_start, "value is not UTF-8"))?;
        pairs.push((key.to_owned(), value));
    }
}

/// Quotes a value as RouterOS prints it: bare when made of safe characters only
/// (letters, digits and `-_.:/,@+*%!`), otherwise in double quotes with `"`, `\`, `$`, `?` and
/// control characters escaped. [`parse`] reads the result back to the same value.
pub fn quote(value: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/,@+*%!".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        return value.into();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '?' => out.push_str("\\?"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&std::format!("\\{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out.into()
}

/// Writes pairs back as property text (`key=value`, space-separated, values quoted as needed).
pub fn format<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(key.as_ref());
        out.push('=');
        out.push_str(&quote(value.as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn splits_and_unquotes() {
        assert_eq!(
            parse("name=client1 password=StrongPassword1\tprofile=ovpn-profile\n service=ovpn")
                .unwrap(),
            pairs(&[
                ("name", "client1"),
                ("password", "StrongPassword1"),
                ("profile", "ovpn-profile"),
                ("service", "ovpn")
            ])
        );
        assert_eq!(
            parse(r#"comment="a b" x="" y=\_z w="\41\42\n\t\r\$\?\a\b\f\v\\\"""#).unwrap(),
            pairs(&[
                ("comment", "a b"),
                ("x", ""),
                ("y", " z"),
                ("w", "AB\n\t\r$?\u{7}\u{8}\u{c}\u{b}\\\"")
            ])
        );
        assert_eq!(parse("  ").unwrap(), pairs(&[]));
        assert_eq!(parse("a= b=c").unwrap(), pairs(&[("a", ""), ("b", "c")]));
        assert_eq!(parse("c=\"é ü\"").unwrap(), pairs(&[("c", "é ü")]));
        assert_eq!(parse("c=\\C3\\A9").unwrap(), pairs(&[("c", "é")]));
    }

    #[test]
    fn syntax_errors_give_the_offset() {
        for (text, offset, reason) in [
            ("name", 4, "expected key=value"),
            ("name client", 4, "expected key=value"),
            ("=x", 0, "missing property name"),
            ("Name=x", 0, "invalid character in property name"),
            ("a=\"x", 2, "unterminated quote"),
            ("a=\"x\"y", 5, "expected white space after closing quote"),
            ("a=x\"y\"", 3, "quote inside a bare value"),
            ("a=\\q", 2, "unknown escape"),
            ("a=\\4", 2, "unknown escape"),
            ("a=\\4a", 2, "unknown escape"),
            ("a=x\\", 3, "backslash at end of text"),
            ("a=\\FF", 2, "value is not UTF-8"),
        ] {
            assert_eq!(parse(text), Err(Error::Syntax { offset, reason }), "{text}");
        }
        assert_eq!(
            parse("a=\"x").unwrap_err().to_string(),
            "syntax error at byte 2: unterminated quote"
        );
    }

    #[test]
    fn quote_and_format_round_trip() {
        assert_eq!(quote("ovpn-pool"), "ovpn-pool");
        assert_eq!(
            quote("10.8.0.2-10.8.0.254,10.9.0.0/24"),
            "10.8.0.2-10.8.0.254,10.9.0.0/24"
        );
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("x\u{1}"), "\"x\\01\"");
        let list = pairs(&[
            ("a", "x y"),
            ("b", ""),
            ("c", "\\\"$?\n\u{7f}é"),
            ("d", "plain"),
        ]);
        let text = format(&list);
        assert_eq!(parse(&text).unwrap(), list);
    }
}
