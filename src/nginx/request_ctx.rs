//! Per-request state, kept in the request pool so NGINX frees it with the request.
//!
//! The ctx is handed around as a `NonNull<RequestCtx>`, never as a reference with a free
//! lifetime: it lives exactly as long as the request's pool, and resuming a request can free
//! that pool. Each user borrows it for a short, visible scope that ends before anything that
//! could finalize the request.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::mem;
use std::ptr::{self, NonNull};

use ngx::ffi::{
    ngx_del_timer, ngx_delete_posted_event, ngx_event_t, ngx_http_request_t, ngx_pool_cleanup_add,
    NGX_ALIGNMENT,
};
use ngx::http::HttpModule;
use tokio::task::AbortHandle;

use super::bridge;
use super::module::Module;
use super::panic_guard::guard;
use crate::auth::{Decision, Interruption, Ruling};
use crate::domain::Audit;

/// What the bridge hands back to the second access pass.
pub enum Delivery {
    /// Boxed: only validations that left the event loop come this way, and they allocate
    /// anyway.
    Ruled(Box<Ruling>),
    Interrupted(Interruption),
}

pub struct RequestCtx {
    pub id: u64,
    pub request: *mut ngx_http_request_t,
    /// Set by the wake-up or the backstop; taken by the second access pass.
    pub delivery: RefCell<Option<Delivery>>,
    /// The decision once applied, for variables and content handlers.
    pub decision: RefCell<Option<Decision>>,
    /// What `$authotron_reason` and `$authotron_cache` say of `decision`.
    pub audit: Cell<Option<Audit>>,
    /// `decision` was made in a location with `authotron shadow`, which wrote nothing into
    /// the request.
    pub shadowed: Cell<bool>,
    /// Registered in the bridge while a validation runs.
    pub registered: Cell<bool>,
    pub task: RefCell<Option<AbortHandle>>,
    /// The non-cancelable timer that resumes the request if the runtime never answers.
    pub backstop: UnsafeCell<ngx_event_t>,
}

// `ngx_pool_cleanup_add` only guarantees NGINX's own alignment.
const _: () = assert!(mem::align_of::<RequestCtx>() <= NGX_ALIGNMENT);

impl RequestCtx {
    /// Allocates the ctx in the request pool (dropped by a pool cleanup) and attaches it.
    pub fn attach(r: &mut ngx_http_request_t) -> Option<NonNull<RequestCtx>> {
        // SAFETY: `r.pool` is the live request's pool; the result is checked for null.
        let cleanup = unsafe { ngx_pool_cleanup_add(r.pool, mem::size_of::<RequestCtx>()) };
        // SAFETY: non-null results point at an initialised cleanup record.
        let cleanup = unsafe { cleanup.as_mut() }?;
        let ctx = NonNull::new(cleanup.data.cast::<RequestCtx>())?;
        let fresh = RequestCtx {
            id: bridge::next_id(),
            request: r,
            delivery: RefCell::new(None),
            decision: RefCell::new(None),
            audit: Cell::new(None),
            shadowed: Cell::new(false),
            registered: Cell::new(false),
            task: RefCell::new(None),
            // SAFETY: an all-zero ngx_event_t is NGINX's own "unused event" (it callocs them).
            backstop: UnsafeCell::new(unsafe { mem::zeroed() }),
        };
        // SAFETY: `data` is a fresh, suitably aligned (checked above) allocation of our size.
        unsafe { ptr::write(ctx.as_ptr(), fresh) };
        cleanup.handler = Some(DROP_CTX);
        // SAFETY: `ctx` is an array with one slot per HTTP module, ours at `ctx_index`.
        unsafe { *r.ctx.add(Module::module().ctx_index) = ctx.as_ptr().cast() };
        Some(ctx)
    }

    /// The ctx of `r`, if any. An internal redirect (`index`, `try_files`, `error_page`,
    /// `X-Accel-Redirect`, a named location) clears every module's ctx slot but keeps the
    /// request pool, so a ctx not in its slot is looked for among the pool's cleanups, as
    /// NGINX's realip module does, and attached again. Subrequests share their parent's pool,
    /// so the one that belongs to `r` is the one made for it.
    pub fn of(r: &ngx_http_request_t) -> Option<NonNull<RequestCtx>> {
        // SAFETY: as in `attach`.
        let slot = unsafe { r.ctx.add(Module::module().ctx_index) };
        // SAFETY: the slot is ours to read and write, on the NGINX thread.
        if let Some(ctx) = NonNull::new(unsafe { *slot }.cast::<RequestCtx>()) {
            return Some(ctx);
        }
        if r.internal() == 0 {
            return None;
        }
        let ctx = Self::in_cleanups(r)?;
        // SAFETY: as above.
        unsafe { *slot = ctx.as_ptr().cast() };
        Some(ctx)
    }

    /// Request structs live in the pool too, so no two requests of one pool share an address.
    fn in_cleanups(r: &ngx_http_request_t) -> Option<NonNull<RequestCtx>> {
        // SAFETY: the request's live pool, whose cleanup list NGINX keeps null-terminated.
        let mut cleanup = unsafe { (*r.pool).cleanup.as_ref() };
        while let Some(c) = cleanup {
            if c.handler.is_some_and(|h| std::ptr::fn_addr_eq(h, DROP_CTX)) {
                let ctx = c.data.cast::<RequestCtx>();
                // SAFETY: our cleanups' data is a ctx `attach` initialised, live with the pool.
                if std::ptr::eq(unsafe { (*ctx).request }, r) {
                    return NonNull::new(ctx);
                }
            }
            // SAFETY: as above.
            cleanup = unsafe { c.next.as_ref() };
        }
        None
    }

    /// The ctx whose `backstop` is `ev`.
    ///
    /// # Safety
    /// `ev` must point at the `backstop` field of a live ctx.
    pub unsafe fn of_backstop(ev: *mut ngx_event_t) -> NonNull<RequestCtx> {
        // SAFETY: the caller's event is a ctx's field (`UnsafeCell` is transparent, so the
        // field's address is the event's): stepping back by its offset gives that ctx, non-null.
        unsafe { NonNull::new_unchecked(ev.byte_sub(mem::offset_of!(RequestCtx, backstop)).cast()) }
    }

    /// Stops whatever still runs for this request: registry entry, timer, posted event, task.
    pub fn stop_pending_work(&self) {
        if self.registered.replace(false) {
            bridge::unregister(self.id);
        }
        let ev = self.backstop.get();
        // SAFETY: the event lives in this ctx and is only touched on the NGINX thread; the timer
        // and posted-event calls are exactly those NGINX makes for its own events.
        unsafe {
            if (*ev).timer_set() != 0 {
                ngx_del_timer(ev);
            }
            if (*ev).posted() != 0 {
                ngx_delete_posted_event(ev);
            }
        }
        if let Some(task) = self.task.borrow_mut().take() {
            task.abort();
        }
    }
}

type Cleanup = unsafe extern "C" fn(*mut std::ffi::c_void);

/// The one address of our cleanup: it marks our ctx among the pool's cleanups, so it is set and
/// compared through this static (the same function may have several addresses otherwise).
static DROP_CTX: Cleanup = drop_ctx;

/// The pool cleanup: the request is going away.
unsafe extern "C" fn drop_ctx(data: *mut std::ffi::c_void) {
    guard((), || {
        let ctx = data.cast::<RequestCtx>();
        // SAFETY: NGINX calls the cleanup once, with the `data` `attach` initialised; nothing
        // uses the ctx afterwards.
        unsafe {
            (*ctx).stop_pending_work();
            ptr::drop_in_place(ctx);
        }
    })
}
