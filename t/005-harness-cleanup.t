# The harness itself: a block that ends early (a failed check, a harness error) is cleaned up by
# killing its NGINX. Killing the master alone leaves its workers running, holding the block's
# port and its threads, for the rest of the suite; cleanup must take them too.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use Test::Authotron ();

my $parser = Test::Authotron::Blocks->new;
$parser->_spec_string(<<'BLOCK');
=== CLEANUP 1: two workers, ended before their block
--- workers: 2
--- yaml
providers:
  - { type: plain, name: local, realm: local, users: [ { username: u, password: p } ] }
--- request
GET /
BLOCK
my ($block) = @{ $parser->block_list };
$block->run_filters;

my $run = Test::Authotron::Run->new($block, Test::Authotron::locate('nginx_binary'),
    Test::Authotron::locate('module_path'), Test::Authotron::free_port());
$run->write_files;
ok($run->start_nginx, 'NGINX starts') or BAIL_OUT('NGINX did not start');
my @workers = $run->worker_pids;
is(scalar @workers, 2, 'two workers run');

$run->cleanup;
# A killed process whose parent does not reap it stays a zombie: gone all the same.
my $deadline = time + Test::Authotron::scaled(10);
sleep 0.05 while time < $deadline && grep { alive($_) } @workers;
is_deeply([grep { alive($_) } @workers], [], 'cleanup leaves no worker of the block running');
done_testing();

sub alive {
    my ($pid) = @_;
    my ($state) = Test::Authotron::slurp("/proc/$pid/stat") =~ /\) (\S) / or return 0;
    return $state ne 'Z';
}
