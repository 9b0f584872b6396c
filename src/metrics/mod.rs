//! Prometheus metrics, aggregated across NGINX workers.
//!
//! One loaded config has one fixed [`layout`](layout::Layout) of series, computed from its
//! providers, augmenters and realms as plain labels ([`Catalogue`]): the pipeline describes
//! them, so metrics know no provider types. Each series' numbers live first in the
//! process ([`cells`]); NGINX then moves them into a [`Table`] in a shared memory zone, where
//! every worker adds to the same totals and a reload that keeps the zone keeps the totals.
//! [`Meters`] is what the pipeline records through; [`scope`] lets shared call paths (the HTTP
//! helper, key set fetches) count per provider. Nothing here knows NGINX.

pub mod catalogue;
pub mod cells;
pub mod family;
mod fnv;
pub mod layout;
pub mod listener;
pub mod meters;
pub mod render;
pub mod scope;
pub mod table;

pub use catalogue::{AugmenterEntry, Catalogue, ProviderEntry};
pub use cells::Installed;
pub use listener::ListenerGauge;
pub use meters::{AugmenterMeter, Meters, ProviderMeter};
pub use scope::{jwks_refreshed, outbound_call, outbound_refused};
pub use table::Table;

impl Meters {
    /// The `/metrics` body.
    pub fn render(&self) -> Vec<u8> {
        render::render(self)
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
