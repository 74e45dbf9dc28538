#!/usr/bin/env perl
# Slow clients are cut: hundreds of uploads to the public webhook that send
# a byte now and then (more than Apache has workers) once stopped Apache
# answering anyone. The web server now drops a client slower than 500
# bytes a second, and a webhook posted meanwhile is answered.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);
use POSIX ();

my $n = 420;
my $s = Stack->new();
my @slow;
for (1 .. $n) {
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port)
	    or last;
	# A complete header, then a body that trickles.
	print $c "POST /webhooks/mandrill HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    . "Content-Type: application/x-www-form-urlencoded\r\n"
	    . "Content-Length: 100000\r\n\r\nmandrill_events=";
	push @slow, $c;
}
is(scalar @slow, $n, "$n slow uploads open");
my $t0 = time;
my $deadline = $t0 + 90;
my $answered;
my $pid = fork // die;
if ($pid == 0) {
	my $r = $s->post_mandrill([Stack::event(id => 'during-slowloris')]);
	exit($r->{status} == 200 ? 0 : 1);
}
# Keep trickling (a byte every 2 s, far below 500 bytes a second) while
# the webhook waits.
my $done;
while (time < $deadline) {
	for my $c (@slow) {
		next unless $c;
		local $SIG{PIPE} = 'IGNORE';
		$c = undef unless syswrite($c, '[');
	}
	for (1 .. 20) {
		my $w = waitpid($pid, POSIX::WNOHANG());
		if ($w == $pid) { $done = $?; last }
		sleep 0.1;
	}
	last if defined $done;
}
ok(defined $done && $done == 0, sprintf('a webhook posted meanwhile is '
    . 'answered 200 (after %.1f s)', time - $t0));
# A client the server cut finds its socket readable: an answer (408) or
# the end. Apache cuts them (mod_reqtimeout); lighttpd, whose one thread
# serves others meanwhile anyway, cuts a client only once it is idle.
SKIP: {
	skip 'lighttpd has no minimum rate, and needs none here', 1
	    if Stack::server() eq 'lighttpd';
	my $cut = 0;
	my $until = time + 20;
	while (time < $until) {
		$cut = 0;
		for my $c (@slow) {
			if (!defined $c) { $cut++; next }
			my $rin = '';
			vec($rin, fileno($c), 1) = 1;
			$cut++ if select(my $r = $rin, undef, undef, 0) > 0;
		}
		last if $cut == $n;
		sleep 0.5;
	}
	is($cut, $n, "every slow upload was cut ($cut of $n)");
}
kill 'KILL', $pid unless defined $done;
close $_ for grep { defined } @slow;
done_testing;
