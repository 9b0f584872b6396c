//! The shared memory zone that holds every worker's counters, and the `/metrics` body.
//!
//! The zone is added when the configuration is read (postconfiguration) and initialised by
//! NGINX in the master before workers fork: its init callback moves the config's meters into
//! the table in the zone, and the workers inherit both the mapping and the resolved pointers.
//! A reload keeps the zone when its name, size and tag are unchanged: NGINX then hands the old
//! zone to the init callback, the table in it still holds the totals, and the new layout finds
//! them under the same keys (old workers keep adding to the same numbers until they exit).

use std::ffi::c_void;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_pagesize_shift, ngx_shm_zone_t, ngx_slab_alloc, ngx_slab_pool_t,
    NGX_ERROR, NGX_LOG_EMERG, NGX_LOG_NOTICE, NGX_LOG_WARN, NGX_OK,
};
use ngx::http::HttpModuleMainConf;
use ngx::{ngx_log_error, ngx_string};

use super::module::Module;
use super::panic_guard::guard_rc;
use super::shared_zone;
use crate::auth::Authenticator;
use crate::metrics::Table;

/// Room for several thousand series: every provider, augmenter and realm of a large config,
/// and those earlier configurations left behind across reloads.
pub const DEFAULT_ZONE_SIZE: usize = 1 << 20;
/// Below this NGINX refuses the zone ("too small") or it would hold next to nothing.
pub const MIN_ZONE_SIZE: usize = 64 * 1024;

/// Adds the zone for the loaded `authotron_config` (none without one).
pub fn add_zone(cf: &mut ngx_conf_t) -> ngx_int_t {
    let Some(main) = Module::main_conf(cf) else {
        return NGX_OK as ngx_int_t;
    };
    let Some(authenticator) = main.authenticator.as_ref() else {
        return NGX_OK as ngx_int_t;
    };
    let size = main.metrics_zone.unwrap_or(DEFAULT_ZONE_SIZE);
    let authenticator = authenticator.clone();
    shared_zone::add(
        cf,
        ngx_string!("authotron_metrics"),
        size,
        &authenticator,
        Some(init_zone),
    )
}

/// `previous` is the old cycle's `data` when NGINX reuses the zone, else null.
unsafe extern "C" fn init_zone(zone: *mut ngx_shm_zone_t, previous: *mut c_void) -> ngx_int_t {
    guard_rc(|| {
        // SAFETY: NGINX initialises the zone record `add_zone` filled in, whose data is the
        // authenticator its cycle's main conf keeps alive.
        let (zone, authenticator) = unsafe { (&*zone, &*(*zone).data.cast::<Authenticator>()) };
        let log = zone.shm.log;
        let table = match open_table(zone, !previous.is_null()) {
            Ok(table) => table,
            Err(e) => {
                ngx_log_error!(NGX_LOG_EMERG, log, "authotron: {e}");
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

/// The table in the zone: the one a previous cycle left, or a new one over every free page.
fn open_table(zone: &ngx_shm_zone_t, reused: bool) -> Result<Table<'static>, String> {
    // SAFETY: NGINX maps a shared zone with its slab pool header at the start.
    let pool = unsafe { &mut *zone.shm.addr.cast::<ngx_slab_pool_t>() };
    if reused && !pool.data.is_null() {
        // SAFETY: a reused zone's `data` is the region an earlier `open_table` formatted.
        return unsafe { Table::reopen(pool.data.cast()) }
            .map_err(|e| format!("the metrics zone is unusable: {e:?}"));
    }
    // SAFETY: set by NGINX at start-up, read-only afterwards.
    let len = pool.pfree << unsafe { ngx_pagesize_shift };
    // SAFETY: the zone's own slab pool, initialised by NGINX before the init callback.
    let region = unsafe { ngx_slab_alloc(pool, len) };
    if region.is_null() {
        return Err("the metrics zone has no room".to_owned());
    }
    pool.data = region;
    // SAFETY: `region` is `len` bytes of shared memory that only this table will use.
    unsafe { Table::open(region.cast(), len) }
        .map_err(|e| format!("the metrics zone is unusable: {e:?}"))
}
