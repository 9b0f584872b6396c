//! Answers of identity services: the status and body classified for each kind of caller, then
//! read by `ecmwf-api` (who-am-i), `efas-api` (user details), `openid-offline` (introspection
//! and token exchange) and `ecmwf-token-generator` (validation and exchange).
//!
//! Input: the HTTP status on the first line, then the body.

use serde_json::{Map, Value};

use crate::domain::User;
use crate::http::{JsonReply, MAX_ANSWER_BYTES};
use crate::providers::remote::{access_token, classify, Caller, Failure};
use crate::providers::{ecmwf_api, efas_api, openid_offline, token_generator};

const REALM: &str = "fuzz-realm";
/// No reason text the module writes contains this character, so a reason that holds a body
/// string with it has echoed the service, which may echo the credential we sent.
const ECHO_MARK: char = '~';

pub fn identity_answer(data: &[u8]) {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Some(status) = std::str::from_utf8(&data[..newline])
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    else {
        return;
    };
    let raw = &data[newline + 1..];
    // Larger answers are refused before they are read.
    if raw.len() > MAX_ANSWER_BYTES {
        return;
    }
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let echoes = marked_strings(body.as_ref());

    for caller in [Caller::ApiKey, Caller::Client] {
        let reply = JsonReply {
            status,
            body: body.clone(),
        };
        match classify("fuzz service", caller, reply) {
            Ok(object) => {
                assert!(
                    (200..300).contains(&status),
                    "HTTP {status} read as an answer"
                );
                assert_eq!(body.as_ref(), Some(&Value::Object(object.clone())));
                interpret(&object, &echoes);
            }
            Err(failure) => {
                let (rejected, reason) = match &failure {
                    Failure::Rejected(reason) => (true, reason),
                    Failure::Unavailable(reason) => (false, reason),
                };
                never_echoes(reason, &echoes);
                if rejected {
                    // Only a 4xx about the user's own credential says no to the user; a
                    // transient or a 5xx answer never does.
                    let about_user = match caller {
                        Caller::ApiKey => (400..500).contains(&status),
                        Caller::Client => status == 400,
                    };
                    assert!(
                        about_user && status != 408 && status != 429,
                        "{caller:?} {status}"
                    );
                }
            }
        }
    }
}

/// What each provider reads from a 2xx JSON object.
fn interpret(body: &Map<String, Value>, echoes: &[String]) {
    let text = |field: &str| body.get(field).and_then(Value::as_str);
    match ecmwf_api::user_from_answer(REALM, body) {
        Ok(user) => {
            assert_eq!(Some(user.username.as_str()), text("uid"));
            only_attributes(&user, &["ecmwf-email"]);
            assert!(user.roles.is_empty());
        }
        Err(failure) => never_echoes(&reason(&failure), echoes),
    }
    match efas_api::user_from_answer(REALM, body) {
        Ok(user) => {
            assert_eq!(Some(user.username.as_str()), text("username"));
            only_attributes(&user, &["email"]);
            let listed = body
                .get("roles")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            assert_eq!(user.roles.len(), listed);
        }
        Err(failure) => never_echoes(&reason(&failure), echoes),
    }
    let active = body.get("active") == Some(&Value::Bool(true));
    if openid_offline::is_active_offline(body) {
        let scopes = text("scope").unwrap_or_default();
        assert!(active && scopes.split_whitespace().any(|s| s == "offline_access"));
    }
    assert_eq!(token_generator::is_active(body), active);
    match access_token("fuzz exchange", body) {
        Ok(token) => assert_eq!(Some(token.as_str()), text("access_token")),
        Err(failure) => {
            assert!(
                matches!(failure, Failure::Unavailable(_)),
                "a missing token is ours"
            );
            never_echoes(&reason(&failure), echoes);
        }
    }
}

/// A user is named by a non-empty string, and carries no attribute but `allowed`.
fn only_attributes(user: &User, allowed: &[&str]) {
    assert!(!user.username.is_empty(), "a user named \"\"");
    assert_eq!(user.realm, REALM);
    assert!(user
        .attributes
        .keys()
        .all(|k| allowed.contains(&k.as_str())));
}

fn reason(failure: &Failure) -> String {
    match failure {
        Failure::Rejected(reason) | Failure::Unavailable(reason) => reason.clone(),
    }
}

fn never_echoes(reason: &str, echoes: &[String]) {
    for echo in echoes {
        assert!(
            !reason.contains(echo.as_str()),
            "the reason {reason:?} echoes the answer"
        );
    }
}

/// Every string of the body, keys included, that holds [`ECHO_MARK`].
fn marked_strings(body: Option<&Value>) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack: Vec<&Value> = body.into_iter().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) if s.contains(ECHO_MARK) => found.push(s.clone()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                found.extend(map.keys().filter(|k| k.contains(ECHO_MARK)).cloned());
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    found
}
