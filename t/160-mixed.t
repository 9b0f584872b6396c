# Every provider type at once, in an upstream-style config that uses none of our extensions:
# it loads without a warning and each type works next to the others. All Bearer providers are
# tried concurrently: the first acceptance wins, a slow provider never holds back a fast
# success, realm selection (X-Auth-Realm, authotron_realm) limits which services are asked,
# and when no provider accepted but some could not answer the result is 503, not 401.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::IdP ();
use Test::Authotron::Tokens;

my $idp = idp();

our %T = (
    jwt => jwt(claims => { preferred_username => 'kc-user', scope => 'openid' }),
    map { ($_ => unique("mixed-$_")) } qw(offline apikey efaskey tgtoken both fastno unknown realm_key flaky),
);
$idp->keycloak_offline($T{offline}, access_token => jwt(claims => { preferred_username => 'offline-user', scope => 'openid' }));
$idp->register(whoami => $T{apikey}, { uid => 'jdoe', email => 'jdoe@ecmwf.int' });
$idp->register(efas => $T{efaskey}, { username => 'efas-user', roles => ['forecaster'] });
$idp->token_generator($T{tgtoken}, access_token => jwt(claims => { preferred_username => 'tg-user', scope => 'openid' }));
# Valid at both ECMWF and EFAS (for the slow-next-to-fast tests).
$idp->register(whoami => $T{both}, { uid => 'both-ecmwf' });
$idp->register(efas => $T{both}, { username => 'both-efas' });
# Refused by ECMWF at once, accepted by EFAS.
$idp->register(efas => $T{fastno}, { username => 'fastno-efas' });
$idp->register(whoami => $T{realm_key}, { uid => 'realm-user' });
$idp->register(efas => $T{realm_key}, { username => 'realm-user-efas' });
$idp->register(whoami => $T{flaky}, { uid => 'flaky-user' });

our $ALL = <<'YAML' . Test::Authotron::IdP::remote_providers() . <<'AUGMENTERS';
auth: { timeout_in_ms: 5000 }
include_legacy_headers: false
providers:
  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: alice-pw, roles: [admin] }
YAML
augmenters:
  - type: plain_advanced
    name: ecmwf-staff
    realm: ecmwf
    match: { username: [jdoe], role: [] }
    augment: { roles: [staff], attributes: { team: forecast } }
AUGMENTERS

defaults(yaml => $ALL, config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; add_header X-Provider $authotron_provider always; }
location /ecmwf/ { authotron on; authotron_realm ecmwf; proxy_pass http://echo; add_header X-Provider $authotron_provider always; }
location /staff/ { authotron on; authotron_require_role staff; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
CONF

our $CHALLENGE = 'Basic realm="local", Bearer realm="kc", Bearer realm="offline", Bearer realm="ecmwf", Bearer realm="efas", Bearer realm="tg"';

run_tests();

__DATA__

=== TEST 1: the config with every provider type loads unchanged, without a warning
--- config_ok
--- no_error_log
[warn]

=== TEST 2: each type authenticates its own credential next to all the others
--- request eval
["GET /api/1\nAuthorization: Basic %%BASE64(alice:alice-pw)%%",
 map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(jwt offline apikey efaskey tgtoken)]
--- upstream_jwt eval
['{"username": "alice", "realm": "local", "roles": ["admin"]}',
 '{"username": "kc-user", "realm": "kc", "scopes": {"kc": ["openid"]}}',
 '{"username": "offline-user", "realm": "offline", "scopes": {"offline": ["openid"]}}',
 '{"username": "jdoe", "realm": "ecmwf", "roles": ["staff"], "attributes": {"ecmwf-email": "jdoe@ecmwf.int", "team": "forecast"}}',
 '{"username": "efas-user", "realm": "efas", "roles": ["forecaster"]}',
 '{"username": "tg-user", "realm": "tg", "scopes": {"tg": ["openid"]}}']
--- response_headers eval
[map { "X-Provider: $_" } qw(local kc offline ecmwf efas tg)]

=== TEST 3: a credential nobody accepts: 401 with every realm in the challenge, in config order
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{unknown}", "GET /authenticate\nAuthorization: Bearer $main::T{unknown}"]
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: $main::CHALLENGE"

=== TEST 4: X-Auth-Realm asks only the providers of that realm
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{realm_key}\nX-Auth-Realm: ecmwf"]
--- upstream_jwt: {"username": "realm-user", "realm": "ecmwf"}
--- mock_calls: {"whoami": 1, "efas": 0, "introspect": 0, "validate": 0, "token": 0, "refresh": 0}

=== TEST 5: X-Auth-Realm of another provider: that one says no, ECMWF is never asked
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{apikey}\nX-Auth-Realm: efas"]
--- error_code: 401
--- mock_calls: {"whoami": 0, "efas": 1}

=== TEST 6: authotron_realm takes precedence over X-Auth-Realm
--- request eval
["GET /ecmwf/1\nAuthorization: Bearer $main::T{realm_key}\nX-Auth-Realm: efas"]
--- upstream_jwt: {"username": "realm-user", "realm": "ecmwf"}
--- response_headers
X-Provider: ecmwf
--- mock_calls: {"whoami": 1, "efas": 0}

=== TEST 7: authotron_realm: a 401 challenges only that realm
--- request eval
["GET /ecmwf/1\nAuthorization: Bearer $main::T{unknown}"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="ecmwf"
--- mock_calls: {"whoami": 1, "efas": 0, "introspect": 0, "validate": 0}

=== TEST 8: a slow provider (3 s) does not hold back a fast success
--- mock eval
sub { my ($idp) = @_; $idp->delay(efas => 3000) }
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{both}"]
--- upstream_jwt: {"username": "both-ecmwf", "realm": "ecmwf"}
--- response_headers
X-Provider: ecmwf
--- elapsed_below: 1.5

=== TEST 9: a fast rejection does not end the race: the slower provider's acceptance wins
--- mock eval
sub { my ($idp) = @_; $idp->delay(efas => 1000) }
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{fastno}"]
--- upstream_jwt: {"username": "fastno-efas", "realm": "efas"}
--- response_headers
X-Provider: efas

=== TEST 10: no acceptance and one provider timed out: 503 (the credential may be valid), not 401
--- yaml eval
$main::ALL =~ s/timeout_in_ms: 5000/timeout_in_ms: 1000/r
--- mock eval
sub { my ($idp) = @_; $idp->delay(efas => 3000) }
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{unknown}"]
--- error_code: 503
--- response_headers
Retry-After: 5
--- elapsed_below: 2.5

=== TEST 11: every remote service is down: a Bearer credential gets 503; Basic users still work
--- after_start eval
sub { my ($idp) = @_; Time::HiRes::sleep(0.5); $idp->down }
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{flaky}",
 "GET /api/2\nAuthorization: Basic %%BASE64(alice:alice-pw)%%",
 "GET /authenticate\nAuthorization: Bearer $main::T{flaky}"]
--- error_code eval
[503, 200, 503]
--- response_headers eval
["Retry-After: 5", undef, "Retry-After: 5\nContent-Type: application/json"]
--- response_body eval
[undef, undef, '{"error": "Service unavailable"}']

=== TEST 12: a wrong Basic password next to a valid API key: the Bearer part wins
--- request eval
["GET /api/1\nAuthorization: Basic %%BASE64(alice:wrong)%%, Bearer $main::T{apikey}"]
--- upstream_jwt: {"username": "jdoe", "realm": "ecmwf"}

=== TEST 13: authotron_require_role applies to remote users (augmented role, and a missing one)
--- request eval
["GET /staff/1\nAuthorization: Bearer $main::T{apikey}", "GET /staff/2\nAuthorization: Bearer $main::T{efaskey}"]
--- error_code eval
[200, 403]

=== TEST 14: legacy headers carry a remote user
--- yaml eval
$main::ALL =~ s/include_legacy_headers: false/include_legacy_headers: true/r
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(efaskey)%%
--- upstream_headers
X-Auth-Username: efas-user
X-Auth-Realm: efas
X-Auth-Roles: forecaster
