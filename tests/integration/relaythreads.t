#!/usr/bin/env perl
# The relay's threads: clients are dealt out to them in turn, and each
# client gets every event whichever thread holds it. And the relay's own
# edges: a bad MAILHOOKS_RELAY_THREADS, a port already taken, SIGTERM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

my $RELAY = "$Stack::ROOT/ws-relay/mailhooks-relay";

# Three threads, twelve clients through lighttpd's tunnel: four each.
my $s = Stack->new(env => { MAILHOOKS_RELAY_THREADS => 3 });
my @clients = map { $s->ws_client(types => 'open,click', count => 10) } 1 .. 12;
is($s->post_mandrill([map { Stack::event(id => "b$_") } 1 .. 5])->{status},
    200, 'a batch of five accepted');
is($s->post_mandrill([Stack::event(id => "s$_", type => 'click')])->{status},
    200, "single click s$_ accepted") for 1 .. 5;
my @want = ((map { "b$_" } 1 .. 5), map { "s$_" } 1 .. 5);
my $all = 1;
for my $i (0 .. $#clients) {
	my $status = $clients[$i]->wait;
	my @ev = $clients[$i]->events;
	my @ids = map { $_->{message_id} } @ev;
	my @seq = map { $_->{seq} } @ev;
	my $ok = $status == 0 && "@ids" eq "@want"
	    && "@seq" eq join(' ', sort { $a <=> $b } @seq);
	diag("client $i: status $status, got @ids") unless $ok;
	$all &&= $ok;
}
ok($all, 'each of the 12 clients got all 10 events, in order, once');
like($s->log, qr/listening on 127\.0\.0\.1:\d+ \(3 threads\)/,
    'the relay says it runs three threads');
$s->stop;

my $dir = tempdir(CLEANUP => 1);

# Runs the relay with %env; returns (exit status, stderr), or kills it
# after $seconds.
sub relay_run {
	my ($seconds, %env) = @_;
	my $pid = fork // die;
	if ($pid == 0) {
		$ENV{MAILHOOKS_HOME} = $dir;
		$ENV{$_} = $env{$_} for keys %env;
		open STDERR, '>', "$dir/stderr" or die;
		exec $RELAY or die;
	}
	my $deadline = time + $seconds;
	while (time < $deadline) {
		return ($? >> 8, slurp("$dir/stderr"))
		    if waitpid($pid, WNOHANG) == $pid;
		sleep 0.02;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	return (undef, slurp("$dir/stderr"));
}

sub slurp {
	open my $fh, '<', $_[0] or return '';
	local $/;
	return <$fh> // '';
}

for my $bad ('0', '17', 'two', '-1') {
	my ($rc, $err) = relay_run(5, MAILHOOKS_RELAY_PORT => Stack::free_port(),
	    MAILHOOKS_RELAY_THREADS => $bad);
	is($rc, 1, "MAILHOOKS_RELAY_THREADS=$bad: refused");
	like($err, qr/MAILHOOKS_RELAY_THREADS=\Q$bad\E is out of range/,
	    '... saying which variable');
}

# A port someone else listens on: the relay says so and exits, rather
# than sharing it.
my $taken = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 5, ReuseAddr => 1) or die;
my ($rc, $err) = relay_run(5, MAILHOOKS_RELAY_PORT => $taken->sockport);
is($rc, 1, 'a port already taken: the relay exits 1');
like($err, qr/cannot listen on 127\.0\.0\.1:\d+: Address already in use/,
    '... saying why');
close $taken;

# SIGTERM with a client connected to each thread: a clean, prompt exit,
# and the datagram socket is removed.
my $port = Stack::free_port();
my $pid = fork // die;
if ($pid == 0) {
	$ENV{MAILHOOKS_HOME} = $dir;
	$ENV{MAILHOOKS_RELAY_PORT} = $port;
	$ENV{MAILHOOKS_RELAY_THREADS} = 2;
	open STDERR, '>', "$dir/stderr" or die;
	exec $RELAY or die;
}
# Ready once it says so: it listens before its datagram socket is bound.
my $deadline = time + 5;
sleep 0.02 until slurp("$dir/stderr") =~ /listening on/ || time > $deadline;
my @held;
while (@held < 2 && time < $deadline) {
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
	if ($c) { push @held, $c } else { sleep 0.05 }
}
is(scalar @held, 2, 'two clients connected');
ok(-S "$dir/relay.sock", 'the datagram socket is there');
# A second relay on the same data directory would take relay.sock over:
# it is refused, and the first keeps it.
my $inode = (stat "$dir/relay.sock")[1];
my ($rc2, $err2) = relay_run(5, MAILHOOKS_RELAY_PORT => Stack::free_port());
is($rc2, 1, 'a second relay on the same data directory exits 1');
like($err2, qr/another relay serves/, '... saying why');
is((stat "$dir/relay.sock")[1], $inode, '... and the first keeps its socket');
my $t0 = time;
kill 'TERM', $pid;
my $gone = 0;
while (time < $t0 + 5) {
	if (waitpid($pid, WNOHANG) == $pid) { $gone = 1; last }
	sleep 0.02;
}
ok($gone, sprintf('SIGTERM: the relay exited (after %.2f s)', time - $t0));
is($? >> 8, 0, '... with status 0') if $gone;
ok(!-e "$dir/relay.sock", '... and removed its datagram socket');
kill 'KILL', $pid unless $gone;

done_testing;
