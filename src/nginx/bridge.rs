//! The per-worker tokio runtime and how its results come back to the NGINX thread.
//!
//! Validations run on tokio and never touch NGINX memory. A finished validation pushes
//! `(id, ruling)` on a queue and writes an eventfd that NGINX's event loop watches; the
//! wake-up handler, on the NGINX thread, looks the id up in a registry of live requests and
//! resumes the request. A request that went away in the meantime unregistered itself, so its
//! late result is dropped. Each pending request also holds a non-cancelable timer: it resumes the
//! request if the runtime never answers, and it keeps a gracefully exiting worker alive until
//! its validations are done.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::os::fd::RawFd;
use std::panic::AssertUnwindSafe;
use std::ptr::{addr_of_mut, NonNull};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use ngx::ffi::{
    ngx_add_timer, ngx_connection_t, ngx_cycle_t, ngx_event_t, ngx_handle_read_event,
    ngx_http_block_reading, ngx_http_log_ctx_t, ngx_http_request_t, ngx_http_run_posted_requests,
    ngx_http_test_reading, ngx_int_t, ngx_log_t, ngx_process, NGX_LOG_ALERT, NGX_LOG_NOTICE,
    NGX_OK, NGX_PROCESS_SINGLE, NGX_PROCESS_WORKER,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_log_error;
use parking_lot::Mutex;
use tokio::runtime::Runtime;

use super::module::Module;
use super::notes;
use super::panic_guard::{guard, guard_rc};
use super::request_ctx::{Delivery, RequestCtx};
use crate::auth::{Interruption, Note, Ruling};

/// How long a validation may overrun its own worst case before the backstop fires.
const BACKSTOP_GRACE: Duration = Duration::from_secs(2);
/// How long `exit_process` waits for tokio threads.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

struct Completions {
    finished: Mutex<Vec<(u64, Delivery)>>,
    /// Lines of the worker's background tasks, logged by the NGINX thread.
    notes: Mutex<Vec<Note>>,
    eventfd: RawFd,
}

impl Completions {
    fn deliver(&self, id: u64, delivery: Delivery) {
        self.finished.lock().push((id, delivery));
        self.wake();
    }

    fn log(&self, note: Note) {
        self.notes.lock().push(note);
        self.wake();
    }

    fn wake(&self) {
        // SAFETY: writing 8 bytes to an eventfd we own; a full counter only means a wake-up is
        // already pending.
        unsafe { libc::eventfd_write(self.eventfd, 1) };
    }
}

struct Bridge {
    runtime: Runtime,
    completions: Arc<Completions>,
}

/// Created in `init_process`, taken in `exit_process`; only the NGINX thread touches it.
static BRIDGE: Mutex<Option<Bridge>> = Mutex::new(None);

thread_local! {
    /// Requests waiting for a validation, by id. NGINX thread only.
    static PENDING: RefCell<HashMap<u64, NonNull<RequestCtx>>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

// The eventfd's place in NGINX's event loop. NGINX keeps pointers to these for the life of the
// worker, so they are statics rather than pool or heap memory.
// SAFETY: all-zero is NGINX's own "unused" state for these structs (it callocs them).
static mut WAKE_CONNECTION: ngx_connection_t = unsafe { std::mem::zeroed() };
// SAFETY: as above.
static mut WAKE_READ: ngx_event_t = unsafe { std::mem::zeroed() };
// SAFETY: as above.
static mut WAKE_WRITE: ngx_event_t = unsafe { std::mem::zeroed() };

pub fn next_id() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

pub fn unregister(id: u64) {
    PENDING.with(|p| p.borrow_mut().remove(&id));
}

/// Starts a validation for `ctx`: registers it, arms the backstop and spawns `work`.
/// Returns false when no runtime runs in this process.
pub fn start(
    ctx: NonNull<RequestCtx>,
    work: impl Future<Output = Ruling> + Send + 'static,
    worst_case: Duration,
) -> bool {
    let guard = BRIDGE.lock();
    let Some(bridge) = guard.as_ref() else {
        return false;
    };
    // SAFETY: the caller's ctx is attached to a live request; this borrow ends with `start`.
    let ctx_ref = unsafe { ctx.as_ref() };
    let id = ctx_ref.id;
    PENDING.with(|p| p.borrow_mut().insert(id, ctx));
    ctx_ref.registered.set(true);

    let ev = ctx_ref.backstop.get();
    // SAFETY: the event lives in the ctx, which outlives the timer (its cleanup deletes it), and
    // the request and its connection are live on this, the NGINX thread.
    unsafe {
        (*ev).handler = Some(on_backstop);
        // NGINX's timer code reads every timer event's data as a connection (it logs its
        // descriptor at debug level), so data is the request's connection, as for NGINX's own
        // request timers; the handler finds the ctx from the event's place in it.
        (*ev).data = (*ctx_ref.request).connection.cast();
        (*ev).log = (*(*ctx_ref.request).connection).log;
        // Left cancelable = 0: a graceful shutdown waits for this request.
        ngx_add_timer(ev, (worst_case + BACKSTOP_GRACE).as_millis() as _);
        // While suspended, notice a client that hangs up (as the upstream module does): NGINX
        // then ends the request with 499 and the pool cleanup cancels the validation.
        (*ctx_ref.request).read_event_handler = Some(ngx_http_test_reading);
    }

    let completions = bridge.completions.clone();
    let task = bridge.runtime.spawn(async move {
        let delivery = match AssertUnwindSafe(work).catch_unwind().await {
            Ok(ruling) => Delivery::Ruled(Box::new(ruling)),
            Err(_) => Delivery::Interrupted(Interruption::Panicked),
        };
        completions.deliver(id, delivery);
    });
    *ctx_ref.task.borrow_mut() = Some(task.abort_handle());
    true
}

/// The eventfd fired: hand each finished ruling to its request, if it still exists.
unsafe extern "C" fn on_wakeup(ev: *mut ngx_event_t) {
    guard((), || {
        let (finished, notes) = {
            let bridge = BRIDGE.lock();
            let Some(completions) = bridge.as_ref().map(|b| &b.completions) else {
                return;
            };
            let mut counter = 0u64;
            // Edge-triggered: drain fully so the next write is a new edge.
            // SAFETY: reading 8 bytes from the eventfd we own into a local.
            while unsafe { libc::eventfd_read(completions.eventfd, &mut counter) } == 0 {}
            let finished = std::mem::take(&mut *completions.finished.lock());
            let notes = std::mem::take(&mut *completions.notes.lock());
            (finished, notes)
        };
        // SAFETY: `start_bridge` set the event's log to the cycle's, which outlives the worker.
        let log = unsafe { (*ev).log };
        for note in &notes {
            notes::log_note(log, note);
        }
        for (id, delivery) in finished {
            // A request that went away unregistered itself: its late result is dropped here.
            if let Some(ctx) = PENDING.with(|p| p.borrow_mut().remove(&id)) {
                // SAFETY: registered ctxs are live (their cleanup unregisters them).
                unsafe { ctx.as_ref() }.registered.set(false);
                finish(ctx, delivery);
            }
        }
    })
}

/// The runtime did not answer in time.
unsafe extern "C" fn on_backstop(ev: *mut ngx_event_t) {
    guard((), || {
        // SAFETY: `start` armed the backstop of a ctx, which deletes the timer before it is
        // freed, so a firing timer's ctx is live.
        let ctx = unsafe { RequestCtx::of_backstop(ev) };
        finish(ctx, Delivery::Interrupted(Interruption::TimedOut));
    })
}

/// Stores the delivery and re-runs the request's phases. Resuming can finalize the request and
/// free its pool, ctx included, so nothing of either is touched afterwards.
fn finish(ctx: NonNull<RequestCtx>, delivery: Delivery) {
    let r: *mut ngx_http_request_t = {
        // SAFETY: the callers pass a live ctx; this borrow ends before the request resumes.
        let ctx = unsafe { ctx.as_ref() };
        ctx.stop_pending_work();
        *ctx.delivery.borrow_mut() = Some(delivery);
        ctx.request
    };
    // SAFETY: the request is live (its ctx was), on the NGINX thread; this is how NGINX's own
    // thread-pool completions resume a request.
    unsafe {
        (*r).read_event_handler = Some(ngx_http_block_reading);
        let c = (*r).connection;
        let log_ctx = (*(*c).log).data.cast::<ngx_http_log_ctx_t>();
        if !log_ctx.is_null() {
            (*log_ctx).current_request = r;
        }
        if let Some(resume) = (*r).write_event_handler {
            resume(r);
        }
        ngx_http_run_posted_requests(c);
    }
}

pub unsafe extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    // SAFETY: NGINX calls init_process with its live cycle.
    guard_rc(|| start_worker(unsafe { &*cycle }))
}

fn start_worker(cycle: &ngx_cycle_t) -> ngx_int_t {
    // SAFETY: `ngx_process` is written by NGINX before it calls any module's init_process.
    let process = unsafe { ngx_process };
    if process != NGX_PROCESS_WORKER as ngx::ffi::ngx_uint_t
        && process != NGX_PROCESS_SINGLE as ngx::ffi::ngx_uint_t
    {
        return NGX_OK as ngx_int_t;
    }
    match start_bridge(cycle.log) {
        Ok(bridge) => {
            // Fetch key sets now rather than on the first request.
            if let Some(authenticator) =
                Module::main_conf(cycle).and_then(|m| m.authenticator.as_ref())
            {
                bridge.runtime.spawn(authenticator.warm_up());
                // Stopped with the runtime in `exit_process`, which closes its connection.
                let completions = bridge.completions.clone();
                let log = move |note| completions.log(note);
                if let Some(listener) = authenticator.revocation_listener(log) {
                    bridge.runtime.spawn(listener);
                }
            }
            *BRIDGE.lock() = Some(bridge);
            NGX_OK as ngx_int_t
        }
        Err(e) => {
            ngx_log_error!(
                NGX_LOG_ALERT,
                cycle.log,
                "authotron: cannot start the runtime: {e}"
            );
            ngx::ffi::NGX_ERROR as ngx_int_t
        }
    }
}

fn start_bridge(log: *mut ngx_log_t) -> Result<Bridge, String> {
    // SAFETY: a plain system call; the descriptor is checked.
    let eventfd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if eventfd < 0 {
        return Err(format!("eventfd: {}", std::io::Error::last_os_error()));
    }
    let close = || {
        // SAFETY: closing the descriptor opened above, which nothing else holds yet.
        unsafe { libc::close(eventfd) };
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(8)
        .thread_name("authotron")
        .on_thread_start(block_signals)
        .enable_all()
        .build()
        .map_err(|e| {
            close();
            format!("tokio: {e}")
        })?;

    let c = addr_of_mut!(WAKE_CONNECTION);
    let rev = addr_of_mut!(WAKE_READ);
    let wev = addr_of_mut!(WAKE_WRITE);
    // SAFETY: the statics are only touched here, once per worker before the event loop runs,
    // and by NGINX's event loop afterwards; the event module is initialised by init_process.
    let watched = unsafe {
        (*c).fd = eventfd;
        (*c).read = rev;
        (*c).write = wev;
        (*c).log = log;
        (*rev).data = c.cast();
        (*rev).log = log;
        (*rev).handler = Some(on_wakeup);
        (*wev).data = c.cast();
        (*wev).log = log;
        ngx_handle_read_event(rev, 0)
    };
    if watched != NGX_OK as ngx_int_t {
        close();
        return Err("cannot watch the eventfd".to_owned());
    }
    Ok(Bridge {
        runtime,
        completions: Arc::new(Completions {
            finished: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            eventfd,
        }),
    })
}

/// Signals aimed at the process must reach NGINX's thread, as in NGINX's own thread pools.
fn block_signals() {
    // SAFETY: plain libc calls on a local signal set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        for keep in [libc::SIGILL, libc::SIGFPE, libc::SIGSEGV, libc::SIGBUS] {
            libc::sigdelset(&mut set, keep);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

pub unsafe extern "C" fn exit_process(cycle: *mut ngx_cycle_t) {
    guard((), || {
        let Some(bridge) = BRIDGE.lock().take() else {
            return;
        };
        let pending = PENDING.with(|p| p.borrow().len());
        bridge.runtime.shutdown_timeout(SHUTDOWN_WAIT);
        // SAFETY: the runtime is down, so no thread writes the eventfd any more.
        unsafe { libc::close(bridge.completions.eventfd) };
        // SAFETY: NGINX calls exit_process with its live cycle.
        let log = unsafe { (*cycle).log };
        ngx_log_error!(
            NGX_LOG_NOTICE,
            log,
            "authotron: runtime stopped, {pending} validations pending"
        );
    })
}
