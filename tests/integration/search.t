#!/usr/bin/env perl
# The events as an activity tool: q (part of an address or a subject, any
# case, from the trigram index), since/until (from the time index), the
# series per hour and day, the reports by tag and template, the clicks per
# link, and erasure (the API, the admin tool, and no file of the store
# holding the address afterwards). Every expected value is computed here
# from the events posted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new;
my $T0 = 1767225600;	# 2026-01-01T00:00:00Z
my @types = qw(send delivered open click);
my @ev;
for my $i (0 .. 399) {
	my $noah = $i % 10 == 0;
	my $e = Stack::event(type => $types[$i % 4], id => 'm-' . int($i / 4),
	    email => $noah ? 'Noah.Smith' . ($i % 20 ? 'B' : 'A') . '@Example.com'
	    : "r$i\@example.org",
	    subject => ($i % 8 < 4 ? 'Your invoice ' . int($i / 4) : 'Weekly digest'),
	    ts => $T0 + $i * 600,
	    url => 'https://example.com/' . ($i % 3 ? 'a' : 'b'));
	# Its trigrams are those of "abcd", but not in one run.
	$e->{msg}{email} = 'abcx.bcd@example.net' if $i == 399;
	$e->{msg}{tags} = [ $i % 8 < 4 ? 'invoice' : 'weekly' ];
	$e->{msg}{template} = $i % 8 < 4 ? 'tpl-invoice' : 'tpl-weekly';
	push @ev, $e;
}
is($s->post_mandrill([ @ev[0 .. 199] ])->{status}, 200, '200 events posted');
is($s->post_mandrill([ @ev[200 .. 399] ])->{status}, 200, 'and 200 more');
is(scalar($s->wait_events(400)), 400, 'all stored');

# What each query should find: the events' indexes by what they hold.
sub want { my ($test) = @_; grep { $test->($ev[$_]) } 0 .. $#ev }
sub seqs_of { my ($query) = @_; map { $_->{seq} } $s->all_events($query) }
sub ids { [ map { $_ + 1 } @_ ] }	# seq = index + 1: posted in order

is_deeply([ seqs_of('q=noah') ], ids(want(sub { $_[0]{msg}{email} =~ /noah/i })),
    'q: part of an address, any case, every match (40)');
is_deeply([ seqs_of('q=NOAH.smithb') ], ids(want(sub { $_[0]{msg}{email} =~ /noah\.smithb/i })),
    'q in capitals matches lower case, and the dot is text');
is_deeply([ seqs_of('q=h.smi') ], [ seqs_of('q=noah') ], 'q: the middle of an address');
is_deeply([ seqs_of('q=ly%20dig') ], ids(want(sub { $_[0]{msg}{subject} =~ /ly dig/ })),
    'q: part of a subject');
is_deeply([ seqs_of('q=noah&type=open') ],
    ids(want(sub { $_[0]{msg}{email} =~ /noah/i && $_[0]{event} eq 'open' })),
    'q with a type');
is_deeply([ seqs_of('q=r3') ], ids(want(sub { $_[0]{msg}{email} =~ /r3/ })),
    'q of two characters');
is_deeply([ seqs_of('q=Rg') ], ids(want(sub { "$_[0]{msg}{email} $_[0]{msg}{subject}" =~ /rg/i })),
    'q of two characters, in any case, at the end of an address too');
is_deeply([ seqs_of('q=xyzzy') ], [], 'q matching nothing: an empty page');
is_deeply([ seqs_of('q=abcd') ], [], 'trigrams in common are not a match');
is_deeply([ seqs_of('q=x.bcd') ], [ 400 ], 'the text itself is');

my ($st, $page) = $s->get_json('/api/events?q=noah&limit=7');
is(scalar @{ $page->{events} }, 7, 'q pages: the newest 7');
is_deeply([ map { $_->{seq} } @{ $page->{events} } ],
    [ (reverse @{ ids(want(sub { $_[0]{msg}{email} =~ /noah/i })) })[0 .. 6] ],
    'newest first');
my ($st2, $page2) = $s->get_json("/api/events?q=noah&limit=7&before=$page->{next_before}");
is($page2->{events}[0]{seq}, (reverse @{ ids(want(sub { $_[0]{msg}{email} =~ /noah/i })) })[7],
    'the next page goes on where it stopped');

for my $bad ([ 'q=x', qr/q must be 2 to 200 characters, not 1/ ],
    [ 'q=' . ('a' x 201), qr/not 201/ ]) {
	my ($code, $body) = $s->get_json("/api/events?$bad->[0]");
	is($code, 400, "$bad->[0]: 400");
	like($body->{detail}, $bad->[1], 'saying why');
}
is(($s->get_json('/api/events?q=' . ('é' x 200)))[0], 200,
    '200 characters of two bytes each are 200 characters');

# Ranges, against the posted times.
my ($since, $until) = ($T0 + 3600 * 10, $T0 + 3600 * 11);
is_deeply([ seqs_of("since=$since&until=$until") ],
    ids(want(sub { $_[0]{ts} >= $since && $_[0]{ts} < $until })),
    'since/until: exactly the hour\'s six events');
is_deeply([ seqs_of("since=$since&until=$until&type=open") ],
    ids(want(sub { $_[0]{ts} >= $since && $_[0]{ts} < $until && $_[0]{event} eq 'open' })),
    'a range with a type');
is_deeply([ seqs_of("since=$since&until=" . ($since + 86400) . '&q=digest') ],
    ids(want(sub { $_[0]{ts} >= $since && $_[0]{ts} < $since + 86400
    && $_[0]{msg}{subject} =~ /digest/ })), 'a range with q');
($st, $page) = $s->get_json("/api/stats?since=$since&until=$until");
is($page->{total}, 6, '/api/stats counts the range from the index');

# /api/stats reads whole hours from the counts per hour and the part hours
# at a window's ends event by event: windows of every shape, against the
# posted events.
sub stats_want {
	my ($from, $to) = @_;
	my %c = (total => 0);
	for (@ev) {
		next if defined $from && $_->{ts} < $from;
		next if defined $to && $_->{ts} >= $to;
		$c{total}++;
		$c{ $_->{event} }++;
	}
	return \%c;
}
for my $w ([ $T0, $T0 + 3 * 86400 ], [ $T0 + 1234, $T0 + 86400 + 4321 ],
    [ $T0 + 601, $T0 + 3599 ], [ $T0 + 3000, $T0 + 4000 ],
    [ $T0 + 3600 * 5, $T0 + 3600 * 7 ], [ $T0 - 86400, $T0 + 7 ],
    [ $T0 + 59 * 600 + 1, undef ], [ 0, $T0 + 3601 ],
    [ -9223372036854775807, 9223372036854775807 ],
    [ 9223372036854775806, 9223372036854775807 ]) {
	my ($from, $to) = @$w;
	my $q = join '&', defined $from ? "since=$from" : (),
	    defined $to ? "until=$to" : ();
	my ($code, $got) = $s->get_json("/api/stats?$q");
	my $w = stats_want($from, $to);
	is_deeply({ total => $got->{total}, map { $_ => $got->{counts}{$_} }
	    grep { $w->{$_} } @types }, $w, "/api/stats?$q: as posted");
}

# The series.
my ($code, $ser) = $s->get_json("/api/stats/series?since=$T0&until=" . ($T0 + 86400 * 3)
    . '&bucket=hour');
is($code, 200, 'series by hour: 200');
is(scalar @{ $ser->{start} }, 72, '72 hours');
is($ser->{start}[5], $T0 + 5 * 3600, 'each bucket\'s start');
my %by_hour;
$by_hour{ int(($_->{ts} - $T0) / 3600) }{ $_->{event} }++ for @ev;
is_deeply([ map { $ser->{counts}{open}[$_] } 0 .. 71 ],
    [ map { $by_hour{$_}{open} // 0 } 0 .. 71 ], 'opens per hour, as posted');
($code, $ser) = $s->get_json("/api/stats/series?since=" . ($T0 + 7200) . "&until="
    . ($T0 + 86400 * 4) . '&bucket=day');
is($ser->{since}, $T0, 'by day: since goes back to the day\'s start (UTC)');
my %by_day;
$by_day{ int(($_->{ts} - $T0) / 86400) }{ $_->{event} }++ for @ev;
is_deeply($ser->{counts}{click}, [ map { $by_day{$_}{click} // 0 } 0 .. 3 ],
    'clicks per day, as posted');
is_deeply($ser->{counts}{send}, [ map { $by_day{$_}{send} // 0 } 0 .. 3 ], 'sends too');
for my $bad ([ 'bucket=minute', qr/bucket must be hour or day/ ],
    [ "bucket=hour&since=$T0&until=" . ($T0 + 367 * 86400), qr/at most 366 days/ ],
    [ 'since=soon', qr/since must be/ ]) {
	my ($c, $b) = $s->get_json("/api/stats/series?$bad->[0]");
	is($c, 400, "series $bad->[0]: 400");
	like($b->{detail}, $bad->[1], 'saying why');
}

# The reports by tag and template.
my %msg;
for (@ev) {
	my $m = $msg{ $_->{_id} } //= { tag => $_->{msg}{tags}[0], tpl => $_->{msg}{template} };
	$m->{ $_->{event} } = 1;
}
my %want;
for my $m (values %msg) {
	my $w = $want{ $m->{tag} } //= { value => $m->{tag}, sent => 0, delivered => 0,
	    unique_opens => 0, unique_clicks => 0, bounces => 0 };
	$w->{sent}++;
	$w->{delivered} += ($m->{delivered} || $m->{open} || $m->{click}) ? 1 : 0;
	$w->{unique_opens} += $m->{open} // 0;
	$w->{unique_clicks} += $m->{click} // 0;
}
($code, my $by) = $s->get_json('/api/stats/by?field=tag');
is($code, 200, 'by tag: 200');
my %got = map { $_->{value} => $_ } @{ $by->{rows} };
for my $tag (sort keys %want) {
	my $w = $want{$tag};
	is_deeply({ map { $_ => $got{$tag}{$_} } keys %$w }, $w, "tag $tag: its counts");
	is($got{$tag}{open_rate}, $w->{unique_opens} / $w->{delivered}, "and its open rate");
	is($got{$tag}{click_rate}, $w->{unique_clicks} / $w->{delivered}, "and its click rate");
}
($code, $by) = $s->get_json('/api/stats/by?field=template');
is_deeply([ sort map { $_->{value} } @{ $by->{rows} } ], [ 'tpl-invoice', 'tpl-weekly' ],
    'by template: each template');
($code, $by) = $s->get_json('/api/stats/by?field=sender');
is($code, 400, 'an unknown field: 400');
like($by->{detail}, qr/field must be tag or template/, 'saying which');

my %links;
$links{ $_->{url} }++ for grep { $_->{event} eq 'click' && $_->{msg}{template} eq 'tpl-weekly' } @ev;
($code, my $lk) = $s->get_json('/api/stats/links?template=tpl-weekly');
is_deeply({ map { $_->{url} => $_->{clicks} } @{ $lk->{links} } }, \%links,
    'clicks per link of a template');
my $one = (grep { $_->{event} eq 'click' } @ev)[0];
($code, $lk) = $s->get_json("/api/stats/links?message_id=$one->{_id}");
is_deeply($lk->{links}, [ { url => $one->{url}, clicks => 1 } ], 'and of a message');
is(($s->get_json('/api/stats/links'))[0], 400, 'links of nothing: 400');

# Erasure. One more open of the address makes its user a notification.
my $gone = 'noah.smitha@example.com';
my $noted = Stack::event(type => 'open', id => 'm-noted', email => 'Noah.SmithA@Example.com',
    subject => 'Noted', ts => $T0 + 400 * 600);
$noted->{msg}{metadata} = { user_id => 'admin' };
is($s->post_mandrill([ $noted ])->{status}, 200, 'an open that notifies admin');
$s->wait_events(401);
my ($nc, $nt) = $s->get_json('/api/notifications');
is(scalar(grep { ($_->{data}{email} // '') =~ /smitha/i } @{ $nt->{notifications} }), 1,
    'admin has its notification');
push @ev, $noted;
my @mine = want(sub { lc $_[0]{msg}{email} eq $gone });
my %their_msgs = map { $ev[$_]{_id} => 1 } @mine;
my $viewer_pw = 'viewer-password-1';
$s->admin_with_password($viewer_pw, 'user', 'add', 'vera', '--role', 'viewer');
my $as_admin = $s->{cookie};
$s->sign_in('vera', $viewer_pw);
is($s->send_json('DELETE', '/api/recipients/' . uc $gone)->{status}, 403,
    'a viewer cannot erase');
$s->{cookie} = $as_admin;
my $r = $s->send_json('DELETE', '/api/recipients/' . uc $gone);
is($r->{status}, 200, 'an admin erases (any case): 200');
is($r->{json}{erased}{events}, scalar @mine, 'saying how many events went');
is($r->{json}{erased}{summaries}, scalar keys %their_msgs, 'and summaries');
is($r->{json}{erased}{raw_bodies}, 3, 'and the three raw bodies they came from');
is($r->{json}{erased}{notifications}, 1, 'and the notification naming it');
($nc, $nt) = $s->get_json('/api/notifications');
is(scalar(grep { ($_->{data}{email} // '') =~ /smitha/i } @{ $nt->{notifications} }), 0,
    'which is gone from its user\'s list');
like($s->log, qr/recipient sha256:[0-9a-f]{16} erased by admin: ${\ scalar @mine} events/,
    'logged, by digest');
unlike($s->log, qr/\Q$gone\E/i, 'the log does not name the address');
is_deeply([ seqs_of("email=$gone") ], [], 'no event of it by address');
is_deeply([ seqs_of('q=smitha') ], [], 'nor by search');
is(scalar(seqs_of('q=smithb')), 20, 'the other address kept');
unlike($s->get('/api/events.csv')->{content}, qr/smitha/i, 'nor in the export');
for my $id (keys %their_msgs) {
	is(($s->get_json("/api/messages/$id"))[0], 404, "its message $id: gone");
}
my $left = @ev - @mine;
is(($s->get_json('/api/stats?since=0'))[1]{total}, $left,
    'the all-time count has lost them too');
my ($rc, $dump) = $s->admin('dump');
unlike($dump, qr/smitha/i, 'nor in the admin tool\'s dump');
$r = $s->send_json('DELETE', '/api/recipients/nobody@example.com');
is_deeply($r->{json}{erased}, { events => 0, email_callbacks => 0, summaries => 0,
    raw_bodies => 0, notifications => 0 }, 'an address with none: 200 and zeros');
is($s->send_json('DELETE', '/api/recipients/not-an-address')->{status}, 400,
    'not an address: 400');

# The admin tool erases the same way.
for my $bad ('notanemail', '', '@', 'x@') {
	my ($brc) = $s->admin('erase', $bad);
	is($brc, 1, "mailhooks-db erase '$bad': exit 1, nothing erased");
}
($rc, my $out) = $s->admin('erase', 'Noah.SmithB@example.com');
is($rc, 0, 'mailhooks-db erase: exit 0');
is(decode_json($out)->{erased}{events}, 20, 'printing what went');
is_deeply([ seqs_of('q=noah') ], [], 'nothing of either address is left');

# No file of the store holds either address: a consistent copy, dumped.
my $copy = $s->home . '/copy';
is(($s->admin('backup', $copy))[0], 0, 'a backup of the store');
my $files = join ' ', map { "'$_'" } glob("$copy/*.db");
my $all = `for f in $files; do db5.3_dump -p "\$f"; done 2>&1`;
like($all, qr/example\.org/, 'the dump holds the other events');
unlike($all, qr/smith[ab]/i, 'and no byte of the erased addresses');
done_testing;
