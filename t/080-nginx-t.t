# Configuration mistakes are caught by nginx -t, with the file and line to fix: YAML errors
# name authotron.yaml and its line, directive errors name nginx.conf and its line.
# %%LINE:text%% and %%YAML_LINE:text%% stand for the line of the generated file holding text.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron;

# A valid provider list for the blocks whose mistake is elsewhere.
our $PROVIDERS = <<'YAML';
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
YAML

# A whole file (the common header disables the store) with a SQLite store at $path.
sub with_store {
    my ($path) = @_;
    return <<"YAML" . $PROVIDERS;
version: "2.0.0"
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
store:
  enabled: true
  type: sqlite
  path: $path
YAML
}

run_tests();

__DATA__

=== TEST 1: the valid baseline passes without warnings
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; authotron_realm ecmwf; authotron_require_role user; proxy_pass http://echo; }
--- config_ok
--- error_log
test is successful
--- no_error_log
[warn]

=== TEST 2: a schema 1.0.0 file (bind_address instead of server) is accepted
--- yaml
version: "1.0.0"
bind_address: "127.0.0.1:8080"
logging: { level: info, format: console }
store: { enabled: false }
services: []
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
providers:
  - { type: plain, name: local, realm: ecmwf, users: [ { username: adam, password: admin } ] }
--- config
location / { authotron on; proxy_pass http://echo; }
--- config_ok
--- error_log
test is successful

=== TEST 3: a missing YAML file
--- http_config
authotron_config missing.yaml;
--- must_die
--- error_log
missing.yaml
nginx.conf:%%LINE:missing.yaml%%

=== TEST 4: a YAML syntax error names the YAML line
--- yaml
providers:
  - type: plain
    name: local
    realm: ecmwf: oops
    users: []
--- must_die
--- error_log
authotron.yaml:%%YAML_LINE:ecmwf: oops%%

=== TEST 5: the jwt section is required
--- yaml
version: "2.0.0"
server: { host: 127.0.0.1, port: 8080 }
logging: { level: info, format: console }
store: { enabled: false }
services: []
providers: []
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+/, 'jwt']

=== TEST 6: a user needs a password or a password_hash
--- yaml
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin }
      - { username: nopass, roles: [user] }
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:username: nopass%%', qr/password/]

=== TEST 7: an LDAP DN filter without key=value is refused at its line (upstream: every lookup fails)
--- yaml eval
$main::PROVIDERS . <<'YAML'
augmenters:
  - type: ldap
    name: directory
    realm: ecmwf
    uri: ldap://127.0.0.1:1
    search_base: dc=example
    bind_dn: cn=reader,dc=example
    ldap_password: pw
    filters:
      - OU=TeamA
      - TeamB
YAML
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:- TeamB%%:', 'augmenters[0].filters[1]', '`key=value`']

=== TEST 8: authotron takes on, off or shadow
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron maybe; }
--- must_die
--- error_log
nginx.conf:%%LINE:authotron maybe%%

=== TEST 9: authotron_config belongs in http{}, not in a location
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron_config authotron.yaml; }
--- must_die
--- error_log
"authotron_config" directive is not allowed here
nginx.conf:%%LINE:location / { authotron_config%%

=== TEST 10: authotron_config twice
--- yaml eval
$main::PROVIDERS
--- http_config
authotron_config ./authotron.yaml;
--- must_die
--- error_log
nginx.conf:%%LINE:./authotron.yaml%%

=== TEST 11: authotron on without authotron_config
--- config
location / { authotron on; }
--- must_die
--- error_log
authotron_config
nginx.conf:%%LINE:authotron on%%

=== TEST 12: authotron_realm naming a realm no provider has
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; authotron_realm nowhere; }
--- must_die
--- error_log
nowhere
nginx.conf:%%LINE:authotron_realm nowhere%%

=== TEST 13: authotron_header must be a valid header name
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; authotron_header "bad header"; }
--- must_die
--- error_log
nginx.conf:%%LINE:bad header%%

=== TEST 14: authotron_require_role needs at least one role
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; authotron_require_role; }
--- must_die
--- error_log
"authotron_require_role"
nginx.conf:%%LINE:authotron_require_role;%%

=== TEST 15: authotron_legacy_headers takes on or off
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; authotron_legacy_headers sometimes; }
--- must_die
--- error_log
nginx.conf:%%LINE:authotron_legacy_headers sometimes%%

=== TEST 16: an unsupported schema version
--- yaml
version: "3.0.0"
jwt: { iss: authotron-test, exp: 600, secret: "t3st-s3cret-for-the-integration-suite-only" }
providers: []
--- must_die
--- error_log eval
[qr/authotron\.yaml:\d+/, qr/version/]

=== TEST 17: unknown YAML keys only warn, naming the key
--- yaml
favourite_colour: blue
providers:
  - type: plain
    name: local
    realm: ecmwf
    shoe_size: 42
    users:
      - { username: adam, password: admin }
--- config
location / { authotron on; proxy_pass http://echo; }
--- config_ok
--- error_log
[warn]
favourite_colour
shoe_size
authotron.yaml
test is successful

=== TEST 18: an identity-service URL that cannot work is refused at its line in the YAML
--- yaml
providers:
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: identity.invalid/v1
--- must_die
--- error_log eval
['authotron.yaml:%%YAML_LINE:identity.invalid%%', qr/providers\[0\]\.uri: is not a usable URL/]

=== TEST 19: an endpoint beside proxy_pass would leave the location open: refused
--- yaml eval
$main::PROVIDERS
--- config
location /login {
    authotron_authenticate;
    proxy_pass http://echo;
}
--- must_die
--- error_log
cannot share a location with another content handler
nginx.conf:%%LINE:authotron_authenticate;%%

=== TEST 20: the same with proxy_pass first
--- yaml eval
$main::PROVIDERS
--- config
location /login {
    proxy_pass http://echo;
    authotron_whoami;
}
--- must_die
--- error_log
cannot share a location with another content handler
nginx.conf:%%LINE:authotron_whoami;%%

=== TEST 21: a document beside fastcgi_pass is refused too
--- yaml eval
$main::PROVIDERS
--- config
location /metrics {
    authotron_metrics;
    fastcgi_pass 127.0.0.1:9;
}
--- must_die
--- error_log
cannot share a location with another content handler
nginx.conf:%%LINE:authotron_metrics;%%

=== TEST 22: authotron on beside proxy_pass, and an endpoint in a location of its own, are fine
--- yaml eval
$main::PROVIDERS
--- config
location / { authotron on; proxy_pass http://echo; }
location = /authenticate { authotron_authenticate; }
location = /_auth { internal; authotron_authenticate; }
--- config_ok
--- error_log
test is successful

=== TEST 23: a misspelt key that leaves a user without a password is named, with the key it stands for
--- yaml
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin }
      - { username: eve, pasword: ev3-s3cret-pw }
--- config
location / { authotron on; proxy_pass http://echo; }
--- must_die
--- error_log
authotron.yaml:%%YAML_LINE:pasword%%
providers[0].users[1].pasword
unknown key `pasword`; did you mean `password`?
--- secret: ev3-s3cret-pw

=== TEST 24: an unknown key is a warning with a suggestion
--- yaml
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin, rolse: [user] }
--- config
location / { authotron on; proxy_pass http://echo; }
--- config_ok
--- error_log
[warn]
authotron.yaml:%%YAML_LINE:rolse%%
unknown key `providers[0].users[0].rolse` (ignored); did you mean `roles`?

=== TEST 25: an augmenter of no provider's realm and a repeated provider name are warnings at their line
--- yaml
providers:
  - { type: plain, name: local, realm: ecmwf, users: [ { username: adam, password: admin } ] }
  - { type: plain, name: local, realm: other, users: [ { username: eve, password: apple } ] }
augmenters:
  - type: plain_advanced
    name: boost
    realm: Ecmwf
    match: { username: [adam] }
    augment: { roles: [x] }
--- config
location / { authotron on; proxy_pass http://echo; }
--- config_ok
--- error_log
test is successful
authotron.yaml:%%YAML_LINE:realm: other%%
`providers[1].name` repeats the name of `providers[0]`
authotron.yaml:%%YAML_LINE:realm: Ecmwf%%
`augmenters[0].realm` matches the realm of no provider

=== TEST 26: a SQLite store in a directory that does not exist: the YAML line names it
--- yaml eval
main::with_store('%%PREFIX%%/missing/tokens.db')
--- config
location / { authotron on; proxy_pass http://echo; }
--- must_die
--- error_log
authotron.yaml:%%YAML_LINE:missing/tokens.db%%
store.path
missing" does not exist

=== TEST 27: a SQLite store in a directory the worker user cannot write (root's, mode 0755)
--- yaml eval
main::with_store('%%PREFIX%%/tokens.db')
--- config
location / { authotron on; proxy_pass http://echo; }
--- before_start eval
sub { my ($idp, $run) = @_; chown 0, 0, $run->{prefix}; chmod 0755, $run->{prefix} }
--- must_die
--- error_log
authotron.yaml:%%YAML_LINE:tokens.db%%
store.path
the NGINX worker user "nobody"
NGINX's default, as no `user` directive comes before http{}
cannot write in the directory

=== TEST 28: the same directory with `user root;` (before http{}): the workers can write there
--- yaml eval
main::with_store('%%PREFIX%%/tokens.db')
--- main_config
user root;
--- config
location / { authotron on; proxy_pass http://echo; }
--- before_start eval
sub { my ($idp, $run) = @_; chown 0, 0, $run->{prefix}; chmod 0755, $run->{prefix} }
--- config_ok
--- error_log
test is successful
