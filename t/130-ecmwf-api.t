# The `ecmwf-api` provider: the Bearer credential is an ECMWF API key, checked with
# GET {uri}/who-am-i?token=<key> (percent-encoded). 200 with a non-empty uid is the user (email
# as the ecmwf-email attribute); 403 is a rejection; anything else means the service could not
# answer (503). The key itself must never reach the minted JWT, the upstream or the logs.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();

our %T = map { ($_ => unique("key-$_")) } qw(good noemail nouid emptyuid forbidden cached ttl fails timeout
  slowhttp garbage close reset refused recover negative status401 status404 status400 status429 status408 wrongtype
  bound1 bound2 bound3 bound4 bound5);
# Characters that change a query string's meaning unless the key is percent-encoded.
$T{special} = unique('k+y/&=%25#?;') . '~!$\'()*@:';

$idp->register(whoami => $T{good}, { uid => 'jdoe', email => 'jdoe@ecmwf.int', full_name => 'J. Doe' });
$idp->register(whoami => $T{noemail}, { uid => 'noemail' });
$idp->register(whoami => $T{nouid}, { email => 'ghost@ecmwf.int' });
$idp->register(whoami => $T{emptyuid}, { uid => '', email => 'ghost@ecmwf.int' });
$idp->register(whoami => $T{wrongtype}, { uid => 42 });
$idp->register(whoami => $T{special}, { uid => 'special', email => 'special@ecmwf.int' });
$idp->register(whoami => $T{status401}, { message => 'nope' }, 401);
$idp->register(whoami => $T{status404}, { message => 'no such thing' }, 404);
$idp->register(whoami => $T{status400}, { message => 'bad' }, 400);
$idp->register(whoami => $T{status429}, { message => 'slow down' }, 429);
$idp->register(whoami => $T{status408}, '', 408);
$idp->register(whoami => $T{$_}, { uid => "user-$_" }) for qw(cached ttl fails timeout slowhttp garbage close reset refused recover
  bound1 bound2 bound3 bound4 bound5);

# authotron.yaml with the ecmwf-api provider: `top` replaces the auth line above `providers:`,
# `uri` the who-am-i service, and each line of `more` is one more provider setting.
sub api_yaml {
    my (%o) = (top => "auth: { timeout_in_ms: 3000 }\n", uri => '%%IDP%%/v1', more => [], @_);
    return $o{top} . <<"YAML" . join('', map { "    $_\n" } @{ $o{more} });
providers:
  - type: ecmwf-api
    name: ecmwf-api
    realm: ecmwf
    uri: $o{uri}
YAML
}

defaults(yaml => api_yaml(top => "auth: { timeout_in_ms: 3000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 2000 }\n"),
    config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: a valid key: the uid is the username, the email an attribute, and the key is nowhere
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(good)%%
--- upstream_headers
Authorization: Bearer %%JWT%%
--- upstream_jwt
{"sub": "ecmwf-jdoe", "username": "jdoe", "realm": "ecmwf", "roles": [],
 "attributes": {"ecmwf-email": "jdoe@ecmwf.int"}}
--- secret eval
[$main::T{good}]
--- mock_calls: {"whoami": 1}
--- check eval
sub {
    my ($run, $res) = @_;
    my $claims = $run->upstream_claims($res->[0]);
    is_deeply($claims->{attributes}, { 'ecmwf-email' => 'jdoe@ecmwf.int' }, 'the only attribute is ecmwf-email');
    my ($req) = grep { $_->{route} eq 'whoami' } @{ $run->{idp_stats}{requests} };
    is("$req->{path}?$req->{query}", "/v1/who-am-i?token=$main::T{good}", 'the who-am-i URL');
}

=== TEST 2: /authenticate and /whoami never show the key either
--- request eval
["GET /authenticate\nAuthorization: Bearer $main::T{good}", "GET /whoami\nAuthorization: Bearer $main::T{good}"]
--- response_jwt eval
['{"username": "jdoe", "attributes": {"ecmwf-email": "jdoe@ecmwf.int"}}', undef]
--- response_body_like eval
[undef, '"username":\s*"jdoe"']
--- secret eval
[$main::T{good}]
--- mock_calls: {"whoami": 1}

=== TEST 3: without an email there is no attribute
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(noemail)%%
--- upstream_jwt
{"username": "noemail", "attributes": {}}

=== TEST 4: a key with reserved characters is percent-encoded in the query
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(special)%%
--- upstream_jwt
{"username": "special"}
--- secret eval
[$main::T{special}]

=== TEST 5: 403 from who-am-i is a rejection with the challenge, cached as one
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{forbidden}", "GET /api/2\nAuthorization: Bearer $main::T{forbidden}"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="ecmwf"
--- mock_calls: {"whoami": 1}

=== TEST 6: 200 without a uid, with an empty uid, or a uid that is not a string is refused
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(nouid emptyuid wrongtype)]
--- error_code: 401

=== TEST 7: a valid key is asked once and then served from the cache
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{cached}" } 1 .. 5]
--- upstream_jwt: {"username": "user-cached"}
--- mock_calls: {"whoami": 1}

=== TEST 8: cache_ttl_seconds: after it, the key is checked again
--- yaml eval
api_yaml(more => ['cache_ttl_seconds: 1'])
--- before_request eval
[undef, undef, sub { Time::HiRes::sleep(2) }]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{ttl}" } 1 .. 3]
--- upstream_jwt: {"username": "user-ttl"}
--- mock_calls: {"whoami": 2}

=== TEST 9: a rejection is cached for cache.negative_ttl_seconds only
--- yaml eval
api_yaml(top => "auth: { timeout_in_ms: 3000 }\ncache: { ttl_seconds: 60, negative_ttl_seconds: 1, capacity: 100 }\n")
--- before_request eval
[undef, undef, sub { Time::HiRes::sleep(2) }]
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{negative}" } 1 .. 3]
--- error_code: 401
--- mock_calls: {"whoami": 2}

=== TEST 10: 500 from who-am-i: 503 with Retry-After (also from /authenticate), never cached
--- mock eval
sub { my ($idp) = @_; $idp->fault(whoami => 'status', status => 500, body => 'oops') }
--- before_request eval
[undef, undef, sub { my ($idp) = @_; $idp->fault(whoami => 'none') }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{fails}",
 "GET /authenticate\nAuthorization: Bearer $main::T{fails}",
 "GET /api/2\nAuthorization: Bearer $main::T{fails}"]
--- error_code eval
[503, 503, 200]
--- response_headers eval
["Retry-After: 5\n!WWW-Authenticate", "Retry-After: 5\nContent-Type: application/json", undef]
--- response_body eval
[undef, '{"error": "Service unavailable"}', undef]
--- upstream_jwt eval
[undef, undef, '{"username": "user-fails"}']
--- mock_calls: {"whoami": 3}
--- error_log
[warn]
--- secret eval
[$main::T{fails}]

=== TEST 11: 200 with a body that is not JSON: 503
--- mock eval
sub { my ($idp) = @_; $idp->fault(whoami => 'garbage') }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(garbage)%%
--- error_code: 503
--- response_headers
Retry-After: 5

=== TEST 12: the connection closes without an answer, or is reset: 503
--- mock eval
sub { my ($idp) = @_; $idp->fault(whoami => 'close') }
--- before_request eval
[undef, sub { $_[0]->fault(whoami => 'reset') }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{close}", "GET /api/2\nAuthorization: Bearer $main::T{reset}"]
--- error_code: 503
--- response_headers
Retry-After: 5

=== TEST 13: connection refused: 503, and the warning says the connection was refused
--- yaml eval
api_yaml(uri => '%%DEAD%%/v1')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(refused)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- error_log
error sending request: client error (Connect): tcp connect error: Connection refused

=== TEST 14: who-am-i slower than auth.timeout_in_ms: 503 at the timeout
--- yaml eval
api_yaml(top => "auth: { timeout_in_ms: 1000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 8000 }\n")
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 4000) }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(timeout)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- elapsed_below: 3

=== TEST 15: who-am-i slower than http.timeout_ms: 503 at the HTTP timeout
--- yaml eval
api_yaml(top => "auth: { timeout_in_ms: 8000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 1000 }\n")
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 4000) }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(slowhttp)%%
--- error_code: 503
--- elapsed_below: 3

=== TEST 15b: connecting hangs (a full accept queue): 503 at http.connect_timeout_ms
--- yaml eval
api_yaml(top => "auth: { timeout_in_ms: 8000 }\nhttp: { connect_timeout_ms: 500, timeout_ms: 8000 }\n", uri => '%%BLACKHOLE%%/v1')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(slowhttp)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- elapsed_below: 2.5

=== TEST 16: the service goes down (connection refused) and comes back
--- after_start eval
sub { my ($idp) = @_; $idp->down }
--- before_request eval
[undef, undef, sub { my ($idp) = @_; $idp->up }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{recover}",
 "GET /authenticate\nAuthorization: Bearer $main::T{recover}",
 "GET /api/2\nAuthorization: Bearer $main::T{recover}"]
--- error_code eval
[503, 503, 200]
--- response_headers eval
["Retry-After: 5", "Retry-After: 5", undef]
--- upstream_jwt eval
[undef, undef, '{"username": "user-recover"}']

=== TEST 17: 400, 401 and 404 from who-am-i are refusals (401); 408 and 429 mean it could not answer (503)
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(status400 status401 status404 status408 status429)]
--- error_code eval
[401, 401, 401, 503, 503]

=== TEST 18: a uri that is not an http(s) URL fails nginx -t
--- yaml
providers:
  - { type: ecmwf-api, name: ecmwf-api, realm: ecmwf, uri: "ftp://127.0.0.1/v1" }
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:ftp://%%', qr/\buri\b/]

=== TEST 19: http.max_concurrent_calls: with 2 calls in flight, more keys get 503 at once and the service never sees them
--- yaml eval
api_yaml(top => "auth: { timeout_in_ms: 5000 }\nhttp: { max_concurrent_calls: 2 }\n")
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 1500) }
--- parallel
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(bound1 bound2 bound3 bound4 bound5)]
--- error_code eval
[map { '200|503' } 1 .. 5]
--- mock_calls: {"whoami": 2}
--- check eval
sub {
    my ($run, $responses) = @_;
    my @codes = sort map { $_->{status} } @$responses;
    Test::More::is_deeply(\@codes, [200, 200, 503, 503, 503], 'two keys validated, three refused');
}
