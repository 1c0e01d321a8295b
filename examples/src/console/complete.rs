//! Tab completion for the interactive console: menus, their commands, `print`'s words and the
//! keys of a menu's rows.

use super::exec::{COMMANDS, PRINT_WORDS, row_keys};

/// The completions of the word the cursor ends (`line` up to the cursor): where that word
/// starts, and the whole words it may become.
pub fn complete(line: &str) -> (usize, Vec<String>) {
    let start = line
        .rfind(|c: char| c.is_whitespace() || c == '/')
        .map_or(0, |i| i + 1);
    let partial = &line[start..];
    let Some(typed) = line.strip_prefix('/') else {
        return (start, Vec::new());
    };
    let done: Vec<&str> = typed[..typed.len() - partial.len()]
        .split_whitespace()
        .collect();
    let done_text = done.join(" ");
    let mut out: Vec<String> = Vec::new();
    for (menu, verbs) in COMMANDS {
        let words: Vec<&str> = menu.split(' ').collect();
        if done.len() < words.len() {
            // Still in the menu: its next word.
            if words[..done.len()] == done[..] && words[done.len()].starts_with(partial) {
                out.push(words[done.len()].to_owned());
            }
        } else if done_text == *menu {
            out.extend(
                verbs
                    .iter()
                    .filter(|v| v.starts_with(partial))
                    .map(|v| (*v).to_owned()),
            );
        } else if done_text.starts_with(&format!("{menu} ")) {
            let verb = done.get(words.len()).copied().unwrap_or_default();
            if verb == "print" {
                out.extend(
                    PRINT_WORDS
                        .iter()
                        .filter(|w| w.starts_with(partial))
                        .map(|w| (*w).to_owned()),
                );
            }
            if done.contains(&"where") || matches!(verb, "remove" | "add" | "set") {
                out.extend(
                    row_keys(menu)
                        .iter()
                        .filter(|k| k.starts_with(partial))
                        .map(|k| format!("{k}=")),
                );
            }
        }
    }
    out.sort();
    out.dedup();
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_commands_and_keys() {
        assert_eq!(complete("/pp"), (1, vec!["ppp".to_owned()]));
        assert_eq!(complete("/ppp a"), (5, vec!["active".to_owned()]));
        assert_eq!(
            complete("/ppp active "),
            (12, vec!["print".to_owned(), "remove".to_owned()])
        );
        assert_eq!(
            complete("/ppp active print d"),
            (18, vec!["detail".to_owned()])
        );
        assert_eq!(
            complete("/ppp active print where na"),
            (24, vec!["name=".to_owned()])
        );
        assert_eq!(
            complete("/log print where to"),
            (17, vec!["topics=".to_owned()])
        );
        assert!(complete("/nothing ").1.is_empty());
        assert!(complete("plain").1.is_empty());
    }
}
