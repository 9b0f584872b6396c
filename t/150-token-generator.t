# The `ecmwf-token-generator` provider: the Bearer credential is an offline token. The module
# asks POST {token_generator_url}/validate-token {"token", "client_id"} whether it is active,
# exchanges it with POST .../admin/refresh-access-token {"client_id", "client_secret",
# "refresh_token"} and verifies the access token against cert_uri's JWKS, the same calls as
# upstream (and the scenario of upstream's end-to-end test).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();

sub access { my (%o) = @_; jwt(%o, claims => { iss => 'https://idp.test/realms/ecmwf', scope => 'openid', %{ $o{claims} // {} } }) }

# As upstream's end-to-end test: the refresh token is itself a JWT signed with a key nobody
# knows (the module must not try to verify it), the access token is HS512 on an oct key.
our %T = (upstream => jwt(key => 'rsa-rogue', kid => 'refresh-key', claims => { sub => 'refresh', typ => 'Offline' }),
    map { ($_ => unique("tokengen-$_")) } qw(rs256 inactive badaccess fails exchange_fails noaccess cached flight short aud
      emptyexchange));

$idp->token_generator($T{upstream}, access_token => access(alg => 'HS512', key => 'hs-1',
    claims => { preferred_username => 'tg-user', realm_access => { roles => ['user', 'admin'] } }));
$idp->token_generator($T{rs256}, access_token => access(claims => { preferred_username => 'rs-user', email => 'rs@example.int' }));
$idp->token_generator($T{inactive}, active => 0);
$idp->token_generator($T{badaccess}, access_token => access(key => 'rsa-rogue', kid => 'rsa-1', claims => { preferred_username => 'mallory' }));
$idp->token_generator($T{noaccess});    # active, but the exchange answers 400
$idp->token_generator($T{$_}, access_token => access(claims => { preferred_username => "user-$_" })) for qw(fails exchange_fails cached flight);
$idp->token_generator($T{aud}, access_token => access(claims => { preferred_username => 'aud-user', aud => 'someone-else' }));
$idp->token_generator($T{emptyexchange});
$idp->register(refresh => $T{emptyexchange}, { expires_in => 300 });    # 200 without access_token

# authotron.yaml with the token generator provider: `top` replaces the auth line above
# `providers:`, `secret` the client secret, and each line of `more` is one more provider setting.
sub tokengen_yaml {
    my (%o) = (top => "auth: { timeout_in_ms: 3000 }\n", secret => 'tokengen-s3cret', more => [], @_);
    return $o{top} . <<"YAML" . join('', map { "    $_\n" } @{ $o{more} });
providers:
  - type: ecmwf-token-generator
    name: tokengen
    realm: ecmwf
    cert_uri: %%IDP%%/jwks
    client_id: tokengen-client
    client_secret: $o{secret}
    token_generator_url: %%IDP%%/token-generator
YAML
}

defaults(yaml => tokengen_yaml(top => "auth: { timeout_in_ms: 3000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 2000 }\n"),
    config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: upstream's end-to-end case: validate once, exchange once, HS512 access token (allow_hmac)
--- yaml eval
tokengen_yaml(more => ['allow_hmac: true'])
--- request: GET /authenticate
--- more_headers
Authorization: Bearer %%T(upstream)%%
--- response_jwt
{"username": "tg-user", "realm": "ecmwf", "roles": ["user", "admin"], "scopes": {"tokengen": ["openid"]}}
--- mock_calls: {"validate": 1, "refresh": 1, "jwks": 1}
--- check eval
sub {
    my ($run) = @_;
    my @reqs = @{ $run->{idp_stats}{requests} };
    my ($v) = grep { $_->{route} eq 'validate' } @reqs;
    my ($r) = grep { $_->{route} eq 'refresh' } @reqs;
    is($v->{path}, '/token-generator/validate-token', 'validate URL');
    is_deeply(JSON::PP::decode_json($v->{body}), { token => $main::T{upstream}, client_id => 'tokengen-client' }, 'validate body');
    is($r->{path}, '/token-generator/admin/refresh-access-token', 'exchange URL');
    is_deeply(JSON::PP::decode_json($r->{body}),
        { client_id => 'tokengen-client', client_secret => 'tokengen-s3cret', refresh_token => $main::T{upstream} }, 'exchange body');
}

=== TEST 2: without allow_hmac the HS512 access token is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(upstream)%%
--- error_code: 401

=== TEST 3: an RS256 access token with the default settings; repeated requests hit the cache
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{rs256}" } 1 .. 3]
--- upstream_jwt
{"sub": "ecmwf-rs-user", "username": "rs-user", "realm": "ecmwf", "roles": [],
 "scopes": {"tokengen": ["openid"]}, "attributes": {"email": "rs@example.int"}}
--- mock_calls: {"validate": 1, "refresh": 1}
--- secret eval
[$main::T{rs256}]

=== TEST 4: an inactive token is refused without an exchange; the refusal is cached
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{inactive}" } 1 .. 2]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="ecmwf"
--- mock_calls: {"validate": 1, "refresh": 0}

=== TEST 5: an access token that does not verify is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(badaccess)%%
--- error_code: 401

=== TEST 6: the exchange is refused (400 invalid_grant): 401
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(noaccess)%%
--- error_code: 401

=== TEST 6b: an exchange answered 200 without an access_token is an outage (503)
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(emptyexchange)%%
--- error_code: 503

=== TEST 7: validate-token answers 500 with an empty body: 503 with Retry-After; then 200
--- mock eval
sub { my ($idp) = @_; $idp->fault(validate => 'status', status => 500) }
--- before_request eval
[undef, undef, sub { $_[0]->fault(validate => 'none') }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{fails}",
 "GET /authenticate\nAuthorization: Bearer $main::T{fails}",
 "GET /api/2\nAuthorization: Bearer $main::T{fails}"]
--- error_code eval
[503, 503, 200]
--- response_headers eval
["Retry-After: 5", "Retry-After: 5", undef]
--- response_body eval
[undef, '{"error": "Service unavailable"}', undef]
--- upstream_jwt eval
[undef, undef, '{"username": "user-fails"}']
--- mock_calls: {"validate": 3, "refresh": 1}

=== TEST 8: the exchange answers 500, then garbage: 503; then 200
--- mock eval
sub { my ($idp) = @_; $idp->fault(refresh => 'status', status => 500) }
--- before_request eval
[undef, sub { $_[0]->fault(refresh => 'garbage') }, sub { $_[0]->fault(refresh => 'none') }]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{exchange_fails}" } 1 .. 3]
--- error_code eval
[503, 503, 200]

=== TEST 9: wrong client secret: the exchange answers 401: our client is misconfigured, 503
--- yaml eval
tokengen_yaml(secret => 'wrong-tokengen-secret')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(cached)%%
--- error_code: 503
--- secret
wrong-tokengen-secret

=== TEST 10: a cached identity never outlives its access token's exp
--- yaml eval
tokengen_yaml(more => ['leeway_seconds: 0'])
--- mock eval
sub { $_[0]->token_generator($main::T{short}, access_token => main::access(claims => { preferred_username => 'short', exp => time + 3 })) }
--- before_request eval
[undef, sub {
    Time::HiRes::sleep(4);
    $_[0]->token_generator($main::T{short}, access_token => main::access(claims => { preferred_username => 'short-renewed' }));
}]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{short}" } 1 .. 2]
--- upstream_jwt eval
['{"username": "short"}', '{"username": "short-renewed"}']
--- mock_calls: {"refresh": 2}

=== TEST 11: the JWT checks (aud) apply to the exchanged access token
--- yaml eval
tokengen_yaml(more => ['aud: authotron'])
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(aud)%%
--- error_code: 401

=== TEST 12: 200 concurrent requests with one new token: one validation, one exchange
--- mock eval
sub { my ($idp) = @_; $idp->delay(validate => 300); $idp->delay(refresh => 300) }
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{flight}" } 1 .. 200]
--- parallel
--- upstream_jwt: {"username": "user-flight"}
--- mock_calls: {"validate": 1, "refresh": 1}
--- timeout: 30
