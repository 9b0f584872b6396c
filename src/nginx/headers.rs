//! Reading request headers, rewriting what the upstream receives, and adding response headers.
//! Which headers to rewrite, and to what, is the core's `HeaderPlan`; this only writes memory.
//!
//! NGINX has no way to delete a header line, and `proxy_pass` forwards every line in
//! `headers_in`. So every client copy of a header we own is overwritten in place: a client can
//! never get its own value of our output headers to the backend.

use ngx::ffi::{
    ngx_hash_strlow, ngx_http_request_t, ngx_list_part_t, ngx_list_push, ngx_list_t, ngx_pnalloc,
    ngx_pool_t, ngx_str_t, ngx_table_elt_t,
};

use crate::auth::decision::{HeaderPlan, HeaderValue};
use crate::auth::policy::{self, HeaderMatch, AUTHORIZATION};
use crate::store::api::ApiRequest;

/// Out of pool memory while writing headers.
#[derive(Debug)]
pub struct NoMemory;

/// The client's `Authorization` value (NGINX keeps at most one: it rejects duplicates).
pub fn authorization(r: &ngx_http_request_t) -> Option<&[u8]> {
    let h = r.headers_in.authorization;
    // SAFETY: NGINX points `authorization` at an element of `headers_in.headers`, which lives in
    // the request pool as long as `r`; null when the client sent none.
    unsafe { h.as_ref() }.map(|h| h.value.as_bytes())
}

/// The first value of a request header.
pub fn first_in<'r>(r: &'r ngx_http_request_t, name: &str) -> Option<&'r [u8]> {
    elements(&r.headers_in.headers)
        .find(|h| h.key.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| h.value.as_bytes())
}

/// What the token API routes on: method, decoded path, raw query string.
pub fn api_request(r: &ngx_http_request_t) -> ApiRequest {
    let text = |s: &ngx_str_t| String::from_utf8_lossy(s.as_bytes()).into_owned();
    ApiRequest {
        method: text(&r.method_name),
        path: text(&r.uri),
        query: text(&r.args),
    }
}

/// Carries out the core's plan: every rewrite in one walk over the request headers, then the
/// headers that were set but absent are added.
pub fn rewrite(r: &mut ngx_http_request_t, plan: &HeaderPlan) -> Result<(), NoMemory> {
    let pool = r.pool;
    // Values go into the pool: the upstream request is built from them after the access
    // phase, long after the plan is gone. A fixed array: this runs on every allowed request.
    let mut pending: [Option<Pending>; 5] = Default::default();
    for (slot, rewrite) in pending.iter_mut().zip(plan.iter()) {
        let (value, add_if_absent) = match &rewrite.value {
            HeaderValue::Bearer(token) => {
                (pool_concat(pool, &[b"Bearer ", token.as_bytes()])?, true)
            }
            HeaderValue::Text(text) => (pool_str(pool, text.as_bytes())?, true),
            HeaderValue::Blank => (empty_str(), false),
        };
        *slot = Some(Pending {
            name: rewrite.name.as_str(),
            value,
            add_if_absent,
            found: false,
        });
    }
    for h in elements_mut(&mut r.headers_in.headers) {
        let key = h.key.as_bytes();
        for p in pending.iter_mut().flatten() {
            match policy::header_match(p.name.as_bytes(), key) {
                HeaderMatch::Same => {
                    h.value = p.value;
                    p.found = true;
                }
                HeaderMatch::Variant => h.value = empty_str(),
                HeaderMatch::Other => {}
            }
        }
    }
    for p in pending.iter().flatten() {
        if p.found || !p.add_if_absent {
            continue;
        }
        let h = push(&mut r.headers_in.headers, pool, p.name, p.value)?;
        if p.name.eq_ignore_ascii_case(AUTHORIZATION) {
            r.headers_in.authorization = h;
        }
    }
    Ok(())
}

/// One rewrite with its value in the pool.
struct Pending<'a> {
    name: &'a str,
    value: ngx_str_t,
    /// Set values are added when the client sent no such header; blanks never are.
    add_if_absent: bool,
    found: bool,
}

/// Adds a response header.
pub fn add_out(
    r: &mut ngx_http_request_t,
    name: &str,
    value: &[u8],
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let pool = r.pool;
    let value = pool_str(pool, value)?;
    push(&mut r.headers_out.headers, pool, name, value)
}

/// Adds the `WWW-Authenticate` challenge the way `auth_basic` does, so `satisfy any` can
/// withdraw it.
pub fn challenge(r: &mut ngx_http_request_t, value: &str) -> Result<(), NoMemory> {
    let h = add_out(r, "WWW-Authenticate", value.as_bytes())?;
    link_www_authenticate(r, h);
    Ok(())
}

/// Adds a response header the way the HTTP core module expects to find it: `WWW-Authenticate`
/// linked from `headers_out`, the others only in the list.
pub fn add_reply_header(
    r: &mut ngx_http_request_t,
    name: &str,
    value: &str,
) -> Result<(), NoMemory> {
    if name.eq_ignore_ascii_case("WWW-Authenticate") {
        return challenge(r, value);
    }
    add_out(r, name, value.as_bytes()).map(|_| ())
}

#[cfg(ngx_table_elt_next)]
fn link_www_authenticate(r: &mut ngx_http_request_t, h: *mut ngx_table_elt_t) {
    // SAFETY: `h` is the element `add_out` just initialised in the request's header list.
    unsafe { (*h).next = r.headers_out.www_authenticate };
    r.headers_out.www_authenticate = h;
}

#[cfg(not(ngx_table_elt_next))]
fn link_www_authenticate(r: &mut ngx_http_request_t, h: *mut ngx_table_elt_t) {
    r.headers_out.www_authenticate = h;
}

/// Appends a fully initialised element. Everything is allocated before the element is pushed:
/// list memory is not zeroed, and the proxy module looks headers up by `hash` and
/// `lowcase_key`, so a half-written element must never be left in the list.
fn push(
    list: &mut ngx_list_t,
    pool: *mut ngx_pool_t,
    name: &str,
    value: ngx_str_t,
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let key = pool_str(pool, name.as_bytes())?;
    // SAFETY: `pool` is the live request pool; the result is checked for null.
    let lowcase = unsafe { ngx_pnalloc(pool, name.len()) }.cast::<u8>();
    if lowcase.is_null() {
        return Err(NoMemory);
    }
    // SAFETY: `lowcase` has room for `key.len` bytes, `key` holds `key.len` bytes.
    let hash = unsafe { ngx_hash_strlow(lowcase, key.data, key.len) };
    // SAFETY: `list` is a header list initialised by NGINX with `ngx_table_elt_t` elements.
    let h = unsafe { ngx_list_push(list) }.cast::<ngx_table_elt_t>();
    // SAFETY: a non-null result points at room for one element; every field NGINX reads is
    // written here before anyone can see it.
    let element = unsafe { h.as_mut() }.ok_or(NoMemory)?;
    element.hash = hash;
    element.key = key;
    element.value = value;
    element.lowcase_key = lowcase;
    #[cfg(ngx_table_elt_next)]
    {
        element.next = std::ptr::null_mut();
    }
    Ok(h)
}

/// A copy of `bytes` in the pool.
pub fn pool_str(pool: *mut ngx_pool_t, bytes: &[u8]) -> Result<ngx_str_t, NoMemory> {
    pool_concat(pool, &[bytes])
}

/// The parts, joined, in one pool allocation.
fn pool_concat(pool: *mut ngx_pool_t, parts: &[&[u8]]) -> Result<ngx_str_t, NoMemory> {
    let len = parts.iter().map(|p| p.len()).sum();
    if len == 0 {
        return Ok(empty_str());
    }
    // SAFETY: `pool` is a live NGINX pool owned by the request being handled.
    let data = unsafe { ngx_pnalloc(pool, len) }.cast::<u8>();
    if data.is_null() {
        return Err(NoMemory);
    }
    // SAFETY: `data` is a fresh allocation of `len` bytes, which the parts fill exactly.
    let buffer = unsafe { std::slice::from_raw_parts_mut(data, len) };
    let mut at = 0;
    for part in parts {
        buffer[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    Ok(ngx_str_t { len, data })
}

/// A valid pointer even for nothing: NGINX copies header values with memcpy.
fn empty_str() -> ngx_str_t {
    ngx_str_t {
        len: 0,
        data: c"".as_ptr().cast_mut().cast(),
    }
}

/// The elements of an NGINX list of headers.
fn elements(list: &ngx_list_t) -> impl Iterator<Item = &ngx_table_elt_t> {
    parts(list).flat_map(|part| {
        // SAFETY: a header list part holds `nelts` initialised `ngx_table_elt_t` elements.
        unsafe { std::slice::from_raw_parts(part.elts.cast::<ngx_table_elt_t>(), part.nelts) }
    })
}

fn elements_mut(list: &mut ngx_list_t) -> impl Iterator<Item = &mut ngx_table_elt_t> {
    parts(list).flat_map(|part| {
        // SAFETY: as in `elements`; the `&mut` on the list makes these borrows exclusive.
        unsafe { std::slice::from_raw_parts_mut(part.elts.cast::<ngx_table_elt_t>(), part.nelts) }
    })
}

fn parts(list: &ngx_list_t) -> impl Iterator<Item = &ngx_list_part_t> {
    std::iter::successors(Some(&list.part), |part| {
        // SAFETY: `next` is null or the next part of the same list, allocated in its pool.
        unsafe { part.next.as_ref() }
    })
}
