#!/usr/bin/env perl
# Campaigns sent by the stack's sender to a fake of the external API:
# started now and at a later start by themselves, a client added while one
# runs included and none sent twice; the API's request as the seed's
# service defines it; retries (5xx, garbage, connection refused) then
# success, a 4xx final; the end passing with messages waiting (expired,
# nothing sent after); the circuit breaker pausing a campaign and probing;
# a deleted campaign and a deleted client sent no more; a filter's tags
# matching any of a client's; an opted-out client sent nothing; windows in three
# time zones; the statistics exact against what the fake accepted; the
# sender SIGKILLed mid-campaign sending nothing twice; and each campaign,
# message and client greppable in the log, the token never.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FakeCampaignApi;
use JSON::PP;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);

my $TOKEN = 'eyJhbGciOiJIUzI1NiJ9.test-campaign-token.c2lnbmF0dXJl';
my $api = FakeCampaignApi->new;
my $s = Stack->new(env => { CAMPAIGN_API_URL => $api->url,
    CAMPAIGN_API_TOKEN => $TOKEN, CAMPAIGN_RATE => 0,
    MAILHOOKS_SEND_RETRY_MS => 200, MAILHOOKS_SEND_RETRY_MAX_MS => 400,
    MAILHOOKS_SEND_MAX_ATTEMPTS => 4, MAILHOOKS_SEND_TIMEOUT => 3,
    CAMPAIGN_BREAKER_FAILURES => 3, CAMPAIGN_BREAKER_PAUSE_MS => 1500 });

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }
my $phones = 0;
sub client {
	my (%c) = @_;
	my $r = $s->post_json('/api/clients', { phone => sprintf('79%09d',
	    ++$phones), timezone => 'Europe/Moscow', %c });
	die "client: $r->{status}" unless $r->{status} == 201;
	return $r->{json}{id};
}
sub campaign {
	my (%c) = @_;
	my $r = $s->post_json('/api/campaigns', { start_at => iso(time - 1),
	    end_at => iso(time + 600), text => 'Hello', %c });
	die "campaign: $r->{status}" unless $r->{status} == 201;
	return $r->{json}{id};
}
sub stats { my (undef, $j) = $s->get_json("/api/campaigns/$_[0]/stats"); $j }
sub messages {
	my ($id, $q) = @_;
	my (undef, $j) = $s->get_json("/api/campaigns/$id/messages?limit=500"
	    . ($q // ''));
	return @{ $j->{messages} // [] };
}
sub first_message { my @m = messages($_[0]); $m[0] // { attempts => [{}] } }
sub done_all {
	my ($id, $n) = @_;
	my $c = stats($id)->{counts};
	my $done = 0;
	$done += $c->{$_} // 0 for qw(sent failed expired cancelled);
	return $done == $n;
}
# The fake's requests for the messages of campaign $id.
sub requests_of {
	my ($id) = @_;
	my %mine = map { $_->{id} => 1 } messages($id);
	return grep { $_->{path} =~ m{/send/(\d+)$} && $mine{$1} } $api->requests;
}

# --- Started now: each matching client gets one message, sent.
my @a = map { client(tag => 'now') } 1 .. 3;
client(tag => 'other');
my $c1 = campaign(filter => { tags => ['now'] }, text => 'Sale: 10 %');
ok(Stack::wait_for(10, sub { (stats($c1)->{counts}{sent} // 0) == 3 }),
    'a campaign running now: its 3 matching clients sent to');
my @r = requests_of($c1);
is(scalar @r, 3, 'the API got 3 requests');
my ($m) = messages($c1);
my ($req) = grep { $_->{path} eq "/v1/send/$m->{id}" } @r;
is($req->{auth}, "Bearer $TOKEN", 'with the token as a bearer');
is_deeply($req->{body}, { id => $m->{id}, phone => $req->{body}{phone},
    text => 'Sale: 10 %' }, 'POST /send/{id} with {id, phone, text}');
like($req->{raw}, qr/"phone":79\d{9}[,}]/, 'the phone as a number');
is($m->{status}, 'sent', 'the message sent');
is($m->{attempts}[0]{http_status}, 200, 'its attempt: HTTP 200');
ok(defined $m->{attempts}[0]{duration_ms}, 'and how long it took');
is_deeply(stats($c1)->{counts}, { pending => 0, sending => 0, sent => 3,
    retrying => 0, failed => 0, expired => 0, deferred => 0,
    cancelled => 0 }, 'the statistics: 3 sent, each status counted');

my $late = client(tag => 'now');
ok(Stack::wait_for(10, sub { (stats($c1)->{counts}{sent} // 0) == 4 }),
    'a client added while it runs: included');
$s->send_json('PATCH', "/api/clients/$a[0]", encode_json({ tag => 'now' }));
sleep 1.5;
is(stats($c1)->{messages}, 4, 'selected again: no second message');
my %seen;
$seen{$_->{path}}++ for requests_of($c1);
is((grep { $_ > 1 } values %seen), 0, 'no message sent twice');

# --- A later start: it starts by itself.
client(tag => 'later') for 1 .. 2;
my $c2 = campaign(filter => { tags => ['later'] }, start_at => iso(time + 3));
sleep 1;
is(stats($c2)->{messages}, 0, 'before its start: nothing made');
my $start = int(time) + 2;
ok(Stack::wait_for(8, sub { (stats($c2)->{counts}{sent} // 0) == 2 }),
    'at its start it sends, asked by no one');
my ($first) = sort { $a <=> $b } map { $_->{at} } requests_of($c2);
cmp_ok($first - $start, '<', 2, 'within a second or so of start_at');

# --- Retries then success; a 4xx is final.
client(tag => 'retry');
$api->modes('status 503', 'wrong', 'ok');
my $c3 = campaign(filter => { tags => ['retry'] });
ok(Stack::wait_for(10, sub { (stats($c3)->{counts}{sent} // 0) == 1 }),
    '503, {"code":1}, then OK: sent');
($m) = messages($c3);
is_deeply([ map { $_->{outcome} } @{ $m->{attempts} } ],
    [qw(retry retry sent)], 'three attempts: two retried, one sent');
like($m->{attempts}[1]{error}, qr/HTTP 200 without \{"code": 0\}/,
    'the API\'s own refusal: a 200 that is not the success shape');
# A 200 it cannot have meant: taken, perhaps sent, never sent again.
client(tag => 'garbled');
$api->modes('garbage', 'ok');
my $cg = campaign(filter => { tags => ['garbled'] });
ok(Stack::wait_for(10, sub { (stats($cg)->{counts}{failed} // 0) == 1 }),
    'a 200 with garbage: failed');
($m) = messages($cg);
ok($m->{possibly_sent}, 'as possibly sent');
is(scalar(requests_of($cg)), 1, 'the API got it once');
$api->modes('ok');
client(tag => 'final');
$api->modes('status 400', 'ok');
my $c4 = campaign(filter => { tags => ['final'] });
ok(Stack::wait_for(10, sub { (stats($c4)->{counts}{failed} // 0) == 1 }),
    'HTTP 400: failed');
($m) = messages($c4);
is(scalar @{ $m->{attempts} }, 1, 'at the first attempt: a 4xx is final');

client(tag => 'refused');
$api->refuse;
my $c5 = campaign(filter => { tags => ['refused'] });
ok(Stack::wait_for(10, sub { (first_message($c5)->{status} // '') eq 'retrying' }),
    'connections refused: retrying');
like(first_message($c5)->{attempts}[0]{error}, qr/connect/i,
    'the attempt says it could not connect');
$api->resume;
ok(Stack::wait_for(10, sub { (stats($c5)->{counts}{sent} // 0) == 1 }),
    'the API back: sent');

# --- The end passes with messages waiting for a retry: expired.
client(tag => 'ending') for 1 .. 2;
$api->modes('status 500');
my $end = time + 3;
my $c6 = campaign(filter => { tags => ['ending'] }, end_at => iso($end));
ok(Stack::wait_for(10, sub { (stats($c6)->{counts}{expired} // 0) == 2 }),
    'its end passed: the messages waiting are expired');
my @late = grep { $_->{at} > $end + 0.5 } requests_of($c6);
is(scalar @late, 0, 'nothing sent after end_at');
$api->modes('ok');

# --- The circuit breaker: 3 failures in a row pause the campaign.
client(tag => 'breaker') for 1 .. 6;
$api->modes('status 500');
my $c7 = campaign(filter => { tags => ['breaker'] });
ok(Stack::wait_for(10, sub { $s->log =~ /campaign=$c7 circuit=open/ }),
    'after 3 failures in a row: the circuit opens');
my $opened = time;
sleep 1.2;
# Requests already on their way when it opened may arrive a little late
# under load; none may start while it is open.
my $during = grep { $_->{at} > $opened + 0.5 && $_->{at} < $opened + 1.2 }
    requests_of($c7);
cmp_ok($during, '<=', 0, 'while it is open the API is left alone');
$api->modes('ok');
ok(Stack::wait_for(15, sub { (stats($c7)->{counts}{sent} // 0) == 6 }),
    'a probe goes through: all sent');
like($s->log, qr/campaign=$c7 circuit=closed/, 'the circuit closed, logged');

# --- Deleted: a campaign's waiting messages cancelled, a client skipped.
my $gone = client(tag => 'gone');
client(tag => 'gone');
my $hour = (gmtime(time + 7200))[2];
my $c8 = campaign(filter => { tags => ['gone'] }, window => {
    from => sprintf('%02d:00', $hour), to => sprintf('%02d:30', $hour) });
# Moscow is UTC+3 all year: UTC's hour two on is its hour one back.
ok(Stack::wait_for(10, sub { (stats($c8)->{counts}{deferred} // 0) == 2 }),
    'outside its window: deferred');
$s->send_json('DELETE', "/api/clients/$gone");
$s->send_json('DELETE', "/api/campaigns/$c8");
ok(Stack::wait_for(10, sub { (stats($c8)->{counts}{cancelled} // 0) == 2 }),
    'the campaign deleted: its waiting messages cancelled');
is(scalar(requests_of($c8)), 0, 'none sent');
is(stats($c8)->{status}, 'deleted', 'its statistics kept, marked deleted');

# --- Several tags: a filter's tags match a client with any of its own.
# Opted out: a client is in no audience, and one opting out while its
# message waits for a retry gets nothing more.
client(tags => ['vip', 'beta']);
client(tags => ['beta'], opted_out => JSON::PP::true);
my $c_tags = campaign(filter => { tags => ['beta', 'zzz'] });
ok(Stack::wait_for(10, sub { (stats($c_tags)->{counts}{sent} // 0) == 1 }),
    "a client with one of the filter's tags: sent to");
is(stats($c_tags)->{messages}, 1, 'the opted-out client: no message');
my $leaving = client(tag => 'leaving');
$api->modes('status 503 3');
my $c_optout = campaign(filter => { tags => ['leaving'] });
ok(Stack::wait_for(10, sub { scalar(requests_of($c_optout)) >= 1 }),
    'a message whose first attempt is told to wait 3 s');
is($s->send_json('PATCH', "/api/clients/$leaving",
    { opted_out => JSON::PP::true })->{json}{opted_out}, JSON::PP::true,
    'its client opts out');
$api->modes('ok');
ok(Stack::wait_for(10, sub { (stats($c_optout)->{counts}{cancelled} // 0) == 1 }),
    'at its retry: cancelled');
is((messages($c_optout))[0]{error}, 'the client opted out', '... saying why');
is(scalar(requests_of($c_optout)), 1, 'nothing more sent');

# --- Windows in three time zones (the sender's answer against Perl's).
sub local_next {
	my ($tz, $now, $from, $to) = @_;
	local $ENV{TZ} = $tz;
	POSIX::tzset();
	my @l = localtime($now);
	my $min = $l[2] * 60 + $l[1];
	my $inside = $from < $to ? $min >= $from && $min < $to :
	    $min >= $from || $min < $to;
	return 0 if $inside;
	for my $day (($min < $from ? 0 : 1) .. 2) {
		my $t = POSIX::mktime(0, $from % 60, int($from / 60), $l[3] + $day,
		    $l[4], $l[5], 0, 0, -1);
		return $t if $t > $now;
	}
}
my @zones = ('Europe/Moscow', 'America/New_York', 'Australia/Sydney');
my %zc = map { $_ => client(tag => 'zones', timezone => $_) } @zones;
my ($from, $to);
{
	local $ENV{TZ} = 'Europe/Moscow';
	POSIX::tzset();
	my @l = localtime(time);
	$from = ($l[2] * 60 + $l[1] + 1440 - 60) % 1440;	# an hour ago,
	$to = ($from + 150) % 1440;		# for two and a half hours
}
POSIX::tzset();
my $now = time;
my $c9 = campaign(filter => { tags => ['zones'] }, end_at => iso($now + 3 * 86400),
    window => {
    from => sprintf('%02d:%02d', $from / 60, $from % 60),
    to => sprintf('%02d:%02d', $to / 60, $to % 60) });
ok(Stack::wait_for(10, sub { my $c = stats($c9)->{counts};
    ($c->{sent} // 0) + ($c->{deferred} // 0) == 3 }), 'each decided');
my %by = map { $_->{client_id} => $_ } messages($c9);
for my $z (@zones) {
	my $next = local_next($z, $now, $from, $to);
	my $msg = $by{$zc{$z}};
	if ($next == 0) {
		is($msg->{status}, 'sent', "$z: inside the window, sent");
	} else {
		is($msg->{status}, 'deferred', "$z: outside, deferred");
		is($msg->{next_attempt_at}, strftime('%Y-%m-%dT%H:%M:%S.000Z',
		    gmtime($next)), "$z: to the window's next opening there");
	}
}

# --- SIGKILLed mid-campaign: nothing sent twice.
client(tag => 'kill') for 1 .. 16;
$api->modes('slow 0.3');
my $c10 = campaign(filter => { tags => ['kill'] });
Stack::wait_for(10, sub { (stats($c10)->{counts}{sent} // 0) >= 2 });
kill 'KILL', $s->pids_named('mailhooks-sender');
ok(Stack::wait_for(30, sub { done_all($c10, 16) }),
    'the sender restarted: every message ended');
%seen = ();
$seen{$_->{path}}++ for requests_of($c10);
is((grep { $_ > 1 } values %seen), 0, 'none sent twice');
my @ms = messages($c10);
my @possibly = grep { $_->{possibly_sent} } @ms;
is(scalar(grep { $_->{status} eq 'sent' } @ms) + @possibly, scalar(keys %seen),
    'each the API got is sent, or failed as possibly sent (cut short)');
$api->modes('ok');

# --- The API hangs: ingest, the API and the page go on as before.
client(tag => 'hang') for 1 .. 6;
$api->modes('hang');
my $c11 = campaign(filter => { tags => ['hang'] });
ok(Stack::wait_for(10, sub { scalar(requests_of($c11)) >= 4 }),
    'the API hangs with requests in flight');
my $c12 = campaign(filter => { tags => ['later'] });
ok(Stack::wait_for(5, sub { $s->log =~ /campaign=$c12 running/ }) &&
    $s->log !~ /campaign=$c11 message=\d+ client=\d+ answer/,
    'a campaign made while every request slot hangs starts at once');
my $slowest = 0;
for my $i (1 .. 20) {
	my $t = time;
	my $r = $s->post_mandrill([ Stack::event(id => "hang-$i",
	    email => "h$i\@example.com") ]);
	my ($st) = $s->get_json('/api/campaigns/stats');
	my $page = $s->get('/');
	$t = time - $t;
	$slowest = $t if $t > $slowest;
	die "webhook $i: $r->{status}" unless $r->{status} == 200 && $st == 200;
}
my @hung = $s->wait_events(20, 'email=h20@example.com');
ok(scalar(@hung) == 1 && scalar($s->wait_events(20)) == 20,
    'webhooks taken and stored while the API hangs');
cmp_ok($slowest, '<', 2, sprintf('each webhook, API call and page answered '
    . 'at once meanwhile (slowest %.3f s)', $slowest));
$api->modes('ok');
ok(Stack::wait_for(30, sub { done_all($c11, 6) }),
    'the API back, each hung message ended (sent, or failed as its tries ran out)');

# --- The statistics, exact against what the fake accepted.
for my $id ($c1, $c2, $c3, $c5, $c7) {
	my %ok = map { $_->{path} => 1 } grep { $_->{mode} eq 'ok' }
	    requests_of($id);
	is(stats($id)->{counts}{sent}, scalar keys %ok,
	    "campaign $id: sent as many as the API accepted");
}
my (undef, $all) = $s->get_json('/api/campaigns/stats?limit=100');
my ($row) = grep { $_->{id} == $c1 } @{ $all->{campaigns} };
is($row->{counts}{sent}, 4, 'GET /api/campaigns/stats: each with its counts');
my %sum;
for my $c (@{ $all->{campaigns} }) { $sum{$_} += $c->{counts}{$_} for keys %{ $c->{counts} } }
my $metrics = $s->get('/metrics')->{content};
my %metric = $metrics =~ /^mailhooks_campaign_messages\{status="(\w+)"\} (\d+)$/mg;
is_deeply(\%metric, \%sum, '/metrics: the campaigns\' messages by status, as the API counts them');
my @sent = messages($c1, '&status=sent');
is(scalar @sent, 4, 'its messages filtered by status');
my (undef, $bad) = $s->get_json("/api/campaigns/$c1/messages?status=lost");
is($bad->{error}, 'bad_parameter', 'an unknown status: 400');
my ($st404) = $s->get_json('/api/campaigns/999/stats');
is($st404, 404, 'an unknown campaign: 404');

# --- The log: greppable by campaign, message and client; no token.
my $log = $s->log;
my ($mid, $cid) = ($m->{id}, $m->{client_id});
($m) = messages($c1);
my @lines = grep { /campaign=$c1\b/ } split /\n/, $log;
ok((grep { /created/ } @lines) && (grep { /made/ } @lines) &&
    (grep { /request=POST/ } @lines) && (grep { /answer http=200/ } @lines),
    "campaign=$c1: created, messages made, requests and answers");
@lines = grep { /message=$m->{id}\b/ } split /\n/, $log;
is(scalar(grep { /made|request=|answer/ } @lines), 3,
    "message=$m->{id}: made, its request, its answer");
@lines = grep { /client=$m->{client_id}\b/ } split /\n/, $log;
ok((grep { /client=$m->{client_id} created/ } @lines) &&
    (grep { /answer/ } @lines), "client=$m->{client_id}: created, sent to");
unlike($log, qr/\Q$TOKEN\E|test-campaign-token/, 'the token never logged');

done_testing;
