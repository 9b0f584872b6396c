# A store token is decided by the store alone. Every other Bearer provider would forward it to
# an identity service (ecmwf-api even in a URL query string), where it would land in logs; with
# every remote provider type configured beside the store, none of those services may ever see
# one: not a valid token, not a revoked one, and not when the store is down.
use strict;
use warnings;
use lib 't/lib';
use JSON::PP qw(decode_json);
use Test::More;
use Test::Authotron;
use Test::Authotron::IdP ();
use Test::Authotron::StoreScenarios ();
use MIME::Base64 ();

my $idp = idp();

# The worker (nobody, when the suite runs as root) must be able to write the database.
my $db_dir = sub {
    my (undef, $run) = @_;
    my $dir = "$run->{prefix}/db";
    mkdir $dir or die "mkdir $dir: $!";
    if ($> == 0) {
        my (undef, undef, $uid, $gid) = getpwnam('nobody') or die "no user nobody\n";
        chown $uid, $gid, $dir or die "chown $dir: $!";
    }
};

# A token of alice's, made through the API once NGINX is up.
my $make_token = sub {
    my (undef, $run) = @_;
    my $auth = 'Basic ' . MIME::Base64::encode_base64('alice:alice-pw', '');
    my $res = $run->request("POST /token\nAuthorization: $auth");
    die "token not created: $res->{status}\n" unless $res->{status} == 201;
    $main::T{tok} = decode_json($res->{body})->{token};
};

# No identity-service route may be called (jwks is the key-set fetch at start-up: no token).
my $NO_CALLS = '{"whoami": 0, "efas": 0, "introspect": 0, "token": 0, "validate": 0, "refresh": 0}';

defaults(before_start => $db_dir, after_start => $make_token, mock_calls => $NO_CALLS, yaml => <<'YAML' . Test::Authotron::IdP::remote_providers(), config => <<'CONF');
version: "2.0.0"
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
auth: { timeout_in_ms: 3000 }
store: { enabled: true, type: sqlite, path: db/tokens.db }
providers:
  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: alice-pw, roles: [admin] }
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location /token { authotron_tokens; }
CONF

run_tests();

__DATA__

=== TEST 1: a valid store token: the store answers, no identity service is asked
--- request eval
["GET /api/x\nAuthorization: Bearer %%T(tok)%%"]
--- upstream_jwt
{"username": "alice", "realm": "local"}

=== TEST 2: a revoked store token: 401 from the store alone
--- before_request eval
[sub { my (undef, $run) = @_; my $auth = 'Basic ' . MIME::Base64::encode_base64('alice:alice-pw', ''); my $r = $run->request("DELETE /token/$main::T{tok}\nAuthorization: $auth"); die "not revoked: $r->{status}\n" unless $r->{status} == 204 }]
--- request eval
["GET /api/x\nAuthorization: Bearer %%T(tok)%%"]
--- error_code: 401

=== TEST 3: a well-formed token the store never issued: 401, still no identity service
--- before_request eval
[sub { $main::T{unused} = Test::Authotron::StoreScenarios::unused_token() }]
--- request eval
["GET /api/x\nAuthorization: Bearer %%T(unused)%%"]
--- error_code: 401
