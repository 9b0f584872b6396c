# nginx -s quit while validations are in flight. Each waiting request holds a non-cancelable
# timer (the backstop, see t/310-backstop.t), so a gracefully exiting worker stays until their
# validations are done and answers every one of them, then exits, and the master exits 0 (the
# harness checks that, that no alert was logged, and the worker was never respawned). The
# identity service holds the validations in flight: its delay costs NGINX nothing, which keeps
# the file quick under valgrind (scripts/memcheck), where the delay is scaled like the harness's
# waits; the timeouts leave room for it.
use strict;
use warnings;
use lib 't/lib';
use Test::Authotron qw(:DEFAULT scaled);
use Test::Authotron::Tokens;

my $idp = idp();
our %KEY = map { ($_ => unique("quit-$_")) } 1 .. 4;
$idp->register(whoami => $KEY{$_}, { uid => "user$_" }) for keys %KEY;

defaults(
    mock => sub { $_[0]->delay(whoami => scaled(2) * 1000) },
    yaml => <<'YAML', config => <<'CONF');
auth: { timeout_in_ms: 300000 }
http: { timeout_ms: 300000 }
providers:
  - { type: ecmwf-api, name: ecmwf, realm: ecmwf, uri: "%%IDP%%/v1" }
YAML
location /api/ { authotron on; proxy_pass http://echo; }
location = /whoami { authotron_whoami; }
location = /authenticate { authotron_authenticate; }
CONF

run_tests();

__DATA__

=== TEST 1: nginx -s quit with validations in flight in the access phase and on content handlers
--- request eval
["GET /api/1\nAuthorization: Bearer $main::KEY{1}", "GET /api/2\nAuthorization: Bearer $main::KEY{2}",
 "GET /whoami\nAuthorization: Bearer $main::KEY{3}", "GET /authenticate\nAuthorization: Bearer $main::KEY{4}"]
--- parallel
--- quit_after: 0.5
--- upstream_jwt eval
['{"username": "user1"}', '{"username": "user2"}', undef, undef]
--- response_body_like eval
[undef, undef, '"username":"user3"', undef]
--- response_jwt eval
[undef, undef, undef, '{"username": "user4"}']
--- mock_calls
{"whoami": 4}
--- error_log
gracefully shutting down
