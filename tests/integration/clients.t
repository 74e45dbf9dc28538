#!/usr/bin/env perl
# The campaigns' clients through the web server: added with their
# checks (phone, operator code from it, time zone from the system's tz
# database), a phone kept to one client, listed with cursors and filters,
# changed field by field with nothing changed when one is refused,
# deleted; who may do what; and each change in the log with client=ID.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new;

sub add { $s->post_json('/api/clients', @_) }
sub list {
	my ($q) = @_;
	my ($st, $p) = $s->get_json('/api/clients' . ($q ? "?$q" : ''));
	return $p;
}

# --- Added, with what defaults.
my $r = add({ phone => '79001234567', timezone => 'Europe/Moscow', tag => 'vip' });
is($r->{status}, 201, 'a client: 201');
my $alice = $r->{json};
ok($alice->{id} >= 1, 'with its id');
is($alice->{operator_code}, '900', 'the operator code from the phone');
is($alice->{email}, undef, 'no email');
$r = add({ phone => 79161112233, timezone => 'Asia/Vladivostok',
    operator_code => '916', email => 'bob@example.com' });
is($r->{status}, 201, 'a phone as a number');
is($r->{json}{phone}, '79161112233', 'kept as its digits');
my $bob = $r->{json};
$r = add({ phone => '79001234567', timezone => 'UTC' });
is($r->{status}, 409, 'a phone another client has: 409');
is($r->{json}{error}, 'exists', 'exists');

# --- Bad input: a clear 400, nothing stored.
for my $bad (
	# No MAILHOOKS_DEFAULT_REGION here: a national number needs its
	# country code.
	[ { phone => '8 (900) 555-12-34', timezone => 'UTC' }, qr/phone has no country code: write it with one/, 'a national number, no region set' ],
	[ { phone => '7900123456', timezone => 'UTC' }, qr/phone is too short for a number of \+7/, 'ten digits' ],
	[ { phone => '+7 900 123 45 678 901 234 5', timezone => 'UTC' }, qr/phone is too long/, 'too long' ],
	[ { phone => '7900123456x', timezone => 'UTC' }, qr/phone holds 'x'/, 'a letter' ],
	[ { phone => '+999 123 4567', timezone => 'UTC' }, qr/phone has no country code libphonenumber knows \(\+999 123 4567\)/, 'an unknown country code' ],
	[ { phone => '+1 212 055 0100', timezone => 'UTC' }, qr/phone is no number in use in US \(\+1\)/, 'an area code that is none' ],
	[ { phone => -79001234567, timezone => 'UTC' }, qr/phone is a positive number/, 'a negative number' ],
	[ { phone => '', timezone => 'UTC' }, qr/phone is required/, 'an empty phone' ],
	[ { phone => '79001230000', timezone => 'Mars/Olympus' }, qr/timezone is not a time zone/, 'an unknown time zone' ],
	[ { phone => '79001230000', timezone => '../../etc/passwd' }, qr/timezone/, 'a path for a time zone' ],
	# Files of the tz folder that are no IANA name.
	(map { [ { phone => '79001230000', timezone => $_ }, qr/timezone is not a time zone/, "$_: not a time zone's name" ] }
	    qw(localtime posixrules Factory right/UTC posix/Europe/Moscow)),
	[ { phone => '79001230000', timezone => 'UTC', operator_code => '123456789' }, qr/operator_code is one to 8 digits/, 'an operator code of nine' ],
	[ { phone => '79001230000', timezone => 'UTC', tags => ['a', ''] }, qr/tags\[1\] is not a tag/, 'an empty tag' ],
	[ { phone => '79001230000', timezone => 'UTC', tags => [ map { "t$_" } 1 .. 33 ] }, qr/tags holds at most 32 tags/, '33 tags' ],
	[ { phone => '79001230000', timezone => 'UTC', tags => ['a', 'b'], tag => 'b' }, qr/tag is the first of tags/, 'tag not the first of tags' ],
	[ { phone => '79001230000', timezone => 'UTC', opted_out => 'yes' }, qr/opted_out is of another type/, 'opted_out not a boolean' ],
	[ { phone => '79001230000', timezone => 'UTC', tag => 'x' x 65 }, qr/tag is at most 64/, 'a tag of 65' ],
	[ { phone => '79001230000', timezone => 'UTC', email => 'nope' }, qr/email/, 'a malformed email' ],
	[ { phone => '79001230000' }, qr/timezone is required/, 'no time zone' ],
	[ { phone => '79001230000', timezone => 'UTC', vip => 1 }, qr/vip is not a field/, 'an unknown field' ],
	[ { phone => [], timezone => 'UTC' }, qr/phone is of another type/, 'a phone of another type' ],
) {
	my ($body, $re, $name) = @$bad;
	$r = add($body);
	is($r->{status}, 400, "$name: 400");
	like($r->{json}{detail} // '', $re, '... saying why');
}
is($s->post_json('/api/clients', '{"phone":')->{status}, 400, 'not JSON: 400');
is(scalar @{ list()->{clients} }, 2, 'nothing more was stored');

# --- Listed: newest first, cursors, filters through the indexes.
add({ phone => "7900000000$_", timezone => 'UTC', tag => 'bulk' }) for 0 .. 4;
my $p = list('limit=3');
is(scalar @{ $p->{clients} }, 3, 'a page of 3');
ok($p->{more}, 'more follow');
is($p->{clients}[0]{phone}, '79000000004', 'newest first');
my $next = list("limit=10&before=$p->{next_before}");
is(scalar @{ $next->{clients} }, 4, 'the rest, by next_before');
is(scalar @{ list('tag=bulk')->{clients} }, 5, 'by tag');
is_deeply([ map { $_->{id} } @{ list('operator_code=916')->{clients} } ],
    [ $bob->{id} ], 'by operator code');
is_deeply([ map { $_->{id} } @{ list('phone=79001234567')->{clients} } ],
    [ $alice->{id} ], 'by phone');

# --- Changed: a field at a time, nothing when one is refused.
$r = $s->send_json('PATCH', "/api/clients/$alice->{id}", { tag => 'gold' });
is($r->{status}, 200, 'PATCH a tag');
is($r->{json}{tag}, 'gold', 'changed');
is($r->{json}{timezone}, 'Europe/Moscow', 'the rest kept');
is(scalar @{ list('tag=vip')->{clients} }, 0, 'its old tag finds it no more');
is(scalar @{ list('tag=gold')->{clients} }, 1, 'its new one does');
$r = $s->send_json('PATCH', "/api/clients/$alice->{id}",
    { tag => 'silver', timezone => 'Nowhere/Land' });
is($r->{status}, 400, 'a PATCH with one bad field: 400');
is(($s->get_json("/api/clients/$alice->{id}"))[1]{tag}, 'gold',
    'and nothing changed');
$r = $s->send_json('PATCH', "/api/clients/$alice->{id}", { phone => '79161112233' });
is($r->{status}, 409, 'a phone another has: 409');
$r = $s->send_json('PATCH', "/api/clients/$alice->{id}", { phone => '79261112233' });
is($r->{json}{operator_code}, '926', 'a new phone: its operator code follows');
is(add({ phone => '79001234567', timezone => 'UTC' })->{status}, 201,
    'its old phone is free again');
is($s->send_json('PATCH', '/api/clients/99999', { tag => 'x' })->{status}, 404,
    'PATCH of an unknown id: 404');
for my $bad ('01', '0', '+1', '12345678901234567890', 'x1') {
	my ($st, $e) = $s->get_json("/api/clients/$bad");
	is($st, 400, "GET /api/clients/$bad: 400, not a record");
	is($e->{error}, 'bad_parameter', '... bad_parameter');
}
my ($cst) = $s->get_json('/api/campaigns/007');
is($cst, 400, 'a campaign id with leading zeros: 400');
# A list's filters are declared: a value none could match, or a parameter
# the list does not take, is a 400 that names it (it was an empty 200).
for my $case (['/api/clients?phone=abc', 'phone'],
    ['/api/clients?operator_code=123456789', 'operator_code'],
    ['/api/clients?phone=%2B79001234567', 'phone'],
    ['/api/clients?colour=red', 'colour'],
    ['/api/campaigns?channel=sms', 'channel'],
    ['/api/campaigns?limit=5&sort=name', 'sort'],
    ['/api/mail?to=notanemail', 'to'],
    ['/api/mail?status=lost', 'status']) {
	my ($st, $e) = $s->get_json($case->[0]);
	is($st, 400, "$case->[0]: 400");
	like($e->{detail} // '', qr/\Q$case->[1]\E/, '... naming it');
}
my ($okst) = $s->get_json('/api/clients?phone=79001234567&limit=5');
is($okst, 200, 'a phone as stored, and the cursor: 200');
is($s->send_json('PATCH', "/api/clients/$alice->{id}", { email => undef })
    ->{json}{email}, undef, 'email cleared with null');

# --- Deleted.
$r = $s->send_json('DELETE', "/api/clients/$bob->{id}", undef);
is($r->{status}, 200, 'DELETE');
is($s->get("/api/clients/$bob->{id}")->{status}, 404, 'gone');
is(add({ phone => '79161112233', timezone => 'UTC' })->{status}, 201,
    'its phone is free');
is($s->send_json('DELETE', "/api/clients/$bob->{id}", undef)->{status}, 404,
    'DELETE again: 404');

# --- Who may.
$r = $s->send_json('POST', '/api/tokens', { name => 'reader', scopes => ['events:read'] });
my %reader = (Authorization => "Bearer $r->{json}{token}", Cookie => '', Origin => '');
$r = $s->send_json('POST', '/api/tokens', { name => 'crm', scopes => ['campaigns:write'] });
my %crm = (Authorization => "Bearer $r->{json}{token}", Cookie => '', Origin => '');
is($s->get('/api/clients', %reader)->{status}, 200, 'events:read reads them');
is(add({ phone => '79990000001', timezone => 'UTC' }, %reader)->{status}, 403,
    'but adds none');
is(add({ phone => '79990000001', timezone => 'UTC' }, %crm)->{status}, 201,
    'campaigns:write adds');
is($s->get_anon('/api/clients')->{status}, 401, 'nobody: 401');

# --- The log: each change with client=ID.
my $id = $alice->{id};
my @lines = grep { /client=$id\b/ } split /\n/, $s->log;
ok(scalar(grep { /created/ } @lines) == 1, "grep client=$id finds its creation");
ok(scalar(grep { /changed/ } @lines) >= 3, '... its changes');
ok(scalar(grep { /route=\/api\/clients\/\{id\}/ } @lines) >= 5,
    '... and each request about it');

done_testing;
