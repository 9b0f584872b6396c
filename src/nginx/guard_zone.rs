//! The abuse guard's shared memory zone, added when the loaded config has `guard.enabled`.
//!
//! A zone of its own rather than room in the metrics zone: the metrics table holds a fixed set
//! of keys registered before workers start and never removed, while the guard's subjects arrive
//! with requests, are forgotten when their window ends, and need a fixed array of slots that any
//! worker can rewrite with one atomic operation (see `crate::guard`). Its size follows from
//! `guard.subjects`; a reload with the same number of subjects keeps the counts and the key.

use std::ffi::c_void;
use std::sync::atomic::AtomicU64;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_pagesize, ngx_pagesize_shift, ngx_shm_zone_t, ngx_slab_alloc,
    ngx_slab_pool_t, NGX_ERROR, NGX_LOG_EMERG, NGX_OK,
};
use ngx::http::HttpModuleMainConf;
use ngx::{ngx_log_error, ngx_string};

use super::module::Module;
use super::panic_guard::guard_rc;
use super::shared_zone;
use crate::auth::Authenticator;
use crate::guard::zone;

/// What NGINX's slab allocator takes for itself: its header and a page descriptor per page,
/// generously rounded.
const SLAB_OVERHEAD_PAGES: usize = 16;

/// Adds the zone when the loaded config turns the guard on.
pub fn add_zone(cf: &mut ngx_conf_t) -> ngx_int_t {
    let Some(main) = Module::main_conf(cf) else {
        return NGX_OK as ngx_int_t;
    };
    let Some(authenticator) = main.authenticator.as_ref() else {
        return NGX_OK as ngx_int_t;
    };
    let Some(guard) = authenticator.guard() else {
        return NGX_OK as ngx_int_t;
    };
    let bytes = (zone::HEADER_WORDS + guard.words()) * 8;
    // SAFETY: set by NGINX at start-up, read-only afterwards.
    let page = unsafe { ngx_pagesize };
    // A page descriptor (a few words) per page, plus the allocator's header.
    let size = (bytes + bytes / 64).div_ceil(page) * page + SLAB_OVERHEAD_PAGES * page;
    let authenticator = authenticator.clone();
    shared_zone::add(
        cf,
        ngx_string!("authotron_guard"),
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
        let Some(guard) = authenticator.guard() else {
            return NGX_OK as ngx_int_t;
        };
        let opened = region(zone, !previous.is_null())
            .and_then(|(words, reused)| zone::open(words, guard.words(), reused));
        match opened {
            Ok((slots, key)) => {
                guard.install(slots, key);
                NGX_OK as ngx_int_t
            }
            Err(e) => {
                ngx_log_error!(NGX_LOG_EMERG, log, "authotron: {e}");
                NGX_ERROR as ngx_int_t
            }
        }
    })
}

/// The zone's words: the region a previous cycle allocated, or a new one over every free page.
fn region(zone: &ngx_shm_zone_t, reused: bool) -> Result<(&'static [AtomicU64], bool), String> {
    // SAFETY: NGINX maps a shared zone with its slab pool header at the start.
    let pool = unsafe { &mut *zone.shm.addr.cast::<ngx_slab_pool_t>() };
    // SAFETY: set by NGINX at start-up, read-only afterwards.
    let shift = unsafe { ngx_pagesize_shift };
    if reused && !pool.data.is_null() {
        // SAFETY: a reused zone's `data` is the region an earlier call allocated; its length is
        // what the pool's end leaves after it, and it holds only 64-bit words.
        let len = (pool.end as usize - pool.data as usize) / 8;
        // SAFETY: as above; page-aligned, so aligned for `AtomicU64`.
        let words = unsafe { std::slice::from_raw_parts(pool.data.cast::<AtomicU64>(), len) };
        return Ok((words, true));
    }
    let len = pool.pfree << shift;
    // SAFETY: the zone's own slab pool, initialised by NGINX before the init callback.
    let region = unsafe { ngx_slab_alloc(pool, len) };
    if region.is_null() {
        return Err("the guard zone has no room".to_owned());
    }
    pool.data = region;
    // SAFETY: `region` is `len` bytes of page-aligned shared memory that only the guard uses.
    let words = unsafe { std::slice::from_raw_parts(region.cast::<AtomicU64>(), len / 8) };
    Ok((words, false))
}
