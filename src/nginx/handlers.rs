//! `authotron_authenticate`, `authotron_whoami` and `authotron_tokens`: upstream's
//! `/authenticate`, `/whoami` and token routes. The access phase already decided (and for the
//! token routes, already did the work); these only write the response.

use ngx::ffi::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_http_discard_request_body, ngx_http_output_filter,
    ngx_http_request_t, ngx_http_send_header, ngx_int_t, ngx_pcalloc, NGX_ERROR,
    NGX_HTTP_FORBIDDEN, NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_HTTP_NOT_ALLOWED, NGX_HTTP_OK, NGX_HTTP_SERVICE_UNAVAILABLE, NGX_HTTP_UNAUTHORIZED, NGX_OK,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf};

use super::directives::Endpoint;
use super::headers::{self, NoMemory};
use super::module::Module;
use super::panic_guard::guard_status;
use super::request_ctx::{Decision, RequestCtx};
use crate::auth::RETRY_AFTER_SECONDS;
use crate::store::api::Answer;

const JSON: &str = "application/json";

pub unsafe extern "C" fn authenticate(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| respond(r, Endpoint::Authenticate))
}

pub unsafe extern "C" fn whoami(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| respond(r, Endpoint::Whoami))
}

pub unsafe extern "C" fn tokens(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| respond(r, Endpoint::Tokens))
}

/// A response we write ourselves, so the body is exactly upstream's.
pub(super) struct Reply {
    pub status: u32,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    fn json_error(status: u32, message: &str) -> Reply {
        Reply {
            status,
            content_type: Some(JSON),
            headers: Vec::new(),
            body: format!("{{\"error\": \"{message}\"}}").into_bytes(),
        }
    }
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Reply {
        let mut headers = vec![("Cache-Control", "no-store".to_owned())];
        if let Some(allow) = answer.allow {
            headers.push(("Allow", allow.to_owned()));
        }
        if answer.status == 503 {
            headers.push(("Retry-After", RETRY_AFTER_SECONDS.to_string()));
        }
        Reply {
            status: u32::from(answer.status),
            content_type: (!answer.body.is_empty()).then_some(JSON),
            headers,
            body: answer.body,
        }
    }
}

unsafe fn respond(r: *mut ngx_http_request_t, endpoint: Endpoint) -> ngx_int_t {
    let method = (*r).method as u32;
    // The token routes check methods themselves, after authentication.
    if endpoint != Endpoint::Tokens && method != NGX_HTTP_GET && method != NGX_HTTP_HEAD {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    let rc = ngx_http_discard_request_body(r);
    if rc != NGX_OK as ngx_int_t {
        return rc;
    }
    let Some(ctx) = RequestCtx::of(r) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let reply = match reply(r, ctx, endpoint) {
        Some(reply) => reply,
        None => return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    };
    send(r, reply).unwrap_or(NGX_ERROR as ngx_int_t)
}

unsafe fn reply(r: *mut ngx_http_request_t, ctx: &RequestCtx, endpoint: Endpoint) -> Option<Reply> {
    let mut reply = match ctx.decision.get() {
        Decision::Allowed => {
            let allowed = ctx.identity.borrow();
            let (identity, token) = allowed.as_ref()?;
            match endpoint {
                Endpoint::Authenticate | Endpoint::None => {
                    let mut headers = vec![("Authorization", format!("Bearer {token}"))];
                    let loc = Module::location_conf(&*r)?;
                    if loc.legacy_headers() {
                        headers.extend(headers::legacy_values(identity));
                    }
                    Reply {
                        status: NGX_HTTP_OK,
                        content_type: None,
                        headers,
                        body: b"Authenticated successfully".to_vec(),
                    }
                }
                Endpoint::Whoami => Reply {
                    status: NGX_HTTP_OK,
                    content_type: Some(JSON),
                    headers: vec![("Cache-Control", "no-store".to_owned())],
                    body: serde_json::to_vec(&identity.user).ok()?,
                },
                Endpoint::Tokens => Reply::from(ctx.answer.borrow_mut().take()?),
            }
        }
        Decision::Unauthorized => {
            let realm = Module::location_conf(&*r)?.realm();
            let authenticator = Module::main_conf(&*r)?.authenticator.as_ref()?;
            let mut reply = Reply::json_error(NGX_HTTP_UNAUTHORIZED, "Unauthorized access");
            reply.headers.push((
                "WWW-Authenticate",
                authenticator.challenge(realm).to_owned(),
            ));
            reply
        }
        Decision::Forbidden => Reply::json_error(NGX_HTTP_FORBIDDEN, "Forbidden"),
        Decision::Unavailable => {
            let mut reply = Reply::json_error(NGX_HTTP_SERVICE_UNAVAILABLE, "Service unavailable");
            reply
                .headers
                .push(("Retry-After", RETRY_AFTER_SECONDS.to_string()));
            reply
        }
        Decision::Pending | Decision::Failed => return None,
    };
    // Every answer of the token API is about one caller's secrets; none may be cached.
    if endpoint == Endpoint::Tokens && !reply.headers.iter().any(|(n, _)| *n == "Cache-Control") {
        reply.headers.push(("Cache-Control", "no-store".to_owned()));
    }
    Some(reply)
}

pub(super) unsafe fn send(r: *mut ngx_http_request_t, reply: Reply) -> Result<ngx_int_t, NoMemory> {
    let pool = (*r).pool;
    (*r).headers_out.status = reply.status as _;
    (*r).headers_out.content_length_n = reply.body.len() as _;
    if let Some(content_type) = reply.content_type {
        (*r).headers_out.content_type_len = content_type.len();
        (*r).headers_out.content_type =
            ngx::ffi::ngx_str_t::from_bytes(pool, content_type.as_bytes()).ok_or(NoMemory)?;
        (*r).headers_out.content_type_lowcase = std::ptr::null_mut();
    }
    for (name, value) in &reply.headers {
        let h = headers::add_out(r, name, value.as_bytes())?;
        if *name == "WWW-Authenticate" {
            (*r).headers_out.www_authenticate = h;
        }
    }

    let rc = ngx_http_send_header(r);
    if rc == NGX_ERROR as ngx_int_t || rc > NGX_OK as ngx_int_t || (*r).header_only() != 0 {
        return Ok(rc);
    }
    let body = ngx::ffi::ngx_str_t::from_bytes(pool, &reply.body).ok_or(NoMemory)?;
    let buf = ngx_pcalloc(pool, std::mem::size_of::<ngx_buf_t>()).cast::<ngx_buf_t>();
    let out = ngx_alloc_chain_link(pool);
    if buf.is_null() || out.is_null() {
        return Err(NoMemory);
    }
    (*buf).pos = body.data;
    (*buf).last = body.data.add(body.len);
    (*buf).set_memory(1);
    (*buf).set_last_buf(u32::from(r == (*r).main));
    (*buf).set_last_in_chain(1);
    (*out).buf = buf;
    (*out).next = std::ptr::null_mut();
    Ok(ngx_http_output_filter(r, out))
}
