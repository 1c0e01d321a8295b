//! The words of one command: bare and quoted words, `key=value` properties, `[...]` brackets,
//! with RouterOS's escapes; and property text, which is a command of properties only.

use crate::quote;

/// A malformed piece of text: where (a byte offset) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at byte {offset})")]
pub struct SyntaxError {
    /// The byte offset of the problem in the text.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

fn syntax(offset: usize, reason: &'static str) -> SyntaxError {
    SyntaxError { offset, reason }
}

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare positional word (`add`, `/ip`, `ca-template`), escapes resolved.
    Word(String),
    /// A positional word in double quotes, unquoted.
    Quoted(String),
    /// `[...]`, kept whole (`[find name=x]`).
    Bracket(String),
    /// `key=value`, the value unquoted.
    Prop(String, String),
}

/// A RouterOS hex escape digit: `0-9` or upper-case `A-F` (so `\a`, `\b`, `\f` stay escapes).
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

/// Reads a value (bare or quoted) starting at `*i`, with escapes resolved; leaves `*i` after it.
fn value(text: &str, i: &mut usize) -> Result<String, SyntaxError> {
    let bytes = text.as_bytes();
    let quoted = bytes.get(*i) == Some(&b'"');
    if quoted {
        *i += 1;
    }
    let start = *i;
    let mut out = Vec::new();
    loop {
        match bytes.get(*i) {
            None if quoted => return Err(syntax(start - 1, "unterminated quote")),
            None => break,
            Some(b'"') if quoted => {
                *i += 1;
                if bytes.get(*i).is_some_and(|b| !b.is_ascii_whitespace()) {
                    return Err(syntax(*i, "expected white space after closing quote"));
                }
                break;
            }
            Some(b'"') => return Err(syntax(*i, "quote inside a bare value")),
            Some(b) if !quoted && b.is_ascii_whitespace() => break,
            Some(b'\\') => {
                let at = *i;
                let escaped = match bytes.get(*i + 1) {
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
                    Some(&h) => match (hex(h), bytes.get(*i + 2).copied().and_then(hex)) {
                        (Some(hi), Some(lo)) => {
                            *i += 1;
                            hi << 4 | lo
                        }
                        _ => return Err(syntax(at, "unknown escape")),
                    },
                    None => return Err(syntax(at, "backslash at end of text")),
                };
                out.push(escaped);
                *i += 2;
            }
            Some(&b) => {
                out.push(b);
                *i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| syntax(start, "value is not UTF-8"))
}

/// Reads a bare word with quoted parts inside (`topics~"a b"`) as written, up to white space
/// outside quotes; leaves `*i` after it.
fn expression(text: &str, i: &mut usize) -> Result<String, SyntaxError> {
    let bytes = text.as_bytes();
    let start = *i;
    let mut open = None;
    while let Some(&b) = bytes.get(*i) {
        match b {
            b'\\' => *i += 1,
            b'"' => open = if open.is_some() { None } else { Some(*i) },
            b if b.is_ascii_whitespace() && open.is_none() => break,
            _ => {}
        }
        *i += 1;
    }
    if let Some(at) = open {
        return Err(syntax(at, "unterminated quote"));
    }
    Ok(text
        .get(start..(*i).min(text.len()))
        .unwrap_or_default()
        .to_owned())
}

/// Splits one command line into its words. A word starting with `#` ends the line (a comment).
pub fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    Ok(words(text)?.into_iter().map(|(_, t)| t).collect())
}

/// [`tokenize`], each word with the byte offset where it starts.
fn words(text: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&first) = bytes.get(i) else {
            return Ok(out);
        };
        let at = i;
        match first {
            b'#' => return Ok(out),
            b'[' => {
                let start = i;
                let mut depth = 0usize;
                loop {
                    match bytes.get(i) {
                        None => return Err(syntax(start, "unterminated [")),
                        Some(b'[') => depth += 1,
                        Some(b']') => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                out.push((at, Token::Bracket(text[start..i].to_owned())));
            }
            b'"' => out.push((at, Token::Quoted(value(text, &mut i)?))),
            _ => {
                // `key=value` when the word starts with a key and `=`; else a bare word.
                let key_end = bytes[i..]
                    .iter()
                    .position(|b| !is_key_byte(*b))
                    .map_or(bytes.len(), |n| i + n);
                if key_end > i && bytes.get(key_end) == Some(&b'=') {
                    let key = text[i..key_end].to_owned();
                    i = key_end + 1;
                    out.push((at, Token::Prop(key, value(text, &mut i)?)));
                } else if first == b'=' {
                    return Err(syntax(i, "missing property name"));
                } else {
                    let word_end = bytes[i..]
                        .iter()
                        .position(u8::is_ascii_whitespace)
                        .map_or(bytes.len(), |n| i + n);
                    let quote_at = text[i..word_end].find('"');
                    match (text[i..word_end].find('='), quote_at) {
                        // An expression (`where topics~"ovpn"`): kept as written, its quoted
                        // parts whole.
                        (_, Some(_)) => out.push((at, Token::Word(expression(text, &mut i)?))),
                        (Some(eq), None) => {
                            return Err(syntax(i + eq, "invalid character in property name"));
                        }
                        (None, None) => out.push((at, Token::Word(value(text, &mut i)?))),
                    }
                }
            }
        }
    }
}

/// Splits property text (what follows `add` or `set`) into `(key, value)` pairs, in order, with
/// quotes and escapes removed. Repeated keys are kept (the entry constructors refuse them).
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    words(text)?
        .into_iter()
        .map(|(at, token)| match token {
            Token::Prop(k, v) => Ok((k, v)),
            _ => Err(syntax(at, "expected key=value")),
        })
        .collect()
}

/// Writes pairs back as property text (`key=value`, space-separated, values quoted as needed).
pub fn format_properties<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
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
    use proptest::prelude::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn splits_and_unquotes() {
        assert_eq!(
            parse_properties(r#"name=client1 password="a b\"c" comment=x\_y\41 empty="""#),
            Ok(pairs(&[
                ("name", "client1"),
                ("password", "a b\"c"),
                ("comment", "x yA"),
                ("empty", "")
            ]))
        );
        assert_eq!(parse_properties("  "), Ok(Vec::new()));
        assert_eq!(
            parse_properties("routes=\"10.0.0.0/8 10.8.0.1 1\""),
            Ok(pairs(&[("routes", "10.0.0.0/8 10.8.0.1 1")]))
        );
    }

    #[test]
    fn words_of_a_command() {
        let t = tokenize(r#"sign ca-template "a b" [find name=[x]] ca=ca # the rest"#).unwrap();
        assert_eq!(
            t,
            [
                Token::Word("sign".into()),
                Token::Word("ca-template".into()),
                Token::Quoted("a b".into()),
                Token::Bracket("[find name=[x]]".into()),
                Token::Prop("ca".into(), "ca".into()),
            ]
        );
        assert_eq!(
            tokenize("/ip pool add").unwrap()[0],
            Token::Word("/ip".into())
        );
        assert_eq!(
            tokenize(r#"print where topics~"a b" x"#).unwrap()[2],
            Token::Word(r#"topics~"a b""#.into())
        );
        assert_eq!(
            tokenize(r#"print where a~"b"#),
            Err(SyntaxError {
                offset: 14,
                reason: "unterminated quote"
            })
        );
    }

    #[test]
    fn syntax_errors_give_the_offset() {
        for (text, offset, reason) in [
            ("name", 0, "expected key=value"),
            ("a=1 b", 4, "expected key=value"),
            ("=x", 0, "missing property name"),
            ("Name=x", 4, "invalid character in property name"),
            ("a=\"open", 2, "unterminated quote"),
            ("a=\"x\"y", 5, "expected white space after closing quote"),
            ("a=b\"c", 3, "quote inside a bare value"),
            ("a=\\q", 2, "unknown escape"),
            ("a=\\", 2, "backslash at end of text"),
            ("a=\\FF", 2, "value is not UTF-8"),
            ("x [find", 2, "unterminated ["),
        ] {
            let r = if reason == "unterminated [" {
                tokenize(text).map(|_| Vec::new())
            } else {
                parse_properties(text)
            };
            assert_eq!(r, Err(SyntaxError { offset, reason }), "{text}");
        }
    }

    proptest! {
        #[test]
        fn quote_and_format_round_trip(
            list in proptest::collection::vec(("[a-z][a-z0-9-]{0,12}", "\\PC{0,20}"), 0..6)
        ) {
            let text = format_properties(&list);
            prop_assert_eq!(parse_properties(&text), Ok(list.clone()));
            for (_, v) in &list {
                let q = quote(v);
                prop_assert_eq!(tokenize(&q).map(|t| t.len()), Ok(1));
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = tokenize(&s);
            if let Ok(p) = parse_properties(&s) {
                prop_assert_eq!(parse_properties(&format_properties(&p)), Ok(p));
            }
        }
    }
}
