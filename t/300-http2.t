# HTTP/2: many requests share one connection, each stream its own NGINX request on a fake
# connection that NGINX recycles for later streams. Validations finish out of order and after
# their stream or connection may be gone; every answer must reach its own stream, a cancelled
# stream must never be resumed, and the worker must not crash or log an alert (the harness
# checks the error log and that the worker was never respawned).
#
# NGINX configuration: the harness's http2 section, so that the server takes HTTP/2 with prior
# knowledge (h2c, Test::Authotron::H2) beside HTTP/1.1 (the harness's own requests, which check
# that NGINX still serves new connections afterwards): `http2 on;` on one cleartext port from
# NGINX 1.25.1, a second port with `listen ... http2` before; `authotron on;` in
# front of proxy_pass, and `authotron_whoami;`. The access log records whether a request ever
# reached the upstream.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use Test::Authotron qw(:DEFAULT scaled);
use Test::Authotron::H2;
use Test::Authotron::StoreScenarios qw(wait_until);
use Test::Authotron::Tokens;

my $idp = idp();

# Every block ends with an HTTP/1.1 request on a new connection, and the identity service takes
# 1.5 s for every API key, so that validations are in flight long enough to overlap others or to
# be cancelled. Nothing here should log an error or a warning, such as that of a validation that
# did not finish in time.
defaults(
    request => "GET /api/after\nAuthorization: Basic %%BASE64(alice:alice-pw)%%",
    upstream_jwt => '{"username": "alice"}',
    mock => sub { my ($idp) = @_; $idp->delay(whoami => 1500) },
    no_error_log => "[error]\n[warn]",
    http2 => 1,
    nginx_needs => '--with-http_v2_module',
    # The identity service's default timeout, scaled: under valgrind an answer can take seconds.
    yaml => "http: { timeout_ms: ${\ scaled(4000)} }\n" . <<'YAML', http_config => <<'HTTP', config => <<'CONF');
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
log_format upstream '$request $status upstream=$upstream_addr';
HTTP
access_log %%PREFIX%%/access.log upstream;
location /api/ { authotron on; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
CONF

# API keys the mock identity service knows: each answers with a user of its own name.
our %KEY = map { ($_ => unique("h2-$_")) } qw(warm shared new), (map { "burst$_" } 0 .. 99), (map { "gone$_" } 1 .. 5),
  (map { "closed$_" } 1 .. 5), (map { "reload$_" } 1 .. 5);
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

# TEST 2: streams whose validations are in flight when the client cancels them. The survivor
# presents the key of /api/lead while that stream's validation is in flight, and so waits for
# it: cancelling /api/lead must not leave the survivor without an answer. Then new streams on the
# same connection, two with the keys of cancelled streams.
our @CANCELLED = ((map { "GET /api/gone$_\n" . bearer("gone$_") } 1 .. 4), "GET /whoami?gone5\n" . bearer('gone5'),
    "GET /api/lead\n" . bearer('shared'));
our $SURVIVOR = ["GET /api/survivor\n" . bearer('shared'), 200, 'shared-user'];
our @AFTER_CANCEL = (["GET /api/next1\n" . basic('alice:alice-pw'), 200, 'alice'],
    ["GET /api/next2\n" . bearer('gone1'), 200, 'gone1-user'], ["GET /api/next3\n" . bearer('new'), 200, 'new-user'],
    ["GET /api/next4\n" . basic('alice:wrong'), 401, undef], ["GET /whoami\n" . bearer('gone5'), 200, 'gone5-user']);

# TEST 3: streams whose validations are in flight when the client drops the connection, then a
# new connection with the same keys.
our @DROPPED = ((map { "GET /api/closed$_\n" . bearer("closed$_") } 1 .. 4), "GET /whoami?closed5\n" . bearer('closed5'));
our @AFTER_DROP = ((map { ["GET /api/again$_\n" . bearer("closed$_"), 200, "closed$_-user"] } 1 .. 4),
    ["GET /whoami\n" . bearer('closed5'), 200, 'closed5-user'], ["GET /api/again6\n" . basic('bob:bob-pw'), 200, 'bob']);

# TEST 4: streams whose validations are in flight when NGINX reloads.
our @RELOADED = ((map { ["GET /api/reload$_\n" . bearer("reload$_"), 200, "reload$_-user"] } 1 .. 4),
    ["GET /whoami\n" . bearer('reload5'), 200, 'reload5-user']);

# Sends the cases as concurrent streams of the connection and checks every answer.
sub exchange {
    my ($run, $h2, $what, @cases) = @_;
    check_answers($run, $h2, $what, \@cases, [map { $h2->request($_->[0]) } @cases]);
}

# Reads the answers of the streams @$ids, sent for @$cases, and checks each.
sub check_answers {
    my ($run, $h2, $what, $cases, $ids) = @_;
    my @res = $h2->collect(scaled(30), @$ids);
    Test::Authotron::Run::report("$run->{name}: $what: each of " . @$cases . " streams got its own answer",
        map { answer_problems($run, $cases->[$_], $res[$_]) } 0 .. $#$cases);
}

# Sends the requests as streams and returns their ids once the identity service has received
# $calls calls in all: their validations are then in flight, held there by the block's delay.
sub in_flight {
    my ($run, $h2, $calls, @requests) = @_;
    my $idp = $run->{idp};
    my @ids = map { $h2->request($_) } @requests;
    wait_until(scaled(10), sub { $idp->calls('whoami') >= $calls })
      or die "the identity service got " . $idp->calls('whoami') . " of $calls calls\n";
    is(scalar(grep { $h2->answered($_) } @ids), 0,
        "$run->{name}: no stream was answered while its validation was in flight");
    return @ids;
}

# Each request's access log line: it ended with 499 when its client went away, and the module
# never let it through to the upstream afterwards.
sub never_proxied {
    my ($run, @requests) = @_;
    my $log = Test::Authotron::slurp("$run->{prefix}/access.log");
    for my $path (map { /^GET (\S+)/ } @requests) {
        like($log, qr{^GET \Q$path\E HTTP/2\.0 499 upstream=-$}m,
            "$run->{name}: $path: 499 in the access log, never proxied");
    }
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
NGINX configuration: HTTP/2; authotron on + proxy_pass; authotron_whoami. Cached, uncached,
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

=== TEST 2: RST_STREAM on streams with validations in flight; the connection goes on
NGINX configuration: HTTP/2; authotron on + proxy_pass; authotron_whoami. The new streams
are sent while the cancelled streams' calls still wait at the identity service.
--- after_start eval
sub {
    my ($idp, $run) = @_;
    my $h2 = Test::Authotron::H2->connect($run);
    my @cancelled = main::in_flight($run, $h2, scalar @main::CANCELLED, @main::CANCELLED);
    my $survivor = $h2->request($main::SURVIVOR->[0]);
    $h2->cancel(@cancelled);
    main::check_answers($run, $h2, 'after the cancel', [$main::SURVIVOR, @main::AFTER_CANCEL],
        [$survivor, map { $h2->request($_->[0]) } @main::AFTER_CANCEL]);
    is(scalar(grep { $h2->late_frames($_) } @cancelled), 0, "$run->{name}: nothing arrived on a cancelled stream");
    main::never_proxied($run, @main::CANCELLED);
}
--- error_log
client canceled stream
--- mock_calls eval
# the cancelled streams' calls; the survivor's, which the cancelled /api/lead no longer makes
# for it; the new streams' three keys
{ whoami => 6 + 1 + 3 }

=== TEST 3: a connection dropped with validations in flight; new connections work
NGINX configuration: HTTP/2; authotron on + proxy_pass; authotron_whoami.
--- after_start eval
sub {
    my ($idp, $run) = @_;
    my $h2 = Test::Authotron::H2->connect($run);
    main::in_flight($run, $h2, scalar @main::DROPPED, @main::DROPPED);
    $h2->hang_up;
    main::exchange($run, Test::Authotron::H2->connect($run), 'a new connection', @main::AFTER_DROP);
    main::never_proxied($run, @main::DROPPED);
}
--- error_log
client prematurely closed connection while processing HTTP/2 connection
--- mock_calls eval
# the dropped streams' calls, then each of their keys again
{ whoami => 5 + 5 }

=== TEST 4: a reload with validations in flight: the old worker answers every stream, then exits
NGINX configuration: HTTP/2; authotron on + proxy_pass; authotron_whoami; nginx -s reload.
--- after_start eval
sub {
    my ($idp, $run) = @_;
    my $h2 = Test::Authotron::H2->connect($run);
    my @ids = main::in_flight($run, $h2, scalar @main::RELOADED, map { $_->[0] } @main::RELOADED);
    $run->reload;
    main::check_answers($run, $h2, 'after the reload', \@main::RELOADED, \@ids);
}
--- mock_calls eval
{ whoami => 5 }
