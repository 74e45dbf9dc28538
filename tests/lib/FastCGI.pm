# One mailhooks.fcgi process for one test, started by spawn-fcgi on a UNIX
# socket in the test's temporary directory, and a FastCGI client that
# speaks to it the way lighttpd and mod_fcgid do (one request per
# connection, keep_conn 0). For what a web server in front would hide: how
# the program closes a connection, what it does with no request coming.
package FastCGI;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use JSON::PP ();
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep);

use Stack;

# FastCGI->start(env => { MAILHOOKS_MAX_BODY => ... }): the process, with
# MAILHOOKS_HOME a new temporary directory; stopped (SIGTERM) when the
# object goes.
sub start {
	my ($class, %opt) = @_;
	my $home = tempdir('mailhooks-test-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $self = bless { home => $home, sock => "$home/fcgi.sock",
	    owner => $$ }, $class;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>', "$home/out.log" or die;
		open STDERR, '>', "$home/err.log" or die;
		$ENV{$_} = $opt{env}{$_} for keys %{ $opt{env} // {} };
		$ENV{MAILHOOKS_HOME} = $home;
		exec 'spawn-fcgi', '-n', '-s', $self->{sock}, '--',
		    "$Stack::ROOT/cgi-bin/mailhooks.fcgi";
		die "exec: $!";
	}
	$self->{pid} = $pid;
	for (1 .. 100) { last if -S $self->{sock}; sleep 0.05 }
	return $self;
}

sub home { $_[0]{home} }
sub pid { $_[0]{pid} }
sub listening { -S $_[0]{sock} }

sub DESTROY {
	my ($self) = @_;
	return unless $self->{pid} && $$ == $self->{owner};
	kill 'TERM', $self->{pid};
	waitpid $self->{pid}, 0;
	$self->{pid} = undef;
}

sub record {
	my ($type, $content) = @_;
	my $pad = (8 - length($content) % 8) % 8;
	return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0)
	    . $content . ("\0" x $pad);
}

sub pairs {
	my (%p) = @_;
	return join '', map {
		my ($k, $v) = ($_, $p{$_});
		(length $k < 128 ? pack('C', length $k) : pack('N', length($k) | 0x80000000))
		. (length $v < 128 ? pack('C', length $v) : pack('N', length($v) | 0x80000000))
		. $k . $v
	} sort keys %p;
}

# Sends one request with the body in STDIN records; returns the
# connection. %extra: more parameters (HTTP_X_MANDRILL_SIGNATURE, ...).
sub send_request {
	my ($self, $method, $uri, $body, %extra) = @_;
	my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM,
	    Peer => $self->{sock}) or die "connect: $!";
	my %params = (REQUEST_METHOD => $method, REQUEST_URI => $uri,
	    SCRIPT_NAME => $uri =~ s/\?.*//r, QUERY_STRING => '',
	    SERVER_NAME => '127.0.0.1', SERVER_PORT => '80',
	    HTTP_HOST => '127.0.0.1', CONTENT_LENGTH => length $body,
	    CONTENT_TYPE => 'application/x-www-form-urlencoded', %extra);
	my $out = record(1, pack('nCx5', 1, 0)) . record(4, pairs(%params))
	    . record(4, '');
	for (my $at = 0; $at < length $body; $at += 32768) {
		$out .= record(5, substr($body, $at, 32768));
	}
	$out .= record(5, '');
	# The program may answer (413) before reading it all: write what the
	# socket takes while reading is not needed yet.
	$c->blocking(0);
	my $sel = IO::Select->new($c);
	while (length $out) {
		$sel->can_write(5) or last;
		my $n = syswrite($c, $out);
		last if !defined $n;
		substr($out, 0, $n) = '';
	}
	$c->blocking(1);
	return $c;
}

# Reads records up to FCGI_END_REQUEST; returns the STDOUT bytes (undef if
# the connection ended first).
sub read_answer {
	my ($c) = @_;
	my ($buf, $stdout) = ('', '');
	my $sel = IO::Select->new($c);
	while ($sel->can_read(10)) {
		my $n = sysread($c, $buf, 65536, length $buf);
		return undef if !$n;
		while (length $buf >= 8) {
			my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
			last if length $buf < 8 + $len + $pad;
			my $content = substr($buf, 8, $len);
			substr($buf, 0, 8 + $len + $pad) = '';
			$stdout .= $content if $type == 6;
			return $stdout if $type == 3;
		}
	}
	return undef;
}

# A whole request: its answer's STDOUT (undef when there is none).
sub request {
	my ($self, @req) = @_;
	my $c = $self->send_request(@req);
	my $answer = read_answer($c);
	close $c;
	return $answer;
}

sub status_of { $_[0] =~ /^Status: (\d+)/m ? $1 : 200 }

# Posts one unsigned Mandrill open with message id $id; returns the status.
sub webhook {
	my ($self, $id) = @_;
	my $body = 'mandrill_events='
	    . Stack::form_encode(JSON::PP::encode_json([Stack::event(id => $id)]));
	return status_of($self->request('POST', '/webhooks/mandrill', $body)
	    // '');
}

# Puts a Mandrill open with message id $id in the inbox behind the
# program's back (tests/lib/inbox-put), claimed by $pid if given; returns
# inbox-put's exit code.
sub inbox_put {
	my ($self, $id, $pid) = @_;
	my $file = "$self->{home}/body-$id";
	open my $fh, '>', $file or die "$file: $!";
	print $fh 'mandrill_events='
	    . Stack::form_encode(JSON::PP::encode_json([Stack::event(id => $id)]));
	close $fh;
	system("$Stack::ROOT/tests/lib/inbox-put $self->{home} $file "
	    . ($pid // '') . ' >/dev/null');
	return $? >> 8;
}

# mailhooks-db on this process's data: its exit code and output.
sub admin {
	my ($self, @args) = @_;
	my $out = `$Stack::ROOT/tools/mailhooks-db -h $self->{home} @args 2>/dev/null`;
	return ($? >> 8, $out);
}

# The entries waiting in the inbox, as mailhooks-db counts them (-1 when it
# fails).
sub inbox_pending {
	my ($self) = @_;
	my ($rc, $out) = $self->admin('stats');
	return $rc == 0 ? JSON::PP::decode_json($out)->{inbox_pending} : -1;
}

1;
