//! `$authotron_user`, `$authotron_realm`, `$authotron_roles`, `$authotron_jwt`,
//! `$authotron_provider`: set once the access phase allowed the request.
//! `$authotron_decision`, `$authotron_reason`, `$authotron_cache`: set once the module decided
//! the request, whatever it decided; fixed words, for access logs.
//!
//! NGINX evaluates a variable only where a configuration uses it, so none costs anything
//! elsewhere.

use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_int_t, ngx_str_t,
    ngx_variable_value_t, NGX_ERROR, NGX_HTTP_VAR_NOCACHEABLE, NGX_OK,
};
use ngx::ngx_string;

use super::panic_guard::guard;
use super::request_ctx::RequestCtx;
use super::variable_value::{self, TooLong};
use crate::auth::decision::Allowed;
use crate::domain::{Audit, DecisionKind};

type Reader = fn(&Allowed) -> Option<String>;

const VARIABLES: [(ngx_str_t, Reader); 5] = [
    (ngx_string!("authotron_user"), |a| {
        Some(a.identity.user.username.clone())
    }),
    (ngx_string!("authotron_realm"), |a| {
        Some(a.identity.user.realm.clone())
    }),
    (ngx_string!("authotron_roles"), |a| {
        Some(a.identity.user.roles_joined())
    }),
    (ngx_string!("authotron_jwt"), |a| {
        a.token.as_deref().map(str::to_owned)
    }),
    (ngx_string!("authotron_provider"), |a| {
        Some(a.identity.provider.clone())
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
        let value = RequestCtx::of(r).and_then(|ctx| {
            // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
            let decision = unsafe { ctx.as_ref() }.decision.borrow();
            VARIABLES.get(index)?.1(decision.as_ref()?.allowed()?)
        });
        let Some(value) = value else {
            variable_value::set_not_found(v);
            return NGX_OK as ngx_int_t;
        };
        variable_value::set_copy(r.pool, v, value.as_bytes())
    })
}
