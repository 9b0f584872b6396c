//! Finds the line and column of a key path in the original text.
//!
//! `serde_yaml::Value` keeps no positions, but serde_yaml puts the position of the node being
//! read on any error raised while reading it. So we read the text again with a visitor that
//! walks down the path, skipping everything else, and raises a marker error at the target; the
//! position on that error is the answer. If the path stops existing part way (for example a
//! key the file never had), the deepest node that exists is reported.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::decode::Spot;
use super::keypath::{KeyPath, Segment};

const MARKER: &str = "authotron config position probe";

/// 1-based line and column of `path` in `text`, or `None` when the text cannot be read.
pub(crate) fn locate(text: &str, path: &KeyPath, spot: Spot) -> Option<(usize, usize)> {
    let probe = Probe {
        rest: path.segments(),
        mark_key: spot == Spot::Key,
    };
    match probe.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Err(err) if err.to_string().contains(MARKER) => {
            err.location().map(|at| (at.line(), at.column()))
        }
        _ => None,
    }
}

fn marker<E: de::Error>() -> E {
    E::custom(MARKER)
}

/// Walks to `rest`; always ends in an error, the marker one when it found a place.
struct Probe<'p> {
    rest: &'p [Segment],
    /// At the end of the path, mark the key rather than its value.
    mark_key: bool,
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(marker())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(marker())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(marker())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(marker())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(marker())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(marker())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(marker())
    }

    fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(marker())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(marker())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Segment::Key(wanted), rest)) = self.rest.split_first() else {
            return Err(marker());
        };
        let seed = KeyProbe {
            wanted,
            mark: rest.is_empty() && self.mark_key,
        };
        while let Some(found) = map.next_key_seed(seed)? {
            if found {
                return map.next_value_seed(Probe {
                    rest,
                    mark_key: self.mark_key,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Err(marker())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Segment::Index(wanted), rest)) = self.rest.split_first() else {
            return Err(marker());
        };
        for _ in 0..*wanted {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(marker());
            }
        }
        seq.next_element_seed(Probe {
            rest,
            mark_key: self.mark_key,
        })?;
        Err(marker())
    }
}

/// Reads one key; tells whether it is the wanted one, or raises the marker on it.
#[derive(Clone, Copy)]
struct KeyProbe<'p> {
    wanted: &'p str,
    mark: bool,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl KeyProbe<'_> {
    fn compare<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match (key == self.wanted, self.mark) {
            (true, true) => Err(marker()),
            (found, _) => Ok(found),
        }
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        self.compare(key)
    }

    fn visit_bool<E: de::Error>(self, key: bool) -> Result<bool, E> {
        self.compare(&key.to_string())
    }

    fn visit_i64<E: de::Error>(self, key: i64) -> Result<bool, E> {
        self.compare(&key.to_string())
    }

    fn visit_u64<E: de::Error>(self, key: u64) -> Result<bool, E> {
        self.compare(&key.to_string())
    }

    fn visit_f64<E: de::Error>(self, key: f64) -> Result<bool, E> {
        self.compare(&serde_yaml::Number::from(key).to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.compare("~")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}
