//! Which series exist for one loaded config, and where each stored number lives.
//!
//! Every label set is known from the config (providers, augmenters, realms), so the whole list
//! is fixed before any worker starts: the hot path only ever adds to a number at a known
//! index, and the shared table never needs a lock.

use std::collections::HashMap;

use super::family::{seconds, Family, Kind};

/// The index of a series' first stored number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId(pub(super) u32);

pub struct Series {
    pub family: &'static Family,
    /// `name="value",...`, escaped as the exposition format wants.
    pub labels: String,
    pub first: u32,
}

#[derive(Default)]
pub struct Layout {
    series: Vec<Series>,
    cells: u32,
    known: HashMap<(&'static str, String), SeriesId>,
}

impl Layout {
    /// Adds a series (once: the same family and labels give the same id).
    pub fn add(&mut self, family: &'static Family, values: &[&str]) -> SeriesId {
        debug_assert_eq!(family.labels.len(), values.len(), "{}", family.name);
        let labels = family
            .labels
            .iter()
            .zip(values)
            .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
            .collect::<Vec<_>>()
            .join(",");
        if let Some(id) = self.known.get(&(family.name, labels.clone())) {
            return *id;
        }
        let id = SeriesId(self.cells);
        self.cells += family.cells() as u32;
        self.known.insert((family.name, labels.clone()), id);
        self.series.push(Series {
            family,
            labels,
            first: id.0,
        });
        id
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// How many stored numbers the series take in all.
    pub fn cells(&self) -> usize {
        self.cells as usize
    }

    /// The shared-table key of every stored number, in index order. A key names the series and
    /// the part of it, so a reload that keeps a series finds its totals again.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(self.cells());
        for series in &self.series {
            let base = format!("{}{{{}}}", series.family.name, series.labels);
            match series.family.kind {
                Kind::Histogram(bounds) => {
                    keys.extend(bounds.iter().map(|&b| format!("{base}#le={}", seconds(b))));
                    keys.push(format!("{base}#le=+Inf"));
                    keys.push(format!("{base}#sum_us"));
                }
                Kind::Counter | Kind::Gauge => keys.push(base),
            }
        }
        keys
    }
}

/// Label values may hold anything a config name holds.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::{AUTH_DURATION, AUTH_REQUESTS, UNAVAILABLE};

    #[test]
    fn series_are_numbered_by_their_cells_and_deduplicated() {
        let mut layout = Layout::default();
        let a = layout.add(&AUTH_REQUESTS, &["success", "unknown"]);
        let h = layout.add(&AUTH_DURATION, &["success", "unknown"]);
        let u = layout.add(&UNAVAILABLE, &[]);
        assert_eq!(layout.add(&AUTH_REQUESTS, &["success", "unknown"]), a);
        assert_eq!((a.0, h.0, u.0), (0, 1, 15));
        assert_eq!(layout.cells(), 16);
        let keys = layout.keys();
        assert_eq!(keys.len(), 16);
        assert_eq!(
            keys[0],
            r#"authotron_auth_requests_total{result="success",realm="unknown"}"#
        );
        assert_eq!(
            keys[1],
            r#"authotron_auth_duration_seconds{result="success",realm="unknown"}#le=0.001"#
        );
        assert!(keys[13].ends_with("#le=+Inf"));
        assert!(keys[14].ends_with("#sum_us"));
        assert_eq!(keys[15], "authotron_unavailable_total{}");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut layout = Layout::default();
        layout.add(&AUTH_REQUESTS, &["success", "a\"b\\c\nd"]);
        assert_eq!(
            layout.series()[0].labels,
            r#"result="success",realm="a\"b\\c\nd""#
        );
    }
}
