#!/usr/bin/env perl
# Machine opens and clicks that only the message's history tells apart
# (issue 33), through the web server: a scanner's burst of four links (two
# in one batch, two in the next), a prefetch seconds after delivery from
# an address the recipient never opened from (and the same from its usual
# one, a person's), a click on the trap link (the message's earlier click
# from that address then a scanner's too, and the address one for a day).
# Each carries "machine"; ?machine= splits them; /api/stats, its series,
# /api/stats/by and a campaign's statistics count people; no machine
# notifies; mailhooks-db reclassify judges the stored events again with
# new rules; erasing a recipient takes its usual addresses with it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $site = 'http://mh.example';
my $trap = "$site/api/trap";
my $s = Stack->new(env => { MAILHOOKS_PUBLIC_URL => $site });

my $chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 '
    . '(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
my $t0 = int(time) - 7200;

sub ev {
	my (%o) = @_;
	my $e = Stack::event(id => $o{id}, type => $o{type}, ts => $t0 + $o{at},
	    email => $o{email}, url => $o{url});
	$e->{user_agent} = $o{type} =~ /open|click/ ? $chrome : undef;
	$e->{ip} = $o{ip};
	$e->{msg}{metadata} = { user_id => 'admin' };
	$e->{msg}{tags} = ['hist'];
	return $e;
}
sub post {
	my $note = shift;
	my $r = $s->post_mandrill([@_]);
	is($r->{status}, 200, $note->{_note}) or diag($r->{content});
}
sub events_of {
	my ($id) = @_;
	return @{ ($s->get_json("/api/events?message_id=$id&limit=100"))[1]{events} // [] };
}
sub wait_count {
	my ($id, $want) = @_;
	my @e;
	Stack::wait_for(15, sub { @e = events_of($id); @e >= $want });
	return @e;
}

# bob's usual address: a person's open of an earlier message.
post({ _note => "bob's open from home" },
    ev(id => 'm0', type => 'open', at => 0, email => 'bob@example.com', ip => '198.51.100.5'));
wait_count('m0', 1);

# A prefetch: an open 2 s after delivery from elsewhere. The same 1 s
# after delivery from his usual address is his.
post({ _note => 'two messages delivered' },
    ev(id => 'm1', type => 'send', at => 100, email => 'bob@example.com'),
    ev(id => 'm2', type => 'send', at => 200, email => 'bob@example.com'));
wait_count('m1', 1);
post({ _note => 'opens soon after' },
    ev(id => 'm1', type => 'open', at => 102, email => 'bob@example.com', ip => '192.0.2.50'),
    ev(id => 'm2', type => 'open', at => 201, email => 'bob@example.com', ip => '198.51.100.5'));
post({ _note => 'bob opens m1 himself later' },
    ev(id => 'm1', type => 'open', at => 900, email => 'bob@example.com', ip => '198.51.100.5'));
my @m1 = sort { $a->{seq} <=> $b->{seq} } grep { $_->{type} eq 'open' } wait_count('m1', 3);
is_deeply([ map { $_->{machine} } @m1 ], [ 'prefetch', undef ],
    'm1: the open 2 s after delivery from an unknown address is a prefetch, the later one his');
my ($m2) = grep { $_->{type} eq 'open' } wait_count('m2', 2);
is($m2->{machine}, undef, 'm2: 1 s after delivery but from his usual address: his');

# A scanner's burst: four links in 2 s from one address, over two batches.
post({ _note => 'a burst, its first half' },
    map { ev(id => 'm3', type => 'click', at => 300, email => 'carol@example.com',
        ip => '203.0.113.77', url => "https://shop.example/p$_") } 1, 2);
wait_count('m3', 2);
post({ _note => 'its second half' },
    ev(id => 'm3', type => 'click', at => 301, email => 'carol@example.com', ip => '203.0.113.77',
        url => 'https://shop.example/p3'),
    ev(id => 'm3', type => 'click', at => 302, email => 'carol@example.com', ip => '203.0.113.77',
        url => 'https://shop.example/p4'));
# A person clicking one link twice is no burst.
post({ _note => 'a person clicks one link twice' },
    map { ev(id => 'm4', type => 'click', at => 310 + $_, email => 'dan@example.com',
        ip => '198.51.100.44', url => 'https://shop.example/one') } 0, 1);
my @m3 = wait_count('m3', 4);
is_deeply([ map { $_->{machine} } @m3 ], [ ('burst') x 4 ], "the burst's four clicks are a machine's")
    or diag(encode_json(\@m3));
is_deeply([ map { $_->{machine} } wait_count('m4', 2) ], [ undef, undef ], 'one link twice: a person');

# The trap link: a click on it is a scanner's, and so is the message's
# earlier click from that address; the address is a scanner's for a day.
post({ _note => 'a click that looks like a person' },
    ev(id => 'm5', type => 'click', at => 400, email => 'erin@example.com', ip => '198.18.0.9',
        url => 'https://shop.example/sale'));
wait_count('m5', 1);
post({ _note => 'the trap link clicked' },
    ev(id => 'm5', type => 'click', at => 430, email => 'erin@example.com', ip => '198.18.0.9', url => $trap));
my @m5 = wait_count('m5', 2);
ok(Stack::wait_for(10, sub { @m5 = events_of('m5'); !grep { ($_->{machine} // '') ne 'scanner' } @m5 }),
    'the trap click and the earlier click from its address: a scanner\'s')
    or diag(encode_json(\@m5));
post({ _note => 'an open from the trapped address' },
    ev(id => 'm6', type => 'open', at => 1000, email => 'frank@example.com', ip => '198.18.0.9'));
is((wait_count('m6', 1))[0]{machine}, 'scanner', '... which is a scanner\'s for a day');
post({ _note => 'and a day later' },
    ev(id => 'm7', type => 'open', at => 430 + 86400 + 5, email => 'gina@example.com', ip => '198.18.0.9'));
is((wait_count('m7', 1))[0]{machine}, undef, '... then no longer');

# The filter.
my ($st, $p) = $s->get_json('/api/events?machine=1&limit=100');
is_deeply([ sort map { $_->{message_id} } @{ $p->{events} } ], [ 'm1', ('m3') x 4, 'm5', 'm5', 'm6' ],
    'machine=1: the prefetch, the burst, the trapped clicks, the learned address');

# Rates count people. Opens: m0, m1 (later), m2, m7 a person's; m1's
# prefetch and m6 a machine's. Clicks: m4's two a person's; m3's four and
# m5's two a machine's.
my $win = "since=" . ($t0 - 10) . "&until=" . ($t0 + 5000);
(undef, $p) = $s->get_json("/api/stats?$win");
is_deeply([ @$p{qw(machine_opens machine_clicks)}, @{ $p->{counts} }{qw(open click)} ], [ 2, 6, 3, 2 ],
    '/api/stats: opens and clicks are people\'s, machine_opens and machine_clicks apart')
    or diag(encode_json($p));
(undef, $p) = $s->get_json("/api/stats?since=" . ($t0 + 100) . "&until=" . ($t0 + 800));
is_deeply([ @$p{qw(machine_opens machine_clicks)}, @{ $p->{counts} }{qw(open click)} ], [ 1, 6, 1, 2 ],
    '... and inside an hour, counted event by event, the same way') or diag(encode_json($p));
(undef, $p) = $s->get_json("/api/stats/series?bucket=hour&$win");
my $sum = 0;
$sum += $_ for @{ $p->{counts}{click} };
is($sum, 2, 'the series counts people\'s clicks');
my ($row) = grep { $_->{value} eq 'hist' } @{ ($s->get_json('/api/stats/by?field=tag'))[1]{rows} // [] };
is_deeply([ @$row{qw(unique_opens machine_opens unique_clicks machine_clicks)} ], [ 4, 1, 1, 2 ],
    '/api/stats/by: messages opened or clicked by a person, and only by machines') or diag(encode_json($row));
my (undef, $sm) = $s->get_json('/api/messages/m3');
is_deeply([ map { $_ // 0 } @$sm{qw(person_clicks machine_clicks)} ], [ 0, 4 ],
    "the burst's summary: four machine clicks");
(undef, $sm) = $s->get_json('/api/messages/m5');
is_deeply([ map { $_ // 0 } @$sm{qw(person_clicks machine_clicks)} ], [ 0, 2 ],
    'the trapped message\'s: its earlier click recounted a machine\'s');

# Notifications: a person's opens and clicks only. The click before the
# trap came alone and notified before it was known (said in the docs).
my %told;
Stack::wait_for(10, sub {
	%told = ();
	$told{ $_->{data}{message_id} }++
	    for @{ ($s->get_json('/api/notifications/admin?limit=100'))[1]{notifications} // [] };
	($told{m4} // 0) == 2 && $told{m7} });
is_deeply([ map { $told{$_} // 0 } qw(m0 m1 m2 m3 m4 m6 m7) ], [ 1, 1, 1, 0, 2, 0, 1 ],
    'notified: the people\'s opens and clicks; not the prefetch, the burst, the learned scanner')
    or diag(encode_json(\%told));

# mailhooks-db reclassify: new rules (a burst is now 0 s wide, a prefetch
# 0 s) judge the stored events again.
{
	open my $fh, '<', "$Stack::ROOT/core/machine-rules.txt" or die;
	my $rules = do { local $/; <$fh> };
	$rules =~ s/^burst-seconds \d+/burst-seconds 0/m;
	$rules =~ s/^prefetch-seconds \d+/prefetch-seconds 0/m;
	my $file = $s->home . '/rules.txt';
	open my $out, '>', $file or die;
	print $out $rules;
	close $out;
	chmod 0644, $file;
	local $ENV{MAILHOOKS_MACHINE_RULES} = $file;
	local $ENV{MAILHOOKS_PUBLIC_URL} = $site;
	my ($rc, $said) = $s->admin('reclassify');
	is($rc, 0, 'reclassify ran');
	my $r = eval { decode_json($said) } // {};
	ok($r->{messages} >= 8 && $r->{events_changed} >= 3, "it says what it did: $said");
	my ($rc2, $again) = $s->admin('reclassify');
	like($again, qr/"events_changed":0/, 'judged again with the same rules: nothing changes');
}
@m1 = sort { $a->{seq} <=> $b->{seq} } grep { $_->{type} eq 'open' } events_of('m1');
is($m1[0]{machine}, undef, 'a prefetch 0 s wide: m1\'s early open a person\'s now');
@m3 = sort { $a->{seq} <=> $b->{seq} } events_of('m3');
is_deeply([ map { $_->{machine} } @m3 ], [ 'burst', 'burst', undef, undef ],
    'a burst 0 s wide: only the two clicks of one second are one') or diag(encode_json(\@m3));
is_deeply([ map { $_->{machine} } events_of('m5') ], [ 'scanner', 'scanner' ], 'the trap holds whatever the rules');
(undef, $sm) = $s->get_json('/api/messages/m3');
is_deeply([ @$sm{qw(person_clicks machine_clicks)} ], [ 2, 2 ], 'the summary folded again');
(undef, $p) = $s->get_json("/api/stats?$win");
is_deeply([ @$p{qw(machine_opens machine_clicks)}, @{ $p->{counts} }{qw(open click)} ], [ 1, 4, 4, 4 ],
    '/api/stats counts as the events now say') or diag(encode_json($p));

# Erasing bob takes his usual addresses too: his next early open from
# home is a prefetch again.
is($s->send_json('DELETE', '/api/recipients/bob@example.com')->{status}, 200, 'bob erased');
post({ _note => 'a new message to bob, opened at once from home' },
    ev(id => 'm8', type => 'send', at => 2000, email => 'bob@example.com'),
    ev(id => 'm8', type => 'open', at => 2001, email => 'bob@example.com', ip => '198.51.100.5'));
my ($m8) = grep { $_->{type} eq 'open' } wait_count('m8', 2);
is($m8->{machine}, 'prefetch', 'his usual address went with him');

# The trap link's page: anybody, nothing kept.
my $res = $s->get_anon('/api/trap');
is($res->{status}, 200, 'GET /api/trap: 200');
like($res->{content}, qr/noindex/, '... a page asking not to be indexed');

done_testing();
