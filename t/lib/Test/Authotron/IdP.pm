package Test::Authotron::IdP;

# The suite's handle on scripts/mock-idp: starts it (one per .t file), optionally with HTTPS
# listeners whose certificates come from a CA made at test time with the openssl CLI, and talks
# to its control API. See scripts/mock-idp for the routes and what they check.
#
#   my $idp = Test::Authotron::idp(https => 1);   # through the harness, which resets it per block
#   $idp->register(whoami => 'key-1', { uid => 'jdoe' });
#   $idp->keycloak_offline('offline-1', access_token => $jwt);
#   $idp->delay(whoami => 2000); $idp->fault(whoami => 'status', status => 500);
#   $idp->calls('whoami'); $idp->down; $idp->up;
#
# URLs: url() is plain HTTP; https_url() is served with a certificate for 127.0.0.1 and
# localhost signed by ca_file(); https_url('wrong_name') with one for wrong.example only
# (same CA). rogue_ca_file() is a CA that signed nothing.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;

my $ROOT = abs_path(dirname(__FILE__) . '/../../../..');

sub start {
    my ($class, %opt) = @_;
    my $self = bless { opt => \%opt }, $class;
    my @args = ('--jwks-dir', "$ROOT/t/fixtures/jwks");
    if ($opt{https}) {
        $self->{pki} = make_pki();
        push @args, '--https', "$self->{pki}/server.pem", "$self->{pki}/server.key";
        push @args, '--https', "$self->{pki}/wrong-name.pem", "$self->{pki}/wrong-name.key";
    }
    my $pid = open(my $out, '-|', 'python3', "$ROOT/scripts/mock-idp", @args) or die "cannot start scripts/mock-idp: $!";
    my $line = <$out>;
    die "scripts/mock-idp did not start\n" unless defined $line && $line =~ /^\{/;
    my $ports = decode_json($line);
    @$self{qw(pid out ports)} = ($pid, $out, $ports);
    $self->{http} = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
    return $self;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->stop }

# One provider of every remote type, each in a realm named after it, for the YAML's
# `providers:` list: the mock answers all of them.
sub remote_providers { <<'YAML' }
  - type: jwt
    name: kc
    realm: kc
    cert_uri: %%IDP%%/jwks
    iam_realm: kc
  - type: openid-offline
    name: offline
    realm: offline
    cert_uri: %%IDP%%/realms/offline/protocol/openid-connect/certs
    public_client_id: authotron-public
    private_client_id: authotron-private
    private_client_secret: private-s3cret
    iam_url: %%IDP%%
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: %%IDP%%/v1
  - type: efas-api
    name: efas
    realm: efas
    uri: %%IDP%%/efas
  - type: ecmwf-token-generator
    name: tg
    realm: tg
    cert_uri: %%IDP%%/jwks
    client_id: tokengen-client
    client_secret: tokengen-s3cret
    token_generator_url: %%IDP%%/tg
YAML

# Basic users beside an ECMWF API key provider of the same realm, for requests that move
# (internal redirects, subrequests): the module's own token is a Bearer credential, so if it
# were ever validated again, the mock would be asked about it. The timeouts are the defaults,
# scaled: under valgrind a worker's first call can take seconds.
sub users_beside_api_keys { <<"YAML" }
auth: { timeout_in_ms: ${\ Test::Authotron::scaled(5000)} }
http: { timeout_ms: ${\ Test::Authotron::scaled(4000)} }
providers:
  - type: plain
    name: local
    realm: ecmwf
    users:
      - { username: ann, password: pw, roles: [user] }
      - { username: root, password: pw, roles: [admin] }
  - type: ecmwf-api
    name: api keys
    realm: ecmwf
    uri: "%%IDP%%/v1"
YAML

sub url { "http://127.0.0.1:$_[0]{ports}{http}" }

sub https_url {
    my ($self, $which) = @_;
    die "the mock IdP was started without https => 1\n" unless $self->{pki};
    my $i = ($which // '') eq 'wrong_name' ? 1 : 0;
    return "https://127.0.0.1:$self->{ports}{https}[$i]";
}

sub ca_file { $_[0]{pki} ? "$_[0]{pki}/ca.pem" : die "no https\n" }
sub rogue_ca_file { $_[0]{pki} ? "$_[0]{pki}/rogue-ca.pem" : die "no https\n" }

# --- control API ---------------------------------------------------------------------------------

sub control {
    my ($self, $path, $doc) = @_;
    my $url = "http://127.0.0.1:$self->{ports}{control}/_control/$path";
    my $res = defined $doc
      ? $self->{http}->post($url, { content => encode_json($doc), headers => { 'Content-Type' => 'application/json' } })
      : $self->{http}->get($url);
    die "mock IdP control $path: $res->{status} $res->{content}\n" unless $res->{success};
    return decode_json($res->{content});
}

sub reset {
    my ($self, %opt) = @_;
    $self->control('reset', { tokens => $opt{tokens} ? JSON::PP::true : JSON::PP::false });
}

# register(route, token, json [, status]); a non-ref $json is sent as a raw body.
sub register {
    my ($self, $route, $token, $body, $status) = @_;
    my %doc = (route => $route, token => $token, status => $status // 200);
    if (ref $body) { $doc{json} = $body } else { $doc{body} = $body // '' }
    $self->control('register', \%doc);
}

sub delay { my ($self, $target, $ms) = @_; $self->control('delay', { target => $target, ms => $ms }) }

# fault(target, mode [, status => N, body => '...', times => N]); mode 'none' clears it.
sub fault {
    my ($self, $target, $mode, %opt) = @_;
    $self->control('fault', { target => $target, mode => $mode, %opt });
}

# jwks(set, from => other-set) or jwks(set, jwks => {...}).
sub jwks { my ($self, $name, %opt) = @_; $self->control('jwks', { name => $name, %opt }) }

sub down { $_[0]->control('listener', { up => JSON::PP::false }) }
sub up   { $_[0]->control('listener', { up => JSON::PP::true }) }

sub stats { $_[0]->control('stats') }
sub calls { my ($self, $route) = @_; $self->stats->{calls}{$route} // 0 }
sub requests { my ($self, $route) = @_; grep { !defined $route || $_->{route} eq $route } @{ $self->stats->{requests} } }

# A Keycloak offline token: introspection says active with `scope`, the refresh exchange
# answers access_token (a JWT, or whatever the test wants).
sub keycloak_offline {
    my ($self, $token, %o) = @_;
    my $active = exists $o{active} ? $o{active} : 1;
    my %intro = (active => $active ? JSON::PP::true : JSON::PP::false);
    $intro{scope} = exists $o{scope} ? $o{scope} : 'openid offline_access profile' if $active;
    delete $intro{scope} unless defined $intro{scope};
    $self->register(introspect => $token, \%intro);
    $self->register(token => $token, {
        access_token => $o{access_token}, token_type => 'Bearer', expires_in => 300,
        refresh_token => $token, scope => 'openid profile',
    }) if defined $o{access_token};
}

# An ECMWF token-generator refresh token: validate-token says active, the exchange answers
# access_token.
sub token_generator {
    my ($self, $token, %o) = @_;
    my $active = exists $o{active} ? $o{active} : 1;
    $self->register(validate => $token, { active => $active ? JSON::PP::true : JSON::PP::false });
    $self->register(refresh => $token, { access_token => $o{access_token}, expires_in => 300 })
      if defined $o{access_token};
}

# --- certificates --------------------------------------------------------------------------------

# A CA, a server certificate for 127.0.0.1/localhost and one for wrong.example signed by it, and
# an unrelated CA; all made now with the openssl CLI, in a directory NGINX workers can read.
sub make_pki {
    my $dir = tempdir('authotron-pki-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $run = sub {
        my $cmd = join ' ', @_;
        my $out = `$cmd 2>&1`;
        die "openssl failed ($cmd):\n$out" if $?;
    };
    for my $ca (qw(ca rogue-ca)) {
        $run->(qw(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2),
            "-keyout $dir/$ca.key -out $dir/$ca.pem", "-subj '/CN=authotron test $ca'",
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    }
    for ([server => 'IP:127.0.0.1,DNS:localhost'], ['wrong-name' => 'DNS:wrong.example']) {
        my ($name, $san) = @$_;
        open my $fh, '>', "$dir/$name.ext" or die "$dir/$name.ext: $!";
        print {$fh} "subjectAltName=$san\nbasicConstraints=critical,CA:FALSE\n"
          . "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
        close $fh;
        $run->(qw(openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes),
            "-keyout $dir/$name.key -out $dir/$name.csr -subj '/CN=$name'");
        $run->(qw(openssl x509 -req -days 2), "-in $dir/$name.csr -CA $dir/ca.pem -CAkey $dir/ca.key",
            "-CAcreateserial -out $dir/$name.pem -extfile $dir/$name.ext");
    }
    chmod 0644, glob("$dir/*.pem");
    return $dir;
}

1;
