//! `AOT_*` environment overrides, as upstream applies them with Figment: `AOT_JWT__SECRET=x`
//! sets `jwt.secret`, `__` nests, keys are lower-cased, values are read as YAML scalars, and
//! the environment wins over the file.
//!
//! Differences: a numeric segment indexes an existing list
//! (`AOT_PROVIDERS__0__USERS__1__PASSWORD`), so secrets inside list entries can come from the
//! environment too; a string field takes the variable's text exactly as it is (so
//! `AOT_JWT__SECRET=012345` or `AOT_JWT__SECRET='abc #def'` are not turned into a number or
//! cut at a YAML comment); and every override remembers its variable, so findings can name it.

use serde_yaml::{Mapping, Value};

use super::keypath::{KeyPath, Segment};

const PREFIX: &str = "AOT_";

/// Variables with the prefix that are not configuration keys.
const NOT_KEYS: &[&str] = &["AOT_CONFIG_PATH"];

#[derive(Debug, Clone)]
struct Override {
    var: String,
    key: Vec<String>,
    raw: String,
    /// Where the value landed, known once applied.
    path: Option<KeyPath>,
}

/// The overrides found in an environment, and after `apply`, where they went.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvOverrides {
    overrides: Vec<Override>,
    /// Mappings that did not exist in the file, with the variable that created them.
    created: Vec<(KeyPath, String)>,
}

/// An override that cannot be applied to the document.
#[derive(Debug, Clone)]
pub(crate) struct EnvError {
    pub(crate) var: String,
    pub(crate) path: KeyPath,
    pub(crate) message: String,
}

impl EnvOverrides {
    /// Picks the `AOT_*` variables out of `env`. Returns the overrides and warnings about
    /// variables that were skipped (named, never with their value).
    pub(crate) fn collect(env: impl IntoIterator<Item = (String, String)>) -> (Self, Vec<String>) {
        let mut overrides = Vec::new();
        let mut warnings = Vec::new();
        for (var, raw) in env {
            let Some(rest) = var.strip_prefix(PREFIX) else {
                continue;
            };
            if NOT_KEYS.contains(&var.as_str()) {
                continue;
            }
            let key: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            if key.iter().any(String::is_empty) {
                warnings.push(format!(
                    "environment variable {var} ignored: it does not name a configuration key"
                ));
                continue;
            }
            overrides.push(Override {
                var,
                key,
                raw,
                path: None,
            });
        }
        // The environment has no order; sorting makes the result independent of it, and puts
        // `AOT_JWT` before `AOT_JWT__ISS` so that the deeper variable wins.
        overrides.sort_by(|a, b| a.var.cmp(&b.var));
        (
            EnvOverrides {
                overrides,
                created: Vec::new(),
            },
            warnings,
        )
    }

    /// Writes every override into `root`, creating mappings on the way as needed.
    pub(crate) fn apply(&mut self, root: &mut Value) -> Result<(), EnvError> {
        match root {
            Value::Mapping(_) => {}
            // An empty file: the whole configuration may come from the environment.
            Value::Null if !self.overrides.is_empty() => *root = Value::Mapping(Mapping::new()),
            // Not a configuration at all; the decoder says so, pointing at the file.
            _ => return Ok(()),
        }
        for n in 0..self.overrides.len() {
            let (path, created) = self.apply_one(root, n)?;
            let var = self.overrides[n].var.clone();
            self.created
                .extend(created.into_iter().map(|path| (path, var.clone())));
            self.overrides[n].path = Some(path);
        }
        Ok(())
    }

    fn apply_one(&self, root: &mut Value, n: usize) -> Result<(KeyPath, Vec<KeyPath>), EnvError> {
        let item = &self.overrides[n];
        let mut created = Vec::new();
        let mut segments = Vec::with_capacity(item.key.len());
        let mut node = root;
        let (last, parents) = item.key.split_last().expect("keys are never empty");
        for name in parents {
            let here = KeyPath::from_segments(segments.clone());
            if let Value::Sequence(items) = node {
                let len = items.len();
                let index = name
                    .parse::<usize>()
                    .ok()
                    .filter(|index| *index < len)
                    .ok_or_else(|| not_an_index(&item.var, &here, len))?;
                segments.push(Segment::Index(index));
                node = &mut items[index];
                continue;
            }
            let map = ensure_mapping(node, &here, &mut created);
            let key = Value::String(name.clone());
            if !map.contains_key(&key) {
                map.insert(key.clone(), Value::Null);
            }
            segments.push(Segment::Key(name.clone()));
            node = map.get_mut(&key).expect("inserted above");
        }
        let here = KeyPath::from_segments(segments.clone());
        if let Value::Sequence(items) = node {
            let len = items.len();
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|index| *index < len)
                .ok_or_else(|| not_an_index(&item.var, &here, len))?;
            items[index] = scalar(&item.raw);
            segments.push(Segment::Index(index));
        } else {
            let map = ensure_mapping(node, &here, &mut created);
            map.insert(Value::String(last.clone()), scalar(&item.raw));
            segments.push(Segment::Key(last.clone()));
        }
        Ok((KeyPath::from_segments(segments), created))
    }

    /// The raw text of the variable that set exactly this value.
    pub(crate) fn raw_text(&self, path: &KeyPath) -> Option<&str> {
        self.overrides
            .iter()
            .rev()
            .find(|o| o.path.as_ref() == Some(path))
            .map(|o| o.raw.as_str())
    }

    /// The variable that supplied the value at `path`, or a value or mapping around it.
    pub(crate) fn origin(&self, path: &KeyPath) -> Option<&str> {
        let set = self
            .overrides
            .iter()
            .rev()
            .filter_map(|o| o.path.as_ref().map(|p| (p, o.var.as_str())));
        let made = self.created.iter().map(|(p, var)| (p, var.as_str()));
        set.chain(made)
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, _)| p.segments().len())
            .map(|(_, var)| var)
    }
}

fn not_an_index(var: &str, here: &KeyPath, len: usize) -> EnvError {
    EnvError {
        var: var.to_owned(),
        path: here.clone(),
        message: format!(
            "this is a list of {len} entries, so the variable name must continue with an index below {len}"
        ),
    }
}

/// Makes `node` a mapping (keeping it if it is one) and returns it. Anything else there is
/// replaced, because the environment wins.
fn ensure_mapping<'v>(
    node: &'v mut Value,
    here: &KeyPath,
    created: &mut Vec<KeyPath>,
) -> &'v mut Mapping {
    if !matches!(node, Value::Mapping(_)) {
        *node = Value::Mapping(Mapping::new());
        created.push(here.clone());
    }
    match node {
        Value::Mapping(map) => map,
        _ => unreachable!("made a mapping above"),
    }
}

/// The value of a variable: `false` is a boolean, `3000` a number, `~` or nothing is null,
/// anything else (including text that YAML would read as a list or mapping) a string.
fn scalar(raw: &str) -> Value {
    match serde_yaml::from_str::<Value>(raw) {
        Ok(value @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => value,
        _ => Value::String(raw.to_owned()),
    }
}
