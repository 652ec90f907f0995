//! The one error type the CLI reports. Every error carries a kind (which decides the exit
//! code), a message that says what went wrong and where, and an optional hint that says what
//! to do next — the way git says `try "git cherry-pick --continue"`.

use std::fmt;
use std::path::Path;

/// What sort of failure this is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, bad config, a failing tool: exit 1, state unchanged.
    Failure,
    /// The command line itself is wrong: exit 2.
    Usage,
    /// A precondition refused the command (dirty tree, run locked, …): exit 3, nothing written.
    Refused,
    /// Stopped by Ctrl-C: exit 130, the run is left resumable.
    Interrupted,
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    pub causes: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            causes: Vec::new(),
        }
    }

    /// Bad input, configuration or a failed tool (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failure, message)
    }

    /// A refused precondition (exit 3).
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// An I/O failure on `path` while doing `what` ("read", "write", "create", …).
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        Self::failure(format!("could not {what} {}: {err}", path.display()))
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Failure => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Refused => 3,
            ErrorKind::Interrupted => 130,
        }
    }

    /// The message with its causes, on one line each.
    pub fn full_message(&self) -> String {
        let mut s = self.message.clone();
        for c in &self.causes {
            s.push_str("\ncaused by: ");
            s.push_str(c);
        }
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand: attach the path and operation to an I/O result.
pub trait IoContext<T> {
    fn ctx(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(what, path, e))
    }
}
