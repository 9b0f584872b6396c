//! Which provider the running code works for, so that the shared call paths (one HTTP helper,
//! one key set cache per URI) can count their calls per provider without every provider
//! passing its name down. Set around each provider attempt and warm-up; outside one (a unit
//! test calling a helper directly) nothing is counted.

use std::future::Future;
use std::time::Instant;

use super::meters::ProviderMeter;

tokio::task_local! {
    static PROVIDER: ProviderMeter;
}

pub(super) fn within<F: Future>(meter: ProviderMeter, work: F) -> impl Future<Output = F::Output> {
    PROVIDER.scope(meter, work)
}

/// Times one call to an identity service; `finish` records it for the current provider.
/// Dropped without `finish` (the call was cancelled), it records nothing.
pub struct OutboundCall {
    started: Instant,
}

pub fn outbound_call() -> OutboundCall {
    OutboundCall {
        started: Instant::now(),
    }
}

impl OutboundCall {
    pub fn finish(self) {
        let _ = PROVIDER.try_with(|meter| meter.outbound(self.started.elapsed()));
    }
}

/// The current provider had too many calls in flight to make one more.
pub fn outbound_refused() {
    let _ = PROVIDER.try_with(|meter| meter.outbound_refused());
}

/// A key set fetch for the current provider ended, well or not.
pub fn jwks_refreshed(ok: bool) {
    let _ = PROVIDER.try_with(|meter| meter.jwks_refreshed(ok));
}
