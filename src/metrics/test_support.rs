//! Reading `/metrics` bodies in tests, strictly.

use std::collections::BTreeMap;

use super::Meters;

/// A strict reader of the text format: every line is a HELP or TYPE comment or a sample; a
/// sample's family was typed before it; no sample appears twice. Returns the samples by
/// `name{labels}` as written.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    assert!(text.ends_with('\n'), "the body ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty() && valid_name(name), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("number in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(valid_name(name), "{line}");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                assert_labels(&labels[1..labels.len() - 1], line);
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "sample before its TYPE: {line}");
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "twice: {line}"
        );
    }
    samples
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

fn assert_labels(mut labels: &str, line: &str) {
    while !labels.is_empty() {
        let (name, rest) = labels.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        assert!(valid_name(name), "{line}");
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated label in {line}"));
        labels = rest[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&rest[end + 1..]);
    }
}

pub fn samples(meters: &Meters) -> BTreeMap<String, f64> {
    parse(std::str::from_utf8(&meters.render()).unwrap())
}

pub fn get(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

/// Asserts the value of each series, naming the first one that differs.
pub fn expect_samples(samples: &BTreeMap<String, f64>, expected: &[(&str, f64)]) {
    for (series, value) in expected {
        assert_eq!(get(samples, series), *value, "{series}");
    }
}

/// `authotron_auth_provider_attempts_total` for one provider and result.
pub fn provider_attempts(samples: &BTreeMap<String, f64>, labels: [&str; 4]) -> f64 {
    attempts(samples, "auth_provider", "provider", labels)
}

/// `authotron_augmenter_attempts_total` for one augmenter and result.
pub fn augmenter_attempts(samples: &BTreeMap<String, f64>, labels: [&str; 4]) -> f64 {
    attempts(samples, "augmenter", "augmenter", labels)
}

fn attempts(
    samples: &BTreeMap<String, f64>,
    family: &str,
    of: &str,
    [name, kind, realm, result]: [&str; 4],
) -> f64 {
    get(
        samples,
        &format!("authotron_{family}_attempts_total{{{of}_name=\"{name}\",{of}_type=\"{kind}\",realm=\"{realm}\",result=\"{result}\"}}"),
    )
}
