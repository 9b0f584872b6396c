# HTTP/2: many requests share one connection, each stream its own NGINX request on a fake
# connection that NGINX recycles for later streams. Validations finish out of order; every
# answer must reach its own stream, and the worker must not crash or log an alert (the harness
# checks the error log and that the worker was never respawned).
#
# NGINX configuration: `http2 on;` on the server's cleartext listener, so that one port takes
# HTTP/2 with prior knowledge (h2c, Test::Authotron::H2) and HTTP/1.1 (the harness's own
# requests, which check that NGINX still serves new connections afterwards); `authotron on;` in
# front of proxy_pass, and `authotron_whoami;`.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use Test::Authotron;
use Test::Authotron::H2;
use Test::Authotron::Tokens;

my $idp = idp();

# Every block ends with an HTTP/1.1 request on a new connection, and the identity service takes
# 1.5 s for every API key, so that validations are in flight long enough to overlap others.
# Nothing here should log an error or a warning, such as that of a validation that did not
# finish in time.
defaults(
    request => "GET /api/after\nAuthorization: Basic %%BASE64(alice:alice-pw)%%",
    upstream_jwt => '{"username": "alice"}',
    mock => sub { my ($idp) = @_; $idp->delay(whoami => 1500) },
    no_error_log => "[error]\n[warn]",
    yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 30000 }
cache: { ttl_seconds: 60, negative_ttl_seconds: 5, capacity: 10000 }
providers:
  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: alice-pw, roles: [user] }
      - username: bob
        password_hash: "$argon2id$v=19$m=4096,t=3,p=1$YXV0aG90cm9uc2FsdDAwMw$gLbQfSQtUSDXlggsOcIg0XV3SjQHPfAg+F1c2n8uZTU"
      - username: carol
        password_hash: "$2y$05$fU80Mvvt7K.r7XgA/sZymOKOSVBhc1Xkea2bWkcYzs4gR2xxPk1GK"
  - { type: ecmwf-api, name: ecmwf, realm: ecmwf, uri: "%%IDP%%/v1" }
YAML
http2 on;
location /api/ { authotron on; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
CONF

# API keys the mock identity service knows: each answers with a user of its own name.
our %KEY = map { ($_ => unique("h2-$_")) } 'warm', map { "burst$_" } 0 .. 99;
$idp->register(whoami => $KEY{$_}, { uid => "$_-user" }) for keys %KEY;

sub basic { "Authorization: Basic %%BASE64($_[0])%%" }
sub bearer { "Authorization: Bearer $KEY{$_[0]}" }

# One case per stream: [request, expected status, the user the backend (or whoami) must see].
# Each path under /api/ is used once, and the echo backend's body starts with the request line
# it received, so an answer cannot pass for another stream's.
our @WARM = (["GET /api/warm-1\n" . basic('alice:alice-pw'), 200, 'alice'],
    ["GET /api/warm-2\n" . basic('bob:bob-pw'), 200, 'bob'], ["GET /api/warm-3\n" . bearer('warm'), 200, 'warm-user']);
our @BURST = map {
    my $i = $_;
    my $kind = $i % 10;
    $kind == 0 ? ["GET /api/$i\n" . basic('alice:alice-pw'), 200, 'alice']                 # cached
  : $kind == 1 ? ["GET /api/$i\n" . basic('bob:bob-pw'), 200, 'bob']                     # cached Argon2id
  : $kind == 2 ? ["GET /api/$i\n" . basic('carol:carol-pw'), 200, 'carol']               # uncached bcrypt
  : $kind == 3 ? ["GET /api/$i\n" . basic("alice:wrong-$i"), 401, undef]
  : $kind == 4 ? ["GET /api/$i\n" . basic("bob:wrong-$i"), 401, undef]                  # a hash each
  : $kind == 5 ? ["GET /api/$i\n" . bearer("burst$i"), 200, "burst$i-user"]             # slow service
  : $kind == 6 ? ["GET /api/$i\n" . bearer('warm'), 200, 'warm-user']                    # cached
  : $kind == 7 ? ["GET /api/$i\nAuthorization: Bearer " . unique("h2-unknown-$i"), 401, undef]   # slow no
  : $kind == 8 ? ["GET /whoami\n" . basic('carol:carol-pw'), 200, 'carol']
  :              ["GET /whoami\n" . bearer("burst$i"), 200, "burst$i-user"];
} 0 .. 99;

# Sends the cases as concurrent streams of the connection and checks every answer.
sub exchange {
    my ($run, $h2, $what, @cases) = @_;
    my @res = $h2->collect(30, map { $h2->request($_->[0]) } @cases);
    Test::Authotron::Run::report("$run->{name}: $what: each of " . @cases . " streams got its own answer",
        map { answer_problems($run, $cases[$_], $res[$_]) } 0 .. $#cases);
}

# What is wrong with a stream's answer: its status and, for an allowed request, the user that
# whoami or the backend saw, and the request line the backend received (this stream's own).
sub answer_problems {
    my ($run, $case, $res) = @_;
    my ($spec, $status, $user) = @$case;
    my ($path) = $spec =~ /^GET (\S+)/;
    my $at = "$path (" . (split /\n/, $spec)[1] . ")";
    return ("$at: no complete answer") unless defined $res->{status};
    return ("$at: status $res->{status}, expected $status") unless $res->{status} == $status;
    return () unless defined $user;
    if ($path =~ m{^/whoami}) {
        my $seen = eval { decode_json($res->{body})->{username} } // "(not JSON: $res->{body})";
        return $seen eq $user ? () : ("$at: whoami answered for $seen");
    }
    my ($request_line) = $res->{body} =~ /\A(.*)/;
    return ("$at: the backend received $request_line") unless $request_line =~ m{^GET \Q$path\E HTTP/};
    my $seen = ($run->upstream_claims($res) // {})->{username} // '(no valid JWT)';
    return $seen eq $user ? () : ("$at: the backend received a JWT for $seen");
}

run_tests();

__DATA__

=== TEST 1: 100 concurrent streams on one connection, each with its own answer
NGINX configuration: http2 on; authotron on + proxy_pass; authotron_whoami. Cached, uncached,
wrong and slow credentials: the slow validations overlap the fast and cached ones.
--- after_start eval
sub {
    my ($idp, $run) = @_;
    my $h2 = Test::Authotron::H2->connect($run);
    main::exchange($run, $h2, 'warm-up', @main::WARM);
    main::exchange($run, $h2, 'burst', @main::BURST);
}
--- mock_calls eval
# the warm-up's key, then one call for each uncached key of the burst (kinds 5, 7 and 9)
{ whoami => 1 + 30 }

