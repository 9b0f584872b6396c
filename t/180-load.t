# Concurrency against remote identity services, on one NGINX worker:
# - single-flight: many concurrent requests with one new credential make ONE call;
# - the event loop never blocks: while 200 validations wait on a slow service, the same
#   worker keeps answering Basic users and cached credentials at once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();

our %T = (rotated => jwt(key => 'rsa-2', claims => { preferred_username => 'rotated-user' }),
    map { ($_ => unique("load-$_")) } qw(flight warm));
our @SLOW = map { unique("load-slow-$_") } 1 .. 200;
$idp->register(whoami => $T{flight}, { uid => 'flight-user' });
$idp->register(whoami => $T{warm}, { uid => 'warm-user' });
$idp->register(whoami => $SLOW[$_], { uid => "slow-$_" }) for 0 .. $#SLOW;

defaults(yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 20000 }
http: { connect_timeout_ms: 2000, timeout_ms: 15000 }
providers:
  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: alice-pw, roles: [user] }
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: %%IDP%%/v1
  - type: jwt
    name: kc
    realm: kc
    cert_uri: %%IDP%%/jwks
    iam_realm: kc
YAML
location /api/ { authotron on; proxy_pass http://echo; }
CONF

# 200 validations that each wait 2 s at the identity service, then 20 Basic and 20 cached
# requests sent behind them.
our @EVENT_LOOP = (
    (map { ["GET /api/slow/$_\nAuthorization: Bearer $SLOW[$_]", 10, qq({"username": "slow-$_"})] } 0 .. 199),
    (map { ["GET /api/basic/$_\nAuthorization: Basic %%BASE64(alice:alice-pw)%%", 1, '{"username": "alice"}'] } 1 .. 20),
    (map { ["GET /api/cached/$_\nAuthorization: Bearer $T{warm}", 1, '{"username": "warm-user"}'] } 1 .. 20),
);

run_tests();

__DATA__

=== TEST 1: single-flight: 200 concurrent requests with one new API key make one who-am-i call
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 500) }
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{flight}" } 1 .. 200]
--- parallel
--- upstream_jwt: {"username": "flight-user", "realm": "ecmwf"}
--- mock_calls: {"whoami": 1}
--- timeout: 30

=== TEST 2: single-flight: 200 concurrent requests under a new kid make one JWKS refetch
--- after_start eval
sub { my ($idp) = @_; Time::HiRes::sleep(0.5); $idp->jwks('default', from => 'rotated'); $idp->delay(jwks => 300) }
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{rotated}" } 1 .. 200]
--- parallel
--- upstream_jwt: {"username": "rotated-user", "realm": "kc"}
--- mock_calls: {"jwks": 2}
--- timeout: 30

=== TEST 3: one worker keeps answering Basic and cached requests while 200 validations wait 2 s
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 2000) }
--- after_start eval
sub {
    my ($idp, $run) = @_;
    $idp->delay(whoami => 0);
    my $warm = $run->request("GET /api/warm\nAuthorization: Bearer $main::T{warm}");
    is($warm->{status}, 200, 'the cached credential is warmed up');
    $idp->delay(whoami => 2000);
}
--- request eval
[map { $_->[0] } @main::EVENT_LOOP]
--- parallel
--- upstream_jwt eval
[map { $_->[2] } @main::EVENT_LOOP]
--- elapsed_below eval
[map { $_->[1] } @main::EVENT_LOOP]
--- mock_calls: {"whoami": 201}
--- timeout: 30
--- check eval
sub {
    my ($run, $res) = @_;
    my @slow = map { $_->{elapsed} } @$res[0 .. 199];
    my @fast = map { $_->{elapsed} } @$res[200 .. $#$res];
    my ($max_fast) = sort { $b <=> $a } @fast;
    my ($min_slow) = sort { $a <=> $b } @slow;
    cmp_ok($min_slow, '>=', 1.9, 'the slow validations really waited on the identity service');
    cmp_ok($max_fast, '<', $min_slow, 'every Basic and cached request was answered before any slow one');
    diag(sprintf 'slowest fast answer %.3f s; most concurrent who-am-i calls: %d', $max_fast,
        $run->{idp_stats}{inflight_max}{whoami} // 0);
}
