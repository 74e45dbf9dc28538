#!/usr/bin/env perl
# The relay's care for its clients: it pings idle ones (through the web
# server's tunnel), and disconnects one that stops reading rather than
# letting it hold events without bound, while a client that keeps up gets
# every event.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Test::More;
use Time::HiRes qw(time);

# A bare WebSocket client, so the test sees frames as they are on the wire.
sub ws_open {
	my ($port, $path, %o) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp') or die "connect: $!";
	setsockopt($sock, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf}) if $o{rcvbuf};
	print $sock "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n";
	my $head = '';
	while ($head !~ /\r\n\r\n/) {
		sysread($sock, $head, 1, length $head) or die 'handshake EOF';
	}
	die "handshake: $head" unless $head =~ m{^HTTP/1.1 101};
	return $sock;
}

sub read_exact {
	my ($sock, $n, $deadline) = @_;
	my $buf = '';
	my $sel = IO::Select->new($sock);
	while (length $buf < $n) {
		my $left = $deadline - time;
		return undef if $left <= 0 || !$sel->can_read($left);
		my $got = sysread($sock, $buf, $n - length $buf, length $buf);
		return undef unless $got;
	}
	return $buf;
}

# Returns (opcode, payload), or () on EOF or timeout.
sub ws_frame {
	my ($sock, $deadline) = @_;
	my $h = read_exact($sock, 2, $deadline) // return;
	my ($b0, $b1) = unpack 'CC', $h;
	my $len = $b1 & 0x7f;
	if ($len == 126) {
		$len = unpack 'n', read_exact($sock, 2, $deadline) // return;
	} elsif ($len == 127) {
		$len = unpack 'Q>', read_exact($sock, 8, $deadline) // return;
	}
	my $payload = $len ? read_exact($sock, $len, $deadline) : '';
	return unless defined $payload;
	return ($b0 & 0x0f, $payload);
}

my $s = Stack->new(env => { MAILHOOKS_RELAY_PING => 1 });

# Idle clients are pinged, through lighttpd's tunnel.
my $idle = ws_open($s->port, '/ws?types=open&ticket=' . $s->ws_ticket);
my ($op, $deadline) = (undef, time + 5);
while (time < $deadline) {
	($op) = ws_frame($idle, $deadline);
	last if !defined $op || $op == 9;
}
is($op, 9, 'an idle client is pinged');
close $idle;

# Refused at the handshake, with a JSON error: an unknown type name, one
# after a long query parameter (whose length once ended the reading of
# the query and let the default through), types given twice.
sub handshake {
	my ($port, $target) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
	    or die;
	print $c "GET $target HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	    . "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n";
	my ($answer, $buf) = ('', '');
	my $deadline = time + 5;
	while (time < $deadline && $answer !~ /\r\n\r\n.*\}\n/s &&
	    $answer !~ /^HTTP\/1.1 101/) {
		my $rin = '';
		vec($rin, fileno($c), 1) = 1;
		last unless select($rin, undef, undef, 0.2) >= 0;
		my $n = sysread($c, $buf, 4096);
		last if defined $n && $n == 0;
		$answer .= $buf if $n;
	}
	close $c;
	return $answer;
}
for my $case (['/ws?types=teleport', 'an unknown type'],
    ['/ws?pad=' . ('x' x 300) . '&types=teleport', 'after a long parameter'],
    ['/ws?types=open&types=click', 'types given twice'],
    ['/ws?types=', 'no type at all']) {
	for my $port ($s->{relay_port}, $s->port) {
		my $answer = handshake($port, $case->[0]);
		my $via = $port == $s->port ? 'through the web server' : 'at the relay';
		like($answer, qr{^HTTP/1.[01] 400}, "$case->[1]: 400 $via");
		like($answer, qr{\{"error":"bad_parameter","detail":"[^"]+"\}},
		    "$case->[1]: a JSON error $via");
	}
}
like(handshake($s->{relay_port}, '/ws?pad=' . ('x' x 300) . '&types=open'
    . '&ticket=' . $s->ws_ticket),
    qr{^HTTP/1.1 101}, 'a good subscription after a long parameter is taken');

# One client stops reading; another keeps up. Large subjects, so that the
# kernel's socket buffers fill long before the relay's ring of 4096 does.
my $n = 8000;
my $subject = 'x' x 2000;
my $slow = ws_open($s->{relay_port}, '/ws?types=all&ticket=' . $s->ws_ticket,
    rcvbuf => 4096);
my $good = $s->ws_client(types => 'open', count => $n, timeout => 60);
for my $b (0 .. $n / 1000 - 1) {
	my @batch = map { Stack::event(id => "m-$b-$_", ts => 1700000000 + $_,
	    subject => $subject) } 1 .. 1000;
	my $r = $s->post_mandrill(\@batch);
	is($r->{status}, 200, "batch $b accepted");
}
is($good->wait, 0, 'the client that keeps up got all its frames');
my @got = $good->events;
is(scalar @got, $n, "all $n of them");
is_deeply([map { $_->{seq} } @got], [1 .. $n], 'in seq order, none twice');

my ($frames, $closed) = (0, 0);
$deadline = time + 20;
while (1) {
	my ($o) = ws_frame($slow, $deadline);
	if (!defined $o) { $closed = time < $deadline; last }
	$frames++ if $o == 1;
	if ($o == 8) { $closed = 1; last }
}
ok($closed, "the client that stopped reading was disconnected") or diag "read $frames frames, deadline left " . ($deadline - time);
cmp_ok($frames, '<', $n, "after $frames of $n frames");
like($s->log, qr/fell \d+ events behind; closing/, 'and the relay says why');


# A second instance on the same data directory is refused at once, and
# the first keeps serving, its relay with it.
{
	my ($port, $server, $home) = (Stack::free_port(), Stack::server(),
	    $s->home);
	my $out = `SERVER=$server PORT=$port MAILHOOKS_HOME=$home sh $Stack::ROOT/run.sh 2>&1`;
	is($? >> 8, 1, 'a second instance on the same data directory exits 1') or diag $out;
	like($out, qr/another mailhooks instance runs on/, '... saying why');
	my ($st, $h) = $s->get_json('/api/health');
	is($h->{relay}, 'up', 'the first one\'s relay is still up');
}

done_testing;
