//! The `authotron_*` directives, their configuration structs, and the checks `nginx -t` runs.

use std::ffi::{c_char, c_void, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::Arc;

use ngx::core::NGX_CONF_ERROR;
use ngx::ffi::{
    ngx_command_t, ngx_conf_full_name, ngx_conf_set_flag_slot, ngx_conf_t, ngx_flag_t,
    ngx_parse_size, ngx_str_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_NOARGS, NGX_CONF_TAKE1,
    NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET,
    NGX_HTTP_SRV_CONF, NGX_LOG_EMERG, NGX_LOG_WARN, NGX_OK,
};
use ngx::http::{
    HttpModuleLocationConf, HttpModuleMainConf, Merge, MergeConfigError, NgxHttpCoreModule,
};
use ngx::{ngx_conf_log_error, ngx_log_error, ngx_string};

use super::handlers;
use super::metrics;
use super::module::Module;
use super::panic_guard::guard_conf;
use super::published::{self, Document};
use crate::auth::Authenticator;
use crate::config;

const NGX_CONF_UNSET: ngx_flag_t = -1;
const IS_DUPLICATE: *mut c_char = c"is duplicate".as_ptr().cast_mut();

#[derive(Default)]
pub struct MainConf {
    pub authenticator: Option<Arc<Authenticator>>,
    /// `authotron_metrics_zone`: the size of the shared metrics zone, if not the default.
    pub metrics_zone: Option<usize>,
}

/// Which content handler, if any, a location runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    None,
    Authenticate,
    Whoami,
    Tokens,
}

/// A directive value and where it was written, for errors found after parsing.
#[derive(Clone)]
pub struct Located<T> {
    pub value: T,
    pub origin: String,
}

pub struct LocConf {
    /// A document served without authentication (`authotron_providers`, …), if any.
    pub document: Option<Document>,
    pub gate: ngx_flag_t,
    pub legacy_headers: ngx_flag_t,
    pub endpoint: Endpoint,
    pub realm: Option<Located<String>>,
    pub required_roles: Option<Vec<String>>,
    pub header: Option<String>,
    /// Where the first directive that needs `authotron_config` was written.
    pub origin: Option<String>,
}

impl Default for LocConf {
    fn default() -> Self {
        LocConf {
            document: None,
            gate: NGX_CONF_UNSET,
            legacy_headers: NGX_CONF_UNSET,
            endpoint: Endpoint::None,
            realm: None,
            required_roles: None,
            header: None,
            origin: None,
        }
    }
}

impl LocConf {
    /// Whether requests of this location go through authentication.
    pub fn is_active(&self) -> bool {
        self.gate == 1 || self.endpoint != Endpoint::None
    }

    pub fn realm(&self) -> Option<&str> {
        self.realm.as_ref().map(|r| r.value.as_str())
    }

    pub fn required_roles(&self) -> &[String] {
        self.required_roles.as_deref().unwrap_or_default()
    }

    pub fn header(&self) -> &str {
        self.header.as_deref().unwrap_or("Authorization")
    }

    pub fn legacy_headers(&self) -> bool {
        self.legacy_headers == 1
    }
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &Self) -> Result<(), MergeConfigError> {
        if self.gate == NGX_CONF_UNSET {
            self.gate = prev.gate;
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
        if self.header.is_none() {
            self.header = prev.header.clone();
        }
        if self.origin.is_none() {
            self.origin = prev.origin.clone();
        }
        Ok(())
    }
}

/// Inherits settings, then checks what can only be checked once `authotron_config` is known.
pub unsafe fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut LocConf,
    conf: *mut LocConf,
) -> *mut c_char {
    let (prev, conf) = (&*prev, &mut *conf);
    if conf.merge(prev).is_err() {
        return NGX_CONF_ERROR;
    }
    let authenticator = Module::main_conf(&*cf).and_then(|m| m.authenticator.as_ref());
    if conf.legacy_headers == NGX_CONF_UNSET {
        conf.legacy_headers = authenticator.is_some_and(|a| a.legacy_headers).into();
    }
    if conf.gate == NGX_CONF_UNSET {
        conf.gate = 0;
    }
    if !conf.is_active() && conf.document.is_none() {
        return ptr::null_mut();
    }
    let Some(authenticator) = authenticator else {
        let origin = conf.origin.as_deref().unwrap_or("the configuration");
        ngx_log_error!(
            NGX_LOG_EMERG,
            (*cf).log,
            "authotron is used but \"authotron_config\" is not set in http{{}} in {origin}"
        );
        return NGX_CONF_ERROR;
    };
    if conf.endpoint == Endpoint::Tokens && !authenticator.has_store() {
        let origin = conf.origin.as_deref().unwrap_or("the configuration");
        ngx_log_error!(
            NGX_LOG_EMERG,
            (*cf).log,
            "\"authotron_tokens\" needs \"store: {{enabled: true}}\" in the authotron_config file in {origin}"
        );
        return NGX_CONF_ERROR;
    }
    if let Some(realm) = &conf.realm {
        if !authenticator.has_realm(&realm.value) {
            ngx_log_error!(
                NGX_LOG_EMERG,
                (*cf).log,
                "\"authotron_realm\" \"{}\" matches no provider in the authotron_config file in {}",
                realm.value,
                realm.origin
            );
            return NGX_CONF_ERROR;
        }
    }
    ptr::null_mut()
}

fn origin(cf: *mut ngx_conf_t) -> String {
    // SAFETY: NGINX passes a valid cf with the file being parsed while it calls directive handlers.
    unsafe {
        let file = (*cf).conf_file;
        if file.is_null() {
            return "the configuration".to_owned();
        }
        format!(
            "{}:{}",
            String::from_utf8_lossy((*file).file.name.as_bytes()),
            (*file).line
        )
    }
}

/// The directive's arguments after its name.
unsafe fn arguments<'a>(cf: *mut ngx_conf_t) -> &'a [ngx_str_t] {
    let all = (*(*cf).args).as_slice::<ngx_str_t>();
    &all[1..]
}

fn argument_text(arg: &ngx_str_t) -> Option<String> {
    std::str::from_utf8(arg.as_bytes()).ok().map(str::to_owned)
}

extern "C" fn set_config(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls this with our main conf (NGX_HTTP_MAIN_CONF_OFFSET) during parsing.
    guard_conf(|| unsafe {
        let main = &mut *(conf as *mut MainConf);
        if main.authenticator.is_some() {
            return IS_DUPLICATE;
        }
        let mut name = arguments(cf)[0];
        if ngx_conf_full_name((*cf).cycle, &mut name, 1) != NGX_OK as isize {
            return NGX_CONF_ERROR;
        }
        let path = Path::new(OsStr::from_bytes(name.as_bytes()));
        let loaded = match config::load_file(path) {
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

extern "C" fn set_switch(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls this with our loc conf and the command whose offset names a flag field.
    guard_conf(|| unsafe {
        let rv = ngx_conf_set_flag_slot(cf, cmd, conf);
        let loc = &mut *(conf as *mut LocConf);
        if rv.is_null() && loc.origin.is_none() && loc.gate == 1 {
            loc.origin = Some(origin(cf));
        }
        rv
    })
}

extern "C" fn set_realm(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls this with our loc conf during parsing.
    guard_conf(|| unsafe {
        let loc = &mut *(conf as *mut LocConf);
        if loc.realm.is_some() {
            return IS_DUPLICATE;
        }
        let realm = argument_text(&arguments(cf)[0]).unwrap_or_default();
        if realm.is_empty()
            || realm
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "invalid realm in \"authotron_realm\": it must be non-empty text without quotes, backslashes or control characters"
            );
            return NGX_CONF_ERROR;
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
    // SAFETY: NGINX calls this with our loc conf during parsing.
    guard_conf(|| unsafe {
        let loc = &mut *(conf as *mut LocConf);
        if loc.required_roles.is_some() {
            return IS_DUPLICATE;
        }
        let mut roles = Vec::new();
        for arg in arguments(cf) {
            match argument_text(arg) {
                Some(role) if !role.is_empty() => roles.push(role),
                _ => {
                    ngx_conf_log_error!(
                        NGX_LOG_EMERG,
                        cf,
                        "invalid role in \"authotron_require_role\": roles are non-empty UTF-8 text"
                    );
                    return NGX_CONF_ERROR;
                }
            }
        }
        loc.required_roles = Some(roles);
        ptr::null_mut()
    })
}

/// Headers NGINX or HTTP framing rely on; overwriting them would break the upstream request.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "expect",
    "trailer",
    "cookie",
    "x-auth-username",
    "x-auth-realm",
    "x-auth-roles",
];

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

extern "C" fn set_header(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls this with our loc conf during parsing.
    guard_conf(|| unsafe {
        let loc = &mut *(conf as *mut LocConf);
        if loc.header.is_some() {
            return IS_DUPLICATE;
        }
        let name = argument_text(&arguments(cf)[0]).unwrap_or_default();
        if !is_token(&name) {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "invalid header name \"{}\" in \"authotron_header\"",
                name.escape_debug()
            );
            return NGX_CONF_ERROR;
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"authotron_header\" cannot be \"{name}\": that header is reserved"
            );
            return NGX_CONF_ERROR;
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

/// Installs a content handler of ours. A location has at most one: a second one, of either
/// kind, is a duplicate rather than silently replacing the first.
unsafe fn set_content(cf: *mut ngx_conf_t, conf: *mut c_void, content: Content) -> *mut c_char {
    let loc = &mut *(conf as *mut LocConf);
    if loc.endpoint != Endpoint::None || loc.document.is_some() {
        return IS_DUPLICATE;
    }
    let Some(core) = NgxHttpCoreModule::location_conf_mut(&*cf) else {
        return NGX_CONF_ERROR;
    };
    core.handler = Some(match content {
        Content::Endpoint(endpoint) => {
            loc.endpoint = endpoint;
            match endpoint {
                Endpoint::Whoami => handlers::whoami,
                Endpoint::Tokens => handlers::tokens,
                _ => handlers::authenticate,
            }
        }
        Content::Document(document) => {
            loc.document = Some(document);
            published::handler(document)
        }
    });
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
            // SAFETY: NGINX calls this with our loc conf during parsing.
            guard_conf(|| unsafe { set_content(cf, conf, $content) })
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

extern "C" fn set_metrics_zone(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls this with our main conf during parsing.
    guard_conf(|| unsafe {
        let main = &mut *(conf as *mut MainConf);
        if main.metrics_zone.is_some() {
            return IS_DUPLICATE;
        }
        let mut value = arguments(cf)[0];
        let size = ngx_parse_size(&mut value);
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

pub static mut COMMANDS: [ngx_command_t; 15] = [
    command(
        ngx_string!("authotron_config"),
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        set_config,
        NGX_HTTP_MAIN_CONF_OFFSET,
        0,
    ),
    command(
        ngx_string!("authotron"),
        ANY_LEVEL | NGX_CONF_FLAG,
        set_switch,
        NGX_HTTP_LOC_CONF_OFFSET,
        std::mem::offset_of!(LocConf, gate),
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
        ngx_string!("authotron_metrics_zone"),
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        set_metrics_zone,
        NGX_HTTP_MAIN_CONF_OFFSET,
        0,
    ),
    ngx_command_t::empty(),
];
