//! The `authotron_*` directives, their configuration structs, and the checks `nginx -t` runs.

use std::cell::Cell;
use std::ffi::{c_char, c_void, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::Arc;

use ngx::core::NGX_CONF_ERROR;
use ngx::ffi::{
    ngx_command_t, ngx_conf_full_name, ngx_conf_set_flag_slot, ngx_conf_t, ngx_flag_t, ngx_int_t,
    ngx_parse_size, ngx_str_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_NOARGS, NGX_CONF_TAKE1,
    NGX_ERROR, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF,
    NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_SRV_CONF, NGX_LOG_EMERG, NGX_LOG_WARN, NGX_OK,
};
use ngx::http::{
    HttpModuleLocationConf, HttpModuleMainConf, Merge, MergeConfigError, NgxHttpCoreModule,
};
use ngx::{ngx_conf_log_error, ngx_log_error, ngx_string};

use super::content;
use super::metrics;
use super::module::Module;
use super::panic_guard::guard_conf;
use super::process;
use super::requirements::{ComplexValue, RequireDirective};
use crate::auth::policy::{self, Endpoint, Policy};
use crate::auth::requirement::{self, Requirement};
use crate::auth::{Authenticator, Document};
use crate::config;

const NGX_CONF_UNSET: ngx_flag_t = -1;
/// `authotron shadow`, beside NGINX's 0 and 1 for off and on.
pub const SHADOW: ngx_flag_t = 2;
const IS_DUPLICATE: *mut c_char = c"is duplicate".as_ptr().cast_mut();

#[derive(Default)]
pub struct MainConf {
    pub authenticator: Option<Arc<Authenticator>>,
    /// `authotron_metrics_zone`: the size of the shared metrics zone, if not the default.
    pub metrics_zone: Option<usize>,
    /// `authotron_config` was read by a process that does not load the YAML (`nginx -s`):
    /// nothing that needs it is checked.
    pub yaml_skipped: bool,
    /// Every `authotron_require_scope` and `authotron_require` written, for the check that
    /// some location where authotron is on inherits each.
    pub sites: Vec<Site>,
}

/// Where an authorization directive was written, and whether a location that authenticates
/// uses it.
pub struct Site {
    pub directive: &'static str,
    pub origin: String,
    pub used: Cell<bool>,
}

/// A directive value and where it was written, for errors found after parsing.
#[derive(Clone)]
pub struct Located<T> {
    pub value: T,
    pub origin: String,
}

/// The directives of one location as written; `policy` is what requests are decided against.
pub struct LocConf {
    /// A document served without authentication (`authotron_providers`, …), if any.
    pub document: Option<Document>,
    /// `authotron on|off|shadow`: 1, 0 or [`SHADOW`].
    pub enabled: ngx_flag_t,
    pub legacy_headers: ngx_flag_t,
    pub endpoint: Option<Endpoint>,
    pub realm: Option<Located<String>>,
    pub required_roles: Option<Vec<String>>,
    /// `authotron_require_scope`, and its entry in `MainConf::sites`.
    pub required_scopes: Option<(Vec<String>, usize)>,
    /// `authotron_require`, in the order written; inherited as a whole list.
    pub requirements: Option<Vec<RequireDirective>>,
    pub header: Option<String>,
    /// Where the first directive that needs `authotron_config` was written.
    pub origin: Option<String>,
    /// Built from the merged directives once `authotron_config` is known.
    pub policy: Arc<Policy>,
    /// The content handler our directive installed, if any; never inherited.
    pub content_handler: Option<content::Handler>,
}

impl Default for LocConf {
    fn default() -> Self {
        LocConf {
            document: None,
            enabled: NGX_CONF_UNSET,
            legacy_headers: NGX_CONF_UNSET,
            endpoint: None,
            realm: None,
            required_roles: None,
            required_scopes: None,
            requirements: None,
            header: None,
            origin: None,
            policy: Arc::default(),
            content_handler: None,
        }
    }
}

impl LocConf {
    /// Whether requests of this location go through authentication.
    pub fn authenticates(&self) -> bool {
        self.enabled == 1 || self.enabled == SHADOW || self.endpoint.is_some()
    }

    fn origin(&self) -> &str {
        self.origin.as_deref().unwrap_or("the configuration")
    }
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &Self) -> Result<(), MergeConfigError> {
        if self.enabled == NGX_CONF_UNSET {
            self.enabled = prev.enabled;
        }
        if self.legacy_headers == NGX_CONF_UNSET {
            self.legacy_headers = prev.legacy_headers;
        }
        if self.realm.is_none() {
            self.realm = prev.realm.clone();
        }
        if self.required_roles.is_none() {
            self.required_roles = prev.required_roles.clone();
        }
        if self.required_scopes.is_none() {
            self.required_scopes = prev.required_scopes.clone();
        }
        if self.requirements.is_none() {
            self.requirements = prev.requirements.clone();
        }
        if self.header.is_none() {
            self.header = prev.header.clone();
        }
        if self.origin.is_none() {
            self.origin = prev.origin.clone();
        }
        Ok(())
    }
}

/// Inherits settings, builds the policy, then checks what can only be checked once
/// `authotron_config` is known.
pub fn merge_loc_conf(cf: &ngx_conf_t, prev: &LocConf, conf: &mut LocConf) -> *mut c_char {
    if conf.merge(prev).is_err() {
        return NGX_CONF_ERROR;
    }
    let main = Module::main_conf(cf);
    let authenticator = main.and_then(|m| m.authenticator.as_ref());
    if conf.legacy_headers == NGX_CONF_UNSET {
        conf.legacy_headers = authenticator.is_some_and(|a| a.legacy_headers).into();
    }
    if conf.enabled == NGX_CONF_UNSET {
        conf.enabled = 0;
    }
    let requirements = conf.requirements.as_deref().unwrap_or_default();
    conf.policy = Arc::new(Policy {
        realm: conf.realm.as_ref().map(|r| r.value.clone()),
        required_roles: conf.required_roles.clone().unwrap_or_default(),
        required_scopes: conf
            .required_scopes
            .as_ref()
            .map(|(scopes, _)| scopes.clone())
            .unwrap_or_default(),
        requirements: requirements
            .iter()
            .map(|d| Requirement {
                values: d.values.len(),
                error: d.error,
            })
            .collect(),
        header: Arc::from(conf.header.as_deref().unwrap_or(policy::AUTHORIZATION)),
        legacy_headers: conf.legacy_headers == 1,
        endpoint: conf.endpoint,
        // An endpoint answers itself, whatever `authotron` says.
        shadow: conf.enabled == SHADOW && conf.endpoint.is_none(),
    });
    if conf.authenticates() {
        mark_used(main, conf);
    }
    if conf.endpoint == Some(Endpoint::Tokens) {
        if let Some(first) = requirements.first() {
            let origin = main.and_then(|m| m.sites.get(first.site));
            ngx_log_error!(
                NGX_LOG_EMERG,
                cf.log,
                "\"authotron_require\" cannot apply to \"authotron_tokens\", which carries out its request before NGINX can evaluate the values, in {}",
                origin.map_or("the configuration", |s| s.origin.as_str())
            );
            return NGX_CONF_ERROR;
        }
    }
    let yaml_skipped = main.is_some_and(|m| m.yaml_skipped);
    if yaml_skipped || (!conf.authenticates() && conf.document.is_none()) {
        return ptr::null_mut();
    }
    if let Some(ours) = conf.content_handler {
        let core = NgxHttpCoreModule::location_conf(cf);
        if !core
            .and_then(|c| c.handler)
            .is_some_and(|h| std::ptr::fn_addr_eq(h, ours))
        {
            ngx_log_error!(
                NGX_LOG_EMERG,
                cf.log,
                "{SHARED_CONTENT} in {}",
                conf.origin()
            );
            return NGX_CONF_ERROR;
        }
    }
    let Some(authenticator) = authenticator else {
        ngx_log_error!(
            NGX_LOG_EMERG,
            cf.log,
            "authotron is used but \"authotron_config\" is not set in http{{}} in {}",
            conf.origin()
        );
        return NGX_CONF_ERROR;
    };
    if let Err(e) = conf.document.map_or(Ok(()), |d| d.check(authenticator)) {
        ngx_log_error!(NGX_LOG_EMERG, cf.log, "{e} in {}", conf.origin());
        return NGX_CONF_ERROR;
    }
    let checked = conf
        .policy
        .check_store(authenticator)
        .map_err(|e| (e, conf.origin()))
        .and_then(|()| {
            let realm_origin = conf.realm.as_ref().map_or("", |r| r.origin.as_str());
            conf.policy
                .check_realm_known(authenticator)
                .map_err(|e| (e, realm_origin))
        });
    if let Err((e, origin)) = checked {
        ngx_log_error!(NGX_LOG_EMERG, cf.log, "{e} in {origin}");
        return NGX_CONF_ERROR;
    }
    ptr::null_mut()
}

/// Notes that a location where authotron is on uses the authorization directives it has.
fn mark_used(main: Option<&MainConf>, conf: &LocConf) {
    let Some(main) = main else { return };
    let scopes = conf.required_scopes.iter().map(|(_, site)| *site);
    let requirements = conf.requirements.iter().flatten().map(|d| d.site);
    for site in scopes.chain(requirements) {
        if let Some(site) = main.sites.get(site) {
            site.used.set(true);
        }
    }
}

/// At postconfiguration, once every location is merged: an authorization directive that no
/// location where authotron is on inherits would never be checked, so it is refused rather than
/// silently protecting nothing.
pub fn check_sites(cf: &mut ngx_conf_t) -> ngx_int_t {
    let unused = Module::main_conf(cf).and_then(|m| m.sites.iter().find(|s| !s.used.get()));
    if let Some(site) = unused {
        ngx_log_error!(
            NGX_LOG_EMERG,
            cf.log,
            "\"{}\" has no effect: no location where \"authotron\" is on or shadow uses it, in {}",
            site.directive,
            site.origin
        );
        return NGX_ERROR as ngx_int_t;
    }
    NGX_OK as ngx_int_t
}

/// Runs a directive handler on references to what NGINX passes: the configuration being
/// parsed and our conf struct of the level the command's `conf` offset names.
fn directive<C>(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    handle: impl FnOnce(&mut ngx_conf_t, &mut C) -> *mut c_char,
) -> *mut c_char {
    guard_conf(|| {
        // SAFETY: NGINX calls directive handlers with its live cf and, for each command, the
        // conf struct at the command's offset: `C` is the type `COMMANDS` pairs with it.
        let (cf, conf) = unsafe { (&mut *cf, &mut *conf.cast::<C>()) };
        handle(cf, conf)
    })
}

/// `file:line` of the directive being parsed.
fn origin(cf: &ngx_conf_t) -> String {
    // SAFETY: while a directive is parsed, `conf_file` is null or the file being read.
    match unsafe { cf.conf_file.as_ref() } {
        Some(file) => format!(
            "{}:{}",
            String::from_utf8_lossy(file.file.name.as_bytes()),
            file.line
        ),
        None => "the configuration".to_owned(),
    }
}

/// The directive's arguments after its name.
fn arguments(cf: &ngx_conf_t) -> &[ngx_str_t] {
    // SAFETY: while a directive is parsed, `args` is an array of its words, name first; NGINX
    // checked the count against the command's type.
    let all = unsafe { (*cf.args).as_slice::<ngx_str_t>() };
    &all[1..]
}

fn argument_text(arg: &ngx_str_t) -> Option<String> {
    std::str::from_utf8(arg.as_bytes()).ok().map(str::to_owned)
}

/// The directive's arguments as text, each passing the core's `check`; `not_text` when one is
/// not UTF-8.
fn checked_words(
    cf: &ngx_conf_t,
    not_text: &str,
    check: fn(&str) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    arguments(cf)
        .iter()
        .map(|arg| {
            let word = argument_text(arg).ok_or_else(|| not_text.to_owned())?;
            check(&word).map(|()| word)
        })
        .collect()
}

/// Refuses a directive with the core's reason, at its line.
fn refuse(cf: &mut ngx_conf_t, directive: &str, reason: &str) -> *mut c_char {
    ngx_conf_log_error!(NGX_LOG_EMERG, cf, "invalid \"{directive}\": {reason}");
    NGX_CONF_ERROR
}

extern "C" fn set_config(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, main: &mut MainConf| {
        if main.authenticator.is_some() || main.yaml_skipped {
            return IS_DUPLICATE;
        }
        if !process::conf_reader().loads_yaml() {
            main.yaml_skipped = true;
            return ptr::null_mut();
        }
        let mut name = arguments(cf)[0];
        // SAFETY: `cycle` is the cycle being configured; `name` is a local copy of the argument.
        if unsafe { ngx_conf_full_name(cf.cycle, &mut name, 1) } != NGX_OK as isize {
            return NGX_CONF_ERROR;
        }
        let path = Path::new(OsStr::from_bytes(name.as_bytes()));
        let loaded = match config::load_file(path, process::worker_user(cf).as_ref()) {
            Ok(loaded) => loaded,
            Err(e) => {
                ngx_conf_log_error!(NGX_LOG_EMERG, cf, "authotron_config: {e}");
                return NGX_CONF_ERROR;
            }
        };
        for warning in &loaded.warnings {
            ngx_conf_log_error!(
                NGX_LOG_WARN,
                cf,
                "authotron_config {}: {warning}",
                path.display()
            );
        }
        match Authenticator::new(&loaded.config) {
            Ok(authenticator) => main.authenticator = Some(Arc::new(authenticator)),
            Err(e) => {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "authotron_config {}: {e}",
                    path.display()
                );
                return NGX_CONF_ERROR;
            }
        }
        ptr::null_mut()
    })
}

/// `authotron`: on, off, or shadow.
extern "C" fn set_mode(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        if loc.enabled != NGX_CONF_UNSET {
            return IS_DUPLICATE;
        }
        let value = arguments(cf)[0].as_bytes().to_vec();
        loc.enabled = match value.to_ascii_lowercase().as_slice() {
            b"on" => 1,
            b"off" => 0,
            b"shadow" => SHADOW,
            _ => {
                let value = String::from_utf8_lossy(&value);
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "invalid value \"{value}\" in \"authotron\" directive, it must be \"on\", \"off\" or \"shadow\""
                );
                return NGX_CONF_ERROR;
            }
        };
        if loc.origin.is_none() && loc.enabled != 0 {
            loc.origin = Some(origin(cf));
        }
        ptr::null_mut()
    })
}

/// `authotron_legacy_headers`: on or off.
extern "C" fn set_switch(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        let conf = std::ptr::from_mut(loc).cast();
        // SAFETY: NGINX's own flag parser, with the arguments NGINX gave this handler.
        unsafe { ngx_conf_set_flag_slot(cf, cmd, conf) }
    })
}

extern "C" fn set_realm(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        if loc.realm.is_some() {
            return IS_DUPLICATE;
        }
        let realm = argument_text(&arguments(cf)[0]).unwrap_or_default();
        if let Err(reason) = policy::check_realm(&realm) {
            return refuse(cf, "authotron_realm", &reason);
        }
        loc.realm = Some(Located {
            value: realm,
            origin: origin(cf),
        });
        ptr::null_mut()
    })
}

extern "C" fn set_required_roles(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        if loc.required_roles.is_some() {
            return IS_DUPLICATE;
        }
        let roles = match checked_words(cf, "roles are UTF-8 text", policy::check_role) {
            Ok(roles) => roles,
            Err(reason) => return refuse(cf, "authotron_require_role", &reason),
        };
        loc.required_roles = Some(roles);
        ptr::null_mut()
    })
}

/// Remembers where an authorization directive was written; its index in `MainConf::sites`.
fn new_site(cf: &mut ngx_conf_t, directive: &'static str) -> Option<usize> {
    let origin = origin(cf);
    let main = Module::main_conf_mut(cf)?;
    main.sites.push(Site {
        directive,
        origin,
        used: Cell::new(false),
    });
    Some(main.sites.len() - 1)
}

extern "C" fn set_required_scopes(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        if loc.required_scopes.is_some() {
            return IS_DUPLICATE;
        }
        let scopes = match checked_words(cf, "scopes are ASCII text", policy::check_scope) {
            Ok(scopes) => scopes,
            Err(reason) => return refuse(cf, "authotron_require_scope", &reason),
        };
        let Some(site) = new_site(cf, "authotron_require_scope") else {
            return NGX_CONF_ERROR;
        };
        loc.required_scopes = Some((scopes, site));
        ptr::null_mut()
    })
}

/// `authotron_require <value> ... [error=401|403]`: may be written several times; every one
/// must be met.
extern "C" fn set_requirement(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        let arguments = arguments(cf).to_vec();
        let words: Vec<&[u8]> = arguments.iter().map(|a| a.as_bytes()).collect();
        let (values, error) = match requirement::parse_arguments(&words) {
            Ok((values, error)) => (values.len(), error),
            Err(reason) => return refuse(cf, "authotron_require", &reason),
        };
        let mut compiled = Vec::with_capacity(values);
        for value in &arguments[..values] {
            match ComplexValue::compile(cf, value) {
                Some(value) => compiled.push(value),
                None => return NGX_CONF_ERROR,
            }
        }
        let Some(site) = new_site(cf, "authotron_require") else {
            return NGX_CONF_ERROR;
        };
        loc.requirements
            .get_or_insert_with(Vec::new)
            .push(RequireDirective {
                values: compiled,
                error,
                site,
            });
        ptr::null_mut()
    })
}

extern "C" fn set_header(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, loc: &mut LocConf| {
        if loc.header.is_some() {
            return IS_DUPLICATE;
        }
        let name = argument_text(&arguments(cf)[0]).unwrap_or_default();
        if let Err(reason) = policy::check_output_header(&name) {
            return refuse(cf, "authotron_header", &reason);
        }
        loc.header = Some(name);
        ptr::null_mut()
    })
}

/// What a content directive makes of its location.
#[derive(Clone, Copy)]
enum Content {
    /// Authenticated first, in the access phase.
    Endpoint(Endpoint),
    /// Served without authentication.
    Document(Document),
}

/// A location runs one content handler: whichever directive comes last would silently replace
/// the other, and `proxy_pass` replacing an endpoint would open the location to anyone.
const SHARED_CONTENT: &str = "the module's content directives cannot share a location with another content handler (proxy_pass, fastcgi_pass, …)";

/// Installs a content handler of ours. A location has at most one: a second one, of either
/// kind, is a duplicate rather than silently replacing the first, and one installed by another
/// module before ours is refused (one installed after ours is found by `merge_loc_conf`).
fn set_content(cf: &mut ngx_conf_t, loc: &mut LocConf, content: Content) -> *mut c_char {
    if loc.endpoint.is_some() || loc.document.is_some() {
        return IS_DUPLICATE;
    }
    let Some(core) = NgxHttpCoreModule::location_conf_mut(cf) else {
        return NGX_CONF_ERROR;
    };
    if core.handler.is_some() {
        ngx_conf_log_error!(NGX_LOG_EMERG, cf, "{SHARED_CONTENT}");
        return NGX_CONF_ERROR;
    }
    let handler = match content {
        Content::Endpoint(endpoint) => {
            loc.endpoint = Some(endpoint);
            content::endpoint_handler(endpoint)
        }
        Content::Document(document) => {
            loc.document = Some(document);
            content::document_handler(document)
        }
    };
    core.handler = Some(handler);
    loc.content_handler = Some(handler);
    if loc.origin.is_none() {
        loc.origin = Some(origin(cf));
    }
    ptr::null_mut()
}

macro_rules! content_directive {
    ($name:ident, $content:expr) => {
        extern "C" fn $name(
            cf: *mut ngx_conf_t,
            _: *mut ngx_command_t,
            conf: *mut c_void,
        ) -> *mut c_char {
            directive(cf, conf, |cf, loc: &mut LocConf| {
                set_content(cf, loc, $content)
            })
        }
    };
}

content_directive!(set_authenticate, Content::Endpoint(Endpoint::Authenticate));
content_directive!(set_whoami, Content::Endpoint(Endpoint::Whoami));
content_directive!(set_tokens, Content::Endpoint(Endpoint::Tokens));
content_directive!(set_providers, Content::Document(Document::Providers));
content_directive!(set_augmenters, Content::Document(Document::Augmenters));
content_directive!(set_jwks, Content::Document(Document::Jwks));
content_directive!(set_metrics, Content::Document(Document::Metrics));
content_directive!(
    set_resource_metadata,
    Content::Document(Document::ResourceMetadata)
);

extern "C" fn set_metrics_zone(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, main: &mut MainConf| {
        if main.metrics_zone.is_some() {
            return IS_DUPLICATE;
        }
        let mut value = arguments(cf)[0];
        // SAFETY: NGINX's size parser reads the local copy of the argument.
        let size = unsafe { ngx_parse_size(&mut value) };
        match usize::try_from(size) {
            Ok(size) if size >= metrics::MIN_ZONE_SIZE => main.metrics_zone = Some(size),
            _ => {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "invalid size in \"authotron_metrics_zone\": at least {}k",
                    metrics::MIN_ZONE_SIZE / 1024
                );
                return NGX_CONF_ERROR;
            }
        }
        ptr::null_mut()
    })
}

const ANY_LEVEL: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

const fn command(
    name: ngx_str_t,
    type_: u32,
    set: unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char,
    conf: usize,
    offset: usize,
) -> ngx_command_t {
    ngx_command_t {
        name,
        type_: type_ as _,
        set: Some(set),
        conf,
        offset,
        post: ptr::null_mut(),
    }
}

pub static mut COMMANDS: [ngx_command_t; 18] = [
    command(
        ngx_string!("authotron_config"),
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        set_config,
        NGX_HTTP_MAIN_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron"),
        ANY_LEVEL | NGX_CONF_TAKE1,
        set_mode,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_realm"),
        ANY_LEVEL | NGX_CONF_TAKE1,
        set_realm,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_require_role"),
        ANY_LEVEL | NGX_CONF_1MORE,
        set_required_roles,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_require_scope"),
        NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
        set_required_scopes,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_require"),
        NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
        set_requirement,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_header"),
        ANY_LEVEL | NGX_CONF_TAKE1,
        set_header,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_legacy_headers"),
        ANY_LEVEL | NGX_CONF_FLAG,
        set_switch,
        NGX_HTTP_LOC_CONF_OFFSET,
        std::mem::offset_of!(LocConf, legacy_headers),
    ),
    command(
        ngx_string!("authotron_authenticate"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_authenticate,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_whoami"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_whoami,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_tokens"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_tokens,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_providers"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_providers,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_augmenters"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_augmenters,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_jwks"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_jwks,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_metrics"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_metrics,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_resource_metadata"),
        NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
        set_resource_metadata,
        NGX_HTTP_LOC_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron_metrics_zone"),
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        set_metrics_zone,
        NGX_HTTP_MAIN_CONF_OFFSET,
        0,
    ),
    ngx_command_t::empty(),
];
