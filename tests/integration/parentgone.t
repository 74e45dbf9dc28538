#!/usr/bin/env perl
# A FastCGI process ends with the web server that spawned it. After a
# Ctrl-C, one process was left waiting in accept() for good: it had missed
# the one SIGINT (started in the moment the server took to stop, or caught
# in libfcgi's window before accept()). Here a parent named lighttpd spawns
# the program (as lighttpd's bin-path does) and is then SIGKILLed, sending
# nothing: the program must go by itself. Under spawn-fcgi, whose parent
# leaves at once, it must stay.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(sleep time);

my $home = tempdir('mailhooks-test-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Starts the program under a parent called $name; returns the parent's pid
# and the program's.
sub spawn_under {
	my ($name, $sock) = @_;
	pipe(my $r, my $w) or die $!;
	my $parent = fork // die $!;
	if ($parent == 0) {
		$0 = $name;
		my $child = fork // die $!;
		if ($child == 0) {
			open STDOUT, '>', '/dev/null';
			open STDERR, '>>', "$home/err.log";
			$ENV{MAILHOOKS_HOME} = $home;
			exec('spawn-fcgi', '-n', '-s', $sock, '--',
			    "$Stack::ROOT/cgi-bin/mailhooks.fcgi") or _exit(127);
		}
		print $w "$child\n";
		close $w;
		sleep 3600 while 1;
	}
	close $w;
	chomp(my $child = <$r>);
	for (1 .. 100) { last if -S $sock; sleep 0.05 }
	return ($parent, $child);
}

sub gone_within {
	my ($pid, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline) {
		return 1 unless kill 0, $pid;
		# A zombie is gone too: its parent (init) has not reaped it yet.
		open my $st, '<', "/proc/$pid/stat" or return 1;
		return 1 if (<$st> // '') =~ /^\d+ \(.*\) Z/;
		sleep 0.05;
	}
	return 0;
}

my ($server, $fcgi) = spawn_under('lighttpd', "$home/a.sock");
ok(-S "$home/a.sock" && kill(0, $fcgi), 'the program runs under "lighttpd"');
kill 'KILL', $server;
waitpid($server, 0);
ok(gone_within($fcgi, 5), 'and ends by itself once its web server is gone');

($server, $fcgi) = spawn_under('supervisor', "$home/b.sock");
kill 'KILL', $server;
waitpid($server, 0);
ok(!gone_within($fcgi, 1), 'under another parent it stays when that goes');
kill 'TERM', $fcgi;
ok(gone_within($fcgi, 5), '(until told to stop)');
done_testing;
