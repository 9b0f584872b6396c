# nginx -s reload while validations are in flight: the old worker must finish every request it
# accepted (with the right answer) and then exit cleanly, without "open socket ... left" alerts.
# The harness checks that the old worker exits with code 0 and that no alert was logged.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron qw(:DEFAULT scaled);

# Five users with one deliberately slow Argon2id hash (~0.5 s each, see t/040-hashes.t): five
# distinct credentials are five real verifications, two at a time, well over a second in all.
# Under valgrind a hash takes some 30 times as long, so the timeout is scaled too.
my $slow = '$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs';
defaults(yaml => <<"YAML", config => <<'CONF');
auth: { timeout_in_ms: ${\ scaled(30_000)} }
cache: { ttl_seconds: 0 }
providers:
  - type: plain
    name: slow
    realm: ecmwf
    users:
${\ join '', map { qq(      - { username: slow$_, password_hash: "$slow", roles: [user] }\n) } 1 .. 5}
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: reload with five access-phase validations in flight
--- request eval
[map { "GET /api/$_\nAuthorization: Basic %%BASE64(slow$_:slowpw)%%" } 1 .. 5]
--- parallel
--- reload_after: 0.2
--- upstream_jwt eval
[map { qq({"username": "slow$_"}) } 1 .. 5]
--- timeout: 60

=== TEST 2: reload with five /authenticate validations in flight, some of them failing
--- request eval
[map { "GET /authenticate\nAuthorization: Basic %%BASE64(slow$_:" . ($_ % 2 ? 'slowpw' : 'wrong') . ")%%" } 1 .. 5]
--- parallel
--- reload_after: 0.2
--- error_code eval
[200, 401, 200, 401, 200]
--- response_jwt eval
['{"username": "slow1"}', undef, '{"username": "slow3"}', undef, '{"username": "slow5"}']
--- timeout: 60
