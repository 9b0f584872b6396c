//! What the pipeline records, by outcome. Every series is resolved when the config loads, so
//! recording is a lookup of a precomputed index and a relaxed atomic add: no allocation, no
//! lock, no formatting. Label sets that cannot be known from the config (the realm of a
//! token-store user whose realm is no longer configured) fall back to `unknown`.
//!
//! Providers and augmenters are identified by their position in the [`Catalogue`], which is
//! the pipeline's own order: names need not be unique (two realms may each have a provider
//! called the same), and a name would count one's attempts under the other's realm. Entries
//! whose labels are all equal share their series, as Prometheus could not tell them apart.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::error::Elapsed;

use super::catalogue::{Catalogue, ProviderEntry, UNKNOWN};
use super::cells::{Cells, Installed};
use super::family::{self, Family, Kind};
use super::fnv::FnvBuild;
use super::layout::{Layout, SeriesId};
use super::scope;
use super::table::Table;
use crate::domain::ProviderVerdict;
use crate::domain::{DecisionKind, Verdict};

/// One `auth_requests_total` series and its duration histogram.
#[derive(Clone, Copy)]
struct Request {
    count: SeriesId,
    duration: SeriesId,
}

struct ProviderIds {
    success: SeriesId,
    error: SeriesId,
    timeout: SeriesId,
    duration: SeriesId,
    outbound: Option<SeriesId>,
    outbound_refused: Option<SeriesId>,
    jwks_ok: Option<SeriesId>,
    jwks_error: Option<SeriesId>,
}

/// The cache families are labelled by the provider's name alone, and a cached identity only
/// knows its provider's name: providers sharing a name share these series.
#[derive(Clone, Copy)]
struct CacheIds {
    hits: SeriesId,
    misses: SeriesId,
}

struct AugmenterIds {
    success: SeriesId,
    error: SeriesId,
    duration: SeriesId,
}

pub struct Meters {
    catalogue: Catalogue,
    layout: Layout,
    cells: Cells,
    success: HashMap<String, Request, FnvBuild>,
    unknown_success: Request,
    no_auth_header: Request,
    invalid_header: Request,
    all_failed: Request,
    /// Our 503 outcome, which upstream does not have (it answers 401 to outages).
    unavailable_result: Request,
    /// By position in the catalogue.
    providers: Vec<ProviderIds>,
    cache: HashMap<String, CacheIds, FnvBuild>,
    /// By position in the catalogue.
    augmenters: Vec<AugmenterIds>,
    hits_none: SeriesId,
    misses_none: SeriesId,
    in_flight: SeriesId,
    unavailable: SeriesId,
    /// With a store that announces revocations.
    pub(super) revocations: Option<RevocationIds>,
    /// By `family::GUARD_KINDS`; empty when the guard is off.
    guard_limited: Vec<SeriesId>,
    /// By [`DecisionKind::index`].
    shadow: [SeriesId; DecisionKind::ALL.len()],
}

/// The revocation listener's series.
#[derive(Clone, Copy)]
pub(super) struct RevocationIds {
    pub listening: SeriesId,
    pub heard: SeriesId,
}

impl Meters {
    pub fn new(catalogue: Catalogue) -> Self {
        let mut layout = Layout::default();
        let mut request = |result: &str, realm: &str| Request {
            count: layout.add(&family::AUTH_REQUESTS, &[result, realm]),
            duration: layout.add(&family::AUTH_DURATION, &[result, realm]),
        };
        let success: HashMap<String, Request, FnvBuild> = catalogue
            .realms()
            .into_iter()
            .map(|realm| (realm.to_owned(), request("success", realm)))
            .collect();
        let unknown_success = success[UNKNOWN];
        let no_auth_header = request("no_auth_header", UNKNOWN);
        let invalid_header = request("invalid_header", UNKNOWN);
        let all_failed = request("all_failed", UNKNOWN);
        let unavailable_result = request("unavailable", UNKNOWN);

        let providers = catalogue
            .providers
            .iter()
            .map(|p| provider_ids(&mut layout, p))
            .collect();
        let mut cache = HashMap::default();
        for p in &catalogue.providers {
            cache
                .entry(p.name.clone())
                .or_insert_with(|| cache_ids(&mut layout, &p.name));
        }
        let hits_none = layout.add(&family::CACHE_HITS, &["none"]);
        let misses_none = layout.add(&family::CACHE_MISSES, &["none"]);

        let augmenters = catalogue
            .augmenters
            .iter()
            .map(|a| {
                let attempts = |layout: &mut Layout, result| {
                    layout.add(
                        &family::AUGMENTER_ATTEMPTS,
                        &[&a.name, &a.kind, &a.realm, result],
                    )
                };
                AugmenterIds {
                    success: attempts(&mut layout, "success"),
                    error: attempts(&mut layout, "error"),
                    duration: layout.add(&family::AUGMENTER_DURATION, &[&a.kind, &a.realm]),
                }
            })
            .collect();

        let in_flight = layout.add(&family::IN_FLIGHT, &[]);
        let unavailable = layout.add(&family::UNAVAILABLE, &[]);
        let revocations = catalogue.revocation_listener.then(|| RevocationIds {
            listening: layout.add(&family::REVOCATION_LISTENERS, &[]),
            heard: layout.add(&family::REVOCATIONS_HEARD, &[]),
        });
        let guard_limited = match catalogue.guard {
            true => family::GUARD_KINDS
                .iter()
                .map(|kind| layout.add(&family::GUARD_LIMITED, &[kind]))
                .collect(),
            false => Vec::new(),
        };
        let shadow =
            DecisionKind::ALL.map(|kind| layout.add(&family::SHADOW_DECISIONS, &[kind.as_str()]));
        Meters {
            cells: Cells::new(&layout),
            catalogue,
            layout,
            success,
            unknown_success,
            no_auth_header,
            invalid_header,
            all_failed,
            unavailable_result,
            providers,
            cache,
            augmenters,
            hits_none,
            misses_none,
            in_flight,
            unavailable,
            revocations,
            guard_limited,
            shadow,
        }
    }

    /// The same meters with one more provider (the token store, added after the others), at
    /// the next position.
    pub fn with_provider(&self, entry: ProviderEntry) -> Self {
        let mut catalogue = self.catalogue.clone();
        catalogue.providers.push(entry);
        Meters::new(catalogue)
    }

    /// The same meters for a store that announces revocations.
    pub fn with_revocation_listener(&self) -> Self {
        let mut catalogue = self.catalogue.clone();
        catalogue.revocation_listener = true;
        Meters::new(catalogue)
    }

    /// A request the abuse guard answered 429; `kind` indexes `family::GUARD_KINDS`.
    pub fn limited_by(&self, kind: usize) {
        if let Some(&id) = self.guard_limited.get(kind) {
            self.add(id, 1);
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Moves every number to the shared table: from then on all workers add to, and show, the
    /// same totals. NGINX calls this once per configuration, before forking workers.
    pub fn install(&self, table: &Table<'static>) -> Installed {
        self.cells.install(&self.layout, table)
    }

    /// The current value of the number at `index` (0 for a cell that did not fit).
    pub(super) fn value(&self, index: u32) -> Option<u64> {
        self.cells.get(index).map(|c| c.load(Ordering::Relaxed))
    }

    #[inline]
    pub(super) fn add(&self, id: SeriesId, n: u64) {
        if let Some(cell) = self.cells.get(id.0) {
            cell.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Two adds: the bucket the value falls in (buckets are stored non-cumulatively) and the
    /// sum in microseconds.
    #[inline]
    fn observe(&self, id: SeriesId, family: &Family, elapsed: Duration) {
        let Kind::Histogram(bounds) = family.kind else {
            return;
        };
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = bounds
            .iter()
            .position(|&b| micros <= b)
            .unwrap_or(bounds.len());
        self.add(SeriesId(id.0 + bucket as u32), 1);
        if micros > 0 {
            self.add(SeriesId(id.0 + bounds.len() as u32 + 1), micros);
        }
    }

    fn request(&self, request: Request, elapsed: Duration) {
        self.add(request.count, 1);
        self.observe(request.duration, &family::AUTH_DURATION, elapsed);
    }

    fn success_of(&self, realm: &str) -> Request {
        self.success
            .get(realm)
            .copied()
            .unwrap_or(self.unknown_success)
    }

    fn cache_of(&self, provider: &str) -> Option<CacheIds> {
        self.cache.get(provider).copied()
    }

    /// A request answered from the cache; the hot path. It is observed as taking no time: it
    /// takes about a microsecond, and reading the clock twice would cost a fifth of that.
    pub fn answered_from_cache(&self, verdict: &Verdict) {
        let elapsed = Duration::ZERO;
        match verdict {
            Verdict::Authenticated(identity) => {
                let cache = self.cache_of(&identity.provider);
                self.add(cache.map_or(self.hits_none, |c| c.hits), 1);
                self.request(self.success_of(&identity.user.realm), elapsed);
            }
            // Only definitive refusals are cached.
            Verdict::Rejected | Verdict::Unavailable | Verdict::Failed => {
                self.add(self.hits_none, 1);
                self.request(self.all_failed, elapsed);
            }
        }
    }

    /// A request refused for its `Authorization` header alone.
    pub fn refused_header(&self, missing: bool, elapsed: Duration) {
        let request = match missing {
            true => self.no_auth_header,
            false => self.invalid_header,
        };
        self.request(request, elapsed);
    }

    /// A request that needed a validation, once it has its outcome (each request sharing one
    /// validation counts).
    pub fn validated(&self, verdict: &Verdict, elapsed: Duration) {
        let (misses, request) = match verdict {
            Verdict::Authenticated(identity) => (
                self.cache_of(&identity.provider)
                    .map_or(self.misses_none, |c| c.misses),
                Some(self.success_of(&identity.user.realm)),
            ),
            Verdict::Rejected => (self.misses_none, Some(self.all_failed)),
            Verdict::Unavailable => (self.misses_none, Some(self.unavailable_result)),
            // Our own failure (500) says nothing about the credential.
            Verdict::Failed => (self.misses_none, None),
        };
        self.add(misses, 1);
        if let Some(request) = request {
            self.request(request, elapsed);
        }
    }

    /// Counts a running validation until the guard is dropped (finished or cancelled).
    pub fn validation_running(&self) -> Running<'_> {
        self.add(self.in_flight, 1);
        Running(self)
    }

    /// The access phase answered 503.
    pub fn answered_unavailable(&self) {
        self.add(self.unavailable, 1);
    }

    /// A location with `authotron shadow` decided a request, and let it through.
    pub fn shadow_decision(&self, kind: DecisionKind) {
        self.add(self.shadow[kind.index()], 1);
    }

    /// What the attempts of the provider at `position` in the catalogue are recorded with (a
    /// position the catalogue does not have records nothing).
    pub fn provider(self: &Arc<Self>, position: usize) -> ProviderMeter {
        ProviderMeter {
            meters: self.clone(),
            position,
        }
    }

    /// What the runs of the augmenter at `position` in the catalogue are recorded with.
    pub fn augmenter(&self, position: usize) -> AugmenterMeter<'_> {
        AugmenterMeter {
            meters: self,
            ids: self.augmenters.get(position),
        }
    }
}

/// Holds the in-flight gauge up.
pub struct Running<'a>(&'a Meters);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(cell) = self.0.cells.get(self.0.in_flight.0) {
            // The gauge is stored as a wrapping u64 and shown as i64.
            cell.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn provider_ids(layout: &mut Layout, p: &ProviderEntry) -> ProviderIds {
    let labels = [p.name.as_str(), &p.scheme, &p.realm];
    let mut attempts = |result| {
        layout.add(
            &family::PROVIDER_ATTEMPTS,
            &[labels[0], labels[1], labels[2], result],
        )
    };
    let (success, error, timeout) = (attempts("success"), attempts("error"), attempts("timeout"));
    let name = &[p.name.as_str()][..];
    ProviderIds {
        success,
        error,
        timeout,
        duration: layout.add(&family::PROVIDER_DURATION, &labels),
        outbound: p
            .remote
            .then(|| layout.add(&family::OUTBOUND_DURATION, name)),
        outbound_refused: p
            .remote
            .then(|| layout.add(&family::OUTBOUND_REFUSED, name)),
        jwks_ok: p
            .jwks
            .then(|| layout.add(&family::JWKS_REFRESHES, &[&p.name, "ok"])),
        jwks_error: p
            .jwks
            .then(|| layout.add(&family::JWKS_REFRESHES, &[&p.name, "error"])),
    }
}

fn cache_ids(layout: &mut Layout, provider: &str) -> CacheIds {
    CacheIds {
        hits: layout.add(&family::CACHE_HITS, &[provider]),
        misses: layout.add(&family::CACHE_MISSES, &[provider]),
    }
}

/// Records one provider's work: its attempts, and (through [`scope`]) the calls it makes.
#[derive(Clone)]
pub struct ProviderMeter {
    meters: Arc<Meters>,
    position: usize,
}

impl ProviderMeter {
    fn ids(&self) -> Option<&ProviderIds> {
        self.meters.providers.get(self.position)
    }

    /// Runs one attempt under `timeout`. As upstream: a success or an error (a refusal or an
    /// outage) is counted with its duration, a timeout without; an attempt cancelled because
    /// another provider won is not counted.
    pub async fn attempt(
        self,
        timeout: Duration,
        attempt: impl Future<Output = ProviderVerdict>,
    ) -> Result<ProviderVerdict, Elapsed> {
        let started = Instant::now();
        let result = tokio::time::timeout(timeout, self.clone().within(attempt)).await;
        if let Some(ids) = self.ids() {
            let meters = &self.meters;
            match &result {
                Ok(verdict) => {
                    let counter = match verdict {
                        ProviderVerdict::Accepted(_)
                        | ProviderVerdict::AcceptedStoreToken { .. } => ids.success,
                        ProviderVerdict::Rejected(_) | ProviderVerdict::Unavailable(_) => ids.error,
                    };
                    meters.add(counter, 1);
                    meters.observe(ids.duration, &family::PROVIDER_DURATION, started.elapsed());
                }
                Err(_) => meters.add(ids.timeout, 1),
            }
        }
        result
    }

    /// Runs `work` as this provider's, so the calls it makes are counted for it.
    pub fn within<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        scope::within(self, work)
    }

    pub(super) fn outbound(&self, elapsed: Duration) {
        if let Some(id) = self.ids().and_then(|ids| ids.outbound) {
            self.meters.observe(id, &family::OUTBOUND_DURATION, elapsed);
        }
    }

    pub(super) fn outbound_refused(&self) {
        if let Some(id) = self.ids().and_then(|ids| ids.outbound_refused) {
            self.meters.add(id, 1);
        }
    }

    pub(super) fn jwks_refreshed(&self, ok: bool) {
        let id = self
            .ids()
            .and_then(|ids| if ok { ids.jwks_ok } else { ids.jwks_error });
        if let Some(id) = id {
            self.meters.add(id, 1);
        }
    }
}

/// Records one augmenter's runs.
pub struct AugmenterMeter<'a> {
    meters: &'a Meters,
    ids: Option<&'a AugmenterIds>,
}

impl AugmenterMeter<'_> {
    /// Runs `run`, counting its result and duration (a timeout is an error, as upstream has no
    /// augmenter timeout to count separately).
    pub async fn observe<T, E>(self, run: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        let started = Instant::now();
        let result = run.await;
        if let Some(ids) = self.ids {
            let counter = if result.is_ok() {
                ids.success
            } else {
                ids.error
            };
            self.meters.add(counter, 1);
            self.meters
                .observe(ids.duration, &family::AUGMENTER_DURATION, started.elapsed());
        }
        result
    }
}
