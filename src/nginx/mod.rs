//! The NGINX binding: the only code that touches NGINX. It copies inputs out of requests,
//! hands them to the core (`crate::auth`), and applies what comes back. No business logic.

mod access;
mod bridge;
mod directives;
mod handlers;
mod headers;
mod metrics;
mod module;
mod panic_guard;
mod published;
mod request_ctx;
mod variables;
