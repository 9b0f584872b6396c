# Documents served without authentication: upstream's /providers and /augmenters listings
# (authotron_providers, authotron_augmenters) and the public keys of the minted tokens
# (authotron_jwks). GET and HEAD only; nginx -t refuses them without authotron_config.
# Upstream serves the listings to anyone, so docs/nginx-features.md says to restrict them: the last blocks
# show allow/deny and internal doing so.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

defaults(config => <<'CONF');
location = /providers  { authotron_providers; }
location = /augmenters { authotron_augmenters; }
location = /jwks       { authotron_jwks; }
CONF

# Providers of several types (the remote ones are never called: nothing is authenticated here).
our $PROVIDERS = <<'YAML';
providers:
  - type: plain
    name: local
    realm: internal
    users: [ { username: alice, password: listing-pw-1, roles: [reader] } ]
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: "%%DEAD%%/v1"
  - type: efas-api
    name: efas
    realm: efas
    uri: "%%DEAD%%/efas/user-details"
  - type: plain
    name: partners
    realm: other
    users: [ { username: bob, password: listing-pw-2, roles: [] } ]
augmenters:
  - type: plain_advanced
    name: ops
    realm: internal
    match: { username: [alice] }
    augment: { roles: [ops] }
  - type: plain
    name: legacy
    realm: other
    roles: { partner: [bob] }
YAML

run_tests();

__DATA__

=== LISTINGS 1: providers: name, type tag and realm of each, in config order, as JSON
--- yaml eval
$main::PROVIDERS
--- request: GET /providers
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_json
{"providers": [
  {"name": "local", "type": "plain", "realm": "internal"},
  {"name": "ecmwf", "type": "ecmwf-api", "realm": "ecmwf"},
  {"name": "efas", "type": "efas-api", "realm": "efas"},
  {"name": "partners", "type": "plain", "realm": "other"}
]}
--- no_error_log eval
[qr/\*\d+ authotron:/]

=== LISTINGS 2: augmenters, in config order
--- yaml eval
$main::PROVIDERS
--- request: GET /augmenters
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_json
{"augmenters": [
  {"name": "ops", "type": "plain_advanced", "realm": "internal"},
  {"name": "legacy", "type": "plain", "realm": "other"}
]}

=== LISTINGS 3: no credentials are needed or read: a bogus Authorization header changes nothing
--- yaml eval
$main::PROVIDERS
--- request eval
["GET /providers\nAuthorization: Basic %%BASE64(alice:not-the-password)%%",
 "GET /augmenters\nAuthorization: Bearer listing-bogus-token"]
--- response_body_like eval
['"name":"local"', '"name":"ops"']
--- no_error_log eval
[qr/\*\d+ authotron:/]

=== LISTINGS 4: the token store is not a configured provider and is not listed (as upstream)
--- yaml
version: "2.0.0"
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
store: { enabled: true, type: sqlite, path: db/tokens.db }
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: listing-pw-1 } ] }
--- before_start eval
sub {
    my (undef, $run) = @_;
    # A directory the workers (nobody, when the suite runs as root) can write: nginx -t checks.
    mkdir "$run->{prefix}/db" or die "mkdir: $!";
    chown((getpwnam 'nobody')[2, 3], "$run->{prefix}/db") or die "chown: $!" if $> == 0;
}
--- config
location = /providers { authotron_providers; }
location = /token { authotron_tokens; }
--- request: GET /providers
--- response_json
{"providers": [{"name": "local", "type": "plain", "realm": "internal"}]}

=== LISTINGS 5: empty lists
--- yaml
providers: []
--- request eval
["GET /providers", "GET /augmenters"]
--- response_json eval
['{"providers": []}', '{"augmenters": []}']

=== LISTINGS 6: the key set of HS256 tokens is empty: the secret is shared, never published
--- yaml eval
$main::PROVIDERS
--- request: GET /jwks
--- response_headers
Content-Type: application/json
--- response_json
{"keys": []}

=== LISTINGS 7: HEAD answers like GET, without a body
--- yaml eval
$main::PROVIDERS
--- request eval
["HEAD /providers", "HEAD /augmenters", "HEAD /jwks"]
--- response_headers
Content-Type: application/json
--- response_body eval
['', '', '']

=== LISTINGS 8: other methods are refused with 405, naming the allowed ones
--- yaml eval
$main::PROVIDERS
--- config
location = /providers  { authotron_providers; }
location = /augmenters { authotron_augmenters; }
location = /jwks       { authotron_jwks; }
location = /metrics    { authotron_metrics; }
--- request eval
["POST /providers", "POST /augmenters", "POST /jwks", "PUT /providers", "DELETE /augmenters", "POST /metrics"]
--- error_code: 405
--- response_headers
Allow: GET, HEAD

=== LISTINGS 9: restricted with allow/deny, as docs/nginx-features.md advises: 403 for other addresses
--- yaml eval
$main::PROVIDERS
--- config
location = /providers  { allow 10.0.0.0/8; deny all; authotron_providers; }
location = /augmenters { allow 127.0.0.1; deny all; authotron_augmenters; }
--- request eval
["GET /providers", "GET /augmenters"]
--- error_code eval
[403, 200]

=== LISTINGS 10: internal: only an internal redirect (or a subrequest) reaches it
--- yaml eval
$main::PROVIDERS
--- config
location = /providers { internal; authotron_providers; }
location = /via { rewrite ^ /providers last; }
--- request eval
["GET /providers", "GET /via"]
--- error_code eval
[404, 200]

=== LISTINGS 11: authotron_providers without authotron_config: nginx -t fails
--- config
location = /providers { authotron_providers; }
--- must_die
--- error_log
"authotron_config" is not set

=== LISTINGS 12: authotron_augmenters without authotron_config: nginx -t fails
--- config
location = /augmenters { authotron_augmenters; }
--- must_die
--- error_log
"authotron_config" is not set

=== LISTINGS 13: authotron_jwks without authotron_config: nginx -t fails
--- config
location = /jwks { authotron_jwks; }
--- must_die
--- error_log
"authotron_config" is not set

=== LISTINGS 14: one document per location; a second directive is refused
--- yaml eval
$main::PROVIDERS
--- config
location = /providers { authotron_providers; authotron_augmenters; }
--- must_die
--- error_log
"authotron_augmenters" directive is duplicate

=== LISTINGS 14b: one content handler per location, whichever kinds they are
--- yaml eval
$main::PROVIDERS
--- config
location = /who { authotron_providers; authotron_whoami; }
--- must_die
--- error_log
"authotron_whoami" directive is duplicate

=== LISTINGS 15: or behind authentication: authotron on with a required role
--- yaml eval
$main::PROVIDERS
--- config
location = /providers { authotron on; authotron_require_role ops; authotron_providers; }
--- request eval
["GET /providers",
 "GET /providers\nAuthorization: Basic %%BASE64(bob:listing-pw-2)%%",
 "GET /providers\nAuthorization: Basic %%BASE64(alice:listing-pw-1)%%"]
--- error_code eval
[401, 403, 200]
--- response_body_like eval
['', '', '"name":"partners"']
