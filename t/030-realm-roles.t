# Realm selection (authotron_realm, X-Auth-Realm), role requirements, augmenters, and the rule
# that a result cached under one location never grants access under another.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

# adam has the same password in realms ecmwf and other, so only realm selection decides which
# identity he gets. "Ecmwf" differs from "ecmwf" only in case: realms match exactly.
defaults(yaml => <<'YAML', config => <<'CONF');
cache: { ttl_seconds: 60, negative_ttl_seconds: 5, capacity: 10000 }
providers:
  - type: plain
    name: ecmwf-users
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
      - { username: eve, password: eve, roles: [superuser] }
  - type: plain
    name: other-users
    realm: other
    users:
      - { username: adam, password: admin, roles: [guest] }
      - { username: olga, password: olga, roles: [user] }
  - type: plain
    name: capital-users
    realm: Ecmwf
    users:
      - { username: carl, password: carl }
augmenters:
  - type: plain_advanced
    name: ops team
    realm: ecmwf
    match: { username: [eve, carl] }
    augment: { roles: [admin, superuser], attributes: { team: ops } }
  - type: plain_advanced
    name: admins audit
    realm: ecmwf
    match: { role: [admin] }
    augment: { roles: [auditor], attributes: { team: audit, level: "2" } }
  - type: plain
    name: readers
    realm: other
    roles: { reader: [olga, eve] }
YAML
location /any/ { authotron on; proxy_pass http://echo; }
location /ecmwf/ { authotron on; authotron_realm ecmwf; proxy_pass http://echo; }
location /other/ { authotron on; authotron_realm other; proxy_pass http://echo; }
location /admin/ { authotron on; authotron_require_role admin ops; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
location = /authenticate-admin { authotron_require_role admin; authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: authotron_realm picks the provider: adam in realm other
--- request: GET /other/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_jwt
{"sub": "other-adam", "realm": "other", "roles": ["guest"]}
--- response_headers
!WWW-Authenticate

=== TEST 2: authotron_realm overrides the client's X-Auth-Realm
--- request: GET /ecmwf/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
X-Auth-Realm: other
--- upstream_jwt
{"realm": "ecmwf", "roles": ["user"]}

=== TEST 3: a user of another realm is refused, and the challenge names only this realm
--- request: GET /ecmwf/x
--- more_headers
Authorization: Basic %%BASE64(olga:olga)%%
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ecmwf"

=== TEST 4: X-Auth-Realm selects the realm when the location does not
--- request eval
["GET /any/x\nX-Auth-Realm: other", "GET /any/x\nX-Auth-Realm: ecmwf"]
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_jwt eval
['{"realm": "other", "roles": ["guest"]}', '{"realm": "ecmwf", "roles": ["user"]}']

=== TEST 5: X-Auth-Realm matches exactly; no provider in that realm is a 401
--- request eval
["GET /any/x\nX-Auth-Realm: OTHER\nAuthorization: Basic %%BASE64(adam:admin)%%",
 "GET /any/x\nX-Auth-Realm: Ecmwf\nAuthorization: Basic %%BASE64(adam:admin)%%",
 "GET /any/x\nX-Auth-Realm: nowhere\nAuthorization: Basic %%BASE64(adam:admin)%%",
 "GET /any/x\nX-Auth-Realm: Ecmwf\nAuthorization: Basic %%BASE64(carl:carl)%%",
 "GET /any/x\nX-Auth-Realm: ecmwf\nAuthorization: Basic %%BASE64(carl:carl)%%"]
--- error_code eval
[401, 401, 401, 200, 401]
--- response_headers eval
[('WWW-Authenticate: Basic realm="ecmwf", Basic realm="other", Basic realm="Ecmwf"') x 3,
 '!WWW-Authenticate',
 'WWW-Authenticate: Basic realm="ecmwf", Basic realm="other", Basic realm="Ecmwf"']
--- upstream_jwt eval
[undef, undef, undef, '{"realm": "Ecmwf", "username": "carl", "roles": [], "attributes": {}}', undef]

=== TEST 6: augmenters of the user's realm apply in order; plain_advanced matches roles added earlier
--- request: GET /whoami
--- more_headers
Authorization: Basic %%BASE64(eve:eve)%%
X-Auth-Realm: ecmwf
--- response_json
{"version": 1, "username": "eve", "realm": "ecmwf",
 "roles": ["superuser", "admin", "auditor"],
 "attributes": {"team": "audit", "level": "2"}, "scopes": {}}

=== TEST 7: augmenters of other realms do not apply; the plain augmenter of realm other does
--- request eval
["GET /ecmwf/x\nAuthorization: Basic %%BASE64(adam:admin)%%",
 "GET /other/x\nAuthorization: Basic %%BASE64(olga:olga)%%"]
--- upstream_jwt eval
['{"username": "adam", "roles": ["user"], "attributes": {}}',
 '{"username": "olga", "roles": ["user", "reader"], "attributes": {}}']

=== TEST 8: augmented attributes reach the JWT
--- request: GET /ecmwf/x
--- more_headers
Authorization: Basic %%BASE64(eve:eve)%%
--- upstream_jwt
{"username": "eve", "attributes": {"team": "audit", "level": "2"}}

=== TEST 9: authotron_require_role: 200 with one of the roles, 403 without
--- request eval
["GET /admin/x\nAuthorization: Basic %%BASE64(eve:eve)%%\nX-Auth-Realm: ecmwf",
 "GET /admin/x\nAuthorization: Basic %%BASE64(adam:admin)%%\nX-Auth-Realm: ecmwf",
 "GET /admin/x\nAuthorization: Basic %%BASE64(adam:wrong)%%"]
--- error_code eval
[200, 403, 401]
--- upstream_jwt eval
['{"username": "eve"}', undef, undef]
--- response_body_unlike eval
[undef, 'GET /admin/x', 'GET /admin/x']

=== TEST 10: authotron_require_role on /authenticate answers 403 JSON
--- request eval
["GET /authenticate-admin\nAuthorization: Basic %%BASE64(adam:admin)%%\nX-Auth-Realm: ecmwf",
 "GET /authenticate-admin\nAuthorization: Basic %%BASE64(eve:eve)%%\nX-Auth-Realm: ecmwf"]
--- error_code eval
[403, 200]
--- response_body eval
['{"error": "Forbidden"}', 'Authenticated successfully']
--- response_headers eval
['Content-Type: application/json', '!WWW-Authenticate']

=== TEST 11: a result cached under a location without a role requirement does not pass /admin/
--- request eval
[("GET /any/x", "GET /admin/x", "GET /any/x", "GET /admin/x")]
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
X-Auth-Realm: ecmwf
--- error_code eval
[200, 403, 200, 403]

=== TEST 12: a result cached in one realm does not pass a location restricted to another
--- request eval
["GET /any/x", "GET /ecmwf/x", "GET /other/x", "GET /ecmwf/x"]
--- more_headers
Authorization: Basic %%BASE64(olga:olga)%%
--- error_code eval
[200, 401, 200, 401]
--- upstream_jwt eval
['{"realm": "other"}', undef, '{"realm": "other"}', undef]

=== TEST 13: $authotron_provider names the provider that accepted the user
--- config
location /other/ {
    authotron on;
    authotron_realm other;
    add_header X-Provider $authotron_provider always;
    add_header X-Realm $authotron_realm always;
    proxy_pass http://echo;
}
--- request: GET /other/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- response_headers
X-Provider: other-users
X-Realm: other
