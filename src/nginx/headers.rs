//! Reading request headers, rewriting what the upstream receives, and adding response headers.
//! Which headers to rewrite, and to what, is the core's `HeaderPlan`; this only writes memory.
//!
//! `proxy_pass` (and FastCGI, uwsgi, SCGI, gRPC) forward every line of `headers_in`, so no
//! client copy of a header we own may stay in it: the backend receives exactly one line with
//! the module's value, or none.

use std::ptr::{self, NonNull};

use ngx::ffi::{ngx_http_request_t, ngx_str_t, ngx_table_elt_t};

use super::header_list;
use super::pool::{pool_concat, pool_str, NoMemory};

use crate::auth::decision::{HeaderPlan, HeaderValue};
use crate::auth::policy::{self, HeaderMatch, AUTHORIZATION};
use crate::store::api::ApiRequest;

/// The client's `Authorization` value (NGINX keeps at most one: it rejects duplicates).
pub fn authorization(r: &ngx_http_request_t) -> Option<&[u8]> {
    let h = r.headers_in.authorization;
    // SAFETY: NGINX points `authorization` at an element of `headers_in.headers`, which lives in
    // the request pool as long as `r`; null when the client sent none.
    unsafe { h.as_ref() }.map(|h| h.value.as_bytes())
}

/// The first value of a request header.
pub fn first_in<'r>(r: &'r ngx_http_request_t, name: &str) -> Option<&'r [u8]> {
    header_list::elements(&r.headers_in.headers)
        .find(|h| h.key.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| h.value.as_bytes())
}

/// The client's address as NGINX wrote it (`$remote_addr`), for the abuse guard.
pub fn client_address(r: &ngx_http_request_t) -> &[u8] {
    // SAFETY: a live request always has its connection, whose `addr_text` NGINX set when it
    // accepted it and keeps for the connection's lifetime.
    unsafe { (*r.connection).addr_text.as_bytes() }
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

/// Carries out the core's plan. The usual request, a main request with at most one copy of
/// each header the plan sets and no copy of those it blanks, is rewritten in place; anything
/// else (a duplicate, an `X_Auth_Username`-style variant, a subrequest whose headers are its
/// parent's) gets a list without any client copy, and the plan's values added.
pub fn rewrite(r: &mut ngx_http_request_t, plan: &HeaderPlan) -> Result<(), NoMemory> {
    let pool = r.pool;
    // Values go into the pool: the upstream request is built from them after the access
    // phase, long after the plan is gone. A fixed array: this runs on every allowed request.
    let mut pending: [Option<Pending>; 5] = Default::default();
    for (slot, rewrite) in pending.iter_mut().zip(plan.iter()) {
        let value = match &rewrite.value {
            HeaderValue::Bearer(token) => Some(pool_concat(pool, &[b"Bearer ", token.as_bytes()])?),
            HeaderValue::Text(text) => Some(pool_str(pool, text.as_bytes())?),
            HeaderValue::Blank => None,
        };
        *slot = Some(Pending {
            name: rewrite.name.as_str(),
            value,
            copies: 0,
            first: None,
            variants: false,
        });
    }
    // One walk finds the client's copies and remembers the first of each, so that the usual
    // request is rewritten without walking the list again.
    for h in header_list::elements_mut(&mut r.headers_in.headers) {
        for p in pending.iter_mut().flatten() {
            match policy::header_match(p.name.as_bytes(), h.key.as_bytes()) {
                HeaderMatch::Same => {
                    p.copies += 1;
                    p.first.get_or_insert(NonNull::from(&mut *h));
                }
                HeaderMatch::Variant => p.variants = true,
                HeaderMatch::Other => {}
            }
        }
    }
    let in_place = std::ptr::eq(r, r.main) && pending.iter().flatten().all(Pending::in_place);
    if in_place {
        for p in pending.iter().flatten() {
            if let (Some(value), Some(mut copy)) = (p.value, p.first) {
                // SAFETY: `copy` is an element of `r.headers_in.headers`, found in the walk
                // above; the list lives in the request pool and nothing has changed it since.
                unsafe { copy.as_mut() }.value = value;
            }
        }
    } else {
        header_list::retain(&mut r.headers_in.headers, pool, |h| {
            let key = h.key.as_bytes();
            pending
                .iter()
                .flatten()
                .all(|p| policy::header_match(p.name.as_bytes(), key) == HeaderMatch::Other)
        })?;
    }
    for p in pending.iter().flatten() {
        let added = match p.value {
            Some(value) if !in_place || p.copies == 0 => {
                header_list::push(&mut r.headers_in.headers, pool, p.name, value)?
            }
            // Removed with no replacement: nothing may still read the client's copy.
            None if !in_place => ptr::null_mut(),
            _ => continue,
        };
        if p.name.eq_ignore_ascii_case(AUTHORIZATION) {
            r.headers_in.authorization = added;
        }
    }
    Ok(())
}

/// One rewrite with its value in the pool, and the client's copies of it.
struct Pending<'a> {
    name: &'a str,
    /// `None`: every client copy goes, and nothing takes its place.
    value: Option<ngx_str_t>,
    copies: usize,
    /// The first client copy, the one rewritten in place.
    first: Option<NonNull<ngx_table_elt_t>>,
    variants: bool,
}

impl Pending<'_> {
    fn in_place(&self) -> bool {
        let copies_allowed = match self.value {
            Some(_) => 1,
            None => 0,
        };
        !self.variants && self.copies <= copies_allowed
    }
}

/// Adds a response header.
pub fn add_out(
    r: &mut ngx_http_request_t,
    name: &str,
    value: &[u8],
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let pool = r.pool;
    let value = pool_str(pool, value)?;
    header_list::push(&mut r.headers_out.headers, pool, name, value)
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
