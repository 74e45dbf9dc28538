#!/usr/bin/env perl
# A signed Mandrill batch through lighttpd: acknowledged, stored with its
# indexes, the open pushed over /ws; a retried batch stores and pushes
# nothing; the read API's filters, cursors and message view.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use Test::More;

my $key = 'k3y-for-tests';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => "old-key,$key" });

for my $m (qw(GET HEAD)) {
	my $r = $s->{http}->request($m, $s->url('/webhooks/mandrill'));
	is($r->{status}, 200, "$m /webhooks/mandrill answers 200 without a key");
}

my @types = qw(send delivered deferral hard_bounce soft_bounce open click
    spam unsub reject);
my @batch = map {
	Stack::event(type => $types[$_], id => 'msg-a', ts => 1700000000 + $_)
} 0 .. $#types;
push @batch, { type => 'blacklist', action => 'add', ts => 1700000100,
    reject => { email => 'gone@example.com', reason => 'hard-bounce' } };
push @batch, { event => 'inbound', ts => 1700000200, msg => {
    email => 'in@example.com', subject => 'Re: invoice',
    from_email => 'alice@example.com',
    headers => { 'Message-Id' => '<r1@example.com>' } } };

my $ws = $s->ws_client(types => 'open', count => 1);
my $all = $s->ws_client(types => 'all', count => scalar @batch);
my $r = $s->post_mandrill(\@batch, key => $key);
is($r->{status}, 200, 'signed batch accepted') or diag $r->{content};
is($r->{json}{accepted}, scalar @batch, 'accepted counts every event');
like($r->{json}{receipt}, qr/^\d+$/, 'a receipt id');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON answer');

is($ws->wait, 0, 'the open arrived on /ws');
my ($pushed) = $ws->events;
is($pushed->{type}, 'open', 'pushed event is the open');
is($pushed->{email}, 'alice@example.com', 'with its recipient');
is($pushed->{subject}, 'Your invoice', 'and subject');
ok($pushed->{seq} > 0, 'and its seq');
is($all->wait, 0, 'a types=all subscriber got every event');
is(scalar($all->events), scalar @batch, 'one frame per event');

my @stored = $s->wait_events(scalar @batch);
is(scalar @stored, scalar @batch, 'every event is stored');
is_deeply([map { $_->{type} } @stored], [@types, 'sync', 'inbound'],
    'types normalised, in batch order');
is_deeply([map { $_->{seq} } @stored], [1 .. @batch], 'seq 1..N');
is($stored[0]{receipt}, $r->{json}{receipt}, 'events link to their receipt');
is($stored[-2]{email}, 'gone@example.com', 'sync event recipient');
is($stored[-1]{message_id}, '<r1@example.com>', 'inbound Message-Id');

# A provider retries the same batch: counted, not stored, not pushed.
my $ws2 = $s->ws_client(types => 'open', count => 1);
$r = $s->post_mandrill(\@batch, key => $key);
is($r->{status}, 200, 'retried batch acknowledged');
my $r2 = $s->post_mandrill([Stack::event(id => 'msg-b', ts => 1700000999,
    email => 'bob@example.com'), Stack::event(id => 'msg-b', type => 'send',
    ts => 1700000990, email => 'bob@example.com')], key => $key);
is($r2->{status}, 200, 'a new open after it');
is($ws2->wait, 0, 'the subscriber got one frame');
my ($next) = $ws2->events;
is($next->{message_id}, 'msg-b', 'the first open pushed after the retry '
    . 'is the new one: the retry pushed nothing');
my @now = $s->wait_events(@batch + 2);
is(scalar @now, @batch + 2, 'the retry stored nothing');

# The read API.
my ($st, $page) = $s->get_json('/api/events?limit=3');
is($st, 200, '/api/events');
is_deeply([map { $_->{seq} } @{ $page->{events} }], [14, 13, 12],
    'newest first, limit');
ok($page->{more}, 'more pages');
is($page->{next_before}, 12, 'next cursor');
($st, $page) = $s->get_json("/api/events?limit=3&before=$page->{next_before}");
is_deeply([map { $_->{seq} } @{ $page->{events} }], [11, 10, 9], 'before=12');
($st, $page) = $s->get_json('/api/events?after=10&limit=2');
is_deeply([map { $_->{seq} } @{ $page->{events} }], [11, 12],
    'after=10 oldest first');
is($page->{next_after}, 12, 'after cursor');
($st, $page) = $s->get_json('/api/events?type=open');
is_deeply([map { $_->{message_id} } @{ $page->{events} }],
    ['msg-b', 'msg-a'], 'type filter');
($st, $page) = $s->get_json('/api/events?email=BOB%40example.com');
is(scalar @{ $page->{events} }, 2, 'email filter, case-insensitive');
($st, $page) = $s->get_json('/api/events?message_id=msg-a&type=click');
is(scalar @{ $page->{events} }, 1, 'message_id and type filters combine');
is($page->{events}[0]{url}, 'https://example.com/', 'click keeps its url');
($st, $page) = $s->get_json('/api/events?limit=0');
is($st, 400, 'limit=0 is a 400');
is($page->{error}, 'bad_parameter', 'with an error code');
($st) = $s->get_json('/api/events?limit=501');
is($st, 400, 'limit over 500 is a 400');
($st) = $s->get_json('/api/events?before=abc');
is($st, 400, 'non-numeric cursor is a 400');
($st) = $s->get_json('/api/events?type=teleport');
is($st, 400, 'unknown type is a 400');
($st) = $s->get_json('/api/events?before=3&after=1');
is($st, 400, 'before with after is a 400');

my ($ms, $msg) = $s->get_json('/api/messages/msg-a');
is($ms, 200, '/api/messages/{id}');
is($msg->{opens}, 1, 'open count');
is($msg->{clicks}, 1, 'click count');
is($msg->{email}, 'alice@example.com', 'recipient');
is(scalar @{ $msg->{timeline} }, 10, 'timeline holds its ten events');
is_deeply([map { $_->{type} } @{ $msg->{timeline} }], \@types,
    'timeline in event time order');
is($msg->{state}, 'reject', 'latest state is the latest delivery event');
($ms, $msg) = $s->get_json('/api/messages/nope');
is($ms, 404, 'unknown message is a 404');
is($msg->{error}, 'not_found', 'as JSON');

my ($hs, $health) = $s->get_json('/api/health');
is($hs, 200, '/api/health');
is($health->{last_seq}, 14, 'health tells the last seq');
($ms, $msg) = $s->get_json('/api/messages/msg-b');
is_deeply([map { $_->{type} } @{ $msg->{timeline} }], ['send', 'open'],
    'a send stored after its open comes first in the timeline');
is($msg->{state}, 'send', 'state ignores opens');
is($msg->{opens}, 1, 'opens counted');
is($health->{relay}, 'up', 'and the relay status');
($hs, $health) = $s->get_json('/api/nothing');
is($hs, 404, 'unknown route is a 404');
is($health->{error}, 'not_found', 'as JSON');

# Distinct events are kept apart: a link scanner clicks every link of a
# message in the same second, and two opens in one second come from
# different places; a retry of the batch, byte for byte, stores nothing.
my $d = Stack->new();
my @burst = ((map { Stack::event(type => 'click', id => 'scan', ts => 1700000500,
    url => "https://example.com/link$_") } 1 .. 3),
    Stack::event(type => 'open', id => 'scan', ts => 1700000500),
    { %{ Stack::event(type => 'open', id => 'scan', ts => 1700000500) },
      ip => '198.51.100.7' });
is($d->post_mandrill(\@burst)->{json}{accepted}, 5, 'five events at once');
my @kept = $d->wait_events(5, 'message_id=scan');
is(scalar @kept, 5, 'five stored: three clicks on three links, two opens');
is($d->post_mandrill(\@burst)->{json}{accepted}, 5, 'the batch again');
for (1 .. 100) {
	my (undef, $h) = $d->get_json('/api/health');
	last if ($h->{inbox_pending} // -1) == 0;
	select(undef, undef, undef, 0.05);
}
is(scalar($d->all_events('message_id=scan')), 5, 'a retry stores nothing');

# An event too large for one datagram to the relay (an inbound mail with a
# long text) goes as a stand-in, and the events after it as usual: once,
# the first too large stopped every later one of its drain.
my $big = $d->ws_client(types => 'all', count => 2);
is($d->post_mandrill([{ event => 'inbound', ts => 1700000600,
    msg => { email => 'in@example.com', subject => 'long', text => 'x' x 300000,
    headers => { 'Message-Id' => 'big-1' } } },
    Stack::event(type => 'open', id => 'after-big', ts => 1700000601)])
    ->{status}, 200, 'an inbound mail of 300 KB, then an open');
is($big->wait, 0, 'two frames pushed');
my @frames = $big->events;
is($frames[0]{type}, 'inbound', 'the first names its type');
ok($frames[0]{too_large} && !exists $frames[0]{text},
    'and is a stand-in: the page fetches it');
is($frames[1]{message_id}, 'after-big', 'the open after it goes whole');

done_testing;
