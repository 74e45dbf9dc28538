#!/usr/bin/env perl
# Campaigns through the web server (their sending is still to come): made
# with their checks, their times kept in UTC and their status by the clock
# (scheduled, running, finished), listed, changed (checked whole again,
# nothing changed when that fails), deleted but kept; who may; and each
# change in the log with campaign=ID.
use strict;
use warnings;
use utf8;
use Encode qw(encode_utf8);
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use POSIX qw(strftime);
use Test::More;

my $s = Stack->new;
sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }
my $UTF8 = JSON::PP->new->utf8->canonical;
binmode Test::More->builder->$_, ':utf8' for qw(output failure_output);
sub make { my ($b, @h) = @_; $s->post_json('/api/campaigns', $UTF8->encode($b), @h) }
sub patch { $s->send_json('PATCH', $_[0], $UTF8->encode($_[1])) }
my $now = time;

# --- Made, with its defaults and its status.
my $r = make({ start_at => '2030-01-01T09:00:00+03:00',
    end_at => '2030-01-02T09:00:00+03:00', text => 'Скидка 10 %',
    filter => { operator_codes => ['900'], tags => ['vip'] },
    window => { from => '21:00', to => '09:00' } });
is($r->{status}, 201, 'a campaign: 201');
my $later = $r->{json};
is($later->{start_at}, '2030-01-01T06:00:00.000Z', 'its start kept in UTC');
is($later->{status}, 'scheduled', 'scheduled: it starts later');
is($later->{channel}, 'api', 'the external API unless said');
is($later->{text}, 'Скидка 10 %', 'its text as sent');
is_deeply($later->{window}, { from => '21:00', to => '09:00' },
    'a window across midnight');
$r = make({ start_at => iso($now - 60), end_at => iso($now + 3600),
    text => 'now', channel => 'mail', subject => 'Now' });
is($r->{json}{status}, 'running', 'one between its start and its end: running');
is_deeply($r->{json}{filter}, { operator_codes => [], tags => [] },
    'no filter: everyone');
my $running = $r->{json};
$r = make({ start_at => iso($now - 7200), end_at => iso($now - 3600),
    text => 'past' });
is($r->{status}, 422, 'one whose end has passed: 422');
is($r->{json}{error}, 'already_ended', '... already_ended');
like($r->{json}{detail} // '', qr/has passed: the campaign would send nothing/,
    '... saying why');
$r = make({ start_at => iso($now - 60), end_at => iso($now + 2),
    text => 'soon past' });
is($r->{status}, 201, 'one ending in two seconds is made');
my $soon = $r->{json};
sleep 3;
is(($s->get_json("/api/campaigns/$soon->{id}"))[1]{status}, 'finished',
    'once its end has passed: finished');
is($s->send_json('PATCH', "/api/campaigns/$soon->{id}", { text => 'x' })
    ->{status}, 422, 'a finished one changes no more: 422 already_ended');

# --- Bad input: a clear 400, nothing made.
for my $bad (
	[ { end_at => iso($now + 60), text => 't' }, qr/start_at is required/, 'no start' ],
	[ { start_at => iso($now + 60), end_at => iso($now), text => 't' }, qr/end_at must be after start_at/, 'its end before its start' ],
	[ { start_at => '0000-01-01T00:00:00Z', end_at => iso($now), text => 't' }, qr/start_at is not between 1970/, 'a start in the year 0' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => "a\x01b" }, qr/text holds a control character/, 'text with \\x01' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => "a\x7fb" }, qr/text holds a control character/, 'text with \\x7f' ],
	[ { start_at => '2030-01-01 09:00', end_at => iso($now), text => 't' }, qr/start_at is not an ISO 8601/, 'a malformed time' ],
	[ { start_at => '2030-01-01T09:00:00', end_at => '2030-01-02T09:00:00Z', text => 't' }, qr/offset/, 'a time without its offset' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => '' }, qr/text is required/, 'no text' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 'x' x 4097 }, qr/text is 1 to 4096/, 'a text of 4097' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', window => { from => '25:00', to => '09:00' } }, qr/window is/, 'a window 25:00' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', window => { from => '09:00', to => '09:00' } }, qr/window is empty/, 'an empty window' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', filter => { tags => 'vip' } }, qr/filter tags is a list/, 'a filter of wrong types' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', filter => { operator_codes => [900] } }, qr/operator_codes\[0\]/, 'an operator code as a number' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', filter => { age => [1] } }, qr/filter holds age/, 'an unknown filter' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', channel => 'sms' }, qr/channel is api or mail/, 'a channel that is none' ],
	[ { start_at => iso($now), end_at => iso($now + 60), text => 't', priority => 1 }, qr/priority is not a field/, 'an unknown field' ],
) {
	my ($body, $re, $name) = @$bad;
	$r = make($body);
	is($r->{status}, 400, "$name: 400");
	like($r->{json}{detail} // '', $re, '... saying why');
}
my ($st, $page) = $s->get_json('/api/campaigns');
is(scalar @{ $page->{campaigns} }, 3, 'nothing more was made');
is($page->{campaigns}[0]{status}, 'finished', 'listed newest first, with their status');
$r = $s->send_json('PATCH', "/api/campaigns/$soon->{id}",
    { end_at => iso(time + 3600) });
is($r->{status}, 200, 'a finished one changes by moving its end to come');
is($r->{json}{status}, 'running', '... and it runs again');
($st, $page) = $s->get_json('/api/campaigns?channel=mail');
is_deeply([ map { $_->{id} } @{ $page->{campaigns} } ], [ $running->{id} ],
    'by channel');

# --- Changed: checked whole again.
$r = patch("/api/campaigns/$later->{id}", { text => 'Скидка 20 %' });
is($r->{status}, 200, 'PATCH its text');
is($r->{json}{text}, 'Скидка 20 %', 'changed');
is($r->{json}{start_at}, $later->{start_at}, 'the rest kept');
$r = $s->send_json('PATCH', "/api/campaigns/$later->{id}",
    { end_at => '2029-01-01T00:00:00Z' });
is($r->{status}, 400, 'an end before its start: 400');
is(($s->get_json("/api/campaigns/$later->{id}"))[1]{end_at},
    $later->{end_at}, 'nothing changed');
$r = $s->send_json('PATCH', "/api/campaigns/$later->{id}", { window => undef });
is($r->{json}{window}, undef, 'its window taken away with null');
is($s->send_json('PATCH', '/api/campaigns/99999', { text => 'x' })->{status},
    404, 'PATCH of an unknown id: 404');

# --- Deleted: kept, marked, changed no more.
$r = $s->send_json('DELETE', "/api/campaigns/$running->{id}", undef);
is($r->{status}, 200, 'DELETE');
is($r->{json}{status}, 'deleted', 'deleted');
ok($r->{json}{deleted_at}, 'with when');
is(($s->get_json("/api/campaigns/$running->{id}"))[1]{status}, 'deleted',
    'kept, marked so');
is($s->send_json('PATCH', "/api/campaigns/$running->{id}", { text => 'x' })
    ->{status}, 409, 'a deleted campaign changes no more: 409');

# --- Who may.
$r = $s->send_json('POST', '/api/tokens', { name => 'reader', scopes => ['events:read'] });
my %reader = (Authorization => "Bearer $r->{json}{token}", Cookie => '', Origin => '');
is($s->get('/api/campaigns', %reader)->{status}, 200, 'events:read reads them');
is(make({ start_at => iso($now), end_at => iso($now + 60), text => 't' },
    %reader)->{status}, 403, 'but makes none');
is($s->get_anon('/api/campaigns')->{status}, 401, 'nobody: 401');

# --- The log.
my $id = $later->{id};
my @lines = grep { /campaign=$id\b/ } split /\n/, $s->log;
is(scalar(grep { /created/ } @lines), 1, "grep campaign=$id finds its creation");
ok(scalar(grep { / changed/ } @lines) >= 2, '... its changes');
my $word = encode_utf8('Скидка');
unlike($s->log, qr/\Q$word\E/, 'never its text');

# --- A window that never opens before the end for some clients: said at
# save and when read, not in lists; their message deferred says it will
# expire.
$s->post_json('/api/clients', { phone => '+81 90-1234-5678', timezone => 'Asia/Tokyo', tag => 'win' });
$s->post_json('/api/clients', { phone => '+44 7912 000001', timezone => 'UTC', tag => 'win' });
my $h = (gmtime(time + 3600))[2];
$r = make({ start_at => iso(time - 60), end_at => iso(time + 7200), text => 'w',
    filter => { tags => ['win'] },
    window => { from => sprintf('%02d:00', $h), to => sprintf('%02d:30', $h) } });
is($r->{status}, 201, 'a campaign of two hours, its window an hour on in UTC');
my $w = $r->{json}{warnings};
is(scalar @$w, 1, 'one warning at save');
is_deeply([ $w->[0]{code}, $w->[0]{clients}, $w->[0]{timezones} ],
    [ 'window_never_opens', 1, ['Asia/Tokyo'] ],
    "the window never opens for Tokyo's client (UTC+9): 1 client")
    or diag(encode_json($w));
like($w->[0]{detail}, qr/never opens before the end for 1 client .*will expire/,
    '... said in words');
my $wid = $r->{json}{id};
my (undef, $one) = $s->get_json("/api/campaigns/$wid");
is_deeply($one->{warnings}, $w, 'the same when read');
my (undef, $all) = $s->get_json('/api/campaigns?limit=1');
ok(!exists $all->{campaigns}[0]{warnings}, 'not in lists');
$r = patch("/api/campaigns/$wid", { end_at => iso(time + 30 * 3600) });
is_deeply($r->{json}{warnings}, [], 'its end a day later: no warning');
patch("/api/campaigns/$wid", { end_at => iso(time + 7200) });
my $m;
ok(Stack::wait_for(15, sub {
	my (undef, $p) = $s->get_json("/api/campaigns/$wid/messages");
	($m) = grep { ($_->{waiting} // '') =~ /will expire/ } @{ $p->{messages} };
	$m;
}), "the Tokyo client's message deferred: it will expire");
is($m->{next_attempt_at}, ($s->get_json("/api/campaigns/$wid"))[1]{end_at},
    '... at the end');

done_testing;
