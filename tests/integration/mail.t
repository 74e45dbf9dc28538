#!/usr/bin/env perl
# Outgoing mail through the web server and mailhooks-sender, against a
# fake Mandrill driven per request: bad input refused with nothing queued;
# queued -> sent with Mandrill's _ids, joined to the webhook events that
# come back; recipients rejected; retries with backoff (short settings,
# no real 30 s waits) and Retry-After; giving up; final errors; a hang
# past the timeout; Invalid_Key pausing all sending until the key
# changes; cancel; Idempotency-Key; a sender SIGKILLed mid-request
# sending nothing twice (at most once: the mail fails as possibly sent,
# and a retry by hand sends it); SIGTERM letting the request in flight end.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FakeMandrill;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $fake = FakeMandrill->new;
my %env = (MANDRILL_API_KEY => 'key-one', MANDRILL_API_URL => $fake->url,
    MANDRILL_WEBHOOK_KEY => 'hook-key', MAILHOOKS_SEND_RETRY_MS => 300,
    MAILHOOKS_SEND_RETRY_MAX_MS => 1200, MAILHOOKS_SEND_TIMEOUT => 2,
    MAILHOOKS_SEND_MAX_ATTEMPTS => 3, MAILHOOKS_MAX_BODY => 200000);
my $s = Stack->new(env => {%env});

sub mail {
	my ($body, %h) = @_;
	return $s->post_json('/api/mail', { from_email => 'shop@example.com',
	    subject => 'Your invoice', text => 'Hello',
	    to => [ { email => 'alice@example.com', name => 'Alice' } ], %$body },
	    %h);
}
sub get_mail {
	my ($id) = @_;
	my ($st, $m) = $s->get_json("/api/mail/$id");
	return $m;
}
# Waits (at most secs) until the mail's status is one of those given.
sub wait_status {
	my ($id, $secs, @want) = @_;
	my $deadline = time + $secs;
	my $m;
	while (time < $deadline) {
		$m = get_mail($id);
		return $m if $m && grep { ($m->{status} // '') eq $_ } @want;
		sleep 0.1;
	}
	diag explain $m;
	return $m;
}
sub requests_for {
	my ($id) = @_;
	my @r = grep { ($_->{message}{metadata}{mailhooks_mail} // '') eq $id }
	    $fake->requests;
	return @r;
}
sub count_mail { my ($st, $p) = $s->get_json('/api/mail?limit=500'); scalar @{ $p->{mail} } }

# --- Bad input: a clear 400/413/415, nothing queued, nothing sent.
my @bad = (
	[ { to => [] }, 400, qr/1 to 1000 recipients/, 'no recipient' ],
	[ { to => [ { email => 'not an address' } ] }, 400, qr/to\[0\]\.email/,
	    'a malformed address' ],
	[ { to => [ map { { email => "r$_\@example.com" } } 1 .. 1001 ] }, 400,
	    qr/1 to 1000/, 'more than 1000 recipients' ],
	[ { headers => { 'X-Note' => "a\r\nBcc: thief\@example.net" } }, 400,
	    qr/CR or LF/, 'a header with CR/LF (header injection)' ],
	[ { headers => { "X-A\r\nBcc" => 'x' } }, 400, qr/name/,
	    'a header name with CR/LF' ],
	[ { send_at => '2020-01-01T00:00:00Z' }, 400, qr/send_at/, 'send_at past' ],
	[ { send_at => 'tomorrow' }, 400, qr/send_at/, 'send_at malformed' ],
	[ { priority => 'high' }, 400, qr/priority is not a part/, 'an unknown field' ],
	[ { text => undef, html => undef }, 400, qr/html or text/, 'no body' ],
	[ { tags => ['_internal'] }, 400, qr/tags/, 'a tag Mandrill keeps' ],
	[ { to => [ { email => 'a@example.com', type => 'reply' } ] }, 400,
	    qr/to, cc or bcc/, 'a recipient type that is none' ],
	[ { html => 'x' x 210000 }, 413, qr//, 'over MAILHOOKS_MAX_BODY' ],
);
for my $b (@bad) {
	my ($body, $status, $re, $name) = @$b;
	my $r = mail($body);
	is($r->{status}, $status, "$name: $status");
	like($r->{json}{detail} // '', $re, "... saying why") if $status == 400;
}
my $r = $s->post_json('/api/mail', '{"to": [', );
is($r->{status}, 400, 'not JSON: 400');
$r = $s->post_json('/api/mail', 'to=a@b.co', 'Content-Type' =>
    'application/x-www-form-urlencoded');
is($r->{status}, 415, 'a form: 415');
is(count_mail(), 0, 'nothing was queued');

# Who may: a viewer reads but does not send; a token needs mail:send.
$r = $s->send_json('POST', '/api/tokens', { name => 'reader', scopes => ['events:read'] });
my $reader = "Bearer $r->{json}{token}";
$r = $s->send_json('POST', '/api/tokens', { name => 'app', scopes => ['mail:send'] });
my $app = "Bearer $r->{json}{token}";
$r = mail({}, Authorization => $reader, Cookie => '', Origin => '');
is($r->{status}, 403, 'a token without mail:send cannot send');
is(count_mail(), 0, 'and queued nothing');
sleep 1;
is(scalar $fake->requests, 0, 'Mandrill was sent nothing');

# --- Queued, then sent: Mandrill's _ids kept, the key and the join sent.
$r = mail({ to => [ { email => 'alice@example.com', name => 'Alice' },
    { email => 'Bob@Example.com', type => 'cc' } ], tags => ['invoice'],
    metadata => { order => '77' } }, Authorization => $app, Cookie => '',
    Origin => '');
is($r->{status}, 202, 'a token with mail:send queues a mail: 202');
is($r->{json}{status}, 'queued', 'queued');
is(scalar @{ $r->{json}{recipients} }, 2, 'with its recipients');
my $id = $r->{json}{id};
my $m = wait_status($id, 10, 'sent');
is($m->{status}, 'sent', 'the sender handed it to Mandrill');
is_deeply([ map { $_->{status} } @{ $m->{recipients} } ], [ 'sent', 'sent' ],
    'each recipient sent');
like($m->{recipients}[0]{_id} // '', qr/^[0-9a-f]{32}$/, 'with Mandrill\'s _id');
is($m->{recipients}[0]{timeline}, "/api/messages/$m->{recipients}[0]{_id}",
    'and a link to its timeline');
is($m->{sender}{kind}, 'token', 'the token is kept as its sender');
is($m->{attempts}[0]{outcome}, 'sent', 'one attempt, sent');
is($m->{attempts}[0]{http_status}, 200, 'its HTTP status kept');
ok(defined $m->{attempts}[0]{duration_ms}, 'and how long it took');
is($m->{outbox}, undef, 'out of the outbox');
my ($req) = requests_for($id);
is($req->{key}, 'key-one', 'Mandrill got the API key');
is($req->{message}{metadata}{order}, '77', 'the metadata as given');
is($req->{path}, '/api/1.0/messages/send.json', 'at messages/send.json');
my ($st, $page) = $s->get_json('/api/mail?to=bob@example.com');
is_deeply([ map { $_->{id} } @{ $page->{mail} } ], [$id],
    'found by a recipient, without case');
($st, $page) = $s->get_json('/api/mail?tag=invoice&status=sent');
is(scalar @{ $page->{mail} }, 1, 'by tag and status');
($st, $page) = $s->get_json('/api/mail?status=bogus');
is($st, 400, 'a status that is none: 400');
unlike($s->log, qr/key-one/, 'the API key never reaches the log');

# --- The webhooks for those _ids show on the mail's recipients' timelines.
my $remote = $m->{recipients}[0]{_id};
my ($mst, $msg) = $s->get_json("/api/messages/$remote");
is($mst, 200, 'before any event, the message is known by its _id');
is($msg->{mail}{id}, $id, 'and names the mail it was sent as');
my $ts = time;
$r = $s->post_mandrill([ Stack::event(id => $remote, ts => int $ts) ],
    key => 'hook-key');
is($r->{status}, 200, 'Mandrill posts an open for it');
my $deadline = time + 10;
while (time < $deadline) {
	($mst, $msg) = $s->get_json("/api/messages/$remote");
	last if @{ $msg->{timeline} // [] };
	sleep 0.1;
}
is($msg->{timeline}[0]{type}, 'open', 'the mail\'s recipient timeline shows the open');
is($msg->{mail}{path}, "/api/mail/$id", 'and links to the mail');

# --- A user's mail: their user_id goes in its metadata, so the open
# Mandrill posts back (the metadata as it was sent) notifies them.
$r = mail({ subject => 'From the admin' });
my $mine = wait_status($r->{json}{id}, 10, 'sent');
my ($sent_req) = requests_for($mine->{id});
is($sent_req->{message}{metadata}{user_id}, 'admin',
    'a signed-in user\'s mail names them in its metadata');
my $open = Stack::event(id => $mine->{recipients}[0]{_id}, ts => int time);
$open->{msg}{metadata} = $sent_req->{message}{metadata};
$open->{msg}{subject} = 'From the admin';
is($s->post_mandrill([$open], key => 'hook-key')->{status}, 200,
    'its open comes back');
my $told;
$deadline = time + 10;
while (time < $deadline && !$told) {
	my ($nst, $np) = $s->get_json('/api/notifications/admin?identifier=EMAIL_OPENED');
	($told) = grep { ($_->{data}{message_id} // '') eq
	    $mine->{recipients}[0]{_id} } @{ $np->{notifications} // [] };
	sleep 0.1;
}
ok($told, 'and its sender is notified');
like($told->{title} // '', qr/alice\@example\.com opened "From the admin"/,
    'in words');

# --- The closed loop without an echo: Mandrill's webhooks carry the
# metadata only when the account is set to; an open without any is
# joined to the mail by its _id, and the user_id given at send time (a
# token's mail names whom it is for) is notified.
$r = mail({ subject => 'For carol', metadata => { user_id => 'carol', order => '9' } },
    Authorization => $app, Cookie => '', Origin => '');
my $carols = wait_status($r->{json}{id}, 10, 'sent');
my $bare = Stack::event(id => $carols->{recipients}[0]{_id}, ts => int time);
delete $bare->{msg}{metadata};
$bare->{msg}{subject} = 'For carol';
is($s->post_mandrill([$bare], key => 'hook-key')->{status}, 200,
    'an open without metadata comes back');
my $told_carol;
$deadline = time + 10;
while (time < $deadline && !$told_carol) {
	my ($nst, $np) = $s->get_json('/api/notifications/carol?identifier=EMAIL_OPENED');
	($told_carol) = grep { ($_->{data}{message_id} // '') eq
	    $carols->{recipients}[0]{_id} } @{ $np->{notifications} // [] };
	sleep 0.1;
}
ok($told_carol, 'joined to its mail by _id: the user_id given at send time is notified');
my ($est, $evs) = $s->get_json('/api/events?message_id=' . $carols->{recipients}[0]{_id});
ok(!exists $bare->{msg}{metadata}, 'the webhook had none');
is($evs->{events}[0]{metadata}{order}, '9', "the event carries the mail's metadata");
my $other = Stack::event(id => 'f' x 32, ts => int time);
delete $other->{msg}{metadata};
$s->post_mandrill([$other], key => 'hook-key');
ok(Stack::wait_for(10, sub {
	($est, $evs) = $s->get_json('/api/events?message_id=' . ('f' x 32));
	@{ $evs->{events} // [] } }), 'an open of mail sent elsewhere: stored');
ok(!exists $evs->{events}[0]{metadata}, '... nothing joined to it');

# --- Some recipients rejected.
$fake->modes('reject bob@example.com');
$id = mail({ to => [ { email => 'alice@example.com' },
    { email => 'bob@example.com' } ] })->{json}{id};
$m = wait_status($id, 10, 'sent');
is($m->{recipients}[1]{status}, 'rejected', 'a rejected recipient');
is($m->{recipients}[1]{reject_reason}, 'hard-bounce', 'with its reason');
is($m->{recipients}[0]{status}, 'sent', 'the other sent');

# --- Retries: a 503, a 502, then sent.
$fake->modes('status 503', 'status 502', 'ok');
$id = mail({})->{json}{id};
$m = wait_status($id, 15, 'sent');
is($m->{status}, 'sent', 'sent at the third attempt');
is_deeply([ map { $_->{outcome} } @{ $m->{attempts} } ], [qw(retry retry sent)],
    'each attempt recorded');
is($m->{attempts}[0]{http_status}, 503, 'the 503');
my @at = map { $_->{at} } requests_for($id);
is(scalar @at, 3, 'Mandrill got three requests');

# --- A 200 means Mandrill took it: one it cannot read (garbage, 10 MB, a
# body that never ends) is possibly sent, never POSTed again.
for my $mode ('garbage', 'truncated', 'huge', 'endless') {
	$fake->modes($mode, 'ok');
	$id = mail({})->{json}{id};
	$m = wait_status($id, 20, 'failed');
	is($m->{status}, 'failed', "a 200 with $mode: failed");
	ok($m->{possibly_sent}, '... as possibly sent');
	is_deeply([ map { $_->{outcome} } @{ $m->{attempts} } ], ['possibly_sent'],
	    '... its one attempt');
	sleep 0.5;
	is(scalar(requests_for($id)), 1, '... Mandrill got it once');
}

$fake->modes('status 429 2', 'ok');
$id = mail({})->{json}{id};
$m = wait_status($id, 15, 'sent');
@at = map { $_->{at} } requests_for($id);
ok(@at == 2 && $at[1] - $at[0] >= 1.9, 'Retry-After: 2 is honoured ('
    . join(' ', map { sprintf '%.2f', $_ - $at[0] } @at) . ')');

$fake->modes('status 502', 'redirect', 'status 500');
$id = mail({})->{json}{id};
$m = wait_status($id, 15, 'failed');
is($m->{status}, 'failed', 'failed after MAILHOOKS_SEND_MAX_ATTEMPTS (3)');
like($m->{error} // '', qr/gave up after 3 attempts/, 'saying so');
like($m->{attempts}[1]{error}, qr/redirect to http:\/\/elsewhere/,
    'a redirect recorded, not followed');
@at = map { $_->{at} } requests_for($id);
ok($at[1] - $at[0] >= 0.14 && $at[2] - $at[1] >= $at[1] - $at[0] - 0.35,
    'the pauses grow (' . join(' ', map { sprintf '%.2f', $_ - $at[0] } @at) . ')');

$fake->modes('error ValidationError 500', 'ok');
$id = mail({})->{json}{id};
$m = wait_status($id, 10, 'failed');
is(scalar @{ $m->{attempts} }, 1, 'a ValidationError is final at once');
like($m->{error} // '', qr/ValidationError/, 'and named');

# An id is a whole number, written one way.
for my $bad ('01', '12345678901234567890') {
	my ($st, $e) = $s->get_json("/api/mail/$bad");
	is($st, 400, "GET /api/mail/$bad: 400 bad_parameter");
}
my ($nst) = $s->get_json('/api/mail/99999999');
is($nst, 404, 'an id of no mail: 404');

# An upstream's words reach the log escaped: none can forge a line.
$fake->modes('forge', 'ok');
$id = mail({})->{json}{id};
wait_status($id, 15, 'sent');
my $forged = grep { /^mailhooks-sender: mail=999 / } split /\n/, $s->log;
is($forged, 0, 'an error name with a newline forges no log line');
like($s->log, qr/mail=$id outcome=\w+ [^\n]*GeneralError%0Amailhooks-sender/,
    'it is logged escaped, on its mail\'s line');

$fake->modes('hang', 'ok');
my $t0 = time;
$id = mail({})->{json}{id};
$m = wait_status($id, 15, 'sent');
is($m->{status}, 'sent', 'a hang past MAILHOOKS_SEND_TIMEOUT, then sent');
like($m->{attempts}[0]{error} // '', qr/time/i, 'the timeout recorded');
$fake->modes('reset', 'ok');
$id = mail({})->{json}{id};
$m = wait_status($id, 10, 'sent');
ok($m->{attempts}[0]{error}, 'a reset connection recorded: '
    . ($m->{attempts}[0]{error} // ''));

# --- Idempotency-Key: one mail for two requests.
$fake->modes('ok');
my $a1 = mail({ subject => 'once' }, 'Idempotency-Key' => 'k-1');
my $a2 = mail({ subject => 'once' }, 'Idempotency-Key' => 'k-1');
is($a2->{headers}{'idempotent-replayed'}, 'true', 'a retry is a replay');
is($a2->{json}{id}, $a1->{json}{id}, 'with the first id');
is(mail({ subject => 'other' }, 'Idempotency-Key' => 'k-1')->{status}, 422,
    'the key with another body: 422');

# --- Cancel while queued (send_at to come); not once sent.
my $later = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + 3600));
$id = mail({ send_at => $later })->{json}{id};
$m = get_mail($id);
is($m->{status}, 'queued', 'a mail for later waits');
ok($m->{outbox} && !$m->{outbox}{held}, 'in the outbox');
$r = $s->post_json("/api/mail/$id/cancel", '');
is($r->{status}, 200, 'cancelled');
is($r->{json}{status}, 'cancelled', 'its status says so');
is($s->post_json("/api/mail/$id/cancel", '')->{status}, 409,
    'cancelled twice: 409');
wait_status($a1->{json}{id}, 10, 'sent');
is($s->post_json("/api/mail/$a1->{json}{id}/cancel", '')->{status}, 409,
    'a sent mail cannot be');
is($s->post_json('/api/mail/99999/cancel', '')->{status}, 404, 'no such: 404');
is(scalar requests_for($id), 0, 'Mandrill never got it');

# --- Invalid_Key: the mail fails, all sending pauses until the key changes.
$fake->modes('error Invalid_Key 500', 'ok');
$id = mail({})->{json}{id};
$m = wait_status($id, 10, 'failed');
like($m->{error} // '', qr/Invalid_Key/, 'Invalid_Key: failed');
my $waiting = mail({ subject => 'after the bad key' })->{json}{id};
sleep 2;
is(get_mail($waiting)->{status}, 'queued', 'the next mail stays queued');
is(scalar requests_for($waiting), 0, 'and is not sent');
my ($hst, $health) = $s->get_json('/api/health');
is($health->{sender}{state}, 'paused', 'the health says sending is paused');
like($health->{sender}{detail}, qr/Invalid_Key/, 'and why');
like($s->log, qr/Invalid_Key.*paused/, 'so does the log');
$s->stop;
$s = Stack->new(home => $s->home, env => {%env, MANDRILL_API_KEY => 'key-two'});
$m = wait_status($waiting, 10, 'sent');
is($m->{status}, 'sent', 'a new key: the queued mail goes');
($hst, $health) = $s->get_json('/api/health');
is($health->{sender}{state}, 'running', 'the health says running');

# --- SIGKILL mid-request: at most once. The mail fails as possibly sent,
# is not sent again by itself; a retry by hand sends it.
$fake->modes('hang', 'ok');
$id = mail({ subject => 'killed' })->{json}{id};
$deadline = time + 10;
sleep 0.05 until requests_for($id) || time > $deadline;
my ($sender) = $s->pids_named('mailhooks-sende');
ok($sender, 'the request is out');
kill 'KILL', $sender;
$m = wait_status($id, 90, 'failed');
ok($m->{possibly_sent}, 'the new sender finds it possibly sent: failed');
is($m->{attempts}[0]{outcome}, 'interrupted', 'the attempt interrupted');
sleep 1;
is(scalar requests_for($id), 1, 'Mandrill got it once, not twice');
my ($rc) = $s->admin('mail', 'retry', $id);
is($rc, 0, 'mailhooks-db mail retry');
$m = wait_status($id, 10, 'sent');
is($m->{status}, 'sent', 'sent by hand');
is(scalar requests_for($id), 2, 'the second request the one asked for');

# --- SIGTERM lets the request in flight end.
$fake->modes('slow 1', 'ok');
$id = mail({ subject => 'stopping' })->{json}{id};
$deadline = time + 10;
sleep 0.05 until requests_for($id) || time > $deadline;
($sender) = $s->pids_named('mailhooks-sende');
$t0 = time;
kill 'TERM', $sender;
sleep 0.05 while kill(0, $sender) && time - $t0 < 10;
ok(time - $t0 < 5, sprintf 'the sender exits on SIGTERM within a few '
    . 'seconds (%.1f s)', time - $t0);
$m = wait_status($id, 10, 'sent');
is($m->{status}, 'sent', 'after its request in flight ended');

# --- /metrics counts what the API shows: mails queued, attempts by end.
my %want = (sent => 0, retry => 0, failed => 0, interrupted => 0);
my ($lst, $all) = $s->get_json('/api/mail?limit=500');
for my $row (@{ $all->{mail} }) {
	my $full = get_mail($row->{id});
	$want{ $_->{outcome} eq 'not_sent' ? 'retry' :
	    $_->{outcome} eq 'possibly_sent' ? 'failed' : $_->{outcome} }++
	    for grep { defined $_->{outcome} } @{ $full->{attempts} };
}
my $metrics = $s->get('/metrics')->{content};
my ($total) = $metrics =~ /^mailhooks_mail_total (\d+)$/m;
is($total, scalar @{ $all->{mail} }, 'mailhooks_mail_total: every mail queued');
for my $o (sort keys %want) {
	my ($n) = $metrics =~ /^mailhooks_mail_attempts_total\{outcome="$o"\} (\d+)$/m;
	is($n, $want{$o}, "mailhooks_mail_attempts_total{outcome=\"$o\"}: $want{$o}");
}
like($metrics, qr/^mailhooks_outbox_queued 0$/m, 'mailhooks_outbox_queued: none left');

done_testing;
