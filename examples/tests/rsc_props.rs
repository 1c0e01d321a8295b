//! Properties of the RouterOS script parser and the property parsers: a printed command parses
//! back to itself, whatever its values; arbitrary text never panics.

use ovpn_examples::rsc::{self, Command, MENUS};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}"
}

fn command() -> impl Strategy<Value = Command> {
    (
        prop::sample::select(MENUS),
        word(),
        prop::collection::vec(any::<String>(), 0..3),
        prop::collection::vec((word(), any::<String>()), 0..5),
    )
        .prop_map(|(menu, verb, positional, props)| Command {
            line: 1,
            menu: (*menu).to_owned(),
            verb,
            positional,
            props,
        })
}

proptest! {
    #[test]
    fn printed_commands_parse_back(c in command()) {
        // A verb that names a sub-menu would make the line a longer menu path; skip those.
        let longer = format!("{} {}", c.menu, c.verb);
        prop_assume!(!MENUS.iter().any(|m| m.starts_with(&longer)));
        let printed = c.to_string();
        let back = rsc::parse(&printed);
        prop_assert!(back.is_ok(), "{:?} does not parse: {:?}", printed, back);
        let back = back.unwrap_or_default();
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0], &c, "{}", printed);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        ovpn_examples::fuzzing::rsc_script(text.as_bytes());
    }

    #[test]
    fn script_like_text_never_panics(lines in prop::collection::vec(
        (prop::sample::select(MENUS), word(), prop::collection::vec((word(), "[ -~]{0,12}"), 0..4)),
        0..6,
    )) {
        let text: String = lines
            .iter()
            .map(|(m, v, props)| {
                let props: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("/{m} {v} {}\n", props.join(" "))
            })
            .collect();
        ovpn_examples::fuzzing::rsc_script(text.as_bytes());
    }
}
