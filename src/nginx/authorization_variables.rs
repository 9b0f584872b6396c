//! `$authotron_scopes` and `$authotron_attribute_<name>`: what the allowed identity holds
//! beyond its name and roles, for `map`, `authotron_require`, headers and logs. Set once the
//! module allowed the request, and while NGINX evaluates `authotron_require` for it.
//!
//! A value with a control character is "not found" (empty): it must never reach a header, and
//! refusing the whole identity for it would lock a user out over an unrelated claim.

use std::borrow::Cow;

use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_int_t, ngx_str_t,
    ngx_variable_value_t, NGX_ERROR, NGX_HTTP_VAR_NOCACHEABLE, NGX_HTTP_VAR_PREFIX, NGX_OK,
};
use ngx::ngx_string;

use super::panic_guard::guard;
use super::variables;
use crate::domain::{is_header_safe, User};

const SCOPES: ngx_str_t = ngx_string!("authotron_scopes");
/// NGINX hands a prefix variable's getter the full, lowercased name it was used under.
const ATTRIBUTE_PREFIX: &str = "authotron_attribute_";

type Getter =
    unsafe extern "C" fn(*mut ngx_http_request_t, *mut ngx_variable_value_t, usize) -> ngx_int_t;

pub fn register(cf: &mut ngx_conf_t) -> ngx_int_t {
    let prefix = ngx_str_t {
        len: ATTRIBUTE_PREFIX.len(),
        data: ATTRIBUTE_PREFIX.as_ptr().cast_mut(),
    };
    let variables = [
        (SCOPES, 0, get_scopes as Getter),
        (prefix, NGX_HTTP_VAR_PREFIX, get_attribute),
    ];
    for (mut name, flags, getter) in variables {
        // Not cacheable: a read before the access phase must not pin "not found".
        let flags = (NGX_HTTP_VAR_NOCACHEABLE | flags) as _;
        // SAFETY: the live configuration, in preconfiguration as NGINX's own modules do it;
        // NGINX copies the name.
        let v = unsafe { ngx_http_add_variable(cf, &mut name, flags) };
        // SAFETY: a non-null result is the variable NGINX just registered.
        let Some(v) = (unsafe { v.as_mut() }) else {
            return NGX_ERROR as ngx_int_t;
        };
        v.get_handler = Some(getter);
    }
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn get_scopes(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    _: usize,
) -> ngx_int_t {
    // SAFETY: NGINX evaluates variables with a live request and the value to fill in.
    guard(NGX_ERROR as ngx_int_t, || unsafe {
        set(&mut *r, &mut *v, |user| {
            Some(Cow::Owned(user.scopes_joined()))
        })
    })
}

unsafe extern "C" fn get_attribute(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    data: usize,
) -> ngx_int_t {
    guard(NGX_ERROR as ngx_int_t, || {
        // SAFETY: for a prefix variable NGINX passes the address of the used variable's name,
        // which lives with the configuration.
        let full = unsafe { (*(data as *const ngx_str_t)).as_bytes() };
        let name = full.get(ATTRIBUTE_PREFIX.len()..).unwrap_or_default();
        // SAFETY: as for `get_scopes`.
        let (r, v) = unsafe { (&mut *r, &mut *v) };
        // An absent attribute is empty, as the token would carry nothing for it.
        set(r, v, |user| {
            Some(Cow::Borrowed(
                user.attribute_for_variable(name).unwrap_or_default(),
            ))
        })
    })
}

/// Fills `v` with what `read` finds in the allowed identity, "not found" without one or for a
/// value that is not header-safe.
fn set(
    r: &mut ngx_http_request_t,
    v: &mut ngx_variable_value_t,
    read: impl FnOnce(&User) -> Option<Cow<'_, str>>,
) -> ngx_int_t {
    variables::set_from_allowed(r, v, |allowed| {
        read(&allowed.identity.user).filter(|value| is_header_safe(value))
    })
}
