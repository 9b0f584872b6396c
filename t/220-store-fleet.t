# Two NGINX instances (A and B: own prefixes, ports and workers, the same configuration) share one
# PostgreSQL database, as machines of a fleet would. A token made on either works on both; a
# revocation is immediate where it was made, and reaches the other instance within
# cache_ttl_seconds: the bound is checked with a generous margin, not as a timing threshold.
# (Both instances also listen for revocations and usually refuse at once: t/225 checks that, and
# this bound without the listener.)
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

our $CACHE_TTL = 2;
our $MARGIN = 3;    # scheduling, a slow CI machine; far below what a missing bound would take

store_backend(
    store => { type => 'postgres', uri => '"%%T(store_uri)%%"' },
    before_start => sub { $main::T{store_uri} = $PG->create_database },
);
defaults(store_defaults(), yaml => store_yaml(cache_ttl_seconds => $CACHE_TTL));

# Uses $token on $run every 0.1 s until the answer is 401; returns the seconds that took, and
# every status seen before.
sub seconds_until_refused {
    my ($run, $token, $limit) = @_;
    my $t0 = time;
    my @seen;
    while (time - $t0 < $limit) {
        my $status = call($run, 'GET /api/x', bearer($token))->{status} // 'none';
        return (time - $t0, @seen) if $status eq '401';
        push @seen, $status;
        sleep 0.1;
    }
    return (undef, @seen);
}

# Revokes with $revoke on $here; the token is refused there at once, and on $there within the
# bound, and stays refused.
sub revoke_and_watch {
    my ($what, $token, $here, $there, $revoke) = @_;
    status_is(call($there, 'GET /api/x', bearer($token)), 200, "$what: the other instance accepts (and caches) the token");
    status_is(call($here, 'GET /api/x', bearer($token)), 200, "$what: this instance accepts (and caches) the token");
    api_answer(call($here, $revoke, basic('alice')), 204, "$what: $revoke");
    status_is(call($here, 'GET /api/x', bearer($token)), 401, "$what: refused at once where it was revoked");
    my ($took, @before) = seconds_until_refused($there, $token, $CACHE_TTL + 30);
    ok(defined $took && $took <= $CACHE_TTL + $MARGIN,
        "$what: refused by the other instance within cache_ttl_seconds ($CACHE_TTL s) + $MARGIN s")
      or diag(defined $took ? sprintf('took %.2f s', $took) : 'still accepted after ' . ($CACHE_TTL + 30) . ' s');
    ok(!grep({ $_ ne '200' } @before), "$what: until then, the cached answer (200)") or diag("statuses: @before");
    my @after = map { call($there, 'GET /api/x', bearer($token))->{status} } 1 .. 5;
    is("@after", '401 401 401 401 401', "$what: and refused from then on");
}

run_tests();

__DATA__

=== FLEET 1: tokens work on every instance; revocations reach the others within cache_ttl_seconds
--- after_start eval
sub {
    my (undef, $a) = @_;
    my $b = $a->sibling;

    my $one = create_token($a, 'alice', query => 'description=made%20on%20A');
    my $on_b = call($b, 'GET /api/x', bearer($one->{token}));
    status_is($on_b, 200, 'a token made on A works on B');
    is(scalar header_of($on_b, 'X-Provider'), 'token-store', 'B: provider token-store');
    is(($b->upstream_claims($on_b) // {})->{username}, 'alice', 'B: the token stands for alice');
    my $list = call($b, 'GET /tokens', basic('alice'));
    api_answer($list, 200, 'B lists the token made on A');
    is_deeply([map { [$_->{id}, $_->{description}] } @{ $list->{json} // [] }], [[$one->{id}, 'made on A']], 'the listing on B');

    revoke_and_watch('made on A, revoked by id on A', $one->{token}, $a, $b, "DELETE /tokens/$one->{id}");
    my $after = call($b, 'GET /tokens', basic('alice'));
    api_answer($after, 200, 'B lists after the revocation');
    is_deeply($after->{json}, [], 'the listing on B no longer shows it');

    my $two = create_token($b, 'alice');
    revoke_and_watch('made on B, revoked by token on B', $two->{token}, $b, $a, "DELETE /token/$two->{token}");

    my $three = create_token($a, 'alice');
    @main::T{qw(three three_id)} = @$three{qw(token id)};
    status_is(call($b, 'GET /api/x', bearer($three->{token})), 200, 'a third token, made on A, works on B');
    status_is(call($b, 'GET /api/x', bearer($three->{token})), 200, 'B caches it');
    status_is(call($b, 'DELETE /token/' . unused_token(), basic('alice')), 404, 'B: revoking a token never made: 404');
}
--- request eval
["GET /tokens\n" . basic('alice'), "DELETE /tokens/%%T(three_id)%%\n" . basic('alice'), "GET /api/x\n" . bearer('%%T(three)%%')]
--- error_code eval
[200, 204, 401]
--- check eval
sub {
    my ($run, $r) = @_;
    my $list = eval { decode_json($r->[0]{body}) } // [];
    is_deeply([map { $_->{id} } @$list], [$main::T{three_id}], 'A lists only the unrevoked token');
}
--- secret eval
["%%T(three)%%", $PASSWORD{alice}]
