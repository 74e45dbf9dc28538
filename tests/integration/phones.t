#!/usr/bin/env perl
# Clients of any country through the web server, with
# MAILHOOKS_DEFAULT_REGION=RU: phones as people type them (international,
# national read in the region, the seed's digits and number) kept as
# E.164's digits with their region, type and operator code; one number
# however written is one client's; several tags, listed by any of them,
# with tag the first; opting out and back.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new(env => { MAILHOOKS_DEFAULT_REGION => 'ru' });

sub add { $s->post_json('/api/clients', @_) }
sub list {
	my ($st, $p) = $s->get_json("/api/clients?$_[0]");
	return $p;
}

# --- Phones as people type them.
for my $case (
	[ '+1 212 555 0100', '12125550100', 'US', 'fixed_line_or_mobile', '212' ],
	[ '+7 900 555 12 34', '79005551234', 'RU', 'mobile', '900' ],
	[ '8 (916) 555-12-34', '79165551234', 'RU', 'mobile', '916' ],
	[ '+7 (495) 123-45-67', '74951234567', 'RU', 'fixed_line', '495' ],
	[ '+44 20 7946 0958', '442079460958', 'GB', 'fixed_line', '20' ],
	[ '+33 6.12.34.56.78', '33612345678', 'FR', 'mobile', '6' ],
	[ 79261112233, '79261112233', 'RU', 'mobile', '926' ],
) {
	my ($typed, $digits, $region, $type, $op) = @$case;
	my $r = add({ phone => $typed, timezone => 'UTC' });
	is($r->{status}, 201, "'$typed': 201") or diag($r->{body});
	is($r->{json}{phone}, $digits, "... kept as $digits");
	is($r->{json}{region}, $region, "... of $region");
	is($r->{json}{phone_type}, $type, "... a $type number");
	is($r->{json}{operator_code}, $op, "... operator code $op");
}
my $r = add({ phone => '+7 900 555-12-34', timezone => 'UTC' });
is($r->{status}, 409, 'the same number written another way: 409');
$r = add({ phone => '8 900 555 12 34', timezone => 'UTC' });
is($r->{status}, 409, '... and nationally: 409');
for my $bad (
	[ '(212) 555-0100', qr/^phone is no number in use in RU/, 'a US number written nationally in RU' ],
	[ '8 (900) 555-12', qr/^phone (is too short|has a length)/, 'too short' ],
	[ '+7 900 555 12 34 ext 5', qr/^phone holds 'e'/, 'an extension' ],
) {
	$r = add({ phone => $bad->[0], timezone => 'UTC' });
	is($r->{status}, 400, "$bad->[2]: 400");
	is($r->{json}{error}, 'bad_client', '... bad_client');
	like($r->{json}{detail}, $bad->[1], "... saying why ($r->{json}{detail})");
}
my ($st, $p) = $s->get_json('/api/clients?phone=12125550100');
is(scalar @{ $p->{clients} }, 1, 'found by its E.164 digits');

# --- Several tags.
$r = add({ phone => '+7 903 111 22 33', timezone => 'UTC',
    tags => ['vip', 'beta', 'vip'] });
is($r->{status}, 201, 'a client with tags');
my $id = $r->{json}{id};
is_deeply($r->{json}{tags}, ['vip', 'beta'], '... each once');
is($r->{json}{tag}, 'vip', '... tag is the first');
is(scalar @{ list('tag=beta')->{clients} }, 1, 'listed by its second tag');
is(scalar @{ list('tag=vip')->{clients} }, 1, '... and by its first');
$r = $s->send_json('PATCH', "/api/clients/$id", { tags => ['gamma', 'beta'] });
is_deeply($r->{json}{tags}, ['gamma', 'beta'], 'PATCH tags');
is($r->{json}{tag}, 'gamma', '... tag follows');
is(scalar @{ list('tag=vip')->{clients} }, 0, 'its old tag finds it no more');
$r = $s->send_json('PATCH', "/api/clients/$id", { tag => 'solo' });
is_deeply($r->{json}{tags}, ['solo'], 'PATCH of tag alone: the only tag');
$r = $s->send_json('PATCH', "/api/clients/$id", { tags => [] });
is_deeply([ $r->{json}{tag}, $r->{json}{tags} ], ['', []], 'no tags: tag ""');
is(scalar @{ list('tag=solo')->{clients} }, 0, '... in no tag\'s list');
$r = add({ phone => '+7 903 111 22 34', timezone => 'UTC', tags => [ map { "t$_" } 1 .. 32 ] });
is($r->{status}, 201, '32 tags: 201');

# --- Opting out and back.
is($r->{json}{opted_out}, JSON::PP::false, 'a new client has not opted out');
$id = $r->{json}{id};
$r = $s->send_json('PATCH', "/api/clients/$id", { opted_out => JSON::PP::true });
is($r->{json}{opted_out}, JSON::PP::true, 'PATCH opted_out: true');
like($r->{json}{opted_out_at} // '', qr/^\d{4}-\d\d-\d\dT/, '... when, said');
my $at = $r->{json}{opted_out_at};
$r = $s->send_json('PATCH', "/api/clients/$id", { opted_out => JSON::PP::true, tag => 'x' });
is($r->{json}{opted_out_at}, $at, 'opting out again keeps when it was first');
$r = $s->send_json('PATCH', "/api/clients/$id", { opted_out => JSON::PP::false });
is_deeply([ $r->{json}{opted_out}, $r->{json}{opted_out_at} ],
    [ JSON::PP::false, undef ], 'and back');

done_testing();
