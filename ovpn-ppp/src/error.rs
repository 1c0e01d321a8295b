//! Errors: [`Error`] for property text and configuration, [`AuthError`] for refused logins.

/// A configuration error: bad property text, a bad value, or a table rule broken.
///
/// Every variant names the property, value or entry at fault, so that a server can report it as
/// is. A call that fails changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The property text could not be split into `key=value` pairs.
    #[error("syntax error at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset in the text.
        offset: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A property this crate does not know for this kind of entry.
    #[error("unknown property {property:?}")]
    UnknownProperty {
        /// The property name.
        property: String,
    },
    /// The same property was given twice.
    #[error("property {property} given twice")]
    DuplicateProperty {
        /// The property name.
        property: String,
    },
    /// A required property is missing.
    #[error("missing property {property}")]
    MissingProperty {
        /// The property name.
        property: &'static str,
    },
    /// A property value is not valid. Passwords are never repeated here: the value reads
    /// `<hidden>`.
    #[error("invalid value {value:?} for {property}: {reason}")]
    InvalidValue {
        /// The property name.
        property: &'static str,
        /// The value, as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A profile with this name exists already.
    #[error("profile {0} already exists")]
    DuplicateProfile(String),
    /// A secret with this name exists already.
    #[error("secret {0} already exists")]
    DuplicateSecret(String),
    /// No profile has this name.
    #[error("no such profile: {0}")]
    UnknownProfile(String),
    /// No secret has this name.
    #[error("no such secret: {0}")]
    UnknownSecret(String),
    /// The built-in profiles `default` and `default-encryption` cannot be removed or renamed.
    #[error("profile {0} is built in")]
    BuiltinProfile(String),
    /// The profile cannot be removed while a secret uses it.
    #[error("profile {profile} is used by secret {secret}")]
    ProfileInUse {
        /// The profile.
        profile: String,
        /// A secret using it.
        secret: String,
    },
}

impl Error {
    pub(crate) fn invalid(property: &'static str, value: &str, reason: &'static str) -> Self {
        Error::InvalidValue {
            property,
            value: value.to_owned(),
            reason,
        }
    }
}

/// Why an [`Authenticator`](crate::Authenticator) refused a login.
///
/// `Display` gives RouterOS's log words where RouterOS has them (`login incorrect`,
/// `unknown service`). The client is told only that authentication failed; the reason is for the
/// server's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Unknown user or wrong password: deliberately the same error, so user names cannot be
    /// probed. Also a user name over 27 or a password over 233 characters on `ovpn`.
    #[error("login incorrect")]
    LoginIncorrect,
    /// The secret exists and the password is right, but its `service` does not allow the service
    /// asked for (for OpenVPN, it is neither `ovpn` nor `any`).
    #[error("unknown service")]
    UnknownService,
    /// The secret exists and the password is right, but it is `disabled=yes`. (RouterOS documents
    /// no message of its own for this.)
    #[error("account disabled")]
    Disabled,
    /// The secret has a `caller-id` and the client connects from elsewhere.
    #[error("caller id not allowed")]
    CallerIdMismatch,
    /// The profile says `only-one=yes` and the user has an active session already.
    #[error("only-one: user already logged in")]
    OnlyOne,
    /// The store could not answer (for an authenticator backed by RADIUS or a database).
    #[error("authentication backend unavailable: {0}")]
    Unavailable(String),
}
