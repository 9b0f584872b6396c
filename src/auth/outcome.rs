//! What validation hands back: the verdict and the log lines that go with it, owned values
//! only, since it may be produced on a tokio thread.

use crate::domain::{Reason, Verdict};

/// What a 503 tells clients: outages are usually brief, and nothing about an outage is cached.
pub const RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteLevel {
    Debug,
    Info,
    Warn,
}

/// A log line produced off the NGINX thread, logged by NGINX when the request resumes.
/// Notes never contain credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub level: NoteLevel,
    pub text: String,
}

impl Note {
    pub fn warn(text: impl Into<String>) -> Self {
        Note {
            level: NoteLevel::Warn,
            text: text.into(),
        }
    }

    pub fn info(text: impl Into<String>) -> Self {
        Note {
            level: NoteLevel::Info,
            text: text.into(),
        }
    }
}

#[derive(Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub notes: Vec<Note>,
    /// Why, when the verdict alone does not say it (a refusal for the header alone).
    pub reason: Option<Reason>,
    /// The verdict came from the cache: no provider ran for this request.
    pub from_cache: bool,
}

impl Outcome {
    pub fn new(verdict: Verdict) -> Self {
        Outcome {
            verdict,
            notes: Vec::new(),
            reason: None,
            from_cache: false,
        }
    }

    pub fn because(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn cached(mut self) -> Self {
        self.from_cache = true;
        self
    }

    pub fn note(mut self, level: NoteLevel, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            level,
            text: text.into(),
        });
        self
    }
}
