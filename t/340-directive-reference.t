# The Directives page of the book (docs/directives.md) against the module, both ways:
# - its `Syntax:` lines name exactly the directives of the module's table (COMMANDS in
#   src/nginx/directives.rs), and each `Context:` and number of arguments is the table's;
# - NGINX itself, with the module loaded, accepts each documented directive in each context the
#   page lists and refuses it ("is not allowed here") in the other http contexts.
# The first part reads the source, so it also fails for a directive added without its page
# entry; the second checks what the built module really does.
use strict;
use warnings;
use lib 't/lib';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Test::More;
use Test::Authotron;

my $ROOT = abs_path(dirname(__FILE__) . '/..');
my @CONTEXTS = qw(http server location);

# NGINX's context flags, and the argument-count flags, as the page words them.
my %CONTEXT_OF = (NGX_HTTP_MAIN_CONF => 'http', NGX_HTTP_SRV_CONF => 'server', NGX_HTTP_LOC_CONF => 'location');
my %ARGS_OF = (NGX_CONF_FLAG => 'on | off', NGX_CONF_NOARGS => 'none', NGX_CONF_TAKE1 => 'one', NGX_CONF_1MORE => 'one or more');

# A value for each placeholder word of a `Syntax:` line, so the directive can be written out.
my %SAMPLE = (file => 'authotron.yaml', realm => 'demo', role => 'admin', name => 'X-Identity', size => '1m',
    scope => 'read', value => '$remote_addr');

# Directives `nginx -t` refuses unless some location where authotron is on uses them: their
# location is written with `authotron on`.
my %NEEDS_ON = map { ($_ => 1) } qw(authotron_require_scope authotron_require);

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return <$fh>;
}

# name => { contexts => 'http server location', args => ..., syntax => 'authotron on | off', heading => ... }
sub documented {
    my ($path) = @_;
    my (%doc, $current, $heading);
    for my $line (split /\n/, slurp($path)) {
        $heading = $1 if $line =~ /^## (\S+)\s*$/;
        if ($line =~ /^\*\*Syntax:\*\*\s*`([^`]+)`/) {
            my $syntax = $1;
            $syntax =~ s/;\s*$//;
            # An optional last part (`[error=401 | 403]`) adds nothing to the argument count.
            (my $required = $syntax) =~ s/\s*\[[^\]]*\]//g;
            my ($name, @words) = split ' ', $required;
            my $args = !@words ? 'none'
              : "@words" eq 'on | off' ? 'on | off'
              : "@words" =~ /^\w+(?: \| \w+)+$/ ? 'one'    # keywords, one of them: `on | off | shadow`
              : @words == 1 ? 'one'
              : (@words == 2 && $words[1] eq '...') ? 'one or more'
              : "unparsed: @words";
            $current = $doc{$name} = { syntax => $syntax, args => $args, heading => $heading // '', words => \@words };
        } elsif ($line =~ /^\*\*Context:\*\*\s*(.*)$/ && $current) {
            (my $contexts = $1) =~ s/<br>|`//g;
            $current->{contexts} = join ' ', grep { length } split /[\s,]+/, $contexts;
            undef $current;
        }
    }
    return %doc;
}

# The module's own table: name => { contexts => ..., args => ... }.
sub module_table {
    my ($path) = @_;
    my $source = slurp($path);
    my %constant;
    while ($source =~ /const (\w+): u32 = ([^;]+);/g) { $constant{$1} = $2 }
    my ($table) = $source =~ /static mut COMMANDS:[^=]*=\s*\[(.*?)\n\];/s or die "no COMMANDS table in $path";
    my %module;
    while ($table =~ /ngx_string!\("(\w+)"\),\s*([^,]+),/g) {
        my ($name, $flags) = ($1, $2);
        # Names such as ANY_LEVEL stand for flags defined in the same file.
        for (1 .. 3) { $flags =~ s/\b(\w+)\b/exists $constant{$1} ? "($constant{$1})" : $1/ge }
        my @flags = $flags =~ /(\w+)/g;
        my %in = map { $CONTEXT_OF{$_} => 1 } grep { $CONTEXT_OF{$_} } @flags;
        my @args = map { $ARGS_OF{$_} } grep { $ARGS_OF{$_} } @flags;
        $module{$name} = {
            contexts => join(' ', grep { $in{$_} } @CONTEXTS),
            args => @args == 1 ? $args[0] : "flags: $flags",
        };
    }
    return %module;
}

my %doc = documented("$ROOT/docs/directives.md");
my %module = module_table("$ROOT/src/nginx/directives.rs");
ok(scalar(keys %module) >= 10, 'the module table was read from the source') or diag(explain(\%module));

for my $name (sort keys %module) {
    ok($doc{$name}, "$name (in the module) has a Syntax: line in docs/directives.md");
}
for my $name (sort keys %doc) {
    ok($module{$name}, "$name (in docs/directives.md) is a directive of the module");
    is($doc{$name}{heading}, $name, "$name: documented under its own heading, the anchor links use");
    next unless $module{$name};
    is($doc{$name}{contexts} // '(none)', $module{$name}{contexts}, "$name: the Context: line is the module's");
    is($doc{$name}{args}, $module{$name}{args}, "$name: the Syntax: line takes the module's arguments");
}

# The directive as one line of nginx.conf, with a sample value for each placeholder.
sub written {
    my ($name) = @_;
    my @values;
    # Keywords, one of them (`on | off | shadow`): the first one.
    return "$name $doc{$name}{words}[0];" if "@{ $doc{$name}{words} }" =~ /^\w+(?: \| \w+){2,}$/;
    for my $word (@{ $doc{$name}{words} }) {
        next if $word eq '...' || $word eq '|' || $word eq 'off';
        push @values, $word eq 'on' ? 'on' : ($SAMPLE{$word} // die "no sample value for placeholder `$word` of $name");
    }
    return join(' ', $name, @values) . ';';
}

# One YAML for every block: a provider of realm `demo` (authotron_realm), the token store
# (authotron_tokens needs it) and a resource description (authotron_resource_metadata does).
my $YAML = <<'YAML';
version: "2.0.0"
jwt: { iss: directive-reference, exp: 600, secret: "directive-reference-secret-0123456789abcdef" }
providers:
  - { type: plain, name: local, realm: demo, users: [ { username: adam, password: admin } ] }
store: { enabled: true, type: sqlite, path: "%%PREFIX%%/store/tokens.db" }
resource_metadata: { resource: "https://directive-reference.example" }
YAML

# nginx -t checks that the workers' user (nobody, when the suite runs as root) can create the
# database: its directory is writable by anyone, as /tmp is.
defaults(before_start => sub {
    my (undef, $run) = @_;
    mkdir "$run->{prefix}/store" or die "mkdir: $!";
    chmod 01777, "$run->{prefix}/store";
});

my $blocks = '';
for my $name (sort keys %doc) {
    my $line = eval { written($name) };
    unless (defined $line) { fail("$name: $@"); next }
    my %allowed = map { $_ => 1 } split ' ', ($doc{$name}{contexts} // '');
    for my $context (@CONTEXTS) {
        # authotron_config is written in http by the harness itself whenever a block has a YAML.
        my $text = ($name eq 'authotron_config' && $context eq 'http') ? '' : $line;
        my $section = $context eq 'http' ? 'http_config' : 'config';
        my $on = $NEEDS_ON{$name} ? 'authotron on; ' : '';
        $text = "location /probe { $on$text }" if $context eq 'location';
        my $expect = $allowed{$context}
          ? "--- config_ok\n--- error_log\ntest is successful\n"
          : "--- must_die\n--- error_log\n\"$name\" directive is not allowed here\n";
        my $verdict = $allowed{$context} ? 'accepted' : 'refused';
        $blocks .= "=== $name is $verdict in $context\n--- yaml\n$YAML--- $section\n$text\n$expect\n";
    }
}

run_tests(blocks => $blocks);
