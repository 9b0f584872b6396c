//! `$authotron_user`, `$authotron_realm`, `$authotron_roles`, `$authotron_jwt`,
//! `$authotron_provider`: set once the access phase allowed the request.

use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_int_t, ngx_str_t,
    ngx_variable_value_t, NGX_ERROR, NGX_HTTP_VAR_NOCACHEABLE, NGX_OK,
};
use ngx::ngx_string;

use super::panic_guard::guard;
use super::pool;
use super::request_ctx::RequestCtx;
use crate::auth::decision::Allowed;

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

pub fn register(cf: &mut ngx_conf_t) -> ngx_int_t {
    for (index, (name, _)) in VARIABLES.iter().enumerate() {
        let mut name = *name;
        // Not cacheable: a read before the access phase must not pin "not found".
        // SAFETY: the live configuration, in preconfiguration as NGINX's own modules do it.
        let v = unsafe { ngx_http_add_variable(cf, &mut name, NGX_HTTP_VAR_NOCACHEABLE as _) };
        // SAFETY: a non-null result is the variable NGINX just registered.
        let Some(v) = (unsafe { v.as_mut() }) else {
            return NGX_ERROR as ngx_int_t;
        };
        v.get_handler = Some(get);
        v.data = index;
    }
    NGX_OK as ngx_int_t
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
            v.set_not_found(1);
            return NGX_OK as ngx_int_t;
        };
        let Ok(copy) = pool::pool_str(r.pool, value.as_bytes()) else {
            return NGX_ERROR as ngx_int_t;
        };
        v.data = copy.data;
        v.set_len(copy.len as _);
        v.set_valid(1);
        v.set_no_cacheable(0);
        v.set_not_found(0);
        NGX_OK as ngx_int_t
    })
}
