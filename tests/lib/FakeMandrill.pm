# A fake of Mandrill's API (messages/send.json) for the tests: a small
# HTTP server on a free loopback port, one process per connection, that a
# test drives through the modes it is told, one per request in order (the
# last one stays): answer right, slowly, with an error, garbage, or hang.
#
#   my $fake = FakeMandrill->new;           # started; $fake->url for
#   $fake->modes('status 500', 'ok');       # MANDRILL_API_URL
#   my @reqs = $fake->requests;             # what it was sent, decoded
#
# Modes:
#   ok                      [{email, status: sent, _id}] for each recipient
#   reject EMAIL,...        those rejected (hard-bounce), the others sent
#   queued                  each queued (queued_reason: "attachments")
#   error NAME [STATUS]     {"status":"error","name":NAME} (STATUS 500)
#   status CODE [SECONDS]   an empty answer of that status, with Retry-After
#   garbage                 200 with an HTML page
#   truncated               200 with JSON cut short
#   empty                   200 with []
#   slow SECONDS            as ok, after that long
#   hang                    reads the request, never answers
#   reset                   closes the connection without an answer
#   redirect                302 to another host
package FakeMandrill;

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
	my $dir = tempdir('fake-mandrill-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $listen = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
	my $self = bless { dir => $dir, port => $listen->sockport,
	    owner => $$ }, $class;
	$self->modes('ok');
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setpgrp(0, 0);	# its connections' processes end with it
		$SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };
		while (1) {
			my $c = $listen->accept or next;
			my $child = fork;
			if (defined $child && $child == 0) {
				close $listen;
				$self->serve($c);
				_exit(0);
			}
			close $c;
		}
	}
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub url { "http://127.0.0.1:$_[0]{port}/api/1.0" }
sub port { $_[0]{port} }

# The modes of the requests to come, one each; the last one stays.
sub modes {
	my ($self, @modes) = @_;
	open my $fh, '>', "$self->{dir}/modes.new" or die;
	print $fh "$_\n" for @modes;
	close $fh;
	rename "$self->{dir}/modes.new", "$self->{dir}/modes" or die;
}

# Every request received so far: { path, key, message, mode, at }.
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
	my ($len) = $h =~ /^Content-Length:\s*(\d+)/mi;
	$len //= 0;
	while (length $body < $len) {
		my $n = sysread $c, my $buf, $len - length $body;
		return unless $n;
		$body .= $buf;
	}
	return ($path, $body);
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

sub results {
	my ($msg, $state, %rejected) = @_;
	return $JSON->encode([ map {
		my $email = $_->{email};
		my $no = $rejected{lc $email};
		{ email => $email, status => $no ? 'rejected' : $state,
		  _id => join('', map { sprintf '%x', int rand 16 } 1 .. 32),
		  reject_reason => $no ? 'hard-bounce' : undef,
		  ($state eq 'queued' ? (queued_reason => 'attachments') : ()) }
	} @{ $msg->{to} // [] } ]);
}

sub serve {
	my ($self, $c) = @_;
	my ($path, $body) = read_request($c);
	return unless defined $path;
	my $mode = $self->next_mode;
	my $req = eval { $JSON->decode($body) } // {};
	open my $log, '>>', "$self->{dir}/requests" or die;
	flock $log, LOCK_EX;
	print $log $JSON->encode({ path => $path, key => $req->{key},
	    message => $req->{message}, mode => $mode, at => time }) . "\n";
	close $log;
	my ($verb, @arg) = split ' ', $mode;
	$c->autoflush(1);
	if ($verb eq 'hang') { sleep 3600 }
	elsif ($verb eq 'reset') { return }
	elsif ($verb eq 'slow') { sleep $arg[0]; $verb = 'ok' }
	if ($verb eq 'ok') { answer($c, 200, results($req->{message}, 'sent')) }
	elsif ($verb eq 'queued') {
		answer($c, 200, results($req->{message}, 'queued'));
	} elsif ($verb eq 'reject') {
		answer($c, 200, results($req->{message}, 'sent',
		    map { lc($_) => 1 } split /,/, $arg[0] // ''));
	} elsif ($verb eq 'error') {
		answer($c, $arg[1] // 500, $JSON->encode({ status => 'error',
		    code => -1, name => $arg[0], message => "fake: $arg[0]" }));
	} elsif ($verb eq 'status') {
		answer($c, $arg[0], '', defined $arg[1] ?
		    ("Retry-After: $arg[1]") : ());
	} elsif ($verb eq 'garbage') {
		answer($c, 200, '<html><body>Service temporarily down</body></html>');
	} elsif ($verb eq 'truncated') { answer($c, 200, '[{"email":"a@x.io","sta') }
	elsif ($verb eq 'empty') { answer($c, 200, '[]') }
	elsif ($verb eq 'redirect') {
		answer($c, 302, '', 'Location: http://elsewhere.invalid/api/1.0/');
	}
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
