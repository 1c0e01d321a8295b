//! RouterOS property text: `name=client1 password="a b" service=ovpn`.
//!
//! [`parse`] splits the properties of one command (what follows `add` or `set`) into unquoted
//! `(key, value)` pairs; [`quote`] and [`format()`] write them back. The syntax is the
//! workspace's one reading of RouterOS text, `ovpn-rsc`'s; this module gives its errors this
//! crate's [`Error`] type. Splitting a script into commands is the caller's business.
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

/// Splits property text into `(key, value)` pairs, in order, with quotes and escapes removed.
///
/// Repeated keys are kept (the entry constructors refuse them). Errors give the byte offset.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, Error> {
    ovpn_rsc::parse_properties(text).map_err(|e| Error::Syntax {
        offset: e.offset,
        reason: e.reason,
    })
}

/// Quotes a value as RouterOS prints it ([`ovpn_rsc::quote`]); [`parse`] reads it back.
pub fn quote(value: &str) -> Cow<'_, str> {
    ovpn_rsc::quote(value)
}

/// Writes pairs back as property text (`key=value`, space-separated, values quoted as needed).
pub fn format<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    ovpn_rsc::format_properties(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_this_crates() {
        assert_eq!(
            parse("name"),
            Err(Error::Syntax {
                offset: 0,
                reason: "expected key=value"
            })
        );
        let pairs = parse(r#"name=a password="b c""#).unwrap();
        assert_eq!(format(&pairs), r#"name=a password="b c""#);
    }
}
