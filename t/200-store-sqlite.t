# The token store on a real SQLite file: the shared scenarios (create, use, list, revoke, expire,
# ownership, near misses, the management API's routes and refusals, what the database holds,
# the roles a token carries, its owner checked again after a reload;
# t/lib/Test/Authotron/StoreScenarios.pm), then what is SQLite's own:
# where the file goes, the built-in limits, a database the worker cannot write (503), the
# configuration mistakes nginx -t catches, and a revocation through the worker's own API, which
# no announcement carries.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::StoreScenarios;

my $version = `sqlite3 -version 2>&1`;
die "sqlite3 is needed to read the database file (apt-get install sqlite3): $version\n" if $?;

# Workers run as nobody when the suite runs as root: like an administrator would, give them a
# directory of their own for the database.
sub worker_dir {
    my ($run, $name, $writable) = @_;
    my $dir = "$run->{prefix}/$name";
    mkdir $dir or die "mkdir $dir: $!";
    if (!$writable) {
        chmod 0555, $dir;
    } elsif ($> == 0) {
        my (undef, undef, $uid, $gid) = getpwnam('nobody') or die "no user nobody\n";
        chown $uid, $gid, $dir or die "chown $dir: $!";
    }
    return $dir;
}

sub db_file { "$_[0]{prefix}/db/tokens.db" }

store_backend(
    store => { type => 'sqlite', path => 'db/tokens.db' },
    before_start => sub { worker_dir($_[0], 'db', 1) },
    contents => sub {
        my ($run) = @_;
        my $db = db_file($run);
        die "no database file at $db\n" unless -f $db;
        my $raw = join '', map { Test::Authotron::slurp($_) } grep { -f } map { "$db$_" } '', '-wal', '-journal';
        my $dump = `sqlite3 "$db" .dump 2>&1`;
        die "sqlite3 $db .dump failed: $dump\n" if $?;
        return (['the database files', $raw], ['sqlite3 .dump', $dump]);
    },
);
my %store_defaults = store_defaults();
defaults(%store_defaults, config => $store_defaults{config} . "location = /metrics { authotron_metrics; }\n");

run_tests(blocks => store_blocks());

__DATA__

=== SQLITE 1: the worker creates the database at the path relative to the YAML file's directory
--- after_start eval
sub { my (undef, $run) = @_; $main::T{tok} = create_token($run, 'alice')->{token} }
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%')]
--- check eval
sub {
    my ($run) = @_;
    ok(-f "$run->{prefix}/db/tokens.db", 'the database file is in the directory of authotron.yaml');
    ok(!-e 'db/tokens.db', 'not in the current directory');
    my $tables = `sqlite3 "$run->{prefix}/db/tokens.db" .tables 2>&1`;
    like($tables, qr/\w/, 'it holds tables') or diag($tables);
}

=== SQLITE 2: without limits in the YAML: 30 days by default, 365 days at most
--- yaml eval
store_yaml(default_expiry_seconds => undef, max_expiry_seconds => undef, cache_ttl_seconds => undef, timeout_ms => undef)
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t0 = time;
    my $t = create_token($run, 'alice', method => 'GET');
    ok(abs($t->{expires_at} - ($t0 + 2592000)) <= 3, 'default expiry: 30 days') or diag("expires_at $t->{expires_at}");
    my $max = create_token($run, 'alice', query => 'expires_in=31536000');
    is($max->{expires_at} - $max->{created_at}, 31536000, '365 days is allowed');
}
--- request eval
["POST /tokens?expires_in=31536001\n" . basic('alice')]
--- error_code: 400
--- response_body_like: "error"

=== SQLITE 3: a database the worker cannot open: 503 with Retry-After for the store, Basic still works
# A directory the worker cannot write is refused by nginx -t (t/080-nginx-t.t); a directory
# where the database file should be passes that check and fails only when SQLite opens it.
--- yaml eval
store_yaml(path => 'store/tokens.db', timeout_ms => 1000)
--- before_start eval
sub {
    my $dir = worker_dir($_[1], 'store', 1);
    mkdir "$dir/tokens.db" or die "mkdir: $!";
    chown((stat $dir)[4, 5], "$dir/tokens.db") or die "chown: $!";
}
--- error_log eval
[qr{SQLite: cannot open "[^"]*/store/tokens\.db": unable to open database file}]
--- request eval
[
  "GET /token\n" . basic('alice'),
  "GET /tokens\n" . basic('alice'),
  "GET /api/x\n" . bearer(unused_token()),
  "GET /api/x\n" . bearer('aot_not-a-token'),
  "GET /api/x\n" . basic('alice'),
]
--- error_code eval
[503, 503, 503, 401, 200]
--- response_headers_like eval
[("Retry-After: ^\\d+\$\nCache-Control: ^no-store\$\nContent-Type: ^application/json") x 2, "Retry-After: ^\\d+\$", "WWW-Authenticate: Basic", ""]
--- response_body_like eval
['"error"', '"error"', '', '', '^GET /api/x']

=== SQLITE 4: type mongo is refused, naming the types that work
--- yaml eval
store_yaml(type => 'mongo', path => undef, uri => 'mongodb://127.0.0.1:27017', database => 'tokens')
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:type: mongo%%', qr/\bsqlite\b/, qr/\bpostgres\b/]

=== SQLITE 5: an unknown store type is refused, naming the types that work
--- yaml eval
store_yaml(type => 'redis')
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:type: redis%%', qr/\bsqlite\b/, qr/\bpostgres\b/]

=== SQLITE 6: an sqlite store needs a path
--- yaml eval
store_yaml(path => undef)
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+/, qr/\bpath\b/]

=== SQLITE 7: authotron_tokens needs an enabled store
--- yaml eval
store_yaml(enabled => 'false')
--- must_die
--- error_log eval
['nginx.conf:%%LINE:{ authotron_tokens; }%%', qr/store/]

=== SQLITE 8: a method the token routes do not take: 405 naming those they do
--- request eval
["DELETE /token\n" . basic('alice'), "PUT /tokens\n" . basic('alice'), "GET /token/aot_x\n" . basic('alice')]
--- error_code: 405
--- response_headers eval
["Allow: GET, POST", "Allow: GET, POST", "Allow: DELETE"]

=== SQLITE 9: a revocation through the token API evicts that token only: the worker still answers another token from its cache
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $one = create_token($run, 'alice');
    my $two = create_token($run, 'alice');
    # One worker: its first use of each token looks it up in the store, the second is a hit.
    for my $token ($one, $two) {
        my @statuses = map { call($run, 'GET /api/x', bearer($token->{token}))->{status} } 1 .. 2;
        is("@statuses", '200 200', 'the worker accepts a token of alice');
    }
    my ($hits, $misses) = (store_hits($run), store_misses($run));
    is("$hits $misses", '2 2', 'it looked each token up once and answered it once from its cache');

    # Named by itself, as upstream's route takes it: only the database knows its id.
    api_answer(call($run, "DELETE /tokens/$one->{token}", basic('alice')), 204, 'token one is revoked');
    status_is(call($run, 'GET /api/x', bearer($one->{token})), 401, 'token one is refused at once');
    status_is(call($run, 'GET /api/x', bearer($two->{token})), 200, 'token two is still accepted');
    is(store_misses($run), $misses, 'token two was not looked up again');
    is(store_hits($run), $hits + 1, 'token two was answered from the cache');

    # A revocation that deleted nothing evicts nothing.
    api_answer(call($run, "DELETE /tokens/$one->{id}", basic('alice')), 404, 'token one is gone already');
    status_is(call($run, 'GET /api/x', bearer($two->{token})), 200, 'token two is still accepted');
    is(store_hits($run) . ' ' . store_misses($run), ($hits + 2) . " $misses", 'and still answered from the cache');

    # Named by its id, as a listing shows it.
    api_answer(call($run, "DELETE /tokens/$two->{id}", basic('alice')), 204, 'token two is revoked by its id');
    status_is(call($run, 'GET /api/x', bearer($two->{token})), 401, 'token two is refused at once');
}
--- request
GET /tokens
Authorization: Basic %%BASE64(alice:alice-Pw-0451)%%
--- response_json: []
