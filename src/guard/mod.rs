//! The abuse guard: failed validations counted per subject (a Basic username in its realm, a
//! bearer credential's claimant, the client address) in memory every worker shares; a subject
//! past its limit is answered 429 without any provider running. Nothing here knows NGINX: the
//! binding hands over the zone's words (`Guard::install`), and before that (unit tests,
//! `nginx -t`) the guard counts in process memory.

mod slots;
mod subject;
pub mod zone;

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{GuardSettings, Limit};
use crate::domain::Scheme;
use slots::Slots;
pub use subject::{Subject, KEY_LEN};

/// The kinds of subject; also the `kind` label of the guard's metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Basic = 0,
    Bearer = 1,
    Address = 2,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Basic, Kind::Bearer, Kind::Address];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Basic => "basic",
            Kind::Bearer => "bearer",
            Kind::Address => "address",
        }
    }
}

pub struct Guard {
    settings: GuardSettings,
    /// Counts before (or without) the shared zone: unit tests. Made on first use, so a
    /// configuration load (the master's, `nginx -t`) does not hold a second zone's worth.
    local: OnceLock<Box<[AtomicU64]>>,
    local_key: [u8; KEY_LEN],
    shared: OnceLock<(&'static [AtomicU64], [u8; KEY_LEN])>,
}

/// A request's limit: the kind of the subject that is limited, and for how many more seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub kind: Kind,
    pub retry_after: u32,
}

impl Guard {
    /// `None` when the guard is off: nothing is counted or consulted then.
    pub fn new(settings: &GuardSettings) -> Result<Option<Guard>, String> {
        if !settings.enabled {
            return Ok(None);
        }
        let mut local_key = [0u8; KEY_LEN];
        getrandom::fill(&mut local_key).map_err(|e| format!("no randomness for the guard: {e}"))?;
        Ok(Some(Guard {
            settings: *settings,
            local: OnceLock::new(),
            local_key,
            shared: OnceLock::new(),
        }))
    }

    /// The words the zone must hold for the configured subjects (buckets rounded up).
    pub fn words(&self) -> usize {
        words_for(self.settings.subjects)
    }

    /// Switches to the zone's words and key. Done once, before workers start.
    pub fn install(&self, words: &'static [AtomicU64], key: [u8; KEY_LEN]) {
        let _ = self.shared.set((words, key));
    }

    fn state(&self) -> (Slots<'_>, &[u8; KEY_LEN]) {
        match self.shared.get() {
            Some((words, key)) => (Slots::new(words), key),
            None => {
                let local = self
                    .local
                    .get_or_init(|| (0..self.words()).map(|_| AtomicU64::new(0)).collect());
                (Slots::new(local), &self.local_key)
            }
        }
    }

    fn limit(&self, kind: Kind) -> Limit {
        match kind {
            Kind::Basic => self.settings.basic,
            Kind::Bearer => self.settings.bearer,
            Kind::Address => self.settings.address,
        }
    }

    /// The subjects of a request (see `subject::subjects`); kinds not counted are left out.
    pub fn subjects<'c>(
        &self,
        credentials: impl IntoIterator<Item = (&'c Scheme, &'c str)>,
        realm: Option<&str>,
        address: &[u8],
    ) -> Vec<Subject> {
        let (_, key) = self.state();
        let mut found = subject::subjects(key, credentials, realm, address);
        found.retain(|s| self.limit(s.kind).max_failures > 0);
        found
    }

    /// Whether any of `subjects` is limited now; the longest lockout wins.
    pub fn limited(&self, subjects: &[Subject]) -> Option<Limited> {
        self.limited_at(subjects, now())
    }

    pub(crate) fn limited_at(&self, subjects: &[Subject], now: u32) -> Option<Limited> {
        let (slots, _) = self.state();
        subjects
            .iter()
            .filter_map(|s| {
                let left = slots.limited_for(s.kind, s.fingerprint, self.limit(s.kind), now)?;
                Some(Limited {
                    kind: s.kind,
                    retry_after: left,
                })
            })
            .max_by_key(|l| l.retry_after)
    }

    /// Counts a definitive refusal against every subject of the request; returns the kinds of
    /// those it made limited.
    pub fn failed(&self, subjects: &[Subject]) -> Vec<Kind> {
        self.failed_at(subjects, now())
    }

    pub(crate) fn failed_at(&self, subjects: &[Subject], now: u32) -> Vec<Kind> {
        let (slots, _) = self.state();
        subjects
            .iter()
            .filter(|s| slots.fail(s.kind, s.fingerprint, self.limit(s.kind), now))
            .map(|s| s.kind)
            .collect()
    }

    /// The seconds a newly limited subject of `kind` stays limited.
    pub fn window(&self, kind: Kind) -> u32 {
        self.limit(kind).window_seconds
    }

    /// Subjects of `kind` limited now, in every worker (a scan of the zone, for `/metrics`).
    pub fn limited_subjects(&self, kind: Kind) -> u64 {
        let (slots, _) = self.state();
        slots.limited_subjects(kind, self.limit(kind), now())
    }
}

fn words_for(subjects: u32) -> usize {
    (subjects as usize).div_ceil(slots::BUCKET) * slots::BUCKET
}

/// Unix seconds; fits 32 bits until 2106.
fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
