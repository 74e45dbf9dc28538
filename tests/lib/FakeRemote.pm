# What the tests' fakes of remote services share (FakeMandrill.pm,
# FakeCampaignApi.pm): a small HTTP server on a free loopback port, one
# process per connection, driven through modes, one per request in order
# (the last one stays), with a log of every request it got. A subclass
# answers a request in its sub serve($conn, $path, $headers, $body, $mode)
# and names what it logs of it in sub logged.
package FakeRemote;

use strict;
use warnings;
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->canonical;

sub new {
	my ($class) = @_;
	my $dir = tempdir('fake-remote-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $self = bless { dir => $dir, port => 0, owner => $$ }, $class;
	$self->modes('ok');
	$self->listen;
	return $self;
}

# Listens (on the port it had, once it has one) and serves, in a process.
sub listen {
	my ($self) = @_;
	my $listen = IO::Socket::INET->new(Listen => 64,
	    LocalAddr => '127.0.0.1', LocalPort => $self->{port},
	    Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
	$self->{port} = $listen->sockport;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setpgrp(0, 0);	# its connections' processes end with it
		$SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };
		while (1) {
			my $c = $listen->accept or next;
			my $child = fork;
			if (defined $child && $child == 0) {
				close $listen;
				$self->handle($c);
				_exit(0);
			}
			close $c;
		}
	}
	close $listen;
	$self->{pid} = $pid;
}

sub port { $_[0]{port} }

# Connections are refused from now on (the service is down), until resume.
sub refuse { $_[0]->stop }
sub resume { $_[0]->listen unless $_[0]{pid} }

# The modes of the requests to come, one each; the last one stays.
sub modes {
	my ($self, @modes) = @_;
	open my $fh, '>', "$self->{dir}/modes.new" or die;
	print $fh "$_\n" for @modes;
	close $fh;
	rename "$self->{dir}/modes.new", "$self->{dir}/modes" or die;
}

# Every request received so far, as the subclass logged it, with its
# mode and time.
sub requests {
	my ($self) = @_;
	my @all;
	if (open my $fh, '<', "$self->{dir}/requests") {
		@all = map { $JSON->decode($_) } <$fh>;
	}
	return @all;
}

# The next mode, taken under a lock: the last one is left for the rest.
sub next_mode {
	my ($self) = @_;
	open my $lock, '>>', "$self->{dir}/lock" or die;
	flock $lock, LOCK_EX;
	open my $fh, '<', "$self->{dir}/modes" or return 'ok';
	my @modes = grep { length } map { chomp; $_ } <$fh>;
	close $fh;
	my $mode = @modes ? $modes[0] : 'ok';
	$self->modes(@modes[1 .. $#modes]) if @modes > 1;
	return $mode;
}

# The request's path, headers (lower-cased names) and body.
sub read_request {
	my ($c) = @_;
	my $head = '';
	while ($head !~ /\r\n\r\n/) {
		my $n = sysread $c, my $buf, 4096;
		return unless $n;
		$head .= $buf;
	}
	my ($h, $body) = split /\r\n\r\n/, $head, 2;
	my ($path) = $h =~ m{^POST (\S+) HTTP/1\.[01]};
	my %headers = map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () }
	    split /\r\n/, $h;
	my $len = $headers{'content-length'} // 0;
	while (length $body < $len) {
		my $n = sysread $c, my $buf, $len - length $body;
		return unless $n;
		$body .= $buf;
	}
	return ($path, \%headers, $body);
}

sub handle {
	my ($self, $c) = @_;
	my ($path, $headers, $body) = read_request($c);
	return unless defined $path;
	my $mode = $self->next_mode;
	my $req = eval { $JSON->decode($body) } // {};
	open my $log, '>>', "$self->{dir}/requests" or die;
	flock $log, LOCK_EX;
	print $log $JSON->encode({ $self->logged($path, $headers, $req,
	    $body),
	    path => $path, mode => $mode, at => time }) . "\n";
	close $log;
	$c->autoflush(1);
	$self->serve($c, $mode, $req, $path);
}

sub answer {
	my ($c, $status, $body, @headers) = @_;
	my $reason = { 200 => 'OK', 302 => 'Found', 429 => 'Too Many Requests',
	    500 => 'Internal Server Error' }->{$status} // 'Status';
	print $c "HTTP/1.1 $status $reason\r\nContent-Type: application/json\r\n"
	    . join('', map { "$_\r\n" } @headers)
	    . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n"
	    . $body;
}

# A 200 whose body never ends: the headers, then a byte a second until the
# client hangs up (or an hour passes).
sub endless {
	my ($c) = @_;
	local $SIG{PIPE} = 'IGNORE';
	print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    . "Content-Length: 100000000\r\nConnection: close\r\n\r\n[" or return;
	$c->autoflush(1);
	for (1 .. 3600) { print $c ' ' or return; sleep 1 }
}

sub stop {
	my ($self) = @_;
	return unless $self->{pid} && $$ == $self->{owner};
	kill 'KILL', -$self->{pid};	# with the connections it serves
	waitpid $self->{pid}, 0;
	delete $self->{pid};
}

sub DESTROY { local $?; $_[0]->stop }

1;
