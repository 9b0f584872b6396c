//! Reading credentials and deciding who the caller is.

pub mod challenge;
pub mod header;
pub mod listing;
pub mod outcome;
pub mod pipeline;
pub mod throttle;

pub use outcome::{Note, NoteLevel, Outcome, RETRY_AFTER_SECONDS};
pub use pipeline::{Authenticator, Start};
