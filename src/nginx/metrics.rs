//! The shared memory zone that holds every worker's counters, and the `/metrics` body.
//!
//! The zone is added when the configuration is read (postconfiguration) and initialised by
//! NGINX in the master before workers fork: its init callback moves the config's meters into
//! the table in the zone, and the workers inherit both the mapping and the resolved pointers.
//! A reload keeps the zone when its name, size and tag are unchanged: NGINX then hands the old
//! zone to the init callback, the table in it still holds the totals, and the new layout finds
//! them under the same keys (old workers keep adding to the same numbers until they exit).

use std::ffi::c_void;
use std::ptr::addr_of_mut;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_pagesize_shift, ngx_shared_memory_add, ngx_shm_zone_t,
    ngx_slab_alloc, ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_LOG_EMERG, NGX_LOG_NOTICE,
    NGX_LOG_WARN, NGX_OK,
};
use ngx::http::HttpModuleMainConf;
use ngx::{ngx_conf_log_error, ngx_log_error, ngx_string};

use super::module::{ngx_http_authotron_module, Module};
use super::panic_guard::guard_rc;
use crate::auth::Authenticator;
use crate::metrics::Table;

/// Room for several thousand series: every provider, augmenter and realm of a large config,
/// and those earlier configurations left behind across reloads.
pub const DEFAULT_ZONE_SIZE: usize = 1 << 20;
/// Below this NGINX refuses the zone ("too small") or it would hold next to nothing.
pub const MIN_ZONE_SIZE: usize = 64 * 1024;

pub fn render(authenticator: &Authenticator) -> Vec<u8> {
    authenticator.metrics().render()
}

/// Adds the zone for the loaded `authotron_config` (none without one).
///
/// # Safety
/// Called by NGINX from `postconfiguration` with a valid cf.
pub unsafe fn add_zone(cf: *mut ngx_conf_t) -> ngx_int_t {
    let Some(main) = Module::main_conf(&*cf) else {
        return NGX_OK as ngx_int_t;
    };
    let Some(authenticator) = main.authenticator.as_ref() else {
        return NGX_OK as ngx_int_t;
    };
    let size = main.metrics_zone.unwrap_or(DEFAULT_ZONE_SIZE);
    let mut name: ngx_str_t = ngx_string!("authotron_metrics");
    let tag = addr_of_mut!(ngx_http_authotron_module).cast::<c_void>();
    let zone = ngx_shared_memory_add(cf, &mut name, size, tag);
    if zone.is_null() {
        ngx_conf_log_error!(NGX_LOG_EMERG, cf, "authotron: cannot add the metrics zone");
        return NGX_ERROR as ngx_int_t;
    }
    (*zone).init = Some(init_zone);
    // The main conf keeps the authenticator alive for the whole cycle, init included.
    (*zone).data = std::sync::Arc::as_ptr(authenticator).cast_mut().cast();
    NGX_OK as ngx_int_t
}

/// `previous` is the old cycle's `data` when NGINX reuses the zone, else null.
unsafe extern "C" fn init_zone(zone: *mut ngx_shm_zone_t, previous: *mut c_void) -> ngx_int_t {
    guard_rc(|| {
        let log = (*zone).shm.log;
        let authenticator = &*((*zone).data as *const Authenticator);
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        let opened = if !previous.is_null() && !(*pool).data.is_null() {
            Table::reopen((*pool).data.cast())
        } else {
            // A fresh zone: every free page of its slab pool goes to the table.
            let len = (*pool).pfree << ngx_pagesize_shift;
            let region = ngx_slab_alloc(pool, len);
            if region.is_null() {
                ngx_log_error!(
                    NGX_LOG_EMERG,
                    log,
                    "authotron: the metrics zone has no room"
                );
                return NGX_ERROR as ngx_int_t;
            }
            (*pool).data = region;
            Table::open(region.cast(), len)
        };
        let table = match opened {
            Ok(table) => table,
            Err(e) => {
                ngx_log_error!(
                    NGX_LOG_EMERG,
                    log,
                    "authotron: the metrics zone is unusable: {e:?}"
                );
                return NGX_ERROR as ngx_int_t;
            }
        };
        let installed = authenticator.metrics().install(&table);
        if installed.dropped > 0 {
            ngx_log_error!(
                NGX_LOG_WARN,
                log,
                "authotron: the metrics zone is full: {} numbers are not recorded; raise \"authotron_metrics_zone\" (a new size starts from zero)",
                installed.dropped
            );
        }
        if !previous.is_null() {
            ngx_log_error!(
                NGX_LOG_NOTICE,
                log,
                "authotron: metrics zone reused, {} of {} numbers kept their totals",
                installed.reused,
                authenticator.metrics().layout().cells()
            );
        }
        NGX_OK as ngx_int_t
    })
}
