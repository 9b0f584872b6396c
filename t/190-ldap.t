# The ldap augmenter against a real OpenLDAP server (scripts/slapd, loaded with
# t/fixtures/ldap/directory.ldif): upstream's role derivation (its own test cases), the username
# escaped in the search filter, the 120 s cache of successes, and a directory that is down,
# hung, unreachable or untrusted: the request still succeeds, without the LDAP roles, within
# the timeout, and a warning says why.
#
# cache.ttl_seconds is 0 in these blocks, so every request runs the augmenters and what is
# cached is only what the augmenter caches itself.
use strict;
use warnings;
use lib 't/lib';
use JSON::PP;
use Test::More;
use Time::HiRes ();
use Test::Authotron;

our $LDAP = slapd(tls => 1);

# The YAML with one ldap augmenter for realm ecmwf; %o: filter (a YAML line for the entry),
# uri, password, http (the http section), cache_ttl.
sub yaml {
    my (%o) = @_;
    my $filter = $o{filter} // '';
    my $uri = $o{uri} // '%%LDAP%%';
    my $password = $o{password} // 'reader-pw';
    my $http = $o{http} // '{ connect_timeout_ms: 500, timeout_ms: 1000 }';
    my $ttl = defined $o{cache_ttl} ? "    cache_ttl_seconds: $o{cache_ttl}\n" : '';
    return <<"YAML";
auth: { timeout_in_ms: 3000 }
cache: { ttl_seconds: 0 }
http: $http
providers:
  - type: plain
    name: staff
    realm: ecmwf
    users:
      - { username: adam, password: adam-pw, roles: [user] }
      - { username: eve, password: eve-pw }
      - { username: bob, password: bob-pw }
      - { username: "a*", password: star-pw }
      - { username: "*", password: star-pw }
      - { username: 'we*ird(x)\\y', password: weird-pw }
  - type: plain
    name: guests
    realm: other
    users:
      - { username: olga, password: olga-pw }
augmenters:
  - type: ldap
    name: directory
    realm: ecmwf
    uri: "$uri"
    search_base: dc=example,dc=com
    bind_dn: cn=reader,dc=example,dc=com
    ldap_password: $password
$filter$ttl
YAML
}

# GET /whoami as user:password.
sub whoami { "GET /whoami\nAuthorization: Basic %%BASE64($_[0])%%" }

# The /whoami JSON of a user of realm ecmwf (or $realm) with @roles.
sub user {
    my ($name, $roles, $realm) = @_;
    return JSON::PP->new->canonical->encode({ version => 1, username => $name, realm => $realm // 'ecmwf',
        roles => $roles, attributes => {}, scopes => {} });
}

our $FAILED = 'augmenter "directory" failed';

defaults(yaml => yaml(), config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: no filter: the roles are the CNs of the user's groups, after the provider's
--- request eval
[map { main::whoami($_) } 'adam:adam-pw', 'eve:eve-pw']
--- response_json eval
[main::user(adam => [qw(user SomeRole Readers)]), main::user(eve => ['Deep'])]
--- no_error_log eval
[$main::FAILED, '[warn]']

=== TEST 2: the upstream receives the LDAP roles in the minted JWT
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(adam:adam-pw)%%
--- upstream_jwt: {"username": "adam", "realm": "ecmwf", "roles": ["user", "SomeRole", "Readers"]}

=== TEST 3: a user with no entry gets no LDAP role, and that is no error
--- request eval
main::whoami('bob:bob-pw')
--- response_json eval
main::user(bob => [])
--- no_error_log eval
[$main::FAILED]

=== TEST 4: the augmenter of another realm does nothing (olga is in the directory)
--- request eval
main::whoami('olga:olga-pw')
--- response_json eval
main::user(olga => [], 'other')

=== TEST 5: single filter: only groups whose DN contains the text, case-sensitively
--- yaml eval
main::yaml(filter => "    filter: TeamA\n")
--- request eval
[map { main::whoami($_) } 'adam:adam-pw', 'eve:eve-pw']
--- response_json eval
[main::user(adam => [qw(user SomeRole)]), main::user(eve => ['Deep'])]

=== TEST 6: single filter in another case matches nothing
--- yaml eval
main::yaml(filter => "    filter: teama\n")
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => ['user'])

=== TEST 7: filters give paths from each matched unit down to the group
--- yaml eval
main::yaml(filter => "    filters: [\"OU=TeamA\", \"OU=TeamB\"]\n")
--- request eval
[map { main::whoami($_) } 'adam:adam-pw', 'eve:eve-pw']
--- response_json eval
[main::user(adam => [qw(user /TeamA/TeamB/SomeRole /TeamB/SomeRole)]),
 main::user(eve => [qw(/TeamA/TeamB/TeamC/Deep /TeamB/TeamC/Deep)])]

=== TEST 8: a multi-part filter, root first
--- yaml eval
main::yaml(filter => "    filters: [\"OU=TeamA,OU=TeamB\"]\n")
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => [qw(user /TeamA/TeamB/SomeRole)])

=== TEST 9: the same filter in DN order gives the same role
--- yaml eval
main::yaml(filter => "    filters: [\"ou=teamb,ou=teama\"]\n")
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => [qw(user /TeamA/TeamB/SomeRole)])

=== TEST 10: a non-contiguous filter matches nothing
--- yaml eval
main::yaml(filter => "    filters: [\"OU=TeamA,OU=TeamC\"]\n")
--- request eval
[map { main::whoami($_) } 'adam:adam-pw', 'eve:eve-pw']
--- response_json eval
[main::user(adam => ['user']), main::user(eve => [])]

=== TEST 11: usernames are escaped: "a*" and "*" are not wildcards, a cn with * ( ) \ is found
--- request eval
[map { main::whoami($_) } 'a*:star-pw', '*:star-pw', 'we*ird(x)\y:weird-pw']
--- response_json eval
[main::user('a*' => []), main::user('*' => []), main::user('we*ird(x)\y' => [qw(Readers Odd)])]
--- no_error_log eval
[$main::FAILED]

=== TEST 12: a refused bind: no LDAP roles, a warning without the password, still 200
--- yaml eval
main::yaml(password => 'Wrong-Reader-Secret')
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => ['user'])
--- error_log eval
["$main::FAILED: binding as cn=reader,dc=example,dc=com: ", 'invalidCredentials']
--- secret: Wrong-Reader-Secret

=== TEST 13: the directory stops mid-run: cached users keep their roles, others get none at once; failures are not cached
--- request eval
[map { main::whoami($_) } 'adam:adam-pw', 'eve:eve-pw', 'adam:adam-pw', 'eve:eve-pw']
--- before_request eval
[undef, sub { $main::LDAP->stop }, undef, sub { $main::LDAP->start }]
--- response_json eval
[main::user(adam => [qw(user SomeRole Readers)]), main::user(eve => []),
 main::user(adam => [qw(user SomeRole Readers)]), main::user(eve => ['Deep'])]
--- elapsed_below: 1
--- error_log eval
["$main::FAILED: connecting to ldap://127.0.0.1:"]
--- check eval
sub {
    my ($run) = @_;
    my $log = Test::Authotron::slurp("$run->{prefix}/error.log");
    my $warnings = () = $log =~ /\[warn\].*\Q$main::FAILED\E/g;
    is($warnings, 1, 'only the request made while the directory was down failed');
}

=== TEST 14: cache_ttl_seconds: roles are looked up again once the entry expires
--- yaml eval
main::yaml(cache_ttl => 1)
--- request eval
[main::whoami('adam:adam-pw'), main::whoami('adam:adam-pw')]
--- before_request eval
[undef, sub { $main::LDAP->stop; Time::HiRes::sleep(1.5) }]
--- response_json eval
[main::user(adam => [qw(user SomeRole Readers)]), main::user(adam => ['user'])]
--- error_log eval
["$main::FAILED: connecting to"]

=== TEST 15: a hung directory (accepts, never answers): no LDAP roles within http.timeout_ms
--- request eval
main::whoami('adam:adam-pw')
--- before_request eval
[sub { $main::LDAP->pause }]
--- response_json eval
main::user(adam => ['user'])
--- elapsed_below: 2
--- error_log eval
["$main::FAILED: binding as cn=reader,dc=example,dc=com: timed out"]

=== TEST 16: a directory that cannot be connected to: no LDAP roles within http.connect_timeout_ms
--- yaml eval
main::yaml(uri => '%%LDAP_BLACKHOLE%%')
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => ['user'])
--- elapsed_below: 1.5
--- error_log eval
["$main::FAILED: connecting to ldap://127.0.0.1:", 'timed out']

=== TEST 17: ldaps:// with the directory's CA in http.ca_file
--- yaml eval
main::yaml(uri => '%%LDAPS%%', http => '{ ca_file: "%%LDAP_CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }')
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => [qw(user SomeRole Readers)])
--- no_error_log eval
[$main::FAILED]

=== TEST 18: ldaps:// with another CA: the certificate is refused, no LDAP roles, a warning
--- yaml eval
main::yaml(uri => '%%LDAPS%%', http => '{ ca_file: "%%LDAP_ROGUE_CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }')
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => ['user'])
--- error_log eval
["$main::FAILED: connecting to ldaps://127.0.0.1:", 'certificate']

=== TEST 19: ldaps:// without http.ca_file: the test CA is not trusted
--- yaml eval
main::yaml(uri => '%%LDAPS%%')
--- request eval
main::whoami('adam:adam-pw')
--- response_json eval
main::user(adam => ['user'])
--- error_log eval
["$main::FAILED: connecting to ldaps://127.0.0.1:", 'certificate']
