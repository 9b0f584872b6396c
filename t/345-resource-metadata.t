# RFC 9728 protected resource metadata: `authotron_resource_metadata` serves the document built
# from the YAML's `resource_metadata` section and the JWT providers' issuers, without
# authentication, GET and HEAD only; with the section, every Bearer challenge, and the 403 for
# a missing scope, names the document's URL in `resource_metadata="…"`. Without it, challenges
# are upstream's, byte for byte, and nginx -t refuses the directive at its line.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

defaults(config => <<'CONF');
location = /.well-known/oauth-protected-resource { authotron_resource_metadata; }
location /api/ { authotron on; proxy_pass http://echo; }
location /staff/ { authotron on; authotron_realm staff; proxy_pass http://echo; }
CONF

# A Basic realm and JWT providers; nothing is authenticated here, so no provider is called.
our $PROVIDERS = <<'YAML';
providers:
  - type: plain
    name: local
    realm: staff
    users: [ { username: alice, password: prm-pw-1 } ]
  - type: jwt
    name: sso
    realm: sso
    cert_uri: "%%DEAD%%/certs"
    iam_realm: ecmwf
    iss: "https://idp.example.com/realms/ecmwf"
  - type: openid-offline
    name: offline
    realm: sso
    cert_uri: "%%DEAD%%/certs"
    public_client_id: pub
    private_client_id: priv
    private_client_secret: prm-client-secret
    iam_url: "%%DEAD%%"
    iss: "https://keycloak.example.com/realms/other"
YAML

our $SECTION = <<'YAML';
resource_metadata:
  resource: "https://api.example.com"
  scopes_supported: [data.read, data.write]
  resource_name: Example data API
  resource_documentation: "https://docs.example.com/api"
YAML

run_tests();

__DATA__

=== PRM 1: the document's fields come from the config: resource, issuers, scopes, name, documentation
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request: GET /.well-known/oauth-protected-resource
--- response_headers
Content-Type: application/json
Cache-Control: max-age=300
!WWW-Authenticate
--- response_json
{"resource": "https://api.example.com",
 "authorization_servers": ["https://idp.example.com/realms/ecmwf", "https://keycloak.example.com/realms/other"],
 "scopes_supported": ["data.read", "data.write"],
 "bearer_methods_supported": ["header"],
 "resource_name": "Example data API",
 "resource_documentation": "https://docs.example.com/api"}

=== PRM 2: without scopes_supported, the scopes the services name; optional fields left out
--- yaml eval
qq{version: "2.0.0"
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
services:
  - { name: catalogue, scopes: [read, write] }
  - { name: archive, scopes: [write] }
} . $main::PROVIDERS . qq{resource_metadata: { resource: "https://api.example.com" }\n}
--- request: GET /.well-known/oauth-protected-resource
--- response_json
{"resource": "https://api.example.com",
 "authorization_servers": ["https://idp.example.com/realms/ecmwf", "https://keycloak.example.com/realms/other"],
 "scopes_supported": ["read", "write"],
 "bearer_methods_supported": ["header"]}

=== PRM 3: no credentials are needed or read: a bogus Authorization header changes nothing
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request: GET /.well-known/oauth-protected-resource
--- more_headers
Authorization: Bearer prm-bogus-token
--- response_body_like: "resource":"https://api.example.com"
--- no_error_log eval
[qr/\*\d+ authotron:/]

=== PRM 4: HEAD answers like GET, without a body
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request: HEAD /.well-known/oauth-protected-resource
--- response_headers
Content-Type: application/json
Cache-Control: max-age=300
--- response_body:

=== PRM 5: other methods are refused with 405, naming the allowed ones
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request eval
["POST /.well-known/oauth-protected-resource", "PUT /.well-known/oauth-protected-resource",
 "DELETE /.well-known/oauth-protected-resource"]
--- error_code: 405
--- response_headers
Allow: GET, HEAD

=== PRM 6: a 401 names the document in each Bearer challenge, not in the Basic one
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request eval
["GET /api/x", "GET /api/x\nAuthorization: Basic %%BASE64(alice:wrong)%%"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="staff", Bearer realm="sso", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"

=== PRM 7: a resource with a path: the well-known path goes before it (RFC 9728 §3.1)
--- yaml eval
$main::PROVIDERS . qq{resource_metadata: { resource: "https://api.example.com/v1" }\n}
--- config
location = /.well-known/oauth-protected-resource/v1 { authotron_resource_metadata; }
location /api/ { authotron on; proxy_pass http://echo; }
--- request eval
["GET /.well-known/oauth-protected-resource/v1", "GET /api/x"]
--- error_code eval
[200, 401]
--- response_body_like eval
['"resource":"https://api.example.com/v1"', '']
--- response_headers eval
["!WWW-Authenticate", 'WWW-Authenticate: Basic realm="staff", Bearer realm="sso", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/v1"']

=== PRM 8: a location pinned to a Basic realm challenges as before, section or not
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- request: GET /staff/x
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="staff"

=== PRM 9: without the section, challenges are upstream's, byte for byte
--- yaml eval
$main::PROVIDERS
--- config
location /api/ { authotron on; proxy_pass http://echo; }
--- request eval
["GET /api/x", "GET /api/x\nAuthorization: Basic %%BASE64(alice:wrong)%%"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="staff", Bearer realm="sso"

=== PRM 10: without the section, nginx -t refuses the directive and names its line
--- yaml eval
$main::PROVIDERS
--- must_die
--- error_log eval
['"authotron_resource_metadata" needs a `resource_metadata` section with `resource` in the authotron_config file in',
 'nginx.conf:%%LINE:authotron_resource_metadata%%']

=== PRM 11: without authotron_config, nginx -t refuses the directive
--- config
location = /.well-known/oauth-protected-resource { authotron_resource_metadata; }
--- must_die
--- error_log
"authotron_config" is not set

=== PRM 12: a resource that is not an https URL is refused with the YAML's file and line
--- yaml eval
$main::PROVIDERS . qq{resource_metadata:\n  resource: "http://api.example.com"\n}
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:resource: "http:%%:', 'resource must be an https URL']

=== PRM 13: one document per location; a second directive is refused
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- config
location = /.well-known/oauth-protected-resource { authotron_resource_metadata; authotron_jwks; }
--- must_die
--- error_log
is duplicate

=== PRM 14: a 403 for a missing scope names the document too, where the client learns how to get it
--- yaml eval
$main::PROVIDERS . $main::SECTION
--- config
location /data/ { authotron on; authotron_require_scope data.read; proxy_pass http://echo; }
--- request
GET /data/x
Authorization: Basic %%BASE64(alice:prm-pw-1)%%
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="data.read", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"
