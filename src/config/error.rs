//! The load error, and the one way errors and warnings are written:
//! `FILE:LINE:COLUMN: KEY.PATH: message`, or `FILE: KEY.PATH: message (from environment
//! variable AOT_X)` when the value did not come from the file.
//!
//! Messages are built from key names, type names and fixed text. The only configured values
//! they ever quote are an unrecognised `type` tag and a duplicated key, so none can reveal a
//! secret.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(Box<Details>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    file: PathBuf,
    line: Option<usize>,
    column: Option<usize>,
    key_path: Option<String>,
    env_var: Option<String>,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(file: &Path, message: impl Into<String>) -> Self {
        ConfigError(Box::new(Details {
            file: file.to_path_buf(),
            line: None,
            column: None,
            key_path: None,
            env_var: None,
            message: message.into(),
        }))
    }

    pub(crate) fn with_position(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.0.line = Some(line);
            self.0.column = Some(column);
        }
        self
    }

    pub(crate) fn with_key_path(mut self, key_path: impl fmt::Display) -> Self {
        let key_path = key_path.to_string();
        self.0.key_path = (!key_path.is_empty()).then_some(key_path);
        self
    }

    pub(crate) fn with_env_var(mut self, var: Option<&str>) -> Self {
        self.0.env_var = var.map(str::to_owned);
        self
    }

    /// The configuration file the error is about.
    pub fn file(&self) -> &Path {
        &self.0.file
    }

    /// 1-based line in the file, when the error is about a place in it.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }

    /// 1-based column in the file, when the error is about a place in it.
    pub fn column(&self) -> Option<usize> {
        self.0.column
    }

    /// The key path the error is about, such as `providers[0].users[1]`.
    pub fn key_path(&self) -> Option<&str> {
        self.0.key_path.as_deref()
    }

    /// The `AOT_*` environment variable that supplied the offending value, if one did.
    pub fn env_var(&self) -> Option<&str> {
        self.0.env_var.as_deref()
    }

    /// The message alone, without file, position or key path.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.file.display())?;
        if let Some(line) = self.0.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.0.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(key_path) = &self.0.key_path {
            write!(f, "{key_path}: ")?;
        }
        f.write_str(&self.0.message)?;
        if let Some(var) = &self.0.env_var {
            write!(f, " (from environment variable {var})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
