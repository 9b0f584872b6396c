# The token store on a real PostgreSQL server (scripts/postgres, a fresh database per block):
# the shared scenarios of t/lib/Test/Authotron/StoreScenarios.pm, where the server's statement
# log also shows that near-miss tokens never reach the database and that neither a token nor a
# password is ever sent to it; then an outage in the middle of a run (store tokens 503, Basic
# unaffected, store tokens back once PostgreSQL is), a wrong database password, and the
# configuration mistakes nginx -t catches.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Postgres;
use Test::Authotron::StoreScenarios;

our $PG = eval { Test::Authotron::Postgres->start };
unless ($PG) {
    fail("a PostgreSQL server for the token-store tests starts (scripts/postgres)");
    diag($@);
    done_testing();
    exit 1;
}

sub database { Test::Authotron::Postgres->database_of($main::T{store_uri}) }

store_backend(
    store => { type => 'postgres', uri => '"%%T(store_uri)%%"', pool_size => 2 },
    # thaw: a block that failed half-way must not leave the server frozen for the next one
    before_start => sub { $PG->thaw; $main::T{store_uri} = $PG->create_database },
    contents => sub {
        return (['pg_dump of the database', $PG->dump(database())], ['the PostgreSQL server log', $PG->log_text]);
    },
    mark => sub { $PG->log_size },
    statements => sub { my (undef, $from, $to) = @_; $PG->statements(database(), $from, $to) },
);
defaults(store_defaults());

run_tests(blocks => store_blocks());

__DATA__

=== POSTGRES 1: PostgreSQL stops and comes back: store tokens 503 meanwhile, Basic unaffected
--- yaml eval
store_yaml(cache_ttl_seconds => 1)
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice');
    status_is(call($run, 'GET /api/x', bearer($t->{token})), 200, 'the token while PostgreSQL runs');
    $main::T{tok} = $t->{token};
    $main::PG->stop;
    sleep 1.5;    # past cache_ttl_seconds: the worker must ask the database again
}
--- request eval
[
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "GET /api/x\n" . basic('alice'),
  "GET /tokens\n" . basic('alice'),
  "POST /tokens\n" . basic('alice'),
  "DELETE /tokens/0123456789abcdef0123456789abcdef\n" . basic('alice'),
  "GET /api/x\n" . bearer('aot_not-even-close'),
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "POST /tokens?description=after\n" . basic('alice'),
]
--- before_request eval
[(undef) x 6, sub {
    my (undef, $run) = @_;
    $main::PG->start;
    my @seen;
    wait_until(20, sub { push @seen, call($run, 'GET /api/x', bearer($main::T{tok}))->{status} // 'none'; $seen[-1] eq '200' });
    $main::SEEN = \@seen;
}, undef]
--- error_code eval
[503, 200, 503, 503, 503, 401, 200, 201]
--- response_headers_like eval
["Retry-After: ^\\d+\$", "", ("Retry-After: ^\\d+\$\nCache-Control: ^no-store\$\nContent-Type: ^application/json") x 3,
 "WWW-Authenticate: Basic", "X-Provider: ^token-store\$", ""]
--- response_body_like eval
['', '^GET /api/x', ('"error"') x 3, '', '^GET /api/x', '"description":"after"']
--- check eval
sub {
    my @seen = @$main::SEEN;
    ok(@seen && $seen[-1] eq '200', 'the token works again once PostgreSQL is back');
    ok(!grep({ $_ ne '503' && $_ ne '200' } @seen), 'meanwhile: 503 until 200, never a 401') or diag("statuses: @seen");
}
--- secret eval
["%%T(tok)%%", $PASSWORD{alice}, "secret\@127.0.0.1"]

=== POSTGRES 2: a wrong database password is an outage of the store: 503, and Basic still works
--- yaml eval
store_yaml(uri => '"%%T(wrong_uri)%%"', timeout_ms => 1000)
--- before_start eval
sub { ($main::T{wrong_uri} = $main::PG->create_database) =~ s/:secret\@/:not-the-password\@/ or die "no password in the URI\n" }
--- request eval
["GET /tokens\n" . basic('alice'), "GET /api/x\n" . bearer(unused_token()), "GET /api/x\n" . basic('alice')]
--- error_code eval
[503, 503, 200]
--- response_headers_like eval
[("Retry-After: ^\\d+\$") x 2, ""]
--- secret eval
["not-the-password"]

=== POSTGRES 3: a database that stops answering: 503 within timeout_ms, then back to work
--- yaml eval
store_yaml(timeout_ms => 500, cache_ttl_seconds => 1)
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice');
    status_is(call($run, 'GET /api/x', bearer($t->{token})), 200, 'the token while PostgreSQL answers');
    @main::T{qw(tok id)} = @$t{qw(token id)};
    sleep 1.5;    # past cache_ttl_seconds
    $main::PG->freeze;
}
--- request eval
[
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "GET /tokens\n" . basic('alice'),
  "GET /api/x\n" . basic('alice'),
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "GET /tokens\n" . basic('alice'),
]
--- before_request eval
[(undef) x 3, sub {
    my (undef, $run) = @_;
    $main::PG->thaw;
    my @seen;
    wait_until(20, sub { push @seen, call($run, 'GET /api/x', bearer($main::T{tok}))->{status} // 'none'; $seen[-1] eq '200' });
    $main::SEEN = \@seen;
}, undef]
--- error_code eval
[503, 503, 200, 200, 200]
--- elapsed_below eval
[2, 2, 2, undef, undef]
--- response_headers_like eval
[("Retry-After: ^\\d+\$") x 2, "", "X-Provider: ^token-store\$", ""]
--- check eval
sub {
    my ($run, $r) = @_;
    my @seen = @$main::SEEN;
    ok(!grep({ $_ ne '503' && $_ ne '200' } @seen), 'after PostgreSQL answers again: 503 until 200, never a 401') or diag("statuses: @seen");
    is(($run->upstream_claims($r->[3]) // {})->{username}, 'alice', 'and the token stands for its owner, as before');
    my $list = eval { decode_json($r->[4]{body}) } // [];
    is_deeply([map { $_->{id} } @$list], [$main::T{id}], 'the listing works again');
}

=== POSTGRES 4: a uri that is not a PostgreSQL connection string is refused by nginx -t
--- yaml eval
store_yaml(uri => '"mysql://authotron:secret@127.0.0.1/tokens"')
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:mysql://%%', qr/\buri\b/]
--- secret eval
["secret\@127.0.0.1"]

=== POSTGRES 5: a postgres store needs a uri
--- yaml eval
store_yaml(uri => undef)
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+/, qr/\buri\b/]
