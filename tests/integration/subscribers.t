#!/usr/bin/env perl
# Subscribers cannot crowd out the webhooks: the relay takes at most
# MAILHOOKS_RELAY_MAX_CLIENTS at once (past that, a 503 with a JSON error
# at the handshake), and lighttpd keeps connections to spare beyond it
# (at 1365 idle subscribers it once stopped accepting any connection).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

# Opens a WebSocket through the web server; returns the socket and the
# status line of its answer.
sub subscribe {
	my ($port) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    Timeout => 10) or return (undef, 'no connection');
	print $c "GET /ws?types=open HTTP/1.1\r\nHost: 127.0.0.1\r\n"
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
my $s = Stack->new(env => { MAILHOOKS_RELAY_MAX_CLIENTS => $cap });
my @held;
for (1 .. $cap) {
	my ($c, $head) = subscribe($s->port);
	push @held, $c if $head =~ m{^HTTP/1\.[01] 101};
}
is(scalar @held, $cap, "$cap subscribers taken");
my ($extra, $head) = subscribe($s->port);
like($head, qr{^HTTP/1\.[01] 503}, 'one more: 503');
like($head, qr{"error":"too_many_subscribers"}, 'with a JSON error');
is($s->post_mandrill([Stack::event(id => 'while-full')])->{status}, 200,
    'a webhook is answered meanwhile');
close $_ for @held;
sleep 0.5;
(my $again, $head) = subscribe($s->port);
like($head, qr{^HTTP/1\.[01] 101}, 'a place freed is taken again');
$s->stop;

# With the defaults: under lighttpd more idle subscribers than it once
# allowed connections (1365); under Apache, which tunnels each in one of
# its 400 workers, as many as run.sh lets the relay take (300), and one
# more refused. The webhooks still get through.
{
	my $apache = Stack::server() eq 'apache';
	my $want = $apache ? 300 : 1500;
	my $t = Stack->new();
	my @many;
	for (1 .. $want) {
		my ($c, $h) = subscribe($t->port);
		last unless $h =~ m{^HTTP/1\.[01] 101};
		push @many, $c;
	}
	is(scalar @many, $want, "$want idle subscribers");
	if ($apache) {
		my (undef, $h) = subscribe($t->port);
		like($h, qr{^HTTP/1\.[01] 503}, 'one more refused by the relay');
	}
	is($t->post_mandrill([Stack::event(id => 'under-many')])->{status}, 200,
	    'and a webhook is answered');
	close $_ for @many;
}
done_testing;
