#!/usr/bin/env perl
# Every request has an id: the web server's X-Request-Id when well formed,
# else one made by the program. It comes back in X-Request-Id, and the
# program logs one line per request at its end with that id, the method,
# the route (never the URL: a query may hold ?token=), the status, the
# time taken and the ids it touched. A line cannot be forged through an id.
# No secret the test used (the Mandrill key, the Infobip token, right or
# wrong) appears in the log or in the refusal log.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $key = 'mandrill-key-5ecret-c0ffee';
my $token = 'infobip-token-5ecret-d00d';
my $wrong = 'wrong-token-5ecret-beef';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key,
    INFOBIP_WEBHOOK_TOKEN => $token });

# The end-of-request lines of the log, by id.
sub lines_of {
	my ($id) = @_;
	my $deadline = time + 5;
	my @l;
	while (time < $deadline) {
		@l = grep { /\breq=\Q$id\E method=/ } split /\n/, $s->log;
		return @l if @l;
		sleep 0.05;
	}
	return @l;
}

my $r = $s->get('/api/health', 'X-Request-Id' => 'test-req-1');
is($r->{headers}{'x-request-id'}, 'test-req-1',
    'the web server\'s X-Request-Id comes back');
my @l = lines_of('test-req-1');
is(scalar @l, 1, 'one line at the end of the request');
like($l[0] // '', qr{req=test-req-1 method=GET route=/api/health status=200 ms=[0-9.]+},
    'with method, route, status and time');

$r = $s->get('/api/health', 'X-Request-Id' => 'has spaces and "quotes"');
like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{16}$/,
    'a malformed one is replaced by one made here');
is(scalar(lines_of($r->{headers}{'x-request-id'})), 1, 'which the log carries');
$r = $s->get('/api/health');
like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{16}$/, 'none given: made');
my $other = $s->get('/api/health')->{headers}{'x-request-id'} // '';
isnt($other, $r->{headers}{'x-request-id'}, 'each request its own');

$r = $s->post_mandrill([Stack::event(id => 'log-1')], key => $key);
is($r->{status}, 200, 'a webhook');
my $id = $r->{headers}{'x-request-id'};
@l = lines_of($id);
like($l[0] // '', qr{route=/webhooks/mandrill status=200 .*provider=mandrill receipt=$r->{json}{receipt}\b},
    'its line names the provider and the receipt');

$r = $s->post_mandrill('[{"event":"open"}]', key => $key);
@l = lines_of($r->{headers}{'x-request-id'});
like($l[0] // '', qr{status=400 .*error=bad_events}, 'a refusal\'s line names its code');

# (lighttpd refuses a control character in the path itself; Apache
# passes it on.)
my $msg = Stack::server() eq 'apache' ? 'm%0Aforged%20line%22x' : 'm%22forged%20line%22x';
$r = $s->get("/api/messages/$msg");
@l = lines_of($r->{headers}{'x-request-id'});
like($l[0] // '', qr{route=/api/messages/\{id\} status=404 .*message=\Q$msg\E},
    'a message id is escaped in the line');
ok(!grep({ /^forged/ } split /\n/, $s->log), 'so it forges no line');

# The secrets, right and wrong, in every place they travel.
my $cb = '{"notificationType":"OPENED","messageId":"ib-7","recipient":"a@example.com"}';
is($s->post_infobip($cb, token => $token)->{status}, 200, 'a token in the query');
is($s->post_infobip($cb, token => $wrong)->{status}, 401, 'a wrong one');
is($s->post_infobip($cb, basic => $token)->{status}, 200, 'the token as a password');
is($s->post_infobip($cb, basic => $wrong)->{status}, 401, 'a wrong password');
is($s->post_mandrill([Stack::event(id => 'log-2')], key => $wrong)->{status}, 403,
    'a wrong key');
is($s->post_mandrill([Stack::event(id => 'log-3')], signature => $key)->{status},
    403, 'the key itself sent as the signature');
is($s->get("/api/events?token=$token")->{status}, 200,
    'the token in an API query (a parameter the API does not read)');

my ($rc, $rejected) = $s->admin('rejected');
is($rc, 0, 'mailhooks-db rejected');
my $log = $s->log;
ok(length $log > 0, 'the log has lines');
for my $secret ($key, $token, $wrong) {
	ok(index($log, $secret) < 0, "the log never holds $secret");
	ok(index($rejected, $secret) < 0, "nor the refusal log");
}
done_testing;
