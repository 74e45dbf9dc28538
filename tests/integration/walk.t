#!/usr/bin/env perl
# A busy process drains its own entries by key and walks the rest of the
# inbox (for what a dead process left behind) at most once a second; a
# drain that skipped the walk owes one, which comes a second after the last
# even when no request follows; and an idle process walks every few
# seconds. One process, started by spawn-fcgi, spoken to in FastCGI by this
# test, so that nothing else drains.
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

# The first drain walks.
is($fcgi->webhook('first'), 200, 'a webhook is acknowledged');

# An entry behind the program's back, as a process killed between its
# answer and its drain leaves one; then a webhook of the program's own at
# once, whose drain skips the walk (the last was under a second ago).
is($fcgi->inbox_put('left-behind'), 0,
    'an entry is put in the inbox behind the program\'s back');
my $t0 = time;
is($fcgi->webhook('own'), 200,
    'the program acknowledges one of its own');

# No request from here on: only the walk the drain owes takes the entry.
my $left = -1;
my $deadline = time + 10;
while (time < $deadline) {
	last if ($left = $fcgi->inbox_pending()) == 0;
	sleep 0.05;
}
my $took = time - $t0;
is($left, 0, sprintf('the owed walk drained it, with no request coming '
    . '(%.2f s after the last answer)', $took));
cmp_ok($took, '<', 3, 'a second or so after the last walk');

my ($rc, $dump) = $fcgi->admin('dump');
my %ids = map { /"message_id":"([^"]+)"/ ? ($1 => 1) : () } split /\n/, $dump;
ok($ids{'left-behind'} && $ids{own} && $ids{first},
    'all three events are stored') or diag $dump;

# An entry left after the last walk, and no request ever: the idle walk.
is($fcgi->inbox_put('while-idle'), 0, 'an entry is left while all is quiet');
$t0 = time;
$deadline = time + 15;
while (time < $deadline) {
	last if ($left = $fcgi->inbox_pending()) == 0;
	sleep 0.1;
}
is($left, 0, sprintf('an idle walk drained it (%.2f s later)', time - $t0));
($rc, $dump) = $fcgi->admin('dump');
like($dump, qr/"message_id":"while-idle"/, 'and its event is stored');
done_testing;
