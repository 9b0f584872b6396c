# The `jwt` provider: Bearer JWTs verified against a JWKS fetched from the mock identity service
# (t/fixtures/jwks, served by scripts/mock-idp). Claims mapping as upstream, with our checks:
# algorithm allowlist (never `none`, HMAC only with allow_hmac), `exp` required, optional
# iss/aud, kid required unless the JWKS has one key, a rate-limited refetch on an unknown kid,
# the last good key set kept when a fetch fails, the JWKS fetched at worker start; `nbf`
# checked, an `exp` in any JSON number form honoured, any `crit` header refused.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp();
my $now = time;

our %T = (
    # Everything upstream maps: username from preferred_username, roles from realm_access,
    # entitlements and resource_access, scopes from scope, every other claim an attribute.
    full => jwt(claims => {
        sub => 'f2b1c3d4-uuid', preferred_username => 'alice', scope => 'openid offline_access',
        realm_access => { roles => [qw(user admin)] }, entitlements => ['ent-1'],
        resource_access => { polytope => { roles => ['reader'] } },
        email => 'alice@example.int', iss => 'https://idp.test/realms/ecmwf', azp => 'cli',
        custom => 'abc', nested => { flag => JSON::PP::true }, count => 42,
    }),
    sub_only => jwt(claims => { sub => 'bob' }),
    rs384 => jwt(alg => 'RS384', claims => { sub => 'rs384-user' }),
    rs512 => jwt(alg => 'RS512', claims => { sub => 'rs512-user' }),
    ps256 => jwt(alg => 'PS256', claims => { sub => 'ps256-user' }),
    es256 => jwt(alg => 'ES256', claims => { sub => 'es256-user' }),
    eddsa => jwt(alg => 'EdDSA', claims => { sub => 'eddsa-user' }),
    hs512 => jwt(alg => 'HS512', claims => { sub => 'hs512-user', scope => 'read write' }),
    none => jwt(alg => 'none', kid => 'rsa-1', claims => { sub => 'mallory' }),
    # Signed with a key that is in no JWKS, under a kid the JWKS lacks / under rsa-1's kid.
    unknown_kid => jwt(key => 'rsa-rogue', kid => 'rogue-1', claims => { sub => 'mallory' }),
    unknown_kid2 => jwt(key => 'rsa-rogue', kid => 'rogue-2', claims => { sub => 'mallory' }),
    bad_sig => jwt(key => 'rsa-rogue', kid => 'rsa-1', claims => { sub => 'mallory' }),
    # HS/RS confusion: HMAC keyed with the RSA public key, under the RSA key's kid.
    hs256_rsa => jwt(alg => 'HS256', secret => key_text('rsa-1.pub.pem'), kid => 'rsa-1', claims => { sub => 'mallory' }),
    hs512_rsa => jwt(alg => 'HS512', secret => key_text('rsa-1.pub.pem'), kid => 'rsa-1', claims => { sub => 'mallory' }),
    # ES256 signature presented as RS256 under the EC key's kid and vice versa.
    rs_on_ec => jwt(alg => 'RS256', key => 'rsa-1', kid => 'ec-1', claims => { sub => 'mallory' }),
    expired => jwt(claims => { sub => 'late', exp => $now - 300 }),
    expired_slightly => jwt(claims => { sub => 'late', exp => $now - 5 }),
    no_exp => jwt(claims => { sub => 'forever', exp => undef }),
    no_kid => jwt(kid => undef, claims => { sub => 'nokid' }),
    rotated => jwt(key => 'rsa-2', claims => { sub => 'rotated-user' }),
    iss_aud => jwt(claims => { sub => 'checked', iss => 'https://idp.test/realms/ecmwf', aud => 'authotron' }),
    iss_aud_list => jwt(claims => { sub => 'checked', iss => 'https://idp.test/realms/ecmwf', aud => ['other', 'authotron'] }),
    wrong_iss => jwt(claims => { sub => 'checked', iss => 'https://evil.test/realms/ecmwf', aud => 'authotron' }),
    wrong_aud => jwt(claims => { sub => 'checked', iss => 'https://idp.test/realms/ecmwf', aud => 'someone-else' }),
    no_iss => jwt(claims => { sub => 'checked', aud => 'authotron' }),
    no_aud => jwt(claims => { sub => 'checked', iss => 'https://idp.test/realms/ecmwf' }),
    rs256_with_scope => jwt(claims => { sub => 'scoped', scope => 'a b  c' }),
    not_yet => jwt(claims => { sub => 'early', nbf => $now + 300 }),
    # RFC 7515 §4.1.11: an extension we do not understand; an empty list is itself forbidden.
    crit => jwt(header => { crit => ['foo'], foo => 1 }, claims => { sub => 'mallory' }),
    crit_empty => jwt(header => { crit => [] }, claims => { sub => 'mallory' }),
    not_a_jwt => 'this-is-not-a-jwt',
);

# authotron.yaml with the keycloak provider: `top` replaces the auth line above `providers:`,
# `cert_uri` the JWKS URL, and each line of `more` is one more provider setting.
sub keycloak_yaml {
    my (%o) = @_;
    my $cert_uri = $o{cert_uri} // '%%IDP%%/jwks';
    return ($o{top} // "auth: { timeout_in_ms: 3000 }\n") . <<"YAML" . join('', map { "    $_\n" } @{ $o{more} // [] });
providers:
  - type: jwt
    name: keycloak
    realm: ecmwf
    cert_uri: $cert_uri
    iam_realm: ecmwf
YAML
}

# One request per token name: GET /api/1, /api/2, ... with that token as the Bearer credential.
sub bearers { my @names = @_; [map { "GET /api/" . ($_ + 1) . "\nAuthorization: Bearer $T{$names[$_]}" } 0 .. $#names] }

# The JWKS outage blocks: a refresh every second; after_start breaks the JWKS endpoint with
# @fault once the first key set is in, and check wants the refetch to have met that fault.
our $OUTAGE_YAML = keycloak_yaml(top => "auth: { timeout_in_ms: 3000 }\nhttp: { connect_timeout_ms: 500, timeout_ms: 1000 }\n",
    more => ['jwks_refresh_seconds: 1']);
sub jwks_outage { my @fault = @_; sub { my ($idp) = @_; Time::HiRes::sleep(0.3); $idp->fault(jwks => @fault); Time::HiRes::sleep(2) } }
sub refetch_hit_fault {
    my ($message) = @_;
    sub { my ($run) = @_; cmp_ok($run->{idp_stats}{fault_hits}{jwks} // 0, '>=', 1, $message) };
}

defaults(yaml => keycloak_yaml(top => "auth: { timeout_in_ms: 3000 }\nhttp: { connect_timeout_ms: 1000, timeout_ms: 2000 }\n"),
    config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; add_header X-Provider $authotron_provider always; }
location = /authenticate { authotron_authenticate; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: a Keycloak-style RS256 token maps as upstream: username, roles, scopes, attributes
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(full)%%
--- upstream_headers
Authorization: Bearer %%JWT%%
--- upstream_jwt
{"sub": "ecmwf-alice", "username": "alice", "realm": "ecmwf",
 "roles": ["user", "admin", "ent-1", "reader"],
 "scopes": {"keycloak": ["openid", "offline_access"]},
 "attributes": {"email": "alice@example.int", "iss": "https://idp.test/realms/ecmwf", "azp": "cli",
                "custom": "abc", "nested": "{\"flag\":true}", "count": "42"}}
--- response_headers
X-Provider: keycloak
--- check eval
sub {
    my ($run, $res) = @_;
    my $c = $run->upstream_claims($res->[0]);
    my %a = %{ $c->{attributes} // {} };
    like($a{exp} // '', qr/^\d+$/, 'the token exp is an attribute (stringified)');
    like($a{iat} // '', qr/^\d+$/, 'the token iat is an attribute (stringified)');
    ok(!exists $a{$_}, "$_ is mapped, not an attribute") for qw(sub scope realm_access resource_access entitlements);
}
--- mock_calls: {"jwks": 1}

=== TEST 2: without preferred_username the username is sub; scope is optional
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(sub_only)%%
--- upstream_jwt
{"username": "bob", "realm": "ecmwf", "roles": []}

=== TEST 3: every default algorithm verifies with its JWKS key (RS256/384/512, PS256, ES256, EdDSA)
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(rs384 rs512 ps256 es256 eddsa rs256_with_scope)]
--- upstream_jwt eval
['{"username": "rs384-user"}', '{"username": "rs512-user"}', '{"username": "ps256-user"}',
 '{"username": "es256-user"}', '{"username": "eddsa-user"}',
 '{"username": "scoped", "scopes": {"keycloak": ["a", "b", "c"]}}']

=== TEST 4: alg none is refused, with the Bearer challenge of the realm
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(none)%%
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="ecmwf"
--- response_body_unlike: GET /api/x

=== TEST 5: alg none is refused even when the provider lists every algorithm and allows HMAC
--- yaml eval
keycloak_yaml(more => ['allow_hmac: true', 'algorithms: [RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA, HS256, HS384, HS512]'])
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(none)%%
--- error_code: 401

=== TEST 6: "none" is not an algorithm the configuration accepts
--- yaml eval
keycloak_yaml(top => '', more => ['algorithms: [RS256, none]'])
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:algorithms%%', qr/none/]

=== TEST 7: a bad signature under a known kid is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(bad_sig)%%
--- error_code: 401

=== TEST 8: HS/RS confusion: HMAC keyed with the RSA public key is refused (default algorithms)
--- request eval
bearers(qw(hs256_rsa hs512_rsa rs_on_ec))
--- error_code: 401

=== TEST 9: HS/RS confusion is refused even with allow_hmac (an RSA key is never an HMAC key)
--- yaml eval
keycloak_yaml(more => ['allow_hmac: true', 'algorithms: [RS256, HS256, HS512]'])
--- request eval
bearers(qw(hs256_rsa hs512_rsa hs512))
--- error_code eval
[401, 401, 200]
--- upstream_jwt eval
[undef, undef, '{"username": "hs512-user"}']

=== TEST 10: an HS512 token on the JWKS oct key is refused by default (no allow_hmac)
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(hs512)%%
--- error_code: 401

=== TEST 11: upstream-style HS512 on an oct key works with allow_hmac
--- yaml eval
keycloak_yaml(more => ['allow_hmac: true'])
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(hs512)%%
--- upstream_jwt
{"username": "hs512-user", "scopes": {"keycloak": ["read", "write"]}}

=== TEST 12: an algorithm outside the provider's list is refused although its key is known
--- yaml eval
keycloak_yaml(more => ['algorithms: [ES256]'])
--- request eval
bearers(qw(es256 sub_only eddsa))
--- error_code eval
[200, 401, 401]

=== TEST 13: expired beyond the leeway is refused; without exp is refused
--- request eval
bearers(qw(expired no_exp))
--- error_code: 401

=== TEST 14: with leeway_seconds 0 a token expired 5 s ago is refused
--- yaml eval
keycloak_yaml(more => ['leeway_seconds: 0'])
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(expired_slightly)%%
--- error_code: 401

=== TEST 15: iss and aud checks: right ones pass (aud as a list too), wrong or missing ones fail
--- yaml eval
keycloak_yaml(more => ['iss: https://idp.test/realms/ecmwf', 'aud: authotron'])
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(iss_aud iss_aud_list wrong_iss wrong_aud no_iss no_aud)]
--- error_code eval
[200, 200, 401, 401, 401, 401]
--- upstream_jwt eval
['{"username": "checked", "attributes": {"iss": "https://idp.test/realms/ecmwf", "aud": "authotron"}}', undef, undef, undef, undef, undef]

=== TEST 16: kid is required when the JWKS holds several keys
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(no_kid)%%
--- error_code: 401

=== TEST 17: kid may be left out when the JWKS holds exactly one key
--- yaml eval
keycloak_yaml(cert_uri => '%%IDP%%/jwks/single')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(no_kid)%%
--- upstream_jwt
{"username": "nokid"}

=== TEST 18: the JWKS is fetched when the worker starts, before any request, and then reused
--- after_start eval
sub {
    my ($idp) = @_;
    my $deadline = time + 5;
    Time::HiRes::sleep(0.1) while $idp->calls('jwks') < 1 && time < $deadline;
    Time::HiRes::sleep(0.5);
    is($idp->calls('jwks'), 1, 'one JWKS fetch at worker start, before any request');
}
--- request eval
[map { "GET /api/$_\nAuthorization: Bearer $main::T{$_}" } qw(full sub_only es256 eddsa)]
--- mock_calls: {"jwks": 1}

=== TEST 19: an unknown kid makes one refetch; a second unknown kid within 30 s makes none
--- request eval
bearers(qw(unknown_kid unknown_kid2 full))
--- error_code eval
[401, 401, 200]
--- mock_calls: {"jwks": 2}

=== TEST 20: key rotation: a token under a new kid triggers a refetch and is accepted
--- after_start eval
sub { my ($idp) = @_; Time::HiRes::sleep(0.3); $idp->jwks('default', from => 'rotated') }
--- request eval
bearers(qw(rotated full))
--- upstream_jwt eval
['{"username": "rotated-user"}', '{"username": "alice"}']
--- mock_calls: {"jwks": 2}

=== TEST 21: JWKS outage: a failed refresh keeps the last good key set (HTTP 500)
--- yaml eval
$main::OUTAGE_YAML
--- after_start eval
jwks_outage('status', status => 500)
--- before_request eval
[undef, sub { Time::HiRes::sleep(1.5) }]
--- request eval
bearers(qw(full es256))
--- upstream_jwt eval
['{"username": "alice"}', '{"username": "es256-user"}']
--- check eval
refetch_hit_fault('the key set was fetched again after jwks_refresh_seconds, and that failed')

=== TEST 22: JWKS outage: a refresh answered with garbage keeps the last good key set
--- yaml eval
$main::OUTAGE_YAML
--- after_start eval
jwks_outage('garbage')
--- before_request eval
[undef, sub { Time::HiRes::sleep(1.5) }]
--- request eval
bearers(qw(full eddsa))
--- upstream_jwt eval
['{"username": "alice"}', '{"username": "eddsa-user"}']
--- check eval
refetch_hit_fault('the key set was fetched again, and got garbage')

=== TEST 22b: JWKS outage: a refresh whose connection drops keeps the last good key set
--- yaml eval
$main::OUTAGE_YAML
--- after_start eval
jwks_outage('close')
--- before_request eval
[undef, sub { Time::HiRes::sleep(1.5) }]
--- request eval
bearers(qw(full es256))
--- upstream_jwt eval
['{"username": "alice"}', '{"username": "es256-user"}']
--- check eval
refetch_hit_fault('the key set was fetched again, and the connection dropped')

=== TEST 23: an unknown kid while the JWKS is failing: no 200; known keys still work
--- after_start eval
sub { my ($idp) = @_; Time::HiRes::sleep(0.3); $idp->fault(jwks => 'status', status => 503) }
--- request eval
bearers(qw(rotated full))
--- error_code eval
['401|503', 200]

=== TEST 24: no key set could ever be fetched: 503 with Retry-After, not 401
--- mock eval
sub { my ($idp) = @_; $idp->fault(jwks => 'status', status => 500) }
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{full}",
 "GET /authenticate\nAuthorization: Bearer $main::T{full}"]
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like eval
[undef, '^\{"error": "Service unavailable"\}$']

=== TEST 25: JWKS unreachable (connection refused): 503 with Retry-After
--- yaml eval
keycloak_yaml(cert_uri => '%%DEAD%%/jwks')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(full)%%
--- error_code: 503
--- response_headers
Retry-After: 5

=== TEST 26: the JWKS service comes back: a client honouring Retry-After then succeeds
--- mock eval
sub { my ($idp) = @_; $idp->fault(jwks => 'status', status => 500) }
--- before_request eval
[undef, sub { my ($idp) = @_; $idp->fault(jwks => 'none'); Time::HiRes::sleep(5.5) }]
--- request eval
["GET /api/1\nAuthorization: Bearer $main::T{full}",
 "GET /api/1\nAuthorization: Bearer $main::T{full}"]
--- error_code eval
[503, 200]

=== TEST 27: something that is not a JWT is refused (401) without touching the JWKS service
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(not_a_jwt)%%
--- error_code: 401
--- mock_calls: {"jwks": 1}

=== TEST 28: a cached identity never outlives the token's exp
--- yaml eval
keycloak_yaml(top => "auth: { timeout_in_ms: 3000 }\ncache: { ttl_seconds: 600, negative_ttl_seconds: 5, capacity: 100 }\n",
    more => ['leeway_seconds: 0'])
--- mock eval
sub { $main::T{short_lived} = jwt(claims => { sub => 'short', exp => time + 4 }) }
--- before_request eval
[undef, sub { Time::HiRes::sleep(5) }]
--- request eval
["GET /api/1\nAuthorization: Bearer %%T(short_lived)%%",
 "GET /api/2\nAuthorization: Bearer %%T(short_lived)%%"]
--- error_code eval
[200, 401]
--- upstream_jwt eval
['{"username": "short"}', undef]

=== TEST 29: /whoami shows the mapped user, attributes included
--- request: GET /whoami
--- more_headers
Authorization: Bearer %%T(full)%%
--- response_headers
Cache-Control: no-store
--- response_body_like
"username":\s*"alice".*"realm":\s*"ecmwf"

=== TEST 30: a token whose nbf is later than now plus the leeway is refused
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(not_yet)%%
--- error_code: 401
--- error_log
rejected the credential: invalid token: ImmatureSignature

=== TEST 31: a crit header is refused, an empty one too: we understand no extension
--- request eval
bearers(qw(crit crit_empty))
--- error_code: 401
--- error_log
rejected the credential: the header marks extensions critical (`crit`)

=== TEST 32: an exp with a fraction or an exponent caps the cache and the minted token
--- yaml eval
keycloak_yaml(top => "auth: { timeout_in_ms: 3000 }\ncache: { ttl_seconds: 600, negative_ttl_seconds: 5, capacity: 100 }\n",
    more => ['leeway_seconds: 0'])
--- mock eval
sub {
    # 4.5 s ahead, written 1765000004.5 by JSON::PP and 1.7650000045e+09 by hand.
    my $exp = time + 4.5;
    $main::EXP = $exp;
    $main::T{exp_fraction} = jwt(claims => { sub => 'fraction', exp => 0 + $exp });
    $main::T{exp_exponent} = jwt(payload => sprintf('{"sub":"exponent","exp":%.10e}', $exp));
}
--- before_request eval
# jsonwebtoken rounds the exp to whole seconds: 2 s past it, the token is refused.
[undef, undef, sub { my $left = $main::EXP + 2 - Time::HiRes::time; Time::HiRes::sleep($left) if $left > 0 }, undef]
--- request eval
["GET /api/1\nAuthorization: Bearer %%T(exp_fraction)%%",
 "GET /api/2\nAuthorization: Bearer %%T(exp_exponent)%%",
 "GET /api/3\nAuthorization: Bearer %%T(exp_fraction)%%",
 "GET /api/4\nAuthorization: Bearer %%T(exp_exponent)%%"]
--- error_code eval
[200, 200, 401, 401]
--- upstream_jwt eval
['{"username": "fraction"}', '{"username": "exponent"}', undef, undef]
--- check eval
sub {
    my ($run, $res) = @_;
    for my $i (0, 1) {
        my $exp = ($run->upstream_claims($res->[$i]) // {})->{exp};
        ok(defined $exp && $exp <= $main::EXP, "request " . ($i + 1) . ": the minted exp is not after the token's")
          or diag('minted exp ' . ($exp // 'none') . ", token exp $main::EXP");
    }
}
