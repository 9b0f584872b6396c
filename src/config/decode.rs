//! Typed reading of the merged YAML tree.
//!
//! The loader walks a `serde_yaml::Value` by hand instead of deriving `Deserialize`, because
//! every finding must carry the key path it is about: the path is what lets us find the line in
//! the file afterwards (see `locate.rs`), attribute a value to an `AOT_*` variable, and report
//! keys nobody read. Messages quote no value, only key names, types and (elsewhere) type tags,
//! so nothing said here can leak a secret.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::env::EnvOverrides;
use super::keypath::KeyPath;
use super::suggest;

/// Which part of an entry a finding points at: its value (or the mapping it opens) or its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spot {
    Value,
    Key,
}

/// An error or warning about one place in the document, before it is given a line.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) path: KeyPath,
    pub(crate) spot: Spot,
    pub(crate) message: String,
}

impl Finding {
    pub(crate) fn at(path: &KeyPath, message: impl Into<String>) -> Self {
        Finding {
            path: path.clone(),
            spot: Spot::Value,
            message: message.into(),
        }
    }

    pub(crate) fn at_key(path: &KeyPath, message: impl Into<String>) -> Self {
        Finding {
            path: path.clone(),
            spot: Spot::Key,
            message: message.into(),
        }
    }
}

pub(crate) type Decoded<T> = Result<T, Finding>;

/// State shared by the whole walk.
pub(crate) struct Ctx<'a> {
    pub(crate) env: &'a EnvOverrides,
    pub(crate) warnings: Vec<Finding>,
    /// Off only in schema tests: then an enabled `mongo` store is accepted.
    pub(crate) check_support: bool,
    /// The directory of the YAML file: relative key file paths are relative to it.
    pub(crate) dir: Option<&'a Path>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(env: &'a EnvOverrides, check_support: bool) -> Self {
        Ctx {
            env,
            warnings: Vec::new(),
            check_support,
            dir: None,
        }
    }

    pub(crate) fn relative_to(mut self, dir: Option<&'a Path>) -> Self {
        self.dir = dir;
        self
    }

    pub(crate) fn warn(&mut self, finding: Finding) {
        self.warnings.push(finding);
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// One value of the tree and where it is.
#[derive(Clone)]
pub(crate) struct Node<'v> {
    value: &'v Value,
    path: KeyPath,
}

impl<'v> Node<'v> {
    pub(crate) fn new(value: &'v Value, path: KeyPath) -> Self {
        Node { value, path }
    }

    pub(crate) fn path(&self) -> &KeyPath {
        &self.path
    }

    pub(crate) fn is_null(&self) -> bool {
        self.value.is_null()
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> Finding {
        Finding::at(&self.path, message)
    }

    fn expected(&self, what: &str) -> Finding {
        self.error(format!("expected {what}, found {}", describe(self.value)))
    }

    pub(crate) fn mapping(&self) -> Decoded<Fields<'v>> {
        match self.value {
            Value::Mapping(map) => Ok(Fields {
                map,
                path: self.path.clone(),
                taken: vec![false; map.len()],
                asked: Vec::new(),
            }),
            _ => Err(self.expected("a mapping")),
        }
    }

    pub(crate) fn sequence(&self) -> Decoded<Vec<Node<'v>>> {
        match self.value {
            Value::Sequence(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(n, item)| Node::new(item, self.path.index(n)))
                .collect()),
            _ => Err(self.expected("a list")),
        }
    }

    /// A string. A value set by an `AOT_*` variable is taken as the variable's text, exactly:
    /// in a file the user can quote `12345` or `a #b`, in the environment they cannot.
    pub(crate) fn string(&self, cx: &Ctx<'_>) -> Decoded<String> {
        if let Some(raw) = cx.env.raw_text(&self.path) {
            return Ok(raw.to_owned());
        }
        match self.value {
            Value::String(text) => Ok(text.clone()),
            Value::Bool(_) | Value::Number(_) => Err(self.error(format!(
                "expected a string, found {} (put it in quotes)",
                describe(self.value)
            ))),
            _ => Err(self.expected("a string")),
        }
    }

    pub(crate) fn string_list(&self, cx: &Ctx<'_>) -> Decoded<Vec<String>> {
        self.sequence()?
            .iter()
            .map(|item| item.string(cx))
            .collect()
    }

    pub(crate) fn boolean(&self) -> Decoded<bool> {
        match self.value {
            Value::Bool(flag) => Ok(*flag),
            _ => Err(self.expected("true or false")),
        }
    }

    pub(crate) fn unsigned(&self) -> Decoded<u64> {
        match self.value {
            Value::Number(number) => number
                .as_u64()
                .ok_or_else(|| self.error("expected a whole number from 0 upwards")),
            _ => Err(self.expected("a whole number")),
        }
    }

    pub(crate) fn signed(&self) -> Decoded<i64> {
        match self.value {
            Value::Number(number) => number
                .as_i64()
                .ok_or_else(|| self.error("expected a whole number that fits in 64 bits")),
            _ => Err(self.expected("a whole number")),
        }
    }

    pub(crate) fn port(&self) -> Decoded<u16> {
        let number = self.unsigned()?;
        u16::try_from(number).map_err(|_| self.error("expected a port number (0 to 65535)"))
    }
}

/// The entries of one mapping, each marked when read, so that the rest can be reported.
pub(crate) struct Fields<'v> {
    map: &'v Mapping,
    path: KeyPath,
    taken: Vec<bool>,
    /// Every key the decoder looked for, present or not: the keys valid at this place, among
    /// which a misspelt key finds its suggestion.
    asked: Vec<String>,
}

impl<'v> Fields<'v> {
    pub(crate) fn error(&self, message: impl Into<String>) -> Finding {
        Finding::at(&self.path, message)
    }

    /// The entry `key`, or `None` when the key is absent.
    pub(crate) fn take(&mut self, key: &str) -> Option<Node<'v>> {
        if !self.asked.iter().any(|asked| asked == key) {
            self.asked.push(key.to_owned());
        }
        for (n, (k, v)) in self.map.iter().enumerate() {
            if k.as_str() == Some(key) {
                self.taken[n] = true;
                return Some(Node::new(v, self.path.key(key)));
            }
        }
        None
    }

    /// The entry `key`; absent and `null` both count as not given.
    pub(crate) fn optional(&mut self, key: &str) -> Option<Node<'v>> {
        self.take(key).filter(|node| !node.value.is_null())
    }

    pub(crate) fn required(&mut self, key: &str) -> Decoded<Node<'v>> {
        self.take(key).ok_or_else(|| {
            self.blame_misspelling(self.error(format!("missing field `{key}`")), &[key])
        })
    }

    /// `finding`, about keys in `wanted` that are absent, pointed at an unread key that looks
    /// like a misspelling of one of them and saying so; `finding` unchanged if there is none.
    pub(crate) fn blame_misspelling(&self, finding: Finding, wanted: &[&str]) -> Finding {
        let misspelt = self.unread_keys().find_map(|typed| {
            suggest::closest(&typed, wanted.iter().copied()).map(|meant| (typed, meant))
        });
        match misspelt {
            Some((typed, meant)) => Finding::at_key(
                &self.path.key(&typed),
                format!(
                    "{} (unknown key `{typed}`; did you mean `{meant}`?)",
                    finding.message
                ),
            ),
            None => finding,
        }
    }

    /// The keys of entries nobody has read, as written.
    fn unread_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.map
            .iter()
            .zip(&self.taken)
            .filter(|(_, taken)| !**taken)
            .map(|((k, _), _)| key_text(k))
    }

    pub(crate) fn required_string(&mut self, cx: &Ctx<'_>, key: &str) -> Decoded<String> {
        self.required(key)?.string(cx)
    }

    pub(crate) fn optional_string(&mut self, cx: &Ctx<'_>, key: &str) -> Decoded<Option<String>> {
        self.optional(key).map(|node| node.string(cx)).transpose()
    }

    /// An identity service address, checked to be an http(s) URL.
    pub(crate) fn required_url(&mut self, cx: &Ctx<'_>, key: &str) -> Decoded<String> {
        let node = self.required(key)?;
        let url = node.string(cx)?;
        super::validate::http_url(&url).map_err(|message| node.error(message))?;
        Ok(url)
    }

    /// A realm, checked to be safe in a `WWW-Authenticate` header.
    pub(crate) fn required_realm(&mut self, cx: &Ctx<'_>) -> Decoded<String> {
        let node = self.required("realm")?;
        let realm = node.string(cx)?;
        super::validate::realm(&realm).map_err(|message| node.error(message))?;
        Ok(realm)
    }

    /// A list of strings that defaults to empty.
    pub(crate) fn string_list(&mut self, cx: &Ctx<'_>, key: &str) -> Decoded<Vec<String>> {
        match self.optional(key) {
            Some(node) => node.string_list(cx),
            None => Ok(Vec::new()),
        }
    }

    /// Every entry of a mapping whose keys are data (role names, attribute names), in file
    /// order. Keys must be strings.
    pub(crate) fn all_entries(&mut self) -> Decoded<Vec<(String, Node<'v>)>> {
        let mut entries = Vec::with_capacity(self.map.len());
        for (n, (k, v)) in self.map.iter().enumerate() {
            self.taken[n] = true;
            let key = match k {
                Value::String(key) => key.clone(),
                _ => {
                    let shown = key_text(k);
                    return Err(Finding::at_key(
                        &self.path.key(&shown),
                        format!("expected a string as key, found {}", describe(k)),
                    ));
                }
            };
            let path = self.path.key(&key);
            entries.push((key, Node::new(v, path)));
        }
        Ok(entries)
    }

    /// Reports every entry that was never read as an unknown key, with the valid key it most
    /// likely misspells.
    pub(crate) fn finish(self, cx: &mut Ctx<'_>) {
        for typed in self.unread_keys() {
            let path = self.path.key(&typed);
            let hint = suggest::closest(&typed, self.asked.iter().map(String::as_str))
                .map(|meant| format!("; did you mean `{meant}`?"))
                .unwrap_or_default();
            cx.warn(Finding::at_key(
                &path,
                format!("unknown key `{path}` (ignored){hint}"),
            ));
        }
    }
}

/// How a key is written in a path. Keys are names, not secrets, so showing scalar keys is fine.
fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::Null => "~".to_owned(),
        _ => "<complex key>".to_owned(),
    }
}
