# 100 requests in flight at once on one worker: good and bad passwords, plaintext and hashed
# users. All are sent before any answer is read, so validations overlap; every answer must be
# the right one for its own request (no crossed results, no stalls, no 500).
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

defaults(yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 30000 }
cache: { ttl_seconds: 60, negative_ttl_seconds: 5, capacity: 10000 }
providers:
  - type: plain
    name: mixed
    realm: ecmwf
    users:
      - { username: alice, password: alice-pw, roles: [user] }
      - username: bob
        password_hash: "$argon2id$v=19$m=4096,t=3,p=1$YXV0aG90cm9uc2FsdDAwMw$gLbQfSQtUSDXlggsOcIg0XV3SjQHPfAg+F1c2n8uZTU"
        roles: [viewer]
      - username: carol
        password_hash: "$2y$05$fU80Mvvt7K.r7XgA/sZymOKOSVBhc1Xkea2bWkcYzs4gR2xxPk1GK"
        roles: [editor]
      - username: dave
        password_hash: "$argon2id$v=19$m=4096,t=3,p=1$YXV0aG90cm9uc2FsdDAwNA$6uEBJR71dlyiU8wuTEkbAM6tDuZrM9/73EXgv8f9UOA"
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
CONF

# One case per request: [request, expected status, claims the upstream JWT must have].
# Wrong passwords are all different, so each one is a real hash verification.
my %good = (alice => 'alice-pw', bob => 'bob-pw', carol => 'carol-pw', dave => 'dave-pw');
my %roles = (alice => '["user"]', bob => '["viewer"]', carol => '["editor"]', dave => '[]');
our @CASES = map {
    my $i = $_;
    my $user = (qw(alice bob carol dave))[$i % 4];
    my $kind = ($i / 4) % 5;
    $kind == 0 || $kind == 1 ? ["GET /api/$i\nAuthorization: Basic %%BASE64($user:$good{$user})%%", 200,
                                qq({"username": "$user", "roles": $roles{$user}})]
  : $kind == 2 ? ["GET /api/$i\nAuthorization: Basic %%BASE64($user:wrong-$i)%%", 401, undef]
  : $kind == 3 ? ["GET /whoami\nAuthorization: Basic %%BASE64($user:$good{$user})%%", 200, undef]
  : $i % 2     ? ["GET /api/$i", 401, undef]
  :              ["GET /api/$i\nAuthorization: Basic %%BASE64($user:$good{$user})%% x", 401, undef];
} 0 .. 99;

run_tests();

__DATA__

=== TEST 1: 100 concurrent mixed requests on one worker are all answered correctly
--- request eval
[map { $_->[0] } @main::CASES]
--- parallel
--- error_code eval
[map { $_->[1] } @main::CASES]
--- upstream_jwt eval
[map { $_->[2] } @main::CASES]
--- response_body_like eval
[map { $_->[0] =~ m{^GET /whoami\nAuthorization: Basic %%BASE64\((\w+):} ? qq("username":\\s*"$1") : undef } @main::CASES]
--- response_body_unlike eval
[map { $_->[1] == 200 ? 'Basic ' : undef } @main::CASES]
--- timeout: 60
