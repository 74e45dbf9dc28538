#!/usr/bin/env perl
# What is refused: bad, missing or wrong-key signatures (403), malformed
# forms and JSON (400), other content types (415), oversize bodies (413).
# Each gets a JSON error and stores nothing. (The web server's own
# refusals, a body too large by its Content-Length among them, are
# tests/integration/servererrors.t.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $key = 'secret-key';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key,
    MAILHOOKS_MAX_BODY => 65000 });
my $good = [Stack::event()];

sub refused {
	my ($r, $status, $code, $name) = @_;
	is($r->{status}, $status, "$name: $status") or diag $r->{content};
	is(ref $r->{json}, 'HASH', "$name: JSON body");
	is($r->{json}{error}, $code, "$name: error $code");
	ok(length($r->{json}{detail} // '') > 0, "$name: a detail")
	    and note $r->{json}{detail};
}

refused($s->post_mandrill($good), 403, 'bad_signature', 'no signature');
refused($s->post_mandrill($good, signature => 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='),
    403, 'bad_signature', 'bad signature');
refused($s->post_mandrill($good, key => 'another-key'), 403,
    'bad_signature', 'signed with a wrong key');
refused($s->post_mandrill($good, key => $key,
    url => 'http://example.com/webhooks/mandrill'), 403, 'bad_signature',
    'signed for another URL');

my $v = '[{"event":"open","ts":1,"msg":{"_id":"x"}}';
refused($s->post_mandrill($v, key => $key), 400, 'bad_events',
    'truncated JSON');
refused($s->post_mandrill('{"event":"open","ts":1,"msg":{"_id":"x"}}',
    key => $key), 400, 'bad_events', 'object instead of array');
my $r = $s->post_mandrill('[{"event":"open","ts":1,"msg":{"_id":"x"}},'
    . '{"event":"open","ts":1}]', key => $key);
refused($r, 400, 'bad_events', 'an event of the wrong shape');
like($r->{json}{detail}, qr/event 1/, 'the detail names the bad index');
refused($s->post_mandrill(undef, body => 'mandrill_events=%5B%zz%5D'),
    400, 'bad_form', 'bad percent-escape');
refused($s->post_mandrill(undef, body => 'mandrill_events=%5B%5D&'
    . 'mandrill_events=%5B%5D'), 400, 'bad_form', 'repeated field');
refused($s->post_mandrill("[\"\xff\"]", key => $key), 400, 'bad_events',
    'invalid UTF-8');
refused($s->post_mandrill('[' x 200 . ']' x 200, key => $key), 400,
    'bad_events', 'deep nesting');
refused($s->post_mandrill($good, key => $key, content_type =>
    'application/json'), 415, 'unsupported_media_type', 'JSON content type');
refused($s->post_mandrill(undef, body => 'x' x 70000), 413,
    'body_too_large', 'a body over MAILHOOKS_MAX_BODY (the web server)');
# Sent in chunks, no length tells the web server to refuse it: the program
# does.
refused($s->post_mandrill(undef, body => 'x' x 65300, chunked => 1), 413,
    'body_too_large', 'a chunked body over MAILHOOKS_MAX_BODY (the program)');

my ($st, $h) = $s->get_json('/api/health');
is($h->{last_seq}, 0, 'nothing stored');
is($h->{inbox_pending}, 0, 'nothing in the inbox');
my @files = glob($s->home . '/db/*.db');
ok(@files > 0, 'the database exists');

# Each refusal is in the log an operator reads with mailhooks-db rejected.
is($s->post_infobip(qq({"messageId":"\xff\x01"}))->{status}, 400,
    'an Infobip body that is not UTF-8');
my ($rc, $out) = $s->admin('rejected');
is($rc, 0, 'mailhooks-db rejected');
my @log = map { decode_json($_) } split /\n/, $out;
is(scalar @log, 14, 'one entry per refused request');
is_deeply([map { $_->{status} } @log[0 .. 2]], [403, 403, 403],
    'oldest first');
is($log[0]{detail}, 'X-Mandrill-Signature is missing', 'with why');
is($log[0]{remote_addr}, '127.0.0.1', 'from where');
like($log[0]{at}, qr/^\d{4}-\d\d-\d\dT/, 'when');
like($log[0]{body}, qr/^mandrill_events=/, 'and the start of the body');
my ($big) = grep { $_->{status} == 413 } @log;
is($big->{body_bytes}, 0, 'a body refused unread is not read for the log');
is($log[-1]{provider}, 'infobip', 'the newest last');
like($log[-1]{body}, qr/\\xff\\x01/, 'bytes that are not text are escaped');

# What json-c would take but is not JSON, or would come back out as no
# JSON: NaN and Infinity, \u0000 (which cut a string short: two ids
# became one), single quotes. Each refused, nothing stored.
my $j = Stack->new();
for my $case (
    ['[{"event":"open","ts":NaN,"msg":{"_id":"n1"}}]', 'ts: NaN'],
    ['[{"event":"open","ts":1,"msg":{"_id":"n2","tags":[NaN]}}]',
	'tags: [NaN]'],
    ['[{"event":"open","ts":Infinity,"msg":{"_id":"n3"}}]', 'Infinity'],
    ['[{"event":"open","ts":-Infinity,"msg":{"_id":"n4"}}]', '-Infinity'],
    ['[{"event":"open","ts":1e999,"msg":{"_id":"n5"}}]', 'a number no '
	. 'double holds'],
    ['[{"event":"open","ts":1,"msg":{"_id":"dup\u0000A"}}]', '\u0000 in an id'],
    ['[{"event":"open","ts":1,"msg":{"_id":"n6","subject":"a\u0000b"}}]',
	'\u0000 in a subject'],
    [q([{'event':'open','ts':1,'msg':{'_id':'n7'}}]), 'single quotes'],
) {
	refused($j->post_mandrill($case->[0]), 400, 'bad_events', $case->[1]);
}
for my $case (
    ['{"notificationType":"OPENED","messageId":"m","sendDateTime":NaN}',
	'sendDateTime: NaN'],
    ['{"notificationType":"OPENED","messageId":"m\u0000x"}', '\u0000'],
) {
	refused($j->post_infobip($case->[0]), 400, 'bad_callback', $case->[1]);
}
($st, $h) = $j->get_json('/api/health');
is($h->{last_seq}, 0, 'none of them stored');
is($h->{inbox_pending}, 0, 'none of them in the inbox');

# A Mandrill test POST: empty batch signed with the key "test-webhook".
my $t = Stack->new(env => { MANDRILL_WEBHOOK_KEY => 'test-webhook' });
$r = $t->post_mandrill([], key => 'test-webhook');
is($r->{status}, 200, 'Mandrill test POST answered 200');
is($r->{json}{accepted}, 0, 'accepting nothing');
($st, $h) = $t->get_json('/api/health');
is($h->{last_seq}, 0, 'and storing nothing');

# The default limit is 16 MiB.
my $u = Stack->new();
refused($u->post_mandrill(undef, body => 'mandrill_events=' .
    ('a' x (16 * 1024 * 1024))), 413, 'body_too_large', 'body over 16 MiB');
$r = $u->post_mandrill(undef, body => 'nothing=1');
refused($r, 400, 'bad_form', 'no mandrill_events field');
$r = $u->post_mandrill($good, path => '/webhooks/mandrill/');
is($r->{status}, 200, 'unsigned accepted when no key is configured');
$r = $u->{http}->request('PUT', $u->url('/webhooks/mandrill'));
is($r->{status}, 405, 'PUT is a 405');

done_testing;
