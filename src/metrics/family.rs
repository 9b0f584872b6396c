//! The metric families we expose: upstream's auth families under the `authotron_` prefix its
//! pending rename uses, plus what only an in-process module can see (cache, in-flight
//! validations, outbound calls, key set refreshes, 503 answers).

/// How a family's series are stored and shown.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Upper bounds of the finite buckets, in microseconds; `+Inf` is implied. Microseconds
    /// keep every stored number an integer, so one atomic add records an observation.
    Histogram(&'static [u64]),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
}

impl Family {
    /// How many stored numbers one series of this family takes: one for a counter or gauge;
    /// for a histogram one per bucket (not cumulative: one add per observation), `+Inf`
    /// included, then the sum. The count is the sum of the buckets.
    pub fn cells(&self) -> usize {
        match self.kind {
            Kind::Histogram(bounds) => bounds.len() + 2,
            Kind::Counter | Kind::Gauge => 1,
        }
    }
}

/// Upstream's request buckets: 1 ms to 10 s.
const TO_10S: &[u64] = &[
    1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];
/// Upstream's provider buckets: as above without 10 s.
const TO_5S: &[u64] = TO_10S.split_at(11).0;
/// Upstream's augmenter buckets: without 5 s and 10 s.
const TO_2_5S: &[u64] = TO_10S.split_at(10).0;

pub static BUILD_INFO: Family = Family {
    name: "authotron_build_info",
    help: "Build information of the authotron NGINX module.",
    kind: Kind::Gauge,
    labels: &["version"],
};

pub static AUTH_REQUESTS: Family = Family {
    name: "authotron_auth_requests_total",
    help: "Authentication requests by result; failures have realm=\"unknown\".",
    kind: Kind::Counter,
    labels: &["result", "realm"],
};

pub static AUTH_DURATION: Family = Family {
    name: "authotron_auth_duration_seconds",
    help: "Time to authenticate a request; answers from a worker's cache are observed as 0.",
    kind: Kind::Histogram(TO_10S),
    labels: &["result", "realm"],
};

pub static PROVIDER_ATTEMPTS: Family = Family {
    name: "authotron_auth_provider_attempts_total",
    help: "Provider attempts by result (success, error, timeout).",
    kind: Kind::Counter,
    labels: &["provider_name", "provider_type", "realm", "result"],
};

pub static PROVIDER_DURATION: Family = Family {
    name: "authotron_auth_provider_duration_seconds",
    help: "Time a provider took to answer; timeouts are not observed.",
    kind: Kind::Histogram(TO_5S),
    labels: &["provider_name", "provider_type", "realm"],
};

pub static AUGMENTER_ATTEMPTS: Family = Family {
    name: "authotron_augmenter_attempts_total",
    help: "Augmenter runs by result (success, error).",
    kind: Kind::Counter,
    labels: &["augmenter_name", "augmenter_type", "realm", "result"],
};

pub static AUGMENTER_DURATION: Family = Family {
    name: "authotron_augmenter_duration_seconds",
    help: "Time an augmenter took.",
    kind: Kind::Histogram(TO_2_5S),
    labels: &["augmenter_type", "realm"],
};

pub static CACHE_HITS: Family = Family {
    name: "authotron_cache_hits_total",
    help: "Requests answered from a worker's cache, by the provider of the cached identity (\"none\" for a cached refusal).",
    kind: Kind::Counter,
    labels: &["provider_name"],
};

pub static CACHE_MISSES: Family = Family {
    name: "authotron_cache_misses_total",
    help: "Requests that needed a validation, by the provider that accepted the credential (\"none\" when none did).",
    kind: Kind::Counter,
    labels: &["provider_name"],
};

pub static IN_FLIGHT: Family = Family {
    name: "authotron_validations_in_flight",
    help: "Validations running now, in all workers.",
    kind: Kind::Gauge,
    labels: &[],
};

pub static OUTBOUND_DURATION: Family = Family {
    name: "authotron_outbound_request_duration_seconds",
    help:
        "Calls to identity services (key sets included) made for a provider, whatever their answer.",
    kind: Kind::Histogram(TO_10S),
    labels: &["provider_name"],
};

pub static OUTBOUND_REFUSED: Family = Family {
    name: "authotron_outbound_refused_total",
    help: "Calls to identity services not made because the provider already had http.max_concurrent_calls in flight in that worker (answered 503).",
    kind: Kind::Counter,
    labels: &["provider_name"],
};

pub static OUTBOUND_LIMIT: Family = Family {
    name: "authotron_outbound_max_concurrent_calls",
    help: "http.max_concurrent_calls: calls each provider may have in flight, per worker.",
    kind: Kind::Gauge,
    labels: &[],
};

pub static JWKS_REFRESHES: Family = Family {
    name: "authotron_jwks_refreshes_total",
    help: "Key set fetches made for a provider, by result (ok, error).",
    kind: Kind::Counter,
    labels: &["provider_name", "result"],
};

pub static UNAVAILABLE: Family = Family {
    name: "authotron_unavailable_total",
    help: "Requests answered 503 because no provider could decide in time.",
    kind: Kind::Counter,
    labels: &[],
};

pub static REVOCATION_LISTENERS: Family = Family {
    name: "authotron_store_revocation_listeners",
    help: "Workers listening for token revocations now (PostgreSQL store), in all workers.",
    kind: Kind::Gauge,
    labels: &[],
};

pub static REVOCATIONS_HEARD: Family = Family {
    name: "authotron_store_revocations_heard_total",
    help: "Token revocation announcements heard, counted once per listening worker; each drops that worker's cached store tokens.",
    kind: Kind::Counter,
    labels: &[],
};

pub static SHADOW_DECISIONS: Family = Family {
    name: "authotron_shadow_decisions_total",
    help: "Decisions made in locations with `authotron shadow`, which let every request through, by the decision that `authotron on` would have applied.",
    kind: Kind::Counter,
    labels: &["result"],
};

/// Every family in the order `/metrics` shows them.
pub static GUARD_LIMITED: Family = Family {
    name: "authotron_guard_limited_requests_total",
    help: "Requests the abuse guard answered 429, by the kind of subject that was limited.",
    kind: Kind::Counter,
    labels: &["kind"],
};

/// Not stored: counted in the guard's own zone when `/metrics` is shown.
pub static GUARD_LIMITED_SUBJECTS: Family = Family {
    name: "authotron_guard_limited_subjects",
    help: "Subjects the abuse guard limits now, in all workers, by kind.",
    kind: Kind::Gauge,
    labels: &["kind"],
};

/// The subject kinds of the guard's series, in the order `Meters::limited_by` takes them.
pub const GUARD_KINDS: [&str; 3] = ["basic", "bearer", "address"];

pub static FAMILIES: &[&Family] = &[
    &BUILD_INFO,
    &AUTH_REQUESTS,
    &AUTH_DURATION,
    &PROVIDER_ATTEMPTS,
    &PROVIDER_DURATION,
    &AUGMENTER_ATTEMPTS,
    &AUGMENTER_DURATION,
    &CACHE_HITS,
    &CACHE_MISSES,
    &IN_FLIGHT,
    &OUTBOUND_DURATION,
    &OUTBOUND_REFUSED,
    &OUTBOUND_LIMIT,
    &JWKS_REFRESHES,
    &UNAVAILABLE,
    &REVOCATION_LISTENERS,
    &REVOCATIONS_HEARD,
    &GUARD_LIMITED,
    &SHADOW_DECISIONS,
];

/// A bucket bound as Prometheus writes it: seconds, shortest form (`0.005`, `1`, `2.5`).
pub fn seconds(micros: u64) -> String {
    (micros as f64 / 1e6).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_sets_are_upstreams() {
        let text = |b: &[u64]| b.iter().map(|&m| seconds(m)).collect::<Vec<_>>().join(",");
        assert_eq!(
            text(TO_10S),
            "0.001,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10"
        );
        assert_eq!(
            text(TO_5S),
            "0.001,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5"
        );
        assert_eq!(
            text(TO_2_5S),
            "0.001,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5"
        );
    }

    #[test]
    fn names_are_unique_and_prefixed() {
        let mut names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
        assert!(names.iter().all(|n| n.starts_with("authotron_")));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
    }
}
