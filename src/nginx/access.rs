//! The check. Re-entrant like `auth_request`: the first call answers from the cache or starts
//! a validation and suspends; the wake-up re-runs the phases, and the second call applies the
//! ruling the core delivered.
//!
//! Main requests are checked in the access phase, where `satisfy` and the other access modules
//! play their part. NGINX skips that phase in subrequests (`auth_request`, SSI includes), so a
//! subrequest is checked at the start of its rewrite phase instead, before `return` or
//! `rewrite` could answer it: a location with `authotron on` is never open to a subrequest.

use std::ptr::NonNull;
use std::sync::Arc;

use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_ACCESS_PHASE,
    ngx_http_phases_NGX_HTTP_PRECONTENT_PHASE, ngx_http_phases_NGX_HTTP_REWRITE_PHASE,
    ngx_http_request_t, ngx_int_t, NGX_AGAIN, NGX_DECLINED, NGX_DONE, NGX_ERROR,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_SATISFY_ANY, NGX_OK,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_log_debug_mask;

use super::bridge;
use super::directives::LocConf;
use super::headers;
use super::module::Module;
use super::notes;
use super::panic_guard::guard_status;
use super::pool::NoMemory;
use super::request_ctx::{Delivery, RequestCtx};
use super::requirements;
use crate::auth::decision::HeaderPlan;
use crate::auth::policy::REALM_SELECTOR;
use crate::auth::requirement::RequirementCheck;
use crate::auth::{Authenticator, Decision, Interruption, Progress, Ruling};
use crate::domain::Identity;

/// Adds the access handler, its rewrite-phase twin for subrequests, and the precontent
/// handler that cleans what the upstream sees of requests the module did not allow.
pub fn register(cf: &mut ngx_conf_t) -> ngx_int_t {
    let handlers = [
        (
            ngx_http_phases_NGX_HTTP_ACCESS_PHASE,
            access_handler as Handler,
        ),
        (ngx_http_phases_NGX_HTTP_REWRITE_PHASE, subrequest_handler),
        (
            ngx_http_phases_NGX_HTTP_PRECONTENT_PHASE,
            precontent_handler,
        ),
    ];
    for (phase, handler) in handlers {
        if add_phase_handler(cf, phase as usize, handler).is_none() {
            return NGX_ERROR as ngx_int_t;
        }
    }
    NGX_OK as ngx_int_t
}

type Handler = unsafe extern "C" fn(*mut ngx_http_request_t) -> ngx_int_t;

fn add_phase_handler(cf: &mut ngx_conf_t, phase: usize, handler: Handler) -> Option<()> {
    let core = NgxHttpCoreModule::main_conf_mut(cf)?;
    // SAFETY: the phase's handler array, initialised by the HTTP core module before
    // postconfiguration; the result is checked for null.
    let slot = unsafe { ngx_array_push(&mut core.phases[phase].handlers) };
    // SAFETY: a non-null result is room for one handler pointer.
    let slot = unsafe { slot.cast::<ngx_http_handler_pt>().as_mut() }?;
    *slot = Some(handler);
    Some(())
}

unsafe extern "C" fn precontent_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: NGINX calls phase handlers with a live request, on its own thread.
    guard_status(|| scrub_unless_allowed(unsafe { &mut *r }))
}

/// Under `satisfy any` another module may grant access before the access handler ran, or
/// after it refused; either way the client's own identity headers and credential must not
/// reach the upstream of a location where `authotron` is on.
fn scrub_unless_allowed(r: &mut ngx_http_request_t) -> ngx_int_t {
    let Some(loc) = Module::location_conf(r) else {
        return NGX_DECLINED as ngx_int_t;
    };
    if loc.enabled != 1 || loc.endpoint.is_some() {
        return NGX_DECLINED as ngx_int_t;
    }
    let allowed = RequestCtx::of(r).is_some_and(|ctx| {
        // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
        let decision = unsafe { ctx.as_ref() }.decision.borrow();
        decision.as_ref().is_some_and(|d| d.allowed().is_some())
    });
    if allowed {
        return NGX_DECLINED as ngx_int_t;
    }
    match headers::rewrite(r, &HeaderPlan::scrubbing(&loc.policy, false)) {
        Ok(()) => NGX_DECLINED as ngx_int_t,
        Err(NoMemory) => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    }
}

unsafe extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: NGINX calls phase handlers with a live request, on its own thread.
    guard_status(|| check(unsafe { &mut *r }, Phase::Access))
}

unsafe extern "C" fn subrequest_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: NGINX calls phase handlers with a live request, on its own thread.
    guard_status(|| check(unsafe { &mut *r }, Phase::Rewrite))
}

/// Where a request is checked, and how that phase's checker is told what happened.
#[derive(Clone, Copy)]
enum Phase {
    /// Main requests.
    Access,
    /// Subrequests, which never run the access phase.
    Rewrite,
}

impl Phase {
    fn checks(self, r: &ngx_http_request_t) -> bool {
        let main = std::ptr::eq(r, r.main);
        match self {
            Phase::Access => main,
            Phase::Rewrite => !main,
        }
    }

    /// Suspended until the validation is done.
    fn suspended(self) -> ngx_int_t {
        match self {
            Phase::Access => NGX_AGAIN as ngx_int_t,
            Phase::Rewrite => NGX_DONE as ngx_int_t,
        }
    }

    /// Let through: the access phase's checker moves on at `NGX_OK`, but the rewrite phase's
    /// would end the request there.
    fn passed(self) -> ngx_int_t {
        match self {
            Phase::Access => NGX_OK as ngx_int_t,
            Phase::Rewrite => NGX_DECLINED as ngx_int_t,
        }
    }
}

fn check(r: &mut ngx_http_request_t, phase: Phase) -> ngx_int_t {
    let Some(loc) = Module::location_conf(r) else {
        return NGX_DECLINED as ngx_int_t;
    };
    if !loc.authenticates() || !phase.checks(r) {
        return NGX_DECLINED as ngx_int_t;
    }
    let Some(authenticator) = Module::main_conf(r).and_then(|m| m.authenticator.clone()) else {
        // `nginx -t` refuses authenticating locations without a config; defence in depth.
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    match RequestCtx::of(r) {
        Some(ctx) => second_call(r, loc, &authenticator, ctx, phase),
        None => first_call(r, loc, &authenticator, phase),
    }
}

fn first_call(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Arc<Authenticator>,
    phase: Phase,
) -> ngx_int_t {
    let Some(ctx) = RequestCtx::attach(r) else {
        return NGX_ERROR as ngx_int_t;
    };
    begin(r, loc, authenticator, ctx, phase)
}

/// Decides the request afresh: from the identity of an allowed ancestor, the cache, or a
/// validation it starts.
fn begin(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Arc<Authenticator>,
    ctx: NonNull<RequestCtx>,
    phase: Phase,
) -> ngx_int_t {
    let progress = match allowed_ancestor(r) {
        // A subrequest acts for the caller its parent allowed, and the headers it copied from
        // that parent carry the module's own token, which must never be validated.
        Some(identity) => Progress::Decided(authenticator.redecide(identity, &loc.policy)),
        None => authenticator.begin(
            &loc.policy,
            headers::authorization(r),
            || headers::first_in(r, REALM_SELECTOR),
            || headers::api_request(r),
            || headers::client_address(r),
        ),
    };
    let log = connection_log(r);
    match progress {
        Progress::Decided(ruling) => {
            log_cache_answer(log, &ruling);
            apply(r, loc, authenticator, ctx, ruling, phase)
        }
        Progress::Running(work) => {
            ngx_log_debug_mask!(DebugMask::Http, log, "authotron: validation started");
            if bridge::start(ctx, work, authenticator.worst_case()) {
                return phase.suspended();
            }
            let ruling = authenticator.interrupted(Interruption::NoRuntime);
            apply(r, loc, authenticator, ctx, ruling, phase)
        }
    }
}

/// The identity of the nearest enclosing request the module allowed, if any.
fn allowed_ancestor(r: &ngx_http_request_t) -> Option<Arc<Identity>> {
    // SAFETY: a live subrequest's parents are live (a parent outlives its subrequests); the
    // main request's parent is null.
    let mut parent = unsafe { r.parent.as_ref() };
    while let Some(p) = parent {
        if let Some(ctx) = RequestCtx::of(p) {
            // SAFETY: the ctx lives in the shared pool, which is live; the borrow ends here.
            let decision = unsafe { ctx.as_ref() }.decision.borrow();
            if let Some(allowed) = decision.as_ref().and_then(Decision::allowed) {
                return Some(allowed.identity.clone());
            }
        }
        // SAFETY: as above.
        parent = unsafe { p.parent.as_ref() };
    }
    None
}

fn second_call(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Arc<Authenticator>,
    ctx: NonNull<RequestCtx>,
    phase: Phase,
) -> ngx_int_t {
    // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
    let ctx_ref = unsafe { ctx.as_ref() };
    let delivery = ctx_ref.delivery.borrow_mut().take();
    let ruling = match delivery {
        Some(Delivery::Ruled(ruling)) => *ruling,
        Some(Delivery::Interrupted(interruption)) => authenticator.interrupted(interruption),
        None => {
            let decision = ctx_ref.decision.borrow();
            match decision.as_ref() {
                // Woken for something else while the validation runs.
                None => return phase.suspended(),
                // An internal redirect of an allowed request: the same identity, checked
                // against this location. Validating again would validate our own token.
                Some(Decision::Allowed(allowed)) => {
                    authenticator.redecide(allowed.identity.clone(), &loc.policy)
                }
                // A refused request that moved to a shadow location still passes; the
                // decision stays for the variables.
                Some(_) if loc.policy.shadow => return NGX_DECLINED as ngx_int_t,
                // Refused by a shadow location, which wrote no challenge and scrubbed
                // nothing: this location decides afresh, from the client's own headers.
                Some(_) if ctx_ref.shadowed.get() => {
                    drop(decision);
                    return begin(r, loc, authenticator, ctx, phase);
                }
                Some(refused) => return status(loc, refused, phase),
            }
        }
    };
    apply(r, loc, authenticator, ctx, ruling, phase)
}

/// Completes the ruling with the location's `authotron_require`, logs its notes and writes the
/// decision into the request: the rewritten headers when allowed, the challenge or Retry-After
/// when refused. Endpoints leave the answer to their content handler. Every ruling comes
/// through here once, whichever way it was reached.
fn apply(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Authenticator,
    ctx: NonNull<RequestCtx>,
    mut ruling: Ruling,
    phase: Phase,
) -> ngx_int_t {
    conclude(r, loc, authenticator, ctx, &mut ruling);
    let log = connection_log(r);
    for note in &ruling.notes {
        notes::log_note(log, note);
    }
    let decision = ruling.decision;
    let shadow = loc.policy.shadow;
    // A shadow location only records: the request goes on as if the module were off, and
    // NGX_DECLINED leaves `satisfy any` to the other access modules.
    let rc = match shadow {
        true => NGX_DECLINED as ngx_int_t,
        false => {
            if write_headers(r, loc, &decision, phase).is_err() {
                return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
            }
            status(loc, &decision, phase)
        }
    };
    // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
    let ctx = unsafe { ctx.as_ref() };
    *ctx.decision.borrow_mut() = Some(decision);
    ctx.audit.set(Some(ruling.audit));
    ctx.shadowed.set(shadow);
    rc
}

/// Has NGINX evaluate the location's `authotron_require` values for an allowed identity, and
/// lets the core turn what they say into the final ruling. Nothing is written into the request
/// before that, so a refused request never carries the token or the legacy headers.
fn conclude(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    authenticator: &Authenticator,
    ctx: NonNull<RequestCtx>,
    ruling: &mut Ruling,
) {
    let directives = loc.requirements.as_deref().unwrap_or_default();
    let check = match ruling.decision {
        Decision::Allowed(_) if !directives.is_empty() => {
            // SAFETY: the ctx lives in the pool of `r`, which is live; each borrow below ends
            // before NGINX evaluates anything.
            let ctx = unsafe { ctx.as_ref() };
            // The `$authotron_*` getters read the identity from the ctx.
            let allowed = std::mem::replace(&mut ruling.decision, Decision::Failed);
            *ctx.decision.borrow_mut() = Some(allowed);
            ctx.audit.set(Some(ruling.audit));
            let check = requirements::check(r, directives);
            match ctx.decision.borrow_mut().take() {
                Some(allowed) => {
                    ruling.decision = allowed;
                    check
                }
                // Not reachable (nothing else writes the ctx meanwhile); were it reached, the
                // ruling would stay the placeholder `Failed`, a 500.
                None => RequirementCheck::Failed,
            }
        }
        _ => RequirementCheck::Met,
    };
    authenticator.conclude(&loc.policy, ruling, check);
}

fn write_headers(
    r: &mut ngx_http_request_t,
    loc: &LocConf,
    decision: &Decision,
    phase: Phase,
) -> Result<(), NoMemory> {
    if loc.endpoint.is_some() {
        return Ok(());
    }
    if let Decision::Allowed(allowed) = decision {
        return headers::rewrite(r, &allowed.rewrites);
    }
    // Refused, yet `satisfy any` or an `error_page` may still send the request upstream.
    // Subrequests have no access phase, so no other module can grant them anything.
    let others_may_grant = matches!(phase, Phase::Access)
        && NgxHttpCoreModule::location_conf(r)
            .is_some_and(|core| core.satisfy == NGX_HTTP_SATISFY_ANY as ngx::ffi::ngx_uint_t);
    headers::rewrite(r, &HeaderPlan::scrubbing(&loc.policy, others_may_grant))?;
    match decision {
        Decision::Unauthorized { challenge }
        | Decision::Forbidden {
            challenge: Some(challenge),
        } => headers::challenge(r, challenge),
        Decision::Unavailable { retry_after } | Decision::Limited { retry_after } => {
            headers::add_reply_header(r, "Retry-After", &retry_after.to_string())
        }
        _ => Ok(()),
    }
}

/// A protected location answers with the decision's status; an endpoint location lets its
/// content handler write the upstream-compatible response.
fn status(loc: &LocConf, decision: &Decision, phase: Phase) -> ngx_int_t {
    match (loc.endpoint, decision.status()) {
        (Some(_), _) | (None, 200) => phase.passed(),
        (None, status) => status as ngx_int_t,
    }
}

/// The hot path's debug line, formatted only when debug logging is on.
fn log_cache_answer(log: *mut ngx::ffi::ngx_log_t, ruling: &Ruling) {
    match ruling.decision.allowed() {
        Some(allowed) => {
            let user = &allowed.identity.user;
            ngx_log_debug_mask!(
                DebugMask::Http,
                log,
                "authotron: answered without validation: user \"{}\" of realm \"{}\" (provider \"{}\") from the cache",
                user.username,
                user.realm,
                allowed.identity.provider
            );
        }
        None => {
            ngx_log_debug_mask!(
                DebugMask::Http,
                log,
                "authotron: answered without validation"
            );
        }
    }
}

fn connection_log(r: &ngx_http_request_t) -> *mut ngx::ffi::ngx_log_t {
    // SAFETY: a live request always has its connection.
    unsafe { (*r.connection).log }
}
