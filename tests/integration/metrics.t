#!/usr/bin/env perl
# GET /metrics parses with a real Prometheus parser (Debian's
# python3-prometheus-client) and its counters move by exactly what the test
# did: webhook requests by provider and outcome, events stored by provider
# and type, duplicates, requests by route, the relay's subscribers and
# frames. They go on from where they were after every FastCGI process is
# killed (the web server starts new ones).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use IPC::Open2;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my ($key, $token) = ('metrics-key', 'metrics-token');
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key,
    INFOBIP_WEBHOOK_TOKEN => $token });

# The exposition, parsed: { "name{label=value,...}" => value }, with the
# families' types under "TYPE name". Dies when the parser refuses it.
my $PARSE = <<'PY';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    out["TYPE " + fam.name] = fam.type
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        out["%s{%s}" % (s.name, labels)] = s.value
print(json.dumps(out))
PY

sub scrape {
	my $r = $s->get('/metrics');
	die "metrics: $r->{status}" unless $r->{status} == 200;
	my $pid = open2(my $out, my $in, '/usr/bin/python3', '-c', $PARSE);
	print $in $r->{content};
	close $in;
	my $json = do { local $/; <$out> };
	waitpid($pid, 0);
	die "the parser refused it:\n$r->{content}" if $? != 0;
	return (decode_json($json), $r);
}

sub drained {
	my $deadline = time + 10;
	while (time < $deadline) {
		my (undef, $h) = $s->get_json('/api/health');
		return 1 if $h && ($h->{inbox_pending} // -1) == 0;
		sleep 0.05;
	}
	return 0;
}

my ($m0, $r0) = scrape();
ok(1, 'the exposition parses');
like($r0->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
    'Prometheus text format 0.0.4');
is($m0->{'TYPE mailhooks_webhook_requests'}, 'counter', 'counters are counters');
is($m0->{'TYPE mailhooks_request_duration_seconds'}, 'histogram',
    'durations a histogram');
is($m0->{'mailhooks_build_info{version=0.3.0}'}, 1, 'the version');
is($m0->{'mailhooks_storage_up{}'}, 1, 'storage read');
ok(exists $m0->{'mailhooks_events_total{provider=infobip,type=open}'},
    'every series is there from the start, zeros too');

# What the test does, and what it should count.
my @ev = map { Stack::event(id => "m-$_") } 1 .. 3;
is($s->post_mandrill([@ev[0, 1]], key => $key)->{status}, 200, 'two opens');
is($s->post_mandrill([@ev[1, 2]], key => $key)->{status}, 200,
    'one open again, one new');
is($s->post_mandrill([Stack::event(id => 'm-4', type => 'click')],
    key => $key)->{status}, 200, 'a click');
is($s->post_mandrill([@ev], key => 'wrong')->{status}, 403, 'a bad signature');
is($s->post_mandrill([@ev])->{status}, 403, 'no signature');
is($s->post_mandrill('[{"event":"open"}]', key => $key)->{status}, 400,
    'a bad event');
my $cb = '{"notificationType":"OPENED","messageId":"ib-1","recipient":'
    . '"a@example.com","eventId":"e-1"}';
is($s->post_infobip($cb, token => $token)->{status}, 200, 'an Infobip open');
is($s->post_infobip($cb, token => 'wrong')->{status}, 401,
    'an Infobip callback with a wrong token');
is($s->get("/api/events?limit=1")->{status}, 200, "GET /api/events $_")
    for 1 .. 4;
is($s->get('/nowhere-api/x')->{status}, 404, 'a path the page does not have');
ok(drained(), 'everything drained');

my ($m1) = scrape();
my %want = (
	'mailhooks_webhook_requests_total{outcome=accepted,provider=mandrill}' => 3,
	'mailhooks_webhook_requests_total{outcome=bad_signature,provider=mandrill}' => 2,
	'mailhooks_webhook_requests_total{outcome=bad_input,provider=mandrill}' => 1,
	'mailhooks_webhook_requests_total{outcome=accepted,provider=infobip}' => 1,
	'mailhooks_webhook_requests_total{outcome=unauthorized,provider=infobip}' => 1,
	'mailhooks_webhook_requests_total{outcome=too_large,provider=mandrill}' => 0,
	'mailhooks_events_total{provider=mandrill,type=open}' => 3,
	'mailhooks_events_total{provider=mandrill,type=click}' => 1,
	'mailhooks_events_total{provider=infobip,type=open}' => 1,
	'mailhooks_duplicates_total{provider=mandrill}' => 1,
	'mailhooks_duplicates_total{provider=infobip}' => 0,
	'mailhooks_request_duration_seconds_count{route=/api/events}' => 4,
	'mailhooks_request_duration_seconds_count{route=/webhooks/mandrill}' => 6,
	'mailhooks_request_duration_seconds_count{route=/metrics}' => 1,
);
for my $k (sort keys %want) {
	is(($m1->{$k} // -1) - ($m0->{$k} // 0), $want{$k}, "$k moved by $want{$k}");
}
is($m1->{'mailhooks_last_seq{}'}, 5, 'last seq 5');
is($m1->{'mailhooks_inbox_pending{}'}, 0, 'nothing pending');
ok($m1->{'mailhooks_storage_bytes{}'} > 0, 'the storage takes bytes');

# The histogram holds together: buckets grow, +Inf is the count.
my $route = 'route=/webhooks/mandrill';
my @le = sort { $a <=> $b } map { /le=([0-9.e+-]+),\Q$route\E\}$/ ? $1 : () }
    grep { /^mailhooks_request_duration_seconds_bucket\{le=[0-9]/ } keys %$m1;
my @counts = map { $m1->{"mailhooks_request_duration_seconds_bucket{le=$_,$route}"} } @le;
is_deeply(\@counts, [sort { $a <=> $b } @counts], 'buckets only grow');
is($m1->{"mailhooks_request_duration_seconds_bucket{le=+Inf,$route}"},
    $m1->{"mailhooks_request_duration_seconds_count{$route}"}, '+Inf is the count');

# Every FastCGI process killed: the web server starts new ones, and the
# counts go on.
my @fcgi = $s->pids_named('mailhooks.fcgi');
ok(@fcgi > 0, scalar(@fcgi) . ' FastCGI processes');
kill 'KILL', @fcgi;
my $deadline = time + 10;
my $r;
while (time < $deadline) {
	$r = $s->post_mandrill([Stack::event(id => 'after-kill')], key => $key);
	last if $r->{status} == 200;
	sleep 0.1;
}
is($r->{status}, 200, 'a webhook after the kill');
ok(drained(), 'drained');
my ($m2) = scrape();
my $acc = 'mailhooks_webhook_requests_total{outcome=accepted,provider=mandrill}';
my $failed = 'mailhooks_webhook_requests_total{outcome=unavailable,provider=mandrill}';
is($m2->{$acc} - $m1->{$acc}, 1, 'accepted: one more, none lost to the kill')
    or diag "unavailable meanwhile: " . ($m2->{$failed} - $m1->{$failed});
is($m2->{'mailhooks_events_total{provider=mandrill,type=open}'}
    - $m1->{'mailhooks_events_total{provider=mandrill,type=open}'}, 1,
    'events: one more');
is($m2->{'mailhooks_request_duration_seconds_count{route=/metrics}'}
    - $m1->{'mailhooks_request_duration_seconds_count{route=/metrics}'}, 1,
    'the last scrape counted');

# The relay's subscribers and frames.
my $ws = $s->ws_client(types => 'open', count => 2);
my ($m3) = scrape();
is($m3->{'mailhooks_ws_connections{}'}, 1, 'one subscriber');
$s->post_mandrill([Stack::event(id => "live-$_")], key => $key) for 1 .. 2;
is($ws->wait, 0, 'it got its two opens');
$deadline = time + 5;
my $m4;
while (time < $deadline) {
	($m4) = scrape();
	last if $m4->{'mailhooks_ws_connections{}'} == 0;
	sleep 0.05;
}
is($m4->{'mailhooks_ws_frames_total{}'} - $m3->{'mailhooks_ws_frames_total{}'},
    2, 'two frames written');
is($m4->{'mailhooks_ws_connections{}'}, 0, 'and none held once it left');

# Notifications are counted; /metrics needs metrics:read.
my $n0 = (scrape())[0]{'mailhooks_notifications_total{}'} // 0;
is($s->post_json('/api/notifications', { notifications => [ map {
    { user_id => 'u', title => "t$_", identifier => 'M' } } 1 .. 3 ] })->{status},
    201, 'three notifications');
is((scrape())[0]{'mailhooks_notifications_total{}'} - $n0, 3,
    'mailhooks_notifications_total moved by 3');
is($s->get_anon('/metrics')->{status}, 401, 'nobody may read /metrics');
my (undef, $scraper) = $s->admin(qw(token add prom --scope metrics:read));
chomp $scraper;
is($s->get_anon('/metrics', Authorization => "Bearer $scraper")->{status}, 200,
    'a token with metrics:read may');

done_testing;
