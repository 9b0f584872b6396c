# Identity services over HTTPS. The mock serves a certificate for 127.0.0.1 signed by a CA made
# at test time with the openssl CLI (Test::Authotron::IdP::make_pki): the module trusts it only
# through `http.ca_file` (NGINX clears worker environments, so SSL_CERT_FILE cannot help).
# Without it, with another CA, or with a certificate for another name, the service cannot be
# reached: 503.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::Tokens;

my $idp = idp(https => 1);

our %T = (jwt => jwt(claims => { preferred_username => 'tls-jwt-user' }),
    map { ($_ => unique("tls-$_")) } qw(key offline));
$idp->register(whoami => $T{key}, { uid => 'tls-user' });
$idp->keycloak_offline($T{offline}, access_token => jwt(claims => { preferred_username => 'tls-offline-user' }));

sub yaml {
    my ($http, $uri) = @_;
    return <<"YAML";
auth: { timeout_in_ms: 3000 }
$http
providers:
  - { type: ecmwf-api, name: ecmwf, realm: ecmwf, uri: "$uri/v1" }
YAML
}

defaults(config => <<'CONF');
location /api/ { authotron on; proxy_pass http://echo; }
CONF

run_tests();

__DATA__

=== TEST 1: HTTPS with the CA in http.ca_file works
--- yaml eval
main::yaml('http: { ca_file: "%%CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }', '%%IDPS%%')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- upstream_jwt: {"username": "tls-user", "realm": "ecmwf"}
--- mock_calls: {"whoami": 1}

=== TEST 2: HTTPS without http.ca_file: the certificate is not trusted, 503
--- yaml eval
main::yaml('http: { connect_timeout_ms: 1000, timeout_ms: 2000 }', '%%IDPS%%')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- error_code: 503
--- response_headers
Retry-After: 5
--- mock_calls: {"whoami": 0}
--- error_log
invalid peer certificate: UnknownIssuer

=== TEST 3: HTTPS with an unrelated CA in http.ca_file: 503
--- yaml eval
main::yaml('http: { ca_file: "%%ROGUE_CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }', '%%IDPS%%')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- error_code: 503
--- mock_calls: {"whoami": 0}
--- error_log
invalid peer certificate: UnknownIssuer

=== TEST 4: HTTPS whose certificate names another host (right CA): 503
--- yaml eval
main::yaml('http: { ca_file: "%%CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }', '%%IDPS_WRONG_NAME%%')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- error_code: 503
--- mock_calls: {"whoami": 0}
--- error_log
invalid peer certificate: certificate not valid for name

=== TEST 4b: an https:// URL whose port speaks plain HTTP (the mock never answers the handshake): 503, the warning says it timed out
--- yaml eval
main::yaml('http: { ca_file: "%%CA_FILE%%", connect_timeout_ms: 1000, timeout_ms: 2000 }', Test::Authotron::idp()->url =~ s/^http:/https:/r)
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- error_code: 503
--- error_log
error sending request: client error (Connect): operation timed out

=== TEST 5: plain HTTP services keep working when http.ca_file is set
--- yaml eval
main::yaml('http: { ca_file: "%%CA_FILE%%" }', '%%IDP%%')
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(key)%%
--- upstream_jwt: {"username": "tls-user"}

=== TEST 6: a JWKS over HTTPS with http.ca_file
--- yaml
auth: { timeout_in_ms: 3000 }
http: { ca_file: "%%CA_FILE%%" }
providers:
  - { type: jwt, name: kc, realm: kc, cert_uri: "%%IDPS%%/jwks", iam_realm: kc }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(jwt)%%
--- upstream_jwt: {"username": "tls-jwt-user", "realm": "kc"}

=== TEST 7: a JWKS over HTTPS without http.ca_file: no key set, 503
--- yaml
auth: { timeout_in_ms: 3000 }
providers:
  - { type: jwt, name: kc, realm: kc, cert_uri: "%%IDPS%%/jwks", iam_realm: kc }
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(jwt)%%
--- error_code: 503
--- mock_calls: {"jwks": 0}

=== TEST 8: Keycloak (introspection, exchange and certs) over HTTPS
--- yaml
auth: { timeout_in_ms: 3000 }
http: { ca_file: "%%CA_FILE%%" }
providers:
  - type: openid-offline
    name: offline
    realm: ecmwf
    cert_uri: "%%IDPS%%/realms/ecmwf/protocol/openid-connect/certs"
    public_client_id: authotron-public
    private_client_id: authotron-private
    private_client_secret: private-s3cret
    iam_url: "%%IDPS%%"
--- request: GET /api/x
--- more_headers
Authorization: Bearer %%T(offline)%%
--- upstream_jwt: {"username": "tls-offline-user"}
--- mock_calls: {"introspect": 1, "token": 1}

=== TEST 9: a missing http.ca_file fails nginx -t, naming it
--- yaml eval
main::yaml('http: { ca_file: "%%PREFIX%%/no-such-ca.pem" }', '%%IDPS%%')
--- must_die
--- error_log
no-such-ca.pem

=== TEST 10: an http.ca_file without any PEM certificate fails nginx -t
--- yaml eval
main::yaml('http: { ca_file: "%%PREFIX%%/nginx.conf" }', '%%IDPS%%')
--- must_die
--- error_log
ca_file
