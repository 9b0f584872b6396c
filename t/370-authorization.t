# Authorization beyond roles: `$authotron_scopes` and `$authotron_attribute_<name>` in headers
# and `map`s, `authotron_require_scope` (403 with the RFC 6750 insufficient_scope challenge),
# `authotron_require` on NGINX values (a `map` on an attribute, error=401, several values and
# directives), every check on cache hits, the fixed order (roles, scopes, requirements), the
# decision variables and shadow counts for each refusal, `authotron_authenticate` under
# `auth_request`, internal redirects, `satisfy any`, `error_page`, `index` and HTTP/2, and the `nginx -t`
# errors. JWTs are signed with the test keys and verified against the mock identity service's
# JWKS; Basic users come from a plain provider, with attributes from a plain_advanced augmenter
# (one of them multi-line).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;
use Test::Authotron::H2;

my $idp = idp();

our %T = (
    staff => jwt(claims => {
        sub => 'sam-1', preferred_username => 'sam', email => 'sam@ecmwf.int',
        scope => 'write read',
    }),
    outsider => jwt(claims => {
        sub => 'olga-1', preferred_username => 'olga', email => 'olga@example.com',
        scope => 'read',
    }),
);

defaults(nginx_needs => '--with-http_auth_request_module', yaml => <<'YAML', http_config => <<'HTTP', config => <<'CONF');
auth: { timeout_in_ms: 3000 }
providers:
  - type: jwt
    name: keycloak
    realm: ecmwf
    cert_uri: "%%IDP%%/jwks"
    iam_realm: ecmwf
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: ann, password: pw, roles: [user] }
augmenters:
  - type: plain_advanced
    name: details
    realm: ecmwf
    match: { username: [ann] }
    augment:
      attributes: { email: "ann@ecmwf.int", note: "first line\nX-Injected: 1" }
YAML
log_format authz '$uri $status decision=$authotron_decision reason=$authotron_reason cache=$authotron_cache';
map $authotron_attribute_email $ecmwf_staff { ~@ecmwf\.int$ 1; default 0; }
map $authotron_scopes $can_write { ~(^|\s)write(\s|$) 1; default 0; }
map $authotron_attribute_email $email_domain { ~@(?<domain>.+)$ $domain; default none; }
HTTP
access_log access.log authz;

location /vars/ {
    authotron on;
    proxy_set_header X-Email $authotron_attribute_email;
    proxy_set_header X-Scopes $authotron_scopes;
    proxy_set_header X-Domain $email_domain;
    proxy_set_header X-Can-Write $can_write;
    proxy_set_header X-Note $authotron_attribute_note;
    proxy_set_header X-Missing "[$authotron_attribute_missing]";
    add_header X-Email-Out $authotron_attribute_email;
    add_header X-Scopes-Out $authotron_scopes;
    proxy_pass http://echo;
}

location /read/ { authotron on; authotron_require_scope read; proxy_pass http://echo; }
location /read-write/ { authotron on; authotron_require_scope read write; proxy_pass http://echo; }

location /staff/ { authotron on; authotron_require $ecmwf_staff; proxy_pass http://echo; }
location /staff-401/ { authotron on; authotron_require $ecmwf_staff error=401; proxy_pass http://echo; }
# Two directives, the second with two values: every value of every one must hold.
location /staff-writer/ {
    authotron on;
    authotron_require $ecmwf_staff;
    authotron_require $can_write $http_x_ok error=403;
    proxy_set_header X-Ok "";
    proxy_pass http://echo;
}
# Inherited as a whole list by a nested location that sets none.
location /nested/ {
    authotron_require $ecmwf_staff;
    location /nested/inner/ { authotron on; proxy_pass http://echo; }
}

# The order of the checks.
location /admin-read/ {
    authotron on;
    authotron_require_role admin;
    authotron_require_scope read;
    proxy_pass http://echo;
}
location /admin-scope-staff/ {
    authotron on;
    authotron_require_scope admin;
    authotron_require $ecmwf_staff error=401;
    proxy_pass http://echo;
}

# An internal redirect: the same identity, checked against the target's requirements.
location /redirect-staff/ { authotron on; try_files /nonexistent @staff; }
location @staff { authotron on; authotron_require $ecmwf_staff; proxy_pass http://echo; }

location /shadow-staff/ { authotron shadow; authotron_require $ecmwf_staff; proxy_pass http://echo; }
location = /metrics { authotron_metrics; }

# `authotron_authenticate` as an auth_request target applies its own location's requirements.
location /sub-staff/ { auth_request /_auth_staff; proxy_pass http://echo; }
location = /_auth_staff { internal; authotron_authenticate; authotron_require $ecmwf_staff; }
location /sub-admin/ { auth_request /_auth_admin; proxy_pass http://echo; }
location = /_auth_admin { internal; authotron_authenticate; authotron_require_scope admin; }
CONF

run_tests();

__DATA__

=== TEST 1: the variables in upstream headers, response headers and maps
--- request eval
["GET /vars/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /vars/x\nAuthorization: Bearer %%T(outsider)%%"]
--- upstream_headers eval
["X-Email: sam\@ecmwf.int\nX-Scopes: read write\nX-Domain: ecmwf.int\nX-Can-Write: 1\nX-Missing: []\n!X-Note",
 "X-Email: olga\@example.com\nX-Scopes: read\nX-Domain: example.com\nX-Can-Write: 0\nX-Missing: []"]
--- response_headers eval
["X-Email-Out: sam\@ecmwf.int\nX-Scopes-Out: read write",
 "X-Email-Out: olga\@example.com\nX-Scopes-Out: read"]

=== TEST 2: a Basic user has no scopes, and a multi-line attribute never reaches a header
--- request
GET /vars/x
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_headers
X-Email: ann@ecmwf.int
X-Domain: ecmwf.int
X-Can-Write: 0
!X-Scopes
!X-Note
!X-Injected
--- response_headers
X-Email-Out: ann@ecmwf.int
!X-Scopes-Out
!X-Injected

=== TEST 3: authotron_require_scope: every listed scope held passes, one missing is a 403 with the challenge
--- request eval
["GET /read/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /read-write/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /read-write/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /read/x\nAuthorization: Basic %%BASE64(ann:pw)%%"]
--- error_code eval
[200, 200, 403, 403]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate",
 "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"read write\"",
 "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"read\""]
--- upstream_headers eval
["Authorization: Bearer %%JWT%%", "Authorization: Bearer %%JWT%%", undef, undef]
--- access_log_like
^/read/x 200 decision=allowed reason=authenticated cache=miss
/read-write/x 200 decision=allowed reason=authenticated cache=miss
/read-write/x 403 decision=forbidden reason=missing_scope cache=hit
/read/x 403 decision=forbidden reason=missing_scope cache=miss

=== TEST 4: authotron_require with a map on an attribute, and with error=401
--- request eval
["GET /staff/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /staff/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /staff-401/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /staff/x\nAuthorization: Basic %%BASE64(ann:pw)%%"]
--- error_code eval
[200, 403, 401, 200]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate",
 "WWW-Authenticate: Bearer realm=\"ecmwf\", Basic realm=\"ecmwf\"", undef]
--- upstream_headers eval
["Authorization: Bearer %%JWT%%", undef, undef, "Authorization: Bearer %%JWT%%"]
--- access_log_like
^/staff/x 200 decision=allowed reason=authenticated cache=miss
/staff/x 403 decision=forbidden reason=requirement_failed cache=miss
/staff-401/x 401 decision=unauthorized reason=requirement_failed cache=hit
/staff/x 200 decision=allowed reason=authenticated cache=miss

=== TEST 5: several values and several directives: each must hold; an inherited list applies
--- request eval
["GET /staff-writer/x\nAuthorization: Bearer %%T(staff)%%\nX-Ok: yes",
 "GET /staff-writer/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /staff-writer/x\nAuthorization: Bearer %%T(staff)%%\nX-Ok: 0",
 "GET /staff-writer/x\nAuthorization: Bearer %%T(outsider)%%\nX-Ok: yes",
 "GET /nested/inner/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /nested/inner/x\nAuthorization: Bearer %%T(outsider)%%"]
--- error_code eval
[200, 403, 403, 403, 200, 403]
--- access_log_like
^/staff-writer/x 200 decision=allowed reason=authenticated cache=miss
/staff-writer/x 403 decision=forbidden reason=requirement_failed cache=hit
/staff-writer/x 403 decision=forbidden reason=requirement_failed cache=hit
/staff-writer/x 403 decision=forbidden reason=requirement_failed cache=miss
/nested/inner/x 200 decision=allowed reason=authenticated cache=hit
/nested/inner/x 403 decision=forbidden reason=requirement_failed cache=hit

=== TEST 6: a credential cached under an open location is refused under stricter ones, from the cache
--- request eval
["GET /vars/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /staff/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /read-write/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /read/x\nAuthorization: Bearer %%T(outsider)%%"]
--- error_code eval
[200, 403, 403, 200]
--- access_log_like
^/vars/x 200 decision=allowed reason=authenticated cache=miss
/staff/x 403 decision=forbidden reason=requirement_failed cache=hit
/read-write/x 403 decision=forbidden reason=missing_scope cache=hit
/read/x 200 decision=allowed reason=authenticated cache=hit

=== TEST 7: the order: roles before scopes, scopes before authotron_require
--- request eval
["GET /admin-read/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /admin-scope-staff/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /admin-scope-staff/x\nAuthorization: Basic %%BASE64(ann:pw)%%"]
--- error_code eval
[403, 403, 403]
--- response_headers eval
["!WWW-Authenticate",
 "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"admin\"",
 "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"admin\""]
--- access_log_like
^/admin-read/x 403 decision=forbidden reason=missing_role cache=miss
/admin-scope-staff/x 403 decision=forbidden reason=missing_scope cache=miss
/admin-scope-staff/x 403 decision=forbidden reason=missing_scope cache=hit

=== TEST 8: shadow evaluates the requirements and counts the final decision
--- request eval
["GET /shadow-staff/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /shadow-staff/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /metrics"]
--- error_code eval
[200, 200, 200]
--- upstream_headers eval
["Authorization: Bearer %%T(outsider)%%", "Authorization: Bearer %%T(staff)%%", undef]
--- response_body_like eval
[undef, undef, 'authotron_shadow_decisions_total\{result="allowed"\} 1\nauthotron_shadow_decisions_total\{result="unauthorized"\} 0\nauthotron_shadow_decisions_total\{result="forbidden"\} 1\n']
--- access_log_like
^/shadow-staff/x 200 decision=forbidden reason=requirement_failed cache=miss
/shadow-staff/x 200 decision=allowed reason=authenticated cache=miss

=== TEST 9: authotron_authenticate under auth_request applies its location's requirements
--- request eval
["GET /sub-staff/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /sub-staff/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /sub-admin/x\nAuthorization: Bearer %%T(staff)%%"]
--- error_code eval
[200, 403, 403]

=== TEST 10: an internal redirect applies the target location's requirements to the same identity
--- request eval
["GET /redirect-staff/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /redirect-staff/x\nAuthorization: Bearer %%T(outsider)%%"]
--- error_code eval
[200, 403]
--- upstream_headers eval
["Authorization: Bearer %%JWT%%", undef]
--- access_log_like
^/redirect-staff/x 200 decision=allowed reason=authenticated cache=hit
/redirect-staff/x 403 decision=forbidden reason=requirement_failed cache=hit

=== TEST 11: nginx -t: a scope that is not an OAuth scope-token is refused at its line
--- config
location / { authotron on; authotron_require_scope read "a b"; }
--- must_die
--- error_log eval
['invalid "authotron_require_scope": "a b" is not an OAuth scope', 'nginx.conf:%%LINE:"a b"%%']

=== TEST 12: nginx -t: error= takes 401 or 403, and only last
--- config
location / {
    authotron on;
    authotron_require $ecmwf_staff error=404;
}
--- must_die
--- error_log eval
['invalid "authotron_require": "error=404" must be "error=401" or "error=403"', 'nginx.conf:%%LINE:error=404%%']

=== TEST 13: nginx -t: error= before a value is refused
--- config
location / {
    authotron on;
    authotron_require error=401 $ecmwf_staff;
}
--- must_die
--- error_log eval
['invalid "authotron_require": "error=" must be the last argument', 'nginx.conf:%%LINE:error=401 $ecmwf_staff%%']

=== TEST 14: nginx -t: authotron_require_scope where authotron is never on
--- config
location /on/ { authotron on; proxy_pass http://echo; }
location /off/ {
    authotron_require_scope read;
    proxy_pass http://echo;
}
--- must_die
--- error_log eval
['"authotron_require_scope" has no effect: no location where "authotron" is on or shadow uses it', 'nginx.conf:%%LINE:authotron_require_scope read%%']

=== TEST 15: nginx -t: authotron_require where authotron is off
--- config
location /on/ { authotron on; proxy_pass http://echo; }
location /off/ {
    authotron off;
    authotron_require $ecmwf_staff;
    proxy_pass http://echo;
}
--- must_die
--- error_log eval
['"authotron_require" has no effect', 'nginx.conf:%%LINE:authotron_require $ecmwf_staff%%']

=== TEST 16: nginx -t: authotron_require cannot apply to the token API, which acts before NGINX could evaluate it
--- before_start eval
sub { my (undef, $run) = @_; mkdir "$run->{prefix}/store" or die "mkdir: $!"; chmod 01777, "$run->{prefix}/store" }
--- yaml
version: "2.0.0"
jwt: { iss: authorization-test, exp: 600, secret: "authorization-test-secret-0123456789abcdef" }
providers:
  - { type: plain, name: local, realm: ecmwf, users: [ { username: ann, password: pw } ] }
store: { enabled: true, type: sqlite, path: "%%PREFIX%%/store/tokens.db" }
--- http_config
map $authotron_attribute_email $ecmwf_staff { ~@ecmwf\.int$ 1; default 0; }
--- config
location /token {
    authotron_require $ecmwf_staff;
    authotron_tokens;
}
--- must_die
--- error_log eval
['"authotron_require" cannot apply to "authotron_tokens"', 'nginx.conf:%%LINE:authotron_require $ecmwf_staff%%']

=== TEST 17: requirements where sites use them: satisfy any, error_page to a named location, index
--- before_start eval
sub {
    my (undef, $run) = @_;
    mkdir "$run->{prefix}/html" or die "mkdir: $!";
    open my $fh, '>', "$run->{prefix}/html/index.html" or die $!;
    print $fh "the staff index\n";
    close $fh;
}
--- config
access_log access.log authz;
# Refused by the requirement, then granted by address: the upstream sees no credential.
location /any-allow/ {
    satisfy any; allow 127.0.0.1; deny all;
    authotron on; authotron_require $ecmwf_staff; proxy_pass http://echo;
}
# Refused by both: the requirement's 403 stands.
location /any-deny/ {
    satisfy any; deny all;
    authotron on; authotron_require $ecmwf_staff; proxy_pass http://echo;
}
location /fallback/ {
    authotron on; authotron_require $ecmwf_staff; error_page 403 = @refused; proxy_pass http://echo;
}
location @refused { return 200 "refused by the requirement\n"; }
# `index` redirects to a location with a requirement of its own.
location = / { authotron on; index index.html; }
location = /index.html { authotron on; authotron_require $ecmwf_staff; }
--- request eval
["GET /any-allow/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /any-deny/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /any-deny/x\nAuthorization: Bearer %%T(staff)%%",
 "GET /fallback/x\nAuthorization: Bearer %%T(outsider)%%",
 "GET /\nAuthorization: Bearer %%T(staff)%%",
 "GET /\nAuthorization: Bearer %%T(outsider)%%"]
--- error_code eval
[200, 403, 200, 200, 200, 403]
--- response_body_like eval
['', '', '', '^refused by the requirement$', '^the staff index$', '']
--- upstream_headers eval
["!Authorization", undef, "Authorization: Bearer %%JWT%%", undef, undef, undef]
--- access_log_like
^/any-allow/x 200 decision=forbidden reason=requirement_failed cache=miss
/any-deny/x 403 decision=forbidden reason=requirement_failed cache=hit
/any-deny/x 200 decision=allowed reason=authenticated cache=miss
/fallback/x 200 decision=forbidden reason=requirement_failed cache=hit
/index.html 200 decision=allowed reason=authenticated cache=hit
/index.html 403 decision=forbidden reason=requirement_failed cache=hit

=== TEST 18: over HTTP/2, each stream is checked against the requirement on its own
--- http2: 1
--- nginx_needs: --with-http_v2_module
--- config
location /staff/ { authotron on; authotron_require $ecmwf_staff; proxy_pass http://echo; }
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $h2 = Test::Authotron::H2->connect($run);
    my @who = qw(staff outsider staff outsider);
    my @ids = map { $h2->request("GET /staff/x\nAuthorization: Bearer %%T($_)%%") } @who;
    my @answers = $h2->collect(20, @ids);
    is_deeply([map { $_->{status} } @answers], [200, 403, 200, 403],
        "$run->{name}: concurrent streams on one connection: staff 200, outsider 403");
}
--- request
GET /staff/x
Authorization: Bearer %%T(outsider)%%
--- error_code: 403
