#!/usr/bin/env perl
# The transaction log stays bounded under steady load: checkpoints let old
# log files go, so after many thousands of events (several times the size
# of one log file) only a few remain.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::More;

my $s = Stack->new;
my $subject = 'y' x 1500;
my ($batches, $each) = (40, 500);
for my $b (1 .. $batches) {
	my $r = $s->post_mandrill([map { Stack::event(id => "l-$b-$_",
	    subject => $subject) } 1 .. $each]);
	die "batch $b: $r->{status}" unless $r->{status} == 200;
}
my $n = $batches * $each;
is(scalar($s->wait_events($n)), $n, "$n events stored");
# Checkpoints run in a thread of each process, after the drains: give the
# last of them a moment.
my $stats;
for (my $deadline = time + 20; ; sleep 0.2) {
	my ($rc, $out) = $s->admin('stats');
	$stats = decode_json($out);
	last if $stats->{log_files} <= 3 || time > $deadline;
}
note "log files: $stats->{log_files} of $stats->{log_newest} written; "
    . "database: $stats->{db_bytes} bytes";
cmp_ok($stats->{log_newest}, '>', 3, "$stats->{log_newest} log files written");
cmp_ok($stats->{log_files}, '<=', 3, 'yet at most three log files remain');
my @open = grep { (stat $_)[2] & 0027 } glob($s->home . '/db/*');
is_deeply(\@open, [], 'every file of the environment is readable by its '
    . 'group at most, and by no one else');
done_testing;
