//! The core's log lines (`Note`s), written to an NGINX log at their level.

use ngx::ffi::{ngx_log_t, NGX_LOG_DEBUG, NGX_LOG_INFO, NGX_LOG_WARN};
use ngx::ngx_log_error;

use crate::auth::{Note, NoteLevel};

/// Writes `note` to `log`; NGINX thread only.
pub fn log_note(log: *mut ngx_log_t, note: &Note) {
    let level = match note.level {
        NoteLevel::Debug => NGX_LOG_DEBUG,
        NoteLevel::Info => NGX_LOG_INFO,
        NoteLevel::Warn => NGX_LOG_WARN,
    };
    ngx_log_error!(level, log, "authotron: {}", note.text);
}
