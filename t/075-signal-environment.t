# `nginx -s reload|quit` parses nginx.conf only to find the running master's pid file, from an
# operator's shell that usually lacks the AOT_* variables the master was started with. The
# signalling process must not load the YAML, or it fails on the missing secret and the signal is
# never sent. Here jwt.secret exists only in the master's environment (master_env): the suite's
# own environment, which `nginx -s` runs with, has no AOT_* variable.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Authotron;

BAIL_OUT('AOT_* variables in the suite environment would hide the case under test')
  if grep { /^AOT_/ } keys %ENV;

our $secret = $Test::Authotron::JWT{secret};

run_tests();

__DATA__

=== TEST 1: -s reload and -s quit from an environment without the secret
--- yaml
version: "2.0.0"
store: { enabled: false }
jwt:
  iss: authotron-test
  exp: 600
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
--- master_env eval
"AOT_JWT__SECRET=$main::secret"
--- config
location /api/ { authotron on; proxy_pass http://echo; }
--- after_start eval
sub {
    my ($idp, $run) = @_;
    # Dies (a harness error, so a failure) when `nginx -s reload` fails or no new worker starts.
    $run->reload;
}
--- request
GET /api/x
Authorization: Basic %%BASE64(adam:admin)%%
--- upstream_jwt: {"username": "adam", "realm": "ecmwf"}
--- no_error_log
missing field

=== TEST 2: nginx -t still loads the YAML, and fails without the secret
--- yaml
version: "2.0.0"
store: { enabled: false }
jwt:
  iss: authotron-test
  exp: 600
providers:
  - { type: plain, name: local, realm: ecmwf, users: [{ username: adam, password: admin }] }
--- master_env eval
"AOT_JWT__SECRET=$main::secret"
--- config
location /api/ { authotron on; proxy_pass http://echo; }
--- must_die
--- error_log
missing field `secret`
