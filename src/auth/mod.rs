//! Reading credentials, deciding who the caller is, and what happens to the request.

pub mod challenge;
pub mod decision;
pub mod header;
pub mod listing;
mod metric_labels;
pub mod outcome;
pub mod pipeline;
pub mod policy;
pub mod reply;
pub mod request;
pub mod requirement;
pub mod resource_metadata;
mod revocation_fence;
mod revocations;
#[cfg(test)]
pub(crate) mod test_support;
pub mod throttle;

pub use decision::{Decision, Ruling};
pub use outcome::{Note, NoteLevel, Outcome, RETRY_AFTER_SECONDS};
pub use pipeline::{Authenticator, Lookup};
pub use policy::{Endpoint, Policy};
pub use reply::{Document, Reply};
pub use request::{Interruption, Progress};
