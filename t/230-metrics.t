# authotron_metrics with several workers: the counters live in one shared memory zone, so
# every worker serves the same totals, whichever served the requests; and a reload that keeps
# the zone keeps the totals (also when the new configuration adds series).
#
# Each request goes on its own connection and the listen socket has `reuseport` (the harness
# adds it with `workers`), so the kernel spreads them over the workers; X-Worker ($pid) shows
# which worker answered, and the checks insist that several did.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;
use Test::More;
use Time::HiRes qw(sleep time);

defaults(workers => 4, yaml => <<'YAML', config => <<'CONF');
cache: { ttl_seconds: 60, negative_ttl_seconds: 60 }
providers:
  - type: plain
    name: local
    realm: internal
    users:
      - { username: alice, password: alice-pw-1, roles: [user] }
      - { username: bob, password: bob-pw-22 }
augmenters:
  - { type: plain_advanced, name: ops, realm: internal, match: { username: [alice] }, augment: { roles: [ops] } }
YAML
location /api/ {
    authotron on;
    proxy_pass http://echo;
    add_header X-Worker $pid always;
}
location = /metrics {
    authotron_metrics;
    add_header X-Worker $pid always;
    allow 127.0.0.1;
    deny all;
}
CONF

my $PROM = 'text/plain; version=0.0.4; charset=utf-8';

sub header_of {
    my ($res, $name) = @_;
    my ($v) = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $res->{headers} // [] };
    return $v;
}

# Sends the mix of requests %n asks for, one connection each; returns the workers that answered.
my %SPEC = (
    alice   => ["GET /api/a\nAuthorization: Basic %%BASE64(alice:alice-pw-1)%%", 200],
    bob     => ["GET /api/b\nAuthorization: Basic %%BASE64(bob:bob-pw-22)%%", 200],
    wrong   => ["GET /api/w\nAuthorization: Basic %%BASE64(alice:not-her-pw)%%", 401],
    none    => ["GET /api/n", 401],
    invalid => ["GET /api/i\nAuthorization: Bearer", 401],
);

sub send_mix {
    my ($run, %n) = @_;
    my %workers;
    my @order = map { ($_) x $n{$_} } sort keys %n;
    for my $what (@order) {
        my ($spec, $status) = @{ $SPEC{$what} };
        my $res = $run->request($spec);
        is($res->{status}, $status, "$run->{name}: $what answered $status") if ($res->{status} // 0) != $status;
        $workers{ header_of($res, 'X-Worker') // '?' }++;
    }
    return keys %workers;
}

# One scrape: the samples by "name{labels}", and the worker that answered.
sub scrape {
    my ($run) = @_;
    my $res = $run->request('GET /metrics');
    is($res->{status}, 200, "$run->{name}: /metrics answers 200") if ($res->{status} // 0) != 200;
    is(header_of($res, 'Content-Type'), $PROM, "$run->{name}: /metrics content type") if (header_of($res, 'Content-Type') // '') ne $PROM;
    my %s;
    for my $line (split /\n/, $res->{body} // '') {
        next if $line =~ /^#/;
        my ($series, $value) = $line =~ /^(\S+) (\S+)$/ or do { fail("$run->{name}: sample line: $line"); next };
        $s{$series} = $value;
    }
    return (\%s, header_of($res, 'X-Worker'));
}

sub req { qq(authotron_auth_requests_total{result="$_[0]",realm="$_[1]"}) }
sub dur { qq(authotron_auth_duration_seconds_count{result="$_[0]",realm="$_[1]"}) }
sub attempts { qq(authotron_auth_provider_attempts_total{provider_name="$_[0]",provider_type="Basic",realm="$_[1]",result="$_[2]"}) }
sub hits { qq(authotron_cache_hits_total{provider_name="$_[0]"}) }
sub misses { qq(authotron_cache_misses_total{provider_name="$_[0]"}) }
my $OPS = 'authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}';

# What every scrape must show after %n requests: the exact totals of each result, and the
# cache and provider counters consistent with them (how many were hits depends on which worker
# served which request: each worker caches for itself).
sub check_totals {
    my ($run, $s, $what, %n) = @_;
    my $name = "$run->{name}: $what";
    is($s->{ req('success', 'internal') }, $n{alice} + $n{bob}, "$name: successes");
    is($s->{ dur('success', 'internal') }, $n{alice} + $n{bob}, "$name: success durations");
    is($s->{ req('all_failed', 'unknown') }, $n{wrong}, "$name: refusals");
    is($s->{ req('no_auth_header', 'unknown') }, $n{none}, "$name: missing headers");
    is($s->{ req('invalid_header', 'unknown') }, $n{invalid}, "$name: invalid headers");
    is($s->{ req('unavailable', 'unknown') }, 0, "$name: no outage");
    is($s->{ hits('local') } + $s->{ misses('local') }, $n{alice} + $n{bob}, "$name: every success was a hit or a miss");
    is($s->{ hits('none') } + $s->{ misses('none') }, $n{wrong}, "$name: every refusal was a hit or a miss");
    cmp_ok($s->{ misses('local') }, '>=', 2, "$name: alice and bob were each validated at least once");
    cmp_ok($s->{ hits('local') }, '>=', 1, "$name: some successes came from a cache");
    is($s->{ attempts('local', 'internal', 'success') }, $s->{ misses('local') }, "$name: one provider success per miss");
    is($s->{ attempts('local', 'internal', 'error') }, $s->{ misses('none') }, "$name: one provider error per refused miss");
    is($s->{ attempts('local', 'internal', 'timeout') }, 0, "$name: no timeout");
    is($s->{$OPS}, $s->{ misses('local') }, "$name: the augmenter ran once per validation");
    is($s->{authotron_validations_in_flight}, 0, "$name: nothing in flight");
    is($s->{authotron_unavailable_total}, 0, "$name: no 503");
}

# Every scrape, whichever worker answers, shows the same totals; returns them.
sub scrapes_agree {
    my ($run, $what, $count, %n) = @_;
    my (@all, %workers);
    for (1 .. $count) {
        my ($s, $worker) = scrape($run);
        push @all, $s;
        $workers{ $worker // '?' }++;
    }
    my $canon = sub { my $s = shift; join "\n", map { "$_ $s->{$_}" } sort keys %$s };
    my @different = grep { $canon->($all[$_]) ne $canon->($all[0]) } 1 .. $#all;
    ok(!@different, "$run->{name}: $what: all $count scrapes show the same totals");
    cmp_ok(scalar(keys %workers), '>=', 2, "$run->{name}: $what: the scrapes were answered by several workers")
      or diag(join ', ', keys %workers);
    check_totals($run, $all[0], $what, %n);
    return $all[0];
}

sub add {
    my ($a, $b) = @_;
    return map { ($_ => ($a->{$_} // 0) + ($b->{$_} // 0)) } keys %{ { %$a, %$b } };
}

# The old workers of a reload have all exited, so what answers now is the new configuration.
sub reload_and_wait {
    my ($run) = @_;
    my @old = $run->worker_pids;
    $run->signal('reload') or die "nginx -s reload failed\n";
    $run->{reloads}++;
    my $want = $run->{workers} * (1 + $run->{reloads});
    my $deadline = time + 20;
    while (time < $deadline) {
        my $log = Test::Authotron::slurp("$run->{prefix}/error.log");
        my $exited = grep { $log =~ /worker process $_ exited with code 0/ } @old;
        my @pids = $run->worker_pids;
        return 1 if @pids == $want && $exited == @old;
        sleep 0.1;
    }
    fail("$run->{name}: the reload replaced every worker within 20 s");
    return 0;
}

run_tests();

__DATA__

=== TEST 1: four workers, one set of totals
--- after_start eval
sub {
    my (undef, $run) = @_;
    my %n = (alice => 24, bob => 12, wrong => 10, none => 6, invalid => 4);
    my @workers = send_mix($run, %n);
    cmp_ok(scalar @workers, '>=', 2, "$run->{name}: the requests were served by several workers");
    scrapes_agree($run, 'after the requests', 16, %n);
}
--- request
GET /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
Cache-Control: no-store
--- response_body_like
^# HELP authotron_build_info .*\n# TYPE authotron_build_info gauge\nauthotron_build_info\{version="[^"]+"\} 1\n

=== TEST 2: the totals survive reloads, also one that adds a provider
--- after_start eval
sub {
    my (undef, $run) = @_;
    my %n = (alice => 12, bob => 8, wrong => 6, none => 4, invalid => 2);
    send_mix($run, %n);
    my $before = scrapes_agree($run, 'before the reload', 8, %n);

    reload_and_wait($run) or return;
    my $same = scrapes_agree($run, 'after a reload', 8, %n);
    is_deeply($same, $before, "$run->{name}: a reload with the same configuration changes no number");

    # New workers add to the same totals.
    my %more = (alice => 6, bob => 2, wrong => 2, none => 2, invalid => 2);
    send_mix($run, %more);
    my %sum = add(\%n, \%more);
    scrapes_agree($run, 'after more requests', 8, %sum);

    # A configuration with one more provider and realm: new series start at zero, the others
    # keep their totals.
    my $yaml = Test::Authotron::slurp($run->{yaml_path});
    $yaml =~ s/^providers:\n/providers:\n  - { type: plain, name: backup, realm: spare, users: [ { username: carol, password: carol-pw-3 } ] }\n/m
      or die "no providers: in the YAML\n";
    Test::Authotron::spew($run->{yaml_path}, $yaml);
    reload_and_wait($run) or return;
    my $s = scrapes_agree($run, 'after a reload that adds a provider', 8, %sum);
    is($s->{ req('success', 'spare') }, 0, "$run->{name}: the new realm's series start at zero");
    is($s->{ misses('backup') }, 0, "$run->{name}: the new provider's series start at zero");
    is($s->{ attempts('backup', 'spare', 'success') }, 0, "$run->{name}: the new provider's attempts start at zero");
}
--- request
GET /metrics
--- error_log
metrics zone reused

=== TEST 3: an identity service that is down: 503s counted once per request
--- yaml
auth: { timeout_in_ms: 2000 }
providers:
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "%%DEAD%%" }
--- config
location /api/ { authotron on; proxy_pass http://echo; }
location = /metrics { authotron_metrics; }
--- after_start eval
sub {
    my (undef, $run) = @_;
    for (1 .. 5) {
        my $res = $run->request("GET /api/x\nAuthorization: Bearer key-$_-abcdef");
        is($res->{status}, 503, "$run->{name}: a dead identity service gives 503");
    }
    for (1 .. 4) {
        my ($s) = scrape($run);
        is($s->{authotron_unavailable_total}, 5, "$run->{name}: five 503 answers");
        is($s->{ req('unavailable', 'unknown') }, 5, "$run->{name}: five unavailable results");
        is($s->{'authotron_auth_provider_attempts_total{provider_name="api",provider_type="Bearer",realm="ecmwf",result="error"}'}, 5,
            "$run->{name}: five failed attempts");
        is($s->{'authotron_outbound_request_duration_seconds_count{provider_name="api"}'}, 5, "$run->{name}: five outbound calls");
        is($s->{ misses('none') }, 5, "$run->{name}: outages are never cached");
    }
}
--- request
GET /metrics
--- error_log
could not decide

=== TEST 4: authotron_metrics_zone sets the size; nginx -t refuses a tiny one
--- http_config
authotron_metrics_zone 16k;
--- yaml
providers: []
--- config
location = /metrics { authotron_metrics; }
--- must_die
--- error_log
invalid size in "authotron_metrics_zone": at least 64k

=== TEST 5: a larger zone works
--- http_config
authotron_metrics_zone 4m;
--- yaml
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: alice-pw-1 } ] }
--- config
location = /metrics { authotron_metrics; }
--- request
GET /metrics
--- response_body_like
authotron_auth_requests_total\{result="success",realm="internal"\} 0\n
