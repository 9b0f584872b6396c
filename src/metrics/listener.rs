//! The token store's revocation listener: how many workers listen, and what they heard.

use std::sync::Arc;

use super::meters::Meters;

/// One worker's share of `authotron_store_revocation_listeners`: 1 while its listener
/// listens, 0 otherwise, and 0 again when dropped (the worker exits), so the total stays right
/// across reloads.
pub struct ListenerGauge {
    meters: Arc<Meters>,
    up: bool,
}

impl ListenerGauge {
    pub fn set(&mut self, up: bool) {
        if up == self.up {
            return;
        }
        self.up = up;
        if let Some(ids) = self.meters.revocations {
            // The gauge is stored as a wrapping u64 and shown as i64.
            let step = if up { 1 } else { u64::MAX };
            self.meters.add(ids.listening, step);
        }
    }
}

impl Drop for ListenerGauge {
    fn drop(&mut self) {
        self.set(false);
    }
}

impl Meters {
    pub fn listener_gauge(self: &Arc<Self>) -> ListenerGauge {
        ListenerGauge {
            meters: self.clone(),
            up: false,
        }
    }

    /// A revocation announcement reached this worker.
    pub fn revocation_heard(&self) {
        if let Some(ids) = self.revocations {
            self.add(ids.heard, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::metrics::{Catalogue, Meters};

    fn sample(meters: &Meters, name: &str) -> Option<String> {
        let text = String::from_utf8(meters.render()).unwrap();
        let prefix = format!("{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    #[test]
    fn without_a_listening_store_there_are_no_series() {
        let meters = Arc::new(Meters::new(Catalogue::default()));
        meters.listener_gauge().set(true);
        meters.revocation_heard();
        let text = String::from_utf8(meters.render()).unwrap();
        assert!(!text.contains("authotron_store_revocation"), "{text}");
    }

    #[test]
    fn the_gauge_counts_listening_workers_and_a_dropped_one_leaves_it() {
        let meters = Arc::new(Meters::new(Catalogue::default()).with_revocation_listener());
        let listeners = || sample(&meters, "authotron_store_revocation_listeners");
        assert_eq!(listeners().as_deref(), Some("0"));
        let (mut one, mut two) = (meters.listener_gauge(), meters.listener_gauge());
        one.set(true);
        one.set(true);
        two.set(true);
        assert_eq!(listeners().as_deref(), Some("2"));
        two.set(false);
        two.set(false);
        assert_eq!(listeners().as_deref(), Some("1"));
        drop(two);
        drop(one);
        assert_eq!(listeners().as_deref(), Some("0"));

        meters.revocation_heard();
        meters.revocation_heard();
        let heard = sample(&meters, "authotron_store_revocations_heard_total");
        assert_eq!(heard.as_deref(), Some("2"));
    }
}
