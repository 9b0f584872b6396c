//! Revocations across a fleet: a PostgreSQL store announces each revocation on a channel
//! (`NOTIFY`, sent in the transaction that deletes the token, so it is delivered only if the
//! deletion commits), and every worker of every host listens on it and forgets the token at
//! once instead of at the end of its cache TTL.
//!
//! The payload is the token's public id, which lists and revocations already show: it names
//! the token without letting anyone use it. Neither the token nor its hash (the store's lookup
//! key) ever travels on the channel.

use std::time::Duration;

use super::token;

/// The channel every instance of a store listens on.
pub const CHANNEL: &str = "authotron_revocations";

/// What a notification's payload is for a revoked token.
pub fn payload(id: &str) -> String {
    id.to_owned()
}

/// What a notification on the channel announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The token with this public id was revoked.
    Revoked(String),
    /// Something this version does not understand (another version of the module, or a
    /// hand-written `NOTIFY`). Still acted on: forgetting too much only costs revalidation.
    Unrecognised,
}

impl Notice {
    pub fn parse(payload: &str) -> Notice {
        match token::is_id(payload) {
            true => Notice::Revoked(payload.to_owned()),
            false => Notice::Unrecognised,
        }
    }
}

/// What the listening connection reports to the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenerEvent {
    /// `LISTEN` took effect: from now on revocations made anywhere arrive here.
    Listening,
    Revoked(Notice),
    /// The connection failed or could not be made; the reason is for the log.
    Lost(String),
}

/// Waits between reconnection attempts: doubling from `FIRST` up to `LONGEST`, and starting
/// over once a connection listens again. A database that is down is then asked a few times a
/// minute per worker, not in a tight loop.
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_millis(250);
    pub const LONGEST: Duration = Duration::from_secs(30);

    /// The wait before the next attempt.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::LONGEST);
        wait
    }

    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Self::FIRST }
    }
}

#[cfg(test)]
mod tests;
