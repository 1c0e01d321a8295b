//! The key files a server's control channel protection uses, made at run time into the state
//! directory (0600): `/interface ovpn-server server generate-tls-key file-name=`,
//! `generate-tls-crypt-v2-key file-name=`, `generate-tls-crypt-v2-client-key
//! server-key-file= file-name= [metadata=]`. A file that exists is never replaced (clients
//! may hold it): remove it first. Actions: the files are the result, nothing is kept.

use super::exec::Live;

/// The file `key` names, a plain name in the state directory that does not exist yet.
fn new_file(
    live: &dyn Live,
    c: &crate::rsc::Command,
    key: &str,
    allowed: &[&str],
) -> Result<std::path::PathBuf, String> {
    if let Some(p) = c.positional.first() {
        return Err(format!("expected end of command ({p})"));
    }
    let file = crate::script::plain_file_name(c, key, allowed)?;
    let path = live.state_file(key, &file)?;
    if path.exists() {
        return Err(format!(
            "{key}={file}: {} exists; a key clients may hold is not replaced (remove the file first)",
            path.display()
        ));
    }
    Ok(path)
}

fn write(path: &std::path::Path, contents: String) -> Result<String, String> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(format!("{}: not a file name", path.display()));
    };
    crate::script::write_files(
        &[crate::script::OutputFile {
            name: name.to_string_lossy().into_owned(),
            contents: contents.into_bytes(),
            private: true,
        }],
        dir,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("wrote {}\n", path.display()))
}

/// Runs a key-making command; `None` when `c` is not one.
pub(super) fn run(c: &crate::rsc::Command, live: &dyn Live) -> Result<Option<String>, String> {
    if c.menu != "interface ovpn-server server" {
        return Ok(None);
    }
    match c.verb.as_str() {
        "generate-tls-key" => {
            let path = new_file(live, c, "file-name", &["file-name"])?;
            write(&path, crate::protection::generate_key_file()).map(Some)
        }
        "generate-tls-crypt-v2-key" => {
            let path = new_file(live, c, "file-name", &["file-name"])?;
            write(&path, crate::protection::generate_v2_server_key()).map(Some)
        }
        "generate-tls-crypt-v2-client-key" => {
            let path = new_file(
                live,
                c,
                "file-name",
                &["file-name", "server-key-file", "metadata"],
            )?;
            let server_file = c
                .prop("server-key-file")
                .ok_or("server-key-file is required (the tls-crypt-v2 server key)")?;
            let text = String::from_utf8(live.read_file(server_file)?)
                .map_err(|_| format!("{server_file}: not a tls-crypt-v2 server key"))?;
            let key = ovpn_crypto::TlsCryptV2ServerKey::parse(&text)
                .map_err(|e| format!("server-key-file={server_file}: {e}"))?;
            let unix = crate::runtime::unix_seconds();
            let meta = c.prop("metadata").map(str::as_bytes);
            let pem = crate::protection::generate_v2_client_key(&key, meta, unix)
                .map_err(|e| format!("metadata: {e}"))?;
            write(&path, pem).map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::console::exec::run;
    use crate::console::live::ServerLive;

    #[test]
    fn keys_are_made_into_the_state_directory_and_never_replace_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let shared = ovpn_session::Shared::new(
            ovpn_ppp::PppConfig::new(),
            ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4),
        );
        let l = ServerLive::new(shared, Some(dir.path()));
        let m = "/interface ovpn-server server";
        run(&format!("{m} generate-tls-key file-name=ta.key"), &l).unwrap();
        run(
            &format!("{m} generate-tls-crypt-v2-key file-name=v2.key"),
            &l,
        )
        .unwrap();
        let out = run(
            &format!("{m} generate-tls-crypt-v2-client-key server-key-file=v2.key file-name=alice.key metadata=alice"),
            &l,
        )
        .unwrap();
        assert!(out.contains("alice.key"), "{out}");
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(ovpn_crypto::StaticKey::parse(&read("ta.key")).is_ok());
        let server = ovpn_crypto::TlsCryptV2ServerKey::parse(&read("v2.key")).unwrap();
        let client = ovpn_crypto::TlsCryptV2ClientKey::parse(&read("alice.key")).unwrap();
        let (_, meta) = server.unwrap_client_key(client.wkc()).unwrap();
        assert_eq!(meta.user_data(), Some(&b"alice"[..]));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("ta.key"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let before = read("ta.key");
        for (line, says) in [
            ("generate-tls-key file-name=ta.key", "is not replaced"),
            ("generate-tls-key file-name=../x.key", "plain file name"),
            ("generate-tls-key", "file-name is required"),
            ("generate-tls-key file-name=b.key colour=red", "colour"),
            (
                "generate-tls-crypt-v2-client-key file-name=b.key server-key-file=ta.key",
                "ta.key",
            ),
        ] {
            let e = run(&format!("{m} {line}"), &l).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        assert_eq!(read("ta.key"), before);
        // The host's firewall: accepted and named as without effect, as in a script.
        let out = run("/ip firewall filter add chain=input action=accept", &l).unwrap();
        assert!(out.contains("skipped"), "{out}");
    }
}
