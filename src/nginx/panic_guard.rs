//! A panic must never unwind into NGINX's C frames: that aborts the worker.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::ffi::c_char;

use ngx::core::NGX_CONF_ERROR;
use ngx::ffi::{ngx_cycle, ngx_int_t, NGX_ERROR, NGX_LOG_ALERT};
use ngx::ngx_log_error;

/// Runs `f`, turning a panic into `on_panic` and an alert in the error log.
pub fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(_) => {
            // SAFETY: called on the NGINX thread, where the current cycle and its log are valid.
            let log = unsafe { (*ngx_cycle).log };
            ngx_log_error!(
                NGX_LOG_ALERT,
                log,
                "authotron: internal error (panic caught)"
            );
            on_panic
        }
    }
}

/// `guard` for handlers answering with a status code.
pub fn guard_status(f: impl FnOnce() -> ngx_int_t) -> ngx_int_t {
    guard(ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t, f)
}

/// `guard` for configuration callbacks: a panic fails the configuration instead.
pub fn guard_conf(f: impl FnOnce() -> *mut c_char) -> *mut c_char {
    guard(NGX_CONF_ERROR, f)
}

/// `guard` for module callbacks answering NGX_OK or NGX_ERROR.
pub fn guard_rc(f: impl FnOnce() -> ngx_int_t) -> ngx_int_t {
    guard(NGX_ERROR as ngx_int_t, f)
}
