//! The content handlers: the endpoints (`authotron_authenticate`, `authotron_whoami`,
//! `authotron_tokens`) answer from the access phase's decision, the documents
//! (`authotron_providers`, `…_augmenters`, `…_jwks`, `…_metrics`, `…_resource_metadata`) are
//! served as they are. The core builds every reply; this only sends it.

use ngx::ffi::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_http_discard_request_body, ngx_http_output_filter,
    ngx_http_request_t, ngx_http_send_header, ngx_int_t, ngx_pcalloc, NGX_ERROR,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_NOT_ALLOWED, NGX_OK,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf};

use super::headers;
use super::module::Module;
use super::panic_guard::guard_status;
use super::pool::{pool_str, NoMemory};
use super::request_ctx::RequestCtx;
use crate::auth::policy;
use crate::auth::{Document, Endpoint, Reply};

pub type Handler = unsafe extern "C" fn(*mut ngx_http_request_t) -> ngx_int_t;

pub fn endpoint_handler(endpoint: Endpoint) -> Handler {
    match endpoint {
        Endpoint::Authenticate => authenticate,
        Endpoint::Whoami => whoami,
        Endpoint::Tokens => tokens,
    }
}

pub fn document_handler(document: Document) -> Handler {
    match document {
        Document::Providers => providers,
        Document::Augmenters => augmenters,
        Document::Jwks => jwks,
        Document::Metrics => metrics,
        Document::ResourceMetadata => resource_metadata,
    }
}

macro_rules! content_handler {
    ($name:ident, $serve:ident, $what:expr) => {
        unsafe extern "C" fn $name(r: *mut ngx_http_request_t) -> ngx_int_t {
            // SAFETY: NGINX calls content handlers with a live request, on its own thread.
            guard_status(|| $serve(unsafe { &mut *r }, $what))
        }
    };
}

content_handler!(authenticate, answer_endpoint, Endpoint::Authenticate);
content_handler!(whoami, answer_endpoint, Endpoint::Whoami);
content_handler!(tokens, answer_endpoint, Endpoint::Tokens);
content_handler!(providers, serve_document, Document::Providers);
content_handler!(augmenters, serve_document, Document::Augmenters);
content_handler!(jwks, serve_document, Document::Jwks);
content_handler!(metrics, serve_document, Document::Metrics);
content_handler!(
    resource_metadata,
    serve_document,
    Document::ResourceMetadata
);

fn answer_endpoint(r: &mut ngx_http_request_t, endpoint: Endpoint) -> ngx_int_t {
    if !endpoint.allows_method(r.method_name.as_bytes()) {
        return not_allowed(r);
    }
    if let Err(rc) = discard_body(r) {
        return rc;
    }
    let reply = {
        let (Some(ctx), Some(loc)) = (RequestCtx::of(r), Module::location_conf(r)) else {
            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        };
        // SAFETY: the ctx lives in the pool of `r`, which is live; the borrow ends here.
        let decision = unsafe { ctx.as_ref() }.decision.borrow();
        decision
            .as_ref()
            .and_then(|d| Reply::for_endpoint(endpoint, d, &loc.policy))
    };
    match reply {
        Some(reply) => send(r, reply).unwrap_or(NGX_ERROR as ngx_int_t),
        None => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    }
}

fn serve_document(r: &mut ngx_http_request_t, document: Document) -> ngx_int_t {
    if !policy::is_read(r.method_name.as_bytes()) {
        return not_allowed(r);
    }
    if let Err(rc) = discard_body(r) {
        return rc;
    }
    // `nginx -t` refuses these directives without `authotron_config`.
    let Some(authenticator) = Module::main_conf(r).and_then(|m| m.authenticator.clone()) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    send(r, Reply::document(&authenticator, document)).unwrap_or(NGX_ERROR as ngx_int_t)
}

/// A 405 with the methods that are allowed: NGINX writes the error page and keeps the headers
/// already set, as it does for `auth_basic`'s `WWW-Authenticate`.
fn not_allowed(r: &mut ngx_http_request_t) -> ngx_int_t {
    match headers::add_reply_header(r, "Allow", policy::READ_METHODS) {
        Ok(()) => NGX_HTTP_NOT_ALLOWED as ngx_int_t,
        Err(NoMemory) => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    }
}

fn discard_body(r: &mut ngx_http_request_t) -> Result<(), ngx_int_t> {
    // SAFETY: a live request on the NGINX thread, as NGINX's own content handlers call it.
    match unsafe { ngx_http_discard_request_body(r) } {
        rc if rc == NGX_OK as ngx_int_t => Ok(()),
        rc => Err(rc),
    }
}

/// Sends a complete response: the header, then the body as one in-memory buffer.
fn send(r: &mut ngx_http_request_t, reply: Reply) -> Result<ngx_int_t, NoMemory> {
    let pool = r.pool;
    r.headers_out.status = reply.status.into();
    r.headers_out.content_length_n = reply.body.len() as _;
    if let Some(content_type) = reply.content_type {
        r.headers_out.content_type_len = content_type.len();
        r.headers_out.content_type = pool_str(pool, content_type.as_bytes())?;
        r.headers_out.content_type_lowcase = std::ptr::null_mut();
    }
    for (name, value) in &reply.headers {
        headers::add_reply_header(r, name, value)?;
    }

    // SAFETY: a live request whose status and headers are set.
    let rc = unsafe { ngx_http_send_header(r) };
    if rc == NGX_ERROR as ngx_int_t || rc > NGX_OK as ngx_int_t || r.header_only() != 0 {
        return Ok(rc);
    }
    let body = pool_str(pool, &reply.body)?;
    // SAFETY: allocations from the live request pool, checked for null below.
    let (buf, out) = unsafe {
        (
            ngx_pcalloc(pool, std::mem::size_of::<ngx_buf_t>()).cast::<ngx_buf_t>(),
            ngx_alloc_chain_link(pool),
        )
    };
    // SAFETY: non-null results are a zeroed buffer and a chain link, ours to fill.
    let (Some(b), Some(link)) = (unsafe { buf.as_mut() }, unsafe { out.as_mut() }) else {
        return Err(NoMemory);
    };
    b.pos = body.data;
    // SAFETY: one past the end of the body's pool copy.
    b.last = unsafe { body.data.add(body.len) };
    b.set_memory(1);
    b.set_last_buf(u32::from(std::ptr::eq(r, r.main)));
    b.set_last_in_chain(1);
    link.buf = buf;
    link.next = std::ptr::null_mut();
    // SAFETY: the chain is complete and lives in the request pool.
    Ok(unsafe { ngx_http_output_filter(r, out) })
}
