#!/usr/bin/env perl
# The read API's parameters: the time window, the summary, the test event,
# and every malformed parameter a 400 rather than a silent default.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use Test::More;

my $s = Stack->new(env => { MAILHOOKS_TEST_EVENTS => 1 });
my $t0 = 1700000000;
my $r = $s->post_mandrill([
	Stack::event(type => 'send', id => 'a', ts => $t0),
	Stack::event(type => 'open', id => 'a', ts => $t0 + 100),
	Stack::event(type => 'click', id => 'a', ts => $t0 + 200),
	Stack::event(type => 'open', id => 'b', ts => $t0 + 300,
	    email => 'bob@example.com'),
]);
is($r->{status}, 200, 'four events');
$s->wait_events(4);

sub seqs { [map { $_->{seq} } @{ $_[0]{events} }] }
my ($st, $p) = $s->get_json("/api/events?since=" . ($t0 + 100));
is_deeply(seqs($p), [4, 3, 2], 'since (Unix seconds) is inclusive');
($st, $p) = $s->get_json("/api/events?until=" . ($t0 + 200));
is_deeply(seqs($p), [2, 1], 'until is exclusive');
($st, $p) = $s->get_json('/api/events?since=2023-11-14T22:15:00Z'
    . '&until=2023-11-14T22:18:00%2B00:00');
is_deeply(seqs($p), [3, 2], 'ISO 8601 times, either zone form');
($st, $p) = $s->get_json("/api/events?since=" . ($t0 + 100) . "&type=open");
is_deeply(seqs($p), [4, 2], 'with a filter');
($st, $p) = $s->get_json("/api/events?since=" . ($t0 + 100) . "&limit=1");
is_deeply(seqs($p), [4], 'paged');
ok($p->{more}, 'with more');
($st, $p) = $s->get_json("/api/events?since=$t0&limit=2&before=$p->{next_before}");
is_deeply(seqs($p), [3, 2], 'the cursor holds in a window');
($st, $p) = $s->get_json("/api/events?after=1&until=" . ($t0 + 250));
is_deeply(seqs($p), [2, 3], 'after with until');

($st, $p) = $s->get_json("/api/stats?since=$t0");
is($st, 200, '/api/stats');
is($p->{total}, 4, 'total');
is($p->{counts}{open}, 2, 'opens');
is($p->{counts}{send}, 1, 'sends');
is($p->{counts}{hard_bounce}, 0, 'every type is named, zero or not');
is($p->{since}, $t0, 'the window is in the answer');
($st, $p) = $s->get_json("/api/stats?since=$t0&until=" . ($t0 + 150));
is($p->{total}, 2, 'a window');
($st, $p) = $s->get_json('/api/stats');
is($p->{total}, 0, 'by default the last 24 hours (these are from 2023)');
ok(abs($p->{since} - (time - 86400)) < 60, 'said so');

my %bad = (
	'/api/events?limit=-1' => 'limit',
	'/api/events?limit=abc' => 'limit',
	'/api/events?limit=' => 'limit',
	'/api/events?before=0' => 'before',
	'/api/events?before=-5' => 'before',
	'/api/events?after=x' => 'after',
	'/api/events?type=Open' => 'type',
	'/api/events?email=a%zz' => 'email',
	'/api/events?since=yesterday' => 'since',
	'/api/events?until=2023-13-01T00:00:00Z' => 'until',
	"/api/events?since=$t0&until=$t0" => 'until',
	'/api/stats?since=soon' => 'since',
	'/api/events?type=open&type=click' => 'type is given more than once',
	'/api/events?limit=5&limit=6' => 'limit is given more than once',
	'/api/events?since=%2B1' => 'since',
	'/api/events?since=%201' => 'since',
	'/api/events?since=1%20' => 'since',
	'/api/events?until=0x10' => 'until',
	'/api/events?since=2026-02-31T00:00:00Z' => 'since',
	'/api/events?since=2025-02-29T00:00:00Z' => 'since',
	'/api/events?since=2026-04-31T00:00:00Z' => 'since',
	'/api/events?since=2026-01-01T24:00:00Z' => 'since',
	'/api/stats?until=2026-06-31T00:00:00Z' => 'until',
	'/api/email-callbacks?status=open' => 'status',
	'/api/email-callbacks?limit=501' => 'limit',
);
for my $q (sort keys %bad) {
	($st, $p) = $s->get_json($q);
	is($st, 400, "$q: 400");
	like($p->{detail} // '', qr/\Q$bad{$q}\E/, "$q: the detail names $bad{$q}");
}
# What is taken: a leap day, a negative time, the last second of a day.
for my $q ('/api/events?since=2024-02-29T00:00:00Z',
    '/api/events?since=-5', '/api/events?until=2026-12-31T23:59:59%2B01:00') {
	($st, $p) = $s->get_json($q);
	is($st, 200, "$q: 200");
}

# A message whose id holds a '/' (sent encoded) or is long (9000 bytes,
# past the 8 KiB web servers take by default) is opened like any other.
{
	my $slash = 'm/1';
	my $long = 'L' x 9000;
	my $ids = Stack->new();
	my $rr = $ids->post_mandrill([Stack::event(id => $slash, ts => $t0),
	    Stack::event(id => $long, ts => $t0)]);
	is($rr->{status}, 200, "ids with '/' and of 9000 bytes accepted");
	$ids->wait_events(2);
	for my $id ($slash, $long) {
		my $name = length($id) > 100 ? 'a 9000-byte id' : "id $id";
		my ($c, $m) = $ids->get_json('/api/messages/'
		    . Stack::form_encode($id));
		is($c, 200, "$name: opened") or diag substr($m->{detail} // '', 0, 200);
		ok(($m->{message_id} // '') eq $id, "$name: that message");
		is(scalar @{ $m->{timeline} // [] }, 1, "$name: its timeline");
	}
	my ($c) = $ids->get_json('/api/messages/m/1');
	is($c, 404, "an unencoded '/' is another path");
}

# The test event.
($st, my $h) = $s->get_json('/api/health');
ok($h->{test_events}, 'health says test events are on');
my $ws = $s->ws_client(types => 'open', count => 1);
$r = $s->post_json('/api/test-event', {});
is($r->{status}, 200, 'POST /api/test-event');
is($ws->wait, 0, 'its open is pushed');
my ($ev) = $ws->events;
is($ev->{email}, 'test@example.com', 'a sample open');
like($ev->{message_id}, qr/^mailhooks-test-/, 'marked as a test');
$r = $s->post_json('/api/test-event', 'a=1',
    'Content-Type' => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'not from a form (no other site can post it)');
is($s->get('/api/test-event')->{status}, 405, 'GET is a 405');
my $off = Stack->new;
$r = $off->post_json('/api/test-event', {});
is($r->{status}, 404, 'off by default');

done_testing;
