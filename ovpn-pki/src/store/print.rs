//! `print` and `print detail`, with RouterOS's flags.

use core::fmt;

use rustls_pki_types::UnixTime;

use super::{Certificate, Store};

/// RouterOS's flags for a certificate (`print`): `K L A I R E T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Flags {
    /// K: the store has the private key.
    pub private_key: bool,
    /// L: the store has a CRL of this CA.
    pub crl: bool,
    /// A: a certificate authority (basicConstraints CA:TRUE).
    pub authority: bool,
    /// I: issued (signed) by a CA of this store.
    pub issued: bool,
    /// R: revoked (`issued-revoke`, or listed in its issuer's CRL held by the store).
    pub revoked: bool,
    /// E: expired at the time given to `print`.
    pub expired: bool,
    /// T: trusted.
    pub trusted: bool,
}

impl fmt::Display for Flags {
    /// Seven columns, a letter or a space each, in the order `K L A I R E T`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, c) in [
            (self.private_key, 'K'),
            (self.crl, 'L'),
            (self.authority, 'A'),
            (self.issued, 'I'),
            (self.revoked, 'R'),
            (self.expired, 'E'),
            (self.trusted, 'T'),
        ] {
            write!(f, "{}", if on { c } else { ' ' })?;
        }
        Ok(())
    }
}

/// The legend line `print` starts with.
pub const FLAGS_LEGEND: &str = "Flags: K - private-key; L - crl; A - authority; I - issued, R - revoked; E - expired; T - trusted";

impl Store {
    /// The flags `print` shows for the certificate called `name` at `now`.
    pub fn flags(&self, name: &str, now: UnixTime) -> Option<Flags> {
        let c = self.get(name)?;
        Some(Flags {
            private_key: c.key.is_some(),
            crl: self.crl(name).is_some(),
            authority: c.info.is_ca,
            issued: c.issued_by.is_some(),
            revoked: c.revoked_at.is_some() || self.listed_in_crl(c),
            expired: c.info.is_expired(now),
            trusted: c.trusted,
        })
    }

    /// `print`: the flags legend, then one line per template and certificate:
    /// `#`, flags, name, common name, fingerprint.
    pub fn print(&self, now: UnixTime) -> String {
        let mut out = format!("{FLAGS_LEGEND}\n");
        out.push_str(&format!(
            " # {:7} {:<20} {:<24} FINGERPRINT\n",
            "", "NAME", "COMMON-NAME"
        ));
        let mut i = 0;
        for t in &self.templates {
            out.push_str(&format!(
                "{i:>2} {:7} {:<20} {:<24}\n",
                "", t.name, t.subject.common_name
            ));
            i += 1;
        }
        for c in &self.certs {
            let flags = self.flags(&c.name, now).unwrap_or_default();
            out.push_str(&format!(
                "{i:>2} {flags} {:<20} {:<24} {}\n",
                c.name,
                c.info.subject.common_name,
                c.info.fingerprint_hex()
            ));
            i += 1;
        }
        out
    }

    /// `print detail`: the legend, then every template and certificate with its properties
    /// (`name`, `key-type`, `common-name`, ..., `serial-number`, `fingerprint`,
    /// `invalid-before`, `invalid-after`, `expires-after`, `ca`).
    pub fn print_detail(&self, now: UnixTime) -> String {
        let mut out = format!("{FLAGS_LEGEND}\n");
        let mut i = 0;
        for t in &self.templates {
            out.push_str(&format!("{i:>2} {:7} {}\n\n", "", t.detail()));
            i += 1;
        }
        for c in &self.certs {
            let flags = self.flags(&c.name, now).unwrap_or_default();
            out.push_str(&format!("{i:>2} {flags} {}\n\n", self.detail(c, now)));
            i += 1;
        }
        out
    }

    pub(super) fn detail(&self, c: &Certificate, now: UnixTime) -> String {
        use crate::props::{format_duration, format_time, hex_lower, yes_no_str};
        let i = &c.info;
        let mut s = format!(
            "name=\"{}\" key-type={} common-name=\"{}\"",
            c.name,
            i.key_type.type_str(),
            i.subject.common_name
        );
        for (k, v) in [
            ("country", &i.subject.country),
            ("state", &i.subject.state),
            ("locality", &i.subject.locality),
            ("organization", &i.subject.organization),
            ("unit", &i.subject.unit),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {k}=\"{v}\""));
            }
        }
        let sans: Vec<String> = i
            .subject_alt_names
            .iter()
            .map(ToString::to_string)
            .collect();
        let days = i.not_after.as_secs().saturating_sub(i.not_before.as_secs()) / 86_400;
        s.push_str(&format!(
            " key-size={} subject-alt-name=\"{}\" days-valid={} trusted={} key-usage={}",
            i.key_type.size_str(),
            sans.join(","),
            days,
            yes_no_str(c.trusted),
            i.key_usage
        ));
        if let Some(ca) = &c.issued_by {
            s.push_str(&format!(" ca={ca}"));
        } else if let Some(issuer) = self
            .certs
            .iter()
            .find(|x| x.info.subject_der == i.issuer_der && x.name != c.name)
        {
            s.push_str(&format!(" ca={}", issuer.name));
        }
        s.push_str(&format!(
            " serial-number=\"{}\" fingerprint=\"{}\"",
            i.serial_hex(),
            i.fingerprint_hex()
        ));
        if let Some(a) = &i.akid {
            s.push_str(&format!(" akid={}", hex_lower(a)));
        }
        if let Some(k) = &i.skid {
            s.push_str(&format!(" skid={}", hex_lower(k)));
        }
        s.push_str(&format!(
            " invalid-before={} invalid-after={}",
            format_time(i.not_before.as_secs()),
            format_time(i.not_after.as_secs())
        ));
        if i.not_after.as_secs() > now.as_secs() {
            s.push_str(&format!(
                " expires-after={}",
                format_duration(i.not_after.as_secs() - now.as_secs())
            ));
        } else {
            s.push_str(" expired=yes");
        }
        if let Some(at) = c.revoked_at {
            s.push_str(&format!(" revoked={}", format_time(at.as_secs())));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_display() {
        let f = Flags {
            private_key: true,
            crl: true,
            authority: true,
            trusted: true,
            ..Flags::default()
        };
        assert_eq!(f.to_string(), "KLA   T");
        assert_eq!(Flags::default().to_string(), "       ");
    }
}
