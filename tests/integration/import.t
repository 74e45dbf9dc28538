#!/usr/bin/env perl
# The clients in bulk through the web server: a CSV of 100 000 distinct
# clients (phones of several countries as people type them, tags, time
# zones) with bad lines among them, each good one added and each bad one
# reported by its line number; quoted fields, CRLF and blank lines; a line
# whose phone is a client's updating that client; NDJSON; a header that
# does not do, another media type; who may; then /api/clients.csv, read
# back by the import as updates only.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time);

my $s = Stack->new(env => { MAILHOOKS_DEFAULT_REGION => 'RU' });
sub import_body {
	my ($type, $body, %h) = @_;
	my $r = $s->send_json('POST', '/api/clients/import', $body,
	    'Content-Type' => $type, %h);
	return ($r->{status}, $r->{json}, $r);
}

# --- 100 000 lines: phones of four countries written four ways.
my @zones = qw(Europe/Moscow Asia/Vladivostok America/New_York Europe/London);
my @lines = ('phone,tags,timezone,email,operator_code');
my %bad;	# line number => what its detail says
for my $i (1 .. 100_000) {
	my $k = $i % 4;
	my $d = sprintf('%09d', $i);
	my $us = int($i / 4);	# 25 000 of them: three area codes
	my $phone = $k == 0 ? '+7 9' . substr($d, 0, 2) . ' ' . substr($d, 2, 3)
	    . '-' . substr($d, 5, 2) . '-' . substr($d, 7, 2)
	    : $k == 1 ? sprintf('8 (910) %07d', $i)
	    : $k == 2 ? sprintf('+1 (%d) 555-%04d', 201 + int($us / 10000), $us % 10000)
	    : sprintf('+44 7912 %06d', $i);
	my $tags = join(';', "t$i", ($i % 3 ? 'vip' : ()), ($i % 5 ? () : 'beta'));
	my $email = $i % 2 ? "client$i\@example.com" : '';
	push @lines, join(',', $phone, $tags, $zones[$k], $email, '');
}
# Bad lines, at known places (line numbers count the header as 1).
for my $at (5, 777, 50_000, 99_999) {
	$lines[$at - 1] = "+7 900,vip,Europe/Moscow,,";
	$bad{$at} = qr/phone is too short/;
}
$lines[1233] = '+7 901 000 00 01,vip,Mars/Olympus,,';
$bad{1234} = qr/timezone is not a time zone/;
$lines[2344] = '+7 901 000 00 02,vip,UTC';
$bad{2345} = qr/has 3 fields where the header has 5/;
my $csv = join("\n", @lines) . "\n";
my $t0 = time;
my ($st, $j) = import_body('text/csv', $csv);
my $took = time - $t0;
is($st, 200, '100 000 lines: 200') or diag(substr($j ? encode_json($j) : '', 0, 400));
diag(sprintf('100 000 lines imported in %.1f s', $took));
# Phones that came out the same (a generated collision) update instead.
is($j->{added} + $j->{updated}, 100_000 - keys %bad,
    'each good line stored: ' . ($j->{added} // 0) . ' added, '
    . ($j->{updated} // 0) . ' updated');
is($j->{failed}, scalar keys %bad, 'each bad line counted');
is_deeply([ map { $_->{line} } @{ $j->{errors} } ], [ sort { $a <=> $b } keys %bad ],
    'and reported by its line number, in order');
for my $e (@{ $j->{errors} }) {
	like($e->{detail}, $bad{$e->{line}}, "line $e->{line}: $e->{detail}");
	is($e->{error}, $e->{line} == 2345 ? 'bad_line' : 'bad_client', '... ' . $e->{error});
}
my (undef, $p) = $s->get_json('/api/clients?tag=beta&limit=1');
ok(scalar @{ $p->{clients} }, 'listed by a tag of the import');
like($s->log, qr/clients import: \d+ added, \d+ updated, 6 refused/, 'logged');

# --- CSV as spreadsheets write it: CRLF, quotes, blank lines, columns in
# another order; a line updating a client; opted_out.
my $crlf = qq{timezone,"phone",tags,opted_out\r\n}
    . qq{UTC,"+7 (903) 111-22-33","vip; ""gold"", tier;beta",\r\n}
    . qq{\r\n}
    . qq{UTC,+7 903 111 22 34,,true\r\n}
    . qq{UTC,+7 900 000 00 08,moved,no\r\n}
    . qq{UTC,"+7 903 111 22 35,x\r\n};
my $before = ($s->get_json('/api/clients?phone=79000000008'))[1]{clients}[0];
ok($before, 'a client of the big import');
($st, $j) = import_body('text/csv; charset=utf-8', $crlf);
is($st, 200, 'a CSV with CRLF, quotes and a blank line: 200');
is_deeply([ $j->{added}, $j->{updated}, $j->{failed} ], [ 2, 1, 1 ],
    '2 added, 1 updated, 1 refused') or diag(encode_json($j));
is($j->{errors}[0]{line}, 6, 'the unclosed quote: its line');
my $c = ($s->get_json('/api/clients?phone=79031112233'))[1]{clients}[0];
is_deeply($c->{tags}, ['vip', '"gold", tier', 'beta'], 'tags ; apart, quotes kept');
is(($s->get_json('/api/clients?phone=79031112234'))[1]{clients}[0]{opted_out},
    JSON::PP::true, 'opted_out read');
my $after = ($s->get_json('/api/clients?phone=79000000008'))[1]{clients}[0];
is($after->{id}, $before->{id}, 'a phone a client has: that client');
is_deeply([ $after->{tags}, $after->{timezone}, $after->{email} ],
    [ ['moved'], 'UTC', $before->{email} ], '... updated, what the line '
    . 'leaves out kept');

# --- NDJSON.
my $nd = join("\n", '{"phone": "+1 212 555 0100", "timezone": "America/New_York", "tags": ["ny"]}',
    '', '{"phone": "+1 212 555 0100", "timezone": "America/New_York", "tags": ["ny", "again"]}',
    'not json', '[1]', '{"phone": "+33 6 12 34 56 78", "timezone": "Europe/Paris", "colour": "red"}') . "\n";
($st, $j) = import_body('application/x-ndjson', $nd);
is($st, 200, 'NDJSON: 200');
is_deeply([ $j->{added}, $j->{updated}, $j->{failed} ], [ 1, 1, 3 ],
    '1 added, then the same phone updated, 3 refused') or diag(encode_json($j));
is_deeply([ map { $_->{line} } @{ $j->{errors} } ], [ 4, 5, 6 ], 'by line number');
like($j->{errors}[2]{detail}, qr/colour is not a field/, '... saying why');

# --- Refused whole.
($st, $j) = import_body('text/csv', "mobile,timezone\n79001112233,UTC\n");
is($st, 400, 'a column that is none: 400');
like($j->{detail}, qr/"mobile", is not one of/, '... naming it');
($st, $j) = import_body('text/csv', "phone,tags\n79001112233,x\n");
like($j->{detail}, qr/names no timezone column/, 'no time zone column: 400, saying so');
($st, $j) = import_body('text/csv', '');
is($st, 400, 'an empty CSV: 400');
($st) = import_body('application/json', '[]');
is($st, 415, 'JSON: 415');
my $t = $s->send_json('POST', '/api/tokens', { name => 'reader', scopes => ['events:read'] });
($st) = import_body('text/csv', "phone,timezone\n79001112299,UTC\n",
    Authorization => "Bearer $t->{json}{token}", Cookie => '', Origin => '');
is($st, 403, 'events:read imports nothing: 403');

# --- Exported, then read back: every line an update.
my $r = $s->get('/api/clients.csv');
is($r->{status}, 200, 'GET /api/clients.csv: 200');
like($r->{headers}{'content-type'}, qr{^text/csv}, 'as CSV');
my @rows = split /\r\n/, $r->{content};
is($rows[0], 'phone,tags,timezone,email,operator_code,opted_out,id,region,phone_type,created_at,updated_at',
    'its header');
cmp_ok(scalar @rows - 1, '>=', 99_990, 'every client: ' . (@rows - 1));
$t0 = time;
($st, $j) = import_body('text/csv', $r->{content});
diag(sprintf('%d rows imported back (updates) in %.1f s', @rows - 1, time - $t0));
is($st, 200, 'the export imported back: 200');
is_deeply([ $j->{added}, $j->{failed} ], [ 0, 0 ], 'nothing added, nothing refused')
    or diag(encode_json([ @{ $j->{errors} }[0 .. 2] ]));
is($j->{updated}, @rows - 1, 'each row an update');

done_testing();
