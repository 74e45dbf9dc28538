#!/usr/bin/env perl
# Infobip callbacks through the real server: the token, each shape of the
# seed stored and listed as email_callbacks and as events, duplicates
# dropped, the open pushed over /ws, refusals that store nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $token = 'infobip-t0ken';
my $s = Stack->new(env => { INFOBIP_WEBHOOK_TOKEN => $token });
my $dir = "$Stack::ROOT/tests/fixtures/infobip";
sub fixture {
	open my $fh, '<', "$dir/$_[0]" or die "$_[0]: $!";
	local $/;
	return <$fh>;
}
my $opened = fixture('opened.json');

# The token.
my $r = $s->post_infobip($opened);
is($r->{status}, 401, 'no token: 401');
is($r->{json}{error}, 'unauthorized', 'as JSON');
like($r->{headers}{'www-authenticate'}, qr/^Basic /, 'asking for basic auth');
is($s->post_infobip($opened, token => 'wrong')->{status}, 401,
    'a wrong token: 401');
is($s->post_infobip($opened, basic => 'wrong')->{status}, 401,
    'a wrong password: 401');
my ($st, $h) = $s->get_json('/api/health');
is($h->{last_seq}, 0, 'nothing stored');

# Each shape, the open pushed.
my $ws = $s->ws_client(types => 'open', count => 1);
$r = $s->post_infobip($opened, token => $token);
is($r->{status}, 200, 'token as ?token=');
is($r->{json}{accepted}, 1, 'one tracking event');
is($ws->wait, 0, 'the OPENED reached the WebSocket');
my ($pushed) = $ws->events;
is($pushed->{provider}, 'infobip', 'as an infobip event');
is($pushed->{type}, 'open', 'of type open');
is($pushed->{email}, 'joao.madero@quite.com.br', 'with its recipient');

my %count = (
	'delivered.json' => 1, 'undeliverable.json' => 1,
	'suppressed_bounce.json' => 1, 'clicked.json' => 1,
	'unsubscribed.json' => 1, 'complained.json' => 1,
	'delivered_dict.json' => 5,
);
for my $f (sort keys %count) {
	$r = $s->post_infobip(fixture($f), basic => $token,
	    path => $f =~ /^d/ ? '/email' : '/webhooks/infobip');
	is($r->{status}, 200, "$f accepted (basic auth)") or diag $r->{content};
	is($r->{json}{accepted}, $count{$f}, "$f: $count{$f} item(s)");
}
my @ev = $s->wait_events(12, 'type=delivered');
my @all = $s->wait_events(12);
is(scalar @all, 12, 'twelve events');
my ($cs, $page) = $s->get_json('/api/email-callbacks?limit=500');
is($cs, 200, '/api/email-callbacks');
my @cb = @{ $page->{email_callbacks} };
is(scalar @cb, 12, 'twelve email_callbacks');
is_deeply([map { $_->{id} } @cb], [reverse 1 .. 12], 'newest first');
my ($sb) = grep { $_->{external_id} eq '1955tld5lqf3mn9ou3tz' } @cb;
is($sb->{status}, 'UNDELIVERABLE', 'status');
is($sb->{email}, 'paulorobetovlopes@hotmail.com', 'email');
is($sb->{qj_contact_id}, 310372388, 'qj_contact_id from a numeric string');
is($sb->{error}{name}, 'EC_SUPPRESSED_BOUNCE', 'error');
ok($sb->{error}{permanent}, 'permanent');
like($sb->{received_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    'received_at in UTC ISO 8601');
is($sb->{callback_data}{qj_firing_id}, 485456, 'callback_data parsed');
my ($dict) = grep { $_->{external_id} eq 'jymy9kls8qx59blkizg4' } @cb;
is($dict->{callback_data}{qj_creditor_name}, 'Geru',
    'a Python-repr callbackData parsed');
is($dict->{qj_contact_id}, 124127953, 'and its contact id');

# Filters and paging.
($cs, $page) = $s->get_json('/api/email-callbacks?status=DELIVERED');
is(scalar @{ $page->{email_callbacks} }, 6, 'status filter');
($cs, $page) = $s->get_json('/api/email-callbacks?email=JOHN.DOE%40some-domain.com');
is(scalar @{ $page->{email_callbacks} }, 2, 'email filter, case-insensitive');
($cs, $page) = $s->get_json('/api/email-callbacks?external_id=yfkgy9xol5kpl33u384n');
is_deeply([sort map { $_->{status} } @{ $page->{email_callbacks} }],
    ['CLICKED', 'DELIVERED'], 'external_id filter');
($cs, $page) = $s->get_json('/api/email-callbacks?limit=5');
ok($page->{more}, 'a page of 5, more follow');
($cs, $page) = $s->get_json("/api/email-callbacks?limit=5&before=$page->{next_before}");
is_deeply([map { $_->{id} } @{ $page->{email_callbacks} }], [7, 6, 5, 4, 3],
    'before= pages on');
($cs) = $s->get_json('/api/email-callbacks?status=LOST');
is($cs, 400, 'unknown status is a 400');

# On the shared event model.
my ($es, $evs) = $s->get_json('/api/events?type=hard_bounce');
is(scalar @{ $evs->{events} }, 2, 'permanent UNDELIVERABLE -> hard_bounce');
($es, $evs) = $s->get_json('/api/events?type=spam');
is($evs->{events}[0]{provider}, 'infobip', 'COMPLAINED -> spam');
my ($ms, $msg) = $s->get_json('/api/messages/yfkgy9xol5kpl33u384n');
is($ms, 200, 'an Infobip message in /api/messages');
is($msg->{clicks}, 1, 'its click counted');
is($msg->{state}, 'delivered', 'its state');

# Infobip retries too.
$r = $s->post_infobip(fixture('delivered_dict.json'), token => $token);
is($r->{status}, 200, 'a retried batch is acknowledged');
$r = $s->post_infobip($opened, token => $token);
# A new event after them: the inbox drains in order, so once it is stored
# the retries have been processed too.
$r = $s->post_infobip('{"notificationType":"OPENED","messageId":"sentinel"}',
    token => $token);
is(scalar($s->wait_events(13)), 13, 'only the new event after the retries');
($cs, $page) = $s->get_json('/api/email-callbacks?limit=500');
is(scalar @{ $page->{email_callbacks} }, 13, 'and one new email_callback');
is($page->{email_callbacks}[0]{external_id}, 'sentinel', 'the new one');

# Refusals store nothing.
$r = $s->post_infobip('<results/>', token => $token,
    content_type => 'application/xml');
is($r->{status}, 415, 'XML: 415');
like($r->{json}{detail}, qr/JSON/, 'saying to choose JSON');
is($s->post_infobip($opened, token => $token,
    content_type => 'text/plain')->{status}, 415, 'text/plain: 415');
$r = $s->post_infobip('{"results":[{"status":{"groupName":"DELIVERED"}}]}',
    token => $token);
is($r->{status}, 400, 'a result without messageId: 400');
like($r->{json}{detail}, qr/results\[0\]: messageId is missing/,
    'naming the problem');
$r = $s->post_infobip('{"results": [', token => $token);
is($r->{status}, 400, 'not JSON: 400');
is($r->{json}{error}, 'bad_callback', 'bad_callback');
$r = $s->post_infobip('{"messageId":"m","status":{"groupName":7}}',
    token => $token);
is($r->{status}, 400, 'a wrong type: 400');
$r = $s->{http}->request('GET', $s->url("/email?token=$token"));
is($r->{status}, 405, 'GET /email: 405');
($st, $h) = $s->get_json('/api/health');
is($h->{last_seq}, 13, 'nothing stored by the refusals');
is($h->{inbox_pending}, 0, 'nothing waits in the inbox');

done_testing;
