//! authotron for NGINX: ECMWF's Auth-O-Tron as an NGINX module.
//!
//! Everything outside `nginx/` is plain Rust with no NGINX types, so `cargo test` exercises it
//! without linking against NGINX. The binding is compiled out of unit tests and fuzz targets
//! because its symbols only resolve inside an NGINX process.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod augmenters;
pub mod auth;
pub mod cache;
pub mod config;
pub mod domain;
pub mod guard;
// The harnesses the fuzz targets in fuzz/ call; unit tests replay the seed corpus through them.
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod providers;
pub mod store;
pub mod token;

// Fuzz targets are executables that never run inside NGINX, so they must not reference it.
#[cfg(not(any(test, fuzzing)))]
mod nginx;
