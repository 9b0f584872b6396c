//! The one place that turns what validation found into what happens to the request. The
//! binding maps a `Decision` to an NGINX status and writes it into NGINX memory; it decides
//! nothing itself.

use std::sync::Arc;

use super::challenge::insufficient_scope;
use super::policy::{Policy, AUTHORIZATION, LEGACY_ROLES, LEGACY_USERNAME, REALM_SELECTOR};
use super::requirement::{RequirementCheck, RequirementError};
use super::{Authenticator, Note, Outcome, RETRY_AFTER_SECONDS};
use crate::domain::{Audit, CacheUse, DecisionKind, Identity, Reason, Verdict};
use crate::store::api::ApiResponse;

/// What happens to one request.
// Not boxed: an allowed request, cached or not, would pay an allocation for it.
#[allow(clippy::large_enum_variant)]
pub enum Decision {
    Allowed(Allowed),
    /// 401, with the `WWW-Authenticate` value.
    Unauthorized {
        challenge: Arc<str>,
    },
    /// 403: authenticated, but the location's roles, scopes or requirements are not met;
    /// with a `WWW-Authenticate` value for a missing scope.
    Forbidden {
        challenge: Option<Arc<str>>,
    },
    /// 503, with the seconds after which to try again.
    Unavailable {
        retry_after: u32,
    },
    /// 500: something failed on our side.
    Failed,
    /// 429 from the abuse guard, with the seconds its lockout has left; no provider ran.
    Limited {
        retry_after: u32,
    },
}

pub struct Allowed {
    pub identity: Arc<Identity>,
    /// The minted JWT; `None` for the token API, which hands no token to anyone.
    pub token: Option<Arc<str>>,
    /// The request headers to rewrite before the upstream sees them; empty for endpoints,
    /// which answer themselves.
    pub rewrites: HeaderPlan,
    /// The token API's response, for `authotron_tokens` (filled in after the decision).
    pub api_response: Option<ApiResponse>,
}

/// A decision, the log lines that led to it, and what an access log may say about it.
pub struct Ruling {
    pub decision: Decision,
    pub notes: Vec<Note>,
    pub audit: Audit,
}

impl Ruling {
    pub fn new(decision: Decision, audit: Audit) -> Self {
        Ruling {
            decision,
            notes: Vec::new(),
            audit,
        }
    }
}

impl Decision {
    /// The HTTP status a protected location answers with (200: let the request through).
    pub fn status(&self) -> u16 {
        match self {
            Decision::Allowed(_) => 200,
            Decision::Unauthorized { .. } => 401,
            Decision::Forbidden { .. } => 403,
            Decision::Unavailable { .. } => 503,
            Decision::Failed => 500,
            Decision::Limited { .. } => 429,
        }
    }

    /// What `$authotron_decision` and the shadow metrics call this decision.
    pub fn kind(&self) -> DecisionKind {
        match self {
            Decision::Allowed(_) => DecisionKind::Allowed,
            Decision::Unauthorized { .. } => DecisionKind::Unauthorized,
            Decision::Forbidden { .. } => DecisionKind::Forbidden,
            Decision::Unavailable { .. } => DecisionKind::Unavailable,
            Decision::Limited { .. } => DecisionKind::Limited,
            Decision::Failed => DecisionKind::Failed,
        }
    }

    pub fn allowed(&self) -> Option<&Allowed> {
        match self {
            Decision::Allowed(allowed) => Some(allowed),
            _ => None,
        }
    }
}

/// One request header whose client copies, in any case or with `_` for `-`, all give way to
/// the module's value.
#[derive(Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub name: HeaderName,
    pub value: HeaderValue,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderName {
    Fixed(&'static str),
    /// `authotron_header`.
    Configured(Arc<str>),
}

impl HeaderName {
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Fixed(name) => name,
            HeaderName::Configured(name) => name,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// `Bearer <token>`; added when the client sent no such header.
    Bearer(Arc<str>),
    /// Added when the client sent no such header.
    Text(String),
    /// Every copy the client sent is removed; nothing takes its place.
    Blank,
}

/// The rewrites in the order they are applied. A fixed array rather than a Vec: this is built
/// on every allowed request, cached or not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeaderPlan([Option<Rewrite>; 5]);

impl HeaderPlan {
    pub fn iter(&self) -> impl Iterator<Item = &Rewrite> {
        self.0.iter().flatten()
    }

    /// What the upstream of a protected location sees when the module did not allow the
    /// request (it refused, or another module granted access under `satisfy any`): no
    /// identity header and no credential of the client's. `keep_credential` leaves the client's
    /// `Authorization` for access modules that still have to read it (`auth_basic`,
    /// `auth_request` under `satisfy any`); it is removed once they are done.
    pub fn scrubbing(policy: &Policy, keep_credential: bool) -> Self {
        let blank = |name| {
            Some(Rewrite {
                name,
                value: HeaderValue::Blank,
            })
        };
        let credential = match keep_credential {
            true => None,
            false => blank(HeaderName::Fixed(AUTHORIZATION)),
        };
        let configured = match policy.forwards_in_authorization() {
            true => None,
            false => blank(HeaderName::Configured(policy.header.clone())),
        };
        HeaderPlan([
            credential,
            blank(HeaderName::Fixed(LEGACY_USERNAME)),
            blank(HeaderName::Fixed(REALM_SELECTOR)),
            blank(HeaderName::Fixed(LEGACY_ROLES)),
            configured,
        ])
    }

    /// What the upstream of a protected location sees of the caller: the token in the
    /// configured header, the legacy headers or blanks in their place (so a client cannot
    /// send its own), and no trace of the client's credential.
    fn forwarding(policy: &Policy, identity: &Identity, token: &Arc<str>) -> Self {
        let legacy = |name, value: fn(&Identity) -> String| Rewrite {
            name: HeaderName::Fixed(name),
            value: match policy.legacy_headers {
                true => HeaderValue::Text(value(identity)),
                false => HeaderValue::Blank,
            },
        };
        // The client's credential goes, unless our token takes its place.
        let credential = (!policy.forwards_in_authorization()).then_some(Rewrite {
            name: HeaderName::Fixed(AUTHORIZATION),
            value: HeaderValue::Blank,
        });
        HeaderPlan([
            Some(Rewrite {
                name: HeaderName::Configured(policy.header.clone()),
                value: HeaderValue::Bearer(token.clone()),
            }),
            Some(legacy(LEGACY_USERNAME, |i| i.user.username.clone())),
            Some(legacy(REALM_SELECTOR, |i| i.user.realm.clone())),
            Some(legacy(LEGACY_ROLES, |i| i.user.roles_joined())),
            credential,
        ])
    }
}

/// Upstream's `include_legacy_headers` trio, as `/authenticate` answers it.
pub fn legacy_headers(identity: &Identity) -> [(&'static str, String); 3] {
    let user = &identity.user;
    [
        (LEGACY_USERNAME, user.username.clone()),
        (REALM_SELECTOR, user.realm.clone()),
        (LEGACY_ROLES, user.roles_joined()),
    ]
}

/// Decides `outcome` for a location with `policy`. The location's roles and scopes are checked
/// here and only here, on every request, cached or not: a fact cached under one location never
/// grants access under another. `authotron_require` comes after, in [`Authenticator::conclude`],
/// once NGINX has evaluated its values for the allowed identity.
pub fn decide(authenticator: &Authenticator, outcome: Outcome, policy: &Policy) -> Ruling {
    let mut notes = outcome.notes;
    let (decision, reason) = match outcome.verdict {
        Verdict::Authenticated(identity) => allow(authenticator, identity, policy, &mut notes),
        Verdict::Rejected => (
            Decision::Unauthorized {
                challenge: authenticator.challenge(policy.realm.as_deref()),
            },
            outcome.reason.unwrap_or(Reason::CredentialsRejected),
        ),
        Verdict::Unavailable => (
            Decision::Unavailable {
                retry_after: RETRY_AFTER_SECONDS,
            },
            Reason::ProvidersUnavailable,
        ),
        Verdict::Failed => (Decision::Failed, Reason::InternalError),
    };
    let cache = match outcome.from_cache {
        true => CacheUse::Hit,
        false => CacheUse::Miss,
    };
    Ruling {
        decision,
        notes,
        audit: Audit { reason, cache },
    }
}

impl Authenticator {
    /// The last step of every ruling, once per decision: an allowed request that does not meet
    /// the location's `authotron_require` (as `check` found) is refused with that requirement's
    /// error, then the final decision is counted.
    pub fn conclude(&self, policy: &Policy, ruling: &mut Ruling, check: RequirementCheck) {
        if let Decision::Allowed(allowed) = &ruling.decision {
            let user = &allowed.identity.user;
            let refusal = match check {
                RequirementCheck::Met => None,
                RequirementCheck::Unmet(index) => {
                    ruling.notes.push(Note::info(format!(
                        "user \"{}\" of realm \"{}\" does not meet the location's authotron_require number {}",
                        user.username,
                        user.realm,
                        index + 1
                    )));
                    // An index the policy does not know refuses too: fail closed.
                    let error = policy
                        .requirements
                        .get(index)
                        .map_or(RequirementError::Forbidden, |r| r.error);
                    let decision = match error {
                        RequirementError::Unauthorized => Decision::Unauthorized {
                            challenge: self.challenge(policy.realm.as_deref()),
                        },
                        RequirementError::Forbidden => Decision::Forbidden { challenge: None },
                    };
                    Some((decision, Reason::RequirementFailed))
                }
                RequirementCheck::Failed => {
                    ruling
                        .notes
                        .push(Note::warn("authotron_require could not be evaluated"));
                    Some((Decision::Failed, Reason::InternalError))
                }
            };
            if let Some((decision, reason)) = refusal {
                ruling.decision = decision;
                ruling.audit.reason = reason;
            }
        }
        record(self, policy, &ruling.decision);
    }
}

/// Counts what the location does with `decision`: a shadow location answers nothing, so it
/// counts the decision it would have made; any other counts its 503 answers.
fn record(authenticator: &Authenticator, policy: &Policy, decision: &Decision) {
    if policy.shadow {
        authenticator.metrics().shadow_decision(decision.kind());
    } else if let Decision::Unavailable { .. } = decision {
        authenticator.metrics().answered_unavailable();
    }
}

fn allow(
    authenticator: &Authenticator,
    identity: Arc<Identity>,
    policy: &Policy,
    notes: &mut Vec<Note>,
) -> (Decision, Reason) {
    if !policy.admits(&identity.user) {
        notes.push(Note::info(format!(
            "user \"{}\" of realm \"{}\" lacks the required role",
            identity.user.username, identity.user.realm
        )));
        return (Decision::Forbidden { challenge: None }, Reason::MissingRole);
    }
    if !policy.grants_scopes(&identity.user) {
        notes.push(Note::info(format!(
            "user \"{}\" of realm \"{}\" lacks a required scope",
            identity.user.username, identity.user.realm
        )));
        let challenge = Some(insufficient_scope(
            &policy.required_scopes,
            authenticator.resource_metadata_url(),
        ));
        return (Decision::Forbidden { challenge }, Reason::MissingScope);
    }
    // The token API answers with its own JSON and never needs a minted token: minting one
    // there would be wasted work, and a minting failure would turn a working API into a 500.
    if policy.endpoint == Some(super::policy::Endpoint::Tokens) {
        let allowed = Decision::Allowed(Allowed {
            identity,
            token: None,
            rewrites: HeaderPlan::default(),
            api_response: None,
        });
        return (allowed, Reason::Authenticated);
    }
    let token = match authenticator.token(&identity) {
        Ok(token) => token,
        Err(e) => {
            notes.push(Note::warn(e));
            return (Decision::Failed, Reason::SigningFailed);
        }
    };
    let rewrites = match policy.endpoint {
        None => HeaderPlan::forwarding(policy, &identity, &token),
        Some(_) => HeaderPlan::default(),
    };
    let allowed = Decision::Allowed(Allowed {
        identity,
        token: Some(token),
        rewrites,
        api_response: None,
    });
    (allowed, Reason::Authenticated)
}

#[cfg(test)]
mod tests;
