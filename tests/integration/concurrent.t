#!/usr/bin/env perl
# Concurrent webhooks through two FastCGI processes sharing one Berkeley DB
# environment: every request is acknowledged, every event stored once, and
# the seqs are dense (the catch-up cursor misses nothing).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use POSIX ();
use Test::More;

my ($clients, $each) = (6, 100);
my $s = Stack->new;
my @pids;
for my $c (1 .. $clients) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $failed = 0;
		for my $i (1 .. $each) {
			my $r = $s->post_mandrill([Stack::event(id => "c$c-$i",
			    ts => 1700000000 + $i), Stack::event(id => "c$c-$i",
			    type => 'send', ts => 1700000000 + $i)]);
			$failed++ unless $r->{status} == 200;
		}
		POSIX::_exit($failed > 200 ? 200 : $failed);
	}
	push @pids, $pid;
}
my $failed = 0;
for (@pids) {
	waitpid($_, 0);
	$failed += $? >> 8;
}
is($failed, 0, "all $clients x $each concurrent webhooks acknowledged");
my $n = 2 * $clients * $each;
my @ev = $s->wait_events($n);
is(scalar @ev, $n, "all $n events stored");
my %ids;
$ids{"$_->{message_id}/$_->{type}"}++ for @ev;
is(scalar(keys %ids), $n, 'each exactly once');
is_deeply([map { $_->{seq} } @ev], [1 .. $n], 'seqs are dense and ordered');
my ($st, $h) = $s->get_json('/api/health');
is($h->{inbox_pending}, 0, 'the inbox is empty');
unlike($s->log, qr/berkeley db|storage unavailable|drain stopped/,
    'no storage error in the log');
done_testing;
