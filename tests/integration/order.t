#!/usr/bin/env perl
# The events newest event time first (GET /api/events?order=time): events
# arrive out of order (a Mandrill batch, a retry a day late), and the
# page by time walks them in their own time, page after page by
# (next_before_time, next_before), each once; with the type filter, the
# search and a window; its parameters checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use List::Util qw(shuffle);
use Test::More;

my $s = Stack->new;
my $t0 = 1_790_000_000;
# 60 events, two at each of 30 times, posted in a shuffled order over
# three batches: the order stored is not the order they happened in.
my @evs;
for my $i (0 .. 59) {
	push @evs, Stack::event(id => sprintf('m%03d', $i), ts => $t0 + int($i / 2) * 60,
	    type => $i % 3 ? 'open' : 'click', email => "user$i\@example.com",
	    subject => $i % 5 ? "Invoice $i" : "Welcome $i");
	$evs[-1]{msg}{tags} = [ $i % 2 ? 'odd' : 'even' ];
}
my @shuffled = shuffle(@evs);
$s->post_mandrill([ @shuffled[$_ * 20 .. $_ * 20 + 19] ]) for 0 .. 2;
ok(Stack::wait_for(15, sub { scalar(@{ ($s->get_json('/api/events?limit=100'))[1]{events} // [] }) == 60 }),
    '60 events stored');

# Every page by time, following the cursors.
sub walk {
	my ($q) = @_;
	my (@got, $url);
	$url = "/api/events?order=time&limit=7$q";
	for (my $pages = 0; $pages < 50; $pages++) {
		my ($st, $p) = $s->get_json($url);
		die "status $st" unless $st == 200;
		push @got, @{ $p->{events} };
		last unless $p->{more};
		$url = "/api/events?order=time&limit=7$q&before=$p->{next_before}"
		    . "&before_time=$p->{next_before_time}";
	}
	return @got;
}
my @all = walk('');
is(scalar @all, 60, 'every event, page after page');
my %seen;
$seen{$_->{seq}}++ for @all;
is(scalar(grep { $_ != 1 } values %seen), 0, 'each once');
my @ts = map { $_->{ts} } @all;
is_deeply(\@ts, [ sort { $b <=> $a } @ts ], 'newest event time first');
is($ts[0], $t0 + 29 * 60, 'the newest first');
my ($default) = ($s->get_json('/api/events?limit=1'))[1]{events};
isnt($default->[0]{ts}, $ts[0], 'not the order stored (the default)')
    if $shuffled[-1]{ts} != $ts[0];

my @clicks = walk('&type=click');
is(scalar @clicks, 20, 'with type=click: its 20');
ok(!grep({ $_->{type} ne 'click' } @clicks), '... only clicks');
my @c_ts = map { $_->{ts} } @clicks;
is_deeply(\@c_ts, [ sort { $b <=> $a } @c_ts ], '... by time');
my @welcome = walk('&q=welcome');
is(scalar @welcome, 12, 'with q=welcome: its 12');
my $since = $t0 + 10 * 60;
my $until = $t0 + 20 * 60;
my @window = walk("&since=$since&until=$until");
is(scalar @window, 20, 'within a window: its 20');
ok(!grep({ $_->{ts} < $since || $_->{ts} >= $until } @window), '... all inside');

for my $bad ([ 'order=oldest', qr/order is seq or time/ ],
    [ 'order=time&after=1', qr/not after/ ],
    [ 'before_time=5&before=3', qr/before_time goes with order=time/ ],
    [ 'order=time&before_time=5', qr/before_time goes with order=time and before/ ],
    [ 'order=time&before=3&before_time=soon', qr/before_time is Unix seconds/ ]) {
	my ($st, $e) = $s->get_json("/api/events?$bad->[0]");
	is($st, 400, "$bad->[0]: 400");
	like($e->{detail} // '', $bad->[1], '... saying why');
}
# The chart and the rates follow the search and the type.
sub total {
	my ($series, $type) = @_;
	my $n = 0;
	for my $t (keys %{ $series->{counts} }) {
		next if defined $type && $t ne $type;
		$n += $_ for @{ $series->{counts}{$t} };
	}
	return $n;
}
my $win = "since=$t0&until=" . ($t0 + 3600) . '&bucket=hour';
my ($sst, $series) = $s->get_json("/api/stats/series?$win");
is(total($series), 60, 'the series: 60 events in the hour');
(undef, $series) = $s->get_json("/api/stats/series?$win&type=click");
is_deeply([ total($series), total($series, 'click') ], [ 20, 20 ], '... with type=click: its 20 clicks, nothing else');
(undef, $series) = $s->get_json("/api/stats/series?$win&q=welcome");
is(total($series), 12, '... with q=welcome: its 12');
(undef, $series) = $s->get_json("/api/stats/series?$win&q=welcome&type=open");
is(total($series), 8, '... with both: the 8 opens among them');
($sst) = $s->get_json("/api/stats/series?$win&type=kiss");
is($sst, 400, '... an unknown type: 400');
my %by = map { $_->{value} => $_ } @{ ($s->get_json('/api/stats/by?field=tag'))[1]{rows} };
is_deeply([ $by{even}{sent}, $by{odd}{sent} ], [ 30, 30 ], 'rates by tag: 30 messages each');
%by = map { $_->{value} => $_ } @{ ($s->get_json('/api/stats/by?field=tag&q=welcome'))[1]{rows} };
is_deeply([ $by{even}{sent}, $by{odd}{sent} ], [ 6, 6 ], '... with q=welcome: 6 each');
%by = map { $_->{value} => $_ } @{ ($s->get_json('/api/stats/by?field=tag&type=click'))[1]{rows} };
is_deeply([ $by{even}{unique_clicks}, $by{odd}{unique_clicks}, $by{even}{sent} ], [ 10, 10, 10 ],
    '... with type=click: the messages clicked, 10 each');
($sst) = $s->get_json('/api/stats/by?field=tag&q=w');
is($sst, 400, '... a q of one character: 400');

my $r = $s->get('/api/events.csv?order=time');
is(scalar(split /\r\n/, $r->{content}), 61, 'the CSV export with order=time: every event once');

done_testing();
