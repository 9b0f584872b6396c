//! `$authotron_user`, `$authotron_realm`, `$authotron_roles`, `$authotron_jwt`,
//! `$authotron_provider`: set once the access phase allowed the request.
//! `$authotron_decision`, `$authotron_reason`, `$authotron_cache`: set once the module decided
//! the request, whatever it decided; fixed words, for access logs.
//!
//! NGINX evaluates a variable only where a configuration uses it, so none costs anything
//! elsewhere.

use std::borrow::Cow;

use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_int_t, ngx_str_t,
    ngx_variable_value_t, NGX_ERROR, NGX_HTTP_VAR_NOCACHEABLE, NGX_OK,
};
use ngx::ngx_string;

use super::panic_guard::guard;
use super::request_ctx::RequestCtx;
use super::variable_value::{self, TooLong};
use crate::auth::decision::Allowed;
use crate::auth::Decision;
use crate::domain::{Audit, DecisionKind};

/// Borrows what it can: the value is copied into the request's pool anyway.
type Reader = for<'a> fn(&'a Allowed) -> Option<Cow<'a, str>>;

const VARIABLES: [(ngx_str_t, Reader); 5] = [
    (ngx_string!("authotron_user"), |a| {
        Some(Cow::Borrowed(&a.identity.user.username))
    }),
    (ngx_string!("authotron_realm"), |a| {
        Some(Cow::Borrowed(&a.identity.user.realm))
    }),
    (ngx_string!("authotron_roles"), |a| {
        Some(Cow::Owned(a.identity.user.roles_joined()))
    }),
    (ngx_string!("authotron_jwt"), |a| {
        a.token.as_deref().map(Cow::Borrowed)
    }),
    (ngx_string!("authotron_provider"), |a| {
        Some(Cow::Borrowed(&a.identity.provider))
    }),
];

/// Reads a word from the decision's kind and its audit.
type WordReader = fn(DecisionKind, Audit) -> &'static str;

const WORDS: [(ngx_str_t, WordReader); 3] = [
    (ngx_string!("authotron_decision"), |kind, _| kind.as_str()),
    (ngx_string!("authotron_reason"), |_, audit| {
        audit.reason.as_str()
    }),
    (ngx_string!("authotron_cache"), |_, audit| {
        audit.cache.as_str()
    }),
];

type Getter =
    unsafe extern "C" fn(*mut ngx_http_request_t, *mut ngx_variable_value_t, usize) -> ngx_int_t;

pub fn register(cf: &mut ngx_conf_t) -> ngx_int_t {
    let identity = VARIABLES.iter().map(|(name, _)| (*name, get as Getter));
    let words = WORDS.iter().map(|(name, _)| (*name, get_word as Getter));
    for (name, getter, index) in with_index(identity).chain(with_index(words)) {
        let mut name = name;
        // Not cacheable: a read before the access phase must not pin "not found".
        // SAFETY: the live configuration, in preconfiguration as NGINX's own modules do it.
        let v = unsafe { ngx_http_add_variable(cf, &mut name, NGX_HTTP_VAR_NOCACHEABLE as _) };
        // SAFETY: a non-null result is the variable NGINX just registered.
        let Some(v) = (unsafe { v.as_mut() }) else {
            return NGX_ERROR as ngx_int_t;
        };
        v.get_handler = Some(getter);
        v.data = index;
    }
    NGX_OK as ngx_int_t
}

/// Each variable with its getter and its index in its own table.
fn with_index(
    table: impl Iterator<Item = (ngx_str_t, Getter)>,
) -> impl Iterator<Item = (ngx_str_t, Getter, usize)> {
    table
        .enumerate()
        .map(|(index, (name, getter))| (name, getter, index))
}

unsafe extern "C" fn get_word(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    index: usize,
) -> ngx_int_t {
    guard(NGX_ERROR as ngx_int_t, || {
        // SAFETY: NGINX evaluates variables with a live request and the value to fill in.
        let (r, v) = unsafe { (&*r, &mut *v) };
        let word = RequestCtx::of(r).and_then(|ctx| {
            // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
            let ctx = unsafe { ctx.as_ref() };
            let kind = ctx.decision.borrow().as_ref()?.kind();
            Some(WORDS.get(index)?.1(kind, ctx.audit.get()?))
        });
        let Some(word) = word else {
            variable_value::set_not_found(v);
            return NGX_OK as ngx_int_t;
        };
        // A static word: NGINX only reads variable values, as its own static ones show.
        match variable_value::set_found(v, word.as_ptr().cast_mut(), word.len()) {
            Ok(()) => NGX_OK as ngx_int_t,
            Err(TooLong) => NGX_ERROR as ngx_int_t,
        }
    })
}

unsafe extern "C" fn get(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    index: usize,
) -> ngx_int_t {
    guard(NGX_ERROR as ngx_int_t, || {
        // SAFETY: NGINX evaluates variables with a live request and the value to fill in.
        let (r, v) = unsafe { (&mut *r, &mut *v) };
        set_from_allowed(r, v, |allowed| VARIABLES.get(index)?.1(allowed))
    })
}

/// Fills `v` with a copy of what `read` finds in the request's allowed decision; "not found"
/// before the module allowed the request, or when `read` finds nothing.
pub(super) fn set_from_allowed(
    r: &mut ngx_http_request_t,
    v: &mut ngx_variable_value_t,
    read: impl FnOnce(&Allowed) -> Option<Cow<'_, str>>,
) -> ngx_int_t {
    let Some(ctx) = RequestCtx::of(r) else {
        variable_value::set_not_found(v);
        return NGX_OK as ngx_int_t;
    };
    // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends with this call.
    let decision = unsafe { ctx.as_ref() }.decision.borrow();
    match decision.as_ref().and_then(Decision::allowed).and_then(read) {
        Some(value) => variable_value::set_copy(r.pool, v, value.as_bytes()),
        None => {
            variable_value::set_not_found(v);
            NGX_OK as ngx_int_t
        }
    }
}
