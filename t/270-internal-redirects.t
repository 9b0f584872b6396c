# Internal redirects: `index`, a `try_files` fallback URI, `error_page` to a URI and to a named
# location, and `X-Accel-Redirect` from the backend. NGINX clears every module's per-request
# state on a redirect but keeps the rewritten headers, so a request allowed once must stay
# allowed as the same identity, with the same token, and be checked against the roles of the
# location it lands in, without ever validating the token the module minted itself.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;
use Test::Authotron::IdP ();

my $idp = idp();

# Static files for index and try_files; the prefix is new for every block.
my $files = sub {
    my (undef, $run) = @_;
    mkdir "$run->{prefix}/html";
    mkdir "$run->{prefix}/html/docs";
    for (['index.html', "the index\n"], ['docs/index.html', "the docs index\n"], ['fallback.html', "the fallback\n"]) {
        open my $fh, '>', "$run->{prefix}/html/$_->[0]" or die $!;
        print $fh $_->[1];
        close $fh;
    }
};

defaults(before_start => $files, yaml => Test::Authotron::IdP::users_beside_api_keys(), http_config => <<'HTTP', config => <<'CONF');
server {
    listen unix:%%PREFIX%%/accel.sock;
    location / { add_header X-Accel-Redirect /internal-files/; return 200; }
}
HTTP
root %%PREFIX%%/html;
location / { authotron on; index index.html; }
location = /index.html { authotron on; }
location /docs/ { authotron on; authotron_require_role admin; index index.html; }
location /static/ { authotron on; try_files $uri /fallback.html; }
location = /fallback.html { authotron on; }
location /missing/ { authotron on; try_files $uri =404; error_page 404 = /app/; }
location /app/ { authotron on; proxy_pass http://echo; }
location /named/ { authotron on; try_files $uri @backend; }
location @backend { authotron on; proxy_pass http://echo; }
location /admins/ { authotron on; try_files $uri @admins; }
location @admins { authotron on; authotron_require_role admin; proxy_pass http://echo; }
location /download/ { authotron on; proxy_pass http://unix:%%PREFIX%%/accel.sock:; }
location /internal-files/ { internal; authotron on; proxy_pass http://echo; }
location = /whoami-after-redirect { authotron on; try_files $uri /whoami; }
location = /whoami { authotron_whoami; }
CONF

run_tests();

__DATA__

=== TEST 1: index: GET / is served from index.html for a valid user
--- request: GET /
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- response_body
the index
--- mock_calls: {"whoami": 0}

=== TEST 2: index: an anonymous request is still refused
--- request: GET /
--- error_code: 401

=== TEST 3: try_files falling back to a URI
--- request: GET /static/nothing-here
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- response_body
the fallback
--- mock_calls: {"whoami": 0}

=== TEST 4: error_page 404 to a URI that proxies: the backend gets the same identity
--- request: GET /missing/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
X-Auth-Username: forged
--- upstream_jwt
{"sub": "ecmwf-ann", "username": "ann", "roles": ["user"]}
--- upstream_headers
!X-Auth-Username
--- mock_calls: {"whoami": 0}

=== TEST 5: try_files falling back to a named location
--- request: GET /named/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann", "realm": "ecmwf"}
--- mock_calls: {"whoami": 0}

=== TEST 6: a named location that requires a role the user lacks: 403, not a new validation
--- request: GET /admins/x
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- error_code: 403
--- mock_calls: {"whoami": 0}

=== TEST 7: the same named location lets a user with the role through
--- request: GET /admins/x
--- more_headers
Authorization: Basic %%BASE64(root:pw)%%
--- upstream_jwt
{"username": "root", "roles": ["admin"]}
--- mock_calls: {"whoami": 0}

=== TEST 8: index into a location that requires a role: checked against the identity
--- request eval
["GET /docs/", "GET /docs/"]
--- more_headers eval
["Authorization: Basic %%BASE64(ann:pw)%%", "Authorization: Basic %%BASE64(root:pw)%%"]
--- error_code eval
[403, 200]
--- response_body_like eval
["403 Forbidden", '^the docs index\n\z']
--- mock_calls: {"whoami": 0}

=== TEST 9: X-Accel-Redirect from the backend to an internal location
--- request: GET /download/report
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- upstream_jwt
{"username": "ann"}
--- mock_calls: {"whoami": 0}

=== TEST 10: after a redirect the identity is the one validated first
--- request: GET /whoami-after-redirect
--- more_headers
Authorization: Basic %%BASE64(ann:pw)%%
--- response_json
{"version": 1, "username": "ann", "realm": "ecmwf", "roles": ["user"], "attributes": {}, "scopes": {}}
--- mock_calls: {"whoami": 0}
