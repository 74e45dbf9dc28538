#!/usr/bin/env perl
# What admins inspect: the webhooks refused (newest first, with what to
# check, counted over the last hour), a stored event's raw request as it
# came, and its reprocessing; who may.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $key = 'the-webhook-key';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key });
my @events = map { Stack::event(id => "i-$_", email => "i$_\@example.com") } 1 .. 3;
my $value = encode_json(\@events);
is($s->post_mandrill($value, key => $key)->{status}, 200, 'a signed webhook: 200');
is($s->post_mandrill(\@events, key => 'another-key')->{status}, 403,
    'one signed with another key: 403');
is($s->post_mandrill(\@events, key => $key, url => 'https://proxy.example/webhooks/mandrill')
    ->{status}, 403, 'one signed for another URL: 403');

my ($code, $ref) = $s->get_json('/api/refused');
is($code, 200, 'GET /api/refused: 200');
is($ref->{last_hour}, 2, 'two refused in the last hour');
is(scalar @{ $ref->{refused} }, 2, 'both listed');
ok($ref->{refused}[0]{seq} > $ref->{refused}[1]{seq}, 'newest first');
my $r0 = $ref->{refused}[0];
is($r0->{error}, 'bad_signature', 'why');
like($r0->{detail}, qr{signed for http://127\.0\.0\.1:\d+/webhooks/mandrill},
    'the URL the server checked against');
like($r0->{advice}, qr/check MANDRILL_WEBHOOK_URL .* MANDRILL_WEBHOOK_KEY/,
    'and what to check');
like($r0->{body}, qr/^mandrill_events=/, 'the body\'s start');
is($r0->{remote_addr}, '127.0.0.1', 'from where');
($code, $ref) = $s->get_json('/api/refused?limit=1');
is(scalar @{ $ref->{refused} }, 1, 'limit');
unlike($s->get('/api/refused')->{content}, qr/\Q$key\E/, 'no key in it');

my @ev = $s->wait_events(3);
my $receipt = $ev[0]{receipt};
($code, my $raw) = $s->get_json("/api/raw/$receipt");
is($code, 200, "GET /api/raw/$receipt: 200");
is($raw->{body}, 'mandrill_events=' . Stack::form_encode($value), 'the body as it came');
is($raw->{bytes}, length $raw->{body}, 'its size');
is($raw->{provider}, 'mandrill', 'its provider');
like($raw->{received_at}, qr/^\d{4}-\d\d-\d\dT/, 'when');
is(($s->get_json('/api/raw/999999'))[0], 404, 'a receipt kept nowhere: 404');
is(($s->get_json('/api/raw/abc'))[0], 404, 'nor a word');

my $rp = $s->post_json("/api/raw/$receipt/reprocess", {});
is($rp->{status}, 200, 'reprocess: 200');
is_deeply($rp->{json}, { receipt => $receipt, stored => 0 },
    'the events were stored already: none twice');
is(scalar($s->all_events), 3, 'still three events');
like($s->log, qr/receipt=$receipt reprocessed by admin: 0 new events/, 'logged');
is($s->post_json('/api/raw/999999/reprocess', {})->{status}, 404,
    'reprocess what is not kept: 404');

my $pw = 'viewer-password-2';
$s->admin_with_password($pw, 'user', 'add', 'val', '--role', 'viewer');
$s->sign_in('val', $pw);
is(($s->get_json('/api/refused'))[0], 403, 'a viewer: 403 on refusals');
is(($s->get_json("/api/raw/$receipt"))[0], 403, 'and on raw requests');
is($s->post_json("/api/raw/$receipt/reprocess", {})->{status}, 403, 'and on reprocessing');
is($s->get_anon('/api/refused')->{status}, 401, 'nobody: 401');
done_testing;
