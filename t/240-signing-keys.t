# Signing keys for minted tokens (jwt.algorithm, jwt.private_key, jwt.kid,
# jwt.verification_keys): tokens from each algorithm verify against the instance's own JWKS
# (authotron_jwks), the JWKS publishes exactly the public keys (never an HS256 secret), a minted
# token is reused while more than half its lifetime is left, nginx -t refuses bad keys with
# the YAML line, and the rotation procedure of docs/operations.md keeps a backend that caches the JWKS
# accepting every token through three reloads.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;
use Test::More;
use JSON::PP;
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;

our $KEYS = 't/fixtures/keys';
our %JWT = %Test::Authotron::JWT;

defaults(yaml => <<'YAML', config => <<'CONF');
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: alice, password: alice-pw-2026, roles: [user] }
      - { username: bob, password: bob-pw-2026, roles: [user] }
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
location = /jwks { authotron_jwks; }
CONF

# The JWK a backend expects for a public key file, computed by CryptX, not by the module.
sub jwk {
    my ($file, $kid, $alg) = @_;
    my $class = $file =~ /rsa/ ? 'Crypt::PK::RSA' : $file =~ /-ec-/ ? 'Crypt::PK::ECC' : 'Crypt::PK::Ed25519';
    my $key = $class->new("$KEYS/$file");
    my $jwk = decode_json($key->export_key_jwk('public'));
    return { %$jwk, kid => $kid // $key->export_key_jwk_thumbprint('SHA256'), alg => $alg, use => 'sig' };
}

sub jwks_json { encode_json({ keys => [@_] }) }

sub bearer {
    my ($res) = @_;
    my ($token) = ($res->{body} // '') =~ /^authorization: Bearer (\S+)$/mi;
    return $token;
}

sub header_of {
    my ($token) = @_;
    return decode_json(MIME::Base64::decode_base64url((split /\./, $token)[0]));
}

# --- key rotation -----------------------------------------------------------------------------

# The stages of the procedure in docs/operations.md, for two rotations: each gives the signing key (algorithm,
# file, kid) and the verification keys (file, kid).
our %ROTATION = (
    rsa => [
        [['RS256', 'sign-rsa-1.pem', 'rsa-1']],
        [['RS256', 'sign-rsa-1.pem', 'rsa-1'], ['sign-rsa-2.pub.pem', 'rsa-2']],
        [['RS256', 'sign-rsa-2.pem', 'rsa-2'], ['sign-rsa-1.pub.pem', 'rsa-1']],
        [['RS256', 'sign-rsa-2.pem', 'rsa-2']],
    ],
    # Changing algorithm works the same way, for backends that accept both.
    ec_to_ed => [
        [['ES256', 'sign-ec-1.pem', 'ec-1']],
        [['ES256', 'sign-ec-1.pem', 'ec-1'], ['sign-ed-1.pub.pem', 'ed-1']],
        [['EdDSA', 'sign-ed-1.pem', 'ed-1'], ['sign-ec-1.pub.pem', 'ec-1']],
        [['EdDSA', 'sign-ed-1.pem', 'ed-1']],
    ],
);

sub stage_yaml {
    my ($rotation, $n) = @_;
    my ($signing, @verification) = @{ $ROTATION{$rotation}[$n] };
    my ($alg, $file, $kid) = @$signing;
    my $yaml = <<"YAML";
version: "2.0.0"
jwt:
  iss: $JWT{iss}
  exp: $JWT{exp}
  algorithm: $alg
  private_key: %%KEYS%%/$file
  kid: $kid
YAML
    $yaml .= "  verification_keys:\n" if @verification;
    $yaml .= "    - { kid: $_->[1], public_key: %%KEYS%%/$_->[0] }\n" for @verification;
    return $yaml . <<'YAML';
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: alice, password: alice-pw-2026, roles: [user] }
YAML
}

# Drives the rotation from a hook. The backend caches the JWKS and refreshes it only at the
# moments marked (its cache expiring); every token must verify with the JWKS the backend holds
# when the token reaches it, and with every JWKS published while the token is still valid.
sub rotation {
    my ($rotation) = @_;
    return sub {
        my (undef, $run) = @_;
        my $name = "$run->{name}";
        my $kids = sub { join ' ', map { $_->{kid} } @{ decode_json($_[0])->{keys} } };
        my $fetch = sub { $run->request('GET /jwks')->{body} };
        my $mint = sub {
            my $token = bearer($run->request("GET /api/x\nAuthorization: Basic " . MIME::Base64::encode_base64('alice:alice-pw-2026', '')));
            ok(defined $token, "$name: the upstream got a token") or return '';
            return $token;
        };
        my $verifies = sub {
            my ($token, $jwks, $what) = @_;
            my @p = $run->jwt_problems($token, '{"username": "alice"}', undef, $jwks);
            ok(!@p, "$name: $what") or diag(join "\n", @p);
        };
        my $stage = sub {
            my ($n) = @_;
            Test::Authotron::spew($run->{yaml_path}, $run->expand(stage_yaml($rotation, $n)));
            $run->reload;
        };
        my @signing = map { $_->[0][2] } @{ $ROTATION{$rotation} };
        my @published = map { join ' ', map { $_->[-1] } @$_ } @{ $ROTATION{$rotation} };

        # Stage 0: one key.
        my $t0 = $mint->();
        my $cached = $fetch->();
        is($kids->($cached), $published[0], "$name: stage 0 publishes $published[0]");
        is(header_of($t0)->{kid}, $signing[0], "$name: stage 0 signs with $signing[0]");
        $verifies->($t0, $cached, 'stage 0 token verifies with the stage 0 JWKS');

        # Stage 1: the new key is published beside the signing one.
        $stage->(1);
        my $t1 = $mint->();
        is(header_of($t1)->{kid}, $signing[0], "$name: stage 1 still signs with $signing[0]");
        $verifies->($t1, $cached, 'stage 1 token verifies with the JWKS the backend cached at stage 0');
        $cached = $fetch->();
        is($kids->($cached), $published[1], "$name: stage 1 publishes $published[1]");
        $verifies->($_->[0], $cached, "stage $_->[1] token verifies with the stage 1 JWKS") for [$t0, 0], [$t1, 1];

        # Stage 2: signing switches; the old key stays published.
        $stage->(2);
        my $t2 = $mint->();
        is(header_of($t2)->{kid}, $signing[2], "$name: stage 2 signs with $signing[2]");
        $verifies->($t2, $cached, 'stage 2 token verifies with the JWKS the backend cached at stage 1 (no refetch needed)');
        $cached = $fetch->();
        is($kids->($cached), $published[2], "$name: stage 2 publishes $published[2]");
        $verifies->($_->[0], $cached, "stage $_->[1] token verifies with the stage 2 JWKS") for [$t0, 0], [$t1, 1], [$t2, 2];

        # Stage 3: the old key goes (once every token it signed has expired).
        $stage->(3);
        my $t3 = $mint->();
        is(header_of($t3)->{kid}, $signing[3], "$name: stage 3 signs with $signing[3]");
        $verifies->($t3, $cached, 'stage 3 token verifies with the JWKS the backend cached at stage 2');
        $cached = $fetch->();
        is($kids->($cached), $published[3], "$name: stage 3 publishes $published[3] only");
        $verifies->($_->[0], $cached, "stage $_->[1] token verifies with the stage 3 JWKS") for [$t2, 2], [$t3, 3];
        my @p = $run->jwt_problems($t0, '{}', undef, $cached);
        like($p[0] // '', qr/does not verify/, "$name: a token of the removed key no longer verifies");
    };
}

run_tests();

__DATA__

=== TEST 1: RS256: the upstream gets a token that verifies with the published key and its kid
--- jwt_keys
algorithm: RS256
private_key: %%KEYS%%/sign-rsa-1.pem
kid: rsa-2026
--- request eval
["GET /api/a\nAuthorization: Basic %%BASE64(alice:alice-pw-2026)%%", "GET /jwks"]
--- upstream_jwt eval
['{"username": "alice", "realm": "ecmwf", "roles": ["user"]}', undef]
--- response_json eval
[undef, main::jwks_json(main::jwk('sign-rsa-1.pub.pem', 'rsa-2026', 'RS256'))]
--- response_headers eval
[undef, "Content-Type: application/json\nCache-Control: max-age=300"]
--- check eval
sub {
    my ($run, $res) = @_;
    my $h = main::header_of(main::bearer($res->[0]));
    is_deeply($h, { typ => 'JWT', alg => 'RS256', kid => 'rsa-2026' }, "$run->{name}: the JOSE header");
}

=== TEST 2: RS256 from a PKCS#1 file, without kid: the kid is the RFC 7638 thumbprint
--- jwt_keys
algorithm: RS256
private_key: %%KEYS%%/sign-rsa-1.pkcs1.pem
--- request eval
["GET /authenticate\nAuthorization: Basic %%BASE64(bob:bob-pw-2026)%%", "GET /jwks"]
--- response_jwt eval
['{"username": "bob"}', undef]
--- response_json eval
[undef, main::jwks_json(main::jwk('sign-rsa-1.pub.pem', undef, 'RS256'))]

=== TEST 3: ES256 (a SEC1 file): tokens verify with the published P-256 key
--- jwt_keys
algorithm: ES256
private_key: %%KEYS%%/sign-ec-1.sec1.pem
kid: ec-2026
--- request eval
["GET /api/a\nAuthorization: Basic %%BASE64(alice:alice-pw-2026)%%", "GET /jwks"]
--- upstream_jwt eval
['{"username": "alice"}', undef]
--- response_json eval
[undef, main::jwks_json(main::jwk('sign-ec-1.pub.pem', 'ec-2026', 'ES256'))]

=== TEST 4: EdDSA: tokens verify with the published Ed25519 key
--- jwt_keys
algorithm: EdDSA
private_key: %%KEYS%%/sign-ed-1.pem
kid: ed-2026
--- request eval
["GET /api/a\nAuthorization: Basic %%BASE64(alice:alice-pw-2026)%%", "GET /jwks"]
--- upstream_jwt eval
['{"username": "alice"}', undef]
--- response_json eval
[undef, main::jwks_json(main::jwk('sign-ed-1.pub.pem', 'ed-2026', 'EdDSA'))]

=== TEST 5: verification keys are published after the signing key, relative paths from the YAML
--- before_start eval
sub {
    my (undef, $run) = @_;
    mkdir "$run->{prefix}/keys";
    system('cp', "$main::KEYS/$_", "$run->{prefix}/keys/$_") == 0 or die "cp $_" for qw(sign-ec-1.pem sign-rsa-2.pub.pem);
}
--- jwt_keys
algorithm: ES256
private_key: keys/sign-ec-1.pem
kid: current
verification_keys:
  - { kid: previous, public_key: keys/sign-rsa-2.pub.pem }
  - { kid: next, public_key: %%KEYS%%/sign-ed-1.pub.pem }
--- request eval
["GET /api/a\nAuthorization: Basic %%BASE64(alice:alice-pw-2026)%%", "GET /jwks"]
--- upstream_jwt eval
['{"username": "alice"}', undef]
--- response_json eval
[undef, main::jwks_json(main::jwk('sign-ec-1.pub.pem', 'current', 'ES256'), main::jwk('sign-rsa-2.pub.pem', 'previous', 'RS256'), main::jwk('sign-ed-1.pub.pem', 'next', 'EdDSA'))]

=== TEST 6: HS256 (the default) publishes an empty set: the secret is never published
--- request: GET /jwks
--- response_body: {"keys":[]}
--- response_headers
Content-Type: application/json

=== TEST 7: HS256 moving to a key pair: the coming public key is published first
--- jwt_keys
secret: "t3st-s3cret-for-the-integration-suite-only"
verification_keys:
  - { kid: next, public_key: %%KEYS%%/sign-rsa-2.pub.pem }
--- request: GET /jwks
--- response_json eval
main::jwks_json(main::jwk('sign-rsa-2.pub.pem', 'next', 'RS256'))

=== TEST 8: a token is reused while more than half its lifetime is left, then renewed
--- yaml
version: "2.0.0"
jwt:
  iss: authotron-test
  exp: 4
  algorithm: RS256
  private_key: %%KEYS%%/sign-rsa-1.pem
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: alice, password: alice-pw-2026, roles: [user] }
--- request: GET /jwks
--- after_start eval
sub {
    my (undef, $run) = @_;
    my $get = sub { main::bearer($run->request("GET /api/x\nAuthorization: Basic %%BASE64(alice:alice-pw-2026)%%")) };
    my $claims = sub { decode_json(MIME::Base64::decode_base64url((split /\./, $_[0])[1])) };
    # Start early in a second, so the first two requests fall in the first half of the token's life.
    my $now = Time::HiRes::time();
    Time::HiRes::sleep(1.05 - ($now - int $now));
    my $first = $get->();
    my $iat = $claims->($first)->{iat};
    Time::HiRes::sleep($iat + 1.5 - Time::HiRes::time());
    my $again = $get->();
    is($again, $first, "$run->{name}: the same token 1.5 s later (exp 4: reused until iat + 2)");
    is($claims->($again)->{iat}, $iat, "$run->{name}: with its original iat");
    Time::HiRes::sleep($iat + 2.2 - Time::HiRes::time());
    my $renewed = $get->();
    isnt($renewed, $first, "$run->{name}: a new token at iat + 2");
    my $c = $claims->($renewed);
    cmp_ok($c->{iat}, '>=', $iat + 2, "$run->{name}: the new token is issued now");
    is($c->{exp}, $c->{iat} + 4, "$run->{name}: with a full lifetime");
}

=== TEST 9: the key rotation of docs/operations.md, RS256 to RS256
--- yaml eval
main::stage_yaml('rsa', 0)
--- config
location /api/ { authotron on; proxy_pass http://echo; }
location = /jwks { authotron_jwks; }
--- request: GET /jwks
--- after_start eval
main::rotation('rsa')

=== TEST 10: the key rotation of docs/operations.md, from ES256 to EdDSA
--- yaml eval
main::stage_yaml('ec_to_ed', 0)
--- config
location /api/ { authotron on; proxy_pass http://echo; }
location = /jwks { authotron_jwks; }
--- request: GET /jwks
--- after_start eval
main::rotation('ec_to_ed')

=== TEST 11: a valid asymmetric configuration passes nginx -t without warnings
--- jwt_keys
algorithm: EdDSA
private_key: %%KEYS%%/sign-ed-1.pem
verification_keys: [ { public_key: %%KEYS%%/sign-rsa-2.pub.pem } ]
--- config_ok
--- error_log
test is successful
--- no_error_log
[warn]

=== TEST 12: nginx -t: a file that is not PEM, named relative to the YAML
--- before_start eval
sub { Test::Authotron::spew("$_[1]{prefix}/bad.pem", "this is not a key\n") }
--- jwt_keys
algorithm: RS256
private_key: bad.pem
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:private_key%%:', qr{jwt\.private_key: \S+/bad\.pem: no PEM block found}]

=== TEST 13: nginx -t: a key that does not fit the algorithm
--- jwt_keys
algorithm: ES256
private_key: %%KEYS%%/sign-rsa-1.pem
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:private_key%%:', 'jwt.algorithm ES256 needs a P-256 EC key; this file holds an RSA key']

=== TEST 14: nginx -t: an asymmetric algorithm without private_key
--- jwt_keys
algorithm: EdDSA
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+:\d+: jwt: missing field `private_key`/]

=== TEST 15: nginx -t: HS256 without secret
--- jwt_keys
algorithm: HS256
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+:\d+: jwt: missing field `secret`/]

=== TEST 16: nginx -t: a missing key file
--- jwt_keys
algorithm: RS256
private_key: %%KEYS%%/no-such-key.pem
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:no-such-key%%:', 'no-such-key.pem: No such file or directory']

=== TEST 17: nginx -t: a verification key file holding a private key
--- jwt_keys
algorithm: RS256
private_key: %%KEYS%%/sign-rsa-1.pem
verification_keys:
  - public_key: %%KEYS%%/sign-rsa-2.pem
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:sign-rsa-2.pem%%:', 'holds a private key; give its public key']

=== TEST 18: nginx -t: two published keys with one kid
--- jwt_keys
algorithm: RS256
private_key: %%KEYS%%/sign-rsa-1.pem
kid: k1
verification_keys:
  - { kid: k1, public_key: %%KEYS%%/sign-rsa-2.pub.pem }
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:sign-rsa-2.pub.pem%%:', 'kid `k1` is already the kid of the signing key']
