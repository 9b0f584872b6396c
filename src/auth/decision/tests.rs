//! The decision table: every verdict, under every kind of location policy.

use std::sync::Arc;

use super::*;
use crate::auth::policy::Endpoint;
use crate::auth::requirement::{Requirement, RequirementCheck, RequirementError};
use crate::auth::test_support::from_yaml;
use crate::auth::NoteLevel;
use crate::domain::{CacheUse, DecisionKind, Reason, User};

const TWO_REALMS: &str = r#"
providers:
  - { type: plain, name: p1, realm: r1, users: [] }
  - { type: plain, name: p2, realm: r2, users: [] }
"#;

fn identity(roles: &[&str]) -> Arc<Identity> {
    let roles = roles.iter().map(|r| (*r).to_owned()).collect();
    Arc::new(Identity::new(User::new("bob", "r1", roles), "p1"))
}

fn authenticated(roles: &[&str]) -> Outcome {
    Outcome::new(Verdict::Authenticated(identity(roles)))
}

fn policy(change: impl FnOnce(&mut Policy)) -> Policy {
    let mut policy = Policy::default();
    change(&mut policy);
    policy
}

fn allowed(ruling: Ruling) -> Allowed {
    match ruling.decision {
        Decision::Allowed(allowed) => allowed,
        other => panic!("not allowed but {}", other.status()),
    }
}

/// The plan as (header, value) pairs, `None` for a blank.
fn plan(allowed: &Allowed) -> Vec<(String, Option<String>)> {
    allowed
        .rewrites
        .iter()
        .map(|rw| {
            let value = match &rw.value {
                HeaderValue::Bearer(token) => Some(format!("Bearer {token}")),
                HeaderValue::Text(text) => Some(text.clone()),
                HeaderValue::Blank => None,
            };
            (rw.name.as_str().to_owned(), value)
        })
        .collect()
}

#[test]
fn rejected_is_unauthorized_with_the_locations_challenge() {
    let a = from_yaml(TWO_REALMS);
    let everywhere = decide(&a, Outcome::new(Verdict::Rejected), &Policy::default());
    let Decision::Unauthorized { challenge } = everywhere.decision else {
        panic!("not a 401");
    };
    assert_eq!(&*challenge, r#"Basic realm="r1", Basic realm="r2""#);

    let pinned = policy(|p| p.realm = Some("r2".into()));
    let ruling = decide(&a, Outcome::new(Verdict::Rejected), &pinned);
    let Decision::Unauthorized { challenge } = ruling.decision else {
        panic!("not a 401");
    };
    assert_eq!(&*challenge, r#"Basic realm="r2""#);
}

#[test]
fn unavailable_says_when_to_come_back_and_failed_is_a_500() {
    let a = from_yaml(TWO_REALMS);
    let ruling = decide(&a, Outcome::new(Verdict::Unavailable), &Policy::default());
    assert!(matches!(
        ruling.decision,
        Decision::Unavailable { retry_after: 5 }
    ));
    let ruling = decide(&a, Outcome::new(Verdict::Failed), &Policy::default());
    assert!(matches!(ruling.decision, Decision::Failed));
}

#[test]
fn statuses_follow_the_decision() {
    let statuses = [
        (Decision::Forbidden { challenge: None }, 403),
        (Decision::Failed, 500),
        (Decision::Unavailable { retry_after: 5 }, 503),
        (
            Decision::Unauthorized {
                challenge: Arc::from("Basic"),
            },
            401,
        ),
    ];
    for (decision, status) in statuses {
        assert_eq!(decision.status(), status);
    }
    let a = from_yaml(TWO_REALMS);
    let ruling = decide(&a, authenticated(&[]), &Policy::default());
    assert_eq!(ruling.decision.status(), 200);
}

#[test]
fn the_notes_of_validation_are_kept() {
    let a = from_yaml(TWO_REALMS);
    let outcome = Outcome::new(Verdict::Rejected).note(NoteLevel::Info, "provider said no");
    let ruling = decide(&a, outcome, &Policy::default());
    assert_eq!(ruling.notes, [Note::info("provider said no")]);
}

#[test]
fn a_protected_location_forwards_the_token_and_blanks_what_the_client_could_forge() {
    let a = from_yaml(TWO_REALMS);
    let allowed = allowed(decide(&a, authenticated(&["admin"]), &Policy::default()));
    let token = allowed.token.clone().expect("a minted token");
    assert_eq!(
        plan(&allowed),
        [
            ("Authorization".into(), Some(format!("Bearer {token}"))),
            ("X-Auth-Username".into(), None),
            ("X-Auth-Realm".into(), None),
            ("X-Auth-Roles".into(), None),
        ]
    );
}

#[test]
fn another_output_header_also_blanks_the_clients_credential() {
    let a = from_yaml(TWO_REALMS);
    let custom = policy(|p| p.header = Arc::from("X-Token"));
    let allowed = allowed(decide(&a, authenticated(&[]), &custom));
    let token = allowed.token.clone().unwrap();
    let plan = plan(&allowed);
    assert_eq!(plan[0], ("X-Token".into(), Some(format!("Bearer {token}"))));
    assert_eq!(plan.last().unwrap(), &("Authorization".into(), None));
    assert_eq!(plan.len(), 5);

    // Header names are case-insensitive: this is still the client's credential header.
    let same = policy(|p| p.header = Arc::from("authorization"));
    let allowed = allowed_len(decide(&a, authenticated(&[]), &same));
    assert_eq!(allowed, 4);
}

fn allowed_len(ruling: Ruling) -> usize {
    allowed(ruling).rewrites.iter().count()
}

#[test]
fn legacy_headers_carry_the_identity() {
    let a = from_yaml(TWO_REALMS);
    let legacy = policy(|p| p.legacy_headers = true);
    let allowed = allowed(decide(&a, authenticated(&["a", "b"]), &legacy));
    assert_eq!(
        plan(&allowed)[1..],
        [
            ("X-Auth-Username".into(), Some("bob".into())),
            ("X-Auth-Realm".into(), Some("r1".into())),
            ("X-Auth-Roles".into(), Some("a,b".into())),
        ]
    );
}

#[test]
fn roles_are_checked_per_location_on_the_same_cached_fact() {
    let a = from_yaml(TWO_REALMS);
    let outcome = authenticated(&["user"]);
    let admins = policy(|p| p.required_roles = vec!["admin".into()]);
    let users = policy(|p| p.required_roles = vec!["admin".into(), "user".into()]);

    let refused = decide(&a, outcome.clone(), &admins);
    assert!(matches!(
        refused.decision,
        Decision::Forbidden { challenge: None }
    ));
    assert_eq!(refused.notes.len(), 1);
    assert_eq!(refused.notes[0].level, NoteLevel::Info);
    assert!(refused.notes[0].text.contains("lacks the required role"));

    assert!(decide(&a, outcome.clone(), &users)
        .decision
        .allowed()
        .is_some());
    assert!(decide(&a, outcome, &Policy::default())
        .decision
        .allowed()
        .is_some());
}

#[test]
fn endpoints_answer_themselves_so_nothing_is_rewritten() {
    let a = from_yaml(TWO_REALMS);
    for endpoint in [Endpoint::Authenticate, Endpoint::Whoami] {
        let location = policy(|p| p.endpoint = Some(endpoint));
        let allowed = allowed(decide(&a, authenticated(&[]), &location));
        assert!(allowed.token.is_some());
        assert_eq!(allowed.rewrites.iter().count(), 0);
    }
}

#[test]
fn the_token_api_mints_nothing() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| p.endpoint = Some(Endpoint::Tokens));
    let identity = identity(&[]);
    let outcome = Outcome::new(Verdict::Authenticated(identity.clone()));
    let allowed = allowed(decide(&a, outcome, &location));
    assert!(allowed.token.is_none());
    assert_eq!(allowed.rewrites.iter().count(), 0);
    assert!(identity.minted.lock().is_none(), "a token was signed");
}

#[test]
fn the_token_api_still_checks_roles() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| {
        p.endpoint = Some(Endpoint::Tokens);
        p.required_roles = vec!["admin".into()];
    });
    let ruling = decide(&a, authenticated(&["user"]), &location);
    assert!(matches!(
        ruling.decision,
        Decision::Forbidden { challenge: None }
    ));
}

#[test]
fn the_same_identity_gets_the_same_token_on_every_location() {
    let a = from_yaml(TWO_REALMS);
    let outcome = authenticated(&[]);
    let first = allowed(decide(&a, outcome.clone(), &Policy::default()));
    let whoami = policy(|p| p.endpoint = Some(Endpoint::Whoami));
    let second = allowed(decide(&a, outcome, &whoami));
    assert_eq!(first.token, second.token);
}

#[test]
fn a_request_the_module_did_not_allow_reaches_the_upstream_without_identity_headers() {
    let scrubbed = |policy: &Policy| -> Vec<(String, bool)> {
        HeaderPlan::scrubbing(policy, false)
            .iter()
            .map(|rw| (rw.name.as_str().to_owned(), rw.value == HeaderValue::Blank))
            .collect()
    };
    let all_blank = |names: &[&str]| -> Vec<(String, bool)> {
        names.iter().map(|n| ((*n).to_owned(), true)).collect()
    };
    assert_eq!(
        scrubbed(&Policy::default()),
        all_blank(&[
            "Authorization",
            "X-Auth-Username",
            "X-Auth-Realm",
            "X-Auth-Roles"
        ])
    );
    let custom = policy(|p| p.header = Arc::from("X-Token"));
    assert_eq!(
        scrubbed(&custom),
        all_blank(&[
            "Authorization",
            "X-Auth-Username",
            "X-Auth-Realm",
            "X-Auth-Roles",
            "X-Token"
        ])
    );
    // Other access modules may still need the client's credential; never its identity headers.
    let kept: Vec<String> = HeaderPlan::scrubbing(&custom, true)
        .iter()
        .map(|rw| rw.name.as_str().to_owned())
        .collect();
    assert_eq!(
        kept,
        ["X-Auth-Username", "X-Auth-Realm", "X-Auth-Roles", "X-Token"]
    );
}

// What the access log variables say: the kind, the reason and the cache use of each decision.

fn audit_of(ruling: &Ruling) -> (DecisionKind, Reason, CacheUse) {
    (
        ruling.decision.kind(),
        ruling.audit.reason,
        ruling.audit.cache,
    )
}

#[test]
fn every_verdict_has_its_kind_and_reason() {
    let a = from_yaml(TWO_REALMS);
    let anyone = Policy::default();
    let admins = policy(|p| p.required_roles = vec!["admin".to_owned()]);
    let cases = [
        (
            decide(&a, authenticated(&["user"]), &anyone),
            (DecisionKind::Allowed, Reason::Authenticated, CacheUse::Miss),
        ),
        (
            decide(&a, authenticated(&["user"]).cached(), &anyone),
            (DecisionKind::Allowed, Reason::Authenticated, CacheUse::Hit),
        ),
        (
            decide(&a, authenticated(&["user"]).cached(), &admins),
            (DecisionKind::Forbidden, Reason::MissingRole, CacheUse::Hit),
        ),
        (
            decide(&a, Outcome::new(Verdict::Rejected), &anyone),
            (
                DecisionKind::Unauthorized,
                Reason::CredentialsRejected,
                CacheUse::Miss,
            ),
        ),
        (
            decide(
                &a,
                Outcome::new(Verdict::Rejected).because(Reason::NoCredentials),
                &anyone,
            ),
            (
                DecisionKind::Unauthorized,
                Reason::NoCredentials,
                CacheUse::Miss,
            ),
        ),
        (
            decide(&a, Outcome::new(Verdict::Unavailable), &anyone),
            (
                DecisionKind::Unavailable,
                Reason::ProvidersUnavailable,
                CacheUse::Miss,
            ),
        ),
        (
            decide(&a, Outcome::new(Verdict::Failed), &anyone),
            (DecisionKind::Failed, Reason::InternalError, CacheUse::Miss),
        ),
    ];
    for (ruling, expected) in cases {
        assert_eq!(audit_of(&ruling), expected);
    }
}

#[test]
fn the_words_are_fixed_lowercase_codes() {
    let reasons = [
        Reason::Authenticated,
        Reason::NoCredentials,
        Reason::MalformedCredentials,
        Reason::CredentialsRejected,
        Reason::MissingRole,
        Reason::MissingScope,
        Reason::RequirementFailed,
        Reason::ProvidersUnavailable,
        Reason::ValidationTimedOut,
        Reason::NoRuntime,
        Reason::SigningFailed,
        Reason::InternalError,
        Reason::TooManyFailures,
    ];
    let words = reasons
        .iter()
        .map(|r| r.as_str())
        .chain(DecisionKind::ALL.iter().map(|k| k.as_str()))
        .chain([CacheUse::Hit.as_str(), CacheUse::Miss.as_str()]);
    for word in words {
        assert!(
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{word}"
        );
    }
    for (position, kind) in DecisionKind::ALL.iter().enumerate() {
        assert_eq!(kind.index(), position);
    }
}

#[test]
fn a_shadow_location_counts_its_decisions_and_answers_no_503() {
    let a = from_yaml(TWO_REALMS);
    let shadow = policy(|p| p.shadow = true);
    let concluded = |outcome, policy: &Policy| {
        conclude_owned(
            &a,
            policy,
            decide(&a, outcome, policy),
            RequirementCheck::Met,
        )
    };
    concluded(Outcome::new(Verdict::Unavailable), &shadow);
    concluded(Outcome::new(Verdict::Rejected), &shadow);
    concluded(Outcome::new(Verdict::Rejected), &shadow);
    concluded(Outcome::new(Verdict::Unavailable), &Policy::default());
    let text = String::from_utf8(a.metrics().render()).unwrap();
    for line in [
        "authotron_shadow_decisions_total{result=\"unavailable\"} 1\n",
        "authotron_shadow_decisions_total{result=\"unauthorized\"} 2\n",
        "authotron_shadow_decisions_total{result=\"allowed\"} 0\n",
        // Only the location that is on answered 503.
        "authotron_unavailable_total 1\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

fn scoped(scopes: &[&str], roles: &[&str]) -> Outcome {
    let roles = roles.iter().map(|r| (*r).to_owned()).collect();
    let mut user = User::new("bob", "r1", roles);
    let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    user.scopes.insert("p1".into(), scopes);
    Outcome::new(Verdict::Authenticated(Arc::new(Identity::new(user, "p1"))))
}

fn words(ruling: &Ruling) -> (DecisionKind, Reason) {
    (ruling.decision.kind(), ruling.audit.reason)
}

fn challenge_of(ruling: &Ruling) -> Option<&str> {
    match &ruling.decision {
        Decision::Forbidden { challenge } => challenge.as_deref(),
        Decision::Unauthorized { challenge } => Some(challenge),
        _ => None,
    }
}

#[test]
fn a_missing_scope_is_a_403_with_the_insufficient_scope_challenge() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| p.required_scopes = vec!["read".into(), "write".into()]);
    let refused = decide(&a, scoped(&["read"], &[]), &location);
    assert_eq!(
        words(&refused),
        (DecisionKind::Forbidden, Reason::MissingScope)
    );
    assert_eq!(refused.decision.status(), 403);
    assert_eq!(
        challenge_of(&refused),
        Some("Bearer error=\"insufficient_scope\", scope=\"read write\"")
    );
    assert!(refused.notes[0].text.contains("lacks a required scope"));
    let allowed = decide(&a, scoped(&["write", "read", "x"], &[]), &location);
    assert!(allowed.decision.allowed().is_some());
    // Basic and API-key users hold no scope.
    let basic = decide(&a, authenticated(&[]), &location);
    assert_eq!(
        words(&basic),
        (DecisionKind::Forbidden, Reason::MissingScope)
    );
}

#[test]
fn roles_are_checked_before_scopes() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| {
        p.required_roles = vec!["admin".into()];
        p.required_scopes = vec!["read".into()];
    });
    let both_missing = decide(&a, scoped(&[], &[]), &location);
    assert_eq!(
        words(&both_missing),
        (DecisionKind::Forbidden, Reason::MissingRole)
    );
    assert_eq!(challenge_of(&both_missing), None);
    let scope_missing = decide(&a, scoped(&[], &["admin"]), &location);
    assert_eq!(
        words(&scope_missing),
        (DecisionKind::Forbidden, Reason::MissingScope)
    );
}

#[test]
fn the_token_api_checks_scopes_and_mints_nothing_for_a_refusal() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| {
        p.endpoint = Some(Endpoint::Tokens);
        p.required_scopes = vec!["tokens".into()];
    });
    let ruling = decide(&a, scoped(&["read"], &[]), &location);
    assert_eq!(
        words(&ruling),
        (DecisionKind::Forbidden, Reason::MissingScope)
    );
}

fn requiring(errors: &[RequirementError]) -> Policy {
    policy(|p| {
        p.requirements = errors
            .iter()
            .map(|&error| Requirement { values: 1, error })
            .collect();
    })
}

#[test]
fn an_unmet_requirement_refuses_with_its_own_error() {
    let a = from_yaml(TWO_REALMS);
    let location = requiring(&[RequirementError::Forbidden, RequirementError::Unauthorized]);
    let conclude = |check| {
        let ruling = decide(&a, authenticated(&[]).cached(), &location);
        conclude_owned(&a, &location, ruling, check)
    };

    let met = conclude(RequirementCheck::Met);
    assert_eq!(words(&met), (DecisionKind::Allowed, Reason::Authenticated));

    let first = conclude(RequirementCheck::Unmet(0));
    assert_eq!(
        words(&first),
        (DecisionKind::Forbidden, Reason::RequirementFailed)
    );
    assert_eq!(challenge_of(&first), None);
    assert_eq!(first.audit.cache, CacheUse::Hit);
    assert!(first.notes[0].text.contains("authotron_require number 1"));

    let second = conclude(RequirementCheck::Unmet(1));
    assert_eq!(
        words(&second),
        (DecisionKind::Unauthorized, Reason::RequirementFailed)
    );
    assert_eq!(second.decision.status(), 401);
    // The location's usual challenge, as for a rejected credential.
    assert_eq!(challenge_of(&second), Some(&*a.challenge(None)));

    // An index the policy does not have refuses all the same.
    let unknown = conclude(RequirementCheck::Unmet(7));
    assert_eq!(
        words(&unknown),
        (DecisionKind::Forbidden, Reason::RequirementFailed)
    );

    let failed = conclude(RequirementCheck::Failed);
    assert_eq!(
        words(&failed),
        (DecisionKind::Failed, Reason::InternalError)
    );
}

#[test]
fn requirements_never_turn_a_refusal_into_something_else() {
    let a = from_yaml(TWO_REALMS);
    let location = policy(|p| {
        p.required_scopes = vec!["read".into()];
        p.requirements = vec![Requirement {
            values: 1,
            error: RequirementError::Unauthorized,
        }];
    });
    // A request failing both its scope and its requirement is refused for the scope.
    let ruling = decide(&a, scoped(&[], &[]), &location);
    let concluded = conclude_owned(&a, &location, ruling, RequirementCheck::Unmet(0));
    assert_eq!(
        words(&concluded),
        (DecisionKind::Forbidden, Reason::MissingScope)
    );
    let rejected = decide(&a, Outcome::new(Verdict::Rejected), &location);
    let concluded = conclude_owned(&a, &location, rejected, RequirementCheck::Failed);
    assert_eq!(
        words(&concluded),
        (DecisionKind::Unauthorized, Reason::CredentialsRejected)
    );
}

#[test]
fn a_shadow_location_counts_the_decision_after_its_requirements_once() {
    let a = from_yaml(TWO_REALMS);
    let mut shadow = requiring(&[RequirementError::Forbidden]);
    shadow.shadow = true;
    let ruling = decide(&a, authenticated(&[]), &shadow);
    let text = String::from_utf8(a.metrics().render()).unwrap();
    assert!(
        text.contains("authotron_shadow_decisions_total{result=\"allowed\"} 0\n"),
        "{text}"
    );
    conclude_owned(&a, &shadow, ruling, RequirementCheck::Unmet(0));
    let text = String::from_utf8(a.metrics().render()).unwrap();
    for line in [
        "authotron_shadow_decisions_total{result=\"allowed\"} 0\n",
        "authotron_shadow_decisions_total{result=\"forbidden\"} 1\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

/// `Authenticator::conclude` on a ruling the test owns, handing it back.
fn conclude_owned(
    a: &Authenticator,
    policy: &Policy,
    mut ruling: Ruling,
    check: RequirementCheck,
) -> Ruling {
    a.conclude(policy, &mut ruling, check);
    ruling
}
