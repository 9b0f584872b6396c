# Instant revocation across a fleet: two NGINX instances (A and B: own prefixes, ports and
# workers) share one PostgreSQL database, and every worker listens for the revocations the
# others announce. A token revoked on A is refused by B long before B's cache TTL could have
# expired; with B's listening connection gone, B falls back to the TTL bound, and once it has
# reconnected revocations are instant again. The deadlines below are generous margins, far
# below the TTL a missing listener would take, not timing thresholds; the measured latency is
# printed.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Postgres;
use Test::Authotron::StoreScenarios;
use Time::HiRes qw(sleep time);

our $PG = eval { Test::Authotron::Postgres->start };
unless ($PG) {
    fail("a PostgreSQL server for the token-store tests starts (scripts/postgres)");
    diag($@);
    done_testing();
    exit 1;
}

our $LONG_TTL = 300;
our $SHORT_TTL = 6;
our $INSTANT = 5;    # seconds: a slow CI machine's margin; without a listener it takes the TTL
our $MARGIN = 3;

store_backend(
    store => { type => 'postgres', uri => '"%%T(store_uri)%%"' },
    before_start => sub { $main::T{store_uri} = $PG->create_database },
);
my %store_defaults = store_defaults();
defaults(
    %store_defaults,
    yaml => store_yaml(cache_ttl_seconds => $LONG_TTL),
    config => $store_defaults{config} . "location = /metrics { authotron_metrics; }\n",
);

sub metric_becomes {
    my ($run, $name, $value, $seconds) = @_;
    ok(wait_until($seconds, sub { (metric($run, $name) // '') eq $value }), "$run->{name}: $name is $value")
      or diag('it is ' . (metric($run, $name) // 'absent'));
}

# B is A's configuration with its own application_name, so its connections can be told apart.
sub start_b {
    my ($a) = @_;
    my $uri = $main::T{store_uri};
    $main::T{store_uri} = "$uri?application_name=fleet-b";
    my $b = $a->sibling;
    $main::T{store_uri} = $uri;
    return $b;
}

sub error_log_of { Test::Authotron::slurp("$_[0]{prefix}/error.log") }

sub database { $PG->database_of($main::T{store_uri}) }

# The pids of the listening connections with this application_name, in the block's database.
sub listeners {
    my ($name) = @_;
    my $db = database();
    my $out = $PG->sql('authotron', "SELECT pid FROM pg_stat_activity WHERE datname = '$db' "
          . "AND application_name = '$name revocations' AND query ILIKE 'LISTEN%'");
    return grep { /^\d+$/ } split /\n/, $out;
}

sub wait_for_listeners {
    my ($name, $count, $seconds) = @_;
    ok(wait_until($seconds, sub { listeners($name) == $count }), "$count listening connections named '$name revocations'")
      or diag('found: ' . scalar(listeners($name)));
}

# Uses $token on $run every 0.05 s until it is refused (401) six times in a row: with several
# workers, a worker that never cached the token refuses it at once, from the database, before
# the others have heard of the revocation. Returns the seconds until the first of those
# refusals (undef past $limit), and every status seen before.
sub seconds_until_refused {
    my ($run, $token, $limit) = @_;
    my $t0 = time;
    my (@seen, $since);
    my $streak = 0;
    while (time - $t0 < $limit) {
        my $at = time;
        my $status = call($run, 'GET /api/x', bearer($token))->{status} // 'none';
        if ($status eq '401') {
            $since = $at if !$streak++;
            return ($since - $t0, @seen) if $streak == 6;
        } else {
            push @seen, ('401') x $streak, $status;
            $streak = 0;
        }
        sleep 0.05;
    }
    return (undef, @seen);
}

# Both instances accept the token, every worker of each having cached it (with reuseport the
# kernel spreads the connections; several requests reach each worker).
sub accepted_everywhere {
    my ($what, $token, @runs) = @_;
    for my $run (@runs) {
        my @statuses = map { call($run, 'GET /api/x', bearer($token))->{status} } 1 .. 6;
        is("@statuses", '200 200 200 200 200 200', "$what: $run->{name} accepts and caches the token");
    }
}

sub refused_from_then_on {
    my ($what, $run, $token) = @_;
    my @after = map { call($run, 'GET /api/x', bearer($token))->{status} } 1 .. 6;
    is("@after", '401 401 401 401 401 401', "$what: and refused from then on, by every worker");
}

# Revokes on $here; $there refuses the token long before its cache TTL.
sub revoked_at_once {
    my ($what, $token, $here, $there, $revoke) = @_;
    api_answer(call($here, $revoke, basic('alice')), 204, "$what: $revoke");
    my ($took, @before) = seconds_until_refused($there, $token, $INSTANT);
    ok(defined $took, "$what: the other instance refuses it within $INSTANT s, its cache TTL being $LONG_TTL s")
      or diag("statuses: @before");
    diag(sprintf "%s: refused by the other instance after %.3f s (%d answers 200 before)", $what, $took, scalar @before)
      if defined $took;
    refused_from_then_on($what, $there, $token);
}

run_tests();

__DATA__

=== REVOKE 1: a revocation reaches every worker of the other instance at once
--- workers: 2
--- after_start eval
sub {
    my (undef, $a) = @_;
    my $b = start_b($a);
    wait_for_listeners('authotron', 2, 20);
    wait_for_listeners('fleet-b', 2, 20);
    metric_becomes($_, 'authotron_store_revocation_listeners', 2, 10) for $a, $b;
    metric_becomes($_, 'authotron_store_revocations_heard_total', 0, 1) for $a, $b;

    my $one = create_token($a, 'alice');
    accepted_everywhere('made on A', $one->{token}, $a, $b);
    revoked_at_once('made on A, revoked by id on A', $one->{token}, $a, $b, "DELETE /tokens/$one->{id}");

    my $two = create_token($b, 'alice');
    accepted_everywhere('made on B', $two->{token}, $a, $b);
    revoked_at_once('made on B, revoked by token on B', $two->{token}, $b, $a, "DELETE /token/$two->{token}");
    # The other worker of B heard of it too.
    refused_from_then_on('made on B, on B', $b, $two->{token});
    # Each of the two revocations, heard by each of the two workers of each instance.
    metric_becomes($_, 'authotron_store_revocations_heard_total', 4, 10) for $a, $b;
}
--- request
GET /tokens
Authorization: Basic %%BASE64(alice:alice-Pw-0451)%%
--- response_json: []
--- error_log
listening for token revocations
--- no_error_log
not listening for token revocations

=== REVOKE 2: without its listening connection B falls back to the TTL bound, and is instant again once it reconnects
--- yaml eval
store_yaml(cache_ttl_seconds => $main::SHORT_TTL)
--- after_start eval
sub {
    my (undef, $a) = @_;
    my $b = start_b($a);
    wait_for_listeners('authotron', 1, 20);
    wait_for_listeners('fleet-b', 1, 20);
    my $db = database();

    my $one = create_token($a, 'alice');
    accepted_everywhere('before the outage', $one->{token}, $a, $b);
    # No new connection to the database from now on (the pools keep theirs), then B's listening
    # connection is terminated: B cannot listen again until the limit is lifted.
    my $open = $PG->sql('authotron', "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'") + 0;
    $PG->sql('authotron', "ALTER DATABASE $db CONNECTION LIMIT " . ($open - 1));
    my @b = listeners('fleet-b');
    is($PG->sql('authotron', "SELECT pg_terminate_backend($b[0])"), "t\n", "B's listening connection ($b[0]) is terminated");
    ok(wait_until(10, sub { error_log_of($b) =~ /not listening for token revocations/ }), "B logs that it no longer listens");
    diag('B: ' . (error_log_of($b) =~ /(not listening for token revocations.*)/)[0]);
    metric_becomes($b, 'authotron_store_revocation_listeners', 0, 10);

    api_answer(call($a, "DELETE /tokens/$one->{id}", basic('alice')), 204, 'revoked on A while B does not listen');
    status_is(call($a, 'GET /api/x', bearer($one->{token})), 401, 'A refuses it at once');
    sleep 1.5;    # a listener would have evicted it by now (REVOKE 1)
    status_is(call($b, 'GET /api/x', bearer($one->{token})), 200, 'B still answers from its cache');
    my ($took, @before) = seconds_until_refused($b, $one->{token}, $SHORT_TTL + 30);
    ok(defined $took && $took + 1.5 <= $SHORT_TTL + $MARGIN, "B refuses it within cache_ttl_seconds ($SHORT_TTL s) + $MARGIN s")
      or diag(defined $took ? sprintf('took %.2f s', $took + 1.5) : 'still accepted');
    ok(!grep({ $_ ne '200' } @before), 'until then, the cached answer (200)') or diag("statuses: @before");
    diag(sprintf 'without its listener, B refused the token %.2f s after the revocation', $took + 1.5) if defined $took;

    $PG->sql('authotron', "ALTER DATABASE $db CONNECTION LIMIT -1");
    # The backoff between attempts is at most 30 s.
    wait_for_listeners('fleet-b', 1, 45);
    metric_becomes($b, 'authotron_store_revocation_listeners', 1, 10);
    my @lines = error_log_of($b) =~ /(not listening for token revocations|listening for token revocations)/g;
    is("@lines", 'listening for token revocations not listening for token revocations listening for token revocations',
        'B logged each change of state once, not each attempt');

    my $two = create_token($a, 'alice');
    accepted_everywhere('after reconnecting', $two->{token}, $a, $b);
    revoked_at_once('after reconnecting', $two->{token}, $a, $b, "DELETE /tokens/$two->{id}");
}
--- request
GET /tokens
Authorization: Basic %%BASE64(alice:alice-Pw-0451)%%
--- response_json: []
--- error_log
listening for token revocations

=== REVOKE 3: a worker that exits (a reload) closes its listening connection; the new one listens
--- after_start eval
sub {
    my (undef, $a) = @_;
    wait_for_listeners('authotron', 1, 20);
    my @before = listeners('authotron');
    reload_with($a, $a->{yaml});
    ok(wait_until(10, sub { my @now = listeners('authotron'); @now == 1 && $now[0] != $before[0] }),
        "after the reload, one listening connection, not the old worker's")
      or diag("before: @before, now: " . join ' ', listeners('authotron'));
    # The metrics zone outlives the reload: the old worker took itself off the gauge.
    metric_becomes($a, 'authotron_store_revocation_listeners', 1, 10);
    my $one = create_token($a, 'alice');
    my $b = start_b($a);
    wait_for_listeners('fleet-b', 1, 20);
    accepted_everywhere('after a reload of A', $one->{token}, $b);
    revoked_at_once('after a reload of A', $one->{token}, $a, $b, "DELETE /tokens/$one->{id}");
}
--- request
GET /tokens
Authorization: Basic %%BASE64(alice:alice-Pw-0451)%%
--- response_json: []

=== REVOKE 4: a revocation evicts the revoked token only: B still answers another token from its cache
--- after_start eval
sub {
    my (undef, $a) = @_;
    my $b = start_b($a);
    wait_for_listeners('authotron', 1, 20);
    wait_for_listeners('fleet-b', 1, 20);

    my $one = create_token($a, 'alice');
    my $two = create_token($a, 'alice');
    # One worker: B's first use of each token looks it up in the store, the second is a hit.
    for my $token ($one, $two) {
        my @statuses = map { call($b, 'GET /api/x', bearer($token->{token}))->{status} } 1 .. 2;
        is("@statuses", '200 200', 'B accepts a token of alice');
    }
    my ($hits, $misses) = (store_hits($b), store_misses($b));
    is("$hits $misses", '2 2', 'B looked each token up once and answered it once from its cache');

    revoked_at_once('token one, revoked on A', $one->{token}, $a, $b, "DELETE /tokens/$one->{id}");
    metric_becomes($b, 'authotron_store_revocations_heard_total', 1, 10);
    status_is(call($b, 'GET /api/x', bearer($two->{token})), 200, 'B still accepts token two');
    is(store_misses($b), $misses, 'B did not look token two up again');
    is(store_hits($b), $hits + 1, 'B answered token two from its cache');
    api_answer(call($a, "DELETE /tokens/$two->{id}", basic('alice')), 204, 'token two is revoked too');
}
--- request
GET /tokens
Authorization: Basic %%BASE64(alice:alice-Pw-0451)%%
--- response_json: []
