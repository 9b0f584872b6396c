package Test::Authotron;

# Integration harness for the authotron NGINX module, in the style of Test::Nginx.
#
# A .t file holds Test::Base blocks after __DATA__. Each block gets its own NGINX prefix, a
# generated nginx.conf (the module loaded with load_module, one worker, master on, daemon off)
# and authotron.yaml, runs the real binary, sends its requests and checks the answers and logs.
# One scripts/echo-backend per .t file is the upstream `echo` (proxy_pass http://echo).
#
# Sections (`--- name: value` on one line, or the lines below `--- name`; `--- name eval`
# evaluates Perl, and an array holds one value per request):
#   yaml            authotron.yaml after the common header below (a whole file if it starts with
#                   "version:"); its presence adds `authotron_config authotron.yaml;` to http{}
#   jwt_aud         adds jwt.aud to the common header
#   jwt_keys        lines that replace jwt.secret in the common header (algorithm, private_key,
#                   kid, verification_keys; %%KEYS%% is t/fixtures/keys); NGINX then also
#                   serves `location = /authotron-test-jwks { authotron_jwks; }`; with an
#                   asymmetric algorithm it is fetched once the answers are in, and minted
#                   tokens are verified against that JWKS instead
#   main_config, http_config, config    text for the main, http{} and server{} contexts
#   request         "METHOD /uri", optionally followed by header lines; several with eval [...]
#   more_headers    raw header lines, repeated names allowed
#   parallel        send every request before reading any answer
#   reload_after    with parallel: seconds until `nginx -s reload` (the old worker must exit 0)
#   quit_after      with parallel: seconds until `nginx -s quit`; a graceful exit still answers
#                   every request in flight, then NGINX must exit 0
#   master_env      lines NAME=value added to the environment of the NGINX the block runs, not
#                   to `nginx -t` or `nginx -s` (which run with the suite's environment, as from
#                   an operator's shell): for AOT_* variables only the master has
#   workers         worker_processes (default 1); above 1 the listen socket gets `reuseport`,
#                   so the kernel spreads connections over the workers instead of one taking all
#   http2           true: the server also takes HTTP/2 with prior knowledge (h2c), on the port
#                   $run->{h2_port}. From NGINX 1.25.1 that is the block's own port (`http2 on;`
#                   serves both protocols there); before, a listener with the `http2` parameter
#                   speaks nothing else, so it is a second port beside the HTTP/1.1 one
#   abort_requests  requests whose clients hang up after abort_after s (default 0.1), before the
#                   main requests, which are sent settle s later (default 2)
#   timeout         seconds to wait for the answers (default 20)
#   nginx_needs     configure arguments the block needs NGINX to be built with ("--with-debug"
#                   for a block that checks debug lines: without it NGINX, and the module's
#                   ngx_log_debug, log none); when `nginx -V` lacks one, the block is skipped
#                   and the reason printed
#   error_code      expected status (default 200)
#   response_headers[_like]   "Name: value" (exact, or a regex); "!Name" for absent
#   response_body[_like|_unlike], response_json (equal as JSON)
#   upstream_headers  what the echo backend received: for each name listed, exactly the listed
#                   values in order ("Name:" is one empty value, %%JWT%% any JWT, "!Name" none)
#   upstream_jwt, response_jwt    claims (a JSON subset) of the JWT the upstream received or
#                   /authenticate returned; the token is also verified (HS256, jwt.secret; or
#                   with jwt_keys against the instance's JWKS) and checked for the claims every
#                   minted token carries
#   error_log, no_error_log   strings (or eval [qr//]) the error log must (not) contain; the
#                   log must never contain @FORBIDDEN_LOG unless error_log expects it
#   access_log_like regex over the access log
#   must_die, config_ok       only run `nginx -t` and expect failure or success; error_log is
#                   then matched against its output
#   error_code      may also list alternatives: "401|503"
#   elapsed_below   seconds: the request (from connect to its last byte) must take less
#   secret          strings (credentials) that must appear nowhere past the module: not in what
#                   the upstream received, the minted JWT, the response, the access log, or the
#                   error log (except NGINX's own lines that echo the request, see
#                   @NGINX_ECHOES); placeholders are expanded when the checks run, so
#                   %%T(name)%% can name a token a hook created
#                   Every block also collects its secrets itself (see log_secrets: the YAML's
#                   passwords and secrets, every credential its requests carried, every token
#                   the module issued) and checks the error log, written at debug level, for them.
#   before_start eval  code run with ($idp, $run) before the block's files are written, for
#                   state that must be fresh per block (a new database); it may set
#                   $main::T{name} for %%T(name)%% in the YAML and NGINX config
# Shared scenario lists: run_tests(blocks => $text) runs the blocks in $text (Test::Base
# format) before the file's own __DATA__ blocks, if any.
# Fleet tests: $run->sibling starts one more NGINX for the block (its own prefix and port, the
# same sections; %%T(name)%% is read again); it is stopped and its logs checked with the block's.
# Remote identity services (scripts/mock-idp, see Test::Authotron::IdP), for files that call
# idp() before run_tests():
#   mock eval       code run with ($idp, $run) before NGINX starts; the IdP has just been reset
#                   (counts, delays, faults, JWKS; registered tokens stay)
#   after_start eval   code run with ($idp, $run) once NGINX is up, before the requests
#   before_request eval  one code ref (or undef) per request, run with ($idp, $run) before
#                   sending it; sequential requests only
#   mock_calls      JSON {route: count}: calls the IdP received, counted when the answers are in
#   check eval      code run with ($run, \@responses, $idp) for anything else; use Test::More
#   Every block with a running IdP also checks that it recorded no protocol violation.
#   $run->request("GET /x\nHeader: v") sends one more request from a hook and returns it;
#   $run->upstream_claims($response) decodes the JWT the upstream received.
#   $run->reload (from a hook, between sequential requests): nginx -s reload, returning once the
#   new worker has started and the old one has exited; rewrite $run->{yaml_path} first to
#   change the configuration. $run->jwt_problems($token, '{}', undef, $jwks_json) verifies a
#   minted token as a backend holding that JWKS would (empty list: it verifies).
# Placeholders: %%BASE64(text)%%, %%PREFIX%%, %%LINE:text%% / %%YAML_LINE:text%% (the line of
# nginx.conf / authotron.yaml holding text, for error_log), %%T(name)%% ($main::T{name}, read
# when the request is sent: a hook may mint it just before). With an IdP, in the YAML and NGINX
# config as well: %%IDP%% (its HTTP base URL), %%IDPS%% (HTTPS, 127.0.0.1 certificate),
# %%IDPS_WRONG_NAME%% (HTTPS, certificate for another name), %%CA_FILE%%, %%ROGUE_CA_FILE%%;
# %%DEAD%% is a loopback URL where nothing listens; %%BLACKHOLE%% one whose accept queue is full,
# so that connecting hangs (for connect timeouts).
# A real directory (scripts/slapd, see Test::Authotron::Slapd), for files that call
# slapd(tls => 0|1) before run_tests(): it is up and answering at the start of every block;
# placeholders %%LDAP%%, %%LDAPS%%, %%LDAP_CA_FILE%%, %%LDAP_ROGUE_CA_FILE%%, %%LDAP_BLACKHOLE%%.
# defaults(section => text, ...) sets sections for every block of a file that lacks them.
#
# What NGINX the suite runs (scripts/lib.sh's nginx_binary, from `nginx -V`), for what a
# block or file depends on, exported on request: nginx_version() is a number (1022001 for
# 1.22.1), nginx_has('--with-debug') whether NGINX was configured with that argument.
#
# Environment: TEST_NGINX_BINARY, TEST_NGINX_MODULE (default: see scripts/lib.sh; "none" runs
# without the module, only to check the harness itself), TEST_NGINX_VERBOSE (on failure, print
# whole logs and the generated files instead of the error log's tail).
#
# Memory checking (scripts/memcheck): TEST_NGINX_VALGRIND=1 starts every NGINX of a block (and
# `nginx -t`) under valgrind's memcheck, master and workers, each process with its own log in the
# prefix. Once NGINX has exited the block also checks those logs: no memory error at all (a
# known one that is not the module's is suppressed, with the reason, in t/valgrind.supp), and no
# block "definitely lost" with a frame of the module in its allocation stack. NGINX's own
# definite leaks are not counted: it leaves some memory unfreed at exit, by design.
# TEST_NGINX_VALGRIND_OPTS adds valgrind options (for instance --track-origins=yes).
# TEST_NGINX_TIME_FACTOR multiplies every wait and time bound of the harness (default 1, and 10
# under valgrind, which runs NGINX some 10 to 40 times slower); .t files use scaled() for their
# own.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Test::Base ();    # only its block parser; we do not want its exports or source filter
use Test::Base::Filter ();
use Test::More;
use Time::HiRes qw(sleep time);
use Crypt::JWT qw(decode_jwt);

our @EXPORT = qw(run_tests defaults idp slapd);
our @EXPORT_OK = qw(scaled nginx_version nginx_has);

my $ROOT = abs_path(dirname(__FILE__) . '/../../..');

my $VALGRIND = $ENV{TEST_NGINX_VALGRIND};
my $TIME_FACTOR = $ENV{TEST_NGINX_TIME_FACTOR} // ($VALGRIND ? 10 : 1);

# A duration of the suite in seconds, as long as it must be on this run (see TEST_NGINX_TIME_FACTOR).
sub scaled { return $_[0] * $TIME_FACTOR }

# What every generated authotron.yaml starts with, unless a block's yaml is a whole file
# (it starts with "version:"). The JWT checks use these values.
our %JWT = (iss => 'authotron-test', exp => 600, secret => 't3st-s3cret-for-the-integration-suite-only');

my $YAML_HEADER = <<"YAML";
version: "2.0.0"
server: { host: 127.0.0.1, port: 8080 }
metrics: { enabled: false }
logging: { level: info, format: console }
store: { enabled: false }
services: []
jwt:
  iss: $JWT{iss}
  exp: $JWT{exp}
  secret: "$JWT{secret}"
YAML

# Every section a block may use: a misspelt one must fail loudly, not be ignored.
my %SECTIONS = map { $_ => 1 } qw(
  yaml jwt_aud jwt_keys main_config http_config config
  request more_headers parallel reload_after quit_after abort_requests abort_after settle timeout workers
  master_env
  error_code response_headers response_headers_like
  response_body response_body_like response_body_unlike response_json
  upstream_headers upstream_jwt response_jwt
  error_log no_error_log access_log_like
  must_die config_ok
  elapsed_below secret mock after_start before_request mock_calls check before_start http2 nginx_needs
);

# Log lines that mean the module or NGINX misbehaved. Plain "signal" cannot be used: NGINX
# logs every signal it receives (SIGQUIT, SIGCHLD, SIGHUP) at notice level.
my @FORBIDDEN_LOG = ('[alert]', '[crit]', '[emerg]', 'exited on signal', 'panicked');

my $JWT_RE = qr/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
my $JWKS_URI = '/authotron-test-jwks';

my %DEFAULTS;
my $VERBOSE = $ENV{TEST_NGINX_VERBOSE};
my $IDP;
my $SLAPD;

# The file's mock identity services, started on first use (options: https => 1).
sub idp {
    my (%opt) = @_;
    require Test::Authotron::IdP;
    $IDP //= Test::Authotron::IdP->start(%opt);
    die "idp() was first called without https => 1\n" if $opt{https} && !$IDP->{pki};
    return $IDP;
}

# The file's directory server, started on first use (options: tls => 1).
sub slapd {
    my (%opt) = @_;
    require Test::Authotron::Slapd;
    $SLAPD //= Test::Authotron::Slapd->launch(%opt);
    die "slapd() was first called without tls => 1\n" if $opt{tls} && !$SLAPD->{pki};
    return $SLAPD;
}

# Sections used by every block of a .t file that does not give its own.
sub defaults {
    my %d = @_;
    $DEFAULTS{$_} = $d{$_} for keys %d;
}

sub run_tests {
    my (%opt) = @_;
    my $nginx = locate('nginx_binary');
    my $module = locate('module_path');
    BAIL_OUT("NGINX binary not found or not executable: $nginx") unless -x $nginx;
    BAIL_OUT("module not found: $module (build it: cargo build --release)")
      unless $module eq 'none' || -f $module;

    my $parser = Test::Authotron::Blocks->new;
    if (defined $opt{blocks}) {
        require Scalar::Util;
        my $own = '';
        if (Scalar::Util::openhandle(\*main::DATA)) { local $/; $own = <main::DATA> }
        $parser->_spec_string("$opt{blocks}\n$own");    # spec_string() needs Test::Base imported
    }
    my @blocks = @{ $parser->block_list };
    BAIL_OUT("no blocks found after __DATA__") unless @blocks;
    $_->run_filters for grep { !$_->is_filtered } @blocks;

    my $backend = Test::Authotron::Echo->start;
    for my $block (@blocks) {
        my @missing = grep { !nginx_has($_) } split ' ', section($block, 'nginx_needs') // $DEFAULTS{nginx_needs} // '';
        if (@missing) {
            # diag as well: prove shows a skip's reason only when verbose.
            my $why = $block->name . ": needs an NGINX configured with @missing (nginx -V)";
            diag("skipped: $why");
            Test::More->builder->skip($why);
            next;
        }
        my $first = Test::More->builder->current_test;
        my $run = eval { Test::Authotron::Run->new($block, $nginx, $module, $backend->{port}) };
        unless ($run) { fail($block->name . ": $@"); next }
        eval { $run->execute; 1 } or fail($block->name . ": harness error: $@");
        my @results = (Test::More->builder->summary)[$first .. Test::More->builder->current_test - 1];
        $run->report_failure if grep { !$_ } @results;
        $run->cleanup;
    }
    $backend->stop;
    $IDP->stop if $IDP;
    $SLAPD->stop if $SLAPD;
    done_testing();
}

# What `nginx -V` prints for the suite's NGINX, read once.
my $NGINX_V;
sub nginx_v {
    return $NGINX_V if defined $NGINX_V;
    my $nginx = locate('nginx_binary');
    open my $fh, '-|', 'sh', '-c', '"$0" -V 2>&1', $nginx or die "cannot run $nginx -V: $!";
    local $/;
    $NGINX_V = <$fh>;
    close $fh or die "$nginx -V failed: $NGINX_V\n";
    return $NGINX_V;
}

# The NGINX version as NGINX numbers it (nginx_version in its sources): 1.22.1 is 1022001.
sub nginx_version {
    my ($major, $minor, $patch) = nginx_v() =~ m{^nginx version: \S+?/(\d+)\.(\d+)\.(\d+)}m
      or die "no version in nginx -V:\n" . nginx_v();
    return $major * 1000000 + $minor * 1000 + $patch;
}

# Whether NGINX was configured with this argument ("--with-debug", "--with-http_v2_module").
sub nginx_has {
    my ($argument) = @_;
    my ($arguments) = nginx_v() =~ /^configure arguments:(.*)$/m;
    return scalar(($arguments // '') =~ /(?:^|\s)\Q$argument\E(?:\s|$)/);
}

# The NGINX binary and the module, as scripts/lib.sh finds them (TEST_NGINX_BINARY and
# TEST_NGINX_MODULE first), so that the lookup is defined once.
sub locate {
    my ($function) = @_;
    my $out = `bash -c '. "\$1" && $function' locate "$ROOT/scripts/lib.sh"`;
    chomp $out;
    return $out;
}

sub section {
    my ($block, $name) = @_;
    return undef unless exists $block->{$name};
    my @v = @{ $block->{$name} };
    return @v == 1 ? $v[0] : \@v;
}

# A free loopback port: bind port 0, read what the kernel chose, release it.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
      or die "cannot bind a free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "cannot write $path: $!";
    print {$fh} $text;
    close $fh or die "cannot write $path: $!";
}

sub line_of {
    my ($text, $needle, $what) = @_;
    my @lines = split /\n/, $text;
    for my $i (0 .. $#lines) { return $i + 1 if index($lines[$i], $needle) >= 0 }
    die "placeholder: '$needle' not found in $what\n";
}

# ---------------------------------------------------------------------------------------------
package Test::Authotron::Blocks;
our @ISA = ('Test::Base');

package Test::Authotron::Blocks::Filter;
our @ISA = ('Test::Base::Filter');

# Test::Base's own eval filter turns a syntax error into the section's value; a test with a
# broken eval section must fail, not silently compare against an error message.
sub eval {
    my ($self, $code) = @_;
    my @value = CORE::eval("package main; no strict 'vars'; $code");
    die "eval section failed: $@" if $@;
    return @value;
}

# ---------------------------------------------------------------------------------------------
# The echo backend (scripts/echo-backend), one per .t file.
package Test::Authotron::Echo;

sub start {
    my ($class) = @_;
    my $script = "$ROOT/scripts/echo-backend";
    my $pid = open(my $out, '-|', 'python3', $script) or die "cannot start $script: $!";
    my $line = <$out>;
    die "echo backend did not start\n" unless defined $line && $line =~ m{127\.0\.0\.1:(\d+)};
    return bless { pid => $pid, port => $1, out => $out }, $class;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

# ---------------------------------------------------------------------------------------------
# One block: its prefix, its files, its NGINX and its checks.
package Test::Authotron::Run;

use Test::More;
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Crypt::JWT qw(decode_jwt);

BEGIN {
    *section = \&Test::Authotron::section;
    *slurp   = \&Test::Authotron::slurp;
    *spew    = \&Test::Authotron::spew;
}

sub new {
    my ($class, $block, $nginx, $module, $echo_port) = @_;
    for my $name (keys %$block) {
        # Block fields of Test::Base, and its ONLY/SKIP/LAST markers for debugging a file.
        next if $name =~ /^_/ || grep { $_ eq $name } qw(name description seq_num is_filtered blocks_object original_values ONLY SKIP LAST);
        die "unknown section '--- $name' in block '" . $block->name . "'\n" unless $SECTIONS{$name};
    }
    my $prefix = File::Temp::tempdir('authotron-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $prefix;    # workers run as nobody when the suite runs as root
    mkdir "$prefix/logs";   # NGINX opens its built-in error log here before reading the config
    return bless {
        block => $block, name => $block->name, nginx => $nginx, module => $module,
        echo_port => $echo_port, prefix => $prefix, port => Test::Authotron::free_port(),
        conf => "$prefix/nginx.conf", yaml_path => "$prefix/authotron.yaml",
        idp => $IDP, dead_port => Test::Authotron::free_port(),
    }, $class;
}

sub get {
    my ($self, $name) = @_;
    my $v = section($self->{block}, $name);
    return defined $v ? $v : $DEFAULTS{$name};
}

sub execute {
    my ($self) = @_;
    if (my $idp = $self->{idp}) {
        $idp->reset;
        $self->hook('mock')->($idp, $self);
    }
    $SLAPD->reset if $SLAPD;
    $self->hook('before_start')->($self->{idp}, $self);
    $self->write_files;
    if (defined $self->get('must_die') || defined $self->get('config_ok')) {
        return $self->config_test;
    }
    $self->start_nginx or return;
    $self->hook('after_start')->($self->{idp}, $self);
    my @responses = $self->send_requests;
    $self->{jwks} = $self->request("GET $JWKS_URI")->{body} if $self->signs_with_keys;
    $self->check_idp if $self->{idp};
    my $reloaded_worker = $self->{reloaded_worker};
    $self->check_old_worker_exit($reloaded_worker) if defined $reloaded_worker;
    $self->stop_nginx;
    $self->check_response($_, $responses[$_], scalar @responses) for 0 .. $#responses;
    $self->check_logs(slurp("$self->{prefix}/error.log") . slurp("$self->{prefix}/stderr.log"));
    $self->check_worker_starts;
    $self->check_memory;
    for my $sibling (@{ $self->{siblings} // [] }) {
        $sibling->stop_nginx;
        $sibling->check_logs(slurp("$sibling->{prefix}/error.log") . slurp("$sibling->{prefix}/stderr.log"));
        $sibling->check_worker_starts;
        $sibling->check_memory;
        for my $secret ($self->secrets) {
            unlike(slurp("$sibling->{prefix}/access.log"), qr/\Q$secret\E/, "$sibling->{name}: the access log never shows the secret");
        }
    }
    if (defined(my $like = $self->get('access_log_like'))) {
        my $log = slurp("$self->{prefix}/access.log");
        $like = $self->expand($like, 1);
        like($log, qr/$like/m, "$self->{name}: access log");
    }
    for my $secret ($self->secrets) {
        unlike(slurp("$self->{prefix}/access.log"), qr/\Q$secret\E/, "$self->{name}: the access log never shows the secret");
    }
    $self->hook('check')->($self, \@responses, $self->{idp});
}

# A code section (mock, after_start, check), or a no-op.
sub hook {
    my ($self, $name) = @_;
    my $code = $self->get($name);
    return sub { } unless defined $code;
    die "--- $name must be 'eval' code giving a sub { ... }\n" unless ref $code eq 'CODE';
    return $code;
}

# Every block with an identity service checks that the module spoke its protocol correctly,
# and the calls it made when the block says how many.
sub check_idp {
    my ($self) = @_;
    my $stats = $self->{idp_stats} = $self->{idp}->stats;
    my @v = @{ $stats->{violations} };
    ok(!@v, "$self->{name}: the identity services saw only well-formed requests") or diag(join "\n", @v);
    my $want = $self->get('mock_calls');
    return unless defined $want;
    $want = decode_json($want) unless ref $want;
    for my $route (sort keys %$want) {
        is($stats->{calls}{$route} // 0, $want->{$route}, "$self->{name}: the identity service got $want->{$route} $route call(s)");
    }
}

# The block's secrets, placeholders expanded (hooks may have minted them).
sub secrets {
    my ($self) = @_;
    return map { $self->expand($_) } list_of($self->get('secret'));
}

# For fleet tests: another NGINX running this block's sections, started now.
sub sibling {
    my ($self) = @_;
    my $s = (ref $self)->new($self->{block}, @$self{qw(nginx module echo_port)});
    push @{ $self->{siblings} }, $s;
    $s->{sent_secrets} = $self->{sent_secrets} //= [];    # a fleet shares its clients' tokens
    $s->{name} = "$self->{name} (NGINX " . (1 + @{ $self->{siblings} }) . ")";
    $s->write_files;
    $s->start_nginx or die "$s->{name} did not start\n";
    return $s;
}

# For hooks: one more request, sent and answered now.
sub request {
    my ($self, $spec) = @_;
    my $t0 = time;
    my ($res) = $self->collect($self->connect_and_send($self->raw_request($spec)));
    $res->{elapsed} = ($res->{received} // time) - $t0;
    return $res;
}

# The claims of the JWT the upstream received (verified with jwt.secret, or with jwt_keys the
# instance's JWKS; expiry not checked).
sub upstream_claims {
    my ($self, $res) = @_;
    my ($token) = ($res->{body} // '') =~ /^[^:\n]+: Bearer ($JWT_RE)$/m or return undef;
    my $jwks = $self->signs_with_keys ? $self->request("GET $JWKS_URI")->{body} : undef;
    return eval { decode_jwt(token => $token, verifier($jwks), verify_exp => 0) };
}

# Whether jwt_keys sets an asymmetric jwt.algorithm: tokens are then verified with the JWKS.
sub signs_with_keys {
    my ($self) = @_;
    return ($self->get('jwt_keys') // '') =~ /^\s*algorithm:\s*(?:RS256|ES256|EdDSA)\s*$/m;
}

# How Crypt::JWT verifies a minted token: with a JWKS (JSON) by its kid, else HS256 and jwt.secret.
sub verifier {
    my ($jwks) = @_;
    return defined $jwks
      ? (kid_keys => $jwks, accepted_alg => [qw(RS256 ES256 EdDSA)])
      : (key => $JWT{secret}, accepted_alg => 'HS256');
}

# --- files -----------------------------------------------------------------------------------

sub write_files {
    my ($self) = @_;
    $self->{workers} = $self->get('workers') // 1;
    my $reuseport = $self->{workers} > 1 ? ' reuseport' : '';
    my $listen = "listen 127.0.0.1:$self->{port}$reuseport;";
    if ($self->get('http2')) {
        if (Test::Authotron::nginx_version() >= 1025001) {
            $self->{h2_port} = $self->{port};
            $listen .= "\n        http2 on;";
        } else {
            $self->{h2_port} //= Test::Authotron::free_port();
            $listen .= "\n        listen 127.0.0.1:$self->{h2_port} http2$reuseport;";
        }
    }
    my $yaml = $self->get('yaml');
    if (defined $yaml) {
        unless ($yaml =~ /^version:/m) {
            my $header = $YAML_HEADER;
            if (defined(my $aud = $self->get('jwt_aud'))) { $header .= "  aud: $aud\n" }
            if (defined(my $keys = $self->get('jwt_keys'))) {
                $keys = join '', map { "  $_\n" } split /\n/, $keys;
                $header =~ s/^  secret: .*\n/$keys/m;
            }
            $yaml = $header . $yaml;
        }
        $yaml = $self->expand($yaml);
        $self->{yaml} = $yaml;
        spew($self->{yaml_path}, $yaml);
    }
    my $p = $self->{prefix};
    my $load = $self->{module} eq 'none' ? '# module not loaded (TEST_NGINX_MODULE=none)' : "load_module $self->{module};";
    my $authotron_config = defined $yaml ? 'authotron_config authotron.yaml;' : '';
    my $conf = <<"CONF";
# generated by t/lib/Test/Authotron.pm for: $self->{name}
$load
master_process on;
worker_processes $self->{workers};
daemon off;
pid $p/nginx.pid;
error_log $p/error.log debug;
${\ $self->expand($self->get('main_config') // '')}
events { worker_connections 1024; }

http {
    access_log $p/access.log;
    upstream echo { server 127.0.0.1:$self->{echo_port}; }
    $authotron_config
${\ $self->expand($self->get('http_config') // '')}
    server {
        $listen
        server_name localhost;
${\ $self->expand($self->get('config') // '')}
${\ (defined $self->get('jwt_keys') ? "        location = $JWKS_URI { authotron_jwks; }" : '')}
    }
}
CONF
    $self->{conf_text} = $conf;
    spew($self->{conf}, $conf);
}

# %%BASE64(text)%%, %%LINE:text%% (line of text in nginx.conf), %%YAML_LINE:text%%,
# %%PREFIX%%. In regex context the inserted text is quoted.
sub expand {
    my ($self, $text, $regex) = @_;
    return $text unless defined $text && !ref $text;
    my $q = sub { $regex ? quotemeta($_[0]) : $_[0] };
    $text =~ s/\n\z// if $regex;    # a pattern section's last newline is layout, not content
    $text =~ s/%%BASE64\((.*?)\)%%/$q->(encode_base64($1, ''))/ge;
    $text =~ s/%%LINE:(.*?)%%/Test::Authotron::line_of($self->{conf_text}, $1, 'nginx.conf')/ge;
    $text =~ s/%%YAML_LINE:(.*?)%%/Test::Authotron::line_of($self->{yaml} \/\/ '', $1, 'authotron.yaml')/ge;
    $text =~ s/%%PREFIX%%/$q->($self->{prefix})/ge;
    $text =~ s/%%KEYS%%/$q->("$ROOT\/t\/fixtures\/keys")/ge;
    $text =~ s/%%T\((\w+)\)%%/$q->(token_named($1))/ge;
    $text =~ s/%%DEAD%%/$q->("http:\/\/127.0.0.1:$self->{dead_port}")/ge;
    $text =~ s/%%BLACKHOLE%%/$q->($self->blackhole_url)/ge;
    if (my $idp = $self->{idp}) {
        $text =~ s/%%IDP%%/$q->($idp->url)/ge;
        $text =~ s/%%IDPS%%/$q->($idp->https_url)/ge;
        $text =~ s/%%IDPS_WRONG_NAME%%/$q->($idp->https_url('wrong_name'))/ge;
        $text =~ s/%%CA_FILE%%/$q->($idp->ca_file)/ge;
        $text =~ s/%%ROGUE_CA_FILE%%/$q->($idp->rogue_ca_file)/ge;
    }
    $text = $SLAPD->expand($text, $q, $self) if $SLAPD;
    return $text;
}

# A listener with a backlog of one and two connections queued that it never accepts: the
# kernel drops further SYNs, so a connection attempt hangs until the client gives up.
sub blackhole_url {
    my ($self) = @_;
    unless ($self->{blackhole}) {
        my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
          or die "cannot listen: $!";
        my @fill = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $l->sockport, Proto => 'tcp', Timeout => 1) } 1 .. 2;
        $self->{blackhole} = [$l, @fill];
    }
    return 'http://127.0.0.1:' . $self->{blackhole}[0]->sockport;
}

# %%T(name)%% is $main::T{name}, read when the request is sent, so that hooks can mint tokens
# that must be fresh (short expiry) just before they are used.
sub token_named {
    my ($name) = @_;
    no warnings 'once';
    die "%%T($name)%%: \$main::T{$name} is not set\n" unless defined $main::T{$name};
    return $main::T{$name};
}

# --- nginx -t ----------------------------------------------------------------------------------

sub config_test {
    my ($self) = @_;
    my $cmd = join ' ', map { quotemeta } $self->checked_cmd($self->nginx_cmd('-t'));
    my $out = `$cmd 2>&1`;
    my $status = $?;
    $self->{config_test_output} = $out;
    ok(!($status & 127), "$self->{name}: nginx -t was not killed by a signal");
    if (defined $self->get('must_die')) {
        ok($status >> 8, "$self->{name}: nginx -t rejects the configuration");
    } else {
        is($status >> 8, 0, "$self->{name}: nginx -t accepts the configuration");
    }
    $self->check_logs($out);
    $self->check_memory;
}

# --- running NGINX -----------------------------------------------------------------------------

sub nginx_cmd {
    my ($self, @args) = @_;
    return ($self->{nginx}, '-p', "$self->{prefix}/", '-c', $self->{conf}, @args);
}

# The command that runs the block's NGINX itself (not `nginx -s`, which only sends a signal),
# under memcheck with TEST_NGINX_VALGRIND. Each process, master and every worker it forks, logs
# to its own valgrind.<pid>.log; --trace-children follows an exec too. Leaks are not errors to
# valgrind here (--errors-for-leak-kinds=none): check_memory decides which count. valgrind runs
# one thread at a time; --fair-sched keeps NGINX's thread and the module's runtime threads from
# starving one another.
sub checked_cmd {
    my ($self, @cmd) = @_;
    return @cmd unless $VALGRIND;
    return ('valgrind', '--tool=memcheck', '--trace-children=yes', '--vgdb=no', '--fair-sched=yes',
        '--num-callers=50', '--error-exitcode=99', '--leak-check=full', '--show-leak-kinds=definite',
        '--errors-for-leak-kinds=none', '--gen-suppressions=all', "--suppressions=$ROOT/t/valgrind.supp",
        "--log-file=$self->{prefix}/valgrind.%p.log", split(' ', $ENV{TEST_NGINX_VALGRIND_OPTS} // ''), @cmd);
}

# nginx -s <signal>, its chatter kept out of the TAP stream.
sub signal {
    my ($self, $name) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{prefix}/signal.log" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec $self->nginx_cmd('-s', $name) or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $? == 0;
}

sub start_nginx {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{prefix}/stderr.log" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        for my $line (split /\n/, $self->get('master_env') // '') {
            my ($name, $value) = $line =~ /^(\w+)=(.*)$/ or POSIX::_exit(125);
            $ENV{$name} = $value;
        }
        exec $self->checked_cmd($self->nginx_cmd) or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    my $deadline = time + Test::Authotron::scaled(10);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            fail("$self->{name}: nginx starts (exit status $?)");
            return 0;
        }
        my $log = slurp("$self->{prefix}/error.log");
        if ($log =~ /start worker process/) {
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp');
            if ($s) { close $s; $self->wait_for_accept($deadline); return 1 }
        }
        sleep 0.05;
    }
    fail("$self->{name}: nginx starts within " . Test::Authotron::scaled(10) . " s");
    return 0;
}

# The master listens before its worker serves, and a worker under valgrind takes seconds to
# start: requests sent meanwhile wait in the listen queue, where a graceful exit (quit_after)
# would drop them. So wait until a worker has accepted the probe connection (NGINX's debug line
# "accept: ..."), up to $deadline; a block that logs less goes on without it, and so does an
# NGINX built without --with-debug, which never logs that line.
sub wait_for_accept {
    my ($self, $deadline) = @_;
    return unless Test::Authotron::nginx_has('--with-debug');
    sleep 0.05 while time < $deadline && slurp("$self->{prefix}/error.log") !~ /\] \d+#\d+: \*\d+ accept: /;
}

sub stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    # `nginx -s quit` must work (t/075-signal-environment.t runs it without the master's
    # AOT_* variables); once quit_after sent it, the master may already be gone with its pid file.
    unless ($self->{quit_sent}) {
        ok($self->signal('quit'), "$self->{name}: nginx -s quit is accepted") or kill 'QUIT', $pid;
    }
    my $deadline = time + Test::Authotron::scaled(20);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            is($?, 0, "$self->{name}: nginx exits cleanly after -s quit");
            return;
        }
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    fail("$self->{name}: nginx exits within " . Test::Authotron::scaled(20) . " s of -s quit");
}

sub worker_pids {
    my ($self) = @_;
    my @pids = slurp("$self->{prefix}/error.log") =~ /start worker process (\d+)/g;
    return @pids;
}

# A crashed worker is silently replaced by the master; count the starts to notice it.
sub check_worker_starts {
    my ($self) = @_;
    my $expected = $self->{workers} * (1 + ($self->{reloads} // 0));
    is(scalar($self->worker_pids), $expected, "$self->{name}: worker started $expected time(s), never respawned");
}

# --- memory checking (TEST_NGINX_VALGRIND) ---------------------------------------------------

# The valgrind logs of the block's processes, once they have exited. Each report must be whole (a
# killed process has none), with no memory error, and no block definitely lost that the module
# allocated. A frame is the module's when it is in the module's object or in Rust source: NGINX
# is C, so any Rust code in the process is the module or a crate linked into it. An error is
# counted wherever it happens (NGINX can trip over memory the module broke); a leak only with a
# frame of the module in its allocation stack.
sub check_memory {
    my ($self) = @_;
    return unless $VALGRIND;
    my $object = File::Basename::basename($self->{module});
    my $ours = qr/\(in [^)]*\Q$object\E\)|\.rs:\d+\)$/m;
    my @logs = sort glob "$self->{prefix}/valgrind.*.log";
    my (@problems, @reports);
    for my $log (@logs) {
        (my $text = slurp($log)) =~ s/^==\d+== ?//mg;
        my ($pid) = $log =~ /(\d+)\.log$/;
        my ($errors) = $text =~ /^ERROR SUMMARY: (\d+) errors/m;
        unless (defined $errors) {
            push @problems, "process $pid: valgrind's report is incomplete (was it killed?)";
            next;
        }
        my @paragraphs = split /\n\s*\n/, $text;
        for my $i (0 .. $#paragraphs) {
            my $p = $paragraphs[$i];
            next unless $p =~ /^\s+at 0x/m;    # errors and leaks have a stack; notes do not
            my $leak = $p =~ /are definitely lost in loss record/;
            next if $leak && $p !~ $ours;
            my $whose = $p =~ $ours ? 'the module is on the stack' : 'no frame of the module';
            # --gen-suppressions prints an entry for t/valgrind.supp after each report.
            my ($template) = ($paragraphs[$i + 1] // '') =~ /\A(\{.*?^\})/ms;
            $template = defined $template ? "\n$template" : '';
            push @reports, "process $pid, $whose:\n$p$template";
        }
        push @problems, "process $pid: $errors memory error(s)" if $errors;
    }
    my $leaks = grep { /are definitely lost/ } @reports;
    push @problems, "$leaks block(s) definitely lost that the module allocated" if $leaks;
    ok(@logs && !@problems, "$self->{name}: memcheck of " . @logs . " NGINX process(es): no memory error, no leak of the module")
      or diag(join "\n", @problems, @logs ? () : 'no valgrind log', @reports[0 .. ($#reports < 4 ? $#reports : 4)]);
}

# For hooks: nginx -s reload, then wait until the new workers have started and every worker
# from before has exited (with code 0), so that the next request meets the new configuration.
sub reload {
    my ($self) = @_;
    my @old = $self->worker_pids;
    $self->signal('reload') or die "nginx -s reload failed\n";
    $self->{reloads}++;
    my $deadline = time + Test::Authotron::scaled(20);
    while (time < $deadline) {
        my $log = slurp("$self->{prefix}/error.log");
        my %exited = $log =~ /worker process (\d+) exited with code (\d+)/g;
        if ($self->worker_pids >= @old + $self->{workers} && !grep { !defined $exited{$_} } @old) {
            my @failed = grep { $exited{$_} != 0 } @old;
            ok(!@failed, "$self->{name}: the workers from before reload $self->{reloads} exit with code 0");
            return;
        }
        sleep 0.05;
    }
    die "reload $self->{reloads}: the new worker did not take over within " . Test::Authotron::scaled(20) . " s\n";
}

sub check_old_worker_exit {
    my ($self, $old) = @_;
    my $deadline = time + Test::Authotron::scaled(20);
    while (time < $deadline) {
        if (slurp("$self->{prefix}/error.log") =~ /worker process $old exited with code (\d+)/) {
            is($1, 0, "$self->{name}: the worker from before the reload exits with code 0");
            return;
        }
        sleep 0.1;
    }
    fail("$self->{name}: the worker from before the reload exits within " . Test::Authotron::scaled(20) . " s");
}

# --- requests -----------------------------------------------------------------------------------

# A request is "METHOD /uri" optionally followed by header lines; more_headers adds more.
sub raw_request {
    my ($self, $spec, $more) = @_;
    my ($line, @headers) = split /\n/, $self->expand($spec);
    push @headers, split /\n/, $self->expand($more) if defined $more;
    $line =~ s/^\s+|\s+$//g;
    $line .= ' HTTP/1.1' unless $line =~ m{ HTTP/\d\.\d$};
    my ($method) = split / /, $line;
    my $raw = "$line\r\nHost: localhost\r\nConnection: close\r\n";
    $raw .= "$_\r\n" for @headers;
    $raw .= "Content-Length: 0\r\n" if $method =~ /^(POST|PUT|PATCH)$/ && !grep { /^content-length:/i } @headers;
    push @{ $self->{sent_secrets} }, request_secrets($line, @headers);
    return "$raw\r\n";
}

sub connect_and_send {
    my ($self, $raw) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp')
      or die "cannot connect to nginx on port $self->{port}: $! (" . $self->listener_state . ")\n";
    $s->autoflush(1);
    print {$s} $raw;
    return $s;
}

# For a failed connect: is the master alive, and is the port still in LISTEN state?
sub listener_state {
    my ($self) = @_;
    my $alive = $self->{pid} && kill(0, $self->{pid}) ? 'master alive' : 'master gone';
    my $local = sprintf '0100007F:%04X', $self->{port};
    my @states = map { /^\s*\d+: $local \S+ (\S\S)/ ? $1 : () } split /\n/, Test::Authotron::slurp('/proc/net/tcp');
    my $listening = grep { $_ eq '0A' } @states;
    return "$alive, " . ($listening ? 'port listening' : 'port not listening');
}

# Reads every socket to EOF together, so parallel requests are really in flight together.
sub collect {
    my ($self, @socks) = @_;
    my $timeout = Test::Authotron::scaled($self->get('timeout') // 20);
    my %buf = map { ($_ => '') } 0 .. $#socks;
    my %done;
    my %by_fh = map { (fileno($socks[$_]) => $_) } 0 .. $#socks;
    my $sel = IO::Select->new(@socks);
    my $deadline = time + $timeout;
    while ($sel->count && time < $deadline) {
        for my $fh ($sel->can_read($deadline - time)) {
            my $i = $by_fh{ fileno $fh };
            my $n = sysread($fh, my $chunk, 65536);
            if ($n) { $buf{$i} .= $chunk; next }
            $done{$i} = time;
            $sel->remove($fh);
            close $fh;
        }
    }
    for my $fh ($sel->handles) { $sel->remove($fh); close $fh }
    my @res = map { my $r = parse_response($buf{$_}); $r->{received} = $done{$_}; $r } 0 .. $#socks;
    push @{ $self->{sent_secrets} }, map { issued_secrets($_) } @res;
    return @res;
}

sub send_requests {
    my ($self) = @_;
    if (defined(my $aborts = $self->get('abort_requests'))) {
        my @socks = map { $self->connect_and_send($self->raw_request($_)) } (ref $aborts ? @$aborts : $aborts);
        sleep(Test::Authotron::scaled($self->get('abort_after') // 0.1));
        $self->check_unanswered('the aborted requests were unanswered when their clients left', @socks);
        close $_ for @socks;
        sleep(Test::Authotron::scaled($self->get('settle') // 2));
    }
    my $requests = $self->get('request') // 'GET /';
    my @requests = ref $requests ? @$requests : ($requests);
    my $more = $self->get('more_headers');

    unless (defined $self->get('parallel')) {
        my $before = $self->get('before_request');
        my @out;
        for my $i (0 .. $#requests) {
            my $hook = ref $before eq 'ARRAY' ? $before->[$i] : $before;
            die "--- before_request must be 'eval' code refs\n" if defined $hook && ref $hook ne 'CODE';
            $hook->($self->{idp}, $self) if $hook;
            my $raw = $self->raw_request($requests[$i], per_request($more, $i));
            my $t0 = time;
            my ($res) = $self->collect($self->connect_and_send($raw));
            $res->{elapsed} = ($res->{received} // time) - $t0;
            push @out, $res;
        }
        return @out;
    }
    die "--- before_request needs sequential requests (use after_start with parallel)\n"
      if defined $self->get('before_request');
    my @raws = map { $self->raw_request($requests[$_], per_request($more, $_)) } 0 .. $#requests;
    my @t0;
    my @socks = map { push @t0, time; $self->connect_and_send($_) } @raws;
    if (defined(my $delay = $self->get('reload_after'))) {
        my @old = $self->worker_pids;
        sleep Test::Authotron::scaled($delay);
        $self->check_unanswered('no request was answered before the reload', @socks);
        $self->signal('reload') or die "nginx -s reload failed\n";
        $self->{reloads}++;
        $self->{reloaded_worker} = $old[-1];
    }
    if (defined(my $delay = $self->get('quit_after'))) {
        sleep Test::Authotron::scaled($delay);
        $self->check_unanswered('no request was answered before the graceful exit', @socks);
        $self->signal('quit') or die "nginx -s quit failed\n";
        $self->{quit_sent} = 1;
    }
    my @res = $self->collect(@socks);
    $res[$_]{elapsed} = ($res[$_]{received} // time) - $t0[$_] for 0 .. $#res;
    return @res;
}

# An abort or reload test proves nothing if the answers were already there: check that none
# of the sockets has anything to read yet.
sub check_unanswered {
    my ($self, $what, @socks) = @_;
    my @ready = IO::Select->new(@socks)->can_read(0);
    is(scalar @ready, 0, "$self->{name}: $what");
}

sub parse_response {
    my ($raw) = @_;
    return { raw => $raw } unless $raw =~ m{\AHTTP/1\.[01] (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n(.*)\z}s;
    my ($status, $head, $body) = ($1, $2, $3);
    my @headers = map { /^([^:]+):[ \t]*(.*?)[ \t]*$/ ? [$1, $2] : () } split /\r\n/, $head;
    if (grep { lc $_->[0] eq 'transfer-encoding' && $_->[1] =~ /chunked/i } @headers) {
        my $decoded = '';
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $decoded .= substr($body, 0, $len, '');
            $body =~ s/\A\r\n//;
        }
        $body = $decoded;
    }
    return { raw => $raw, status => $status, headers => \@headers, body => $body };
}

# An expectation given as an array holds one entry per request; a scalar applies to each.
sub per_request {
    my ($value, $i) = @_;
    return ref $value eq 'ARRAY' ? $value->[$i] : $value;
}

# --- checks --------------------------------------------------------------------------------------

sub check_response {
    my ($self, $i, $res, $count) = @_;
    my $label = $count > 1 ? "$self->{name} (request " . ($i + 1) . ")" : $self->{name};
    my $want = sub { per_request($self->get($_[0]), $i) };

    my $code = $want->('error_code') // 200;
    unless (defined $res->{status}) {
        fail("$label: a complete HTTP response");
        diag("received: " . (length $res->{raw} ? $res->{raw} : '(nothing)'));
        return;
    }
    if ($code =~ /\|/) {
        like($res->{status}, qr/^(?:$code)$/, "$label: status is one of $code");
    } else {
        is($res->{status}, $code, "$label: status");
    }
    if (defined(my $limit = $want->('elapsed_below'))) {
        $limit = Test::Authotron::scaled($limit);
        cmp_ok($res->{elapsed}, '<', $limit, "$label: answered in under $limit s") or diag(sprintf 'took %.3f s', $res->{elapsed});
    }
    for my $secret ($self->secrets) {
        my @where = grep { index($_->[1], $secret) >= 0 } (['response', $res->{raw}],
            map { ['a JWT the upstream received', decode_payload($_)] } $res->{body} =~ /($JWT_RE)/g);
        ok(!@where, "$label: the secret is nowhere in the response, the upstream request or a JWT")
          or diag("found in $where[0][0]");
    }

    if (defined(my $h = $want->('response_headers'))) {
        report("$label: response headers", header_problems($res->{headers}, $self->expand($h), 0));
    }
    if (defined(my $h = $want->('response_headers_like'))) {
        report("$label: response headers (like)", header_problems($res->{headers}, $self->expand($h), 1));
    }
    if (defined(my $b = $want->('response_body'))) {
        is($res->{body}, $self->expand($b), "$label: response body");
    }
    if (defined(my $b = $want->('response_body_like'))) {
        my $re = $self->expand($b, 1);
        like($res->{body}, qr/$re/, "$label: response body (like)");
    }
    if (defined(my $b = $want->('response_body_unlike'))) {
        my $re = $self->expand($b, 1);
        unlike($res->{body}, qr/$re/, "$label: response body (unlike)");
    }
    if (defined(my $j = $want->('response_json'))) {
        my $got = eval { JSON::PP->new->canonical->encode(JSON::PP->new->decode($res->{body})) } // "(not JSON: $res->{body})";
        is($got, JSON::PP->new->canonical->encode(JSON::PP->new->decode($j)), "$label: response JSON");
    }
    if (defined(my $u = $want->('upstream_headers'))) {
        report("$label: headers the upstream received", upstream_problems($res->{body}, $self->expand($u)));
    }
    if (defined(my $j = $want->('upstream_jwt'))) {
        my @tokens = $res->{body} =~ /^[^:\n]+: Bearer ($JWT_RE)$/mg;
        my %distinct = map { ($_ => 1) } @tokens;
        if (!@tokens) {
            fail("$label: the upstream received a Bearer JWT");
            diag("upstream saw:\n$res->{body}");
        } elsif (keys %distinct > 1) {
            fail("$label: every Bearer header the upstream received carries the same JWT");
        } else {
            report("$label: upstream JWT", $self->jwt_problems($tokens[0], $j, $res->{received}));
        }
    }
    if (defined(my $j = $want->('response_jwt'))) {
        my @auth = map { $_->[1] } grep { lc $_->[0] eq 'authorization' } @{ $res->{headers} };
        my ($token) = @auth == 1 ? $auth[0] =~ /^Bearer ($JWT_RE)$/ : ();
        report("$label: response Authorization JWT",
            $token ? $self->jwt_problems($token, $j, $res->{received}) : ("expected one 'Authorization: Bearer <jwt>' header, got: @auth"));
    }
}

sub report {
    my ($what, @problems) = @_;
    ok(!@problems, $what) or diag(join "\n", @problems);
}

# Lines "Name: value" must match the header (exactly, or as a regex with $like); a header
# given twice must hold exactly one value; "!Name" means the header must be absent.
sub header_problems {
    my ($headers, $spec, $like) = @_;
    my @p;
    for my $line (grep { /\S/ } split /\n/, $spec) {
        my @vals;
        if ($line =~ /^!\s*(\S+)\s*$/) {
            my $name = $1;
            @vals = map { $_->[1] } grep { lc $_->[0] eq lc $name } @$headers;
            push @p, "header $name should be absent, got: @vals" if @vals;
            next;
        }
        my ($name, $want) = $line =~ /^([^:]+):\s*(.*?)\s*$/ or die "bad header expectation: $line\n";
        @vals = map { $_->[1] } grep { lc $_->[0] eq lc $name } @$headers;
        if (@vals != 1) {
            push @p, "expected one $name header, got " . scalar(@vals) . ": " . join(' | ', @vals);
        } elsif ($like ? $vals[0] !~ /$want/ : $vals[0] ne $want) {
            push @p, "$name: got '$vals[0]', expected " . ($like ? "to match /$want/" : "'$want'");
        }
    }
    return @p;
}

# The echo backend lists the headers it received. For every name in the spec, the values the
# upstream saw under that name, in order, must be exactly the listed ones. %%JWT%% stands for a
# JWT; "!Name" means the upstream must not see the header at all.
sub upstream_problems {
    my ($body, $spec) = @_;
    my (undef, @lines) = split /\n/, $body;
    my @seen = map { /^([^:]+): ?(.*?)\s*$/ ? [$1, $2] : () } @lines;
    my (%want, @order);
    for my $line (grep { /\S/ } split /\n/, $spec) {
        if ($line =~ /^!\s*(\S+)\s*$/) { push @order, lc $1 unless $want{ lc $1 }; $want{ lc $1 } ||= []; next }
        my ($name, $value) = $line =~ /^([^:]+):\s*(.*?)\s*$/ or die "bad upstream header expectation: $line\n";
        push @order, lc $name unless $want{ lc $name };
        push @{ $want{ lc $name } }, $value;
    }
    my @p;
    for my $name (@order) {
        my @got = map { $_->[1] } grep { lc $_->[0] eq $name } @seen;
        my @exp = @{ $want{$name} };
        my $same = @got == @exp;
        for my $k (0 .. $#exp) {
            last unless $same;
            my $re = join $JWT_RE, map { quotemeta } split /%%JWT%%/, $exp[$k], -1;
            $same = $got[$k] =~ /^$re$/;
        }
        push @p, "upstream header '$name': got [" . join(' | ', @got) . "], expected [" . join(' | ', @exp) . "]"
          unless $same;
    }
    push @p, "upstream saw:\n$body" if @p;
    return @p;
}

# The payload of a JWT as text, unverified ('' when it is not one).
sub decode_payload {
    my ($token) = @_;
    my (undef, $payload) = split /\./, $token;
    return eval { MIME::Base64::decode_base64url($payload) } // '';
}

# Verifies the token as a backend would (HS256, jwt.secret; with jwt_keys, or when given $jwks,
# the key of its kid in that JWKS or else the one fetched from the instance; not expired when it
# was received), checks the claims every minted token must carry, then that $expected (JSON)
# is a subset of the claims.
sub jwt_problems {
    my ($self, $token, $expected, $received, $jwks) = @_;
    $jwks //= $self->{jwks};
    my $leeway = defined $received ? int(time - $received) + 2 : 0;
    my ($header, $claims) = eval {
        decode_jwt(token => $token, verifier($jwks), decode_header => 1, verify_exp => 1, leeway => $leeway);
    };
    return ("JWT does not verify " . (defined $jwks ? "with the JWKS $jwks" : "with HS256 and jwt.secret") . ": $@") unless $claims;
    my @p;
    my ($alg) = ($self->get('jwt_keys') // '') =~ /^\s*algorithm:\s*(\S+)/m;
    push @p, "header alg is $header->{alg}" unless !defined $jwks && ($header->{alg} // '') eq 'HS256'
      || defined $jwks && (!defined $alg || $header->{alg} eq $alg) && defined $header->{kid};
    for my $c (qw(sub iss exp iat roles username scopes realm attributes)) {
        push @p, "claim '$c' missing" unless exists $claims->{$c};
    }
    return (@p, 'claims: ' . encode_json($claims)) if @p;
    push @p, "sub is '$claims->{sub}', expected '$claims->{realm}-$claims->{username}'"
      unless $claims->{sub} eq "$claims->{realm}-$claims->{username}";
    push @p, "iss is '$claims->{iss}'" unless $claims->{iss} eq $JWT{iss};
    # exp is iat + jwt.exp, capped by an `exp` attribute (a remote token's own expiry), which
    # may be any JSON number and caps rounded down.
    my $want_exp = $claims->{iat} + $JWT{exp};
    my $cap = ref $claims->{attributes} eq 'HASH' ? $claims->{attributes}{exp} : undef;
    $cap = POSIX::floor($cap) if defined $cap && $cap =~ /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
    $want_exp = $cap if defined $cap && $cap =~ /^-?\d+$/ && $cap < $want_exp;
    push @p, "exp is $claims->{exp}, iat $claims->{iat}: expected $want_exp (iat + $JWT{exp}, capped by an exp attribute)"
      unless $claims->{exp} == $want_exp;
    push @p, "iat $claims->{iat} is not now" unless abs($claims->{iat} - time) < 120;
    push @p, "roles is not an array" unless ref $claims->{roles} eq 'ARRAY';
    push @p, "$_ is not an object" for grep { ref $claims->{$_} ne 'HASH' } qw(scopes attributes);
    my $aud = $self->get('jwt_aud');
    if (defined $aud) {
        push @p, "aud is " . encode_json([$claims->{aud}]) . ", expected '$aud'"
          unless defined $claims->{aud} && ($claims->{aud} eq $aud || (ref $claims->{aud} eq 'ARRAY' && "@{$claims->{aud}}" eq $aud));
    } elsif (exists $claims->{aud}) {
        push @p, "aud present although jwt.aud is not configured";
    }
    push @p, subset_problems(decode_json($expected), $claims, 'claims');
    push @p, 'claims: ' . JSON::PP->new->canonical->encode($claims) if @p;
    return @p;
}

# Objects: every expected key must match. Arrays and scalars: equal (arrays element-wise).
sub subset_problems {
    my ($want, $got, $path) = @_;
    if (ref $want eq 'HASH') {
        return ("$path is not an object") unless ref $got eq 'HASH';
        return map { exists $got->{$_} ? subset_problems($want->{$_}, $got->{$_}, "$path.$_") : ("$path.$_ missing") } sort keys %$want;
    }
    if (ref $want eq 'ARRAY') {
        my $canon = JSON::PP->new->canonical;
        return () if ref $got eq 'ARRAY' && $canon->encode($want) eq $canon->encode($got);
        return ("$path is " . $canon->allow_nonref->encode($got) . ", expected " . $canon->encode($want));
    }
    return () if defined $got && !ref $got && defined $want && "$got" eq "$want";
    return ("$path is " . JSON::PP->new->allow_nonref->encode($got) . ", expected " . JSON::PP->new->allow_nonref->encode($want));
}

sub check_logs {
    my ($self, $log) = @_;
    my $where = $self->{config_test_output} ? 'nginx -t output' : 'error log';
    my @expected = map { $self->expand($_) } list_of($self->get('error_log'));
    for my $pat (@expected) {
        my $ok = ref $pat eq 'Regexp' ? $log =~ $pat : index($log, $pat) >= 0;
        ok($ok, "$self->{name}: $where contains " . (ref $pat ? "$pat" : "'$pat'"));
    }
    # A block that expects one of the forbidden strings (for instance a must_die [emerg]) says so.
    my @forbidden = grep { my $f = $_; !grep { !ref $_ && index($_, $f) >= 0 } @expected } @FORBIDDEN_LOG;
    @forbidden = grep { $_ ne '[emerg]' } @forbidden if defined $self->get('must_die');
    for my $pat (@forbidden, map { $self->expand($_) } list_of($self->get('no_error_log'))) {
        my $hit = ref $pat eq 'Regexp' ? ($log =~ /^(.*$pat.*)$/m)[0] : ($log =~ /^(.*\Q$pat\E.*)$/m)[0];
        ok(!defined $hit, "$self->{name}: $where lacks " . (ref $pat ? "$pat" : "'$pat'")) or diag("found: $hit");
    }
    my @secrets = $self->log_secrets;
    my @hits;
    for my $entry (log_entries($log)) {
        my $text = ours($entry) // next;
        push @hits, map { "'$_' in: $entry" } grep { index($text, $_) >= 0 } @secrets;
    }
    ok(!@hits, "$self->{name}: the $where shows none of the block's " . scalar(@secrets) . " secret(s)")
      or diag(join "\n", @hits[0 .. ($#hits < 4 ? $#hits : 4)]);
}

sub list_of {
    my ($v) = @_;
    return () unless defined $v;
    return @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v;
    return grep { /\S/ } split /\n/, $v;
}

# --- secrets in the error log ---------------------------------------------------------------------
#
# The module must never write a credential, password, token or secret, at any level. Every block
# runs with `error_log ... debug` and its error log (or nginx -t output) is searched for every
# secret the block knows of. NGINX itself echoes the request at debug level, and that is NGINX's
# business, not ours (docs/operations.md warns that debug logging exposes request headers). The lines
# excluded below are exactly NGINX's own messages that print request data or values computed
# from it; they are matched right after the "[level] PID#TID: *CONN " prefix, where the module's
# lines say "authotron:", so no line of ours can ever be excluded.
my @NGINX_ECHOES = (
    # ngx_http_request.c, parsing the client's request: its headers and its request line (a
    # query string or a path may carry a key, for instance upstream's DELETE /token/<token>).
    'http header: "', 'http request line: "', 'http uri: "', 'http args: "', 'http exten: "',
    # ngx_http_request.c, at info level: a header line NGINX refuses, quoted (two Authorization
    # headers, say).
    'client sent duplicate header line: "', 'client sent invalid header line: "',
    'client sent too long header line: "',
    # ngx_http_header_filter_module.c: the response's status line and headers, over several
    # lines (/authenticate answers with the minted JWT; add_header may show $authotron_jwt).
    'HTTP/1.0 ', 'HTTP/1.1 ',
    # Every debug message of NGINX 1.28's src/http/*.c that prints the request's "uri?args"
    # (`grep -rn '%V?%V' src/http`) as the request moves through phases and filters, and the
    # two that print its uri alone.
    'http run request: "', 'http posted request: "', 'http finalize request: ',
    'http finalize non-active request: "', 'http wake parent request: "', 'http writer handler: "',
    'http writer output filter: ', 'http writer done: "', 'http finalizer done: "',
    'subrequest: "', 'http output filter "', 'http subrequest "', 'internal redirect: "',
    'using location: ', 'http copy filter: ', 'http aio: "', 'http thread: "',
    'http postpone filter ', 'http file cache aio: "', 'http file cache thread: "',
    'http file cache wait: "', 'http upstream resolve: "', 'http upstream request: "',
    'http upstream check client', 'http upstream ssl handshake: "', 'http upstream thread: "',
    'cleanup http upstream request: "', 'http special response: ',
    # ngx_http_proxy_module.c: the whole request proxy_pass sends (it holds the client's other
    # headers and the minted JWT the module put there), and each header of the upstream's answer.
    # What reaches the upstream is checked by the `secret` and upstream_headers sections.
    'http proxy header:',
    # ngx_http_script.c: the values of variables a configuration line evaluates (for instance
    # proxy_set_header ... $authotron_jwt); the configuration chose to compute them.
    'http script copy: "', 'http script var: "', 'http script capture: "',
    # src/http/v2, the HTTP/2 counterparts of the lines above: each request header field and the
    # request line NGINX builds from them, the fields a client adds to the HPACK table, a field
    # refused for its value (info level), and the response's header and trailer fields.
    'http2 header: "', 'http2 request line: "', 'http2 table add: "', 'client sent header "',
    'http2 output header: "', 'http2 output trailer: "',
);
my $NGINX_ECHO = do {
    my $any = join '|', map { quotemeta } @NGINX_ECHOES;
    qr{\A\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:debug|info)\] \d+#\d+: (?:\*\d+ )?(?:$any)};
};

# Shorter secrets ("admin", the password of upstream's own test user adam) occur in innocent
# text; they are not searched for. Their Base64 pairs ("adam:admin") are, being long enough.
my $MIN_SECRET = 6;

# Log entries: a timestamped line and the lines that continue it (NGINX writes some dumps, such
# as the request proxy_pass sends, over several lines).
sub log_entries {
    my ($log) = @_;
    return split m{\n(?=\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[|nginx: \[)}, $log;
}

# The part of an entry the module wrote: undef for NGINX's echoes, and without the context NGINX
# appends to every non-debug line of a request (", client: ..., server: ..., request: \"<the
# request line>\", host: ..."): that is NGINX's copy of the request line, as in the access log.
sub ours {
    my ($entry) = @_;
    return undef if $entry =~ $NGINX_ECHO;
    $entry =~ s/, client: [0-9a-fA-F.:]+, server: .*\z//s;
    return $entry;
}

# The secrets a request carries: Authorization credentials (the Base64 of Basic, the decoded
# pair and password; Bearer tokens and any other scheme's credential), headers named like keys
# or tokens, and query parameters named like them.
sub request_secrets {
    my ($line, @headers) = @_;
    my @found;
    for my $header (@headers) {
        my ($name, $value) = $header =~ /^([^:]+):\s*(.*?)\s*$/ or next;
        if (lc $name eq 'authorization') {
            for my $part (split /,/, $value) {
                my ($scheme, $credential) = $part =~ /^\s*(\S+)\s+(\S+)/ or next;
                push @found, $credential;
                next unless lc $scheme eq 'basic';
                my $pair = MIME::Base64::decode_base64($credential);
                push @found, $pair, ($pair =~ /:(.*)\z/s ? $1 : ());
            }
        } elsif ($name =~ /key|token|secret|password/i) {
            push @found, $value;
        }
    }
    my ($query) = $line =~ /^\S+ [^?\s]*\?(\S*)/;
    push @found, map { /^[^=]*(?:key|token|secret|password)[^=]*=(.+)/i ? $1 : () } split /&/, $query // '';
    return @found;
}

# What the module handed out: store tokens ("token": "...") and minted JWTs, in the answer or in
# what the upstream received.
sub issued_secrets {
    my ($res) = @_;
    my $raw = $res->{raw} // '';
    return ($raw =~ /"token"\s*:\s*"([^"]+)"/g), ($raw =~ /Bearer ($JWT_RE)/g);
}

# The secrets of the block's YAML (every password and secret value, and the user:password
# pair of a connection URI), and the YAML without them.
sub yaml_secrets {
    my ($yaml) = @_;
    return ([], '') unless defined $yaml;
    my @found;
    my $keys = qr/(?<![\w-])(?:password|secret|ldap_password|client_secret|private_client_secret)/;
    my $value = qr/"[^"\n]*"|'[^'\n]*'|[^\s,}\]#"'][^,}\]#\n]*?(?=\s*(?:[,}\]#]|$))/m;
    (my $open = $yaml) =~ s{($keys\s*:[ \t]*)($value)}{
        my ($key, $v) = ($1, $2);
        push @found, $v =~ /\A["'](.*)["']\z/s ? $1 : $v;
        $key;
    }gme;
    $open =~ s{://([^/\s:@"']+:[^/\s@"']+)@}{push @found, $1; '://@'}ge;
    return ([grep { length } @found], $open);
}

# Every secret the block knows of that can be searched for: the `secret` section, the YAML's,
# and those its requests carried or the module issued; without those too short to be told from
# innocent text and those the block uses in the open (a password that is also a username, a
# role or a realm elsewhere in its YAML or NGINX configuration).
sub log_secrets {
    my ($self) = @_;
    my ($from_yaml, $open) = yaml_secrets($self->{yaml});
    my @found = (@$from_yaml, @{ $self->{sent_secrets} // [] });
    $open = join "\n", $open, $self->{conf_text} // '', map { /\A([^:\s]+):/ ? $1 : () } @found;    # usernames of pairs
    my %seen;
    return grep { !$seen{$_}++ } $self->secrets,
      grep { length >= $MIN_SECRET && $open !~ /(?<![A-Za-z0-9_])\Q$_\E(?![A-Za-z0-9_])/ } @found;
}

# --- diagnostics -----------------------------------------------------------------------------

sub report_failure {
    my ($self) = @_;
    # The tail of a debug log is shutdown noise; without TEST_NGINX_VERBOSE show the rest.
    # A debug entry may span lines; it ends where the next timestamped entry starts.
    my $tail = sub {
        my ($path, $n) = @_;
        my $in_debug = 0;
        my @lines = grep {
            $in_debug = /\[debug\]/ if m{^\d{4}/\d\d/\d\d };
            $VERBOSE || !$in_debug;
        } split /\n/, slurp($path);
        return join "\n", @lines > $n ? @lines[-$n .. -1] : @lines;
    };
    my $n = $VERBOSE ? 100_000 : 40;
    diag("---- $self->{name}: failed; prefix $self->{prefix}");
    diag("---- nginx -t output:\n$self->{config_test_output}") if defined $self->{config_test_output};
    diag("---- error.log (last $n lines" . ($VERBOSE ? '' : ' without [debug]') . "):\n" . $tail->("$self->{prefix}/error.log", $n));
    my $stderr = $tail->("$self->{prefix}/stderr.log", $n);
    diag("---- nginx stderr:\n$stderr") if length $stderr;
    my $signals = slurp("$self->{prefix}/signal.log");
    diag("---- nginx -s output:\n$signals") if length $signals;
    if (my $stats = $self->{idp_stats}) {
        my $json = JSON::PP->new->canonical;
        diag("---- identity service calls: " . $json->encode($stats->{calls}) . "; most in flight: " . $json->encode($stats->{inflight_max}));
        diag("---- identity service violations:\n" . join("\n", @{ $stats->{violations} })) if @{ $stats->{violations} };
    }
    $_->report_failure for @{ $self->{siblings} // [] };
    if ($VERBOSE) {
        diag("---- nginx.conf:\n$self->{conf_text}");
        diag("---- authotron.yaml:\n$self->{yaml}") if defined $self->{yaml};
        diag("---- access.log:\n" . slurp("$self->{prefix}/access.log"));
    }
}

sub cleanup {
    my ($self) = @_;
    $_->cleanup for @{ delete $self->{siblings} // [] };
    close $_ for grep { defined } @{ delete $self->{blackhole} // [] };
    if (my $pid = delete $self->{pid}) {
        # A worker whose master is killed keeps running, and keeps the block's port, so the
        # master's children are found first, while they are still its own.
        kill 'KILL', $pid, children_of($pid);
        waitpid $pid, 0;
    }
}

# The processes whose parent is $pid (field 4 of /proc/PID/stat, after the command in parens).
sub children_of {
    my ($pid) = @_;
    my @children;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my ($child, $parent) = slurp($stat) =~ /\A(\d+) \(.*\) \S+ (\d+) /s or next;
        push @children, $child if $parent == $pid;
    }
    return @children;
}

sub DESTROY { $_[0]->cleanup }

1;
