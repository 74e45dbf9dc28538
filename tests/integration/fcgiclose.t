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
use FastCGI;
use IO::Select;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);
use Test::More;

my $max_body = 100 * 1024;
my $fcgi = FastCGI->start(env => { MANDRILL_WEBHOOK_KEY => 'close-key',
    MAILHOOKS_MAX_BODY => $max_body });
ok($fcgi->listening, 'one FastCGI process listens') or BAIL_OUT('no process');
my $pid = $fcgi->pid;

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
my $c1 = $fcgi->send_request('GET', '/api/health', '');
my $a1 = FastCGI::read_answer($c1);
ok(defined $a1 && FastCGI::status_of($a1) == 200, 'a request is answered');
ok(closed_within($c1, 1), 'and its connection closed by the program');
my $t0 = time;
my $c2 = $fcgi->send_request('GET', '/api/health', '');
my $a2 = FastCGI::read_answer($c2);
my $took = time - $t0;
ok(defined $a2 && FastCGI::status_of($a2) == 200,
    'the next is answered with the first still open on this side');
cmp_ok($took, '<', 1.5, sprintf('at once (%.3f s), not after libfcgi\'s '
    . '2 s wait for the web server to close', $took));
close $c1;
close $c2;

# 2. A webhook's body is read in full before the answer: the same.
my $body = 'mandrill_events=' . Stack::form_encode('[]');
my $c3 = $fcgi->send_request('POST', '/webhooks/mandrill', $body);
my $a3 = FastCGI::read_answer($c3);
ok(defined $a3, 'a webhook without a signature is answered');
is(FastCGI::status_of($a3 // ''), 403, 'with 403');
ok(closed_within($c3, 1), 'and closed at once');
close $c3;

# 3. A body refused before it is read (larger than MAILHOOKS_MAX_BODY, and
# more than the program reads to close fast): the answer arrives whole and
# the program goes on to the next request once this side closes.
my $big = 'x' x ($max_body + 200 * 1024);
my $c4 = $fcgi->send_request('POST', '/webhooks/mandrill', $big);
my $a4 = FastCGI::read_answer($c4);
ok(defined $a4, 'a body too large gets its answer whole');
is(FastCGI::status_of($a4 // ''), 413, 'a 413');
my ($json) = ($a4 // '') =~ /\r\n\r\n(.*)\z/s;
is(eval { decode_json($json)->{error} }, 'body_too_large',
    'with its JSON error') or diag $a4;
close $c4;
my $c5 = $fcgi->send_request('GET', '/api/health', '');
my $a5 = FastCGI::read_answer($c5);
ok(defined $a5 && FastCGI::status_of($a5) == 200,
    'then the next request is served');
close $c5;

ok(!waitpid($pid, WNOHANG), 'the process is still running');
done_testing;
