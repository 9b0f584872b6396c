//! `guard` (ours): the abuse guard's limits. Off unless `enabled: true`.

use super::decode::{Ctx, Decoded, Node};

/// The most failures a subject can be allowed: the count is stored in 12 bits of a slot.
pub const MAX_FAILURES_CEILING: u64 = 4095;
/// The longest window: a day. Longer lockouts are better served by a deny list.
pub const WINDOW_CEILING: u64 = 86_400;
/// The most subjects the zone can remember (its size is 8 bytes per subject).
pub const SUBJECTS_CEILING: u64 = 1 << 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    pub enabled: bool,
    /// How many subjects the shared zone remembers at once; the oldest go first when it is full.
    pub subjects: u32,
    pub basic: Limit,
    pub bearer: Limit,
    pub address: Limit,
}

/// The limit of one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures within the window after which the subject is limited; 0: the kind is not counted.
    pub max_failures: u32,
    /// How long failures are counted from the first, and how long a limited subject stays
    /// limited.
    pub window_seconds: u32,
}

impl Default for GuardSettings {
    fn default() -> Self {
        let limit = Limit {
            max_failures: 5,
            window_seconds: 60,
        };
        GuardSettings {
            enabled: false,
            subjects: 65_536,
            basic: limit,
            bearer: limit,
            address: limit,
        }
    }
}

pub(crate) fn decode_guard(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<GuardSettings> {
    let mut f = node.mapping()?;
    let mut settings = GuardSettings::default();
    if let Some(enabled) = f.optional("enabled") {
        settings.enabled = enabled.boolean()?;
    }
    if let Some(subjects) = f.optional("subjects") {
        settings.subjects = bounded(&subjects, 1, SUBJECTS_CEILING)?;
    }
    // The top-level limit is every kind's default; a kind's own section overrides it.
    let mut limit = settings.basic;
    decode_limit(&mut f, &mut limit)?;
    for (key, kind) in [
        ("basic", &mut settings.basic),
        ("bearer", &mut settings.bearer),
        ("address", &mut settings.address),
    ] {
        *kind = limit;
        if let Some(section) = f.optional(key) {
            let mut own = section.mapping()?;
            decode_limit(&mut own, kind)?;
            own.finish(cx);
        }
    }
    f.finish(cx);
    Ok(settings)
}

fn decode_limit(f: &mut super::decode::Fields<'_>, limit: &mut Limit) -> Decoded<()> {
    if let Some(max) = f.optional("max_failures") {
        limit.max_failures = bounded(&max, 0, MAX_FAILURES_CEILING)?;
    }
    if let Some(window) = f.optional("window_seconds") {
        limit.window_seconds = bounded(&window, 1, WINDOW_CEILING)?;
    }
    Ok(())
}

fn bounded(node: &Node<'_>, low: u64, high: u64) -> Decoded<u32> {
    let n = node.unsigned()?;
    if n < low || n > high {
        return Err(node.error(format!("must be from {low} to {high}")));
    }
    Ok(n as u32)
}
