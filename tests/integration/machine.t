#!/usr/bin/env perl
# Machine opens and clicks told apart (issue 33, its first part), through
# the web server: real-looking Mandrill opens and clicks of each kind
# (Apple's prefetch, Gmail's proxy, a person in Chrome, a scanner by its
# agent and by its address) each carry "machine" and, for a proxy,
# "proxy" without Google's place; GET /api/events?machine=0|1 splits them;
# a machine's open notifies no one, a person's does; the admin's rules
# file is read, and read again when it changes, a broken one said and
# the rules before it kept.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $dir = tempdir('mailhooks-rules-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $rules = "$dir/rules.txt";
sub write_rules {
	open my $fh, '>', "$rules.new" or die;
	print $fh @_;
	close $fh;
	chmod 0644, "$rules.new";
	rename "$rules.new", $rules or die;
}
# The shipped rules, and one of the admin's own.
open my $in, '<', "$Stack::ROOT/core/machine-rules.txt" or die;
my $shipped = do { local $/; <$in> };
write_rules($shipped, "scanner-agent FooBot\n");
my $s = Stack->new(env => { MAILHOOKS_MACHINE_RULES => $rules });

my $now = int time;
sub ev {
	my (%o) = @_;
	my $e = Stack::event(id => $o{id}, type => $o{type} // 'open', ts => $now,
	    email => "$o{id}\@example.com");
	$e->{user_agent} = $o{ua};
	$e->{ip} = $o{ip};
	$e->{location} = $o{location};
	$e->{msg}{metadata} = { user_id => 'admin' };
	$e->{msg}{tags} = ['mt'];
	$e->{url} = 'https://shop.example.com/a' if ($o{type} // '') eq 'click';
	return $e;
}
my $chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 '
    . '(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
my @kinds = (
	[ 'apple', { ua => 'Mozilla/5.0', ip => '17.58.63.101' }, 'apple_mpp', undef ],
	[ 'gmail', { ua => 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 '
	    . '(via ggpht.com GoogleImageProxy)', ip => '66.249.84.36',
	    location => { city => 'Mountain View', country => 'United States' } }, undef, 'gmail' ],
	[ 'person', { ua => $chrome, ip => '203.0.113.7',
	    location => { city => 'Lisbon', country => 'Portugal' } }, undef, undef ],
	[ 'scanagent', { type => 'click', ua => 'Barracuda Sentinel (EE)', ip => '64.235.150.1' }, 'scanner', undef ],
	[ 'scanrange', { type => 'click', ua => $chrome, ip => '40.93.31.7' }, 'scanner', undef ],
	[ 'foobot', { ua => 'FooBot/2.0', ip => '192.0.2.9' }, 'scanner', undef ],
);
is($s->post_mandrill([ map { ev(id => $_->[0], %{ $_->[1] }) } @kinds ])->{status}, 200,
    'six opens and clicks of every kind');
my %got;
ok(Stack::wait_for(15, sub {
	%got = map { $_->{message_id} => $_ } @{ ($s->get_json('/api/events?limit=50'))[1]{events} // [] };
	keys %got == 6 }), 'stored');
for my $k (@kinds) {
	my $e = $got{ $k->[0] };
	is($e->{machine}, $k->[2], "$k->[0]: machine " . ($k->[2] // 'null (a person)'));
	ok(exists $e->{machine}, '... the field there');
	is($e->{proxy}, $k->[3], '... proxy ' . ($k->[3] // 'none')) if $k->[3];
}
is($got{gmail}{location}, undef, "Gmail's proxy: Google's place not kept as the person's");
is($got{person}{location}{city}, 'Lisbon', "a person's place kept");

my ($st, $p) = $s->get_json('/api/events?machine=1&limit=50');
is_deeply([ sort map { $_->{message_id} } @{ $p->{events} } ], [qw(apple foobot scanagent scanrange)],
    'machine=1: the machines\'');
($st, $p) = $s->get_json('/api/events?machine=0&limit=50');
is_deeply([ sort map { $_->{message_id} } @{ $p->{events} } ], [qw(gmail person)],
    'machine=0: the people\'s');
($st, $p) = $s->get_json('/api/events?machine=yes');
is($st, 400, 'machine=yes: 400');

# A machine's open notifies no one; a person's (Gmail's proxy too) does.
my %told;
ok(Stack::wait_for(10, sub {
	%told = map { $_->{data}{message_id} => 1 }
	    @{ ($s->get_json('/api/notifications/admin?limit=50'))[1]{notifications} // [] };
	$told{person} && $told{gmail} }), "the person's open and Gmail's notify");
ok(!$told{apple} && !$told{foobot}, 'the machines\' do not');

# MAILHOOKS_NOTIFY_MACHINE=1: a machine's open notifies again.
{
	my $all = Stack->new(env => { MAILHOOKS_NOTIFY_MACHINE => 1 });
	$all->post_mandrill([ ev(id => 'apple2', ua => 'Mozilla/5.0', ip => '17.58.63.102') ]);
	my $n;
	ok(Stack::wait_for(10, sub {
		($n) = grep { ($_->{data}{message_id} // '') eq 'apple2' }
		    @{ ($all->get_json('/api/notifications/admin'))[1]{notifications} // [] };
		$n }), 'MAILHOOKS_NOTIFY_MACHINE=1: Apple\'s prefetch notifies');
	$all->stop;
}

# Rates count people: machine opens and clicks apart.
my ($row) = grep { $_->{value} eq 'mt' } @{ ($s->get_json('/api/stats/by?field=tag'))[1]{rows} // [] };
is_deeply([ @$row{qw(sent unique_opens machine_opens unique_clicks machine_clicks)} ], [ 6, 2, 2, 0, 2 ],
    'rates by tag: 2 messages opened by a person (Gmail\'s proxy one of them), 2 only by machines, '
    . '2 clicked only by machines') or diag(encode_json($row));
is($row->{open_rate}, 2 / $row->{delivered}, '... the open rate over people\'s opens');
my (undef, $msg) = $s->get_json('/api/messages/apple');
is_deeply([ $msg->{machine_opens}, $msg->{person_opens} // 0, $msg->{opened_by_person} ], [ 1, 0, undef ],
    "the prefetched message's summary: opened by a machine, by no person");
(undef, $msg) = $s->get_json('/api/messages/person');
is_deeply([ $msg->{person_opens}, $msg->{opened_by_person} ], [ 1, JSON::PP::true ],
    "the person's: opened by a person");

# The admin's file read again when it changes (each FastCGI process looks
# at it every 2 s at most, when it next derives); a broken one kept out.
sleep 1.1;
write_rules($shipped, "scanner-agent FooBot\nscanner-agent BarBot\n");
my $t0 = time;
my ($seen, $n) = (undef, 0);
while (time - $t0 < 15) {
	$n++;
	$s->post_mandrill([ ev(id => "bar$n", ua => 'BarBot/1', ip => '192.0.2.10') ]);
	Stack::wait_for(3, sub {
		($seen) = @{ ($s->get_json("/api/events?message_id=bar$n"))[1]{events} // [] };
		$seen });
	last if ($seen->{machine} // '') eq 'scanner';
	sleep 0.3;
}
is($seen->{machine}, 'scanner', sprintf('the file changed: its new rule used (%.1f s on)', time - $t0));
write_rules("robots please\n");
sleep 2.5;
$s->post_mandrill([ ev(id => 'foo-after', ua => 'FooBot/3', ip => '192.0.2.11') ]);
my $after;
Stack::wait_for(10, sub { ($after) = @{ ($s->get_json('/api/events?message_id=foo-after'))[1]{events} // [] }; $after });
is($after->{machine}, 'scanner', 'a broken file: the rules before it stay');
ok(Stack::wait_for(5, sub { $s->log =~ /MAILHOOKS_MACHINE_RULES=\S+: line 1: robots is no kind of rule: the rules before it stay/ }),
    '... and the log says where it is broken');

done_testing();
