package Test::Authotron::Slapd;

# The suite's handle on scripts/slapd: one throwaway OpenLDAP server per .t file, loaded with
# t/fixtures/ldap/directory.ldif, optionally with an ldaps listener whose certificate (for
# 127.0.0.1 and localhost) is signed by a CA made at test time (Test::Authotron::IdP::make_pki).
#
#   my $ldap = Test::Authotron::slapd(tls => 1);    # through the harness
#   $ldap->stop; $ldap->start;                      # an outage, and the way back
#   $ldap->pause; $ldap->resume;                    # a hung directory: connects, never answers
#
# The harness calls reset() before every block, so each block starts with the directory up.
# Placeholders, in the YAML and the NGINX config: %%LDAP%% (ldap://127.0.0.1:port), %%LDAPS%%,
# %%LDAP_CA_FILE%% (the CA of the ldaps certificate), %%LDAP_ROGUE_CA_FILE%% (a CA that signed
# nothing), %%LDAP_BLACKHOLE%% (an ldap:// URL where connecting hangs).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);

my $ROOT = abs_path(dirname(__FILE__) . '/../../../..');
my $SCRIPT = "$ROOT/scripts/slapd";

sub launch {
    my ($class, %opt) = @_;
    my $self = bless { dir => tempdir('authotron-slapd-XXXXXX', TMPDIR => 1, CLEANUP => 1) }, $class;
    my @args = ($opt{ldif} // "$ROOT/t/fixtures/ldap/directory.ldif");
    if ($opt{tls}) {
        require Test::Authotron::IdP;
        $self->{pki} = Test::Authotron::IdP::make_pki();
        unshift @args, '--tls', "$self->{pki}/server.pem", "$self->{pki}/server.key";
    }
    $self->start(@args);
    return $self;
}

# Starts slapd (the first time with @args: TLS files and LDIF); keeps what the script prints.
sub start {
    my ($self, @args) = @_;
    open(my $out, '-|', $SCRIPT, 'start', $self->{dir}, @args) or die "cannot run $SCRIPT: $!";
    my %env = map { /^(\w+)=(.*)$/ ? ($1 => $2) : () } <$out>;
    close $out or die "scripts/slapd start failed\n";
    $self->{env} = \%env;
    delete $self->{paused};
    return $self;
}

sub stop {
    my ($self) = @_;
    $self->script('stop');
    delete $self->{env}{PID};
}

sub pause  { my ($self) = @_; $self->script('pause');  $self->{paused} = 1 }
sub resume { my ($self) = @_; $self->script('resume'); delete $self->{paused} }

# Up and answering, whatever the previous block did to it.
sub reset {
    my ($self) = @_;
    $self->resume if $self->{paused};
    $self->start;
}

sub script {
    my ($self, $command) = @_;
    system($SCRIPT, $command, $self->{dir}) == 0 or die "scripts/slapd $command failed\n";
}

sub url { $_[0]{env}{LDAP_URI} }

sub ldaps_url {
    my ($self) = @_;
    return $self->{env}{LDAPS_URI} // die "slapd was started without tls => 1\n";
}

sub pki { $_[0]{pki} // die "slapd was started without tls => 1\n" }

# The placeholders above, in $text; $q quotes for regex context, $run gives the blackhole.
sub expand {
    my ($self, $text, $q, $run) = @_;
    $text =~ s/%%LDAPS%%/$q->($self->ldaps_url)/ge;
    $text =~ s/%%LDAP%%/$q->($self->url)/ge;
    $text =~ s/%%LDAP_CA_FILE%%/$q->($self->pki . '\/ca.pem')/ge;
    $text =~ s/%%LDAP_ROGUE_CA_FILE%%/$q->($self->pki . '\/rogue-ca.pem')/ge;
    $text =~ s/%%LDAP_BLACKHOLE%%/$q->($run->blackhole_url =~ s{^http:}{ldap:}r)/ge;
    return $text;
}

# A file that dies never reaches the harness's stop(); by then File::Temp may have removed the
# directory, so the process is ended by its id.
sub DESTROY {
    my ($self) = @_;
    my $pid = $self->{env} && delete $self->{env}{PID} or return;
    kill 'CONT', $pid;
    kill 'TERM', $pid;
}

1;
