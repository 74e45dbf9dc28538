#!/usr/bin/env perl
# Full Mandrill batches of varied content are stored whole. A batch of a
# thousand events whose addresses and subjects share little writes tens of
# thousands of trigram records; stored in one transaction it ran Berkeley
# DB's lock region out, and acknowledged batches were set aside after five
# attempts (or the environment panicked). Two shapes: every recipient an
# Apple Hide My Email address (the traffic generator), and opens whose
# address (each on its own domain) and subject are random letters and
# digits. Every acknowledged event must be stored, nothing set aside, and
# the region never run out.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $traffic = "$Stack::ROOT/../shared/traffic/mandrill-traffic";
my $key = 'full-batch-key';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key });

my @c = ('a' .. 'z', 0 .. 9);
sub rnd { join '', map { $c[rand @c] } 1 .. $_[0] }

# The generator's traffic, every recipient at privaterelay.appleid.com
# (shared/ lies beside the checkout, as CI lays it; a checkout without it
# posts the same shape made here: a message's send, open and click).
my $gen;
if (-x $traffic) {
	my $out = `python3 $traffic post --url ${\ $s->url('/webhooks/mandrill')} --key $key --messages 15000 --relay-share 1.0 --seed 30 2>&1`;
	$gen = eval { decode_json((split /\n/, $out)[-1]) } // {};
	diag $out unless $gen->{batches};
} else {
	diag "no $traffic: Hide My Email batches made here";
	$gen = { batches => 0, events => 0, acked => 0 };
	for my $b (1 .. 25) {
		my @ev;
		while (@ev < 1000) {
			my ($id, $email) = (rnd(20), rnd(10) . '@privaterelay.appleid.com');
			my $subject = 'Order ' . int(rand 1e6) . ': your code ' . rnd(6);
			push @ev, map { Stack::event(type => $_, id => $id, email => $email,
			    subject => $subject, ts => 1700000000 + @ev) } qw(send open click);
		}
		my $r = $s->post_mandrill([@ev[0 .. 999]], key => $key);
		$gen->{batches}++;
		$gen->{events} += 1000;
		$gen->{acked} += 1000 if $r->{status} == 200;
	}
}
cmp_ok($gen->{batches} // 0, '>=', 25, "full batches posted ($gen->{batches} of them)");
is($gen->{acked}, $gen->{events}, 'each acknowledged');

# Random opens: 23 random characters an event, each address on its own
# domain.
my ($acked, $batches) = (0, 12);
for my $b (1 .. $batches) {
	my @ev = map {
		Stack::event(type => 'open', id => rnd(16),
		    ts => 1700000000 + $b * 1000 + $_,
		    email => rnd(5) . '@' . rnd(6) . '.com', subject => rnd(12))
	} 1 .. 1000;
	my $r = $s->post_mandrill(\@ev, key => $key);
	$acked += 1000 if $r->{status} == 200;
}
is($acked, $batches * 1000, 'every random batch acknowledged');

my $want = $gen->{acked} + $acked;
my %stats;
my $stored = Stack::wait_for(180, sub {
	my ($st, $o) = $s->admin('stats');
	my $h = eval { decode_json($o) } // {};
	%stats = %$h;
	($stats{inbox_pending} // 1) == 0;
});
ok($stored, 'the inbox empties');
is($stats{events}, $want, "every acknowledged event is stored ($want)");
is($stats{set_aside}, 0, 'no batch is set aside');
my $log = $s->log;
unlike($log, qr/Lock table is out|Unable to allocate|PANIC/,
    "Berkeley DB's region never ran out");
unlike($log, qr/set aside/, 'the log sets nothing aside');

# The page's history has each of them: the last random batch's events by
# address.
my ($st, $page) = $s->get_json('/api/events?limit=500');
is($st, 200, 'the events read back');
is(scalar @{ $page->{events} // [] }, 500, 'a full page of them');
done_testing;
