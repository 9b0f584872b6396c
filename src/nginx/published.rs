//! Documents served without authentication: upstream's `/providers` and `/augmenters`
//! listings, the public keys of the minted tokens (`authotron_jwks`) and the Prometheus
//! metrics (`authotron_metrics`). Restrict them with `allow`/`deny` where they should not be
//! public.

use ngx::ffi::{
    ngx_http_discard_request_body, ngx_http_request_t, ngx_int_t, NGX_ERROR, NGX_HTTP_GET,
    NGX_HTTP_HEAD, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_NOT_ALLOWED, NGX_HTTP_OK, NGX_OK,
};
use ngx::http::HttpModuleMainConf;

use super::handlers::{send, Reply};
use super::metrics;
use super::module::Module;
use super::panic_guard::guard_status;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    Providers,
    Augmenters,
    Jwks,
    Metrics,
}

type Handler = unsafe extern "C" fn(*mut ngx_http_request_t) -> ngx_int_t;

pub fn handler(document: Document) -> Handler {
    match document {
        Document::Providers => providers,
        Document::Augmenters => augmenters,
        Document::Jwks => jwks,
        Document::Metrics => metrics_text,
    }
}

unsafe extern "C" fn providers(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| serve(r, Document::Providers))
}

unsafe extern "C" fn augmenters(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| serve(r, Document::Augmenters))
}

unsafe extern "C" fn jwks(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| serve(r, Document::Jwks))
}

unsafe extern "C" fn metrics_text(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard_status(|| serve(r, Document::Metrics))
}

unsafe fn serve(r: *mut ngx_http_request_t, document: Document) -> ngx_int_t {
    let method = (*r).method as u32;
    if method != NGX_HTTP_GET && method != NGX_HTTP_HEAD {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    let rc = ngx_http_discard_request_body(r);
    if rc != NGX_OK as ngx_int_t {
        return rc;
    }
    // `nginx -t` refuses these directives without `authotron_config`.
    let Some(authenticator) = Module::main_conf(&*r).and_then(|m| m.authenticator.clone()) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let (content_type, cache_control, body) = match document {
        Document::Providers => (JSON, "no-store", authenticator.listing().providers.clone()),
        Document::Augmenters => (JSON, "no-store", authenticator.listing().augmenters.clone()),
        Document::Jwks => (JSON, "max-age=300", authenticator.jwks()),
        Document::Metrics => (PROMETHEUS, "no-store", metrics::render(&authenticator)),
    };
    let reply = Reply {
        status: NGX_HTTP_OK,
        content_type: Some(content_type),
        headers: vec![("Cache-Control", cache_control.to_owned())],
        body,
    };
    send(r, reply).unwrap_or(NGX_ERROR as ngx_int_t)
}

const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";
