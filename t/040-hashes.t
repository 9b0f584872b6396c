# Users stored as Argon2id or bcrypt hashes, and the 503 when no provider can answer in time.
#
# Fixtures (committed so CI needs neither tool):
#   echo -n s3cret  | argon2 authotronsalt001 -id -e              -> argon   / s3cret
#   echo -n slowpw  | argon2 authotronsalt002 -id -e -m 16 -t 6   -> slow    / slowpw (~0.5 s)
#   htpasswd -nbB -C 5 bcryptuser hunter2                          -> bcrypt2y and bcrypt2b
#     ($2b$ and $2y$ are the same algorithm; the 2b fixture is the 2y hash with its prefix renamed)
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

defaults(yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 5000 }
providers:
  - type: plain
    name: hashed
    realm: ecmwf
    users:
      - username: argon
        password_hash: "$argon2id$v=19$m=4096,t=3,p=1$YXV0aG90cm9uc2FsdDAwMQ$ZeujddpylQC0aulvig6+Rag/0szzdG6OGnNL+/jpZCk"
        roles: [user]
      - username: bcrypt2y
        password_hash: "$2y$05$F43jkEQCrDlcBTsOl712DOp91HKrNShHESt8BhsVISGdq.lhVgozO"
        roles: [user]
      - username: bcrypt2b
        password_hash: "$2b$05$F43jkEQCrDlcBTsOl712DOp91HKrNShHESt8BhsVISGdq.lhVgozO"
        roles: [user]
      - { username: plainuser, password: plainpw, roles: [user] }
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
location = /whoami { authotron_whoami; }
CONF

my $SLOW_HASH = '$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs';
our $TIMEOUT_YAML = <<"YAML";
auth: { timeout_in_ms: 100 }
cache: { ttl_seconds: 0 }
providers:
  - type: plain
    name: hashed
    realm: ecmwf
    users:
      - { username: slow, password_hash: "$SLOW_HASH", roles: [user] }
      - { username: plainuser, password: plainpw, roles: [user] }
YAML

run_tests();

__DATA__

=== TEST 1: an Argon2id user with the right password
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(argon:s3cret)%%
--- upstream_jwt
{"username": "argon", "realm": "ecmwf", "roles": ["user"]}
--- response_body_unlike: %%BASE64(argon:s3cret)%%

=== TEST 2: bcrypt users, $2y$ and $2b$ prefixes
--- request eval
["GET /api/x\nAuthorization: Basic %%BASE64(bcrypt2y:hunter2)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(bcrypt2b:hunter2)%%"]
--- upstream_jwt eval
['{"username": "bcrypt2y"}', '{"username": "bcrypt2b"}']

=== TEST 3: wrong passwords for hashed users are a 401, also when repeated (negative cache)
--- request eval
[("GET /api/x\nAuthorization: Basic %%BASE64(argon:S3cret)%%",
  "GET /api/x\nAuthorization: Basic %%BASE64(bcrypt2y:hunter3)%%",
  "GET /api/x\nAuthorization: Basic %%BASE64(argon:)%%") x 2]
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ecmwf"

=== TEST 4: a right password after a wrong one for the same user
--- request eval
["GET /api/x\nAuthorization: Basic %%BASE64(argon:wrong)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(argon:s3cret)%%"]
--- error_code eval
[401, 200]

=== TEST 5: /whoami and /authenticate for a hashed user
--- request eval
["GET /whoami", "GET /authenticate"]
--- more_headers
Authorization: Basic %%BASE64(bcrypt2b:hunter2)%%
--- response_json eval
['{"version": 1, "username": "bcrypt2b", "realm": "ecmwf", "roles": ["user"], "attributes": {}, "scopes": {}}',
 undef]
--- response_body eval
[undef, 'Authenticated successfully']
--- response_jwt eval
[undef, '{"username": "bcrypt2b"}']

=== TEST 6: a hash slower than auth.timeout_in_ms is a 503, not a 401; fast users still pass
--- yaml eval
$main::TIMEOUT_YAML
--- request eval
["GET /api/x\nAuthorization: Basic %%BASE64(slow:slowpw)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(plainuser:plainpw)%%",
 "GET /authenticate\nAuthorization: Basic %%BASE64(slow:slowpw)%%",
 "GET /whoami\nAuthorization: Basic %%BASE64(slow:wrong)%%"]
--- error_code eval
[503, 200, 503, 503]
--- response_body eval
[undef, undef, '{"error": "Service unavailable"}', '{"error": "Service unavailable"}']
--- response_headers eval
[undef, undef, 'Content-Type: application/json', 'Content-Type: application/json']
--- timeout: 30

=== TEST 7: a repeated credential is answered from the cache: one validation, not three
--- nginx_needs: --with-debug
--- request eval
[("GET /api/x\nAuthorization: Basic %%BASE64(argon:s3cret)%%") x 3]
--- upstream_jwt eval
[('{"username": "argon"}') x 3]
--- error_log
authotron: validation started
authotron: answered without validation
--- no_error_log eval
[qr/validation started(?s:.*)validation started/]
