#!/usr/bin/env perl
# What is Apache's own: a 1000-event batch through mod_fcgid (whose default
# request limit is 128 KiB), the program run as a plain CGI program, and the
# vhost's optional basic-auth block, which leaves the webhooks public.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp ();
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Test::More;

my $key = 'apache-key';

# A 1000-event batch.
{
	my $s = Stack->new(server => 'apache',
	    env => { MANDRILL_WEBHOOK_KEY => $key });
	my @batch = map { Stack::event(id => "big-$_", ts => 1700000000 + $_,
	    subject => "Invoice $_ " . ('x' x 200)) } 1 .. 1000;
	my $r = $s->post_mandrill(\@batch, key => $key);
	is($r->{status}, 200, '1000-event batch (over 128 KiB) accepted through '
	    . 'mod_fcgid') or diag $r->{content};
	is($r->{json}{accepted}, 1000, 'all 1000 counted');
	is(scalar($s->wait_events(1000)), 1000, 'and stored');
	ok(scalar($s->pids_named('mailhooks.fcgi')) >= 1,
	    'by a FastCGI process that stays');
}

# The program as a plain CGI program (mod_cgid), for hosts without FastCGI.
{
	my $s = Stack->new(server => 'apache', env => {
	    MANDRILL_WEBHOOK_KEY => $key, MAILHOOKS_APACHE_CGI => 1 });
	my $ws = $s->ws_client(types => 'open', count => 1);
	my $r = $s->post_mandrill([Stack::event(id => 'cgi-1')], key => $key);
	is($r->{status}, 200, 'CGI: a signed webhook is answered 200')
	    or diag $r->{content};
	is($r->{json}{accepted}, 1, 'CGI: accepted');
	is($ws->wait, 0, 'CGI: the open is pushed after the answer');
	my @ev = $s->wait_events(1);
	is($ev[0]{message_id}, 'cgi-1', 'CGI: stored');
	is($s->post_mandrill([Stack::event(id => 'cgi-2')], key => 'wrong')
	    ->{status}, 403, 'CGI: a bad signature is a 403');
	my ($st, $page) = $s->get_json('/api/events');
	is($st, 200, 'CGI: the API answers');
	is(scalar @{ $page->{events} }, 1, 'CGI: one event');
	# Each process drains after its answer is sent, so it may still be
	# finishing when the answer arrives: it must be gone soon after.
	ok(Stack::wait_for(10, sub { !$s->pids_named('mailhooks.fcgi') }),
	    'CGI: no program process outlives its request')
	    or diag join ' ', $s->processes;
}

# The mod_proxy_fcgi variant: the program started apart (spawn-fcgi here).
{
	my $s = Stack->new(server => 'apache', env => {
	    MANDRILL_WEBHOOK_KEY => $key, INFOBIP_WEBHOOK_TOKEN => 'tok',
	    MAILHOOKS_APACHE_PROXY_FCGI => 1 });
	my $ws = $s->ws_client(types => 'open', count => 1);
	my $r = $s->post_mandrill([Stack::event(id => 'pf-1')], key => $key);
	is($r->{status}, 200, 'proxy_fcgi: a signed webhook is answered 200')
	    or diag $r->{content};
	is($ws->wait, 0, 'proxy_fcgi: the open is pushed');
	$r = $s->post_infobip('{"notificationType":"OPENED","messageId":"pf-2"}',
	    basic => 'tok');
	is($r->{status}, 200, 'proxy_fcgi: the basic-auth token reaches the '
	    . 'program');
	my @big = map { Stack::event(id => "pf-big-$_", subject => 'x' x 300) }
	    1 .. 1000;
	is($s->post_mandrill(\@big, key => $key)->{status}, 200,
	    'proxy_fcgi: a 1000-event batch');
	is(scalar($s->wait_events(1002)), 1002, 'proxy_fcgi: all stored');
}

# The basic-auth block.
{
	my $home = File::Temp::tempdir('mailhooks-test-XXXXXX', TMPDIR => 1,
	    CLEANUP => 1);
	system("htpasswd -cbB $home/htpasswd ops pa55 >/dev/null 2>&1") == 0
	    or die 'htpasswd';
	my $s = Stack->new(server => 'apache', home => $home, auth => 'ops:pa55',
	    env => {
	    MANDRILL_WEBHOOK_KEY => $key, INFOBIP_WEBHOOK_TOKEN => 'tok',
	    MAILHOOKS_HTPASSWD => "$home/htpasswd" });
	my $auth = 'Basic ' . encode_base64('ops:pa55', '');
	is($s->get('/')->{status}, 401, 'basic auth: the page is 401 without '
	    . 'credentials');
	is($s->get('/api/events')->{status}, 401, 'the API too');
	is($s->get('/', Authorization => $auth)->{status}, 200,
	    'the page with credentials');
	is($s->get('/api/events', Authorization => $auth)->{status}, 200,
	    'the API with credentials');
	my $r = $s->post_mandrill([Stack::event(id => 'public')], key => $key);
	is($r->{status}, 200, 'the Mandrill webhook stays public');
	$r = $s->post_infobip('{"notificationType":"OPENED","messageId":"ib"}',
	    token => 'tok', path => '/email');
	is($r->{status}, 200, 'so does /email (its token still checked)');
	is($s->post_infobip('{"notificationType":"OPENED","messageId":"ib"}',
	    path => '/email')->{status}, 401, '(and required)');
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $s->port) or die;
	print $sock "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	    . "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n";
	my $line = <$sock>;
	like($line, qr{^HTTP/1.1 401}, 'the live feed is 401 without credentials');
	is(scalar($s->wait_events(2)), 2, 'both webhooks stored');
}

done_testing;
