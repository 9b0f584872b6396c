//! The NGINX binding: the only code that touches NGINX. It copies inputs out of requests,
//! hands them to the core (`crate::auth`), and applies the decision that comes back. It holds
//! no rule a unit test could check: those live in the core.
#![deny(clippy::undocumented_unsafe_blocks)]

mod access;
mod authorization_variables;
mod bridge;
mod content;
mod directives;
mod guard_zone;
mod header_list;
mod headers;
mod metrics;
mod module;
mod notes;
mod panic_guard;
mod pool;
mod process;
mod request_ctx;
mod requirements;
mod shared_zone;
mod variable_value;
mod variables;
