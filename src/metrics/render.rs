//! The Prometheus text exposition format (version 0.0.4) of one layout's current values.

use std::fmt::Write;

use super::family::{self, seconds, Family, Kind, FAMILIES};
use super::layout::Series;
use super::meters::Meters;

pub fn render(meters: &Meters) -> Vec<u8> {
    let mut out = String::with_capacity(16 * 1024);
    for &family in FAMILIES {
        if std::ptr::eq(family, &family::BUILD_INFO) {
            header(&mut out, family);
            let version = env!("CARGO_PKG_VERSION");
            let _ = writeln!(out, "{}{{version=\"{version}\"}} 1", family.name);
            continue;
        }
        // A setting, not a count: shown from the config, never summed over workers.
        if std::ptr::eq(family, &family::OUTBOUND_LIMIT) {
            let catalogue = meters.catalogue();
            if catalogue.providers.iter().any(|p| p.remote) {
                header(&mut out, family);
                let _ = writeln!(out, "{} {}", family.name, catalogue.max_concurrent_calls);
            }
            continue;
        }
        let mut series = meters
            .layout()
            .series()
            .iter()
            .filter(|s| std::ptr::eq(s.family, family))
            .filter_map(|s| values(meters, s).map(|v| (s, v)))
            .peekable();
        // As Prometheus client libraries do: a family without series is not shown.
        if series.peek().is_none() {
            continue;
        }
        header(&mut out, family);
        for (s, v) in series {
            sample(&mut out, s, &v);
        }
    }
    out.into_bytes()
}

/// The gauge of subjects limited now, from counts the caller took (see `family::GUARD_KINDS`).
pub fn guard_gauge(counts: &[u64; 3]) -> Vec<u8> {
    let family = &family::GUARD_LIMITED_SUBJECTS;
    let mut out = String::new();
    header(&mut out, family);
    for (kind, count) in family::GUARD_KINDS.iter().zip(counts) {
        let _ = writeln!(out, "{}{{kind=\"{kind}\"}} {count}", family.name);
    }
    out.into_bytes()
}

fn header(out: &mut String, family: &Family) {
    let kind = match family.kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram(_) => "histogram",
    };
    let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
    let _ = writeln!(out, "# TYPE {} {kind}", family.name);
}

/// Every number of the series, or `None` when one did not fit in the shared zone (a partial
/// histogram would be wrong, so it is not shown at all).
fn values(meters: &Meters, series: &Series) -> Option<Vec<u64>> {
    (0..series.family.cells() as u32)
        .map(|i| meters.value(series.first + i))
        .collect()
}

fn sample(out: &mut String, series: &Series, values: &[u64]) {
    let name = series.family.name;
    let labels = &series.labels;
    match series.family.kind {
        Kind::Counter => {
            let _ = writeln!(out, "{name}{} {}", braces(labels), values[0]);
        }
        // Gauges are stored as wrapping u64 so that a decrement is one atomic add.
        Kind::Gauge => {
            let _ = writeln!(out, "{name}{} {}", braces(labels), values[0] as i64);
        }
        Kind::Histogram(bounds) => {
            let sep = if labels.is_empty() { "" } else { "," };
            let mut cumulative = 0u64;
            for (i, value) in values[..=bounds.len()].iter().enumerate() {
                cumulative = cumulative.wrapping_add(*value);
                let le = bounds.get(i).map_or("+Inf".to_owned(), |&b| seconds(b));
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = seconds(values[bounds.len() + 1]);
            let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
            let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
        }
    }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}
