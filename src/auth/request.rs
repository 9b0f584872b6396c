//! One request's way through the core: the synchronous first look, validation off the event
//! loop when the first look cannot answer, and the decision for the request's location.

use std::sync::{Arc, LazyLock};

use futures::future::BoxFuture;
use futures::FutureExt;

use super::decision::{decide, Decision, Ruling};
use super::pipeline::Lookup;
use super::policy::{Endpoint, Policy};
use super::throttle::LogThrottle;
use super::{Authenticator, Note, Outcome, RETRY_AFTER_SECONDS};
use crate::domain::{unix_now, Audit, CacheUse, Identity, Reason, Verdict};
use crate::store::api::{self, ApiRequest};

/// Where a request stands after the access handler's first call.
// Not boxed: `Decided` is the cached hot path, which should not allocate for it.
#[allow(clippy::large_enum_variant)]
pub enum Progress {
    /// Decided on the NGINX thread: a cache hit, or a header that cannot succeed.
    Decided(Ruling),
    /// Must run off the event loop; it ends with the ruling.
    Running(BoxFuture<'static, Ruling>),
}

/// Why a validation that was started never delivered its ruling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// This process has no runtime to run it on.
    NoRuntime,
    /// The runtime did not answer within the validation's worst case and a grace period.
    TimedOut,
    /// The validation panicked.
    Panicked,
}

/// The interruptions are logged like provider outages, at most once per 30 s per kind: a
/// stuck runtime would otherwise write one line per request.
static INTERRUPTION_LOG: LazyLock<LogThrottle> = LazyLock::new(LogThrottle::default);

impl Authenticator {
    /// Starts deciding a request of a location with `policy`. `api_request` is only called
    /// for the token API, `client_address` only when the abuse guard must look.
    pub fn begin<'r, 'a>(
        self: &Arc<Self>,
        policy: &Arc<Policy>,
        authorization: Option<&[u8]>,
        realm_selector: impl FnOnce() -> Option<&'r [u8]>,
        api_request: impl FnOnce() -> ApiRequest,
        client_address: impl FnOnce() -> &'a [u8],
    ) -> Progress {
        let mut lookup = self.look_up(authorization, policy.realm_for(realm_selector).as_deref());
        // The guard is asked only when providers would run: a cached identity keeps working
        // during its subject's lockout, and a cache hit pays nothing for the guard.
        if let (Lookup::NeedsProviders(job), Some(guard)) = (&mut lookup, self.guard()) {
            let credentials = job
                .credentials
                .iter()
                .map(|c| (&c.scheme, c.secret.as_str()));
            job.subjects = guard.subjects(credentials, job.realm.as_deref(), client_address());
            if let Some(limited) = guard.limited(&job.subjects) {
                self.metrics().limited_by(limited.kind as usize);
                let decision = Decision::Limited {
                    retry_after: limited.retry_after,
                };
                let audit = Audit {
                    reason: Reason::TooManyFailures,
                    cache: CacheUse::Miss,
                };
                let mut ruling = Ruling::new(decision, audit);
                ruling.notes.push(Note {
                    level: super::NoteLevel::Debug,
                    text: format!("abuse guard: a {} subject is limited", limited.kind.label()),
                });
                return Progress::Decided(ruling);
            }
        }
        if policy.endpoint == Some(Endpoint::Tokens) {
            // The token API always needs the store, so it always leaves the event loop.
            let work = self
                .clone()
                .serve_token_api(lookup, policy.clone(), api_request());
            return Progress::Running(work.boxed());
        }
        match lookup {
            Lookup::Answered(outcome) => Progress::Decided(decide(self, outcome, policy)),
            Lookup::NeedsProviders(job) => {
                let (this, policy) = (self.clone(), policy.clone());
                Progress::Running(
                    async move {
                        let outcome = this.clone().validate(job).await;
                        decide(&this, outcome, &policy)
                    }
                    .boxed(),
                )
            }
        }
    }

    /// The ruling for a request that was already allowed as `identity` and has moved to a
    /// location with `policy` (an internal redirect): its roles and scopes are checked, its token
    /// reused, and no provider is asked again.
    /// No provider runs, so it counts as a cache hit.
    pub fn redecide(&self, identity: Arc<Identity>, policy: &Policy) -> Ruling {
        let known = Outcome::new(Verdict::Authenticated(identity)).cached();
        decide(self, known, policy)
    }

    /// The ruling of a request whose validation never delivered one; whatever the location, it
    /// is the same.
    pub fn interrupted(&self, interruption: Interruption) -> Ruling {
        let (decision, reason, warning) = match interruption {
            Interruption::NoRuntime => (
                unavailable(),
                Reason::NoRuntime,
                "no runtime in this process",
            ),
            Interruption::TimedOut => (
                unavailable(),
                Reason::ValidationTimedOut,
                "validation did not finish in time",
            ),
            Interruption::Panicked => (
                Decision::Failed,
                Reason::InternalError,
                "validation panicked",
            ),
        };
        let audit = Audit {
            reason,
            cache: CacheUse::Miss,
        };
        let mut ruling = Ruling::new(decision, audit);
        ruling.notes.extend(
            INTERRUPTION_LOG
                .line(warning, || warning.to_owned())
                .map(Note::warn),
        );
        ruling
    }

    /// Authenticates and authorizes like any location, then carries out the API request.
    async fn serve_token_api(
        self: Arc<Self>,
        lookup: Lookup,
        policy: Arc<Policy>,
        request: ApiRequest,
    ) -> Ruling {
        let outcome = match lookup {
            Lookup::Answered(outcome) => outcome,
            Lookup::NeedsProviders(job) => self.clone().validate(job).await,
        };
        let mut ruling = decide(&self, outcome, &policy);
        let (Decision::Allowed(allowed), Some(store)) = (&mut ruling.decision, self.store()) else {
            return ruling;
        };
        let served = api::serve(store, &allowed.identity, &request, unix_now()).await;
        for id in &served.revoked {
            self.forget_store_token(id);
        }
        if let Some(reason) = served.outage {
            ruling.notes.extend(self.store_outage(&reason));
        }
        allowed.api_response = Some(served.response);
        ruling
    }
}

fn unavailable() -> Decision {
    Decision::Unavailable {
        retry_after: RETRY_AFTER_SECONDS,
    }
}

#[cfg(test)]
mod tests;
