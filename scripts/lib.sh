# shellcheck shell=bash
# Helpers shared by scripts/test, scripts/demo, scripts/bench and the Perl test harness.
# Source it (". scripts/lib.sh"); it only defines things and never exits the caller's shell.

AUTHOTRON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What building the module needs (bindgen reads NGINX headers through libclang; the vendored
# NGINX build needs the PCRE2, zlib and OpenSSL headers) and what running the suite needs.
# shellcheck disable=SC2034  # both lists are used by the scripts that source this file
BUILD_PACKAGES=(gcc make pkg-config libclang-dev libpcre2-dev zlib1g-dev libssl-dev libsqlite3-dev)
# openssl: the suite makes a CA and server certificates for the HTTPS identity-service tests.
# slapd, ldap-utils: a real directory for the LDAP augmenter tests. postgresql, sqlite3: real
# token-store databases. wrk: the sustained load that t/260-reload-under-load.t reloads under.
# shellcheck disable=SC2034
TEST_PACKAGES=(perl python3 libtest-base-perl libcrypt-jwt-perl openssl slapd ldap-utils postgresql sqlite3 wrk)
# dpkg-dev: dpkg-shlibdeps, for the package's library dependencies; binutils: strip.
# shellcheck disable=SC2034
PACKAGE_PACKAGES=(dpkg-dev binutils)
# valgrind: memcheck for scripts/memcheck, callgrind for scripts/profile.
# shellcheck disable=SC2034
VALGRIND_PACKAGES=(valgrind)

# Installs the given Debian packages that are not installed yet; a no-op when all are, so that
# reruns do not touch apt at all.
apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]} (install them, or run this as root)" >&2
        return 1
    fi
    echo "==> apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# Where cargo builds: $CARGO_TARGET_DIR when set (cargo honours it, so the scripts that build must
# look there too, or they would run an older build from target/), else target/.
target_dir() {
    echo "${CARGO_TARGET_DIR:-$AUTHOTRON_ROOT/target}"
}

# The NGINX binary the module is built for: $TEST_NGINX_BINARY, else the newest vendored build.
nginx_binary() {
    if [ -n "${TEST_NGINX_BINARY:-}" ]; then
        echo "$TEST_NGINX_BINARY"
        return 0
    fi
    local newest
    # shellcheck disable=SC2012  # our own build paths; ls -t is the simple way to get the newest
    newest=$(ls -t "$(target_dir)"/release/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n 1)
    if [ -z "$newest" ]; then
        echo "no vendored NGINX under $(target_dir)/release/build/; run: cargo build --release" >&2
        return 1
    fi
    echo "$newest"
}

# The module to load: $TEST_NGINX_MODULE, else the release build.
module_path() {
    echo "${TEST_NGINX_MODULE:-$(target_dir)/release/libngx_http_authotron_module.so}"
}

# Points the suite in t/ at the NGINX binary and the module built here, and says which.
export_suite_env() {
    TEST_NGINX_BINARY=$(nginx_binary)
    TEST_NGINX_MODULE=$(module_path)
    export TEST_NGINX_BINARY TEST_NGINX_MODULE
    echo "==> nginx: $TEST_NGINX_BINARY, module: $TEST_NGINX_MODULE"
}

# Prints a loopback TCP port that was free a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds (default 10) for something to accept on 127.0.0.1:$1.
wait_for_port() {
    local port=$1 deadline=$((SECONDS + ${2:-10}))
    while [ "$SECONDS" -lt "$deadline" ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing is listening on 127.0.0.1:$port" >&2
    return 1
}

# Starts scripts/mock-idp in the background with the given arguments, its output and errors in
# DIR, and waits until it listens. Sets MOCK_IDP_PID, MOCK_IDP_PORT (the identity service) and
# MOCK_IDP_CONTROL_PORT (its control API). Call it directly, not in a $(...) subshell, so that
# the mock stays a child of the caller, which stops it.
start_mock_idp() { # dir [mock-idp arguments...]
    local dir=$1 deadline=$((SECONDS + 10))
    shift
    python3 "$AUTHOTRON_ROOT/scripts/mock-idp" "$@" >"$dir/idp.out" 2>"$dir/idp.err" &
    MOCK_IDP_PID=$!
    until [ -s "$dir/idp.out" ]; do
        if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$MOCK_IDP_PID" 2>/dev/null; then
            echo "scripts/mock-idp did not start:" >&2
            cat "$dir/idp.err" >&2
            return 1
        fi
        sleep 0.1
    done
    # shellcheck disable=SC2034  # both are for the caller
    read -r MOCK_IDP_PORT MOCK_IDP_CONTROL_PORT < <(python3 -c \
        'import json, sys; p = json.load(open(sys.argv[1])); print(p["http"], p["control"])' "$dir/idp.out")
}

# Prints a new store token, made through the token API of the NGINX on 127.0.0.1:PORT (its
# /token location) for a Basic user.
new_store_token() { # port user:password
    curl -sf -u "$2" -X POST "http://127.0.0.1:$1/token" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# --- the module for Debian's own NGINX package ---------------------------------------------------
# Debian's nginx refuses modules built for another version or feature set, so the module is built
# against the configured sources that nginx-dev ships, with Debian's configure flags. That build
# lives in its own cargo target dir, so it never replaces the vendored one in release/.

debian_nginx_dir() {
    echo "$(target_dir)/debian-nginx"
}

# The module built by build_debian_module.
debian_module_path() {
    echo "$(debian_nginx_dir)/cargo/release/libngx_http_authotron_module.so"
}

# The installed Debian nginx package's version ("1.22.1-9+deb12u12").
debian_nginx_version() {
    dpkg-query -W -f='${Version}' nginx
}

# Installs nginx and nginx-dev when missing. Without systemd, apt's postinst starts the stock
# nginx on port 80 right away; a server nobody asked for must not keep running, so one started by
# this install is stopped again.
install_debian_nginx() {
    local had_nginx=1
    dpkg -s nginx 2>/dev/null | grep -q '^Status: install ok installed' || had_nginx=0
    apt_install_missing nginx nginx-dev
    [ "$had_nginx" -eq 1 ] && return 0
    stop_stock_nginx
}

# Stops the NGINX whose master wrote /run/nginx.pid (the pid path Debian's nginx is built with),
# and waits until it is gone. A no-op when none runs.
stop_stock_nginx() {
    local pid deadline=$((SECONDS + 20))
    pid=$(cat /run/nginx.pid 2>/dev/null) || return 0
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    echo "==> stopping the stock nginx (pid $pid)"
    /usr/sbin/nginx -s quit 2>/dev/null || kill -QUIT "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "the stock nginx (pid $pid) did not exit within 20 s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Copies nginx-dev's sources under debian_nginx_dir and runs ./configure there with Debian's flags
# (conf_flags) plus -fPIC; bindgen only needs the configured headers, not a built NGINX. Done again
# only when the nginx-dev version changes, so that a rerun leaves the tree, and cargo's view of
# it, untouched.
prepare_debian_nginx_source() {
    local src
    src="$(debian_nginx_dir)/nginx-src"
    local stamp="$src/.configured-for" version
    version=$(dpkg-query -W -f='${Version}' nginx-dev)
    if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] && [ -f "$src/objs/ngx_auto_config.h" ]; then
        return 0
    fi
    echo "==> configuring nginx-dev $version sources in $src"
    rm -rf "$src"
    mkdir -p "$(debian_nginx_dir)"
    cp -r /usr/share/nginx/src "$src"
    (
        cd "$src"
        # shellcheck disable=SC1091  # conf_flags is nginx-dev's, read at run time
        . ./conf_flags
        ./configure "${NGX_CONF_FLAGS[@]}" --with-cc-opt=-fPIC --with-ld-opt=-fPIC --builddir="$src/objs" >"$src/configure.log"
    ) || {
        echo "./configure failed; its output is in $src/configure.log" >&2
        return 1
    }
    echo "$version" >"$stamp"
}

# Builds the module for the installed Debian nginx (installing nginx and nginx-dev if missing);
# prints where it is with debian_module_path. A rerun with nothing changed only asks cargo.
build_debian_module() {
    apt_install_missing "${BUILD_PACKAGES[@]}"
    install_debian_nginx
    prepare_debian_nginx_source
    local src
    src="$(debian_nginx_dir)/nginx-src"
    echo "==> cargo build --release for Debian's nginx $(debian_nginx_version)"
    CARGO_TARGET_DIR="$(debian_nginx_dir)/cargo" NGINX_SOURCE_DIR="$src" NGINX_BUILD_DIR="$src/objs" \
        cargo build --manifest-path "$AUTHOTRON_ROOT/Cargo.toml" --release --no-default-features \
        --features export-modules
}

# The Debian package's version: the crate's, from the [package] table that opens Cargo.toml.
debian_package_version() {
    local version
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$AUTHOTRON_ROOT/Cargo.toml" | head -n 1)
    if [ -z "$version" ]; then
        echo "no version in $AUTHOTRON_ROOT/Cargo.toml" >&2
        return 1
    fi
    echo "$version"
}

# The file name scripts/package writes under $(target_dir)/package/.
debian_package_file() {
    echo "libnginx-mod-http-authotron_$(debian_package_version)_amd64.deb"
}

# Who the package names as its maintainer: DEBFULLNAME and DEBEMAIL, as Debian's own tools read
# them, else a placeholder.
package_maintainer() {
    echo "${DEBFULLNAME:-authotron maintainers} <${DEBEMAIL:-authotron@localhost}>"
}
