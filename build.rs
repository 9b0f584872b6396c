//! Turns what nginx-sys learned about the NGINX it built against into cfg flags for this crate.
//!
//! nginx-sys only passes its `DEP_NGINX_*` metadata to crates that depend on it directly, which is
//! why Cargo.toml names it beside `ngx`.

use std::env;

fn main() {
    for var in [
        "DEP_NGINX_FEATURES",
        "DEP_NGINX_FEATURES_CHECK",
        "DEP_NGINX_OS",
        "DEP_NGINX_OS_CHECK",
        "DEP_NGINX_VERSION_NUMBER",
        "DEP_NGINX_BUILD_DIR",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }

    let allowed = |var: &str| env::var(var).unwrap_or_else(|_| "any()".to_owned());
    println!(
        "cargo::rustc-check-cfg=cfg(ngx_feature, values({}))",
        allowed("DEP_NGINX_FEATURES_CHECK")
    );
    println!(
        "cargo::rustc-check-cfg=cfg(ngx_os, values({}))",
        allowed("DEP_NGINX_OS_CHECK")
    );
    if let Ok(features) = env::var("DEP_NGINX_FEATURES") {
        for feature in features.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            println!("cargo::rustc-cfg=ngx_feature=\"{feature}\"");
        }
    }
    if let Ok(os) = env::var("DEP_NGINX_OS") {
        println!("cargo::rustc-cfg=ngx_os=\"{os}\"");
    }

    // NGINX 1.23 chained repeated headers through `ngx_table_elt_t.next`; 1.22 has no such field,
    // and a header we push must set it when it exists (list memory is not zeroed).
    println!("cargo::rustc-check-cfg=cfg(ngx_table_elt_next)");
    let version: u64 = env::var("DEP_NGINX_VERSION_NUMBER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if version >= 1_023_000 {
        println!("cargo::rustc-cfg=ngx_table_elt_next");
    }

    // Lets scripts and tests find the NGINX binary this module was built for.
    if let Ok(dir) = env::var("DEP_NGINX_BUILD_DIR") {
        println!("cargo::rustc-env=DEP_NGINX_BUILD_DIR={dir}");
    }

    // Our tokio threads may still be parked when NGINX unloads modules at exit; keeping the
    // object mapped makes that harmless.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
