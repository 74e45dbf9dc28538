#!/usr/bin/env perl
# Raw bodies are kept after processing (for reprocessing, and so every
# event links to its request), within a total size and an age: the oldest
# go first, entries still waiting are kept, and the events stay. Events
# are kept forever, or within MAILHOOKS_EVENT_MAX_AGE_DAYS.
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

# MAILHOOKS_EVENT_MAX_AGE_DAYS: events that happened longer ago go, with
# their summaries and indexes; the rest stay. Unset, nothing goes.
my $old = time - 3 * 86400;
my @mixed = ((map { Stack::event(type => 'open', id => "old-$_", ts => $old + $_,
    email => "old$_\@example.com") } 1 .. 30),
    (map { Stack::event(type => 'open', id => "new-$_", ts => time - 60,
    email => "new$_\@example.com") } 1 .. 5));
my $keep = Stack->new;
is($keep->post_mandrill(\@mixed)->{status}, 200, 'old and new events, kept forever');
is(scalar($keep->wait_events(35)), 35, 'unset: every event stays');
my $aged = Stack->new(env => { MAILHOOKS_EVENT_MAX_AGE_DAYS => 2 });
is($aged->post_mandrill(\@mixed)->{status}, 200, 'the same, kept 2 days');
$deadline = time + 10;
my @left;
while (time < $deadline) {
	@left = $aged->all_events;
	last if @left == 5;
	select undef, undef, undef, 0.05;
}
is_deeply([ sort map { $_->{message_id} } @left ], [ sort map { "new-$_" } 1 .. 5 ],
    'events older than 2 days are gone, the newer stay');
is(($aged->get_json('/api/messages/old-1'))[0], 404, 'an old message\'s summary too');
is(($aged->get_json('/api/messages/new-1'))[0], 200, 'a new one\'s stays');
is_deeply([ $aged->all_events("since=" . ($old - 10) . "&until=" . ($old + 100)) ], [],
    'the time index has none of them');
is_deeply([ $aged->all_events('q=old1') ], [], 'nor the search');
like($aged->log, qr/retention removed 30 events older than 2 days/, 'logged');
my (undef, $ser) = $aged->get_json("/api/stats/series?since=" . ($old - 3600)
    . '&until=' . time . '&bucket=day');
my $opens = 0;
$opens += $_ for @{ $ser->{counts}{open} };
is($opens, 5, 'the series counts the new alone');
{
	local $ENV{MAILHOOKS_EVENT_MAX_AGE_DAYS} = 1;
	is(($keep->admin('prune'))[0], 0, 'mailhooks-db prune with an event age');
}
is(scalar($keep->all_events), 5, 'applies it too');

done_testing;
