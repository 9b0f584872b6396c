//! What NGINX tells about the process reading nginx.conf: whether it is the `nginx -s`
//! signaller, and which user its workers will run as.

use std::ffi::CStr;

use ngx::ffi::{
    ngx_conf_t, ngx_core_conf_t, ngx_core_module, ngx_uid_t, ngx_uint_t, NGX_GROUP,
    NGX_PROCESS_SIGNALLER, NGX_USER,
};

use crate::config;

/// Which process is parsing nginx.conf, from the globals NGINX sets while reading its command
/// line (`-s` makes it the signaller, `-t` sets `ngx_test_config`).
pub fn conf_reader() -> config::ConfReader {
    // SAFETY: NGINX writes both globals in `main` before it parses any configuration, on the
    // only thread that parses it; this reads them during that parse.
    let (process, testing) = unsafe { (ngx::ffi::ngx_process, ngx::ffi::ngx_test_config) };
    if testing != 0 {
        config::ConfReader::Tester
    } else if process == NGX_PROCESS_SIGNALLER as ngx_uint_t {
        config::ConfReader::Signaller
    } else {
        config::ConfReader::Server
    }
}

/// The user the workers will run as, for checking the files they will need: from the `user`
/// directive when it came before `http{}` (where it belongs), else NGINX's default.
pub fn worker_user(cf: &ngx_conf_t) -> Option<config::WorkerUser> {
    // SAFETY: while nginx.conf is parsed, `cycle->conf_ctx` holds a conf per core module, made
    // before the parse began, and the core module's is an `ngx_core_conf_t`.
    let core = unsafe {
        let index = (*std::ptr::addr_of!(ngx_core_module)).index;
        (*(*cf.cycle).conf_ctx.add(index))
            .cast::<ngx_core_conf_t>()
            .as_ref()
    }?;
    if core.user == ngx_uid_t::MAX || core.username.is_null() {
        return config::WorkerUser::without_user_directive(NGX_USER, NGX_GROUP);
    }
    // SAFETY: the `user` directive set `username` to its NUL-terminated argument.
    let name = unsafe { CStr::from_ptr(core.username) }.to_str().ok()?;
    config::WorkerUser::named(name, core.group)
}
