#!/usr/bin/env perl
# Nothing acknowledged is lost, whatever gets killed: concurrent clients
# post unique events while FastCGI processes are SIGKILLed at random (the
# web server restarts them); then the whole web server is SIGKILLed and
# started again on the same data. Every event that got a 200 is stored,
# and no one ran a recovery by hand.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my ($clients, $seconds) = (4, 6);
my $s = Stack->new;
my $home = $s->home;

# Each client posts small batches of unique opens and writes down the ids
# of every batch it saw acknowledged.
sub client {
	my ($c, $until) = @_;
	open my $log, '>', "$home/acked-$c" or die;
	$log->autoflush(1);
	my ($n, $fail) = (0, 0);
	while (time < $until) {
		my @ids = map { "c$c-" . ++$n } 1 .. 3;
		my $r = $s->post_mandrill([map { Stack::event(id => $_) } @ids]);
		if ($r->{status} == 200) {
			print $log "$_\n" for @ids;
		} else {
			$fail++;
		}
	}
	open my $f, '>', "$home/failed-$c" or die;
	print $f "$fail\n";
	close $f;
	POSIX::_exit(0);
}

my $until = time + $seconds;
my @pids;
for my $c (1 .. $clients) {
	my $pid = fork // die;
	client($c, $until) if $pid == 0;
	push @pids, $pid;
}
my $kills = 0;
while (time < $until) {
	sleep 0.15 + rand 0.2;
	my @fcgi = $s->pids_named('mailhooks.fcgi');
	next unless @fcgi;
	kill 'KILL', $fcgi[rand @fcgi];
	$kills++;
}
waitpid($_, 0) for @pids;
cmp_ok($kills, '>=', 5, "$kills FastCGI processes SIGKILLed under load");

sub acked {
	my %ids;
	for my $c (1 .. $clients) {
		open my $fh, '<', "$home/acked-$c" or die;
		chomp(my @l = <$fh>);
		$ids{$_} = 1 for @l;
	}
	return \%ids;
}

# Whatever is left in the inbox is drained by the next requests.
sub settle {
	my ($stack) = @_;
	my $deadline = time + 20;
	my $h;
	while (time < $deadline) {
		(undef, $h) = $stack->get_json('/api/health');
		last if $h && ($h->{inbox_pending} // -1) == 0;
		sleep 0.1;
	}
	return $h;
}

sub stored {
	my ($stack) = @_;
	my %have;
	$have{$_->{message_id}}++ for $stack->all_events;
	return \%have;
}

sub failed {
	my $n = 0;
	for my $c (1 .. $clients) {
		open my $fh, '<', "$home/failed-$c" or next;
		$n += <$fh>;
	}
	return $n;
}

my $acked = acked();
cmp_ok(scalar(keys %$acked), '>', 100, scalar(keys %$acked)
    . ' events acknowledged while processes died');
note 'events posted: ' . (keys(%$acked) + 3 * failed()) . ', in requests '
    . 'refused or cut by a kill: ' . 3 * failed();
my $h = settle($s);
is($h->{inbox_pending}, 0, 'the inbox drains');
my $have = stored($s);
my @lost = grep { !$have->{$_} } sort keys %$acked;
is(scalar @lost, 0, 'every acknowledged event is stored')
    or diag "lost: @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
is(scalar(grep { $_ > 1 } values %$have), 0, 'none twice');

# Now the whole web server, mid-load.
my $s2_until = time + 3;
@pids = ();
for my $c (1 .. $clients) {
	my $pid = fork // die;
	client($c + $clients, $s2_until) if $pid == 0;
	push @pids, $pid;
}
sleep 1.5;
my $pgid = $s->{pgid};
kill 'KILL', -$pgid;
waitpid($s->{pid}, 0);
delete $s->{pid};
waitpid($_, 0) for @pids;
$clients *= 2;
$acked = acked();
note 'after the server kill, acknowledged in all: ' . scalar(keys %$acked);
$s->start;
$h = settle($s);
is($h->{status}, 'ok', 'started again on the same data, no manual recovery');
$have = stored($s);
@lost = grep { !$have->{$_} } sort keys %$acked;
is(scalar @lost, 0, 'every acknowledged event survived the SIGKILL of the '
    . 'whole server') or diag "lost: @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
my $r = $s->post_mandrill([Stack::event(id => 'after-crash')]);
is($r->{status}, 200, 'and it takes webhooks again');

# After a storm of killed FastCGI processes (every one, ten times, the web
# server respawning them), Ctrl-C still stops everything within seconds:
# once, respawned processes outlived it by more than 15 s.
for my $round (1 .. 10) {
	kill 'KILL', $s->pids_named('mailhooks.fcgi');
	$s->post_mandrill([Stack::event(id => "storm-$round")]);
	sleep 0.1;
}
my $t0 = time;
is($s->stop('INT'), 0, 'Ctrl-C after the storm stops the stack');
my $deadline = time + 5;
sleep 0.1 while $s->processes && time < $deadline;
is_deeply([$s->processes], [], 'no process is left 5 s after Ctrl-C');
note sprintf 'all gone %.1f s after Ctrl-C', time - $t0;

done_testing;
