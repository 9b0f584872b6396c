//! Adding one of the module's shared memory zones (metrics, abuse guard). NGINX calls the
//! zone's init in the master, before workers fork, with the authenticator of the cycle's
//! configuration as the zone's data.

use std::ffi::c_void;
use std::ptr::addr_of_mut;
use std::sync::Arc;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_shared_memory_add, ngx_shm_zone_init_pt, ngx_str_t, NGX_ERROR,
    NGX_LOG_EMERG, NGX_OK,
};
use ngx::ngx_conf_log_error;

use super::module::ngx_http_authotron_module;
use crate::auth::Authenticator;

/// Adds the zone `name` of `size` bytes, tagged as the module's, so that a reload with the
/// same name, size and tag hands the old zone to `init`.
pub fn add(
    cf: &mut ngx_conf_t,
    mut name: ngx_str_t,
    size: usize,
    authenticator: &Arc<Authenticator>,
    init: ngx_shm_zone_init_pt,
) -> ngx_int_t {
    let tag = addr_of_mut!(ngx_http_authotron_module).cast::<c_void>();
    // SAFETY: the live configuration, in postconfiguration; the result is checked for null.
    let zone = unsafe { ngx_shared_memory_add(cf, &mut name, size, tag) };
    // SAFETY: a non-null result is the zone record NGINX keeps for this cycle.
    let Some(zone) = (unsafe { zone.as_mut() }) else {
        let name = String::from_utf8_lossy(name.as_bytes());
        ngx_conf_log_error!(NGX_LOG_EMERG, cf, "authotron: cannot add the zone {name}");
        return NGX_ERROR as ngx_int_t;
    };
    zone.init = init;
    // The main conf keeps the authenticator alive for the whole cycle, init included.
    zone.data = Arc::as_ptr(authenticator).cast_mut().cast();
    NGX_OK as ngx_int_t
}
