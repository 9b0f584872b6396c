# Whatever identity headers a client sends, the upstream must only ever see the ones we set:
# every client copy of the output header and of X-Auth-* is removed, the backend gets exactly
# one line with the module's value, and the client's credential never reaches it.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

our $PROVIDERS = <<'YAML';
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user, admin] }
YAML

defaults(yaml => $PROVIDERS, config => <<'CONF');
location /off/ {
    authotron on;
    proxy_pass http://echo;
}
location /legacy/ {
    authotron on;
    authotron_legacy_headers on;
    proxy_pass http://echo;
}
location /identity/ {
    authotron on;
    authotron_header X-Identity;
    proxy_pass http://echo;
}
CONF

run_tests();

__DATA__

=== TEST 1: legacy headers off: forged X-Auth-* copies are removed, and the credential
--- request: GET /off/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
X-Auth-Username: mallory
x-auth-username: mallory2
X-Auth-Realm: ecmwf
X-Auth-Roles: superuser
--- upstream_headers
Authorization: Bearer %%JWT%%
!X-Auth-Username
!X-Auth-Realm
!X-Auth-Roles
--- upstream_jwt
{"username": "adam", "roles": ["user", "admin"]}
--- response_body_unlike: mallory|superuser|%%BASE64(adam:admin)%%

=== TEST 2: legacy headers off and nothing forged: no X-Auth-* header is added
--- request: GET /off/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_headers
Authorization: Bearer %%JWT%%
!X-Auth-Username
!X-Auth-Realm
!X-Auth-Roles

=== TEST 3: legacy headers on: forged copies give way to exactly one header with our value
--- request: GET /legacy/x
--- more_headers
X-Auth-Username: mallory
Authorization: Basic %%BASE64(adam:admin)%%
x-auth-username: mallory2
X-Auth-Roles: superuser
--- upstream_headers
Authorization: Bearer %%JWT%%
X-Auth-Username: adam
X-Auth-Roles: user,admin
X-Auth-Realm: ecmwf
--- upstream_jwt
{"username": "adam"}
--- response_body_unlike: mallory|superuser|%%BASE64(adam:admin)%%

=== TEST 4: legacy headers on and nothing forged: one of each is added
--- request: GET /legacy/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_headers
Authorization: Bearer %%JWT%%
X-Auth-Username: adam
X-Auth-Realm: ecmwf
X-Auth-Roles: user,admin

=== TEST 5: include_legacy_headers in the YAML is the default; the directive overrides it
--- yaml eval
"include_legacy_headers: true\n$main::PROVIDERS"
--- config
location /default/ { authotron on; proxy_pass http://echo; }
location /off/ { authotron on; authotron_legacy_headers off; proxy_pass http://echo; }
--- request eval
["GET /default/x", "GET /off/x"]
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
X-Auth-Username: mallory
--- upstream_headers eval
["X-Auth-Username: adam\nX-Auth-Realm: ecmwf\nX-Auth-Roles: user,admin",
 "!X-Auth-Username\n!X-Auth-Realm\n!X-Auth-Roles"]
--- response_body_unlike: mallory

=== TEST 6: legacy headers on the /authenticate response when enabled
--- config
location = /authenticate { authotron_legacy_headers on; authotron_authenticate; }
--- request: GET /authenticate
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
X-Auth-Username: mallory
--- response_headers
X-Auth-Username: adam
X-Auth-Realm: ecmwf
X-Auth-Roles: user,admin
--- response_jwt
{"username": "adam"}

=== TEST 7: a custom output header: both forged copies give way to our JWT, once; no Authorization
--- request: GET /identity/x
--- more_headers
X-Identity: Bearer forged.token.one
Authorization: Basic %%BASE64(adam:admin)%%
X-Identity: Bearer forged.token.two
--- upstream_headers
X-Identity: Bearer %%JWT%%
!Authorization
--- upstream_jwt
{"username": "adam", "realm": "ecmwf"}
--- response_body_unlike: forged|%%BASE64(adam:admin)%%

=== TEST 8: a custom output header that the client did not send is added once
--- request: GET /identity/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_headers
X-Identity: Bearer %%JWT%%
!Authorization
--- upstream_jwt
{"username": "adam"}
--- response_body_unlike: %%BASE64(adam:admin)%%

=== TEST 9: a refused request never reaches the backend, forged headers or not
--- request eval
["GET /off/x", "GET /legacy/x", "GET /identity/x"]
--- more_headers
Authorization: Basic %%BASE64(adam:wrong)%%
X-Auth-Username: adam
X-Identity: Bearer forged.token.one
--- error_code: 401
--- response_body_unlike: GET /
