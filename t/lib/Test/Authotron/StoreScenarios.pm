package Test::Authotron::StoreScenarios;

# The token-store scenarios every backend must pass (t/200-store-sqlite.t, t/210-store-postgres.t),
# and the helpers the store tests share. A .t file names its backend, then runs the shared blocks
# before its own:
#
#   store_backend(
#       store        => { type => 'sqlite', path => 'db/tokens.db' },   # the backend's YAML keys
#       before_start => sub { my ($run) = @_; ... },   # per block, before NGINX starts
#       contents     => sub { my ($run) = @_; ... },   # [what, text] pairs: everything the
#                                                      # database (and its logs) hold
#       mark         => sub { my ($run) = @_; ... },   # optional: where the database's
#       statements   => sub { my ($run, $from, $to) = @_; ... },   # statement log stands, and
#   );                                                 # the statements between two marks
#   defaults(store_defaults());
#   run_tests(blocks => store_blocks());
#
# Users (the plain provider `local`, realm internal, unless noted): alice (reader; the
# plain_advanced augmenter adds auditor and team=platform), bob (writer), carol (reader, never
# creates a token), and 'alice@other': a different alice, of realm other. basic($login) is the
# Authorization header line of a login, bearer($token) that of a token.
#
# Helpers for hook code: call($run, "METHOD /uri", @header_lines) sends a request and decodes a
# JSON answer into $res->{json}; create_token($run, $login, method => 'GET'|'POST', query => ...)
# creates a token and checks the answer's format; api_answer($res, $status, $what) checks the
# management API's answer format; reload_with($run, $yaml) reloads NGINX with another YAML.
# With `location = /metrics { authotron_metrics; }` in the block's config, metric($run, $name)
# reads one sample, and store_hits($run) / store_misses($run) the cache's counters for store
# tokens: answers from the cache, and store lookups that found a token.

use strict;
use warnings;

use Exporter qw(import);
use Digest::SHA qw(sha256);
use JSON::PP;
use MIME::Base64 qw(encode_base64 encode_base64url);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
  store_backend store_defaults store_blocks store_yaml basic bearer call create_token api_answer
  status_is header_of unused_token reload_with wait_until decode_json metric store_hits store_misses
  %PASSWORD $TOKEN_RE
);

our %PASSWORD = (alice => 'alice-Pw-0451', bob => 'bob-Pw-7733', carol => 'carol-Pw-9012', 'alice@other' => 'other-Pw-3141');
our $TOKEN_RE = qr/^aot_[A-Za-z0-9_-]{49}$/;

my %BACKEND;

sub store_backend { %BACKEND = @_ }

sub backend {
    my ($name) = @_;
    die "store_backend(...) has not set '$name'\n" unless $BACKEND{$name};
    return $BACKEND{$name};
}

# ---------------------------------------------------------------------------------------------
# Configuration

# The whole authotron.yaml: the harness's JWT settings, the users above, and the store section
# with the backend's keys and these test values, which %store overrides (undef removes a key).
sub store_yaml {
    my (%store) = @_;
    my %s = (
        enabled => 'true', %{ backend('store') },
        default_expiry_seconds => 7200, max_expiry_seconds => 86400, cache_ttl_seconds => 30, timeout_ms => 2000,
        %store,
    );
    my @order = (qw(enabled type path uri pool_size), sort grep { !/^(?:enabled|type|path|uri|pool_size)$/ } keys %s);
    my $store = join '', map { defined $s{$_} ? "  $_: $s{$_}\n" : '' } grep { exists $s{$_} } @order;
    my %jwt = do { no warnings "once"; %Test::Authotron::JWT };
    return <<"YAML";
version: "2.0.0"
jwt:
  iss: $jwt{iss}
  exp: $jwt{exp}
  secret: "$jwt{secret}"
auth: { timeout_in_ms: 3000 }
providers:
  - type: plain
    name: local
    realm: internal
    users:
      - { username: alice, password: $PASSWORD{alice}, roles: [reader] }
      - { username: bob, password: $PASSWORD{bob}, roles: [writer] }
      - { username: carol, password: $PASSWORD{carol}, roles: [reader] }
  - type: plain
    name: partners
    realm: other
    users:
      - { username: alice, password: $PASSWORD{'alice@other'}, roles: [partner] }
augmenters:
  - type: plain_advanced
    name: staff
    realm: internal
    match: { username: [alice], role: [] }
    augment: { roles: [auditor], attributes: { team: platform } }
store:
$store
YAML
}

my $CONFIG = <<'CONF';
location /api/ {
    authotron on;
    proxy_pass http://echo;
    add_header X-Provider $authotron_provider always;
}
location /audit/ {
    authotron on;
    authotron_require_role auditor;
    proxy_pass http://echo;
}
location /partners/ {
    authotron on;
    authotron_realm other;
    proxy_pass http://echo;
}
location /token { authotron_tokens; }
location = /whoami { authotron_whoami; }
CONF

sub store_defaults {
    return (
        yaml => store_yaml(),
        config => $CONFIG,
        before_start => sub { backend('before_start')->($_[1]) },
    );
}

# ---------------------------------------------------------------------------------------------
# Helpers

sub basic {
    my ($login) = @_;
    die "no such login: $login\n" unless defined $PASSWORD{$login};
    (my $user = $login) =~ s/\@.*//;
    return 'Authorization: Basic ' . encode_base64("$user:$PASSWORD{$login}", '');
}

sub bearer { "Authorization: Bearer $_[0]" }

sub call {
    my ($run, $line, @headers) = @_;
    my $res = $run->request(join "\n", $line, @headers);
    $res->{what} = $line;
    $res->{json} = eval { JSON::PP->new->utf8->allow_nonref->decode($res->{body}) }
      if defined $res->{body} && length $res->{body};
    return $res;
}

sub header_of {
    my ($res, $name) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $res->{headers} // [] };
    return wantarray ? @v : $v[0];
}

sub status_is {
    my ($res, $code, $what) = @_;
    my $ok = is($res->{status} // '(no answer)', $code, "$what: status $code");
    diag("request: $res->{what}\nresponse:\n" . ($res->{raw} // '')) unless $ok;
    return $ok;
}

# Every management answer: the status, Cache-Control: no-store, and a JSON body (none for a
# 204); an error is {"error": "<text>"}, and $message, when given, is that text.
sub api_answer {
    my ($res, $code, $what, $message) = @_;
    status_is($res, $code, $what) or return;
    is(join(', ', header_of($res, 'Cache-Control')), 'no-store', "$what: Cache-Control: no-store");
    if ($code == 204) {
        is($res->{body}, '', "$what: no body");
        return;
    }
    like(scalar header_of($res, 'Content-Type') // '', qr{^application/json\b}, "$what: Content-Type is JSON");
    ok(defined $res->{json}, "$what: the body is JSON") or diag("body: $res->{body}");
    if ($code >= 400) {
        my $e = ref $res->{json} eq 'HASH' ? $res->{json}{error} : undef;
        ok(defined $e && !ref $e && length $e, "$what: {\"error\": \"...\"}") or diag("body: $res->{body}");
        is($e, $message, "$what: error message") if defined $message;
    }
}

# Creates a token for $login and checks the answer; dies (failing the block) without one.
sub create_token {
    my ($run, $login, %o) = @_;
    my $method = $o{method} // 'POST';
    my $path = $o{path} // ($method eq 'GET' ? '/token' : '/tokens');
    $path .= "?$o{query}" if defined $o{query};
    my $t0 = int time;
    my $res = call($run, "$method $path", basic($login));
    my $what = "$login: $method $path";
    api_answer($res, $method eq 'GET' ? 200 : 201, $what);
    my $t = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    like($t->{token} // '', $TOKEN_RE, "$what: the token is aot_ and 49 URL-safe characters");
    like($t->{id} // '', qr/^[0-9a-f]{32}$/, "$what: the id is 32 hex digits");
    like($t->{expires_at} // '', qr/^\d+$/, "$what: expires_at is a Unix time");
    if ($method eq 'POST') {
        my @missing = grep { !exists $t->{$_} } qw(token id created_at expires_at description);
        ok(!@missing, "$what: token, id, created_at, expires_at and description") or diag("missing: @missing; body: $res->{body}");
        ok(defined $t->{created_at} && $t->{created_at} >= $t0 - 1 && $t->{created_at} <= time + 1, "$what: created_at is now")
          or diag("created_at: " . ($t->{created_at} // 'null') . ", now: " . time);
    }
    die "$what: no token was created\n" unless ($t->{token} // '') =~ $TOKEN_RE && defined $t->{id};
    $t->{created_at} //= $t0;
    return $t;
}

# A token of the store's format (aot_, 43 base64url characters of 32 random bytes, then the first
# 4 bytes of SHA-256 of what precedes, base64url) that no store ever issued.
sub unused_token {
    my $body = encode_base64url(join '', map { chr int rand 256 } 1 .. 32);
    return "aot_$body" . encode_base64url(substr(sha256("aot_$body"), 0, 4));
}

sub wait_until {
    my ($seconds, $done) = @_;
    my $deadline = time + $seconds;
    while (time < $deadline) {
        return 1 if $done->();
        sleep 0.1;
    }
    return $done->();
}

# A sample of the instance's /metrics (every worker shows the same totals).
sub metric {
    my ($run, $name) = @_;
    my $body = $run->request('GET /metrics')->{body} // '';
    return ($body =~ /^\Q$name\E (\S+)$/m)[0];
}

sub store_hits   { metric($_[0], 'authotron_cache_hits_total{provider_name="token-store"}') // 0 }
sub store_misses { metric($_[0], 'authotron_cache_misses_total{provider_name="token-store"}') // 0 }

# Replaces authotron.yaml and reloads NGINX; returns once the new worker serves requests and the
# old one has exited (so the next request cannot reach the old configuration).
sub reload_with {
    my ($run, $yaml) = @_;
    my @before = $run->worker_pids;
    $run->{yaml} = $yaml;
    Test::Authotron::spew($run->{yaml_path}, $yaml);
    $run->signal('reload') or die "nginx -s reload failed\n";
    $run->{reloads}++;
    my $log = "$run->{prefix}/error.log";
    wait_until(20, sub { Test::Authotron::slurp($log) =~ /worker process $before[-1] exited/ && $run->worker_pids > @before })
      or die "the reload did not replace the worker within 20 s\n";
}

sub db_mark {
    my ($run) = @_;
    my $mark = $BACKEND{mark} or return undef;
    return $mark->($run);
}

# The statements the database logged between two marks, as an array ref; undef when the
# backend keeps no statement log.
sub db_statements {
    my ($run, $from, $to) = @_;
    my $statements = $BACKEND{statements} or return undef;
    return [$statements->($run, $from, $to)];
}

# ---------------------------------------------------------------------------------------------
# The shared blocks. %%T(name)%% is $main::T{name}, set by the hooks.

sub store_blocks {
    return <<'BLOCKS';

=== STORE 1: GET /token makes a token with the default expiry; it authenticates as its creator
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t0 = time;
    my $t = create_token($run, 'alice', method => 'GET');
    ok(abs($t->{expires_at} - ($t0 + 7200)) <= 3, 'GET /token: expires_at is now + default_expiry_seconds')
      or diag("expires_at $t->{expires_at}, now " . int $t0);
    $main::T{tok} = $t->{token};
    my $who = call($run, 'GET /whoami', bearer($t->{token}));
    status_is($who, 200, 'whoami with the token');
    my $j = ref $who->{json} eq 'HASH' ? $who->{json} : {};
    is_deeply([@$j{qw(username realm)}, $j->{roles}, ($j->{attributes} // {})->{team}],
        ['alice', 'internal', ['reader', 'auditor'], 'platform'], 'whoami: the creator, roles and attributes')
      or diag($who->{body});
    # The owner is of realm internal: a location limited to realm other refuses the token, and
    # so does a client's realm selection; selecting the owner's realm is fine.
    status_is(call($run, 'GET /partners/x', bearer($t->{token})), 401, 'the token at a location of another realm');
    status_is(call($run, 'GET /api/x', bearer($t->{token}), 'X-Auth-Realm: other'), 401, 'the token with X-Auth-Realm: other');
    status_is(call($run, 'GET /api/x', bearer($t->{token}), 'X-Auth-Realm: internal'), 200, 'the token with X-Auth-Realm: internal');
}
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%'), "GET /audit/x\n" . bearer('%%T(tok)%%')]
--- response_headers eval
["X-Provider: token-store", ""]
--- upstream_headers
Authorization: Bearer %%JWT%%
--- upstream_jwt
{"sub": "internal-alice", "username": "alice", "realm": "internal", "roles": ["reader", "auditor"],
 "attributes": {"team": "platform"}}
--- secret eval
["%%T(tok)%%", $PASSWORD{alice}]

=== STORE 2: POST with a description and expires_in: 201 and every field; /token takes POST too
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $a = create_token($run, 'alice', path => '/tokens', query => 'expires_in=600&description=nightly%20build%20%E2%9C%93');
    is($a->{description}, "nightly build \x{2713}", 'the description, percent-decoded UTF-8');
    is($a->{expires_at} - $a->{created_at}, 600, 'expires_at is created_at + expires_in');
    my $b = create_token($run, 'alice', path => '/token', query => 'description=plus+and%2Bplus%20%22q%22%5C&expires_in=86400');
    is($b->{description}, 'plus and+plus "q"\\', 'the description, form-decoded (+ is a space), quotes and backslash intact');
    is($b->{expires_at} - $b->{created_at}, 86400, 'expires_in may be max_expiry_seconds');
    my $c = create_token($run, 'bob');
    is($c->{description}, undef, 'no description: null');
    is($c->{expires_at} - $c->{created_at}, 7200, 'no expires_in: default_expiry_seconds');
    my %tokens = map { ($_->{token} => 1) } $a, $b, $c;
    my %ids = map { ($_->{id} => 1) } $a, $b, $c;
    is(scalar(keys %tokens) + scalar(keys %ids), 6, 'every token and id is new');
    @main::T{qw(a b c)} = map { $_->{token} } $a, $b, $c;
}
--- request eval
["GET /api/x\n" . bearer('%%T(a)%%'), "GET /api/x\n" . bearer('%%T(b)%%'), "GET /api/x\n" . bearer('%%T(c)%%')]
--- upstream_jwt eval
['{"username": "alice", "roles": ["reader", "auditor"]}', '{"username": "alice"}', '{"username": "bob", "roles": ["writer"]}']
--- secret eval
["%%T(a)%%", "%%T(b)%%", "%%T(c)%%"]

=== STORE 3: GET /tokens lists the caller's unexpired tokens, oldest first, without secrets
--- after_start eval
sub {
    my (undef, $run) = @_;
    my @made;
    push @made, create_token($run, 'alice', method => 'GET');
    sleep 1.1;    # created_at is in seconds: "oldest first" needs distinct seconds
    push @made, create_token($run, 'alice', query => 'description=deploy%20key');
    sleep 1.1;
    push @made, create_token($run, 'alice', query => 'expires_in=3600');
    push @made, create_token($run, 'bob', query => 'description=bob%27s');
    status_is(call($run, 'GET /api/x', bearer($made[1]{token})), 200, 'the second token is used once');
    $main::MADE = \@made;
    $main::T{"t$_"} = $made[$_]{token} for 0 .. $#made;
}
--- request eval
["GET /tokens\n" . basic('alice'), "GET /tokens\n" . basic('carol'), "GET /tokens\n" . basic('bob')]
--- response_headers
Cache-Control: no-store
--- response_headers_like
Content-Type: ^application/json
--- response_json eval
[undef, '[]', undef]
--- response_body_unlike: aot_
--- secret eval
["%%T(t0)%%", "%%T(t1)%%", "%%T(t2)%%", "%%T(t3)%%", $PASSWORD{alice}, $PASSWORD{bob}]
--- check eval
sub {
    my ($run, $responses) = @_;
    my @made = @$main::MADE;
    my ($alice, $bob) = map { eval { decode_json($_->{body}) } } @$responses[0, 2];
    is(ref $alice, 'ARRAY', "alice's list is an array") or return;
    is_deeply([map { $_->{id} } @$alice], [map { $_->{id} } @made[0 .. 2]], "alice's list: her three tokens, oldest first");
    for my $i (0 .. $#$alice) {
        my ($got, $want) = ($alice->[$i], $made[$i]);
        is_deeply([sort keys %$got], [qw(created_at description expires_at id last_used_at)], "item $i: exactly the listed fields");
        is_deeply([@$got{qw(description created_at expires_at)}], [@$want{qw(description created_at expires_at)}],
            "item $i: description, created_at and expires_at as created");
    }
    is($alice->[0]{last_used_at}, undef, 'an unused token: last_used_at is null');
    my $used = $alice->[1]{last_used_at};
    ok(defined $used && $used =~ /^\d+$/ && $used >= $made[1]{created_at} && $used <= time,
        'a used token: last_used_at is when it was used') or diag('last_used_at: ' . ($used // 'null'));
    is_deeply([map { [$_->{id}, $_->{description}] } @{ $bob // [] }], [[$made[3]{id}, "bob's"]], "bob's list: only his token");
}

=== STORE 4: revocation by id and by token (upstream's route): 204, then 401 at once; again: 404
--- after_start eval
sub {
    my (undef, $run) = @_;
    my ($one, $two) = map { create_token($run, 'alice') } 1, 2;
    # Used first, so that the worker has them cached (cache_ttl_seconds: 30).
    status_is(call($run, 'GET /api/x', bearer($_->{token})), 200, 'a fresh token, before revocation') for $one, $two;
    @main::T{qw(one one_id two)} = ($one->{token}, $one->{id}, $two->{token});
}
--- request eval
[
  "DELETE /tokens/%%T(one_id)%%\n" . basic('alice'),
  "GET /api/x\n" . bearer('%%T(one)%%'),
  "DELETE /token/%%T(two)%%\n" . basic('alice'),
  "GET /api/x\n" . bearer('%%T(two)%%'),
  "DELETE /tokens/%%T(one_id)%%\n" . basic('alice'),
  "DELETE /token/%%T(two)%%\n" . basic('alice'),
  "GET /tokens\n" . basic('alice'),
]
--- error_code eval
[204, 401, 204, 401, 404, 404, 200]
--- response_json eval
[undef, undef, undef, undef, '{"error": "no such token"}', '{"error": "no such token"}', '[]']
--- check eval
sub {
    my ($run, $r) = @_;
    like(scalar header_of($r->[$_], 'WWW-Authenticate') // '', qr/Basic realm="internal"/, "a revoked token: 401 with the challenge")
      for 1, 3;
    $_->{json} = eval { decode_json($_->{body}) } for @$r;
    api_answer($r->[0], 204, 'DELETE /tokens/{id}');
    api_answer($r->[2], 204, 'DELETE /token/{token}');
    api_answer($r->[$_], 404, 'DELETE again', 'no such token') for 4, 5;
}
--- secret eval
["%%T(one)%%", $PASSWORD{alice}]

=== STORE 5: an expired token is refused, even while the worker has it cached, and is not listed
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice', query => 'expires_in=2');
    is($t->{expires_at} - $t->{created_at}, 2, 'expires_in=2');
    my $res = call($run, 'GET /api/x', bearer($t->{token}));
    status_is($res, 200, 'the token before it expires');
    my $exp = ($run->upstream_claims($res) // {})->{exp} // 'none';
    ok($exp =~ /^\d+$/ && $exp <= $t->{expires_at}, 'the JWT minted for it expires no later than the token')
      or diag("JWT exp $exp, token expires_at $t->{expires_at}");
    sleep 0.05 while time < $t->{expires_at} + 1.2;
    $main::T{tok} = $t->{token};
}
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%'), "GET /tokens\n" . basic('alice')]
--- error_code eval
[401, 200]
--- response_json eval
[undef, '[]']
--- secret eval
["%%T(tok)%%"]

=== STORE 6: ownership: bob, or an alice of another realm, can neither list nor revoke alice's token
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice', query => 'description=mine');
    @main::T{qw(tok id)} = @$t{qw(token id)};
}
--- request eval
[
  "GET /tokens\n" . basic('bob'),
  "DELETE /tokens/%%T(id)%%\n" . basic('bob'),
  "DELETE /token/%%T(tok)%%\n" . basic('bob'),
  "GET /tokens\n" . basic('alice@other'),
  "DELETE /tokens/%%T(id)%%\n" . basic('alice@other'),
  "DELETE /token/%%T(tok)%%\n" . basic('alice@other'),
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "GET /tokens\n" . basic('alice'),
]
--- error_code eval
[200, 404, 404, 200, 404, 404, 200, 200]
--- response_json eval
['[]', '{"error": "no such token"}', '{"error": "no such token"}', '[]', '{"error": "no such token"}', '{"error": "no such token"}']
--- check eval
sub {
    my ($run, $r) = @_;
    my $claims = $run->upstream_claims($r->[6]) // {};
    is_deeply([@$claims{qw(username realm)}], ['alice', 'internal'], "alice's token still authenticates alice");
    my $list = eval { decode_json($r->[7]{body}) } // [];
    is_deeply([map { $_->{id} } @$list], [$main::T{id}], "alice's list still holds her token");
}
--- secret eval
[$PASSWORD{alice}, $PASSWORD{bob}, $PASSWORD{'alice@other'}]

=== STORE 7: garbage and near-miss tokens are refused with 401, without asking the database
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice')->{token};
    my $flip = sub { my ($s, $i) = @_; my $c = substr($s, $i, 1); substr($s, $i, 1) = $c eq 'A' ? 'B' : 'A'; $s };
    my %near = (
        prefix_only => 'aot_',
        wrong_prefix => 'aox_' . substr($t, 4),
        upper_prefix => 'AOT_' . substr($t, 4),
        no_prefix => substr($t, 4),
        truncated => substr($t, 0, -1),
        overlong => $t . 'A',
        random_part_changed => $flip->($t, 20),
        checksum_changed => $flip->($t, length($t) - 1),
        standard_base64 => substr($t, 0, 30) . '+' . substr($t, 31),
        non_ascii => substr($t, 0, -2) . "\xc3\xa9",
        latin1 => substr($t, 0, -1) . "\xe9",
        jwt_like => 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
    );
    $main::T{"near_$_"} = $near{$_} for keys %near;
    $main::T{tok} = $t;
    $main::T{unused} = unused_token();
    $main::MARK = [Test::Authotron::StoreScenarios::db_mark($run)];
}
--- request eval
[(map { "GET /api/x\n" . bearer("%%T(near_$_)%%") } qw(checksum_changed jwt_like latin1 no_prefix non_ascii overlong
    prefix_only random_part_changed standard_base64 truncated upper_prefix wrong_prefix)),
 "GET /api/x\n" . bearer('%%T(unused)%%'),
 "GET /api/x\n" . bearer('%%T(tok)%%')]
--- before_request eval
[(undef) x 12, sub { push @$main::MARK, Test::Authotron::StoreScenarios::db_mark($_[1]) },
 sub { push @$main::MARK, Test::Authotron::StoreScenarios::db_mark($_[1]) }]
--- error_code eval
[(401) x 13, 200]
--- response_headers_like eval
[(('WWW-Authenticate: Basic realm="internal"') x 13), 'X-Provider: ^token-store$']
--- check eval
sub {
    my ($run, $r) = @_;
    my @m = @$main::MARK;
    my $garbage = Test::Authotron::StoreScenarios::db_statements($run, $m[0], $m[1]) or return;    # no statement log
    is(scalar @$garbage, 0, 'no near miss reached the database') or diag(join "\n", @$garbage);
    my $unused = Test::Authotron::StoreScenarios::db_statements($run, $m[1], $m[2]);
    cmp_ok(scalar @$unused, '>=', 1, 'a well-formed token is looked up (so the statement log does show lookups)');
}
--- secret eval
["%%T(tok)%%", "%%T(unused)%%"]

=== STORE 8: a store token cannot manage tokens (403); no credential or a wrong password: 401
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice');
    @main::T{qw(tok id)} = @$t{qw(token id)};
}
--- request eval
[
  "GET /token\n" . bearer('%%T(tok)%%'),
  "POST /tokens\n" . bearer('%%T(tok)%%'),
  "GET /tokens\n" . bearer('%%T(tok)%%'),
  "DELETE /tokens/%%T(id)%%\n" . bearer('%%T(tok)%%'),
  "GET /tokens",
  "POST /tokens?expires_in=60",
  "GET /token\nAuthorization: Basic %%BASE64(alice:wrong)%%",
  "DELETE /tokens/%%T(id)%%\nAuthorization: Basic %%BASE64(alice:wrong)%%",
  "GET /api/x\n" . bearer('%%T(tok)%%'),
  "GET /tokens\n" . basic('alice'),
]
--- error_code eval
[403, 403, 403, 403, 401, 401, 401, 401, 200, 200]
--- response_headers eval
[("!WWW-Authenticate\nCache-Control: no-store") x 4, ("Cache-Control: no-store") x 4, "X-Provider: token-store", ""]
--- response_headers_like eval
[(("Content-Type: ^application/json") x 4), (('WWW-Authenticate: Basic realm="internal"') x 4), "", ""]
--- response_body_like eval
[(('"error"') x 8), '', '']
--- check eval
sub {
    my ($run, $r) = @_;
    my $list = eval { decode_json($r->[9]{body}) } // [];
    is_deeply([map { $_->{id} } @$list], [$main::T{id}], 'nothing was created or revoked by the refused requests');
}
--- secret eval
["%%T(tok)%%", $PASSWORD{alice}]

=== STORE 9: expires_in must be a whole number of seconds from 1 to max_expiry_seconds (400)
--- request eval
[(map { "POST /tokens?expires_in=$_\n" . basic('alice') } '0', '-5', 'abc', '1.5', '86401', '99999999999999999999999', '', '60s',
    '0x10', '1e3', '%2060'),
 "GET /tokens\n" . basic('alice')]
--- error_code eval
[(400) x 11, 200]
--- response_json eval
[(undef) x 11, '[]']
--- check eval
sub {
    my ($run, $r) = @_;
    for my $i (0 .. 10) {
        $r->[$i]{json} = eval { decode_json($r->[$i]{body}) };
        api_answer($r->[$i], 400, "bad expires_in (request " . ($i + 1) . ")");
    }
}

=== STORE 10: routes: 405 with Allow for other methods, 404 for unknown paths
--- request eval
[map { "$_\n" . basic('alice') } 'PUT /token', 'DELETE /token', 'PATCH /tokens', 'DELETE /tokens',
   'GET /tokens/0123456789abcdef0123456789abcdef', 'POST /token/0123456789abcdef0123456789abcdef',
   'GET /tokenx', 'GET /token/a/b', 'GET /tokens/x/y/z', 'DELETE /tokens/not-an-id']
--- error_code eval
[405, 405, 405, 405, 405, 405, 404, 404, 404, 404]
--- response_headers
Cache-Control: no-store
--- response_headers_like eval
[("Allow: ^(?=.*\\bGET\\b)(?=.*\\bPOST\\b)(?!.*\\b(?:DELETE|PUT|PATCH)\\b)") x 4,
 ("Allow: ^(?=.*\\bDELETE\\b)(?!.*\\b(?:GET|POST|PUT|PATCH)\\b)") x 2,
 ("!Allow") x 4]
--- response_body_like: "error"
--- response_json eval
[(undef) x 9, '{"error": "no such token"}']

=== STORE 11: the database holds a hash of each token, never the token or a password
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice', query => 'description=marker-7d1f0c');
    status_is(call($run, 'GET /api/x', bearer($t->{token})), 200, 'the token is used once');
    @main::T{qw(tok id)} = @$t{qw(token id)};
}
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%')]
--- check eval
sub {
    my ($run) = @_;
    my $tok = $main::T{tok};
    my $hash = unpack 'H*', Digest::SHA::sha256($tok);
    for my $place (Test::Authotron::StoreScenarios::backend('contents')->($run)) {
        my ($what, $text) = @$place;
        ok(index($text, $tok) < 0, "$what: not the token");
        ok(index($text, substr($tok, 4, 43)) < 0, "$what: not the token's random part");
        ok(index($text, $_) < 0, "$what: not a password") for values %PASSWORD;
        next if $what =~ /log/;
        ok(index($text, $main::T{id}) >= 0, "$what: the token's id (so this is the right database)");
        ok(index($text, 'marker-7d1f0c') >= 0, "$what: the description");
    }
}
--- secret eval
["%%T(tok)%%"]

=== STORE 12: a token carries its owner's roles as configured now: the plain provider's and the augmenters'
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice');
    $main::T{tok} = $t->{token};
    my $claims = $run->upstream_claims(call($run, 'GET /api/x', bearer($t->{token}))) // {};
    is_deeply($claims->{roles}, ['reader', 'auditor'], 'before: the provider role and the augmenter role');
    # alice's provider role changes from reader to editor; the augmenter adds ops as well.
    my $yaml = $run->{yaml};
    $yaml =~ s/(username: alice, password: \S+ roles: )\[reader\]/$1\[editor\]/ or die "no alice in the YAML\n";
    $yaml =~ s/roles: \[auditor\]/roles: [auditor, ops]/ or die "no augmenter in the YAML\n";
    reload_with($run, $yaml);
}
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%'), "GET /api/x\n" . basic('alice')]
--- upstream_jwt eval
['{"username": "alice", "roles": ["editor", "auditor", "ops"]}', '{"username": "alice", "roles": ["editor", "auditor", "ops"]}']

=== STORE 13: a reload without bob: his token is refused, yet kept; alice's keeps working; bob back, his token works again
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $bob = create_token($run, 'bob', query => 'description=bob-leaves');
    my $alice = create_token($run, 'alice');
    # Used first, so the worker has them cached (cache_ttl_seconds: 30): the reload must not
    # let that cache answer.
    status_is(call($run, 'GET /api/x', bearer($_)), 200, 'a token before the reload') for map { $_->{token} } $bob, $alice;
    @main::T{qw(bob bob_id alice)} = ($bob->{token}, $bob->{id}, $alice->{token});
    $main::YAML = $run->{yaml};
    (my $without = $run->{yaml}) =~ s/^ *- \{ username: bob,.*\n//m or die "no bob in the YAML\n";
    reload_with($run, $without);
}
--- request eval
[
  "GET /api/x\n" . bearer('%%T(bob)%%'),
  "GET /whoami\n" . bearer('%%T(bob)%%'),
  "GET /api/x\n" . basic('bob'),
  "GET /api/x\n" . bearer('%%T(alice)%%'),
  "GET /api/x\n" . bearer('%%T(bob)%%'),
]
--- before_request eval
[(undef) x 4, sub { reload_with($_[1], $main::YAML) }]
--- error_code eval
[401, 401, 401, 200, 200]
--- response_headers_like eval
[('WWW-Authenticate: Basic realm="internal"') x 3, '', '']
--- upstream_jwt eval
[undef, undef, undef, '{"username": "alice", "roles": ["reader", "auditor"]}', '{"username": "bob", "roles": ["writer"]}']
--- error_log
rejected the credential: its owner "bob" is no longer a user of provider "local"
--- check eval
sub {
    my ($run) = @_;
    my @kept = grep { index($_->[1], $main::T{bob_id}) >= 0 } grep { $_->[0] !~ /log/ }
      Test::Authotron::StoreScenarios::backend('contents')->($run);
    ok(scalar @kept, "bob's token stayed in the database while he was away");
}
--- secret eval
["%%T(bob)%%", "%%T(alice)%%", $PASSWORD{bob}]

=== STORE 14: a new password leaves the owner's tokens working
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'bob');
    status_is(call($run, 'GET /api/x', bearer($t->{token})), 200, 'the token before the change');
    $main::T{tok} = $t->{token};
    (my $yaml = $run->{yaml}) =~ s/(username: bob, password: )\Q$PASSWORD{bob}\E/$1bob-New-Pw-5150/ or die "no bob in the YAML\n";
    reload_with($run, $yaml);
}
--- request eval
["GET /api/x\n" . basic('bob'), "GET /api/x\nAuthorization: Basic %%BASE64(bob:bob-New-Pw-5150)%%", "GET /api/x\n" . bearer('%%T(tok)%%')]
--- error_code eval
[401, 200, 200]
--- upstream_jwt eval
[undef, '{"username": "bob", "roles": ["writer"]}', '{"username": "bob", "roles": ["writer"]}']
--- secret eval
["%%T(tok)%%", $PASSWORD{bob}, 'bob-New-Pw-5150']

=== STORE 15: a renamed provider vouches for no earlier token; the users log in again under the new name
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $t = create_token($run, 'alice');
    my $other = create_token($run, 'alice@other');
    status_is(call($run, 'GET /api/x', bearer($t->{token})), 200, 'the token before the rename');
    @main::T{qw(tok other)} = ($t->{token}, $other->{token});
    (my $yaml = $run->{yaml}) =~ s/name: local\n/name: employees\n/ or die "no provider local in the YAML\n";
    reload_with($run, $yaml);
}
--- request eval
["GET /api/x\n" . bearer('%%T(tok)%%'), "GET /api/x\n" . basic('alice'), "GET /partners/x\n" . bearer('%%T(other)%%')]
--- error_code eval
[401, 200, 200]
--- response_headers eval
["", "X-Provider: employees", ""]
--- upstream_jwt eval
[undef, '{"username": "alice", "realm": "internal"}', '{"username": "alice", "realm": "other", "roles": ["partner"]}']
--- error_log
rejected the credential: provider "local", which accepted its owner "alice", is no longer configured for realm "internal"
--- secret eval
["%%T(tok)%%", "%%T(other)%%", $PASSWORD{alice}, $PASSWORD{'alice@other'}]
BLOCKS
}

1;
