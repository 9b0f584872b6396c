//! The module table NGINX loads, and its configuration hooks.

use std::ffi::c_char;
use std::ffi::c_void;
use std::ptr::{addr_of, addr_of_mut};

use ngx::ffi::{ngx_conf_t, ngx_http_module_t, ngx_int_t, ngx_module_t, NGX_HTTP_MODULE, NGX_OK};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf};

use super::directives::{self, LocConf, MainConf};
use super::panic_guard::{guard_conf, guard_rc};
use super::{access, authorization_variables, bridge, guard_zone, metrics, variables};

pub struct Module;

impl HttpModule for Module {
    fn module() -> &'static ngx_module_t {
        // SAFETY: the static is only written by NGINX while loading modules, before any reader.
        unsafe { &*addr_of!(ngx_http_authotron_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        // SAFETY: NGINX calls preconfiguration with the live configuration.
        let cf = unsafe { &mut *cf };
        guard_rc(|| match variables::register(cf) {
            rc if rc == NGX_OK as ngx_int_t => authorization_variables::register(cf),
            rc => rc,
        })
    }

    unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        // SAFETY: NGINX calls postconfiguration with the live configuration.
        let cf = unsafe { &mut *cf };
        guard_rc(|| match access::register(cf) {
            rc if rc == NGX_OK as ngx_int_t => match metrics::add_zone(cf) {
                rc if rc == NGX_OK as ngx_int_t => match guard_zone::add_zone(cf) {
                    rc if rc == NGX_OK as ngx_int_t => directives::check_sites(cf),
                    rc => rc,
                },
                rc => rc,
            },
            rc => rc,
        })
    }

    unsafe extern "C" fn merge_loc_conf(
        cf: *mut ngx_conf_t,
        prev: *mut c_void,
        conf: *mut c_void,
    ) -> *mut c_char {
        // SAFETY: NGINX merges a location's conf with its parent's: two distinct structs that
        // `create_loc_conf` made as `LocConf`, and the live configuration.
        let (cf, prev, conf) = unsafe {
            (
                &*cf,
                &*prev.cast::<directives::LocConf>(),
                &mut *conf.cast::<directives::LocConf>(),
            )
        };
        guard_conf(|| directives::merge_loc_conf(cf, prev, conf))
    }
}

// SAFETY: `MainConf` is the type `create_main_conf` allocates for this module.
unsafe impl HttpModuleMainConf for Module {
    type MainConf = MainConf;
}

// SAFETY: `LocConf` is the type `create_loc_conf` allocates for this module.
unsafe impl HttpModuleLocationConf for Module {
    type LocationConf = LocConf;
}

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(Module::preconfiguration),
    postconfiguration: Some(Module::postconfiguration),
    create_main_conf: Some(Module::create_main_conf),
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(Module::create_loc_conf),
    merge_loc_conf: Some(Module::merge_loc_conf),
};

#[cfg(feature = "export-modules")]
ngx::ngx_modules!(ngx_http_authotron_module);

#[used]
#[allow(non_upper_case_globals)]
#[cfg_attr(not(feature = "export-modules"), no_mangle)]
pub static mut ngx_http_authotron_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(MODULE_CTX) as _,
    // SAFETY: only the address is taken; NGINX reads the table while loading the module.
    commands: unsafe { addr_of_mut!(directives::COMMANDS[0]) },
    type_: NGX_HTTP_MODULE as _,
    init_process: Some(bridge::init_process),
    exit_process: Some(bridge::exit_process),
    ..ngx_module_t::default()
};
