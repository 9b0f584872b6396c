# Clients that hang up while their password is still being verified. The verification finishes
# after the request is gone; that must be harmless: no alert, no crash, and the same worker
# keeps serving (the harness also checks that the worker was never respawned).
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron qw(:DEFAULT scaled);

# slow1..slow3 share one deliberately slow Argon2id hash (~0.5 s, see t/040-hashes.t). Under
# valgrind a hash takes some 30 times as long, so the timeout is scaled too.
defaults(yaml => "auth: { timeout_in_ms: ${\ scaled(30_000)} }\n" . <<'YAML', config => <<'CONF');
providers:
  - type: plain
    name: slow
    realm: ecmwf
    users:
      - { username: slow1, password_hash: "$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs" }
      - { username: slow2, password_hash: "$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs" }
      - { username: slow3, password_hash: "$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs" }
      - { username: fast, password: fast, roles: [user] }
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: three clients abort after 100 ms during validation (two verifying, one queued)
--- abort_requests eval
[map { "GET /api/x\nAuthorization: Basic %%BASE64(slow$_:slowpw)%%" } 1 .. 3]
--- abort_after: 0.1
--- settle: 4
--- request: GET /api/after
--- more_headers
Authorization: Basic %%BASE64(fast:fast)%%
--- upstream_jwt
{"username": "fast"}

=== TEST 2: aborts on the content handlers
--- abort_requests eval
["GET /authenticate\nAuthorization: Basic %%BASE64(slow1:slowpw)%%",
 "GET /whoami\nAuthorization: Basic %%BASE64(slow2:wrong)%%"]
--- abort_after: 0.1
--- settle: 3
--- request: GET /authenticate
--- more_headers
Authorization: Basic %%BASE64(fast:fast)%%
--- response_jwt
{"username": "fast"}

=== TEST 3: the same credentials again after the abort get a correct answer
--- abort_requests eval
["GET /api/x\nAuthorization: Basic %%BASE64(slow1:slowpw)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(slow2:wrong)%%"]
--- abort_after: 0.1
--- settle: 3
--- request eval
["GET /api/x\nAuthorization: Basic %%BASE64(slow1:slowpw)%%",
 "GET /api/x\nAuthorization: Basic %%BASE64(slow2:wrong)%%"]
--- error_code eval
[200, 401]
--- upstream_jwt eval
['{"username": "slow1"}', undef]
--- timeout: 30

=== TEST 4: a client that aborts immediately, before validation could start
--- abort_requests eval
[map { "GET /api/x\nAuthorization: Basic %%BASE64(slow3:slowpw)%%" } 1 .. 5]
--- abort_after: 0
--- settle: 3
--- request: GET /api/after
--- more_headers
Authorization: Basic %%BASE64(fast:fast)%%
--- upstream_jwt
{"username": "fast"}

=== TEST 5: an abort during access-phase validation ends the request at once: 499, never proxied
(a client abort frees the request at once and aborts its validation task)
--- abort_requests eval
[map { "GET /api/gone\nAuthorization: Basic %%BASE64(slow$_:slowpw)%%" } 1 .. 2]
--- abort_after: 0.1
--- settle: 2
--- request: GET /api/after
--- more_headers
Authorization: Basic %%BASE64(fast:fast)%%
--- access_log_like
\A(?:[^\n]*"GET /api/gone HTTP/1\.1" 499 [^\n]*\n){2}[^\n]*"GET /api/after HTTP/1\.1" 200
--- no_error_log
while connecting to upstream

=== TEST 6: an abort during validation on a content handler: 499, no answer written
--- abort_requests eval
["GET /authenticate\nAuthorization: Basic %%BASE64(slow1:slowpw)%%",
 "GET /whoami\nAuthorization: Basic %%BASE64(slow2:slowpw)%%"]
--- abort_after: 0.1
--- settle: 2
--- request: GET /whoami
--- more_headers
Authorization: Basic %%BASE64(fast:fast)%%
--- access_log_like
\A(?:[^\n]*"GET /(?:authenticate|whoami) HTTP/1\.1" 499 [^\n]*\n){2}[^\n]*"GET /whoami HTTP/1\.1" 200
