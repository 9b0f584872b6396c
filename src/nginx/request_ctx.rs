//! Per-request state, kept in the request pool so NGINX frees it with the request.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::mem;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use ngx::ffi::{
    ngx_del_timer, ngx_delete_posted_event, ngx_event_t, ngx_http_request_t, ngx_pool_cleanup_add,
    NGX_ALIGNMENT,
};
use ngx::http::HttpModule;
use tokio::task::AbortHandle;

use super::bridge;
use super::module::Module;
use super::panic_guard::guard;
use crate::auth::Outcome;
use crate::domain::Identity;
use crate::store::api::Answer;

/// How the access phase decided; content handlers answer from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Allowed,
    Unauthorized,
    Forbidden,
    Unavailable,
    Failed,
}

pub struct RequestCtx {
    pub id: u64,
    pub request: *mut ngx_http_request_t,
    pub decision: Cell<Decision>,
    /// Set by the wake-up or the backstop; taken by the second access pass.
    pub outcome: RefCell<Option<Outcome>>,
    /// The identity and its token once allowed, for variables and content handlers.
    pub identity: RefCell<Option<(Arc<Identity>, Arc<str>)>>,
    /// The token management API's response, for `authotron_tokens`.
    pub answer: RefCell<Option<Answer>>,
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
    ///
    /// # Safety
    /// `r` must be a live request on the NGINX thread.
    pub unsafe fn attach(r: *mut ngx_http_request_t) -> Option<&'static RequestCtx> {
        let cleanup = ngx_pool_cleanup_add((*r).pool, mem::size_of::<RequestCtx>());
        if cleanup.is_null() {
            return None;
        }
        let ctx = (*cleanup).data.cast::<RequestCtx>();
        ptr::write(
            ctx,
            RequestCtx {
                id: bridge::next_id(),
                request: r,
                decision: Cell::new(Decision::Pending),
                outcome: RefCell::new(None),
                identity: RefCell::new(None),
                answer: RefCell::new(None),
                registered: Cell::new(false),
                task: RefCell::new(None),
                backstop: UnsafeCell::new(mem::zeroed()),
            },
        );
        (*cleanup).handler = Some(drop_ctx);
        *(*r).ctx.add(Module::module().ctx_index) = ctx.cast();
        Some(&*ctx)
    }

    /// # Safety
    /// `r` must be a live request on the NGINX thread.
    pub unsafe fn of(r: *mut ngx_http_request_t) -> Option<&'static RequestCtx> {
        let ctx = *(*r).ctx.add(Module::module().ctx_index);
        NonNull::new(ctx.cast::<RequestCtx>()).map(|p| &*p.as_ptr())
    }

    /// Stops whatever still runs for this request: registry entry, timer, posted event, task.
    pub fn settle(&self) {
        if self.registered.replace(false) {
            bridge::unregister(self.id);
        }
        // SAFETY: the event lives in this ctx and is only touched on the NGINX thread.
        unsafe {
            let ev = self.backstop.get();
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

unsafe extern "C" fn drop_ctx(data: *mut std::ffi::c_void) {
    guard((), || {
        let ctx = data.cast::<RequestCtx>();
        (*ctx).settle();
        ptr::drop_in_place(ctx);
    })
}
