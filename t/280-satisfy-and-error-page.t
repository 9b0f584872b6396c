# `satisfy any` and `error_page`: the request may reach the upstream although the module did
# not allow it, because another access module (`allow`, `auth_basic`) granted access or an
# error page proxies it. The client's own identity headers and credential must never arrive
# there: in a location where `authotron` is on, only the module writes them.
use strict;
use warnings;
use lib 't/lib';
use Digest::SHA qw(sha1_base64);
use Test::More;
use Test::Authotron;

# An htpasswd user that only auth_basic knows. Hashed: NGINX's auth_basic logs the stored
# value at debug level, and the suite checks that no password appears in the error log.
my $htpasswd = sub {
    my (undef, $run) = @_;
    open my $fh, '>', "$run->{prefix}/htpasswd" or die $!;
    print $fh "webuser:{SHA}" . sha1_base64('webpass') . "=\n";
    close $fh;
};

defaults(before_start => $htpasswd, yaml => <<'YAML', config => <<'CONF');
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: ann, password: pw, roles: [user] }
YAML
location /by-address/ {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    authotron on;
    proxy_pass http://echo;
}
location /basic-or-authotron/ {
    satisfy any;
    auth_basic "web";
    auth_basic_user_file %%PREFIX%%/htpasswd;
    authotron on;
    proxy_pass http://echo;
}
location /with-fallback/ {
    authotron on;
    error_page 401 = @fallback;
    proxy_pass http://echo;
}
location @fallback { proxy_pass http://echo; }
location /legacy/ {
    authotron on;
    authotron_legacy_headers on;
    proxy_pass http://echo;
}
location /custom-header/ {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    authotron on;
    authotron_header X-Token;
    proxy_pass http://echo;
}
CONF

run_tests();

__DATA__

=== TEST 1: satisfy any, allowed by address: forged identity headers and the credential are removed
--- request: GET /by-address/x
--- more_headers
Authorization: Basic %%BASE64(mallory:guess)%%
X-Auth-Username: admin
X-Auth-Roles: admin
X-Auth-Realm: ecmwf
--- upstream_headers
!Authorization
!X-Auth-Username
!X-Auth-Roles
!X-Auth-Realm
--- response_headers
!WWW-Authenticate

=== TEST 2: satisfy any, allowed by address without any credential: forged headers removed
--- request: GET /by-address/x
--- more_headers
X-Auth-Username: admin
--- upstream_headers
!X-Auth-Username
!Authorization

=== TEST 3: satisfy any, a valid user of the module: the backend gets the minted token
--- request: GET /by-address/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
X-Auth-Username: admin
--- upstream_jwt
{"username": "ann"}
--- upstream_headers
!X-Auth-Username

=== TEST 4: satisfy any with auth_basic: its user gets in, and its password does not travel on
--- request: GET /basic-or-authotron/x
--- more_headers
Authorization: Basic %%BASE64(webuser:webpass)%%
X-Auth-Roles: admin
--- upstream_headers
!Authorization
!X-Auth-Roles

=== TEST 5: satisfy any with auth_basic: a user of the module gets the minted token
--- request: GET /basic-or-authotron/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann"}

=== TEST 6: satisfy any with auth_basic: nobody's credential is still refused
--- request: GET /basic-or-authotron/x
--- more_headers
Authorization: Basic %%BASE64(mallory:guess)%%
--- error_code: 401

=== TEST 7: error_page 401 to a named location that proxies: nothing of the client's arrives
--- request: GET /with-fallback/x
--- more_headers
Authorization: Basic %%BASE64(mallory:guess)%%
X-Auth-Username: admin
X-Auth-Roles: admin
--- upstream_headers
!Authorization
!X-Auth-Username
!X-Auth-Roles

=== TEST 8: another output header: the client's copy of it is removed as well
--- request: GET /custom-header/x
--- more_headers
X-Token: Bearer forged
Authorization: Basic %%BASE64(mallory:guess)%%
--- upstream_headers
!X-Token
!Authorization

=== TEST 9: underscores_in_headers on: an underscore spelling of an identity header is removed
--- http_config
underscores_in_headers on;
--- request: GET /by-address/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
X_Auth_Username: admin
x_auth_roles: admin
--- upstream_jwt
{"username": "ann"}
--- upstream_headers
!X_Auth_Username
!x_auth_roles

=== TEST 10: underscores_in_headers on, request not allowed by the module: removed as well
--- http_config
underscores_in_headers on;
--- request: GET /by-address/x
--- more_headers
X_Auth_Username: admin
--- upstream_headers
!X_Auth_Username

=== TEST 11: legacy headers on, two forged copies of one: the backend gets one, the module's
--- request: GET /legacy/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
X-Auth-Username: admin
x-auth-username: root
X-Auth-Roles: admin
--- upstream_headers
X-Auth-Username: ann
X-Auth-Roles: user
Authorization: Bearer %%JWT%%

=== TEST 12: the same duplicates in a refused request that satisfy any lets through: none arrive
--- request: GET /by-address/x
--- more_headers
X-Auth-Username: admin
X-Auth-Username: root
Authorization: Basic %%BASE64(mallory:guess)%%
--- upstream_headers
!X-Auth-Username
!Authorization

=== TEST 13: underscore spellings and duplicates together, with many other headers around them
--- http_config
underscores_in_headers on;
--- request: GET /legacy/x
--- more_headers eval
join("", map { "X-Filler-$_: $_\n" } 1 .. 30)
. "X_Auth_Username: admin\nAuthorization: Basic %%BASE64(ann:pw)%%\n"
. join("", map { "X-Later-$_: $_\n" } 1 .. 30)
. "X-AUTH-USERNAME: root\nX_AUTH_REALM: other\n"
--- upstream_headers
X-Auth-Username: ann
!X_Auth_Username
!X_AUTH_REALM
X-Auth-Realm: ecmwf
X-Filler-1: 1
X-Filler-30: 30
X-Later-1: 1
X-Later-30: 30
