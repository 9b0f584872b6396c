package Test::Authotron::Tokens;

# JWTs for the identity-provider tests, signed with the committed test keys in t/fixtures/keys
# (whose public halves are the JWKS files in t/fixtures/jwks; t/fixtures/make-fixtures).
#
#   jwt(claims => { preferred_username => 'alice' })           RS256, kid rsa-1, exp in 1 h
#   jwt(alg => 'ES256', key => 'ec-1', claims => {...})        kid defaults to the key's name
#   jwt(alg => 'HS512', key => 'hs-1')                         the oct key's secret
#   jwt(alg => 'HS256', secret => key_text('rsa-1.pub.pem'), kid => 'rsa-1')   HS/RS confusion
#   jwt(alg => 'none')                                         unsigned
#   jwt(kid => undef)                                          no kid header
#   jwt(claims => { exp => undef })                            drops a default claim
#   jwt(header => { crit => ['foo'] })                         more JOSE header members
#   jwt(payload => '{"sub":"x","exp":1.7e9}')                  the payload as written, for
#                                                              number forms JSON::PP never writes
#
# Default claims: sub, iat (now), exp (now + 3600). unique('name') gives a string no earlier
# run used, for opaque tokens and API keys (caches are per NGINX, registrations per mock).

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use Crypt::JWT qw(encode_jwt);
use JSON::PP;
use MIME::Base64 qw(encode_base64url);

our @EXPORT = qw(jwt key_text unique);

my $KEYS = abs_path(dirname(__FILE__) . '/../../../fixtures/keys');

sub key_text {
    my ($file) = @_;
    open my $fh, '<', "$KEYS/$file" or die "$KEYS/$file: $!";
    local $/;
    return scalar <$fh>;
}

sub jwt {
    my (%o) = @_;
    my $alg = $o{alg} // 'RS256';
    my $key = $o{key} // ($alg =~ /^ES/ ? 'ec-1' : $alg eq 'EdDSA' ? 'ed-1' : $alg =~ /^HS/ ? 'hs-1' : 'rsa-1');
    my %claims = (sub => 'subject-1', iat => time, exp => time + 3600, %{ $o{claims} // {} });
    delete $claims{$_} for grep { !defined $claims{$_} } keys %claims;
    my $payload = $o{payload} // JSON::PP->new->canonical->encode(\%claims);
    my %header = %{ $o{header} // {} };
    $header{kid} = exists $o{kid} ? $o{kid} : $key;
    delete $header{kid} unless defined $header{kid};

    if ($alg eq 'none') {
        my $h = encode_base64url(JSON::PP->new->canonical->encode({ alg => 'none', typ => 'JWT', %header }));
        my $p = encode_base64url($payload);
        return "$h.$p.";
    }
    my $signing = $o{secret} // ($alg =~ /^HS/ ? key_text("$key.secret") : \key_text("$key.pem"));
    return encode_jwt(payload => $payload, alg => $alg, key => $signing,
        extra_headers => { typ => 'JWT', %header });
}

my $COUNTER = 0;

sub unique {
    my ($name) = @_;
    return sprintf '%s-%d-%d-%d', $name // 'token', $$, time, ++$COUNTER;
}

1;
