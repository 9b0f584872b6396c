# nginx -s reload under sustained load: wrk keeps two workers busy on an authenticated location
# for about 6 s while the configuration is changed and reloaded three times. Every request must
# be answered 2xx, wrk must report no socket error, the log no [alert]/[crit]/[emerg], every
# old worker must exit with code 0, and afterwards the new configuration must be the one in
# force. Needs wrk (Debian package `wrk`, in TEST_PACKAGES).
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;
use Test::More;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

chomp(my $WRK = `command -v wrk 2>/dev/null`);
# Missing wrk is a broken test machine, not a reason to pass: fail loudly.
BAIL_OUT('wrk is not installed (Debian package wrk, in TEST_PACKAGES)') unless $WRK;

our $DURATION = 6;

# The configuration before the reloads, and what each reload changes: carol is added, alice
# becomes an admin, dave is added. Every generation keeps alice's password, so the load never
# has a reason to fail.
sub yaml_generation {
    my ($n) = @_;
    my %jwt = %Test::Authotron::JWT;
    my @users = ('{ username: alice, password: reload-pw-alice, roles: [' . ($n >= 2 ? 'reader, admin' : 'reader') . '] }');
    push @users, '{ username: carol, password: reload-pw-carol, roles: [reader] }' if $n >= 1;
    push @users, '{ username: dave, password: reload-pw-dave, roles: [reader] }' if $n >= 3;
    return <<"YAML" . join('', map { "      - $_\n" } @users);
version: "2.0.0"
jwt: { iss: $jwt{iss}, exp: $jwt{exp}, secret: "$jwt{secret}" }
# Every request is validated (on the worker's runtime, woken through its eventfd), none is
# answered from the cache: the reload meets validations in flight, not only cache hits.
cache: { ttl_seconds: 0 }
providers:
  - type: plain
    name: local
    realm: internal
    users:
YAML
}

sub basic { 'Authorization: Basic ' . encode_base64("$_[0]:reload-pw-$_[0]", '') }

# Runs wrk in the background; returns a sub that waits for it and gives its report.
sub start_wrk {
    my ($url, @headers) = @_;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec $WRK, '-t', 2, '-c', 16, '-d', "${DURATION}s", (map { ('-H', $_) } @headers), $url
          or POSIX::_exit(127);
    }
    return sub { local $/; my $report = <$out>; close $out; ($report, $?) };
}

sub reload_to {
    my ($run, $generation) = @_;
    Test::Authotron::spew($run->{yaml_path}, yaml_generation($generation));
    ok($run->signal('reload'), "nginx -s reload to configuration $generation");
    $run->{reloads}++;
}

# With two workers, every generation but the last must exit, each worker with code 0.
sub check_old_workers_exit {
    my ($run) = @_;
    my @pids = $run->worker_pids;
    my @old = @pids[0 .. $#pids - 2];
    is(scalar @old, 2 * $run->{reloads}, 'two workers per configuration replaced');
    my $deadline = time + 20;
    my %code;
    while (time < $deadline) {
        my $log = Test::Authotron::slurp("$run->{prefix}/error.log");
        %code = $log =~ /worker process (\d+) exited with code (\d+)/g;
        last if @old == grep { exists $code{$_} } @old;
        sleep 0.1;
    }
    is($code{$_}, 0, "old worker $_ exited with code 0") for @old;
}

our $UNDER_LOAD = sub {
    my (undef, $run) = @_;
    # Before: the changes to come are not in force yet.
    is($run->request("GET /api/x\n" . basic('carol'))->{status}, 401, 'before the reloads, carol is unknown');
    is($run->request("GET /admin/x\n" . basic('alice'))->{status}, 403, 'before the reloads, alice is no admin');

    # A connection per request: a keep-alive connection idle when its worker is asked to stop is
    # closed by NGINX, and wrk counts a request it had just sent on it as a read error. That is
    # HTTP/1.1's keep-alive race (clients retry); NGINX without the module shows the same
    # errors under this load, about one per connection and reload.
    my $wait = start_wrk("http://127.0.0.1:$run->{port}/api/load", basic('alice'), 'Connection: close');
    my $t0 = time;
    for my $generation (1 .. 3) {
        sleep($t0 + 1.5 * $generation - time);
        reload_to($run, $generation);
    }
    my ($report, $status) = $wait->();
    is($status, 0, 'wrk ran') or diag($report);
    my ($requests) = $report =~ /^\s*(\d+) requests in /m;
    cmp_ok($requests // 0, '>', 100, 'wrk sent requests all along') or diag($report);
    unlike($report, qr/^\s*Non-2xx or 3xx responses: *\d+/m, 'every response under load was 2xx') or diag($report);
    unlike($report, qr/^\s*Socket errors:/m, 'wrk saw no socket error (connect, read, write, timeout)') or diag($report);
    note($report);
    check_old_workers_exit($run);
};

run_tests();

__DATA__

=== RELOAD 1: three reloads during 6 s of load on two workers; then the new configuration answers
--- workers: 2
--- yaml eval
main::yaml_generation(0)
--- http_config
# At debug level 6 s of load would write hundreds of megabytes; requests log at info here
# (processes still log at debug: the error_log of the main context).
error_log %%PREFIX%%/error.log info;
--- config
# empty_gif answers in the content phase, after the access phase has authenticated the request
# (`return` would answer in the rewrite phase, before it).
location /api/   { authotron on; empty_gif; }
location /admin/ { authotron on; authotron_require_role admin; empty_gif; }
--- after_start eval
$main::UNDER_LOAD
--- request eval
["GET /api/x\n" . main::basic('carol'), "GET /admin/x\n" . main::basic('alice'), "GET /api/x\n" . main::basic('dave')]
--- error_log eval
[qr/\[info\] .*authotron: user "dave" of realm "internal" authenticated by provider "local"/]
--- timeout: 30
