#!/usr/bin/env perl
# Subscribers cannot crowd out the webhooks: the relay takes at most
# MAILHOOKS_RELAY_MAX_CLIENTS at once (past that, a 503 with a JSON error
# at the handshake), at most MAILHOOKS_RELAY_MAX_PER_ADDRESS of them from
# one address (past that, a 429), and lighttpd keeps connections to spare
# beyond it (at 1365 idle subscribers from one address it once stopped
# accepting any connection).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

# Opens a WebSocket through the stack's web server, with a ticket of its
# own, from a loopback address (127.0.0.1 unless given; any 127.x.y.z is
# this host) with these extra header lines; returns the socket and the
# head of its answer.
sub subscribe {
	my ($stack, $from, $extra) = @_;
	my $port = $stack->port;
	push @{ $stack->{pool} }, $stack->ws_tickets(200)
	    unless @{ $stack->{pool} // [] };
	my $ticket = shift @{ $stack->{pool} };
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    LocalAddr => $from // '127.0.0.1', Timeout => 10)
	    or return (undef, 'no connection');
	print $c "GET /ws?types=open&ticket=$ticket HTTP/1.1\r\n"
	    . "Host: 127.0.0.1\r\n" . ($extra // '')
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n";
	my ($head, $buf) = ('', '');
	my $deadline = time + 10;
	# The head, and a refusal's body whole (a proxy may pass it on apart).
	my $whole = sub {
		return 0 unless $head =~ /^(.*?\r\n\r\n)(.*)$/s;
		my ($h, $body) = ($1, $2);
		my ($len) = $h =~ /^content-length:\s*(\d+)/mi;
		return $h =~ m{^HTTP/1\.[01] 101} || length($body) >= ($len // 0);
	};
	while (!$whole->() && time < $deadline) {
		my $rin = '';
		vec($rin, fileno($c), 1) = 1;
		next unless select($rin, undef, undef, 0.2) > 0;
		last unless sysread($c, $buf, 4096);
		$head .= $buf;
	}
	return ($c, $head);
}

my $cap = 40;
my $s = Stack->new(env => { MAILHOOKS_RELAY_MAX_CLIENTS => $cap,
    MAILHOOKS_RELAY_MAX_PER_ADDRESS => 1000 });
my @held;
for (1 .. $cap) {
	my ($c, $head) = subscribe($s);
	push @held, $c if $head =~ m{^HTTP/1\.[01] 101};
}
is(scalar @held, $cap, "$cap subscribers taken");
my ($extra, $head) = subscribe($s);
like($head, qr{^HTTP/1\.[01] 503}, 'one more: 503');
like($head, qr{"error":"too_many_subscribers"}, 'with a JSON error');
is($s->post_mandrill([Stack::event(id => 'while-full')])->{status}, 200,
    'a webhook is answered meanwhile');
close $_ for @held;
sleep 0.5;
(my $again, $head) = subscribe($s);
like($head, qr{^HTTP/1\.[01] 101}, 'a place freed is taken again');
$s->stop;

# One address holds at most MAILHOOKS_RELAY_MAX_PER_ADDRESS; others still
# connect. The address is the one the web server saw, whatever the client
# claims in its own X-Forwarded-For.
{
	my $per = 5;
	my $t = Stack->new(env => { MAILHOOKS_RELAY_MAX_PER_ADDRESS => $per });
	my @mine;
	for (1 .. $per) {
		my ($c, $h) = subscribe($t);
		push @mine, $c if $h =~ m{^HTTP/1\.[01] 101};
	}
	is(scalar @mine, $per, "$per subscribers from one address");
	my (undef, $h) = subscribe($t);
	like($h, qr{^HTTP/1\.[01] 429}, 'one more from it: 429');
	like($h, qr{"error":"too_many_subscribers"}, 'with a JSON error');
	(undef, $h) = subscribe($t, undef,
	    "X-Forwarded-For: 10.9.9.9\r\n");
	like($h, qr{^HTTP/1\.[01] 429}, 'claiming another address changes nothing');
	(my $other, $h) = subscribe($t, '127.0.0.2');
	like($h, qr{^HTTP/1\.[01] 101}, 'another address is taken');
	is($t->post_mandrill([Stack::event(id => 'while-one-full')])->{status},
	    200, 'a webhook is answered meanwhile');
	close shift @mine;
	sleep 0.5;
	(my $again, $h) = subscribe($t);
	like($h, qr{^HTTP/1\.[01] 101}, 'a place the address freed is taken again');
}

# With the defaults: under lighttpd more idle subscribers than it once
# allowed connections (1365); under Apache, which tunnels each in one of
# its 400 workers, as many as run.sh lets the relay take (300), and one
# more refused. They come from 40 addresses, fewer than 64 from each. The
# webhooks still get through.
{
	my $apache = Stack::server() eq 'apache';
	my $want = $apache ? 300 : 1500;
	my $t = Stack->new();
	my @many;
	for my $i (1 .. $want) {
		my ($c, $h) = subscribe($t, '127.0.0.' . (1 + $i % 40));
		last unless $h =~ m{^HTTP/1\.[01] 101};
		push @many, $c;
	}
	is(scalar @many, $want, "$want idle subscribers");
	if ($apache) {
		my (undef, $h) = subscribe($t, '127.0.1.1');
		like($h, qr{^HTTP/1\.[01] 503}, 'one more refused by the relay');
	}
	is($t->post_mandrill([Stack::event(id => 'under-many')])->{status}, 200,
	    'and a webhook is answered');
	close $_ for @many;
}
done_testing;
