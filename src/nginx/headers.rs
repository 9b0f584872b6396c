//! Reading request headers, rewriting what the upstream receives, and response headers.
//!
//! NGINX has no way to delete a header line, and `proxy_pass` forwards every line in
//! `headers_in`. So every client copy of a header we own is overwritten in place: a client can
//! never get its own value of our output headers to the backend.

use ngx::ffi::{
    ngx_hash_strlow, ngx_http_request_t, ngx_list_part_t, ngx_list_push, ngx_list_t, ngx_pnalloc,
    ngx_pool_t, ngx_str_t, ngx_table_elt_t,
};

use super::directives::LocConf;
use crate::auth::RETRY_AFTER_SECONDS;
use crate::domain::Identity;
use crate::store::api::ApiRequest;

pub const AUTHORIZATION: &str = "Authorization";
pub const REALM_SELECTOR: &str = "X-Auth-Realm";
const LEGACY_USERNAME: &str = "X-Auth-Username";
const LEGACY_ROLES: &str = "X-Auth-Roles";

/// Out of pool memory while writing headers.
#[derive(Debug)]
pub struct NoMemory;

/// The client's `Authorization` value (NGINX keeps at most one: it rejects duplicates).
///
/// # Safety
/// `r` must be a live request on the NGINX thread; the slice lives as long as its pool.
pub unsafe fn authorization<'a>(r: *mut ngx_http_request_t) -> Option<&'a [u8]> {
    let h = (*r).headers_in.authorization;
    (!h.is_null()).then(|| (*h).value.as_bytes())
}

/// The first value of a request header.
///
/// # Safety
/// As for `authorization`.
pub unsafe fn first_in<'a>(r: *mut ngx_http_request_t, name: &str) -> Option<&'a [u8]> {
    let mut found: Option<ngx_str_t> = None;
    for_each(&mut (*r).headers_in.headers, |h| {
        if found.is_none() && h.key.as_bytes().eq_ignore_ascii_case(name.as_bytes()) {
            found = Some(h.value);
        }
    });
    found.map(|v| bytes(&v))
}

/// What the token management API routes on: method, decoded path, raw query string.
///
/// # Safety
/// As for `authorization`.
pub unsafe fn api_request(r: *mut ngx_http_request_t) -> ApiRequest {
    let text = |s: &ngx_str_t| String::from_utf8_lossy(bytes(s)).into_owned();
    ApiRequest {
        method: text(&(*r).method_name),
        path: text(&(*r).uri),
        query: text(&(*r).args),
    }
}

/// The bytes of an NGINX string; empty strings may have a null `data`.
unsafe fn bytes<'a>(s: &ngx_str_t) -> &'a [u8] {
    if s.len == 0 || s.data.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(s.data, s.len)
    }
}

/// Gives the upstream our view of the caller: the token in the configured header, the legacy
/// headers or blanks in their place, and no trace of the client's credential.
///
/// # Safety
/// `r` must be a live request on the NGINX thread.
pub unsafe fn forward_identity(
    r: *mut ngx_http_request_t,
    loc: &LocConf,
    identity: &Identity,
    token: &str,
) -> Result<(), NoMemory> {
    let pool = (*r).pool;
    // Straight into the pool, and a fixed array rather than a Vec: this runs on every allowed
    // request, cached or not.
    let bearer = pool_concat(pool, &[b"Bearer ", token.as_bytes()])?;
    let mut rewrites = [
        Rewrite::set(loc.header(), bearer),
        Rewrite::blank(LEGACY_USERNAME),
        Rewrite::blank(REALM_SELECTOR),
        Rewrite::blank(LEGACY_ROLES),
        // The client's credential, unless our token took its place.
        Rewrite::blank(AUTHORIZATION),
    ];
    if loc.legacy_headers() {
        for (rewrite, (name, value)) in rewrites[1..4].iter_mut().zip(legacy_values(identity)) {
            *rewrite = Rewrite::set(name, pool_str(pool, value.as_bytes())?);
        }
    }
    let used = if loc.header().eq_ignore_ascii_case(AUTHORIZATION) {
        4
    } else {
        5
    };
    rewrite_in(r, &mut rewrites[..used])
}

/// Upstream's `include_legacy_headers` trio.
pub fn legacy_values(identity: &Identity) -> [(&'static str, String); 3] {
    let user = &identity.user;
    [
        (LEGACY_USERNAME, user.username.clone()),
        (REALM_SELECTOR, user.realm.clone()),
        (LEGACY_ROLES, user.roles_joined()),
    ]
}

/// One request header to overwrite in every copy: set (added when absent) or blanked.
struct Rewrite<'a> {
    name: &'a str,
    value: ngx_str_t,
    add_if_absent: bool,
    found: bool,
}

impl<'a> Rewrite<'a> {
    fn set(name: &'a str, value: ngx_str_t) -> Self {
        Rewrite {
            name,
            value,
            add_if_absent: true,
            found: false,
        }
    }

    fn blank(name: &'a str) -> Self {
        Rewrite {
            name,
            value: empty_str(),
            add_if_absent: false,
            found: false,
        }
    }
}

/// Applies every rewrite in one walk over the request headers.
unsafe fn rewrite_in(r: *mut ngx_http_request_t, rewrites: &mut [Rewrite]) -> Result<(), NoMemory> {
    for_each(&mut (*r).headers_in.headers, |h| {
        for rewrite in rewrites.iter_mut() {
            if h.key
                .as_bytes()
                .eq_ignore_ascii_case(rewrite.name.as_bytes())
            {
                h.value = rewrite.value;
                rewrite.found = true;
            }
        }
    });
    for rewrite in rewrites.iter().filter(|rw| rw.add_if_absent && !rw.found) {
        let h = push(
            &mut (*r).headers_in.headers,
            (*r).pool,
            rewrite.name,
            rewrite.value,
        )?;
        if rewrite.name.eq_ignore_ascii_case(AUTHORIZATION) {
            (*r).headers_in.authorization = h;
        }
    }
    Ok(())
}

/// Adds a response header.
///
/// # Safety
/// `r` must be a live request on the NGINX thread.
pub unsafe fn add_out(
    r: *mut ngx_http_request_t,
    name: &str,
    value: &[u8],
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let pool = (*r).pool;
    let value = pool_str(pool, value)?;
    push(&mut (*r).headers_out.headers, pool, name, value)
}

/// Adds the `WWW-Authenticate` challenge the way `auth_basic` does, so `satisfy any` can
/// withdraw it.
///
/// # Safety
/// `r` must be a live request on the NGINX thread.
pub unsafe fn challenge(r: *mut ngx_http_request_t, value: &str) -> Result<(), NoMemory> {
    let h = add_out(r, "WWW-Authenticate", value.as_bytes())?;
    link_www_authenticate(r, h);
    Ok(())
}

/// Tells a client refused with 503 when to try again.
///
/// # Safety
/// `r` must be a live request on the NGINX thread.
pub unsafe fn retry_after(r: *mut ngx_http_request_t) -> Result<(), NoMemory> {
    add_out(r, "Retry-After", RETRY_AFTER_SECONDS.to_string().as_bytes()).map(|_| ())
}

#[cfg(ngx_table_elt_next)]
unsafe fn link_www_authenticate(r: *mut ngx_http_request_t, h: *mut ngx_table_elt_t) {
    (*h).next = (*r).headers_out.www_authenticate;
    (*r).headers_out.www_authenticate = h;
}

#[cfg(not(ngx_table_elt_next))]
unsafe fn link_www_authenticate(r: *mut ngx_http_request_t, h: *mut ngx_table_elt_t) {
    (*r).headers_out.www_authenticate = h;
}

/// Appends a fully initialised element: list memory is not zeroed, and the proxy module looks
/// headers up by `hash` and `lowcase_key`.
unsafe fn push(
    list: *mut ngx_list_t,
    pool: *mut ngx_pool_t,
    name: &str,
    value: ngx_str_t,
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let h = ngx_list_push(list).cast::<ngx_table_elt_t>();
    if h.is_null() {
        return Err(NoMemory);
    }
    let key = pool_str(pool, name.as_bytes())?;
    let lowcase = ngx_pnalloc(pool, name.len()).cast::<u8>();
    if lowcase.is_null() {
        return Err(NoMemory);
    }
    (*h).hash = ngx_hash_strlow(lowcase, key.data, key.len);
    (*h).key = key;
    (*h).value = value;
    (*h).lowcase_key = lowcase;
    #[cfg(ngx_table_elt_next)]
    {
        (*h).next = std::ptr::null_mut();
    }
    Ok(h)
}

unsafe fn pool_str(pool: *mut ngx_pool_t, bytes: &[u8]) -> Result<ngx_str_t, NoMemory> {
    if bytes.is_empty() {
        return Ok(empty_str());
    }
    ngx_str_t::from_bytes(pool, bytes).ok_or(NoMemory)
}

/// The parts, joined, in one pool allocation.
unsafe fn pool_concat(pool: *mut ngx_pool_t, parts: &[&[u8]]) -> Result<ngx_str_t, NoMemory> {
    let len = parts.iter().map(|p| p.len()).sum();
    let data = ngx_pnalloc(pool, len).cast::<u8>();
    if data.is_null() {
        return Err(NoMemory);
    }
    let mut at = data;
    for part in parts {
        std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
        at = at.add(part.len());
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

unsafe fn for_each(list: *mut ngx_list_t, mut f: impl FnMut(&mut ngx_table_elt_t)) {
    let mut part: *mut ngx_list_part_t = &mut (*list).part;
    while !part.is_null() {
        let elts = (*part).elts.cast::<ngx_table_elt_t>();
        for i in 0..(*part).nelts {
            f(&mut *elts.add(i));
        }
        part = (*part).next;
    }
}
