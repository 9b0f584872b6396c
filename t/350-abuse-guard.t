# The abuse guard (`guard` in the YAML): failed validations counted per subject in a shared
# memory zone; past the limit, 429 + Retry-After and no provider runs. That no provider ran is
# read from the provider attempt counter of /metrics: the plain provider checks the password
# (the hash) once per attempt, so an unchanged count means no hash was computed.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;
use Test::More;
use Time::HiRes qw(sleep);

our $USERS = <<'YAML';
providers:
  - type: plain
    name: local
    realm: internal
    users:
      - { username: alice, password: alice-pw-1 }
      - { username: bob, password: bob-pw-22 }
YAML

defaults(config => <<'CONF');
location /api/ {
    authotron on;
    proxy_pass http://echo;
    add_header X-Worker $pid always;
}
location = /metrics { authotron_metrics; }
CONF

sub header_of {
    my ($res, $name) = @_;
    my ($v) = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $res->{headers} // [] };
    return $v;
}

sub scrape {
    my ($run) = @_;
    my $res = $run->request('GET /metrics');
    my %s;
    for my $line (split /\n/, $res->{body} // '') {
        next if $line =~ /^#/;
        my ($series, $value) = $line =~ /^(\S+) (\S+)$/ or next;
        $s{$series} = $value;
    }
    return \%s;
}

my $ATTEMPTS = 'authotron_auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="internal",result="%s"}';
sub attempts { sprintf $ATTEMPTS, $_[0] }
sub limited_requests { qq{authotron_guard_limited_requests_total{kind="$_[0]"}} }
sub limited_subjects { qq{authotron_guard_limited_subjects{kind="$_[0]"}} }

# TEST 3's window: short, yet long enough for three requests even under valgrind.
sub window { Test::Authotron::scaled(2) }

sub basic { "GET /api/x\nAuthorization: Basic %%BASE64($_[0])%%" }

run_tests();

__DATA__

=== TEST 1: five wrong passwords, then 429 before a sixth hash, in whichever of 4 workers
--- workers: 4
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n"
. "guard: { enabled: true, max_failures: 5, window_seconds: 60, address: { max_failures: 100 } }\n"
. $main::USERS
--- after_start eval
sub {
    my (undef, $run) = @_;
    my %workers;
    for my $n (1 .. 5) {
        my $res = $run->request(main::basic("alice:wrong-$n"));
        is($res->{status}, 401, "$run->{name}: wrong password $n is refused");
        $workers{ main::header_of($res, 'X-Worker') // '?' }++;
    }
    for my $try ('alice:wrong-6', 'alice:alice-pw-1') {
        my $res = $run->request(main::basic($try));
        is($res->{status}, 429, "$run->{name}: $try is limited");
        my $retry = main::header_of($res, 'Retry-After') // 0;
        ok($retry >= 1 && $retry <= 60, "$run->{name}: Retry-After ($retry) is what the window has left");
        $workers{ main::header_of($res, 'X-Worker') // '?' }++;
    }
    cmp_ok(scalar(keys %workers), '>', 1, "$run->{name}: several workers answered");
    my $other = $run->request(main::basic('bob:bob-pw-22'));
    is($other->{status}, 200, "$run->{name}: another user is not limited");
    for (1 .. 4) {
        my $s = main::scrape($run);
        is($s->{ main::attempts('error') }, 5, "$run->{name}: five hashes for five refusals");
        is($s->{ main::attempts('success') }, 1, "$run->{name}: only bob's password was checked");
        is($s->{ main::limited_requests('basic') }, 2, "$run->{name}: two limited requests");
        is($s->{ main::limited_requests('address') }, 0, "$run->{name}: none by address");
        is($s->{ main::limited_subjects('basic') }, 1, "$run->{name}: one limited username");
    }
}
--- request
GET /metrics
--- error_log
abuse guard: a basic subject is limited for 60 s

=== TEST 2: a cached valid credential keeps working during its user's lockout
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n"
. "guard: { enabled: true, max_failures: 3 }\n"
. $main::USERS
--- request eval
[
    main::basic('alice:alice-pw-1'),
    (map { main::basic("alice:wrong-$_") } 1 .. 4),
    main::basic('alice:alice-pw-1'),
    main::basic('alice:alice-pw-1'),
]
--- error_code eval
[200, 401, 401, 401, 429, 200, 200]

=== TEST 3: the lockout ends with the window
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n"
. "guard: { enabled: true, max_failures: 2, window_seconds: " . main::window() . " }\n"
. $main::USERS
--- request eval
[
    main::basic('alice:wrong-1'),
    main::basic('alice:wrong-2'),
    main::basic('alice:alice-pw-1'),
    main::basic('alice:alice-pw-1'),
]
--- before_request eval
[undef, undef, undef, sub { sleep main::window() + 1 }]
--- error_code eval
[401, 401, 429, 200]

=== TEST 4: the client address is a subject: many usernames from one address
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n"
. "guard: { enabled: true, max_failures: 3, basic: { max_failures: 100 } }\n"
. $main::USERS
--- request eval
[
    (map { main::basic("user$_:pw") } 1 .. 3),
    main::basic('bob:bob-pw-22'),
    'GET /metrics',
]
--- error_code eval
[401, 401, 401, 429, 200]
--- response_body_like eval
[qr//, qr//, qr//, qr/Too Many Requests/i, qr/authotron_guard_limited_requests_total\{kind="address"\} 1\n/]

=== TEST 5: a provider outage (503) counts nothing
--- yaml
auth: { timeout_in_ms: 2000 }
guard: { enabled: true, max_failures: 2 }
providers:
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "%%DEAD%%" }
--- request eval
[
    (map { "GET /api/x\nAuthorization: Bearer same-key-abcdef" } 1 .. 4),
    'GET /metrics',
]
--- error_code eval
[503, 503, 503, 503, 200]
--- response_body_like eval
[qr//, qr//, qr//, qr//, qr/authotron_guard_limited_subjects\{kind="address"\} 0\n/]

=== TEST 6: with the guard off (the default), nothing is limited and no guard series exist
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n" . $main::USERS
--- request eval
[
    (map { main::basic("alice:wrong-$_") } 1 .. 7),
    'GET /metrics',
]
--- error_code eval
[401, 401, 401, 401, 401, 401, 401, 200]
--- response_body_unlike eval
[qr/^$/, qr/^$/, qr/^$/, qr/^$/, qr/^$/, qr/^$/, qr/^$/, qr/authotron_guard/]

=== TEST 7: a limit out of range stops nginx -t with the file and line
--- yaml
guard:
  enabled: true
  max_failures: 5000
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: alice-pw-1 } ] }
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:max_failures: 5000%%', 'must be from 0 to 4095']

=== TEST 8: a reload that keeps guard.subjects keeps the counts; another size starts empty
--- yaml eval
"cache: { negative_ttl_seconds: 0 }\n"
. "guard: { enabled: true, max_failures: 3, subjects: 4096 }\n"
. $main::USERS
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $status = sub { $run->request(main::basic("alice:wrong-$_[0]"))->{status} };
    is($status->(1), 401, "$run->{name}: first failure");
    is($status->(2), 401, "$run->{name}: second failure");
    $run->reload;
    is($status->(3), 401, "$run->{name}: third failure, after the reload");
    is($status->(4), 429, "$run->{name}: the count went on across the reload");
    my $yaml = Test::Authotron::slurp($run->{yaml_path});
    $yaml =~ s/subjects: 4096/subjects: 8192/ or die "no subjects in the YAML\n";
    open my $fh, '>', $run->{yaml_path} or die "$run->{yaml_path}: $!\n";
    print $fh $yaml;
    close $fh;
    $run->reload;
    is($status->(5), 401, "$run->{name}: a new zone size starts empty");
}
--- request
GET /metrics
