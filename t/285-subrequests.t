# Subrequests: `auth_request` to a location with `authotron on` or `authotron_authenticate`,
# and an SSI include of a protected location. NGINX skips the access phase in subrequests, so
# the module checks them at the start of their rewrite phase, before `return` can answer them.
# The wiring Auth-O-Tron users have today, `auth_request` to `/authenticate`, keeps working with
# `authotron_authenticate;` in place of `proxy_pass`; the token reaches the parent request
# through `$sent_http_authorization` or `$authotron_jwt`.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron qw(:DEFAULT scaled);
use Test::Authotron::IdP ();
use Test::Authotron::Tokens;

my $idp = idp();

our %T = map { ($_ => unique("key-$_")) } qw(slow);
$idp->register(whoami => $T{slow}, { uid => 'slowpoke', email => 'slowpoke@ecmwf.int' });

# A page that includes a protected location and an open one: the subrequest's rewritten
# headers must stay its own, the parent and its other subrequests keep theirs.
my $files = sub {
    my (undef, $run) = @_;
    mkdir "$run->{prefix}/html";
    open my $fh, '>', "$run->{prefix}/html/page.html" or die $!;
    print $fh qq{<!--# include virtual="/protected/x" -->\n--\n<!--# include virtual="/open/x" -->\n};
    close $fh;
};

# Every block's configuration uses auth_request, which NGINX builds only when configured with it.
defaults(nginx_needs => '--with-http_auth_request_module', before_start => $files,
    yaml => Test::Authotron::IdP::users_beside_api_keys(), config => <<'CONF');
root %%PREFIX%%/html;

# `authotron on` in the auth_request target, answered by `return`.
location /app/ {
    auth_request /_auth;
    auth_request_set $jwt $authotron_jwt;
    proxy_set_header Authorization "Bearer $jwt";
    proxy_pass http://echo;
}
location = /_auth { internal; authotron on; return 204; }

location /admin/ { auth_request /_auth_admin; proxy_pass http://echo; }
location = /_auth_admin { internal; authotron on; authotron_require_role admin; return 204; }

# Today's Auth-O-Tron wiring, its proxy_pass replaced by the endpoint.
location /api/ {
    auth_request /_authenticate;
    auth_request_set $jwt $sent_http_authorization;
    proxy_set_header Authorization $jwt;
    proxy_pass http://echo;
}
location = /_authenticate { internal; authotron_authenticate; }
location /legacy/ {
    auth_request /_authenticate_legacy;
    auth_request_set $user $sent_http_x_auth_username;
    auth_request_set $roles $sent_http_x_auth_roles;
    proxy_set_header X-Auth-Username $user;
    proxy_set_header X-Auth-Roles $roles;
    proxy_pass http://echo;
}
location = /_authenticate_legacy { internal; authotron_legacy_headers on; authotron_authenticate; }

# A rollout: the module in the location and the old auth_request wiring beside it.
location /both/ {
    authotron on;
    auth_request /_authenticate;
    auth_request_set $jwt $sent_http_authorization;
    proxy_pass http://echo;
}

# Server-side includes: a protected location and an open one, from an open page.
location = /page.html { ssi on; }
location /protected/ { authotron on; proxy_pass http://echo; }
location /open/ { proxy_pass http://echo; }
CONF

run_tests();

__DATA__

=== TEST 1: auth_request to `authotron on; return 204`: an anonymous request is refused
--- request: GET /app/x
--- error_code: 401
--- response_headers_like
WWW-Authenticate: ^Basic realm=
--- response_body_unlike: GET /app

=== TEST 2: auth_request to `authotron on; return 204`: a wrong password is refused
--- request: GET /app/x
--- more_headers
Authorization: Basic %%BASE64(ann:wrong)%%
--- error_code: 401
--- response_headers_like
WWW-Authenticate: ^Basic realm=

=== TEST 3: auth_request to `authotron on; return 204`: a valid user passes, $authotron_jwt carries the token
--- request: GET /app/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann", "realm": "ecmwf"}

=== TEST 4: auth_request to `authotron on` with a required role: 403 for a user without it
--- request eval
["GET /admin/x\nAuthorization: Basic %%BASE64(ann:pw)%%", "GET /admin/x\nAuthorization: Basic %%BASE64(root:pw)%%"]
--- error_code eval
[403, 200]

=== TEST 5: auth_request to `authotron_authenticate`: the token reaches the parent through $sent_http_authorization
--- request: GET /api/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann", "realm": "ecmwf"}

=== TEST 6: auth_request to `authotron_authenticate`: 401 and its challenge reach the client
--- request eval
["GET /api/x", "GET /api/x\nAuthorization: Basic %%BASE64(ann:wrong)%%"]
--- error_code eval
[401, 401]
--- response_headers_like
WWW-Authenticate: ^Basic realm=
--- response_body_unlike: GET /api

=== TEST 7: the legacy headers of `authotron_authenticate` reach the parent through $sent_http_x_auth_*
--- request: GET /legacy/x
--- more_headers
Authorization: Basic %%BASE64(root:pw)%%
X-Auth-Roles: forged
--- upstream_headers
X-Auth-Username: root
X-Auth-Roles: admin

=== TEST 8: auth_request waits for a validation that leaves the event loop (a slow identity service)
--- mock eval
sub { my ($idp) = @_; $idp->delay(whoami => 500) }
--- request eval
["GET /api/x\nAuthorization: Bearer %%T(slow)%%", "GET /app/x\nAuthorization: Bearer %%T(slow)%%"]
--- upstream_jwt eval
['{"username": "slowpoke"}', '{"username": "slowpoke"}']
--- mock_calls: {"whoami": 1}

=== TEST 9: an identity service that cannot answer: auth_request turns the module's 503 into 500
--- mock eval
sub { my ($idp) = @_; $idp->fault(whoami => 'status', status => 502) }
--- request eval
["GET /api/x\nAuthorization: Bearer %%T(slow)%%", "GET /app/x\nAuthorization: Bearer %%T(slow)%%"]
--- error_code eval
[500, 500]
--- error_log
auth request unexpected status: 503

=== TEST 10: a client that hangs up while auth_request waits for the identity service
--- mock eval
# scaled like abort_after, so that the clients still wait when they hang up, under valgrind too
sub { my ($idp) = @_; $idp->delay(whoami => scaled(1.5) * 1000) }
--- abort_requests eval
["GET /api/x\nAuthorization: Bearer %%T(slow)%%", "GET /app/x\nAuthorization: Bearer %%T(slow)%%"]
--- abort_after: 0.2
--- settle: 3
--- request: GET /api/after
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann"}

=== TEST 11: authotron on and auth_request together: the subrequest acts for the same caller, nothing is validated twice
--- request: GET /both/x
--- more_headers
Authorization: Bearer %%T(slow)%%
--- upstream_jwt
{"username": "slowpoke"}
--- mock_calls: {"whoami": 1}

=== TEST 12: SSI: an anonymous include of a protected location gets the refusal, the page is served
--- request: GET /page.html
--- response_body_like: 401 Authorization Required
--- response_body_unlike: GET /protected

=== TEST 13: SSI: an included protected location gets the token, the other include the client's headers
--- request: GET /page.html
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
X-Auth-Roles: forged
--- response_body_like eval
qr{\AGET /protected/x .*?\nauthorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n(?:(?!x-auth-roles).)*?--\nGET /open/x .*?\nx-auth-roles: forged\n}si
