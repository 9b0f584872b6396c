//! authotron for NGINX: ECMWF's Auth-O-Tron as an NGINX module.
//!
//! Everything outside `nginx/` is plain Rust with no NGINX types, so `cargo test` exercises it
//! without linking against NGINX. The binding is compiled out of unit tests because its symbols
//! only resolve inside an NGINX process.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod augmenters;
pub mod auth;
pub mod cache;
pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod providers;
pub mod store;
pub mod token;

#[cfg(not(test))]
mod nginx;
