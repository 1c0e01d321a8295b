//! Fuzzing entry points (not a stable API): the cargo-fuzz targets in `fuzz/` call these, and the
//! crate's tests run them over a few inputs.

use crate::rsc;
use crate::settings::{ClientSettings, ServerSettings, push_route};

/// A RouterOS script: parsing never panics; every command prints (`Display`) to text that parses
/// back to the same command; every property goes through the server's and the client's property
/// parsers (and `push-routes` items through the route parser) without panicking.
pub fn rsc_script(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(commands) = rsc::parse(text) else {
        return;
    };
    let mut server = ServerSettings::default();
    let mut client = ClientSettings::new(1);
    for c in &commands {
        let printed = c.to_string();
        let again = rsc::parse(&printed);
        let again = again
            .as_deref()
            .ok()
            .and_then(|v| v.first())
            .unwrap_or_else(|| panic!("{printed:?} (from {c:?}) does not parse back"));
        assert_eq!(
            (&again.menu, &again.verb, &again.positional, &again.props),
            (&c.menu, &c.verb, &c.positional, &c.props),
            "{printed:?} parses back differently"
        );
        for (k, v) in &c.props {
            let _ = server.set(k, v, c.line);
            let _ = client.set(k, v);
            let _ = push_route(v);
        }
    }
}

/// An OpenVPN client profile: reading never panics, whatever the text (file names in it are
/// looked up in an empty temporary folder, so nothing of the host is read).
pub fn ovpn_profile(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let dir = std::env::temp_dir().join("ovpn-fuzz-profile-empty");
    let _ = crate::ovpn_config::read_profile_with(
        text,
        &dir,
        &crate::ovpn_config::Credentials::default(),
        &crate::ovpn_config::literal_resolve,
    );
}

/// A console line against a server with two sessions: parsing and running never panic, a
/// removal names only existing sessions, and what `where` selects is a subset of all rows.
pub fn console_command(data: &[u8]) {
    use std::cell::RefCell;
    struct Fake {
        rows: Vec<ovpn_session::SessionInfo>,
        removed: RefCell<Vec<u32>>,
    }
    impl crate::console::exec::Live for Fake {
        fn sessions(&self) -> Vec<ovpn_session::SessionInfo> {
            self.rows.clone()
        }
        fn remove_session(&self, id: u32) -> Result<(), String> {
            self.removed.borrow_mut().push(id);
            Ok(())
        }
    }
    thread_local! {
        static ROWS: Vec<ovpn_session::SessionInfo> = crate::table::two_rows();
    }
    let Ok(line) = core::str::from_utf8(data) else {
        return;
    };
    let fake = Fake {
        rows: ROWS.with(Clone::clone),
        removed: RefCell::new(Vec::new()),
    };
    if let Ok(out) = crate::console::exec::run(line, &fake)
        && line.contains("count-only")
        && let Ok(n) = out.trim().parse::<usize>()
    {
        assert!(n <= fake.rows.len().max(crate::log_memory::DEFAULT_LINES));
    }
    let ids: Vec<u32> = fake.rows.iter().filter_map(|r| r.session_id).collect();
    assert!(fake.removed.borrow().iter().all(|id| ids.contains(id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_over_a_few_inputs() {
        for input in [
            &b"/ip pool add name=ovpn-pool ranges=10.8.0.2-10.8.0.254"[..],
            b"/interface ovpn-server server set cipher=aes256-gcm,x push-routes=\"1.2.3.0/24 1.1.1.1 5,9\" keepalive-timeout=1w2d",
            b"/certificate\nsign \"a b\" ca=\"\\\"q\\\"\" name=[find name=x]\n# c\n..\nip pool print",
            b"/interface ovpn-client set [find] name=ovpn-out1 ncp=no max-mtu=63 =x \"#\" \\\\",
            b"\xff\xfe",
            b"/ppp secret add name=a \\",
            // Found by the campaign: a verb with an escape printed back as another command.
            include_bytes!("../../fuzz/regressions/rsc_script-bad-verb"),
        ] {
            rsc_script(input);
        }
    }

    #[test]
    fn console_lines_over_a_few_inputs() {
        for input in [
            &b"/ppp active print where name~\"(\" or !(a<1)"[..],
            b"/ppp active remove 0,1,7",
            b"/ppp active remove [find name~\"client\"]",
            b"/interface ovpn-server print detail count-only terse",
            b"/log print where",
            b"\xff",
        ] {
            console_command(input);
        }
    }

    #[test]
    fn profiles_over_a_few_inputs() {
        for input in [
            &b"client\nremote\n<ca>\n"[..],
            b"<pkcs12>\n!!!\n</pkcs12>\ntls-auth\nkey-direction 7\nroute 1.2.3.4 255.0.255.0",
            b"remote host 99999 sctp\nproto x\ncompress\ncomp-lzo\n\xff",
        ] {
            ovpn_profile(input);
        }
    }

    proptest::proptest! {
        #[test]
        fn a_profile_never_panics(s in "(?s)(client|remote [a-z0-9.]{0,12} [0-9]{0,6}|<ca>|</ca>|tls-crypt|key-direction [0-9]|route [0-9. ]{0,20}|[ -~\n]{0,30})\n{0,3}") {
            ovpn_profile(s.as_bytes());
        }
    }
}
