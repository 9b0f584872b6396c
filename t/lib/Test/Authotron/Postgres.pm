package Test::Authotron::Postgres;

# A throwaway PostgreSQL server (scripts/postgres) for one .t file; removed when the file ends.
#
#   my $pg = Test::Authotron::Postgres->start;   dies with the script's message when it cannot
#   $pg->create_database       a new empty database owned by the test role; returns its URI
#   $pg->stop; $pg->start      fast shutdown; start again on the same data and port
#   $pg->log_size              where the server log ends now (a mark for statements())
#   $pg->statements($db, $from, $to)  the statements the server logged for database $db
#                              between two marks ($to: the end of the log when undef)
#   $pg->log_text($from, $to)  the server log between two marks (default: all of it)
#   $pg->dump($db)             pg_dump of $db as SQL text (schema and data)
#   $pg->sql($db, $sql)        runs SQL as the test role, returns psql's unaligned output
#   $pg->freeze; $pg->thaw     SIGSTOP / SIGCONT every server process: connections stay open
#                              but nothing answers (thawed again before the server is removed)
#
# The server logs every statement (log_statement = all), parameters included, so a test can
# tell whether a request reached the database and what it sent.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);

my $ROOT = abs_path(dirname(__FILE__) . '/../../../..');
my @RUNNING;

sub start {
    my ($class) = @_;
    return $class->run_script('start') if ref $class;
    # The directory must not exist yet: the script creates it for the postgres user, and /tmp
    # (a parent the postgres user can traverse) holds it.
    my $parent = tempdir('authotron-pg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $parent;
    my $self = bless { dir => "$parent/cluster", databases => 0 }, $class;
    push @RUNNING, $self;
    $self->run_script('start');
    return $self;
}

sub run_script {
    my ($self, $command) = @_;
    my $out = `"$ROOT/scripts/postgres" $command "$self->{dir}" 2>&1`;
    die "scripts/postgres $command failed:\n$out" if $?;
    if ($command eq 'start') {
        my ($uri) = $out =~ m{^(postgresql://\S+)$}m or die "scripts/postgres start printed no URI:\n$out";
        $self->{uri} = $uri;
        $self->{running} = 1;
    }
    $self->{running} = 0 if $command eq 'stop';
    return $out;
}

sub stop { $_[0]->run_script('stop') }

sub uri {
    my ($self, $db) = @_;
    my $uri = $self->{uri};
    $uri =~ s{/[^/]*$}{/$db} if defined $db;
    return $uri;
}

sub bin {
    my ($name) = @_;
    my ($dir) = sort { version_of($b) <=> version_of($a) } glob '/usr/lib/postgresql/*/bin';
    die "no PostgreSQL binaries in /usr/lib/postgresql/*/bin\n" unless $dir && -x "$dir/$name";
    return "$dir/$name";
}

sub version_of { ($_[0] =~ m{/(\d+)/bin$})[0] // 0 }

sub sql {
    my ($self, $db, $sql) = @_;
    my $psql = bin('psql');
    open my $fh, '-|', $psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $self->uri($db), '-c', $sql
      or die "cannot run psql: $!";
    local $/;
    my $out = <$fh>;
    close $fh or die "psql failed for: $sql\n";
    return $out // '';
}

sub create_database {
    my ($self) = @_;
    my $db = sprintf 'authotron_t%d_%d', $$, ++$self->{databases};
    $self->sql('authotron', "CREATE DATABASE $db");
    return $self->uri($db);
}

# The database a URI names.
sub database_of { ($_[1] =~ m{/([^/?]+)(?:\?.*)?$})[0] }

sub dump {
    my ($self, $db) = @_;
    my $pg_dump = bin('pg_dump');
    my $out = `"$pg_dump" --no-owner -d "${\ $self->uri($db)}" 2>&1`;
    die "pg_dump failed:\n$out" if $?;
    return $out;
}

sub log_path { "$_[0]{dir}/server.log" }

sub log_size { -s $_[0]->log_path // 0 }

sub log_text {
    my ($self, $from, $to) = @_;
    open my $fh, '<', $self->log_path or return '';
    seek $fh, $from // 0, 0;
    local $/;
    my $text = <$fh> // '';
    return defined $to ? substr($text, 0, $to - ($from // 0)) : $text;
}

# Statement lines of database $db (log_line_prefix has db=...) between two marks.
sub statements {
    my ($self, $db, $from, $to) = @_;
    return grep { /\bdb=\Q$db\E\s.*\bLOG:\s+(?:statement|execute\b)/ } split /\n/, $self->log_text($from, $to);
}

# The postmaster and its children.
sub server_pids {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/data/postmaster.pid" or die "PostgreSQL is not running: $!\n";
    my $master = <$fh>;
    chomp $master;
    my @children;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my $line = <$s> // next;
        push @children, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $master;
    }
    return ($master, @children);
}

sub freeze {
    my ($self) = @_;
    my @pids = $self->server_pids;
    kill 'STOP', @pids or die "cannot stop PostgreSQL's processes: $!\n";
    push @{ $self->{frozen} }, @pids;
}

sub thaw {
    my ($self) = @_;
    kill 'CONT', @{ delete $self->{frozen} // [] };
}

sub remove {
    my ($self) = @_;
    $self->thaw;
    return unless $self->{dir} && -d $self->{dir};
    system("\"$ROOT/scripts/postgres\" remove \"$self->{dir}\" >/dev/null 2>&1");
}

END {
    local $?;    # the test's exit status
    $_->remove for @RUNNING;
}

1;
