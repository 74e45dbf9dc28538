#!/usr/bin/env perl
# The kill storm of the round-3 review, step by step: eight clients post
# signed one-event batches as fast as they are answered while a FastCGI
# process is SIGKILLed at random every 0.7 s; then the relay is SIGKILLed
# once and /ws awaited; a few more posts; then Ctrl-C.
#  - Every acknowledged event is in /api/events within 2 s of the last
#    kill: a killed process's claims are taken over at once, and so are
#    those of a live process whose handle the recovery voided (it was
#    ~60 s, the claim's lease).
#  - The relay comes back on its port.
#  - Ctrl-C leaves no process behind: a thread blocked for good on a mutex
#    a killed process held kept its process alive.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my ($clients, $seconds) = (8, 12);
my $key = 'storm-key';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key });
my $home = $s->home;

sub client {
	my ($c, $until) = @_;
	open my $log, '>', "$home/acked-$c" or die;
	$log->autoflush(1);
	my $n = 0;
	while (time < $until) {
		my $id = "s$c-" . ++$n;
		my $r = $s->post_mandrill([Stack::event(id => $id,
		    email => "r$c-$n\@d$n.example", subject => "Order $n")],
		    key => $key);
		print $log "$id\n" if $r->{status} == 200;
	}
	POSIX::_exit(0);
}

sub acked {
	my %ids;
	for my $c (1 .. $clients) {
		open my $fh, '<', "$home/acked-$c" or next;
		chomp(my @l = <$fh>);
		$ids{$_} = 1 for @l;
	}
	return \%ids;
}

sub missing {
	my ($acked) = @_;
	my %have = map { $_->{message_id} => 1 } $s->all_events;
	return grep { !$have{$_} } keys %$acked;
}

my $until = time + $seconds;
my @pids;
for my $c (1 .. $clients) {
	my $pid = fork // die;
	client($c, $until) if $pid == 0;
	push @pids, $pid;
}
my $kills = 0;
while (time < $until - 0.7) {
	sleep 0.7;
	my @fcgi = $s->pids_named('mailhooks.fcgi');
	next unless @fcgi;
	kill 'KILL', $fcgi[rand @fcgi];
	$kills++;
}
waitpid($_, 0) for @pids;
# The clients' last answers came after the last kill (a request to a
# process blocked for good waits for the watchdog): from the last of them.
my $last_kill = time;
my $acked = acked();
cmp_ok($kills, '>=', 6, "$kills FastCGI processes SIGKILLed");
cmp_ok(scalar(keys %$acked), '>', 200, scalar(keys %$acked)
    . ' events acknowledged meanwhile');

# Drained within 2 s of the last kill: nothing left waiting in the inbox
# (the clients' last answers came after it). Asked with a short timeout: a
# process blocked for good in the library (the watchdog ends it) must not
# hold the question up. Then each acknowledged event is read back through
# /api/events.
my $quick = HTTP::Tiny->new(timeout => 0.5);
my $pending;
Stack::wait_for(2, sub {
	my $r = $quick->get($s->url('/api/health'),
	    { headers => { Cookie => $s->{cookie} } });
	my $h = $r->{status} == 200 ? eval { decode_json($r->{content}) } : undef;
	$pending = $h->{inbox_pending} if $h;
	($pending // 1) == 0;
});
my $late = time - $last_kill;
ok(defined $pending && $pending == 0 && $late <= 2.5, sprintf('the inbox '
    . 'is empty %.1f s after the storm ended (%s waiting)', $late,
    $pending // '?'));
my @missing = missing($acked);
is(scalar @missing, 0, 'every acknowledged event is in /api/events')
    or diag scalar(@missing) . ' missing, e.g. ' . join ' ', (sort @missing)[0 .. 4];
ok(Stack::wait_for(70, sub { !missing($acked) }), 'and none is lost');

# The relay, killed once, listens again on its port.
my ($relay) = $s->pids_named('mailhooks-relay');
kill 'KILL', $relay;
my $ws;
Stack::wait_for(10, sub {
	my ($new) = grep { $_ != $relay } $s->pids_named('mailhooks-relay');
	return 0 unless $new;
	$ws = eval { $s->ws_client(count => 1, timeout => 10) };
	return $ws;
});
ok($ws, '/ws answers again after the relay was killed');
unlike($s->log, qr/mailhooks-relay: cannot listen/, 'on its own port');
my $r = $s->post_mandrill([Stack::event(id => 'after-the-storm')], key => $key);
is($r->{status}, 200, 'a webhook after it');
is($ws->wait, 0, 'reaches the page live') if $ws;

# Ctrl-C: every process of the stack is gone.
my $t0 = time;
$s->stop('INT');
Stack::wait_for(12, sub { !$s->processes });
is_deeply([$s->processes], [], 'no process is left after Ctrl-C');
note sprintf 'all gone %.1f s after Ctrl-C', time - $t0;
done_testing;
