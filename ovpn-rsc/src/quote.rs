//! Writing a value as RouterOS prints it.

use std::borrow::Cow;

/// Quotes a value as RouterOS prints it: bare when made of safe characters only (letters,
/// digits and `-_.:/,@+*%!`), otherwise in double quotes with `"`, `\`, `$`, `?` and control
/// characters escaped. [`tokenize`](crate::tokenize) reads the result back to the same value.
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
            c if c.is_ascii_control() => out.push_str(&format!("\\{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("ovpn-pool"), "ovpn-pool");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(
            quote("a\"b\\c$d?\n\u{1}é"),
            "\"a\\\"b\\\\c\\$d\\?\\n\\01é\""
        );
    }
}
