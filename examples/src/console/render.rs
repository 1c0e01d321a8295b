//! RouterOS's print forms: `print` (columns), `print detail` (numbered `key=value` blocks
//! wrapped at 80 columns), `print terse` (one line per row), `count-only`, and `monitor`'s
//! aligned `key: value` lines.

/// How `print` lays rows out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    Table,
    Detail,
    Terse,
    Count,
}

/// A row as `key=value` pairs (for `where`, `detail` and `terse`).
pub(super) type Row = Vec<(&'static str, String)>;

/// A row's value for a key (for filters and columns).
pub(super) fn lookup<'a>(row: &'a Row) -> impl Fn(&str) -> Option<&'a str> {
    move |k| row.iter().find(|(x, _)| *x == k).map(|(_, v)| v.as_str())
}

/// RouterOS's `print detail`: a numbered block of `key=value` per row, wrapped at 80 columns,
/// each row's flags (`flags`, by position; none when it is shorter) after its number.
pub(super) fn detail<K: AsRef<str>>(
    rows: &[(usize, Vec<(K, String)>)],
    legend: &str,
    flags: &[&str],
) -> String {
    let mut out = String::new();
    if !legend.is_empty() {
        out.push_str(&format!("Flags: {legend}\n"));
    }
    for (i, (n, row)) in rows.iter().enumerate() {
        let mark = flags.get(i).copied().unwrap_or_default();
        let mut line = format!("{n:>2} {mark:<2} ");
        let indent = line.len();
        for (k, v) in row {
            let item = format!("{}={} ", k.as_ref(), crate::rsc::quote(v));
            if line.len() + item.len() > 80 && line.len() > indent {
                out.push_str(line.trim_end());
                out.push('\n');
                line = " ".repeat(indent);
            }
            line.push_str(&item);
        }
        out.push_str(line.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// RouterOS's `monitor`: `key: value` lines, keys aligned right.
pub(super) fn monitor(row: &Row, server: bool) -> String {
    // Who and where, then the same figures for both.
    let head: &[&str] = if server {
        &["name", "user", "caller-id", "encoding"]
    } else {
        &["name", "status", "reason", "connect-to", "encoding"]
    };
    let figures = [
        "local-address",
        "remote-address",
        "mtu",
        "uptime",
        "rx-byte",
        "tx-byte",
        "rx-packet",
        "tx-packet",
    ];
    let keys: Vec<&str> = head.iter().copied().chain(figures).collect();
    let get = lookup(row);
    let mut lines: Vec<(&str, String)> = Vec::new();
    if server {
        lines.push(("status", "connected".to_owned()));
    }
    for k in keys {
        let v = get(k).unwrap_or_default();
        if k == "reason" && v.is_empty() {
            continue;
        }
        lines.push((k, v.to_owned()));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    lines
        .iter()
        .map(|(k, v)| format!("{}\n", format!("{k:>width$}: {v}").trim_end()))
        .collect()
}

/// RouterOS's `print terse`: one line per row.
fn terse(rows: &[(usize, Row)]) -> String {
    rows.iter()
        .map(|(n, row)| {
            let kv: Vec<String> = row
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::rsc::quote(v)))
                .collect();
            format!("{n:>2} {}\n", kv.join(" "))
        })
        .collect()
}

/// `print` in `form`: `table` lays out the selected rows (with their indexes in the source),
/// the other forms number them 0, 1, ... as printed.
pub(super) fn render(
    form: Form,
    rows: Vec<(usize, Row)>,
    legend: &str,
    flags: impl Fn(&Row) -> &'static str,
    table: impl FnOnce(&[(usize, Row)]) -> String,
) -> String {
    if form != Form::Count {
        let key = |r: &Row| {
            let menu_key = r
                .iter()
                .find(|(k, _)| Some(*k) == super::numbers::id_key_of_current())
                .map(|(_, v)| v.clone());
            menu_key.unwrap_or_default()
        };
        super::numbers::remember(rows.iter().map(|(_, r)| key(r)).collect());
    }
    match form {
        Form::Table => table(&rows),
        Form::Detail => {
            let marks: Vec<&str> = rows.iter().map(|(_, r)| flags(r)).collect();
            detail(&number(rows), legend, &marks)
        }
        Form::Terse => terse(&number(rows)),
        Form::Count => format!("{}\n", rows.len()),
    }
}

/// Numbers the selected rows 0, 1, ... as printed.
fn number(rows: Vec<(usize, Row)>) -> Vec<(usize, Row)> {
    rows.into_iter()
        .enumerate()
        .map(|(n, (_, r))| (n, r))
        .collect()
}

/// A whole `print` of `rows`: those `filter` passes, in `form`; as a table, the columns
/// `columns` (key and header) with each row's `flags` under `legend`.
pub(super) fn print_rows(
    form: Form,
    rows: Vec<Row>,
    filter: &super::filter::Filter,
    legend: &str,
    columns: &[(&str, &str)],
    flags: impl Fn(&Row) -> &'static str,
) -> String {
    let rows: Vec<(usize, Row)> = rows
        .into_iter()
        .filter(|r| filter.matches(&lookup(r)))
        .enumerate()
        .collect();
    render(form, rows, legend, &flags, |rows| {
        let cells: Vec<(&str, Vec<String>)> = rows
            .iter()
            .map(|(_, r)| {
                let get = lookup(r);
                let cells = columns
                    .iter()
                    .map(|(k, _)| get(k).unwrap_or_default().to_owned())
                    .collect();
                (flags(r), cells)
            })
            .collect();
        let headers: Vec<&str> = columns.iter().map(|(_, h)| *h).collect();
        crate::table::columns_flagged(&headers, &cells, legend)
    })
}

/// Flags of two yes/no keys: `first` when the first is `yes`, `second` for the second, both
/// together (`DR`, `X*`).
pub(super) fn two_flags(
    row: &Row,
    (k1, f1): (&str, &'static str),
    (k2, f2): (&str, &'static str),
    both: &'static str,
) -> &'static str {
    let get = lookup(row);
    match (get(k1) == Some("yes"), get(k2) == Some("yes")) {
        (true, true) => both,
        (true, false) => f1,
        (false, true) => f2,
        (false, false) => "",
    }
}
