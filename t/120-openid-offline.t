# The `openid-offline` provider: the Bearer credential is a Keycloak offline token. The module
# introspects it (HTTP Basic private client, form token=...), requires active and an exact
# `offline_access` scope, exchanges it for an access token (refresh_token grant with the public
# client_id) and verifies that JWT against the realm's JWKS, the same calls as upstream. The
# mock checks every request's shape; the harness fails a block on any protocol violation.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();

sub access { my (%c) = @_; jwt(claims => { iss => 'https://idp.test/realms/ecmwf', scope => 'openid profile', %c }) }

our %T = map { ($_ => unique("offline-$_")) } qw(good inactive substring noscope badaccess revoked other slow flight
  fails recover timeout short realm prefix aud noaccess badclient);

$idp->keycloak_offline($T{good}, access_token => access(preferred_username => 'alice',
    realm_access => { roles => ['user'] }, email => 'alice@example.int'));
$idp->keycloak_offline($T{inactive}, active => 0);
$idp->keycloak_offline($T{substring}, scope => 'openid offline_accessible profile', access_token => access(preferred_username => 'sneaky'));
$idp->keycloak_offline($T{noscope}, scope => undef, access_token => access(preferred_username => 'sneaky'));
$idp->keycloak_offline($T{badaccess}, access_token => jwt(key => 'rsa-rogue', kid => 'rsa-1', claims => { preferred_username => 'mallory' }));
$idp->keycloak_offline($T{revoked});    # active, but the exchange answers 400 invalid_grant
$idp->keycloak_offline($T{$_}, access_token => access(preferred_username => "user-$_"))
  for qw(other slow flight fails recover timeout realm prefix);
$idp->keycloak_offline($T{aud}, access_token => access(preferred_username => 'aud-user', aud => 'someone-else'));
# Active, but the exchange answers 200 without an access_token / 400 invalid_client.
$idp->keycloak_offline($T{noaccess});
$idp->register(token => $T{noaccess}, { token_type => 'Bearer', expires_in => 300 });
$idp->keycloak_offline($T{badclient});
$idp->register(token => $T{badclient}, { error => 'invalid_client', error_description => 'Invalid client credentials' }, 400);

# authotron.yaml with the openid-offline provider: `top` replaces the auth line above
# `providers:`, the named settings replace their defaults, and each line of `more` is one more setting.
sub offline_yaml {
    my (%o) = (top => "auth: { timeout_in_ms: 3000 }\n", name => 'keycloak-offline', realm => 'ecmwf', cert_uri => '%%IDP%%/jwks',
        secret => 'private-s3cret', iam_url => '%%IDP%%', more => [], @_);
    return $o{top} . <<"YAML" . join('', map { "    $_\n" } @{ $o{more} });
providers:
  - type: openid-offline
    name: $o{name}
    realm: $o{realm}
    cert_uri: $o{cert_uri}
    public_client_id: authotron-public
    private_client_id: authotron-private
    private_client_secret: $o{secret}
    iam_url: $o{iam_url}
YAML
}

defaults(yaml => offline_yaml(top => "auth: { timeout_in_ms: 3000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 2000 }\n",
        cert_uri => '%%IDP%%/realms/ecmwf/protocol/openid-connect/certs'),
    config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: an active offline token is introspected, exchanged, and its access token mapped
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{good}", "GET /api/2\nAuthorization: Bearer $main::T{good}"]
--- upstream_jwt
{"sub": "ecmwf-alice", "username": "alice", "realm": "ecmwf", "roles": ["user"],
 "scopes": {"keycloak-offline": ["openid", "profile"]},
 "attributes": {"email": "alice@example.int", "iss": "https://idp.test/realms/ecmwf"}}
--- mock_calls: {"introspect": 1, "token": 1}
--- secret eval
[$main::T{good}]
--- check eval
sub {
    my ($run, $res, $idp) = @_;
    my ($intro) = grep { $_->{route} eq 'introspect' } @{ $run->{idp_stats}{requests} };
    is($intro->{path}, '/realms/ecmwf/protocol/openid-connect/token/introspect', 'introspection URL');
    is($intro->{body}, "token=$main::T{good}", 'introspection form body');
    my ($auth) = map { $_->[1] } grep { lc $_->[0] eq 'authorization' } @{ $intro->{headers} };
    is($auth, 'Basic ' . MIME::Base64::encode_base64('authotron-private:private-s3cret', ''), 'private client credentials');
}

=== TEST 2: an inactive token is refused without an exchange, and the refusal is cached
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{inactive}", "GET /api/2\nAuthorization: Bearer $main::T{inactive}"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="ecmwf"
--- mock_calls: {"introspect": 1, "token": 0}

=== TEST 3: offline_access must be a whole scope token; a missing scope is refused too
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{substring}", "GET /api/2\nAuthorization: Bearer $main::T{noscope}"]
--- error_code: 401
--- mock_calls: {"introspect": 2, "token": 0}

=== TEST 4: an access token that does not verify against the JWKS is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(badaccess)%%
--- error_code: 401

=== TEST 5: the exchange refused by Keycloak (400 invalid_grant) is a rejection, not an outage
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(revoked)%%
--- error_code: 401
--- mock_calls: {"introspect": 1, "token": 1}

=== TEST 6: the provider's realm names the Keycloak realm in both URLs; iam_url may have a path
--- yaml eval
offline_yaml(name => 'desp', realm => 'desp', iam_url => '%%IDP%%/auth')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(realm)%%
--- upstream_jwt
{"username": "user-realm", "realm": "desp", "scopes": {"desp": ["openid", "profile"]}}
--- check eval
sub {
    my ($run) = @_;
    is_deeply([sort keys %{ $run->{idp_stats}{paths} }],
        ['/auth/realms/desp/protocol/openid-connect/token', '/auth/realms/desp/protocol/openid-connect/token/introspect', '/jwks'],
        'the URLs the module called');
}

=== TEST 7: wrong client credentials: Keycloak answers 401: our client is misconfigured, 503
--- yaml eval
offline_yaml(secret => 'not-the-secret')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(other)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- error_log eval
[qr/client/]
--- secret
not-the-secret

=== TEST 8: introspection fails (500): 503 with Retry-After; once it works again, 200
--- mock eval
sub { my ($idp) = @_; $idp->fault(introspect => 'status', status => 500) }
--- before_request eval
[undef, undef, sub { my ($idp) = @_; $idp->fault(introspect => 'none') }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{fails}",
 "GET /authenticate\nAuthorization: Bearer $main::T{fails}",
 "GET /api/2\nAuthorization: Bearer $main::T{fails}"]
--- error_code eval
[503, 503, 200]
--- response_headers eval
["Retry-After: 5", "Retry-After: 5\nContent-Type: application/json", undef]
--- response_body eval
[undef, '{"error": "Service unavailable"}', undef]
--- upstream_jwt eval
[undef, undef, '{"username": "user-fails"}']
--- mock_calls: {"introspect": 3, "token": 1}

=== TEST 9: the exchange fails (502, then garbage, then a dropped connection): 503 each time
--- mock eval
sub { my ($idp) = @_; $idp->fault(token => 'status', status => 502) }
--- before_request eval
[undef, sub { $_[0]->fault(token => 'garbage') }, sub { $_[0]->fault(token => 'close') }, sub { $_[0]->fault(token => 'none') }]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{recover}" } 1 .. 4]
--- error_code eval
[503, 503, 503, 200]
--- upstream_jwt eval
[undef, undef, undef, '{"username": "user-recover"}']

=== TEST 10: introspection slower than auth.timeout_in_ms: 503 at the timeout, not later
--- yaml eval
offline_yaml(top => "auth: { timeout_in_ms: 1000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 8000 }\n")
--- mock eval
sub { my ($idp) = @_; $idp->delay(introspect => 4000) }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(timeout)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- elapsed_below: 3

=== TEST 11: cache_ttl_seconds: after it, the token is introspected and exchanged again
--- yaml eval
offline_yaml(more => ['cache_ttl_seconds: 1'])
--- before_request eval
[undef, undef, sub { Time::HiRes::sleep(2) }]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{slow}" } 1 .. 3]
--- upstream_jwt: {"username": "user-slow"}
--- mock_calls: {"introspect": 2, "token": 2}

=== TEST 12: a cached identity never outlives its access token's exp
--- yaml eval
offline_yaml(more => ['leeway_seconds: 0'])
--- mock eval
sub {
    my ($idp) = @_;
    $idp->keycloak_offline($main::T{short}, access_token => main::access(preferred_username => 'short', exp => time + 3));
}
--- before_request eval
[undef, sub {
    my ($idp) = @_;
    Time::HiRes::sleep(4);
    $idp->keycloak_offline($main::T{short}, access_token => main::access(preferred_username => 'short-renewed'));
}]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{short}" } 1 .. 2]
--- upstream_jwt eval
['{"username": "short"}', '{"username": "short-renewed"}']
--- mock_calls: {"token": 2}

=== TEST 12b: an exchange answered 200 without an access_token is an outage (503)
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(noaccess)%%
--- error_code: 503

=== TEST 12c: an exchange refused with invalid_client (400) means our client is misconfigured: 503
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(badclient)%%
--- error_code: 503

=== TEST 13: the JWT checks (aud) apply to the exchanged access token
--- yaml eval
offline_yaml(more => ['aud: authotron'])
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{aud}"]
--- error_code: 401

=== TEST 14: 200 concurrent requests with one new offline token: one introspection, one exchange
--- mock eval
sub { my ($idp) = @_; $idp->delay(introspect => 300); $idp->delay(token => 300) }
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{flight}" } 1 .. 200]
--- parallel
--- upstream_jwt: {"username": "user-flight"}
--- mock_calls: {"introspect": 1, "token": 1}
--- timeout: 30
