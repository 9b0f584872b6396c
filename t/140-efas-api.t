# The `efas-api` provider: the Bearer credential is an EFAS API key, checked with
# GET {uri}?token=<key> (percent-encoded). 200 gives username, roles and the email attribute
# (only that); 403 is a rejection. Unlike upstream (which reports a hard-coded realm `efas`),
# the configured realm is used everywhere: the user, the challenge and X-Auth-Realm filtering.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();

our %T = map { ($_ => unique("efas-$_")) } qw(good noroles nousername forbidden realm fails cached);
$T{special} = unique('e+f/&=?#') . '%2F';

$idp->register(efas => $T{good}, {
    user_id => 7, username => 'efasuser', first_name => 'Efa', last_name => 'Sus',
    email => 'efasuser@example.int', roles => ['admin', 'forecaster'], organisation => 'JRC',
});
$idp->register(efas => $T{noroles}, { username => 'plainuser' });
$idp->register(efas => $T{nousername}, { email => 'x@example.int', roles => ['admin'] });
$idp->register(efas => $T{special}, { username => 'special', roles => [] });
$idp->register(efas => $T{$_}, { username => "user-$_", roles => ['r'] }) for qw(realm fails cached);

defaults(yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 3000 }
http: { connect_timeout_ms: 1000, timeout_ms: 2000 }
providers:
  - type: efas-api
    name: efas
    realm: efas-users
    uri: %%IDP%%/efas/user-details
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location /efas-only/ { authotron on; authotron_realm efas-users; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: a valid key: username, roles, and only the email as an attribute; the key is nowhere
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(good)%%
--- upstream_jwt
{"sub": "efas-users-efasuser", "username": "efasuser", "realm": "efas-users",
 "roles": ["admin", "forecaster"], "attributes": {"email": "efasuser@example.int"}}
--- secret eval
[$main::T{good}]
--- mock_calls: {"efas": 1}
--- check eval
sub {
    my ($run, $res) = @_;
    is_deeply($run->upstream_claims($res->[0])->{attributes}, { email => 'efasuser@example.int' }, 'attributes are exactly the email');
    my ($req) = grep { $_->{route} eq 'efas' } @{ $run->{idp_stats}{requests} };
    is("$req->{path}?$req->{query}", "/efas/user-details?token=$main::T{good}", 'the configured uri is called as it is, with ?token=');
}

=== TEST 2: roles default to none
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(noroles)%%
--- upstream_jwt
{"username": "plainuser", "roles": [], "attributes": {}}

=== TEST 3: 200 without a username is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(nousername)%%
--- error_code: 401

=== TEST 4: 403 is a rejection; the challenge names the configured realm, not "efas"
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(forbidden)%%
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="efas-users"

=== TEST 5: X-Auth-Realm filters on the configured realm ("efas" selects nothing)
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{realm}\nX-Auth-Realm: efas-users",
 "GET /api/2\nAuthorization: Bearer $main::T{realm}\nX-Auth-Realm: efas"]
--- error_code eval
[200, 401]
--- upstream_jwt eval
['{"username": "user-realm", "realm": "efas-users"}', undef]
--- mock_calls: {"efas": 1}

=== TEST 6: authotron_realm with the configured realm selects the provider
--- request: GET /efas-only/x
--- more_headers
Authorization: Bearer %%T(realm)%%
--- upstream_jwt
{"username": "user-realm", "realm": "efas-users"}

=== TEST 7: authotron_realm efas is refused by nginx -t: no provider has that realm
--- config
location /efas-only/ { authotron on; authotron_realm efas; proxy_pass http://echo; }
--- must_die
--- error_log
efas

=== TEST 8: a key with reserved characters is percent-encoded
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(special)%%
--- upstream_jwt
{"username": "special"}

=== TEST 9: 503 from the service: 503 with Retry-After; then it works
--- mock eval
sub { my ($idp) = @_; $idp->fault(efas => 'status', status => 503) }
--- before_request eval
[undef, sub { $_[0]->fault(efas => 'none') }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{fails}", "GET /api/2\nAuthorization: Bearer $main::T{fails}"]
--- error_code eval
[503, 200]
--- response_headers eval
["Retry-After: 5", undef]

=== TEST 10: cached: one call for repeated requests
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{cached}" } 1 .. 4]
--- upstream_jwt: {"username": "user-cached"}
--- mock_calls: {"efas": 1}
