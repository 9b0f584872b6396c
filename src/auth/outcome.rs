//! What the pipeline hands back to the NGINX side: owned values only.

use crate::domain::Verdict;
use crate::store::api::Answer;

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
    /// The token management API's response, when the request was one.
    pub answer: Option<Answer>,
}

impl Outcome {
    pub fn new(verdict: Verdict) -> Self {
        Outcome {
            verdict,
            notes: Vec::new(),
            answer: None,
        }
    }

    pub fn note(mut self, level: NoteLevel, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            level,
            text: text.into(),
        });
        self
    }
}
