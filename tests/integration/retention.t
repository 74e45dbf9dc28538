#!/usr/bin/env perl
# Raw bodies are kept after processing (for reprocessing, and so every
# event links to its request), within a total size and an age: the oldest
# go first, entries still waiting are kept, and the events stay.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

sub stats {
	my ($s) = @_;
	my ($rc, $out) = $s->admin('stats');
	return decode_json($out);
}

my $s = Stack->new;
my $subject = 'z' x 600;
for my $b (1 .. 5) {
	my $r = $s->post_mandrill([map { Stack::event(id => "r-$b-$_",
	    subject => $subject) } 1 .. 250]);
	is($r->{status}, 200, "batch $b");
}
$s->wait_events(1250);
my $st = stats($s);
is($st->{raw_bodies}, 5, 'five raw bodies kept');
my $each = $st->{raw_bytes} / 5;
cmp_ok($each, '>', 200 * 1024, sprintf('of about %.0f KiB each', $each / 1024));

{
	local $ENV{MAILHOOKS_RAW_MAX_MB} = 1;
	my ($rc) = $s->admin('prune');
	is($rc, 0, 'prune to 1 MiB');
}
$st = stats($s);
is($st->{raw_bodies}, int(1024 * 1024 / $each), 'the oldest went first, '
    . 'until the rest fit');
cmp_ok($st->{raw_bytes}, '<=', 1024 * 1024, 'within the size');
is($st->{events}, 1250, 'every event stays');
my @ev = $s->all_events('message_id=r-1-1');
like($ev[0]{receipt}, qr/^\d+$/, 'and keeps its receipt');

sleep 1.1;
{
	local $ENV{MAILHOOKS_RAW_MAX_AGE_DAYS} = 0;
	my ($rc) = $s->admin('prune');
	is($rc, 0, 'prune by age');
}
$st = stats($s);
is($st->{raw_bodies}, 0, 'bodies older than the age are gone');
is($st->{raw_bytes}, 0, 'and their bytes with them');
{
	local $ENV{MAILHOOKS_RAW_MAX_MB} = 'lots';
	my ($rc) = $s->admin('prune');
	is($rc, 2, 'a malformed setting is a usage error');
}

# The program applies the retention itself after processing.
my $t = Stack->new(env => { MAILHOOKS_RAW_MAX_MB => 0 });
my $r = $t->post_mandrill([Stack::event(id => 'pruned-at-once')]);
is($r->{status}, 200, 'a webhook with no room for raw bodies');
$t->wait_events(1);
# The drain prunes after the commit that shows the event.
my $deadline = time + 10;
while (($st = stats($t))->{raw_bodies} != 0 && time < $deadline) {
	select undef, undef, undef, 0.05;
}
is($st->{raw_bodies}, 0, 'its body is deleted once processed');
is($st->{events}, 1, 'its event stays');

done_testing;
