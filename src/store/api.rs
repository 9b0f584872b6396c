//! The token management API behind `authotron_tokens`: upstream's routes (`GET /token`,
//! `GET /tokens`, `DELETE /token/{token}`) with their bugs fixed, and `POST` for a token with
//! its own expiry and description. Routing looks at the last path segments only, so one
//! prefix location (`location /token`) serves every route.

use serde::Serialize;

use super::{token, NewRow, Owner, Store, TokenInfo, Unavailable, Which};
use crate::domain::Identity;

/// The provider name of identities that came from a store token.
pub const TOKEN_STORE: &str = "token-store";

const MAX_DESCRIPTION_CHARS: usize = 200;

/// A finished response: status, JSON body (empty for 204), and `Allow` for a 405.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub allow: Option<&'static str>,
}

impl ApiResponse {
    fn json(status: u16, value: &impl Serialize) -> ApiResponse {
        match serde_json::to_vec(value) {
            Ok(body) => ApiResponse {
                status,
                body,
                allow: None,
            },
            Err(_) => ApiResponse::error(500, "cannot encode the answer"),
        }
    }

    pub fn error(status: u16, message: &str) -> ApiResponse {
        ApiResponse::json(status, &serde_json::json!({ "error": message }))
    }

    fn not_allowed(allow: &'static str) -> ApiResponse {
        ApiResponse {
            allow: Some(allow),
            ..ApiResponse::error(405, "method not allowed")
        }
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET …/token` answers 200 as upstream does; `POST` answers 201.
    Create {
        status: u16,
        expires_in: Option<i64>,
        description: Option<String>,
    },
    List,
    Revoke(Which),
}

/// The parts of an HTTP request the API routes on.
pub struct ApiRequest {
    pub method: String,
    /// Percent-decoded, as NGINX normalises it.
    pub path: String,
    /// Raw, still form-encoded.
    pub query: String,
}

/// Maps method, decoded path and raw query string to a route, or to the error answer given
/// once the caller is authenticated (so nothing about routes leaks to anonymous clients).
pub fn route(method: &str, path: &str, query: &str, max_expiry: i64) -> Result<Route, ApiResponse> {
    let mut segments = path.rsplit('/').filter(|s| !s.is_empty());
    let last = segments.next().unwrap_or_default();
    let collection = matches!(last, "token" | "tokens");
    if collection {
        return match (method, last) {
            ("GET", "tokens") => Ok(Route::List),
            ("GET", "token") => create(200, query, max_expiry),
            ("POST", _) => create(201, query, max_expiry),
            _ => Err(ApiResponse::not_allowed("GET, POST")),
        };
    }
    if !matches!(segments.next(), Some("token" | "tokens")) {
        return Err(ApiResponse::error(404, "no such route"));
    }
    if method != "DELETE" {
        return Err(ApiResponse::not_allowed("DELETE"));
    }
    // A token as upstream's route takes it, or the id a listing shows.
    if token::is_well_formed(last) {
        Ok(Route::Revoke(Which::Hash(token::hash(last))))
    } else if token::is_id(last) {
        Ok(Route::Revoke(Which::Id(last.to_owned())))
    } else {
        Err(no_such_token())
    }
}

fn create(status: u16, query: &str, max_expiry: i64) -> Result<Route, ApiResponse> {
    let mut expires_in = None;
    let mut description = None;
    for (name, value) in query_pairs(query) {
        match name.as_str() {
            "expires_in" => match value.parse::<i64>() {
                Ok(seconds) if seconds > 0 && seconds <= max_expiry => {
                    expires_in = Some(seconds);
                }
                _ => {
                    return Err(ApiResponse::error(
                        400,
                        &format!(
                            "expires_in must be a whole number of seconds from 1 to {max_expiry}"
                        ),
                    ))
                }
            },
            "description" => {
                if value.chars().count() > MAX_DESCRIPTION_CHARS
                    || value.chars().any(char::is_control)
                {
                    return Err(ApiResponse::error(
                        400,
                        &format!("description must be at most {MAX_DESCRIPTION_CHARS} printable characters"),
                    ));
                }
                description = Some(value);
            }
            _ => {}
        }
    }
    Ok(Route::Create {
        status,
        expires_in,
        description,
    })
}

fn no_such_token() -> ApiResponse {
    ApiResponse::error(404, "no such token")
}

/// What serving one API request did.
pub struct Served {
    pub response: ApiResponse,
    /// The public ids of the tokens it revoked, whose cached answers must go; empty when it
    /// revoked nothing.
    pub revoked: Vec<String>,
    /// Why the store could not be used, for the error log; the client only sees a 503.
    pub outage: Option<String>,
}

/// Serves one API request of the authenticated `identity`: routes it, carries it out, and
/// turns an outage into a 503.
pub async fn serve(store: &Store, identity: &Identity, request: &ApiRequest, now: i64) -> Served {
    let served = |response, revoked, outage| Served {
        response,
        revoked,
        outage,
    };
    let route = match route(
        &request.method,
        &request.path,
        &request.query,
        store.max_expiry,
    ) {
        Ok(route) => route,
        Err(response) => return served(response, Vec::new(), None),
    };
    match perform(store, identity, route, now).await {
        Ok(Performed { response, revoked }) => served(response, revoked, None),
        Err(Unavailable(reason)) => served(unavailable(), Vec::new(), Some(reason)),
    }
}

/// What carrying out one route did.
pub struct Performed {
    pub response: ApiResponse,
    /// The public ids of the tokens it deleted (see `Served::revoked`).
    pub revoked: Vec<String>,
}

impl From<ApiResponse> for Performed {
    fn from(response: ApiResponse) -> Performed {
        Performed {
            response,
            revoked: Vec::new(),
        }
    }
}

/// Carries out `route` for the authenticated `identity`. An outage is left to the caller,
/// which logs its reason and answers 503.
pub async fn perform(
    store: &Store,
    identity: &Identity,
    route: Route,
    now: i64,
) -> Result<Performed, Unavailable> {
    if identity.provider == TOKEN_STORE {
        // Otherwise one stolen token could be renewed forever.
        return Ok(ApiResponse::error(403, "a store token cannot manage tokens").into());
    }
    let owner = Owner {
        realm: identity.user.realm.clone(),
        username: identity.user.username.clone(),
    };
    match route {
        Route::Create {
            status,
            expires_in,
            description,
        } => {
            let lifetime = expires_in.unwrap_or(store.default_expiry);
            issue(store, identity, owner, lifetime, description, now)
                .await
                .map(|created| ApiResponse::json(status, &created).into())
        }
        Route::List => store
            .list(owner, now)
            .await
            .map(|tokens| ApiResponse::json(200, &tokens).into()),
        Route::Revoke(which) => store.revoke(owner, which).await.map(|revoked| {
            if revoked.is_empty() {
                return no_such_token().into();
            }
            let response = ApiResponse {
                status: 204,
                body: Vec::new(),
                allow: None,
            };
            Performed { response, revoked }
        }),
    }
}

/// What a client sees of an outage; the reason goes to the error log only.
pub fn unavailable() -> ApiResponse {
    ApiResponse::error(503, "the token store is unavailable")
}

/// The only time a token's secret exists outside its owner's hands.
#[derive(Serialize)]
struct Created {
    token: String,
    #[serde(flatten)]
    info: TokenInfo,
}

async fn issue(
    store: &Store,
    identity: &Identity,
    owner: Owner,
    lifetime: i64,
    description: Option<String>,
    now: i64,
) -> Result<Created, Unavailable> {
    let fresh = token::generate().map_err(Unavailable)?;
    let snapshot = super::snapshot(identity.provided()).map_err(Unavailable)?;
    let info = TokenInfo {
        id: fresh.id,
        description,
        created_at: now,
        expires_at: now.saturating_add(lifetime),
        last_used_at: None,
    };
    store
        .insert(NewRow {
            hash: fresh.hash,
            info: info.clone(),
            owner,
            snapshot,
            provider: identity.provider.clone(),
        })
        .await?;
    Ok(Created {
        token: fresh.secret,
        info,
    })
}

/// `application/x-www-form-urlencoded` pairs of a query string, decoded.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(name), form_decode(value))
    })
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|hex| bytes[i] == b'%' && hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
