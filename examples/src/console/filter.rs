//! RouterOS's row filters: the expression of `print where ...` and of `[find ...]`.
//!
//! ```text
//! expr := and ("or" and)*          and  := unary ("and" unary)*
//! unary := "!" unary | "(" expr ")" | KEY OP VALUE | KEY
//! OP   := "=" | "!=" | "~" (regular expression) | "<" | ">"
//! ```
//! VALUE is a bare word or a quoted string (with RouterOS's escapes). A bare KEY is true when the
//! row's value is `yes`/`true` (flags such as `disabled`). `<` and `>` compare numbers when both
//! sides are numbers, else text. A key the row lacks compares as the empty value.

use regex::Regex;

/// A parsed filter.
#[derive(Debug, Clone)]
pub enum Filter {
    /// Every row.
    All,
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
    /// `key OP value`.
    Compare(String, Op, String),
    /// `key~regex`.
    Matches(String, Regex),
    /// A bare key: a yes/no flag.
    Flag(String),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
}

/// A filter that does not parse: where and why (RouterOS's words where it has them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error (line 1 column {column}): {what}")]
pub struct FilterError {
    /// 1-based column in the filter text.
    pub column: usize,
    /// What is wrong.
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Bang,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, what: &str| FilterError {
        column: at + 1,
        what: what.to_owned(),
    };
    while i < b.len() {
        let c = b[i];
        let at = i;
        match c {
            c if c.is_ascii_whitespace() => i += 1,
            b'(' => {
                out.push((at, Tok::Open));
                i += 1;
            }
            b')' => {
                out.push((at, Tok::Close));
                i += 1;
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push((at, Tok::Op("!=")));
                i += 2;
            }
            b'!' => {
                out.push((at, Tok::Bang));
                i += 1;
            }
            b'=' | b'~' | b'<' | b'>' => {
                out.push((
                    at,
                    Tok::Op(match c {
                        b'=' => "=",
                        b'~' => "~",
                        b'<' => "<",
                        _ => ">",
                    }),
                ));
                i += 1;
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                let mut closed = false;
                while i < b.len() {
                    match b[i] {
                        b'\\' if i + 1 < b.len() => {
                            // The escaped character, whole.
                            let ch = text[i + 1..].chars().next().unwrap_or('?');
                            s.push(ch);
                            i += 1 + ch.len_utf8();
                        }
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        _ => {
                            // Whole UTF-8 characters.
                            let ch = text[i..].chars().next().unwrap_or('?');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err(err(at, "unterminated quote"));
                }
                out.push((at, Tok::Quoted(s)));
            }
            _ => {
                let end = text[i..]
                    .find(|ch: char| ch.is_ascii_whitespace() || "()!=~<>\"".contains(ch))
                    .map_or(text.len(), |n| i + n);
                out.push((at, Tok::Word(text[i..end].to_owned())));
                i = end;
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.toks.get(self.at).map_or(self.len, |(c, _)| *c) + 1
    }

    fn fail<T>(&self, what: &str) -> Result<T, FilterError> {
        Err(FilterError {
            column: self.column(),
            what: what.to_owned(),
        })
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn expr(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.at += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        loop {
            if self.is_word("and") {
                self.at += 1;
            } else if !matches!(self.peek(), Some(Tok::Word(_) | Tok::Bang | Tok::Open))
                || self.is_word("or")
            {
                return Ok(left);
            }
            // `a=1 b=2` is `a=1 and b=2`, as RouterOS reads it.
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        match self.peek().cloned() {
            Some(Tok::Bang) => {
                self.at += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.at += 1;
                let e = self.expr()?;
                if self.peek() != Some(&Tok::Close) {
                    return self.fail("expected )");
                }
                self.at += 1;
                Ok(e)
            }
            Some(Tok::Word(key)) => {
                self.at += 1;
                let Some(Tok::Op(op)) = self.peek().cloned() else {
                    return Ok(Filter::Flag(key));
                };
                self.at += 1;
                let value = match self.peek().cloned() {
                    Some(Tok::Word(v) | Tok::Quoted(v)) => v,
                    _ => return self.fail("expected a value"),
                };
                let column = self.column();
                self.at += 1;
                Ok(match op {
                    "~" => Filter::Matches(
                        key,
                        Regex::new(&value).map_err(|_| FilterError {
                            column,
                            what: format!("invalid regular expression {value:?}"),
                        })?,
                    ),
                    "=" => Filter::Compare(key, Op::Eq, value),
                    "!=" => Filter::Compare(key, Op::Ne, value),
                    "<" => Filter::Compare(key, Op::Lt, value),
                    _ => Filter::Compare(key, Op::Gt, value),
                })
            }
            _ => self.fail("expected a condition"),
        }
    }
}

impl Filter {
    /// Parses a filter (empty text: every row).
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let toks = lex(text)?;
        if toks.is_empty() {
            return Ok(Self::All);
        }
        let mut p = Parser {
            toks,
            at: 0,
            len: text.len(),
        };
        let f = p.expr()?;
        if p.at != p.toks.len() {
            return p.fail("expected end of command");
        }
        Ok(f)
    }

    /// Whether the row whose values `get` gives passes.
    pub fn matches<'a>(&self, get: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Self::All => true,
            Self::And(a, b) => a.matches(get) && b.matches(get),
            Self::Or(a, b) => a.matches(get) || b.matches(get),
            Self::Not(a) => !a.matches(get),
            Self::Flag(k) => matches!(get(k), Some("yes" | "true")),
            Self::Matches(k, re) => re.is_match(get(k).unwrap_or_default()),
            Self::Compare(k, op, v) => {
                let have = get(k).unwrap_or_default();
                let ord = match (have.parse::<f64>(), v.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a.partial_cmp(&b),
                    _ => Some(have.cmp(v.as_str())),
                };
                match op {
                    Op::Eq => have == v,
                    Op::Ne => have != v,
                    Op::Lt => ord == Some(core::cmp::Ordering::Less),
                    Op::Gt => ord == Some(core::cmp::Ordering::Greater),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| pairs.iter().find(|(x, _)| *x == k).map(|(_, v)| *v)
    }

    #[test]
    fn routeros_expressions() {
        let r = [
            ("name", "client1"),
            ("topics", "ovpn,info"),
            ("uptime", "75"),
            ("disabled", "no"),
            ("dynamic", "yes"),
        ];
        let get = row(&r);
        for (text, want) in [
            ("", true),
            ("name=client1", true),
            ("name!=client1", false),
            ("topics~\"ovpn\"", true),
            ("topics~\"^ppp\"", false),
            ("name=client1 and topics~ovpn", true),
            ("name=x or topics~ovpn", true),
            ("name=x or (topics~ovpn and uptime>100)", false),
            ("uptime>60 uptime<80", true),
            ("!disabled and dynamic", true),
            ("!(name=client1)", false),
            ("missing=\"\"", true),
            ("name=\"client\\1\"", true),
        ] {
            let f = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(f.matches(&get), want, "{text}");
        }
    }

    #[test]
    fn bad_filters_say_where() {
        let e = Filter::parse("name=").unwrap_err();
        assert_eq!((e.column, e.what.as_str()), (6, "expected a value"));
        assert!(Filter::parse("(name=a").is_err());
        assert!(Filter::parse("name=\"a").is_err());
        assert!(Filter::parse("topics~\"(\"").is_err());
        assert!(Filter::parse("name=a )").is_err());
        assert!(Filter::parse("=a").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_refused(text in "\\PC{0,80}") {
            if let Ok(f) = Filter::parse(&text) {
                let _ = f.matches(&|_| Some("x"));
            }
        }
    }
}
