//! `/certificate` at run time, on the store the servers and the CRL keeper share:
//!
//! - `print [detail|count-only]`;
//! - `add name=... common-name=... ...` (a template) and `sign TEMPLATE [ca=] [name=]`: the
//!   certificate and its key are kept in the state directory (`certificates/NAME.pem`, 0600),
//!   so the next start (which replays the console's changes) loads it instead of making
//!   another;
//! - `import file-name=... [passphrase=] [name=] [trusted=]`: a file in the state directory;
//! - `export-certificate NAME [type=pem|pkcs12] [export-passphrase=]`: the files go into the
//!   state directory;
//! - `issued-revoke NAME`: the CA's CRL lists it; the servers that check client certificates
//!   take the new check at once, ending that client's session;
//! - `set NAME trusted=yes|no`, `remove NAME` (refused for a running server's certificate).

use super::exec::{Form, Live, keep_change};

fn now() -> ovpn_pki::rustls_pki_types::UnixTime {
    crate::runtime::unix_time()
}

/// The one certificate a command names: a name, or `[find name=X]`.
fn target(c: &crate::rsc::Command) -> Result<String, String> {
    if let Some(p) = c.positional.get(1) {
        return Err(format!("expected end of command ({p})"));
    }
    crate::script::target(c)?
        .ok_or_else(|| format!("/certificate {} names one certificate", c.verb))
}

/// `/certificate settings print|set`: how CRLs are kept (`crl-days-valid`,
/// `crl-warning-days`) and what an expired one does (`crl-expiry=warn|refuse`).
fn settings(
    c: &crate::rsc::Command,
    line: &str,
    form: impl FnOnce() -> Result<Form, String>,
    live: &dyn Live,
) -> Result<String, String> {
    match c.verb.as_str() {
        "print" => {
            form()?;
            live.with_store(&mut |s| {
                let st = s.settings();
                let rows = [
                    ("crl-use", "yes".to_owned()),
                    ("crl-days-valid", st.crl_days_valid.to_string()),
                    ("crl-warning-days", st.crl_warning_days.to_string()),
                    ("crl-expiry", st.crl_expiry.to_string()),
                ];
                let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
                Ok(rows
                    .iter()
                    .map(|(k, v)| format!("{k:>width$}: {v}\n"))
                    .collect())
            })
        }
        "set" => {
            if let Some(p) = c.positional.first() {
                return Err(format!("expected end of command ({p})"));
            }
            if c.props.is_empty() {
                return Err("set: no properties given".into());
            }
            let notes = live.with_store(&mut |s| {
                // All or nothing: a copy takes the properties first.
                let mut copy = s.clone();
                let mut notes = String::new();
                for (k, v) in &c.props {
                    if let Some(n) = crate::script::certificate_setting(&mut copy, k, v)? {
                        notes.push_str(&n);
                        notes.push('\n');
                    }
                }
                *s.settings_mut() = copy.settings().clone();
                Ok(notes)
            })?;
            // crl-expiry changes what the client check does with an expired CRL.
            live.certificates_changed()?;
            keep_change(live, c, line, None)?;
            Ok(notes)
        }
        other => Err(format!("bad command name {other} (/certificate settings)")),
    }
}

/// Runs a `/certificate` command; `None` when `c` is not one.
pub(super) fn run(
    c: &crate::rsc::Command,
    line: &str,
    form: impl FnOnce() -> Result<Form, String>,
    filtered: bool,
    live: &dyn Live,
) -> Result<Option<String>, String> {
    if c.menu == "certificate settings" {
        return settings(c, line, form, live).map(Some);
    }
    if c.menu != "certificate" {
        return Ok(None);
    }
    let props = c.prop_pairs();
    let out = match c.verb.as_str() {
        "print" => {
            if filtered {
                return Err("expected end of command (where: /certificate print takes detail or count-only)".into());
            }
            let form = form()?;
            return live
                .with_store(&mut |s| {
                    Ok(match form {
                        Form::Detail => s.print_detail(now()),
                        Form::Count => format!("{}\n", s.certificates().count()),
                        Form::Table => s.print(now()),
                        Form::Terse => return Err("expected end of command (terse)".into()),
                    })
                })
                .map(Some);
        }
        "add" => {
            if !c.positional.is_empty() {
                return Err("expected end of command (add takes properties only)".into());
            }
            live.with_store(&mut |s| {
                s.add_from_properties(&props)
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            })?
        }
        "sign" => {
            let template = target(c)?;
            let name = c
                .prop("name")
                .filter(|n| !n.is_empty())
                .unwrap_or(&template)
                .to_owned();
            let kept = crate::script::kept_path(&name).ok_or_else(|| {
                format!("name={name}: cannot be a file name, so it cannot be kept")
            })?;
            let dir = live
                .state_dir()
                .ok_or("this program keeps no state directory")?;
            let path = dir.join(&kept);
            if path.is_file() {
                // Made by an earlier run (this change, replayed): loaded, not made again.
                let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                live.with_store(&mut |s| {
                    let opts = ovpn_pki::ImportOptions {
                        name: Some(&name),
                        kept: true,
                        ..Default::default()
                    };
                    // The template becomes the certificate, as signing it does.
                    s.remove(&template).map_err(|e| e.to_string())?;
                    s.import(&kept, &data, &opts).map_err(|e| {
                        format!("{} (delete it to sign again): {e}", path.display())
                    })?;
                    Ok(String::new())
                })?;
            } else {
                let pem = live.with_store(&mut |s| {
                    let cert = s
                        .sign_from_properties(&template, &props, now())
                        .map_err(|e| e.to_string())?;
                    let mut pem = cert.pem();
                    if let Some(k) = cert.private_key_pem() {
                        pem.push_str(&k);
                    }
                    Ok(pem)
                })?;
                crate::script::write_files(
                    &[crate::script::OutputFile {
                        name: kept.clone(),
                        contents: pem.into_bytes(),
                        private: true,
                    }],
                    &dir,
                )
                .map_err(|e| format!("{}: {e}: signed, but not kept", path.display()))?;
            }
            live.certificates_changed()?;
            String::new()
        }
        "import" => {
            if !c.positional.is_empty() {
                return Err("expected end of command (import takes properties only)".into());
            }
            let file = c.prop("file-name").ok_or("file-name is required")?;
            let path = live.state_file("file-name", file)?;
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let summary = live.with_store(&mut |s| {
                s.import_from_properties(&props, &data)
                    .map(|sum| sum.to_string())
                    .map_err(|e| e.to_string())
            })?;
            live.certificates_changed()?;
            format!("{summary}\n")
        }
        "export-certificate" => {
            let name = target(c)?;
            let mut exported = Vec::new();
            live.with_store(&mut |s| {
                exported = s
                    .export_from_properties(&name, &props)
                    .map_err(|e| e.to_string())?;
                Ok(String::new())
            })?;
            let files: Vec<crate::script::OutputFile> = exported
                .into_iter()
                .map(|f| crate::script::OutputFile {
                    private: f.file_name.ends_with(".key") || f.file_name.ends_with(".p12"),
                    name: f.file_name,
                    contents: f.contents,
                })
                .collect();
            let dir = live
                .state_dir()
                .ok_or("this program keeps no state directory")?;
            let written = crate::script::write_files(&files, &dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            // An action, not a change of the configuration: not kept.
            return Ok(Some(
                written
                    .iter()
                    .map(|p| format!("exported {}\n", p.display()))
                    .collect(),
            ));
        }
        "issued-revoke" => {
            let name = target(c)?;
            live.with_store(&mut |s| {
                s.issued_revoke(&name, now())
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            })?;
            live.certificates_changed()?;
            String::new()
        }
        "set" => {
            let name = target(c)?;
            live.with_store(&mut |s| {
                s.set_from_properties(&name, &props)
                    .map(|()| String::new())
                    .map_err(|e| e.to_string())
            })?;
            live.certificates_changed()?;
            String::new()
        }
        "remove" => {
            let name = target(c)?;
            if !c.props.is_empty() {
                return Err("expected end of command (remove takes no properties)".into());
            }
            if let Some(server) = live.certificate_user(&name) {
                return Err(format!(
                    "certificate {name} is server {server}'s: set another one first"
                ));
            }
            live.with_store(&mut |s| {
                s.remove(&name)
                    .map(|()| String::new())
                    .map_err(|e| e.to_string())
            })?;
            live.certificates_changed()?;
            String::new()
        }
        other => return Err(format!("bad command name {other} (/certificate)")),
    };
    keep_change(live, c, line, None)?;
    Ok(Some(out))
}
