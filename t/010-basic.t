# The plain-provider scenarios of upstream Auth-O-Tron's HTTP integration tests, the
# /authenticate and /whoami contracts, header parsing and the $authotron_* variables.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

# Upstream's integration config, plain providers only: adam exists in two realms with
# different passwords, and only the ecmwf realm has an augmenter.
defaults(yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 3000 }
providers:
  - type: plain
    name: Plain provider
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
      - { username: eve, password: admin, roles: [superuser] }
  - type: plain
    name: Plain provider
    realm: other
    users:
      - { username: adam, password: other, roles: [user] }
augmenters:
  - type: plain
    name: Plain augmenter
    realm: ecmwf
    roles: { admin: [eve, adam] }
YAML
location /api/ {
    authotron on;
    proxy_pass http://echo;
}
location /open/ {
    proxy_pass http://echo;
}
location = /authenticate { authotron_authenticate; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: adam:admin passes; upstream gets a JWT with the augmented roles, not the password
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_headers
Authorization: Bearer %%JWT%%
--- upstream_jwt
{"sub": "ecmwf-adam", "username": "adam", "realm": "ecmwf", "roles": ["user", "admin"],
 "scopes": {}, "attributes": {}}
--- response_body_like: ^GET /api/x HTTP/1\.0
--- response_body_unlike: %%BASE64(adam:admin)%%

=== TEST 2: adam:wrongpassword is refused with the challenge of every realm, in config order
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:wrongpassword)%%
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ecmwf", Basic realm="other"
--- response_body_unlike: GET /api/x

=== TEST 3: adam:other authenticates in realm other, where no augmenter applies
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:other)%%
--- upstream_jwt
{"sub": "other-adam", "username": "adam", "realm": "other", "roles": ["user"]}

=== TEST 4: eve gets the augmenter's role after her own
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(eve:admin)%%
--- upstream_jwt
{"username": "eve", "realm": "ecmwf", "roles": ["superuser", "admin"]}

=== TEST 5: no Authorization header is a 401 with the challenge
--- request: GET /api/x
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ecmwf", Basic realm="other"

=== TEST 6: a location without authotron passes the client's header through untouched
--- request: GET /open/x
--- more_headers
Authorization: Basic %%BASE64(adam:wrongpassword)%%
--- upstream_headers
Authorization: Basic %%BASE64(adam:wrongpassword)%%

=== TEST 7: /authenticate success: the upstream contract
--- request: GET /authenticate
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- response_jwt
{"username": "adam", "realm": "ecmwf", "roles": ["user", "admin"]}
--- response_headers
!X-Auth-Username
!WWW-Authenticate
--- response_body chomp
Authenticated successfully

=== TEST 8: /authenticate failure: JSON body and challenge
--- request: GET /authenticate
--- more_headers
Authorization: Basic %%BASE64(adam:wrongpassword)%%
--- error_code: 401
--- response_headers
Content-Type: application/json
WWW-Authenticate: Basic realm="ecmwf", Basic realm="other"
--- response_body chomp
{"error": "Unauthorized access"}

=== TEST 9: /authenticate answers HEAD like GET, without a body
--- request: HEAD /authenticate
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- response_jwt
{"username": "adam"}
--- response_body chomp

=== TEST 10: /authenticate and /whoami refuse other methods with 405, naming the allowed ones
--- request eval
["POST /authenticate", "DELETE /authenticate", "PUT /authenticate", "POST /whoami"]
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- error_code: 405
--- response_headers
Allow: GET, HEAD

=== TEST 11: /whoami returns the final user, uncacheable
--- request: GET /whoami
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_json
{"version": 1, "username": "adam", "realm": "ecmwf", "roles": ["user", "admin"],
 "attributes": {}, "scopes": {}}

=== TEST 12: /whoami failure is the same 401 as /authenticate
--- request eval
["GET /whoami", "GET /whoami\nAuthorization: Basic %%BASE64(adam:wrongpassword)%%"]
--- error_code: 401
--- response_headers
Content-Type: application/json
WWW-Authenticate: Basic realm="ecmwf", Basic realm="other"
--- response_body chomp
{"error": "Unauthorized access"}

=== TEST 13: Basic, basic, BASIC, plain and Plain name the same scheme
--- request eval
[("GET /api/x") x 5]
--- more_headers eval
[map { "Authorization: $_ %%BASE64(adam:admin)%%" } qw(Basic basic BASIC plain Plain)]
--- upstream_jwt
{"username": "adam", "realm": "ecmwf"}

=== TEST 14: well-formed multi-part headers that must pass
--- request eval
[("GET /api/x") x 6]
--- more_headers eval
[
  # an identical duplicate part is ignored
  "Authorization: Basic %%BASE64(adam:admin)%%, Basic %%BASE64(adam:admin)%%",
  # an unknown scheme and a Bearer without providers are skipped; Basic is tried next
  "Authorization: Bearer abc, Basic %%BASE64(adam:admin)%%",
  "Authorization: EmailKey a\@b:c, Bearer abc, Basic %%BASE64(adam:admin)%%",
  # three unique parts plus a duplicate stay within the limit
  "Authorization: Bearer abc, Bearer abc, Digest x, Basic %%BASE64(adam:admin)%%",
  # any run of spaces or tabs separates scheme and credential; parts are trimmed
  "Authorization: Basic \t  %%BASE64(adam:admin)%%",
  "Authorization:  Bearer abc ,Basic %%BASE64(adam:admin)%% ",
]
--- upstream_jwt
{"username": "adam", "realm": "ecmwf"}

=== TEST 15: malformed or wrong credentials are a 401 with the challenge, never a 500
--- request eval
[("GET /api/x") x 16]
--- more_headers eval
[
  "Authorization: Basic",                                        # no credential
  "Authorization: Basic %%BASE64(adam:admin)%% extra",           # three tokens
  "Authorization: Basic %%BASE64(adam:admin)%%,",                # trailing comma: empty part
  "Authorization: Basic %%BASE64(adam:admin)%%,, Bearer x",      # empty part in the middle
  # a fourth unique part, even when a valid one comes first
  "Authorization: Basic %%BASE64(adam:admin)%%, Bearer a, Digest b, EmailKey c",
  # the same scheme twice with different credentials (upstream lets the last win)
  "Authorization: Basic %%BASE64(adam:wrong)%%, Basic %%BASE64(adam:admin)%%",
  "Authorization: Basic %%BASE64(adam:admin)%%, basic %%BASE64(eve:admin)%%",
  "Authorization: Basic not*base64!",
  "Authorization: Basic //79",                                   # bytes FF FE FD: not UTF-8
  "Authorization: Basic %%BASE64(adamadmin)%%",                  # no colon
  "Authorization: Basic %%BASE64(:admin)%%",                     # no username
  "Authorization: Basic %%BASE64( adam :admin)%%",               # usernames are not trimmed
  "Authorization: Basic %%BASE64(ADAM:admin)%%",                 # usernames are case-sensitive
  "Authorization: Basic %%BASE64(adam:ADMIN)%%",                 # so are passwords
  "Authorization: EmailKey adam:admin",                          # no provider has this scheme
  "Authorization: Bearer %%BASE64(adam:admin)%%",                # Basic credential, Bearer scheme
]
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ecmwf", Basic realm="other"

=== TEST 16: two Authorization headers are refused by NGINX itself
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
Authorization: Basic %%BASE64(eve:admin)%%
--- error_code: 400
--- response_body_unlike: GET /api/x

=== TEST 17: variables are set after the access phase and usable by add_header and proxy_set_header
--- config
location /api/ {
    authotron on;
    add_header X-Authotron-User $authotron_user always;
    add_header X-Authotron-Realm $authotron_realm always;
    add_header X-Authotron-Roles $authotron_roles always;
    add_header X-Authotron-Provider $authotron_provider always;
    add_header X-Authotron-Jwt $authotron_jwt always;
    proxy_set_header X-Jwt-Copy $authotron_jwt;
    proxy_pass http://echo;
}
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- response_headers
X-Authotron-User: adam
X-Authotron-Realm: ecmwf
X-Authotron-Roles: user,admin
X-Authotron-Provider: Plain provider
--- response_headers_like
X-Authotron-Jwt: ^[\w-]+\.[\w-]+\.[\w-]+$
--- upstream_headers
X-Jwt-Copy: %%JWT%%
Authorization: Bearer %%JWT%%
--- upstream_jwt
{"username": "adam"}

=== TEST 18: variables in log_format; empty (or NGINX's "-") when the request was refused
--- http_config
log_format authotron '$status user=$authotron_user realm=$authotron_realm roles=$authotron_roles provider="$authotron_provider"';
--- config
access_log access.log authotron;
location /api/ {
    authotron on;
    proxy_pass http://echo;
}
--- request eval
["GET /api/x\nAuthorization: Basic %%BASE64(adam:other)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(adam:nope)%%"]
--- error_code eval
[200, 401]
--- access_log_like
^200 user=adam realm=other roles=user provider="Plain provider"\n401 user=-? realm=-? roles=-? provider="-?"$

=== TEST 19: server-level authotron on, switched off in one location
--- config
authotron on;
location /api/ { proxy_pass http://echo; }
location /public/ { authotron off; proxy_pass http://echo; }
--- request eval
["GET /api/x", "GET /public/x", "GET /api/x\nAuthorization: Basic %%BASE64(eve:admin)%%"]
--- error_code eval
[401, 200, 200]
--- upstream_jwt eval
[undef, undef, '{"username": "eve"}']

=== TEST 20: jwt.aud, when configured, becomes the aud claim (the harness checks aud)
--- jwt_aud: backend-api
--- request eval
["GET /api/x", "GET /authenticate"]
--- more_headers
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_jwt eval
['{"aud": "backend-api", "username": "adam"}', undef]
--- response_jwt eval
[undef, '{"aud": "backend-api", "username": "adam"}']
