//! What a worker does with revocations announced by other instances of a shared store: it
//! forgets the revoked token's cached answers at once, and logs when it starts or stops
//! hearing of them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{Authenticator, Note};
use crate::store::revocation::{ListenerEvent, Notice};

impl Authenticator {
    /// The task that listens for revocations for this worker, when the store can announce
    /// them; `log` receives the lines worth logging. Runs until dropped.
    pub fn revocation_listener(
        self: &Arc<Self>,
        log: impl Fn(Note) + Send + 'static,
    ) -> Option<BoxFuture<'static, ()>> {
        let store = self.store()?;
        let cache_ttl = store.cache_ttl;
        let this = self.clone();
        let mut state = ListenerLog::default();
        // Dropped with the task when the worker exits, which takes this worker off the gauge.
        let mut gauge = self.metrics.listener_gauge();
        store.listen(Box::new(move |event| {
            this.on_listener_event(&event);
            match &event {
                ListenerEvent::Listening => gauge.set(true),
                ListenerEvent::Lost(_) => gauge.set(false),
                ListenerEvent::Revoked(_) => this.metrics.revocation_heard(),
            }
            if let Some(line) = state.line(&event, cache_ttl) {
                log(line);
            }
        }))
    }

    /// A revocation elsewhere evicts the revoked token. After a (re)connection, revocations
    /// made while this worker was not listening cannot be known, and an announcement this
    /// version cannot read names no token it knows: then every cached store token goes.
    fn on_listener_event(&self, event: &ListenerEvent) {
        match event {
            ListenerEvent::Revoked(Notice::Revoked(id)) => self.forget_store_token(id),
            ListenerEvent::Listening | ListenerEvent::Revoked(Notice::Unrecognised) => {
                self.forget_store_tokens()
            }
            ListenerEvent::Lost(_) => {}
        }
    }
}

/// Whether the worker listens, so that the log gets one line per change of state and not one
/// per reconnection attempt.
#[derive(Default)]
pub struct ListenerLog {
    listening: Option<bool>,
}

impl ListenerLog {
    /// The line for `event`, if it changes the state.
    pub fn line(&mut self, event: &ListenerEvent, cache_ttl: Duration) -> Option<Note> {
        let listening = match event {
            ListenerEvent::Listening => true,
            ListenerEvent::Lost(_) => false,
            ListenerEvent::Revoked(_) => return None,
        };
        if self.listening.replace(listening) == Some(listening) {
            return None;
        }
        Some(match event {
            ListenerEvent::Lost(reason) => Note::warn(format!(
                "not listening for token revocations ({reason}): revocations made on other \
                 instances take effect here within cache_ttl_seconds ({} s); retrying",
                cache_ttl.as_secs()
            )),
            _ => Note::info("listening for token revocations"),
        })
    }
}

#[cfg(test)]
mod tests;
