//! Row numbers as RouterOS gives them: the numbers of a console's last `print` of a menu name
//! the rows it showed, so `remove 0` after `print where name=bob` removes bob even when the
//! listing has changed since (and says `no such item` when that row is gone).
//!
//! Each console connection has its own thread ([`super::socket`]), so the numbers are kept per
//! thread: one console's print never renumbers another's. A menu not printed yet on this
//! console numbers the rows as they are listed now (what one `console -c` command needs).

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// The menu of the command being run.
    static MENU: RefCell<String> = const { RefCell::new(String::new()) };
    /// Per menu, the IDs of the rows of its last print, in their numbers' order.
    static LAST: RefCell<HashMap<String, Vec<String>>> = RefCell::new(HashMap::new());
}

/// The key that identifies a menu's rows (None: the menu's numbers are positions only).
pub(super) fn id_key(menu: &str) -> Option<&'static str> {
    match menu {
        "ppp active" => Some("session-id"),
        "system logging" | "system logging action" | "log" => None,
        _ => Some("name"),
    }
}

/// The key that identifies the current menu's rows.
pub(super) fn id_key_of_current() -> Option<&'static str> {
    MENU.with(|m| id_key(&m.borrow()))
}

/// A new console: no print remembered.
pub fn forget_all() {
    LAST.with(|l| l.borrow_mut().clear());
}

/// The command about to run is of `menu`.
pub(super) fn begin(menu: &str) {
    MENU.with(|m| menu.clone_into(&mut m.borrow_mut()));
}

/// The current menu's print showed rows with these IDs, numbered from 0.
pub(super) fn remember(ids: Vec<String>) {
    let menu = MENU.with(|m| m.borrow().clone());
    if id_key(&menu).is_some() {
        LAST.with(|l| l.borrow_mut().insert(menu, ids));
    }
}

/// What number `n` names in the current menu: `None` when the menu was not printed on this
/// console (the caller numbers the current listing), `Some(None)` when the last print had no
/// row `n`, or the row's ID.
pub(super) fn resolve(n: usize) -> Option<Option<String>> {
    let menu = MENU.with(|m| m.borrow().clone());
    LAST.with(|l| l.borrow().get(&menu).map(|ids| ids.get(n).cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_name_the_rows_of_the_last_print_of_their_menu() {
        forget_all();
        begin("ppp secret");
        assert_eq!(resolve(0), None);
        remember(vec!["bob".into(), "carol".into()]);
        assert_eq!(resolve(1), Some(Some("carol".into())));
        assert_eq!(resolve(2), Some(None));
        begin("ip pool");
        assert_eq!(resolve(0), None, "another menu's print does not count");
        begin("system logging");
        remember(vec!["x".into()]);
        assert_eq!(resolve(0), None, "positions only");
        begin("ppp secret");
        forget_all();
        assert_eq!(resolve(1), None);
    }
}
