#!/usr/bin/env perl
# A process whose drain finds the storage needing recovery reopens it by
# itself and drains what it had acknowledged, with no request coming: a web
# server may send nothing more to that process for a long while, and the
# other processes leave a live process's entries alone for a minute. One
# process, started by spawn-fcgi, spoken to in FastCGI by this test, so
# that nothing else drains.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FastCGI;
use Time::HiRes qw(sleep time);
use Test::More;

my $fcgi = FastCGI->start;
ok($fcgi->listening, 'one FastCGI process listens') or BAIL_OUT('no process');
my $home = $fcgi->home;

is($fcgi->webhook('first'), 200, 'a webhook is acknowledged');

# The state a drain that failed leaves: an entry the process acknowledged,
# still claimed by it; then the environment needs recovery, as when a
# process died inside Berkeley DB.
is($fcgi->inbox_put('claimed', $fcgi->pid), 0,
    'an entry the process claims waits in the inbox');
is(system("$Stack::ROOT/tests/lib/panic $home 2>/dev/null"), 0,
    'the environment is marked as needing recovery');

# A request that does not touch the storage: its answer is fine, and the
# drain after it is the first to meet the broken handle.
my $answer = $fcgi->request('GET', '/no-such-route', '');
is(FastCGI::status_of($answer // ''), 404, 'a request that needs no storage');

# No request from here on. (Opening an environment that needs recovery
# takes a few seconds here.)
my $t0 = time;
my $left = -1;
my $deadline = time + 20;
while (time < $deadline) {
	last if ($left = $fcgi->inbox_pending()) == 0;
	sleep 0.05;
}
is($left, 0, sprintf('the process reopened the storage and drained its '
    . 'entry, with no request coming (%.2f s)', time - $t0));

my ($rc, $dump) = $fcgi->admin('dump');
my %ids = map { /"message_id":"([^"]+)"/ ? ($1 => 1) : () } split /\n/, $dump;
ok($ids{claimed} && $ids{first}, 'both events are stored') or diag $dump;

is($fcgi->webhook('after'), 200,
    'and the process takes webhooks on the new handle');
$deadline = time + 20;
while (time < $deadline) {
	(undef, $dump) = $fcgi->admin('dump');
	last if $dump =~ /"message_id":"after"/;
	sleep 0.05;
}
like($dump, qr/"message_id":"after"/, 'and stores them');
like(do { local (@ARGV, $/) = "$home/err.log"; <> },
    qr/PANIC|run recovery/i, 'the broken handle was met (its log says so)');
done_testing;
