//! Errors, split the way the exit code is: the user's input (2) or anything else (1).

use std::fmt;

/// One problem in the user's input: where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or `--set` argument, or plugin) the offending value came from.
    pub source: String,
    /// The YAML path, for example `agents.kiro.discord.allowedChannels[0]`; empty for the whole input.
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn new(source: impl Into<String>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { source: source.into(), path: path.into(), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.source.is_empty(), self.path.is_empty()) {
            (false, false) => write!(f, "{}: {}: {}", self.source, self.path, self.message),
            (false, true) => write!(f, "{}: {}", self.source, self.message),
            (true, false) => write!(f, "{}: {}", self.path, self.message),
            (true, true) => f.write_str(&self.message),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// The input is at fault: values, flags or a plugin. Exit code 2.
    Input(Vec<Diagnostic>),
    /// Anything else (I/O on output, the cache, a bug). Exit code 1.
    Other(anyhow::Error),
}

impl Error {
    pub fn input(source: impl Into<String>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input(vec![Diagnostic::new(source, path, message)])
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Other(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(diagnostics) => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "error: {d}")?;
                }
                Ok(())
            }
            Error::Other(e) => write!(f, "error: {e:#}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Other(e)
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Input(vec![d])
    }
}

impl From<Vec<Diagnostic>> for Error {
    fn from(d: Vec<Diagnostic>) -> Self {
        Error::Input(d)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
