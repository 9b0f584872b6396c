# The backstop timer. A request that waits for a validation holds a non-cancelable NGINX timer
# (src/nginx/bridge.rs): if the module's runtime has not answered by the validation's worst case
# (auth.timeout_in_ms for each of three credentials and for the augmenters) plus 2 s, the request
# is answered 503 without it, and the ruling that comes later is dropped. The runtime answers in
# time on its own, so the block stops the runtime's threads (named "authotron") with ptrace, as a
# debugger would, while NGINX's own thread runs on; then it lets them go and checks that the
# worker still serves. The harness checks that no alert was logged and that the worker was never
# respawned.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron qw(:DEFAULT scaled);

plan skip_all => 'stopping threads of a worker (it runs as nobody) with ptrace needs root' if $>;

# Stops the threads of process $pid named $name for $seconds and returns once they are stopped,
# with a handle whose end of file is when the helper exits, which lets them run on. The block
# stops them while they are idle, so they hold no lock that NGINX's thread could wait for.
my $FREEZER = <<'PY';
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE, PTRACE_INTERRUPT, WALL = 0x4206, 0x4207, 0x40000000
for tid in map(int, sys.argv[2:]):
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) or libc.ptrace(PTRACE_INTERRUPT, tid, None, None):
        sys.exit("ptrace %d: %s" % (tid, os.strerror(ctypes.get_errno())))
    os.waitpid(tid, WALL)
print("stopped", flush=True)
time.sleep(float(sys.argv[1]))
PY

sub freeze_threads {
    my ($pid, $name, $seconds) = @_;
    my @tids = grep { Test::Authotron::slurp("/proc/$pid/task/$_/comm") eq "$name\n" }
      map { m{/(\d+)$} } glob "/proc/$pid/task/*";
    die "no thread named $name in process $pid\n" unless @tids;
    open(my $helper, '-|', 'python3', '-c', $FREEZER, $seconds, @tids) or die "cannot run python3: $!\n";
    my $line = <$helper> // '';
    die "could not stop the threads @tids of $pid\n" unless $line eq "stopped\n";
    return $helper;
}

# timeout_in_ms 500: the worst case is 4 × 0.5 s, so the backstop fires 4 s after a validation
# starts. The threads stay stopped a while longer, and under valgrind longer still.
our $BACKSTOP = 4;
our $FROZEN = $BACKSTOP + scaled(1);

run_tests();

__DATA__

=== TEST 1: the runtime stops answering: 503 at the backstop, cached users pass, the late ruling is dropped
NGINX configuration: authotron on + proxy_pass. alice is cached before the runtime stops, bob
is not; once the runtime runs again, bob gets through.
--- yaml
auth: { timeout_in_ms: 500 }
cache: { ttl_seconds: 60 }
providers:
  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: alice-pw, roles: [user] }
      - { username: bob, password: bob-pw, roles: [user] }
--- config
location /api/ { authotron on; proxy_pass http://echo; }
--- after_start eval
sub {
    my ($idp, $run) = @_;
    my $alice = "Authorization: Basic %%BASE64(alice:alice-pw)%%";
    is($run->request("GET /api/warm\n$alice")->{status}, 200, "$run->{name}: alice, before: 200");
    my $helper = freeze_threads(($run->worker_pids)[-1], 'authotron', $main::FROZEN);
    my $bob = $run->request("GET /api/frozen\nAuthorization: Basic %%BASE64(bob:bob-pw)%%");
    is($bob->{status}, 503, "$run->{name}: bob, runtime stopped: 503");
    ok($bob->{elapsed} > $main::BACKSTOP - 0.5 && $bob->{elapsed} < $main::FROZEN,
        "$run->{name}: bob was answered by the backstop, while the runtime was still stopped")
      or diag(sprintf 'after %.2f s; backstop at %d s, runtime stopped for %.1f s', $bob->{elapsed}, $main::BACKSTOP, $main::FROZEN);
    is($run->request("GET /api/cached\n$alice")->{status}, 200, "$run->{name}: alice, cached, runtime stopped: 200");
    1 while <$helper>;
    close $helper;
}
--- request
GET /api/after
Authorization: Basic %%BASE64(bob:bob-pw)%%
--- upstream_jwt
{"username": "bob"}
--- error_log
validation did not finish in time
--- timeout: 30
--- check eval
sub {
    my ($run) = @_;
    # NGINX's timer code logs each event's data as a connection, by its descriptor, when the
    # timer expires; the backstop's data must be one (a ctx there gave NGINX uninitialised bytes
    # to print, which memcheck reported).
    # Both lines are NGINX's debug lines.
    SKIP: {
        my $why = "$run->{name}: the backstop timer's log lines need an NGINX configured with --with-debug (nginx -V)";
        unless (Test::Authotron::nginx_has('--with-debug')) { diag("skipped: $why"); skip($why, 1) }
        my $log = Test::Authotron::slurp("$run->{prefix}/error.log");
        my %accepted = map { ($_ => 1) } $log =~ /accept: \S+ fd:(\d+)/g;
        my ($before) = $log =~ /\A(.*?)validation did not finish in time/s;
        my ($ident) = ($before // '') =~ /.*event timer del: (-?\d+):/s;
        ok(defined $ident && $accepted{$ident}, "$run->{name}: NGINX logs the backstop timer under its connection's descriptor")
          or diag("the backstop logged as " . ($ident // '(not found)') . "; connections accepted: " . join ' ', sort keys %accepted);
    }
}
