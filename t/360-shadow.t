# `authotron shadow` and the decision variables. A shadow location decides every request as
# `authotron on` would, records the decision (metrics, `$authotron_decision`,
# `$authotron_reason`, `$authotron_cache`), and lets the request through untouched: no 401, 403
# or 503, and the upstream sees exactly what the client sent. The variables work in
# `log_format` for every decision, refusals included, in shadow and `on` locations alike.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;

defaults(yaml => <<'YAML', http_config => <<'HTTP', config => <<'CONF');
auth: { timeout_in_ms: 2000 }
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: ann, password: pw, roles: [user] }
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "%%DEAD%%" }
YAML
log_format audit '$uri $status decision=$authotron_decision reason=$authotron_reason cache=$authotron_cache user=$authotron_user';
HTTP
access_log access.log audit;
root %%PREFIX%%;
location /shadow/ { authotron shadow; proxy_pass http://echo; }
location /shadow-admin/ {
    authotron shadow;
    authotron_require_role admin;
    proxy_pass http://echo;
}
location /on/ { authotron on; proxy_pass http://echo; }
location /on-admin/ {
    authotron on;
    authotron_require_role admin;
    proxy_pass http://echo;
}
location /open/ { proxy_pass http://echo; }
location = /metrics { authotron_metrics; }

# Internal redirects between shadow and `on` locations.
location /shadow-then-on/ { authotron shadow; try_files /none @on; }
location @on { authotron on; proxy_pass http://echo; }
location /on-then-shadow/ { authotron on; error_page 401 = @shadow; proxy_pass http://echo; }
location @shadow { authotron shadow; proxy_pass http://echo; }

# `satisfy any`: a shadow location grants nothing, the other access modules decide.
location /shadow-any/ { satisfy any; deny all; authotron shadow; proxy_pass http://echo; }
location /on-any/ { satisfy any; deny all; authotron on; proxy_pass http://echo; }
CONF

run_tests();

__DATA__

=== TEST 1: shadow: an anonymous request reaches the backend with its own headers, counted as unauthorized
--- request eval
["GET /shadow/x\nX-Auth-Username: admin\nX-Auth-Roles: admin", "GET /metrics"]
--- error_code eval
[200, 200]
--- response_headers eval
["!WWW-Authenticate", undef]
--- upstream_headers eval
["!Authorization\nX-Auth-Username: admin\nX-Auth-Roles: admin", undef]
--- response_body_like eval
[undef, 'authotron_shadow_decisions_total\{result="unauthorized"\} 1\n(.*\n)*authotron_shadow_decisions_total\{result="limited"\} 0\n']
--- access_log_like
^/shadow/x 200 decision=unauthorized reason=no_credentials cache=miss user=-$

=== TEST 2: shadow: a wrong password passes too, untouched, and is counted
--- request eval
["GET /shadow/x\nAuthorization: Basic %%BASE64(ann:wrong)%%", "GET /metrics"]
--- error_code eval
[200, 200]
--- upstream_headers eval
["Authorization: Basic %%BASE64(ann:wrong)%%", undef]
--- response_body_like eval
[undef, 'authotron_shadow_decisions_total\{result="allowed"\} 0\nauthotron_shadow_decisions_total\{result="unauthorized"\} 1\n']
--- access_log_like
^/shadow/x 200 decision=unauthorized reason=credentials_rejected cache=miss user=-$

=== TEST 3: shadow: a good credential sets $authotron_user, but the upstream headers are not rewritten
--- request eval
["GET /shadow/x\nAuthorization: Basic %%BASE64(ann:pw)%%\nX-Auth-Username: admin",
 "GET /shadow/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /shadow-admin/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /shadow/x\nAuthorization: Bearer key-down-abcdef",
 "GET /metrics"]
--- error_code eval
[200, 200, 200, 200, 200]
--- upstream_headers eval
["Authorization: Basic %%BASE64(ann:pw)%%\nX-Auth-Username: admin",
 "Authorization: Basic %%BASE64(ann:pw)%%",
 "Authorization: Basic %%BASE64(ann:pw)%%",
 "Authorization: Bearer key-down-abcdef\n!Retry-After",
 undef]
--- response_body_like eval
[undef, undef, undef, undef,
 'authotron_unavailable_total 0\n(.*\n)*authotron_shadow_decisions_total\{result="allowed"\} 2\nauthotron_shadow_decisions_total\{result="unauthorized"\} 0\nauthotron_shadow_decisions_total\{result="forbidden"\} 1\nauthotron_shadow_decisions_total\{result="unavailable"\} 1\n']
--- access_log_like
^/shadow/x 200 decision=allowed reason=authenticated cache=miss user=ann
/shadow/x 200 decision=allowed reason=authenticated cache=hit user=ann
/shadow-admin/x 200 decision=forbidden reason=missing_role cache=hit user=-
/shadow/x 200 decision=unavailable reason=providers_unavailable cache=miss user=-
--- error_log
could not decide

=== TEST 4: on: the variables in an access log for each decision, refusals included
--- request eval
["GET /on/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /on/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /on/x",
 "GET /on/x\nAuthorization: Basic",
 "GET /on/x\nAuthorization: Basic %%BASE64(ann:wrong)%%",
 "GET /on/x\nAuthorization: Basic %%BASE64(ann:wrong)%%",
 "GET /on-admin/x\nAuthorization: Basic %%BASE64(ann:pw)%%",
 "GET /on/x\nAuthorization: Bearer key-down-abcdef",
 "GET /open/x",
 "GET /metrics"]
--- error_code eval
[200, 200, 401, 401, 401, 401, 403, 503, 200, 200]
--- response_body_like eval
[undef, undef, undef, undef, undef, undef, undef, undef, undef,
 'authotron_shadow_decisions_total\{result="allowed"\} 0\nauthotron_shadow_decisions_total\{result="unauthorized"\} 0\n']
--- access_log_like
^/on/x 200 decision=allowed reason=authenticated cache=miss user=ann
/on/x 200 decision=allowed reason=authenticated cache=hit user=ann
/on/x 401 decision=unauthorized reason=no_credentials cache=miss user=-
/on/x 401 decision=unauthorized reason=malformed_credentials cache=miss user=-
/on/x 401 decision=unauthorized reason=credentials_rejected cache=miss user=-
/on/x 401 decision=unauthorized reason=credentials_rejected cache=hit user=-
/on-admin/x 403 decision=forbidden reason=missing_role cache=hit user=-
/on/x 503 decision=unavailable reason=providers_unavailable cache=miss user=-
/open/x 200 decision=- reason=- cache=- user=-
--- error_log
could not decide

=== TEST 5: internal redirects: refused in shadow, the `on` location decides afresh; allowed in shadow, it gets the token
--- request eval
["GET /shadow-then-on/x", "GET /shadow-then-on/x\nAuthorization: Basic %%BASE64(ann:pw)%%"]
--- error_code eval
[401, 200]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"ecmwf\", Bearer realm=\"ecmwf\"", undef]
--- upstream_headers eval
[undef, "Authorization: Bearer %%JWT%%"]
--- access_log_like
^/shadow-then-on/x 401 decision=unauthorized reason=no_credentials cache=miss user=-
/shadow-then-on/x 200 decision=allowed reason=authenticated cache=hit user=ann

=== TEST 6: internal redirects: refused by `on`, an error page in a shadow location is served
--- request: GET /on-then-shadow/x
--- upstream_headers
!Authorization
--- access_log_like
^/on-then-shadow/x 200 decision=unauthorized reason=no_credentials cache=miss user=-$

=== TEST 7: satisfy any: shadow grants nothing, so `deny all` decides; `on` grants a valid user
--- request eval
["GET /shadow-any/x\nAuthorization: Basic %%BASE64(ann:pw)%%", "GET /on-any/x\nAuthorization: Basic %%BASE64(ann:pw)%%"]
--- error_code eval
[403, 200]
--- access_log_like
^/shadow-any/x 403 decision=allowed reason=authenticated cache=miss user=ann
/on-any/x 200 decision=allowed reason=authenticated cache=hit user=ann

=== TEST 8: auth_request to a shadow location: the subrequest passes, and is counted
--- nginx_needs: --with-http_auth_request_module
--- config
location /app/ { auth_request /_auth; proxy_pass http://echo; }
location = /_auth { internal; authotron shadow; return 204; }
location = /metrics { authotron_metrics; }
--- request eval
["GET /app/x", "GET /metrics"]
--- error_code eval
[200, 200]
--- upstream_headers eval
["!Authorization", undef]
--- response_body_like eval
[undef, 'authotron_shadow_decisions_total\{result="unauthorized"\} 1\n']

=== TEST 9: authotron takes on, off or shadow
--- config
location / { authotron maybe; }
--- must_die
--- error_log
invalid value "maybe" in "authotron" directive, it must be "on", "off" or "shadow" in %%PREFIX%%/nginx.conf:%%LINE:authotron maybe%%

=== TEST 10: the abuse guard's 429 is `limited`; in a shadow location the request passes and is counted
--- yaml
guard: { enabled: true, max_failures: 1, address: { max_failures: 0 } }
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: ann, password: pw, roles: [user] }
--- request eval
["GET /on/x\nAuthorization: Basic %%BASE64(ann:x)%%",
 "GET /on/x\nAuthorization: Basic %%BASE64(ann:y)%%",
 "GET /shadow/x\nAuthorization: Basic %%BASE64(ann:z)%%",
 "GET /metrics"]
--- error_code eval
[401, 429, 200, 200]
--- response_body_like eval
[undef, undef, undef, 'authotron_shadow_decisions_total\{result="limited"\} 1\n']
--- access_log_like
^/on/x 401 decision=unauthorized reason=credentials_rejected cache=miss user=-
/on/x 429 decision=limited reason=too_many_failures cache=miss user=-
/shadow/x 200 decision=limited reason=too_many_failures cache=miss user=-
