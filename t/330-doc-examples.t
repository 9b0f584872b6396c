# Every file the documentation shows runs as it is. The pages (docs/*.md) show NGINX and YAML
# only through mdBook's {{#include FILE}} (an agreed rule, checked here), so this file tests
# exactly what readers see:
#   - every included file exists (and every anchor or line range it is included with);
#   - every included NGINX configuration, copied byte for byte into a fresh prefix with the YAML
#     files it loads, passes `nginx -t -p PREFIX -c FILE` with no unknown key reported;
#   - every included YAML file passes `nginx -t` through a minimal configuration that loads it;
#   - the migration wirings (docs/migration.md), and nginx-conf/demo.conf when a page includes
#     it, run on 127.0.0.1:8080 in front of scripts/echo-backend on 127.0.0.1:8081: a user gets
#     200 and the backend a JWT minted for them, a request without credentials 401 with a
#     challenge, and NGINX exits 0 after `nginx -s quit`; migration-authotron-on.conf's other
#     locations answer as docs/migration-contracts.md shows.
# The examples listen on fixed ports, below the kernel's ephemeral range the rest of the suite
# draws its ports from, so they run one after another. Nothing here needs a debug build: CI
# also runs this file against Debian's NGINX.
use strict;
use warnings;
use lib 't/lib';

use Cwd qw(abs_path);
use Crypt::JWT qw(decode_jwt);
use File::Basename qw(basename dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

use Test::Authotron qw(scaled);

my $ROOT = abs_path('.');
my $DOCS = "$ROOT/docs";
my $NGINX = Test::Authotron::locate('nginx_binary');
my $MODULE = Test::Authotron::locate('module_path');
BAIL_OUT("NGINX binary not found or not executable: $NGINX") unless -x $NGINX;
BAIL_OUT("module not found: $MODULE (build it: cargo build --release)") unless -f $MODULE;

# Interrupted, still stop what this file started (the objects below do it when destroyed).
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

my $PORT = 8080;
my $BACKEND_PORT = 8081;

# Log lines that mean NGINX or the module misbehaved.
my $BAD_LOG = qr/\[(?:alert|crit|emerg)\]|exited on signal|panicked/;

# What runs live, by the path a page includes it with (relative to docs/). A user the YAML
# knows, the paths it may reach, and the challenge a request without credentials gets.
# `subrequest` marks paths where the token can only reach the backend through auth_request_set
# (their location has no `authotron on`); `forwards_client_headers` paths are not the module's,
# so a client's X-Auth-Username reaches the backend unless the configuration clears it.
my %MIGRATION_USER = (user => 'alice', password => 'alice-password', realm => 'internal',
    challenge => 'Basic realm="internal", Bearer realm="ecmwf"');
my @LIVE = (
    { file => 'examples/migration-auth-request.conf', %MIGRATION_USER,
      paths => { '/api/doc-test' => { subrequest => 1 } } },
    { file => 'examples/migration-authotron-on.conf', %MIGRATION_USER,
      paths => { '/api/doc-test' => {} },
      # The service's other routes, as docs/migration-contracts.md shows them.
      answers => [
        [ '/whoami', 'user', 200, qr/\A\Q{"version":1,"username":"alice","realm":"internal","roles":["admin","ops"],"attributes":{"team":"platform"},"scopes":{}}\E\z/ ],
        [ '/authenticate', 'user', 200, qr/\AAuthenticated successfully\z/ ],
        [ '/health', undef, 200, qr/\AOK\z/ ],
        [ '/metrics', undef, 200, qr/^authotron_auth_requests_total\{result="success",realm="internal"\} [1-9]/m ],
      ] },
    { file => 'examples/migration-rollout.conf', %MIGRATION_USER,
      paths => { '/api/doc-test' => {}, '/reports/doc-test' => { subrequest => 1 }, '/data/doc-test' => {} } },
    # `return` would answer before the access phase; the page's try_files form authenticates.
    { file => 'examples/troubleshooting-return.conf', user => 'alice', password => 'alice-example-password',
      realm => 'example', challenge => 'Basic realm="example"', paths => {},
      answers => [ [ '/hello', 'user', 200, qr/\Ahello\n\z/ ], [ '/hello', undef, 401, qr/./ ] ] },
    # The Authorization page's map on an attribute: alice's e-mail is @ecmwf.int, bob's is not;
    # neither holds a scope.
    { file => 'examples/authorization.conf', user => 'alice', password => 'alice-password',
      realm => 'internal', challenge => 'Basic realm="internal"', paths => { '/staff/doc-test' => {} },
      answers => [ [ '/reports/doc-test', 'user', 403, qr/403 Forbidden/ ] ] },
    { file => 'examples/authorization.conf', user => 'bob', password => 'bob-password',
      realm => 'internal', challenge => 'Basic realm="internal"', paths => { '/app/doc-test' => {} },
      answers => [ [ '/staff/doc-test', 'user', 403, qr/403 Forbidden/ ] ] },
    { file => '../nginx-conf/demo.conf', optional => 1, user => 'adam', password => 'admin', realm => 'demo',
      challenge => 'Basic realm="demo"', paths => { '/api/doc-test' => {} } },
);

my %included = included_files();
ok(scalar keys %included, 'the pages include files');

check_existence(\%included);
for my $path (sort keys %included) {
    my $file = "$DOCS/$path";
    next unless -f $file;
    config_test_conf($path) if $path =~ /\.conf\z/;
    config_test_yaml($path) if $path =~ /\.ya?ml\z/;
}
run_live(\%included);

done_testing();

# --- what the pages include ----------------------------------------------------------------------

# { path relative to docs/ => [ { page, selector } ... ] } for every {{#include}} of docs/*.md;
# also checks that the pages' nginx and yaml blocks hold nothing but includes.
sub included_files {
    my %found;
    for my $page (sort glob "$DOCS/*.md") {
        my $name = 'docs/' . basename($page);
        my $text = Test::Authotron::slurp($page);
        while ($text =~ /\{\{#include\s+([^\s}]+)\s*\}\}/g) {
            my ($path, $selector) = split /:/, $1, 2;
            push @{ $found{$path} }, { page => $name, selector => $selector };
        }
        check_blocks($name, $text);
    }
    return %found;
}

# The agreed rule: an nginx or yaml block of a page is a file under test, never inline text.
sub check_blocks {
    my ($name, $text) = @_;
    my @inline;
    my $open;
    my $line = 0;
    for (split /\n/, $text) {
        $line++;
        if (!$open && /^\s*(`{3,}|~{3,})\s*(nginx|yaml)\b/) { $open = { fence => $1, line => $line }; next }
        next unless $open;
        if (/^\s*\Q$open->{fence}\E\s*$/) { $open = undef; next }
        push @inline, $open->{line} unless /^\s*\{\{#include\s[^}]*\}\}\s*$/ || /^\s*$/;
    }
    my %lines = map { ($_ => 1) } @inline;
    is_deeply([sort { $a <=> $b } keys %lines], [],
        "$name: every nginx and yaml block is an {{#include}} (blocks at these lines are not)");
}

sub check_existence {
    my ($included) = @_;
    for my $path (sort keys %$included) {
        my $file = "$DOCS/$path";
        my @pages = map { $_->{page} } @{ $included->{$path} };
        unless (ok(-f $file, "$path exists (included by @pages)")) { next }
        my @lines = split /\n/, Test::Authotron::slurp($file), -1;
        pop @lines if @lines && $lines[-1] eq '';
        for my $use (@{ $included->{$path} }) {
            my $selector = $use->{selector} // next;
            if ($selector =~ /^(\d*)(?::(\d*))?$/) {
                my ($from, $to) = ($1 || 1, $2 || scalar @lines);
                ok($from <= $to && $to <= @lines, "$use->{page}: $path:$selector is a range of its lines");
            } else {
                my @marks = grep { /ANCHOR(?:_END)?:\s*\Q$selector\E\s*$/ } @lines;
                is(scalar @marks, 2, "$use->{page}: $path has the anchor $selector, opened and closed");
            }
        }
    }
}

# --- nginx -t ---------------------------------------------------------------------------------------

# A fresh prefix with the module at modules/ and an empty logs/.
sub new_prefix {
    my $prefix = tempdir('authotron-doc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $prefix;    # workers run as another user when the suite runs as root
    make_path("$prefix/logs", "$prefix/modules");
    symlink($MODULE, "$prefix/modules/ngx_http_authotron_module.so") or die "symlink: $!";
    return $prefix;
}

# Copies $path (relative to docs/) to $prefix/$name byte for byte, with the files it names
# relative to itself: a configuration's authotron_config YAML, a YAML's keys and CA bundle, and
# the directory of a SQLite store.
sub install {
    my ($path, $prefix, $name) = @_;
    my $from = "$DOCS/$path";
    my $to = "$prefix/$name";
    make_path(dirname($to));
    copy($from, $to) or die "cannot copy $from: $!";
    my $text = Test::Authotron::slurp($from);
    my $dir = dirname($path);
    if ($from =~ /\.conf\z/) {
        for my $yaml ($text =~ /^\s*authotron_config\s+(\S+?)\s*;/mg) {
            ok($yaml !~ m{^/}, "$path: authotron_config $yaml is relative, so the example runs anywhere");
            install("$dir/$yaml", $prefix, dirname($name) . "/$yaml") unless $yaml =~ m{^/};
        }
    } else {
        my $yaml = join "\n", grep { !/^\s*#/ } split /\n/, $text;
        for my $file ($yaml =~ /\b(?:private_key|public_key|ca_file)\s*:\s*"?([^"\s,}]+)/g) {
            install("$dir/$file", $prefix, dirname($name) . "/$file") unless $file =~ m{^/};
        }
        for my $file ($yaml =~ /^\s*path\s*:\s*"?([^"\s,}]+)/mg) {
            next if $file =~ m{^/};
            my $store_dir = dirname("$prefix/" . dirname($name) . "/$file");
            make_path($store_dir);
            # nginx -t checks that the workers' user (nobody, or the example's `user`) can
            # create the database there: writable by anyone, as /tmp is.
            chmod 01777, $store_dir;
        }
    }
}

sub nginx_t {
    my ($prefix, $conf, $what) = @_;
    my $out = `\Q$NGINX\E -t -p \Q$prefix/\E -c \Q$prefix/$conf\E 2>&1`;
    my $status = $?;
    is($status, 0, "$what: nginx -t accepts it") or diag($out);
    # A warning may be the point of an example (a deprecated augmenter); a misspelt key never is.
    unlike($out, qr/unknown key|\[(?:emerg|alert|crit)\]/, "$what: nginx -t reports no unknown key");
}

sub config_test_conf {
    my ($path) = @_;
    my $prefix = new_prefix();
    install($path, $prefix, basename($path));
    nginx_t($prefix, basename($path), $path);
}

sub config_test_yaml {
    my ($path) = @_;
    my $prefix = new_prefix();
    install($path, $prefix, basename($path));
    Test::Authotron::spew("$prefix/check.conf", <<"CONF");
load_module modules/ngx_http_authotron_module.so;
pid logs/nginx.pid;
error_log logs/error.log;
events {}
http { authotron_config ${\ basename($path)}; }
CONF
    nginx_t($prefix, 'check.conf', $path);
}

# --- live ------------------------------------------------------------------------------------------

sub run_live {
    my ($included) = @_;
    my @cases;
    for my $case (@LIVE) {
        if ($included->{ $case->{file} }) { push @cases, $case; next }
        fail("$case->{file} is included by a page") unless $case->{optional};
    }
    return unless @cases;
    for my $port ($PORT, $BACKEND_PORT) {
        my $busy = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        ok(!$busy, "nothing else listens on 127.0.0.1:$port, where the examples run") or return;
    }
    my $backend = Backend->start($BACKEND_PORT);
    run_case($_) for @cases;
    $backend->stop;
}

sub run_case {
    my ($case) = @_;
    my $path = $case->{file};
    my $prefix = new_prefix();
    my $conf = basename($path);
    install($path, $prefix, $conf);
    my $text = Test::Authotron::slurp("$DOCS/$path");
    my ($yaml) = $text =~ /^\s*authotron_config\s+(\S+?)\s*;/m;
    my ($secret) = Test::Authotron::slurp("$prefix/$yaml") =~ /^\s*secret:\s*"?([^"\n]+?)"?\s*$/m;

    my $nginx = Nginx->start($prefix, $conf, $text) or return fail("$path: NGINX starts on 127.0.0.1:$PORT");
    my $basic = 'Basic ' . encode_base64("$case->{user}:$case->{password}", '');
    for my $uri (sort keys %{ $case->{paths} }) {
        my $what = "$path $uri";
        my $opt = $case->{paths}{$uri};
        if ($opt->{subrequest}) {
            # Its location: the token can only come through auth_request_set.
            my ($prefix_location) = $uri =~ m{^(/[^/]+/)};
            my ($location) = $text =~ /location\s+\Q$prefix_location\E\s*\{([^}]*)\}/;
            ok(defined $location && $location !~ /authotron\s+on/ && $location =~ /auth_request_set\s/,
                "$what: its location uses auth_request_set and not `authotron on`");
        }

        my $res = http_get($uri, Authorization => $basic, 'X-Auth-Username' => 'mallory');
        is($res->{status}, 200, "$what: a user's request is let through");
        my $seen = echoed($res->{body});
        my @auth = @{ $seen->{authorization} // [] };
        is(scalar @auth, 1, "$what: the backend received one Authorization header");
        my ($jwt) = ($auth[0] // '') =~ /^Bearer (\S+)$/;
        ok($jwt, "$what: it is Bearer <jwt>, not the client's credential") or diag($res->{body});
        my $claims = $jwt ? eval { decode_jwt(token => $jwt, key => $secret, accepted_alg => 'HS256', verify_exp => 1) } : undef;
        ok($claims, "$what: the JWT verifies with the YAML's jwt.secret") or diag($@ // '');
        is_deeply([@{$claims}{qw(username realm)}], [$case->{user}, $case->{realm}], "$what: it was minted for the user")
          if $claims;
        if ($opt->{subrequest}) {
            is_deeply($seen->{'x-auth-username'}, ['mallory'],
                "$what: auth_request leaves the client's X-Auth-Username for the configuration to clear");
        } else {
            ok(!$seen->{'x-auth-username'}, "$what: the module removed the client's X-Auth-Username");
        }

        for my $attempt (['without credentials'], ['with a wrong password',
                Authorization => 'Basic ' . encode_base64("$case->{user}:wrong-$case->{password}", '')]) {
            my ($why, @headers) = @$attempt;
            my $refused = http_get($uri, @headers);
            is($refused->{status}, 401, "$what: a request $why gets 401");
            is(header($refused, 'WWW-Authenticate'), $case->{challenge}, "$what: ... with the challenge");
        }
    }
    for my $answer (@{ $case->{answers} // [] }) {
        my ($uri, $as_user, $status, $body) = @$answer;
        my $res = http_get($uri, $as_user ? (Authorization => $basic) : ());
        is($res->{status}, $status, "$path $uri: $status");
        like($res->{body} // '', $body, "$path $uri: the body") or diag($res->{raw});
    }
    is($nginx->quit, 0, "$path: NGINX exits 0 after nginx -s quit");
    my $log = Test::Authotron::slurp("$prefix/logs/error.log");
    unlike($log, $BAD_LOG, "$path: no alert, crash or panic in the error log");
    unlike($log, qr/\Q$case->{password}\E/, "$path: the password is not in the error log");
}

# One request over its own connection; the answer as Test::Authotron parses it.
sub http_get {
    my ($uri, @headers) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp', Timeout => scaled(10))
      or return { status => "no connection: $!" };
    my $raw = "GET $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    while (my ($name, $value) = splice @headers, 0, 2) { $raw .= "$name: $value\r\n" }
    print {$s} "$raw\r\n";
    my $answer = '';
    my $deadline = time + scaled(20);
    $s->blocking(0);
    while (time < $deadline) {
        my $n = sysread($s, my $chunk, 65536);
        if (defined $n) { last if $n == 0; $answer .= $chunk; next }
        sleep 0.01;
    }
    close $s;
    my $res = Test::Authotron::Run::parse_response($answer);
    $res->{status} //= 'no answer';
    return $res;
}

sub header {
    my ($res, $name) = @_;
    my @values = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $res->{headers} // [] };
    return @values == 1 ? $values[0] : @values ? "@values" : undef;
}

# scripts/echo-backend's body: the request line, then one "name: value" line per header.
sub echoed {
    my ($body) = @_;
    my %seen;
    my (undef, @lines) = split /\n/, $body // '';
    for (@lines) {
        last if $_ eq '';
        push @{ $seen{ lc $1 } }, $2 if /^([^:]+): (.*)$/;
    }
    return \%seen;
}

# --- processes ---------------------------------------------------------------------------------------

# scripts/echo-backend on a fixed port; stopped at the end, or when the test dies.
package Backend;

sub start {
    my ($class, $port) = @_;
    my $pid = open(my $out, '-|', 'python3', "$ROOT/scripts/echo-backend", '--port', $port)
      or die "cannot start scripts/echo-backend: $!";
    my $line = <$out>;
    die "scripts/echo-backend did not start on port $port\n" unless defined $line && $line =~ /:$port\b/;
    return bless { pid => $pid, out => $out }, $class;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->stop }

# NGINX run as the page says (`nginx -p PREFIX -c FILE`), kept in the foreground with
# -g 'daemon off;' unless the file says so itself, so that its master's exit status is ours.
package Nginx;

use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

sub start {
    my ($class, $prefix, $conf, $text) = @_;
    my @cmd = ($NGINX, '-p', "$prefix/", '-c', "$prefix/$conf");
    push @cmd, '-g', 'daemon off;' unless $text =~ /^\s*daemon\s/m;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$prefix/logs/stderr.log" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    my $self = bless { pid => $pid, cmd => \@cmd }, $class;
    my $deadline = time + main::scaled(10);
    while (time < $deadline) {
        return undef if waitpid($pid, WNOHANG) == $pid && delete $self->{pid};
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp');
        return $self if $s;
        sleep 0.05;
    }
    return undef;
}

# nginx -s quit; the master's exit status once it has gone (-1 if it had to be killed).
sub quit {
    my ($self) = @_;
    my $pid = $self->{pid} or return -1;
    my $signal = fork // die "fork: $!";
    if (!$signal) {
        open STDOUT, '>', '/dev/null' or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec @{ $self->{cmd} }[0 .. 4], '-s', 'quit' or POSIX::_exit(127);
    }
    waitpid $signal, 0;
    kill 'QUIT', $pid if $?;
    my $deadline = time + main::scaled(20);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            return $?;
        }
        sleep 0.05;
    }
    $self->kill_all;
    return -1;
}

# The master and its workers, when a check failed before they could quit: SIGTERM, on which the
# master stops its workers and waits for them; SIGKILL for whatever is left after that.
sub kill_all {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    my $deadline = time + main::scaled(5);
    while (time < $deadline) {
        return if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    my @workers = split ' ', `pgrep -P $pid`;
    kill 'KILL', $pid, @workers;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->kill_all }
