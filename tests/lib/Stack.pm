# A real mailhooks stack for one test: the web server + mailhooks.fcgi +
# relay, started through run.sh (as `make run` does) on free loopback ports
# in its own temporary MAILHOOKS_HOME, in its own process group. The server
# is lighttpd, or Apache when MAILHOOKS_TEST_SERVER=apache (the suite runs
# each integration test under both).
package Stack;

use strict;
use warnings;
use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha1_base64);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Answers;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(setsid WNOHANG);
use Time::HiRes qw(sleep time);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $JSON = JSON::PP->new->canonical;

sub free_port {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp') or die "no free port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

# The server the tests of this run use.
sub server { $ENV{MAILHOOKS_TEST_SERVER} // 'lighttpd' }

# Stack->new(env => { MANDRILL_WEBHOOK_KEY => ... }, home => DIR,
#     server => 'apache', auth => 'user:password')
# auth: the credentials get_json (and all that uses it) sends, for a stack
# behind basic auth. The stack's first admin has a password of its own
# (admin_password); once it is up, the stack signs in as admin, and get,
# get_json and post_json send that session's cookie (get_anon sends none).
sub new {
	my ($class, %opt) = @_;
	$opt{home} //= tempdir('mailhooks-test-XXXXXX', TMPDIR => 1,
	    CLEANUP => 1);
	# The home's own: a stack started again on it finds the same admin.
	$opt{env}{MAILHOOKS_ADMIN_PASSWORD} //= 'test-'
	    . Digest::SHA::sha1_hex(abs_path($opt{home}));
	my $self = bless {
		server => $opt{server} // server(),
		home => $opt{home},
		env => $opt{env} // {},
		http => Answers->new(timeout => 60, keep_alive => 0),
		owner => $$,
		auth => $opt{auth},
	}, $class;
	$self->start;
	return $self;
}

# A Stack for a server the test started itself (home, port): the helpers
# work, nothing is started or stopped.
sub attach {
	my ($class, %opt) = @_;
	return bless { %opt, server => 'apache', env => {}, owner => $$,
	    http => Answers->new(timeout => 60, keep_alive => 0) }, $class;
}

sub home { $_[0]{home} }
sub port { $_[0]{port} }
sub url { my ($self, $path) = @_; "http://127.0.0.1:$self->{port}$path" }

sub start {
	my ($self) = @_;
	$self->{port} = free_port();
	$self->{relay_port} = free_port();
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		delete @ENV{qw(MANDRILL_WEBHOOK_KEY MANDRILL_WEBHOOK_URL
		    INFOBIP_WEBHOOK_TOKEN MAILHOOKS_MAX_BODY MAILHOOKS_TEST_EVENTS
		    MAILHOOKS_RAW_MAX_AGE_DAYS MAILHOOKS_RAW_MAX_MB MAILHOOKS_FSYNC
		    MAILHOOKS_EVENT_MAX_AGE_DAYS
		    MAILHOOKS_ADMIN_PASSWORD MAILHOOKS_SESSION_IDLE
		    MAILHOOKS_TRUST_REMOTE_USER MAILHOOKS_REMOTE_USER_CREATE
		    MAILHOOKS_METRICS_PUBLIC MAILHOOKS_ALLOWED_ORIGINS MAILHOOKS_PUBLIC_URL
		    MAILHOOKS_NOTIFY_ON MANDRILL_API_KEY MANDRILL_API_URL
		    MAILHOOKS_SEND_CONCURRENCY MAILHOOKS_SEND_MAX_ATTEMPTS
		    MAILHOOKS_SEND_TIMEOUT MAILHOOKS_SEND_CONNECT_TIMEOUT
		    MAILHOOKS_SEND_RETRY_MS MAILHOOKS_SEND_RETRY_MAX_MS
		    CAMPAIGN_API_URL CAMPAIGN_API_TOKEN CAMPAIGN_RATE
		    CAMPAIGN_BREAKER_FAILURES CAMPAIGN_BREAKER_PAUSE_MS
		    MAILHOOKS_DAILY_REPORT_TO MAILHOOKS_DAILY_REPORT_HOUR
		    MAILHOOKS_MAIL_FROM MAILHOOKS_DEFAULT_REGION MAILHOOKS_MACHINE_RULES
		    MAILHOOKS_NOTIFY_MACHINE MAILHOOKS_TRAP_LINK)};
		$ENV{SERVER} = $self->{server};
		$ENV{PORT} = $self->{port};
		$ENV{MAILHOOKS_HOME} = $self->{home};
		$ENV{MAILHOOKS_RELAY_PORT} = $self->{relay_port};
		$ENV{$_} = $self->{env}{$_} for keys %{ $self->{env} };
		open STDOUT, '>>', "$self->{home}/run.log" or die;
		open STDERR, '>&', \*STDOUT or die;
		exec 'sh', "$ROOT/run.sh" or die "exec: $!";
	}
	$self->{pid} = $self->{pgid} = $pid;
	my $deadline = time + 20;
	while (time < $deadline) {
		my ($status, $health) = $self->get_json('/api/health');
		if ($status == 200 && !$self->{cookie}) {
			$self->sign_in;
			next;
		}
		return 1 if $status == 200 && ($health->{relay} eq 'up' ||
		    ($self->{env}{MAILHOOKS_RELAY} // 1) eq '0');
		sleep 0.1;
	}
	die "stack did not come up:\n" . $self->log;
}

sub admin_password { $_[0]{env}{MAILHOOKS_ADMIN_PASSWORD} }

# The headers of a request a page of the site sends: on the site's public
# URL when it has one (MAILHOOKS_PUBLIC_URL, as behind a proxy ending TLS).
sub origin {
	my ($self) = @_;
	my ($public) = ($self->{env}{MAILHOOKS_PUBLIC_URL} // '') =~ m{^(\w+://[^/]+)};
	return (Origin => $public // "http://127.0.0.1:$self->{port}");
}

# POST /api/session as user (default admin, with the stack's password);
# returns the answer. Signed in, the stack keeps the cookie (unless keep
# is 0) for the requests that follow. path: where the route is, when the
# site is installed below the root.
sub sign_in {
	my ($self, $user, $password, %o) = @_;
	$user //= 'admin';
	$password //= $self->admin_password;
	my $r = $self->{http}->request('POST',
	    $self->url($o{path} // '/api/session'), {
	    headers => { 'Content-Type' => 'application/json', $self->origin,
	    $self->basic },
	    content => $JSON->encode({ user => $user, password => $password }) });
	my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^(mh_session=[^;]*)/;
	$self->{cookie} = $cookie if $r->{status} == 200 && ($o{keep} // 1);
	$r->{cookie} = $cookie;
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}

# Runs mailhooks-db as the stack's user with a password on its standard
# input: user add NAME --role ROLE, say.
sub admin_with_password {
	my ($self, $password, @args) = @_;
	my $file = "$self->{home}/password." . ++$self->{pwn};
	open my $fh, '>', $file or die;
	print $fh "$password\n";
	close $fh;
	chmod 0644, $file;
	my @r = $self->admin(@args, '--password-file', $file);
	unlink $file;
	return @r;
}

# A command run as the user the stack's processes run as (Apache will not
# run as root, so under root run.sh hands everything to MAILHOOKS_RUN_AS).
sub as_stack_user {
	my ($self, @cmd) = @_;
	return @cmd unless $self->{server} eq 'apache' && $> == 0;
	my $user = $self->{env}{MAILHOOKS_RUN_AS} // 'www-data';
	return ('setpriv', "--reuid=$user", "--regid=$user", '--init-groups',
	    '--', @cmd);
}

# Runs tools/mailhooks-db on the stack's data as the stack's user (from a copy
# in its home, which that user can reach wherever the checkout is);
# returns (exit status, standard output).
sub admin {
	my ($self, @args) = @_;
	my $tool = "$self->{home}/mailhooks-db";
	unless (-x $tool) {
		require File::Copy;
		File::Copy::copy("$ROOT/tools/mailhooks-db", $tool) or die $!;
		chmod 0755, $tool;
	}
	my $out = "$self->{home}/admin.out";
	my $pid = fork // die;
	if ($pid == 0) {
		open STDOUT, '>', $out or die;
		open STDERR, '>', "$out.err" or die;
		exec $self->as_stack_user($tool, '-h', $self->{home}, @args) or die;
	}
	waitpid($pid, 0);
	open my $fh, '<', $out or die;
	local $/;
	return ($? >> 8, scalar <$fh>);
}

sub log {
	my ($self) = @_;
	open my $fh, '<', "$self->{home}/run.log" or return '';
	local $/;
	return <$fh>;
}

# Polls cond every 0.1 s for up to secs seconds; whether it came true.
# For what a process does after its answer (a drain, its log line).
sub wait_for {
	my ($secs, $cond) = @_;
	my $deadline = time + $secs;
	while (time < $deadline) { return 1 if $cond->(); sleep 0.1 }
	return $cond->();
}

# Live (not zombie) processes in the stack's process group.
sub processes {
	my ($self) = @_;
	my @left;
	for my $stat (glob '/proc/[0-9]*/stat') {
		open my $fh, '<', $stat or next;
		my $line = <$fh> // next;
		my ($pid, $comm, $state, $ppid, $pgrp) =
		    $line =~ /^(\d+) \((.*)\) (\S) (\d+) (\d+)/ or next;
		push @left, "$pid $comm" if $pgrp == $self->{pgid} && $state ne 'Z';
	}
	return @left;
}

sub pids_named {
	my ($self, $name) = @_;
	return map { /^(\d+) / ? $1 : () } grep { /\Q$name\E/ } $self->processes;
}

# The FastCGI processes of the stack that answer the API, not the
# webhooks: those listening on the API's socket (lighttpd, Apache's
# mod_proxy_fcgi), or running the program's own file (mod_fcgid, whose
# webhooks run its copy in cgi-bin/hooks/).
sub api_pids {
	my ($self) = @_;
	my (%path, @api);
	if (open my $fh, '<', '/proc/net/unix') {
		while (<$fh>) {
			my @f = split;
			$path{ $f[6] } = $f[7] if @f >= 8;
		}
	}
	for my $pid ($self->pids_named('mailhooks.fcgi')) {
		my ($inode) = (readlink("/proc/$pid/fd/0") // '') =~ /^socket:\[(\d+)\]$/;
		my $sock = defined $inode ? $path{$inode} // '' : '';
		if ($sock =~ m{/run/(mailhooks|mailhooks-hooks)\.fcgi\.sock(?:-\d+)?$}) {
			push @api, $pid if $1 eq 'mailhooks';
		} elsif ((readlink("/proc/$pid/exe") // '') =~ m{/cgi-bin/mailhooks\.fcgi$}) {
			push @api, $pid;
		}
	}
	return @api;
}

# Stops run.sh with SIGTERM, or with $signal sent to the whole process
# group, as a terminal's Ctrl-C does (INT). Returns run.sh's wait status.
sub stop {
	my ($self, $signal) = @_;
	my $pid = delete $self->{pid} or return;
	if ($signal) {
		kill $signal, -$pid;
	} else {
		kill 'TERM', $pid;
	}
	my $deadline = time + 15;
	while (time < $deadline) {
		return $? if waitpid($pid, WNOHANG) == $pid;
		sleep 0.05;
	}
	kill 'KILL', -$pid;
	waitpid($pid, 0);
	return -1;
}

sub DESTROY {
	my ($self) = @_;
	# A test's forked helpers must not stop the stack when they exit.
	return unless $self->{pid} && $$ == $self->{owner};
	$self->stop;
	kill 'KILL', -$self->{pgid};
}

sub get {
	my ($self, $path, %h) = @_;
	$h{Cookie} //= $self->{cookie} if $self->{cookie};
	delete $h{Cookie} unless defined $h{Cookie} && length $h{Cookie};
	return $self->{http}->get($self->url($path), { headers => \%h });
}

# A GET with no session: as anybody on the internet.
sub get_anon {
	my ($self, $path, %h) = @_;
	return $self->{http}->get($self->url($path), { headers => \%h });
}

# A request with a JSON body (a Perl value or a text), as the page sends
# it: the session's cookie and the site's Origin, unless headers say
# otherwise (a header given as '' is left out). Returns the answer, its
# body decoded in json.
sub send_json {
	my ($self, $method, $path, $body, %h) = @_;
	my %headers = ('Content-Type' => 'application/json', $self->origin,
	    $self->basic, ($self->{cookie} ? (Cookie => $self->{cookie}) : ()),
	    %h);
	delete $headers{$_} for grep { $headers{$_} eq '' } keys %headers;
	my $r = $self->{http}->request($method, $self->url($path), {
	    headers => \%headers,
	    (defined $body ? (content => ref $body ? $JSON->encode($body) :
	    $body) : ()) });
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}

sub post_json { my $self = shift; $self->send_json('POST', @_) }

# The basic-auth header of a stack behind basic auth, or nothing.
sub basic {
	my ($self) = @_;
	return () unless $self->{auth};
	require MIME::Base64;
	return (Authorization => 'Basic '
	    . MIME::Base64::encode_base64($self->{auth}, ''));
}

sub get_json {
	my ($self, $path) = @_;
	my $r = $self->get($path, $self->basic);
	my $body = eval { decode_json($r->{content}) };
	return ($r->{status}, $body, $r);
}

# Sends these bytes as they are on a new connection, and reads the answer
# until the server closes it (or 10 s pass). Returns a hash: status, the
# headers (names in lower case) and the body, or {} when nothing came.
sub raw {
	my ($self, $bytes) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $self->{port}, Timeout => 10) or return {};
	$c->autoflush(1);
	print $c $bytes;
	my ($answer, $deadline) = ('', time + 10);
	my $sel = IO::Select->new($c);
	while (time < $deadline && $sel->can_read($deadline - time)) {
		my $n = sysread($c, my $buf, 65536);
		last unless $n;
		$answer .= $buf;
		last if $answer =~ /\r\n\r\n/ && answer_complete($answer);
	}
	close $c;
	my ($head, $body) = split /\r\n\r\n/, $answer, 2;
	return {} unless defined $head && $head =~ m{^HTTP/1\.[01] (\d{3})};
	my %r = (status => $1, body => $body // '', headers => {});
	for (split /\r\n/, $head) {
		$r{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
	}
	$r{body} = dechunk($r{body})
	    if ($r{headers}{'transfer-encoding'} // '') =~ /chunked/i;
	$r{json} = eval { decode_json($r{body}) };
	my ($method, $target) = $bytes =~ /^(\S+) (\S+) HTTP/;
	Answers::note_answer($method, "http://127.0.0.1$target", $r{status},
	    $r{headers}, $r{body}) if defined $target && $target =~ m{^/};
	return \%r;
}

# A chunked body's data.
sub dechunk {
	my ($body) = @_;
	my $data = '';
	while ($body =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
		my $n = hex $1;
		last if $n == 0;
		$data .= substr($body, 0, $n, '');
		$body =~ s/^\r\n//;
	}
	return $data;
}

# Whether an answer holds its whole body, by its Content-Length.
sub answer_complete {
	my ($answer) = @_;
	my ($head, $body) = split /\r\n\r\n/, $answer, 2;
	return $body =~ /(^|\r\n)0\r\n\r\n$/ if $head =~ /^Transfer-Encoding:\s*chunked/mi;
	return 0 unless $head =~ /^Content-Length:\s*(\d+)/mi;
	return length($body) >= $1;
}

sub sign {
	my ($key, $url, %fields) = @_;
	my $text = $url . join '', map { $_ . $fields{$_} } sort keys %fields;
	my $sig = hmac_sha1_base64($text, $key);
	$sig .= '=' while length($sig) % 4;
	return $sig;
}

sub form_encode {
	my ($s) = @_;
	$s =~ s/([^A-Za-z0-9\-._~ ])/sprintf('%%%02X', ord $1)/ge;
	$s =~ tr/ /+/;
	return $s;
}

# POSTs a mandrill_events value (a JSON text or a Perl array). Options:
# key (sign with it), url (sign for it), signature, content_type, body,
# chunked (sent with no Content-Length, in chunks).
sub post_mandrill {
	my ($self, $events, %o) = @_;
	my $value = ref $events ? $JSON->encode($events) : $events;
	my $body = $o{body} // 'mandrill_events=' . form_encode($value);
	my %h = ('Content-Type' => $o{content_type} //
	    'application/x-www-form-urlencoded');
	my $path = $o{path} // '/webhooks/mandrill';
	if (defined $o{key}) {
		$h{'X-Mandrill-Signature'} = sign($o{key},
		    $o{url} // $self->url($path), mandrill_events => $value);
	}
	$h{'X-Mandrill-Signature'} = $o{signature} if defined $o{signature};
	if ($o{chunked}) {
		my @parts = unpack('(a8192)*', $body);
		$body = sub { shift @parts };
	}
	my $r = $self->{http}->request('POST', $self->url($path),
	    { headers => \%h, content => $body });
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}

# POSTs an Infobip callback body (a JSON text). Options: token (as
# ?token=), basic (as the basic-auth password), content_type, path.
sub post_infobip {
	my ($self, $body, %o) = @_;
	my $path = $o{path} // '/webhooks/infobip';
	$path .= '?token=' . form_encode($o{token}) if defined $o{token};
	my %h = ('Content-Type' => $o{content_type} // 'application/json');
	if (defined $o{basic}) {
		require MIME::Base64;
		$h{Authorization} = 'Basic '
		    . MIME::Base64::encode_base64("infobip:$o{basic}", '');
	}
	my $r = $self->{http}->request('POST', $self->url($path),
	    { headers => \%h, content => $body });
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}

# All events, oldest first, through the API's after= cursor.
sub all_events {
	my ($self, $query) = @_;
	my ($after, @all) = (0);
	while (1) {
		my ($s, $page) = $self->get_json("/api/events?limit=500&after=$after"
		    . ($query ? "&$query" : ''));
		die "events: HTTP $s" unless $s == 200;
		push @all, @{ $page->{events} };
		$after = $page->{next_after};
		last unless $page->{more};
	}
	return @all;
}

# Waits until the API shows at least n events (the drain runs right after
# the answer, so this is quick); returns them.
sub wait_events {
	my ($self, $n, $query) = @_;
	my $deadline = time + 10;
	my @ev;
	while (time < $deadline) {
		@ev = $self->all_events($query);
		return @ev if @ev >= $n;
		sleep 0.05;
	}
	return @ev;
}

# A ticket for one WebSocket handshake, asked for with the session.
sub ws_ticket {
	my ($self) = @_;
	my ($status, $t) = $self->get_json('/api/ws-ticket');
	die "ws-ticket: HTTP $status" unless $status == 200;
	return $t->{ticket};
}

# n tickets at once (POST /api/ws-tickets, a thousand a request).
sub ws_tickets {
	my ($self, $n) = @_;
	my @t;
	while (@t < $n) {
		my $want = $n - @t > 1000 ? 1000 : $n - @t;
		my $r = $self->post_json('/api/ws-tickets', { count => $want });
		die "ws-tickets: HTTP $r->{status}" unless $r->{status} == 201;
		push @t, @{ $r->{json}{tickets} };
	}
	return @t;
}

# Starts mailhooks-ws subscribed through the web server, with a new ticket
# (or ticket => TEXT, undef for none; origin => ORIGIN; path => a feed
# other than /ws); returns a handle
# whose ->lines reads what it printed and ->wait waits for it to exit.
sub ws_client {
	my ($self, %o) = @_;
	my $types = $o{types} // 'open';
	my $n = $o{count} // 1;
	my $t = $o{timeout} // 10;
	my $out = "$self->{home}/ws-" . ++$self->{wsn};
	my $ticket = exists $o{ticket} ? $o{ticket} // '' : $self->ws_ticket;
	my $pid = fork // die;
	if ($pid == 0) {
		open STDOUT, '>', "$out.out" or die;
		open STDERR, '>', "$out.err" or die;
		exec "$ROOT/tools/mailhooks-ws", '-n', $n, '-t', $t,
		    ($o{origin} ? ('-o', $o{origin}) : ()),
		    "ws://127.0.0.1:$self->{port}" . ($o{path} // '/ws')
		    . "?types=$types" . (length $ticket ? "&ticket=$ticket" : '')
		    or die;
	}
	my $c = bless { pid => $pid, out => $out, owner => $$ }, 'Stack::WS';
	$c->wait_connected unless $o{no_wait};
	return $c;
}

sub event {
	my (%o) = @_;
	my $type = $o{type} // 'open';
	return {
		event => $type,
		ts => $o{ts} // 1700000000,
		_id => $o{id} // 'msg-1',
		msg => {
			_id => $o{id} // 'msg-1',
			email => $o{email} // 'alice@example.com',
			subject => $o{subject} // 'Your invoice',
			ts => 1699990000,
			tags => [], metadata => {}, state => 'sent',
		},
		ip => '203.0.113.9',
		location => $o{location},
		user_agent => undef,
		($type eq 'click' ? (url => $o{url} // 'https://example.com/') : ()),
	};
}

package Stack::WS;

use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);

sub wait_connected {
	my ($self) = @_;
	my $deadline = time + 10;
	while (time < $deadline) {
		if (open my $fh, '<', "$self->{out}.err") {
			local $/;
			my $err = <$fh> // '';
			return 1 if $err =~ /^connected$/m;
			die "ws client failed: $err" if $err =~ /failed|closed/;
		}
		sleep 0.02;
	}
	die 'ws client did not connect';
}

sub wait {
	my ($self) = @_;
	return $self->{status} if exists $self->{status};
	waitpid($self->{pid}, 0);
	$self->{status} = $? >> 8;
	return $self->{status};
}

sub lines {
	my ($self) = @_;
	open my $fh, '<', "$self->{out}.out" or return ();
	chomp(my @l = <$fh>);
	return @l;
}

sub events {
	my ($self) = @_;
	return map { JSON::PP::decode_json($_) } $self->lines;
}

sub DESTROY {
	my ($self) = @_;
	return if exists $self->{status} || $$ != $self->{owner};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
}

1;
