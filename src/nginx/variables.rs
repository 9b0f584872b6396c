//! `$authotron_user`, `$authotron_realm`, `$authotron_roles`, `$authotron_jwt`,
//! `$authotron_provider`: set once the access phase allowed the request.

use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_int_t, ngx_str_t,
    ngx_variable_value_t, NGX_ERROR, NGX_HTTP_VAR_NOCACHEABLE, NGX_OK,
};
use ngx::ngx_string;

use super::panic_guard::guard;
use super::request_ctx::RequestCtx;
use crate::domain::Identity;

type Reader = fn(&Identity, &str) -> String;

const VARIABLES: [(ngx_str_t, Reader); 5] = [
    (ngx_string!("authotron_user"), |i, _| {
        i.user.username.clone()
    }),
    (ngx_string!("authotron_realm"), |i, _| i.user.realm.clone()),
    (ngx_string!("authotron_roles"), |i, _| i.user.roles_joined()),
    (ngx_string!("authotron_jwt"), |_, token| token.to_owned()),
    (ngx_string!("authotron_provider"), |i, _| i.provider.clone()),
];

/// # Safety
/// Called by NGINX from `preconfiguration` with a valid cf.
pub unsafe fn register(cf: *mut ngx_conf_t) -> ngx_int_t {
    for (index, (name, _)) in VARIABLES.iter().enumerate() {
        let mut name = *name;
        // Not cacheable: a read before the access phase must not pin "not found".
        let v = ngx_http_add_variable(cf, &mut name, NGX_HTTP_VAR_NOCACHEABLE as _);
        if v.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        (*v).get_handler = Some(get);
        (*v).data = index;
    }
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn get(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    index: usize,
) -> ngx_int_t {
    guard(NGX_ERROR as ngx_int_t, || {
        let value = RequestCtx::of(r).and_then(|ctx| {
            let allowed = ctx.identity.borrow();
            let (identity, token) = allowed.as_ref()?;
            Some(VARIABLES.get(index)?.1(identity, token))
        });
        let Some(value) = value else {
            (*v).set_not_found(1);
            return NGX_OK as ngx_int_t;
        };
        let Some(copy) = ngx_str_t::from_bytes((*r).pool, value.as_bytes()) else {
            return NGX_ERROR as ngx_int_t;
        };
        (*v).data = copy.data;
        (*v).set_len(copy.len as _);
        (*v).set_valid(1);
        (*v).set_no_cacheable(0);
        (*v).set_not_found(0);
        NGX_OK as ngx_int_t
    })
}
