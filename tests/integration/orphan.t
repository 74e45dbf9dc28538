#!/usr/bin/env perl
# A FastCGI process the web server started in the moment it took to stop
# (a respawn during shutdown) missed both the Ctrl-C and the death of its
# parent, and waited in accept() for good. The servers' configurations now
# say they spawn it (MAILHOOKS_SPAWNED_BY): started with that and no server
# for a parent, it ends at once. Without it (spawn-fcgi, whose parent
# leaves at once) it stays and serves.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use POSIX qw(setsid WNOHANG _exit);
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(sleep time);

my $home = tempdir('mailhooks-orphan-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Starts the program on a listening socket as an orphan (its parent gone
# before it runs), with env; returns its pid.
sub orphan {
	my (%env) = @_;
	my $path = "$home/fcgi-" . int(rand 1e9) . '.sock';
	my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
	    Listen => 5) or die "listen: $!";
	pipe(my $r, my $w) or die;
	my $pid = fork // die;
	if ($pid == 0) {
		setsid();
		my $g = fork // _exit(1);
		if ($g == 0) {
			close $r;
			sleep 0.3;	# its parent is gone by now
			open STDIN, '<&', $l or _exit(1);
			$ENV{MAILHOOKS_HOME} = $home;
			$ENV{$_} = $env{$_} for keys %env;
			exec "$Stack::ROOT/cgi-bin/mailhooks.fcgi" or _exit(1);
		}
		syswrite $w, "$g\n";
		_exit(0);
	}
	close $w;
	chomp(my $g = <$r>);
	waitpid($pid, 0);
	return $g;
}

sub alive { kill 0, $_[0] }

my $spawned = orphan(MAILHOOKS_SPAWNED_BY => 'lighttpd');
ok(Stack::wait_for(5, sub { !alive($spawned) }),
    'spawned by a server that is gone: it ends at once');
my $apart = orphan();
sleep 1.5;
ok(alive($apart), 'started apart (spawn-fcgi): it stays');
kill 'TERM', $apart;
ok(Stack::wait_for(10, sub { !alive($apart) }), 'and ends on SIGTERM');
done_testing;
