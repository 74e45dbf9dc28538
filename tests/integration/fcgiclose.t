#!/usr/bin/env perl
# How mailhooks.fcgi ends a FastCGI connection. With the input read to its
# end it closes at once and accepts the next request, without waiting for
# the web server to close first (libfcgi's own close waits up to 2 s for
# that, and the process accepts nothing meanwhile). With input left unread
# (a body refused as too large), it still answers in full and closes the
# slow way, so that the web server's end is not reset under the answer.
# One process, started by spawn-fcgi, spoken to in FastCGI by this test.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use JSON::PP;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);
use Test::More;

my $home = tempdir('mailhooks-test-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $sock = "$home/fcgi.sock";
my $max_body = 100 * 1024;

my $pid = fork // die "fork: $!";
if ($pid == 0) {
	open STDOUT, '>', "$home/out.log" or die;
	open STDERR, '>', "$home/err.log" or die;
	$ENV{MAILHOOKS_HOME} = $home;
	$ENV{MANDRILL_WEBHOOK_KEY} = 'close-key';
	$ENV{MAILHOOKS_MAX_BODY} = $max_body;
	exec 'spawn-fcgi', '-n', '-s', $sock, '--',
	    "$Stack::ROOT/cgi-bin/mailhooks.fcgi";
	die "exec: $!";
}
END { if ($pid) { kill 'TERM', $pid; waitpid $pid, 0 } }
for (1 .. 100) { last if -S $sock; sleep 0.05 }
ok(-S $sock, 'one FastCGI process listens') or BAIL_OUT('no process');

sub record {
	my ($type, $content) = @_;
	my $pad = (8 - length($content) % 8) % 8;
	return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0)
	    . $content . ("\0" x $pad);
}

sub pairs {
	my (%p) = @_;
	return join '', map {
		my ($k, $v) = ($_, $p{$_});
		(length $k < 128 ? pack('C', length $k) : pack('N', length($k) | 0x80000000))
		. (length $v < 128 ? pack('C', length $v) : pack('N', length($v) | 0x80000000))
		. $k . $v
	} sort keys %p;
}

# Sends one request (keep_conn 0, as lighttpd and mod_fcgid do) with the
# body in STDIN records; returns the connection.
sub send_request {
	my ($method, $uri, $body, %extra) = @_;
	my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock)
	    or die "connect: $!";
	my %params = (REQUEST_METHOD => $method, REQUEST_URI => $uri,
	    SCRIPT_NAME => $uri =~ s/\?.*//r, QUERY_STRING => '',
	    SERVER_NAME => '127.0.0.1', SERVER_PORT => '80',
	    HTTP_HOST => '127.0.0.1', CONTENT_LENGTH => length $body,
	    CONTENT_TYPE => 'application/x-www-form-urlencoded', %extra);
	my $out = record(1, pack('nCx5', 1, 0)) . record(4, pairs(%params))
	    . record(4, '');
	for (my $at = 0; $at < length $body; $at += 32768) {
		$out .= record(5, substr($body, $at, 32768));
	}
	$out .= record(5, '');
	# The program may answer (413) before reading it all: write what the
	# socket takes while reading is not needed yet.
	$c->blocking(0);
	my $sel = IO::Select->new($c);
	while (length $out) {
		$sel->can_write(5) or last;
		my $n = syswrite($c, $out);
		last if !defined $n;
		substr($out, 0, $n) = '';
	}
	$c->blocking(1);
	return $c;
}

# Reads records up to FCGI_END_REQUEST; returns the STDOUT bytes (undef if
# the connection ended first).
sub read_answer {
	my ($c) = @_;
	my ($buf, $stdout) = ('', '');
	my $sel = IO::Select->new($c);
	while ($sel->can_read(10)) {
		my $n = sysread($c, $buf, 65536, length $buf);
		return undef if !$n;
		while (length $buf >= 8) {
			my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
			last if length $buf < 8 + $len + $pad;
			my $content = substr($buf, 8, $len);
			substr($buf, 0, 8 + $len + $pad) = '';
			$stdout .= $content if $type == 6;
			return $stdout if $type == 3;
		}
	}
	return undef;
}

sub status_of { $_[0] =~ /^Status: (\d+)/m ? $1 : 200 }

# Whether the program closed its end: EOF within the time given.
sub closed_within {
	my ($c, $seconds) = @_;
	my $sel = IO::Select->new($c);
	return 0 unless $sel->can_read($seconds);
	my $n = sysread($c, my $b, 1);
	return defined $n && $n == 0;
}

# 1. Read to its end: the connection is closed at once, and the next
# request is answered while this one is still open on the test's side.
my $c1 = send_request('GET', '/api/health', '');
my $a1 = read_answer($c1);
ok(defined $a1 && status_of($a1) == 200, 'a request is answered');
ok(closed_within($c1, 1), 'and its connection closed by the program');
my $t0 = time;
my $c2 = send_request('GET', '/api/health', '');
my $a2 = read_answer($c2);
my $took = time - $t0;
ok(defined $a2 && status_of($a2) == 200,
    'the next is answered with the first still open on this side');
cmp_ok($took, '<', 1.5, sprintf('at once (%.3f s), not after libfcgi\'s '
    . '2 s wait for the web server to close', $took));
close $c1;
close $c2;

# 2. A webhook's body is read in full before the answer: the same.
my $body = 'mandrill_events=' . Stack::form_encode('[]');
my $c3 = send_request('POST', '/webhooks/mandrill', $body);
my $a3 = read_answer($c3);
ok(defined $a3, 'a webhook without a signature is answered');
is(status_of($a3 // ''), 403, 'with 403');
ok(closed_within($c3, 1), 'and closed at once');
close $c3;

# 3. A body refused before it is read (larger than MAILHOOKS_MAX_BODY, and
# more than the program reads to close fast): the answer arrives whole and
# the program goes on to the next request once this side closes.
my $big = 'x' x ($max_body + 200 * 1024);
my $c4 = send_request('POST', '/webhooks/mandrill', $big);
my $a4 = read_answer($c4);
ok(defined $a4, 'a body too large gets its answer whole');
is(status_of($a4 // ''), 413, 'a 413');
my ($json) = ($a4 // '') =~ /\r\n\r\n(.*)\z/s;
is(eval { decode_json($json)->{error} }, 'body_too_large',
    'with its JSON error') or diag $a4;
close $c4;
my $c5 = send_request('GET', '/api/health', '');
my $a5 = read_answer($c5);
ok(defined $a5 && status_of($a5) == 200, 'then the next request is served');
close $c5;

ok(!waitpid($pid, WNOHANG), 'the process is still running');
done_testing;
