#!/usr/bin/env perl
# The relay killed again and again under load: every webhook still
# succeeds, run.sh starts the relay again each time, and a client that
# catches up with /api/events?after=SEQ has every event.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $s = Stack->new;
my $home = $s->home;
my ($clients, $until) = (3, time + 5);
my @pids;
for my $c (1 .. $clients) {
	my $pid = fork // die;
	if ($pid == 0) {
		open my $log, '>', "$home/acked-$c" or die;
		my ($n, $bad) = (0, 0);
		while (time < $until) {
			my $id = "c$c-" . ++$n;
			if ($s->post_mandrill([Stack::event(id => $id)])->{status}
			    == 200) {
				print $log "$id\n";
			} else {
				$bad++;
			}
		}
		close $log;
		POSIX::_exit($bad > 200 ? 200 : $bad);
	}
	push @pids, $pid;
}
my %killed;
while (time < $until) {
	sleep 0.7;
	my ($relay) = $s->pids_named('mailhooks-relay');
	next unless $relay && !$killed{$relay};
	kill 'KILL', $relay;
	$killed{$relay} = 1;
}
my $bad = 0;
for (@pids) {
	waitpid($_, 0);
	$bad += $? >> 8;
}
cmp_ok(scalar keys %killed, '>=', 4, scalar(keys %killed)
    . ' relays killed under load');
is($bad, 0, 'every webhook succeeded meanwhile');

my ($st, $h);
my $deadline = time + 10;
do { ($st, $h) = $s->get_json('/api/health') }
    while ($h->{relay} ne 'up' && time < $deadline && sleep 0.1);
is($h->{relay}, 'up', 'the relay was started again');
ok(!grep({ $killed{$_} } $s->pids_named('mailhooks-relay')),
    'a new one');

my %acked;
for my $c (1 .. $clients) {
	open my $fh, '<', "$home/acked-$c" or die;
	chomp(my @ids = <$fh>);
	$acked{$_} = 1 for @ids;
}
my %caught = map { $_->{message_id} => 1 } $s->wait_events(scalar keys %acked);
my @missing = grep { !$caught{$_} } keys %acked;
is(scalar @missing, 0, scalar(keys %acked) . ' events acknowledged, all '
    . 'there for a client catching up with after=SEQ');
# The web server may still count the relay's address as down for a moment
# after the kills (its proxy holds a backend off after a refused
# connection): the client tries again for a few seconds.
my $ws;
for my $try (1 .. 10) {
	$ws = eval { $s->ws_client(types => 'open', count => 1) } and last;
	diag("try $try: $@");
	sleep 0.5;
}
die 'no WebSocket client connected' unless $ws;
$s->post_mandrill([Stack::event(id => 'after-the-storm')]);
is($ws->wait, 0, 'and the live feed works again');
done_testing;
