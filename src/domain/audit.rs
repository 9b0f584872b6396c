//! What an access log may say about one request's authentication: the kind of decision, a
//! short fixed reason and whether the verdict was already known. Every value is a fixed word
//! from a closed set, so a log line never carries a credential, a username or anything else
//! the client sent.

/// The kind of decision, `$authotron_decision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionKind {
    Allowed,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 503.
    Unavailable,
    /// 429: a subject over the abuse guard's limit.
    Limited,
    /// 500.
    Failed,
}

impl DecisionKind {
    /// Every kind, in the order metrics list them.
    pub const ALL: [DecisionKind; 6] = [
        DecisionKind::Allowed,
        DecisionKind::Unauthorized,
        DecisionKind::Forbidden,
        DecisionKind::Unavailable,
        DecisionKind::Limited,
        DecisionKind::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "allowed",
            DecisionKind::Unauthorized => "unauthorized",
            DecisionKind::Forbidden => "forbidden",
            DecisionKind::Unavailable => "unavailable",
            DecisionKind::Limited => "limited",
            DecisionKind::Failed => "failed",
        }
    }

    /// The position in [`DecisionKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why, `$authotron_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A provider accepted the credential and the location admits the user.
    Authenticated,
    /// No `Authorization` header, or an empty one.
    NoCredentials,
    /// An `Authorization` header that cannot be read as credentials.
    MalformedCredentials,
    /// Every provider that could judge the credential refused it.
    CredentialsRejected,
    /// Authenticated, without a role `authotron_require_role` asks for.
    MissingRole,
    /// Authenticated, without a scope `authotron_require_scope` lists.
    MissingScope,
    /// Authenticated, but a value of `authotron_require` was empty or "0".
    RequirementFailed,
    /// No provider could decide (timeouts, outages).
    ProvidersUnavailable,
    /// The validation did not finish within its worst case.
    ValidationTimedOut,
    /// The worker has no runtime to validate on.
    NoRuntime,
    /// The token for the upstream could not be signed.
    SigningFailed,
    /// The validation failed on our side.
    InternalError,
    /// The subject is over the abuse guard's limit.
    TooManyFailures,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Authenticated => "authenticated",
            Reason::NoCredentials => "no_credentials",
            Reason::MalformedCredentials => "malformed_credentials",
            Reason::CredentialsRejected => "credentials_rejected",
            Reason::MissingRole => "missing_role",
            Reason::MissingScope => "missing_scope",
            Reason::RequirementFailed => "requirement_failed",
            Reason::ProvidersUnavailable => "providers_unavailable",
            Reason::ValidationTimedOut => "validation_timed_out",
            Reason::NoRuntime => "no_runtime",
            Reason::SigningFailed => "signing_failed",
            Reason::InternalError => "internal_error",
            Reason::TooManyFailures => "too_many_failures",
        }
    }
}

/// Whether a request was decided from a verdict already known (`$authotron_cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// No provider ran for this request: the verdict came from the cache, or from the request
    /// that was already allowed (an internal redirect, a subrequest of an allowed request).
    Hit,
    /// The verdict had to be found: providers ran, or the header alone answered.
    Miss,
}

impl CacheUse {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheUse::Hit => "hit",
            CacheUse::Miss => "miss",
        }
    }
}

/// The reason and cache use of one decision; the kind comes from the decision itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    pub reason: Reason,
    pub cache: CacheUse,
}
