//! The Auth-O-Tron configuration file (schema 1.0.0 and 2.0.0, plus our `cache` section),
//! with `AOT_*` environment overrides applied.
//!
//! Loading never fails silently and never says too much: every error names the file and,
//! when the value came from it, the line and column (otherwise the `AOT_*` variable); keys
//! nobody reads become warnings; no message or `Debug` output contains a secret.
//!
//! How: the text is parsed into a `serde_yaml::Value`, the overrides are written into it
//! (`env.rs`), and the tree is decoded by hand (`decode.rs`), so that every finding knows its
//! key path. Only then is the path turned into a line and column, by reading the original text
//! once more (`locate.rs`). Which upstream types this build can run is decided in one list
//! (`support.rs`).

mod augmenters;
mod crosscheck;
mod decode;
mod env;
mod error;
mod guard;
mod keypath;
mod locate;
mod providers;
mod reader;
mod redact;
mod remote;
mod resource_metadata;
mod settings;
mod store;
mod suggest;
pub(crate) mod validate;
mod worker_user;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde_yaml::Value;

pub use augmenters::{
    AugmentRule, AugmenterConfig, LdapAugmenterConfig, MatchRule, PlainAdvancedConfig,
    PlainAugmenterConfig,
};
pub use error::ConfigError;
pub use guard::{GuardSettings, Limit};
pub use providers::{
    EcmwfApiConfig, EfasApiConfig, JwtProviderConfig, OpenidOfflineConfig, PlainProviderConfig,
    PlainUser, ProviderConfig, TokenGeneratorConfig,
};
pub use reader::ConfReader;
pub use remote::{HttpSettings, JwtChecks, DEFAULT_ALGORITHMS, HMAC_ALGORITHMS};
pub use resource_metadata::ResourceMetadataSettings;
pub use settings::{
    AuthSettings, CacheSettings, JwtSettings, LoggingSettings, MetricsSettings, SchemaVersion,
    ServerSettings, ServiceEntry, VerificationKey,
};
pub use store::{StoreBackend, StoreSettings};
pub use worker_user::{sqlite_problem, WorkerUser};

use decode::{Ctx, Decoded, Finding, Node};
use env::EnvOverrides;
use keypath::KeyPath;

/// A loaded configuration and what was noticed while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// Ready to log, one per line: `FILE:LINE:COLUMN: message`, or
    /// `FILE: message (from environment variable AOT_X)`. They name keys, never values.
    pub warnings: Vec<String>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub version: SchemaVersion,
    /// v2 `server`, or v1 `bind_address` converted. Unused: nginx listens.
    pub server: Option<ServerSettings>,
    /// v1 only, as written (checked like upstream). Unused.
    pub bind_address: Option<String>,
    /// v2 only. Unused.
    pub metrics: Option<MetricsSettings>,
    pub auth: AuthSettings,
    pub jwt: JwtSettings,
    pub include_legacy_headers: bool,
    /// Unused: nginx's `error_log` applies.
    pub logging: Option<LoggingSettings>,
    pub store: Option<StoreSettings>,
    /// Unused, as upstream.
    pub services: Vec<ServiceEntry>,
    pub providers: Vec<ProviderConfig>,
    pub augmenters: Vec<AugmenterConfig>,
    pub cache: CacheSettings,
    /// Ours: outbound HTTP to identity services.
    pub http: HttpSettings,
    /// Ours: the RFC 9728 document; `None` serves none and leaves challenges as upstream's.
    pub resource_metadata: Option<ResourceMetadataSettings>,
    /// Ours: the abuse guard.
    pub guard: GuardSettings,
}

/// Loads a configuration from `text`. `path` is only used in messages; `env` is the process
/// environment, of which only `AOT_*` variables are read.
pub fn load(
    path: &Path,
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    load_with(path, text, env, true, None)
}

/// Reads the file at `path` and loads it with the process environment. With `worker`, the
/// user NGINX workers run as, a SQLite store's file is also checked to be usable by that user.
pub fn load_file(path: &Path, worker: Option<&WorkerUser>) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| ConfigError::new(path, format!("cannot read: {err}")))?;
    // `std::env::vars` panics on a variable that is not UTF-8; such variables cannot be
    // configuration anyway.
    let env = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
    load_with(path, &text, env, true, worker)
}

/// `check_support: false` also accepts an enabled `mongo` store, which this module never runs,
/// so that schema tests can check upstream files in full.
pub(crate) fn load_with(
    path: &Path,
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
    check_support: bool,
    worker: Option<&WorkerUser>,
) -> Result<Loaded, ConfigError> {
    let mut root: Value = serde_yaml::from_str(text).map_err(|err| yaml_error(path, &err))?;

    let (mut overrides, env_warnings) = EnvOverrides::collect(env);
    let mut warnings: Vec<String> = env_warnings
        .into_iter()
        .map(|warning| ConfigError::new(path, warning).to_string())
        .collect();
    overrides.apply(&mut root).map_err(|err| {
        ConfigError::new(path, err.message)
            .with_key_path(&err.path)
            .with_env_var(Some(&err.var))
    })?;

    let mut cx = Ctx::new(&overrides, check_support).relative_to(path.parent());
    let decoded = decode_config(&Node::new(&root, KeyPath::root()), &mut cx);
    let place = |finding: &Finding| {
        let var = overrides.origin(&finding.path);
        let position = match var {
            Some(_) => None,
            None => locate::locate(text, &finding.path, finding.spot),
        };
        (var, position)
    };
    match decoded {
        Ok(mut config) => {
            resolve_ca_file(&mut config.http, path);
            store::resolve_paths(&mut config.store, path);
            if let Some(finding) = worker.and_then(|user| store::usable_by(&config.store, user)) {
                let (var, position) = place(&finding);
                return Err(ConfigError::new(path, finding.message)
                    .with_position(position)
                    .with_key_path(&finding.path)
                    .with_env_var(var));
            }
            let mut placed: Vec<ConfigError> = cx
                .warnings
                .iter()
                .map(|finding| {
                    let (var, position) = place(finding);
                    ConfigError::new(path, finding.message.clone())
                        .with_position(position)
                        .with_env_var(var)
                })
                .collect();
            // File order reads best; what came from the environment goes last.
            placed.sort_by_key(|w| (w.line().is_none(), w.line(), w.column()));
            warnings.extend(placed.iter().map(ConfigError::to_string));
            Ok(Loaded { config, warnings })
        }
        Err(finding) => {
            let (var, position) = place(&finding);
            Err(ConfigError::new(path, finding.message)
                .with_position(position)
                .with_key_path(&finding.path)
                .with_env_var(var))
        }
    }
}

/// A relative `http.ca_file` is relative to the YAML file, like NGINX's own file paths are to
/// nginx.conf.
fn resolve_ca_file(http: &mut HttpSettings, config_path: &Path) {
    if let (Some(file), Some(dir)) = (&http.ca_file, config_path.parent()) {
        if Path::new(file).is_relative() {
            http.ca_file = Some(dir.join(file).to_string_lossy().into_owned());
        }
    }
}

/// A YAML syntax error. Its text is libyaml's description of the problem, which quotes no
/// value (at most a duplicated key).
fn yaml_error(path: &Path, err: &serde_yaml::Error) -> ConfigError {
    let position = err.location().map(|at| (at.line(), at.column()));
    let mut message = err.to_string();
    if let Some((line, column)) = position {
        message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
    }
    ConfigError::new(path, format!("invalid YAML: {message}")).with_position(position)
}

fn decode_config(root: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Config> {
    if root.is_null() {
        return Err(root.error("the configuration is empty"));
    }
    let mut f = root.mapping()?;
    let version = settings::decode_version(&f.required("version")?, cx)?;

    let (server, bind_address, metrics) = match version {
        SchemaVersion::V1 => match f.optional("bind_address") {
            Some(node) => {
                let (address, server) = settings::decode_bind_address(&node, cx)?;
                (Some(server), Some(address), None)
            }
            None => (None, None, None),
        },
        SchemaVersion::V2 => {
            let server = f.optional("server");
            let metrics = f.optional("metrics");
            (
                server
                    .map(|n| settings::decode_server(&n, cx))
                    .transpose()?,
                None,
                metrics
                    .map(|n| settings::decode_metrics(&n, cx))
                    .transpose()?,
            )
        }
    };

    let auth = match f.optional("auth") {
        Some(node) => settings::decode_auth(&node, cx)?,
        None => AuthSettings::default(),
    };
    let jwt = settings::decode_jwt(&f.required("jwt")?, cx)?;
    let include_legacy_headers = match f.optional("include_legacy_headers") {
        Some(node) => node.boolean()?,
        None => false,
    };
    let logging = match f.optional("logging") {
        Some(node) => Some(settings::decode_logging(&node, cx)?),
        None => None,
    };
    let store = match f.optional("store") {
        Some(node) => Some(store::decode_store(&node, cx)?),
        None => None,
    };
    let services = match f.optional("services") {
        Some(node) => settings::decode_services(&node, cx)?,
        None => Vec::new(),
    };
    let providers = providers::decode_list(&f.required("providers")?, cx)?;
    let augmenters = match f.optional("augmenters") {
        Some(node) => augmenters::decode_list(&node, cx)?,
        None => Vec::new(),
    };
    crosscheck::warn(&providers, &augmenters, cx);
    let cache = match f.optional("cache") {
        Some(node) => settings::decode_cache(&node, cx)?,
        None => CacheSettings::default(),
    };
    let http = match f.optional("http") {
        Some(node) => remote::decode_http(&node, cx)?,
        None => HttpSettings::default(),
    };
    let resource_metadata = f
        .optional("resource_metadata")
        .map(|node| resource_metadata::decode_resource_metadata(&node, cx))
        .transpose()?;
    let guard = match f.optional("guard") {
        Some(node) => guard::decode_guard(&node, cx)?,
        None => GuardSettings::default(),
    };
    f.finish(cx);

    Ok(Config {
        version,
        server,
        bind_address,
        metrics,
        auth,
        jwt,
        include_legacy_headers,
        logging,
        store,
        services,
        providers,
        augmenters,
        cache,
        http,
        resource_metadata,
        guard,
    })
}
