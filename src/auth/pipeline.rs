//! The authentication pipeline, as upstream Auth-O-Tron runs it: credentials in the order sent,
//! the providers of each scheme concurrently with a timeout each, the first acceptance wins;
//! then the augmenters of the user's realm. Results are cached per worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::future::{self, BoxFuture};
use futures::FutureExt;

use super::challenge::Challenges;
use super::header::{self, Credential};
use super::listing::Listing;
use super::metric_labels;
use super::outcome::{Note, NoteLevel, Outcome, RETRY_AFTER_SECONDS};
use super::resource_metadata::ResourceMetadata;
use super::revocation_fence::RevocationFence;
use super::throttle::LogThrottle;
use crate::augmenters::{self, Augmenter, Stage};
use crate::cache::{cache_key, CacheKey, SingleFlight, TtlCache};
use crate::config::Config;
use crate::domain::{time_until, unix_now, Identity, ProviderVerdict, User, Verdict};
use crate::guard::{Guard, Kind, Subject};
use crate::http::IdentityClient;
use crate::metrics::Meters;
use crate::providers::{self, token_store, Provider, ProviderContext};
use crate::store::api::TOKEN_STORE;
use crate::store::{self, Store};
use crate::token::Minter;

/// Everything one loaded config needs to authenticate requests. Immutable apart from its caches.
pub struct Authenticator {
    providers: Vec<Arc<dyn Provider>>,
    augmenters: Vec<Arc<dyn Augmenter>>,
    minter: Minter,
    provider_timeout: Duration,
    ttl: Duration,
    negative_ttl: Duration,
    challenges: Challenges,
    /// The RFC 9728 document, when the config describes the resource.
    resource_metadata: Option<ResourceMetadata>,
    verdicts: TtlCache<Verdict>,
    in_flight: SingleFlight<CacheKey, Outcome>,
    store: Option<Arc<Store>>,
    /// Keeps the answer of a validation that overlapped a revocation out of the cache, so a
    /// revoked token cannot slip back into it.
    revocations: RevocationFence,
    listing: Listing,
    /// Counters and histograms; NGINX moves them into shared memory (see `crate::metrics`).
    pub(super) metrics: Arc<Meters>,
    /// Outages are logged at most once per provider (augmenter) per 30 s.
    log_throttle: LogThrottle,
    /// `include_legacy_headers`, the default of `authotron_legacy_headers`.
    pub legacy_headers: bool,
    /// The abuse guard, when `guard.enabled`.
    guard: Option<Guard>,
}

/// What the synchronous first look at a credential found.
pub enum Lookup {
    /// Answered without any provider: a cache hit, or a header that cannot succeed.
    Answered(Outcome),
    /// Needs the providers; run `Authenticator::validate` off the event loop.
    NeedsProviders(Job),
}

/// Owned inputs of one validation.
pub struct Job {
    key: CacheKey,
    pub(super) credentials: Vec<Credential>,
    pub(super) realm: Option<String>,
    /// When the request arrived, for `authotron_auth_duration_seconds`.
    started: Instant,
    /// Whom a refusal is counted against; empty when the guard is off.
    pub(super) subjects: Vec<Subject>,
}

impl Authenticator {
    pub fn new(config: &Config) -> Result<Self, String> {
        let http = Arc::new(IdentityClient::new(&config.http)?);
        let ctx = ProviderContext::new(http, config.http.max_concurrent_calls as usize);
        let providers = config
            .providers
            .iter()
            .map(|p| providers::build(p, &ctx))
            .collect::<Result<Vec<_>, _>>()?;
        let augmenters = config
            .augmenters
            .iter()
            .map(|a| augmenters::build(a, config))
            .collect::<Result<Vec<_>, _>>()?;
        let store = match &config.store {
            Some(settings) => Store::new(settings)?.map(Arc::new),
            None => None,
        };
        let guard = Guard::new(&config.guard)?;
        Ok(Self::assemble(config, providers, augmenters)
            .with_store(store)
            .with_guard(guard))
    }

    /// Adds the abuse guard (`None`: off). Its metrics exist when `guard.enabled` is set.
    pub fn with_guard(mut self, guard: Option<Guard>) -> Self {
        self.guard = guard;
        self
    }

    pub fn guard(&self) -> Option<&Guard> {
        self.guard.as_ref()
    }

    /// Adds the token store and its pseudo-provider, after the configured providers and
    /// outside the challenges (it has no realm of its own), as upstream does. The configured
    /// providers are the ones a token's owner is checked against on each lookup.
    pub fn with_store(mut self, store: Option<Arc<Store>>) -> Self {
        if let Some(store) = &store {
            let owners = token_store::Owners::new(self.providers.clone());
            self.providers
                .push(Arc::new(token_store::TokenStoreProvider::new(
                    store.clone(),
                    owners,
                )));
            if let Some(added) = self.providers.last() {
                let entry = metric_labels::provider_entry(added.as_ref(), None);
                self.metrics = Arc::new(self.metrics.with_provider(entry));
            }
            if store.announces_revocations() {
                self.metrics = Arc::new(self.metrics.with_revocation_listener());
            }
        }
        self.store = store;
        self
    }

    /// Builds from ready providers and augmenters; the settings still come from `config`.
    pub fn assemble(
        config: &Config,
        providers: Vec<Arc<dyn Provider>>,
        augmenters: Vec<Arc<dyn Augmenter>>,
    ) -> Self {
        let catalogue = metric_labels::catalogue(config, &providers, &augmenters);
        let resource_metadata = ResourceMetadata::new(config);
        Authenticator {
            challenges: Challenges::new(
                &providers,
                resource_metadata.as_ref().map(|m| m.url.as_str()),
            ),
            resource_metadata,
            listing: Listing::new(config),
            metrics: Arc::new(Meters::new(catalogue)),
            providers,
            augmenters,
            minter: Minter::new(&config.jwt),
            provider_timeout: Duration::from_millis(config.auth.timeout_in_ms),
            ttl: Duration::from_secs(config.cache.ttl_seconds),
            negative_ttl: Duration::from_secs(config.cache.negative_ttl_seconds),
            verdicts: TtlCache::tagged(config.cache.capacity, store_token_of),
            in_flight: SingleFlight::default(),
            store: None,
            revocations: RevocationFence::default(),
            log_throttle: LogThrottle::default(),
            legacy_headers: config.include_legacy_headers,
            guard: None,
        }
    }

    /// The longest a validation can take: every scheme's providers time out in turn, then the
    /// augmenters do. NGINX arms its backstop timer a little beyond this.
    pub fn worst_case(&self) -> Duration {
        self.provider_timeout * (header::MAX_CREDENTIALS as u32 + 1)
    }

    /// What the providers want done when a worker starts (fetching key sets).
    pub fn warm_up(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let work: Vec<_> = self
            .providers
            .iter()
            .enumerate()
            .filter_map(|(position, p)| {
                let meter = self.metrics.provider(position);
                Some(meter.within(p.clone().warm_up()?))
            })
            .collect();
        future::join_all(work).map(|_| ())
    }

    pub fn metrics(&self) -> &Meters {
        &self.metrics
    }

    /// The `/metrics` body: the stored series, then what the guard counts in its zone.
    pub fn render_metrics(&self) -> Vec<u8> {
        let mut body = self.metrics.render();
        if let Some(guard) = &self.guard {
            let counts = Kind::ALL.map(|kind| guard.limited_subjects(kind));
            body.extend(crate::metrics::render::guard_gauge(&counts));
        }
        body
    }

    /// Upstream's `/providers` and `/augmenters` documents.
    pub fn listing(&self) -> &Listing {
        &self.listing
    }

    /// The public keys backends use to verify minted tokens, as a JWK set.
    pub fn jwks(&self) -> Vec<u8> {
        self.minter.jwks()
    }

    /// The protected resource metadata document, if the config has a `resource_metadata` section.
    pub fn resource_metadata(&self) -> Option<&[u8]> {
        self.resource_metadata
            .as_ref()
            .map(|m| m.document.as_slice())
    }

    /// Where the protected resource metadata document is served, if the config describes one.
    pub fn resource_metadata_url(&self) -> Option<&str> {
        self.resource_metadata.as_ref().map(|m| m.url.as_str())
    }

    pub fn challenge(&self, realm: Option<&str>) -> Arc<str> {
        self.challenges.for_realm(realm)
    }

    pub fn has_realm(&self, realm: &str) -> bool {
        self.challenges.has_realm(realm)
    }

    /// The synchronous first look, cheap enough for the NGINX event loop: parse the header,
    /// answer malformed ones, and answer from the cache when it can.
    pub fn look_up(&self, authorization: Option<&[u8]>, realm: Option<&str>) -> Lookup {
        let key = cache_key(realm, authorization.unwrap_or_default());
        // Only well-formed headers are ever cached, so a hit needs no parsing.
        if let Some(verdict) = self.verdicts.get(&key) {
            self.metrics.answered_from_cache(&verdict);
            return Lookup::Answered(Outcome::new(verdict).cached());
        }
        let started = Instant::now();
        match header::parse_authorization(authorization) {
            Ok(credentials) => Lookup::NeedsProviders(Job {
                key,
                credentials,
                realm: realm.map(str::to_owned),
                started,
                subjects: Vec::new(),
            }),
            Err(e) => {
                // A missing header is the normal first step of a challenge, not news.
                let level = match e {
                    header::HeaderError::Missing => NoteLevel::Debug,
                    _ => NoteLevel::Info,
                };
                let missing = matches!(e, header::HeaderError::Missing);
                self.metrics.refused_header(missing, started.elapsed());
                Lookup::Answered(
                    Outcome::new(Verdict::Rejected)
                        .note(level, e.reason())
                        .because(e.audit_reason()),
                )
            }
        }
    }

    /// Runs the providers and augmenters for a cache miss. Concurrent misses for one key share
    /// a single run.
    pub async fn validate(self: Arc<Self>, job: Job) -> Outcome {
        let this = self.clone();
        let key = job.key;
        let started = job.started;
        // Set by whichever request runs the shared validation.
        let ran_here = &AtomicBool::new(false);
        let mut outcome = self
            .in_flight
            .run(key, move || async move {
                ran_here.store(true, Ordering::Relaxed);
                let _running = this.metrics.validation_running();
                let seen = this.revocations.seen();
                let mut outcome = this
                    .authenticate(&job.credentials, job.realm.as_deref())
                    .await;
                // Only a definitive refusal counts; an outage says nothing about the caller.
                if let (Verdict::Rejected, Some(guard)) = (&outcome.verdict, &this.guard) {
                    for kind in guard.failed(&job.subjects) {
                        outcome.notes.push(Note::info(format!(
                            "abuse guard: a {} subject is limited for {} s",
                            kind.label(),
                            guard.window(kind)
                        )));
                    }
                }
                // Signed here, off the event loop: the request and the cache hits after it
                // reuse the token.
                if let Verdict::Authenticated(identity) = &outcome.verdict {
                    let _ = this.token(identity);
                }
                this.revocations
                    .remember_unless_revoked(seen, || this.remember(job.key, &outcome.verdict));
                outcome
            })
            .await;
        // The request that ran the validation logs it; those that shared it add nothing.
        if !ran_here.load(Ordering::Relaxed) {
            outcome.notes.clear();
        }
        self.metrics.validated(&outcome.verdict, started.elapsed());
        outcome
    }

    /// Whether `authotron_tokens` can work: the store is enabled.
    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    pub(super) fn store(&self) -> Option<&Store> {
        self.store.as_deref()
    }

    /// The warning for a token store outage, unless one was logged in the last 30 s.
    pub(super) fn store_outage(&self, reason: &str) -> Option<Note> {
        let line = || format!("token store unavailable: {reason}");
        self.log_throttle.line("store", line).map(Note::warn)
    }

    /// A revocation of the store token `id` (through this worker's token API, or announced by
    /// another instance) takes effect at once in this worker: the cached answers for that token
    /// go (one per `Authorization` spelling and realm selection it was seen with), and every
    /// other cached answer stays. So a fleet that revokes often does not send the other tokens'
    /// holders back to the database with each revocation.
    pub(super) fn forget_store_token(&self, id: &str) {
        self.revocations.revoke(|| self.verdicts.remove_tagged(id));
    }

    /// Forgets every cached store-token answer, when the revoked tokens cannot be known (an
    /// announcement this version cannot read, or a time without listening). That only costs
    /// their revalidation. The other credentials (passwords, JWTs, remote services' tokens)
    /// stay cached, so this does not send every cached user back to the identity services at
    /// once. It walks the whole cache, which is why it is kept for these rare events.
    pub(super) fn forget_store_tokens(&self) {
        self.revocations.revoke(|| {
            self.verdicts.remove_if(|verdict| {
                matches!(verdict, Verdict::Authenticated(identity) if identity.provider == TOKEN_STORE)
            })
        });
    }

    /// The signed JWT for `identity`: the last one minted for it while it is reusable (see
    /// `Minted::reusable_at`), else a new one.
    pub fn token(&self, identity: &Identity) -> Result<Arc<str>, String> {
        self.token_at(identity, unix_now())
    }

    pub(crate) fn token_at(&self, identity: &Identity, now: i64) -> Result<Arc<str>, String> {
        let mut minted = identity.minted.lock();
        if let Some(m) = minted.as_ref().filter(|m| m.reusable_at(now)) {
            return Ok(m.token.clone());
        }
        let fresh = self.minter.mint(&identity.user, now)?;
        let token = fresh.token.clone();
        *minted = Some(fresh);
        Ok(token)
    }

    async fn authenticate(&self, credentials: &[Credential], realm: Option<&str>) -> Outcome {
        let mut undecided = false;
        let mut notes = Vec::new();
        for credential in credentials {
            // A store token is shown to the store alone, even when the store is off: no identity
            // service may ever receive one.
            let store_token = store::token::is_well_formed(&credential.secret);
            let candidates: Vec<(usize, Arc<dyn Provider>)> = self
                .providers
                .iter()
                .enumerate()
                .filter(|(_, p)| p.scheme() == credential.scheme)
                .filter(|(_, p)| !store_token || p.owns(&credential.secret))
                .filter(|(_, p)| realm.is_none_or(|r| p.any_realm() || p.realm() == r))
                .map(|(position, p)| (position, p.clone()))
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let attempt = self.first_acceptance(candidates, &credential.secret).await;
            notes.extend(attempt.notes);
            undecided |= attempt.undecided;
            if let Some(Accepted { user, by }) = attempt.accepted {
                if realm.is_some_and(|r| r != user.realm) {
                    // Only the token store serves every realm; its user must still be of the
                    // realm asked for.
                    notes.push(Note::info(format!(
                        "provider \"{}\" accepted a user of another realm than requested",
                        by.provider
                    )));
                    continue;
                }
                let mut outcome = self.enrich(user, by).await;
                notes.append(&mut outcome.notes);
                if let Verdict::Authenticated(identity) = &outcome.verdict {
                    notes.push(authenticated(identity));
                }
                outcome.notes = notes;
                return outcome;
            }
        }
        let verdict = if undecided {
            Verdict::Unavailable
        } else {
            Verdict::Rejected
        };
        let mut outcome = Outcome::new(verdict);
        outcome.notes = notes;
        outcome
    }

    /// Runs `candidates` (providers with their positions, which metrics know them by)
    /// concurrently. The first acceptance wins; among acceptances ready at the same moment,
    /// config order decides, as upstream.
    async fn first_acceptance(
        &self,
        candidates: Vec<(usize, Arc<dyn Provider>)>,
        secret: &str,
    ) -> Attempt {
        let timeout = self.provider_timeout;
        let mut running: Vec<Option<BoxFuture<'static, ProviderVerdict>>> = candidates
            .iter()
            .map(|(position, p)| {
                let attempt = p.clone().authenticate(secret.to_owned());
                let meter = self.metrics.provider(*position);
                Some(
                    async move {
                        meter.attempt(timeout, attempt).await.unwrap_or_else(|_| {
                            ProviderVerdict::Unavailable(format!(
                                "no answer within {} ms",
                                timeout.as_millis()
                            ))
                        })
                    }
                    .boxed(),
                )
            })
            .collect();

        let mut notes = Vec::new();
        let mut undecided = false;
        let accepted = future::poll_fn(|cx| {
            let mut pending = false;
            for (index, slot) in running.iter_mut().enumerate() {
                let Some(attempt) = slot else { continue };
                let Poll::Ready(verdict) = attempt.poll_unpin(cx) else {
                    pending = true;
                    continue;
                };
                *slot = None;
                let (_, provider) = &candidates[index];
                let name = provider.name();
                let of_realm = match provider.realm() {
                    "" => String::new(),
                    realm => format!(" of realm \"{realm}\""),
                };
                let ttl = provider.cache_ttl().unwrap_or(self.ttl);
                let accepted = |user, store_token| {
                    let provider = name.to_owned();
                    let by = AcceptedBy {
                        provider,
                        ttl,
                        store_token,
                    };
                    Poll::Ready(Some(Accepted { user, by }))
                };
                match verdict {
                    ProviderVerdict::Accepted(user) => return accepted(user, None),
                    ProviderVerdict::AcceptedStoreToken { user, id } => {
                        return accepted(user, Some(id))
                    }
                    ProviderVerdict::Rejected(reason) => notes.push(Note::info(format!(
                        "provider \"{name}\"{of_realm} rejected the credential: {reason}"
                    ))),
                    ProviderVerdict::Unavailable(reason) => {
                        undecided = true;
                        let key = format!("provider {name} {}", provider.realm());
                        let line =
                            || format!("provider \"{name}\"{of_realm} could not decide: {reason}");
                        if let Some(text) = self.log_throttle.line(&key, line) {
                            notes.push(Note::warn(text));
                        }
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(None)
            }
        })
        .await;
        Attempt {
            accepted,
            notes,
            undecided,
        }
    }

    async fn enrich(&self, mut user: User, by: AcceptedBy) -> Outcome {
        let provider = by.provider;
        let mut notes = Vec::new();
        let mine: Vec<(usize, &Arc<dyn Augmenter>)> = self
            .augmenters
            .iter()
            .enumerate()
            .filter(|(_, a)| a.realm() == user.realm)
            .collect();
        let provided = (!mine.is_empty()).then(|| user.clone());
        // Failure lines may be throttled away; the cache must know of every failure.
        let mut failed = 0;

        let concurrent = mine.iter().filter(|(_, a)| a.stage() == Stage::Concurrent);
        let results = future::join_all(concurrent.map(|&(position, a)| {
            let meter = self.metrics.augmenter(position);
            let run = meter.observe(self.bounded(a.clone().augment(&user)));
            run.map(move |r| (a.name(), r))
        }))
        .await;
        for (name, result) in results {
            match result {
                Ok(augmentation) => augmentation.apply(&mut user),
                Err(reason) => {
                    failed += 1;
                    notes.extend(self.augmenter_failed(name, &user.realm, &reason));
                }
            }
        }
        for &(position, a) in mine.iter().filter(|(_, a)| a.stage() == Stage::Sequential) {
            let meter = self.metrics.augmenter(position);
            match meter.observe(self.bounded(a.clone().augment(&user))).await {
                Ok(augmentation) => augmentation.apply(&mut user),
                Err(reason) => {
                    failed += 1;
                    notes.extend(self.augmenter_failed(a.name(), &user.realm, &reason));
                }
            }
        }

        let mut outcome = if user.is_header_safe() {
            // An identity missing an augmenter's roles (a directory outage) is not kept for
            // long: the roles come back soon after the directory does.
            let ttl = match failed == 0 {
                true => by.ttl,
                false => by.ttl.min(DEGRADED_TTL),
            };
            let mut identity = Identity::new(user, provider).reusable_for(ttl);
            identity.provided = provided;
            identity.store_token = by.store_token;
            Outcome::new(Verdict::Authenticated(Arc::new(identity)))
        } else {
            Outcome::new(Verdict::Rejected).note(
                NoteLevel::Warn,
                format!("provider \"{provider}\" returned an identity with control characters"),
            )
        };
        notes.append(&mut outcome.notes);
        outcome.notes = notes;
        outcome
    }

    /// Augmenters get the provider timeout too: upstream has none, so one hung directory
    /// stalled every login of its realm.
    async fn bounded(
        &self,
        run: BoxFuture<'static, Result<augmenters::Augmentation, String>>,
    ) -> Result<augmenters::Augmentation, String> {
        tokio::time::timeout(self.provider_timeout, run)
            .await
            .unwrap_or_else(|_| Err("timed out".to_owned()))
    }

    fn augmenter_failed(&self, name: &str, realm: &str, reason: &str) -> Option<Note> {
        let line = || format!("augmenter \"{name}\" failed: {reason}");
        let text = self
            .log_throttle
            .line(&format!("augmenter {name} {realm}"), line)?;
        Some(Note::warn(text))
    }

    fn remember(&self, key: CacheKey, verdict: &Verdict) {
        let ttl = match verdict {
            Verdict::Authenticated(identity) => positive_ttl(identity),
            Verdict::Rejected => self.negative_ttl,
            // An outage or our own failure says nothing about the credential.
            Verdict::Unavailable | Verdict::Failed => return,
        };
        self.verdicts.insert(key, verdict.clone(), ttl);
    }
}

/// A cached identity never outlives the credential's own expiry, nor the reuse of the token
/// minted for it. So a cache hit always finds a token to hand out and never signs one on the
/// NGINX event loop, where an RS256 signature (about 0.3 ms with a 2048-bit key) would hold up every request
/// of the worker; the next request validates again, on the runtime, and mints there.
fn positive_ttl(identity: &Identity) -> Duration {
    let mut ttl = identity.cache_ttl;
    if let Some(exp) = identity.user.expires_at() {
        ttl = ttl.min(time_until(exp));
    }
    if let Some(minted) = identity.minted.lock().as_ref() {
        ttl = ttl.min(time_until(minted.reuse_until()));
    }
    ttl
}

/// What a revocation names a cached answer by: the public id of the store token it is for.
fn store_token_of(verdict: &Verdict) -> Option<&str> {
    match verdict {
        Verdict::Authenticated(identity) => identity.store_token.as_deref(),
        Verdict::Rejected | Verdict::Unavailable | Verdict::Failed => None,
    }
}

/// How long an identity is reused when an augmenter failed for it.
const DEGRADED_TTL: Duration = Duration::from_secs(RETRY_AFTER_SECONDS as u64);

/// What trying one credential on the providers of its scheme came to.
struct Attempt {
    accepted: Option<Accepted>,
    /// Refusals and outages, for the log.
    notes: Vec<Note>,
    /// Some provider could not decide (an outage or a timeout): a refusal is not definitive.
    undecided: bool,
}

/// A user some provider vouched for.
struct Accepted {
    user: User,
    by: AcceptedBy,
}

/// The provider that accepted a credential, and how long its answer may be reused.
struct AcceptedBy {
    /// Its name.
    provider: String,
    ttl: Duration,
    /// The public id of the store token it found, if it is the token store.
    store_token: Option<String>,
}

/// The line of a successful validation. Answers from the cache log nothing at this level.
fn authenticated(identity: &Identity) -> Note {
    Note::info(format!(
        "user \"{}\" of realm \"{}\" authenticated by provider \"{}\"",
        identity.user.username, identity.user.realm, identity.provider
    ))
}

#[cfg(test)]
mod tests;
