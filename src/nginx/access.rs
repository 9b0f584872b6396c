//! The access-phase handler. Re-entrant like `auth_request`: the first pass answers from the
//! cache or starts a validation and suspends; the wake-up re-runs the phases, and the second
//! pass applies the outcome.

use futures::future::BoxFuture;
use futures::FutureExt;
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_ACCESS_PHASE,
    ngx_http_request_t, ngx_int_t, NGX_AGAIN, NGX_DECLINED, NGX_ERROR, NGX_HTTP_FORBIDDEN,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_SERVICE_UNAVAILABLE, NGX_HTTP_UNAUTHORIZED,
    NGX_LOG_DEBUG, NGX_LOG_INFO, NGX_LOG_WARN, NGX_OK,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::{ngx_log_debug_mask, ngx_log_error};

use super::bridge;
use super::directives::{Endpoint, LocConf};
use super::headers;
use super::module::Module;
use super::panic_guard::guard_status;
use super::request_ctx::{Decision, RequestCtx};
use crate::auth::{Authenticator, NoteLevel, Outcome, Start};
use crate::domain::Verdict;

/// Adds the handler to the access phase.
///
/// # Safety
/// Called by NGINX from `postconfiguration` with a valid cf.
pub unsafe fn register(cf: *mut ngx_conf_t) -> ngx_int_t {
    let Some(core) = NgxHttpCoreModule::main_conf_mut(&*cf) else {
        return NGX_ERROR as ngx_int_t;
    };
    let phase = &mut core.phases[ngx_http_phases_NGX_HTTP_ACCESS_PHASE as usize].handlers;
    let slot = ngx_array_push(phase).cast::<ngx_http_handler_pt>();
    if slot.is_null() {
        return NGX_ERROR as ngx_int_t;
    }
    *slot = Some(access_handler);
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| access(r))
}

unsafe fn access(r: *mut ngx_http_request_t) -> ngx_int_t {
    let Some(loc) = Module::location_conf(&*r) else {
        return NGX_DECLINED as ngx_int_t;
    };
    if !loc.is_active() || r != (*r).main {
        return NGX_DECLINED as ngx_int_t;
    }
    let Some(authenticator) = Module::main_conf(&*r).and_then(|m| m.authenticator.clone()) else {
        // `nginx -t` refuses active locations without a config; this is defence in depth.
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };

    if let Some(ctx) = RequestCtx::of(r) {
        return match ctx.outcome.borrow_mut().take() {
            Some(outcome) => apply(r, loc, &authenticator, ctx, outcome),
            // Woken for something else while the validation runs.
            None if ctx.decision.get() == Decision::Pending => NGX_AGAIN as ngx_int_t,
            None => answer(loc, ctx.decision.get()),
        };
    }

    let Some(ctx) = RequestCtx::attach(r) else {
        return NGX_ERROR as ngx_int_t;
    };
    let realm = loc.realm().map(str::to_owned).or_else(|| {
        crate::auth::header::parse_realm_selector(headers::first_in(r, headers::REALM_SELECTOR))
    });
    let log = (*(*r).connection).log;
    let first = authenticator.start(headers::authorization(r), realm.as_deref());
    let work: BoxFuture<'static, Outcome> = match first {
        // The management API always needs the store, so it always suspends.
        first if loc.endpoint == Endpoint::Tokens => authenticator
            .clone()
            .manage(
                first,
                headers::api_request(r),
                loc.required_roles().to_vec(),
            )
            .boxed(),
        Start::Done(outcome) => {
            // The cached hot path: formatted only when debug logging is on.
            if let Verdict::Authenticated(identity) = &outcome.verdict {
                ngx_log_debug_mask!(
                    DebugMask::Http,
                    log,
                    "authotron: answered without validation: user \"{}\" of realm \"{}\" (provider \"{}\") from the cache",
                    identity.user.username,
                    identity.user.realm,
                    identity.provider
                );
            } else {
                ngx_log_debug_mask!(
                    DebugMask::Http,
                    log,
                    "authotron: answered without validation"
                );
            }
            return apply(r, loc, &authenticator, ctx, outcome);
        }
        Start::Validate(job) => authenticator.clone().validate(job).boxed(),
    };
    ngx_log_debug_mask!(DebugMask::Http, log, "authotron: validation started");
    if bridge::start(ctx, work, authenticator.worst_case()) {
        NGX_AGAIN as ngx_int_t
    } else {
        ngx_log_error!(NGX_LOG_WARN, log, "authotron: no runtime in this process");
        ctx.decision.set(Decision::Unavailable);
        authenticator.metrics().answered_unavailable();
        answer(loc, Decision::Unavailable)
    }
}

/// Logs the notes, decides, and for a gate location writes what the upstream will see.
unsafe fn apply(
    r: *mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Authenticator,
    ctx: &RequestCtx,
    outcome: Outcome,
) -> ngx_int_t {
    let log = (*(*r).connection).log;
    for note in &outcome.notes {
        let level = match note.level {
            NoteLevel::Debug => NGX_LOG_DEBUG,
            NoteLevel::Info => NGX_LOG_INFO,
            NoteLevel::Warn => NGX_LOG_WARN,
        };
        ngx_log_error!(level, log, "authotron: {}", note.text);
    }

    *ctx.answer.borrow_mut() = outcome.answer;
    let decision = match outcome.verdict {
        Verdict::Authenticated(identity) => {
            if !authenticator.authorize(&identity, loc.required_roles()) {
                ngx_log_error!(
                    NGX_LOG_INFO,
                    log,
                    "authotron: user \"{}\" of realm \"{}\" lacks the required role",
                    identity.user.username,
                    identity.user.realm
                );
                Decision::Forbidden
            } else {
                match authenticator.token(&identity) {
                    Ok(token) => {
                        let forwarded = loc.endpoint != Endpoint::None
                            || headers::forward_identity(r, loc, &identity, &token).is_ok();
                        *ctx.identity.borrow_mut() = Some((identity, token));
                        if forwarded {
                            Decision::Allowed
                        } else {
                            Decision::Failed
                        }
                    }
                    Err(e) => {
                        ngx_log_error!(NGX_LOG_WARN, log, "authotron: {e}");
                        Decision::Failed
                    }
                }
            }
        }
        Verdict::Rejected => Decision::Unauthorized,
        Verdict::Unavailable => Decision::Unavailable,
        Verdict::Failed => Decision::Failed,
    };
    ctx.decision.set(decision);
    if decision == Decision::Unavailable {
        authenticator.metrics().answered_unavailable();
    }
    if loc.endpoint == Endpoint::None && explain(r, authenticator, loc, decision).is_err() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    answer(loc, decision)
}

/// The headers a refusal carries: the challenge with a 401, when to come back with a 503.
unsafe fn explain(
    r: *mut ngx_http_request_t,
    authenticator: &Authenticator,
    loc: &LocConf,
    decision: Decision,
) -> Result<(), headers::NoMemory> {
    match decision {
        Decision::Unauthorized => headers::challenge(r, authenticator.challenge(loc.realm())),
        Decision::Unavailable => headers::retry_after(r),
        _ => Ok(()),
    }
}

/// A gate location answers with the status; an endpoint location lets its content handler
/// write the upstream-compatible response.
fn answer(loc: &LocConf, decision: Decision) -> ngx_int_t {
    if loc.endpoint != Endpoint::None {
        return NGX_OK as ngx_int_t;
    }
    match decision {
        Decision::Pending => NGX_AGAIN as ngx_int_t,
        Decision::Allowed => NGX_OK as ngx_int_t,
        Decision::Unauthorized => NGX_HTTP_UNAUTHORIZED as ngx_int_t,
        Decision::Forbidden => NGX_HTTP_FORBIDDEN as ngx_int_t,
        Decision::Unavailable => NGX_HTTP_SERVICE_UNAVAILABLE as ngx_int_t,
        Decision::Failed => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    }
}
