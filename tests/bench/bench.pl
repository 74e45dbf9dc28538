#!/usr/bin/env perl
# make bench: the real stack (lighttpd + mailhooks.fcgi + relay, synchronous
# commit) on free loopback ports in a temporary MAILHOOKS_HOME, driven by
# tests/bench/loadgen; the baseline is tests/bench/null under the same
# lighttpd configuration. Prints a table; BENCH_JSON=FILE also writes the
# figures as one JSON object. Every run checks its own work (each
# acknowledged event stored, each subscriber given each open) and the bench
# exits non-zero when one does not.
#
#   perl tests/bench/bench.pl [--smoke] [--only RUN,...]
#
# --smoke: the same runs, tiny and short (make test runs it so that the
# bench cannot rot; it asserts nothing about speed).
# --only: just these runs (null ingest batch e2e e2e_one e2e_light
# e2e_light_direct fanout
# notify notify_e2e mail campaign export search readers soak classify
# nchan), to measure one change quickly; the figures of the others are
# absent.
#
# nchan: the same meter drives nchan (Debian's nginx and its nchan module,
# which make bench installs and make test never needs) on loopback beside
# mailhooks, at the same loads: each figure is reported for both and as a
# ratio. --smoke leaves it out.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use File::Temp ();
use POSIX qw(setsid WNOHANG);
use Time::HiRes qw(sleep time);

my $smoke = grep { $_ eq '--smoke' } @ARGV;
my %only;
for my $i (0 .. $#ARGV - 1) {
	%only = map { $_ => 1 } split /,/, $ARGV[$i + 1] if $ARGV[$i] eq '--only';
}
sub wanted { !%only || $only{ $_[0] } }
my $ROOT = $Stack::ROOT;
my $LOADGEN = "$ROOT/tests/bench/loadgen";
my $NULL = "$ROOT/tests/bench/null";
my $KEY = 'bench-key';
my $SIGN_URL = 'https://hooks.example.com/webhooks/mandrill';

# What each run does, full size and smoke size.
my %size = $smoke ? (
	http_conns => 4, http_seconds => 1, ingest_max => 2000,
	batch_runs => 3, e2e_subs => 20, e2e_rate => 100, e2e_seconds => 1,
	e2e_light_subs => 10, e2e_light_rate => 50,
	fanout_subs => 200, fanout_rounds => 3,
	notify_users => 100, notify_rate => 100, notify_seconds => 1,
	campaign_clients => 200,
) : (
	http_conns => 16, http_seconds => 10, ingest_max => 400000,
	batch_runs => 100, e2e_subs => 1000, e2e_rate => 1000,
	e2e_seconds => 10, fanout_subs => 10000, fanout_rounds => 9,
	e2e_light_subs => 1000, e2e_light_rate => 100,
	notify_users => 10000, notify_rate => 500, notify_seconds => 10,
	campaign_clients => 10000,
);

my (%fig, @problems);

sub problem { push @problems, $_[0]; warn "bench: $_[0]\n" }

# Runs loadgen as run $run (nothing when --only leaves it out); returns its
# JSON figures (and notes a failed check).
sub loadgen {
	my ($run, $what, @args) = @_;
	return {} unless wanted($run);
	# An argument that is code is made now: tickets, say.
	@args = map { ref $_ eq 'CODE' ? $_->() : $_ } @args;
	my $out = `$LOADGEN @args`;
	my $status = $? >> 8;
	my $r = eval { decode_json($out) } // {};
	# nchan falling behind the load (1) is what its run measures; only
	# mailhooks' runs must check out.
	problem("$what: loadgen exited $status")
	    if $status != 0 && !($run eq 'nchan' && $status == 1);
	return $r;
}

# A file of n WebSocket tickets for loadgen's subscribers (-T), asked for
# just before the run that uses them: each is good for 60 s.
sub tickets {
	my ($stack, $n) = @_;
	my $file = $stack->home . '/tickets';
	open my $fh, '>', $file or die $!;
	print $fh "$_\n" for $stack->ws_tickets($n);
	close $fh;
	return "-T $file";
}

sub lighttpd_conf {
	my ($stack) = @_;
	open my $fh, '<', $stack->home . '/run/lighttpd.conf' or die $!;
	local $/;
	return scalar <$fh>;
}

# The null responder under the stack's own lighttpd configuration, on a
# port of its own: the baseline, and a Mandrill that answers at once.
# Returns (pid, port); stop it with kill TERM, -pid.
sub null_server {
	my ($stack, $name) = @_;
	my $conf = lighttpd_conf($stack);
	my $port = Stack::free_port();
	my $dir = $stack->home . "/$name";
	mkdir $dir;
	$conf =~ s/^server\.port\s*=.*$/server.port = $port/m or die;
	# Every pool of the program's (the webhooks', the API's) is the null's.
	my $n = 0;
	$conf =~ s|"bin-path"\s*=>\s*"[^"]*"|"bin-path" => "$NULL"|g or die;
	$conf =~ s|"socket"\s*=>\s*"[^"]*"|'"socket" => "' . "$dir/null" . $n++ . '.sock"'|ge
	    or die;
	open my $fh, '>', "$dir/lighttpd.conf" or die;
	print $fh $conf;
	close $fh;
	my $pid = start_server("$dir/lighttpd.log", $port, 'lighttpd', '-D', '-f',
	    "$dir/lighttpd.conf") // die "null lighttpd did not start";
	return ($pid, $port);
}

# Starts cmd in a session of its own (its output into log) and waits for
# it to take connections on port: its pid, or undef (it is stopped) when
# it does not within 5 s. Stop it with kill TERM, -pid.
sub start_server {
	my ($log, $port, @cmd) = @_;
	my $pid = fork // die;
	if ($pid == 0) {
		setsid();
		open STDOUT, '>', $log;
		open STDERR, '>&', \*STDOUT;
		exec @cmd or die;
	}
	for (1 .. 100) {
		return $pid if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
		sleep 0.05;
	}
	kill 'TERM', -$pid;
	waitpid($pid, 0);
	return undef;
}

# The baseline: what lighttpd and a FastCGI round trip cost alone.
sub null_baseline {
	my ($stack) = @_;
	return {} unless wanted('null');
	my ($pid, $port) = null_server($stack, 'null');
	my $r = loadgen('null', 'null', "-a 127.0.0.1:$port -k $KEY -u $SIGN_URL",
	    "-p null -c $size{http_conns} -d $size{http_seconds}",
	    "-n $size{ingest_max} ingest");
	kill 'TERM', -$pid;
	waitpid($pid, 0);
	return $r;
}

# Waits for the inbox to be drained (a minute at most); returns the stats.
# Each run starts from a drained inbox: acknowledgements run ahead of the
# drain, and one run's backlog would otherwise be measured in the next.
sub stats {
	my ($stack) = @_;
	my $deadline = time + 60;
	while (1) {
		my ($rc, $out) = $stack->admin('stats');
		my $s = eval { decode_json($out) };
		# Busy while the drain writes a full batch's events: asked again.
		die "mailhooks-db stats failed" unless ($rc == 0 && $s) ||
		    time < $deadline;
		return $s if $s && ($s->{inbox_pending} == 0 || time > $deadline);
		sleep 0.1;
	}
}

# Every message id the database holds, for the exact check.
sub stored_ids {
	my ($stack) = @_;
	my ($rc, $out) = $stack->admin('dump');
	die "mailhooks-db dump failed" unless $rc == 0;
	my %ids;
	for (split /\n/, $out) {
		$ids{$1}++ if /"message_id":"([^"]+)"/;
	}
	return \%ids;
}

# Each of prefix-0 .. prefix-(n-1) stored exactly once.
sub check_stored {
	my ($what, $ids, $prefix, $n) = @_;
	my ($missing, $twice) = (0, 0);
	for my $i (0 .. $n - 1) {
		my $c = $ids->{"$prefix-$i"} // 0;
		$missing++ if $c == 0;
		$twice++ if $c > 1;
	}
	problem("$what: $missing acknowledged events not stored") if $missing;
	problem("$what: $twice events stored twice") if $twice;
	return !$missing && !$twice;
}

# The fan-out's subscribers connect to the relay itself, more of them than
# it takes by default (a limit kept for the web server in front), and all
# the subscribers come from one address.
my $stack = Stack->new(server => 'lighttpd', env => {
	MANDRILL_WEBHOOK_KEY => $KEY, MANDRILL_WEBHOOK_URL => $SIGN_URL,
	MAILHOOKS_FSYNC => 1, MAILHOOKS_RELAY_MAX_CLIENTS => 20000,
	MAILHOOKS_RELAY_MAX_PER_ADDRESS => 20000,
	# Mail and campaigns are sent by the runs' own mailhooks-sender --once.
	MAILHOOKS_SENDER => 0,
});
my $addr = '127.0.0.1:' . $stack->port;
my $common = "-a $addr -k $KEY -u $SIGN_URL";
my ($relay_pid) = $stack->pids_named('mailhooks-relay');
my $t_start = time;

my $null = null_baseline($stack);
$fig{null_rps} = $null->{rps};

my $ingest = loadgen('ingest', 'ingest', $common, '-p ingest',
    "-c $size{http_conns} -d $size{http_seconds} -n $size{ingest_max} ingest");
# The drain runs behind the acknowledgements: how long it took to catch up.
my $t_acked = time;
stats($stack) if wanted('ingest');
$fig{ingest_drained_after_s} = time - $t_acked if wanted('ingest');
$fig{ingest_rps} = $ingest->{rps};
$fig{ingest_ratio} = $fig{null_rps} && defined $fig{ingest_rps}
    ? $fig{ingest_rps} / $fig{null_rps} : undef;
$fig{ingest_p99_ms} = $ingest->{http_p99_ms};

my $batch = loadgen('batch', 'batch', $common, "-p batch -n $size{batch_runs} -b 1000",
    'batch');
$t_acked = time;
stats($stack) if wanted('batch');
$fig{batch_drained_after_s} = time - $t_acked if wanted('batch');
$fig{batch1000_p50_ms} = $batch->{batch_p50_ms};
$fig{batch1000_p99_ms} = $batch->{batch_p99_ms};

# Where the target load is too much for the machine, these two say which
# half of it is: the whole pipeline with one subscriber at the full rate,
# and the full audience at a tenth of it. They run first: what an
# overloaded run leaves queued in lighttpd and the relay would show in them.
my $e2e_one = loadgen('e2e_one', 'e2e, one subscriber', $common, '-p e2eone -s 1',
    "-r $size{e2e_rate} -d 5", sub { tickets($stack, 1) }, 'e2e');
stats($stack) if wanted('e2e_one');
$fig{e2e_1sub_p50_ms} = $e2e_one->{e2e_p50_ms};
$fig{e2e_1sub_p99_ms} = $e2e_one->{e2e_p99_ms};
my $e2e_light = loadgen('e2e_light', 'e2e, light', $common, '-p e2elight',
    "-s $size{e2e_light_subs} -r $size{e2e_light_rate} -d 5",
    sub { tickets($stack, $size{e2e_light_subs}) }, 'e2e');
stats($stack) if wanted('e2e_light');
$fig{e2e_light_p50_ms} = $e2e_light->{e2e_p50_ms};
$fig{e2e_light_p99_ms} = $e2e_light->{e2e_p99_ms};
# The same with the subscribers on the relay itself: what the web server's
# proxy adds to the everyday latency, apart from what the relay takes.
my $e2e_direct = loadgen('e2e_light_direct', 'e2e, light, at the relay', $common,
    '-p e2edirect -w 127.0.0.1:' . $stack->{relay_port},
    "-s $size{e2e_light_subs} -r $size{e2e_light_rate} -d 5",
    sub { tickets($stack, $size{e2e_light_subs}) }, 'e2e');
stats($stack) if wanted('e2e_light_direct');
$fig{e2e_relay_p50_ms} = $e2e_direct->{e2e_p50_ms};
$fig{e2e_relay_p99_ms} = $e2e_direct->{e2e_p99_ms};

my $e2e = loadgen('e2e', 'e2e', $common, "-p e2e -s $size{e2e_subs}",
    "-r $size{e2e_rate} -d $size{e2e_seconds}",
    sub { tickets($stack, $size{e2e_subs}) },
    'e2e');
stats($stack) if wanted('e2e');
$fig{e2e_p50_ms} = $e2e->{e2e_p50_ms};
$fig{e2e_p99_ms} = $e2e->{e2e_p99_ms};
$fig{e2e_rate} = $e2e->{rate};
$fig{e2e_subscribers} = $e2e->{subscribers};

# The relay directly: through lighttpd each subscriber would hold two of
# its descriptors, and the hard limit here is 20000 per process.
my $fan = loadgen('fanout', 'fanout', $common, '-w 127.0.0.1:' . $stack->{relay_port},
    "-p fanout -s $size{fanout_subs} -n $size{fanout_rounds}",
    ($relay_pid ? "-P $relay_pid" : ()), sub { tickets($stack, $size{fanout_subs}) },
    'fanout');
$fig{fanout_clients} = $fan->{subscribers};
$fig{fanout_all_delivered_ms} = $fan->{all_delivered_median_ms};
$fig{fanout_all_delivered_max_ms} = $fan->{all_delivered_max_ms};
$fig{fanout_first_delivered_ms} = $fan->{first_delivered_median_ms};
$fig{relay_kb_per_conn} = $fan->{relay_kb_per_conn};

# nchan beside mailhooks: Debian's nginx with its nchan module, two
# workers, on a free loopback port; loadgen publishes each event (the text
# the relay would frame for it) to its publisher location and subscribes
# at its WebSocket location. Returns (pid, port, worker pids) or () when
# nginx cannot start (said).
sub nchan_server {
	my ($stack) = @_;
	my $module = '/usr/lib/nginx/modules/ngx_nchan_module.so';
	unless (-x '/usr/sbin/nginx' && -f $module) {
		problem('nchan: nginx or its nchan module is not installed (make bench installs them)');
		return ();
	}
	my $dir = $stack->home . '/nchan';
	mkdir $dir;
	mkdir "$dir/logs";
	my $port = Stack::free_port();
	my $hard = `sh -c 'ulimit -Hn'` + 0 || 20000;
	my $conns = $hard > 30000 ? 30000 : $hard;
	open my $fh, '>', "$dir/nginx.conf" or die $!;
	print $fh <<"CONF";
load_module $module;
worker_processes 2;
worker_rlimit_nofile $hard;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections $conns; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	server {
		listen 127.0.0.1:$port;
		location = /pub { nchan_publisher; nchan_channel_id events; }
		location = /sub { nchan_subscriber websocket; nchan_channel_id events; }
	}
}
CONF
	close $fh;
	my $pid = start_server("$dir/nginx.log", $port, '/usr/sbin/nginx', '-p',
	    $dir, '-c', "$dir/nginx.conf", '-g', 'daemon off;');
	unless ($pid) {
		problem('nchan: nginx did not start');
		return ();
	}
	my @workers = map { /^\s*(\d+)/ ? $1 : () } `ps -o pid= --ppid $pid`;
	return ($pid, $port, join(',', @workers));
}

# The end-to-end runs and the fan-out of mailhooks' again, against nchan.
sub nchan_runs {
	my ($stack) = @_;
	return {} unless wanted('nchan') && !$smoke;
	my ($pid, $port, $workers) = nchan_server($stack) or return {};
	my $at = "-a 127.0.0.1:$port -p nchan -N /pub -S /sub";
	my %r = (
		light => loadgen('nchan', 'nchan e2e, light', "$at -s $size{e2e_light_subs}",
		    "-r $size{e2e_light_rate} -d 5 e2e"),
		heavy => loadgen('nchan', 'nchan e2e', "$at -s $size{e2e_subs}",
		    "-r $size{e2e_rate} -d $size{e2e_seconds} e2e"),
		fanout => loadgen('nchan', 'nchan fanout', $at,
		    "-s $size{fanout_subs} -n $size{fanout_rounds}",
		    ($workers ? "-P $workers" : ()), 'fanout'),
	);
	kill 'TERM', -$pid;
	waitpid($pid, 0);
	return \%r;
}

my $nchan = nchan_runs($stack);
$fig{nchan_e2e_light_p50_ms} = $nchan->{light}{e2e_p50_ms};
$fig{nchan_e2e_light_p99_ms} = $nchan->{light}{e2e_p99_ms};
$fig{nchan_e2e_p50_ms} = $nchan->{heavy}{e2e_p50_ms};
$fig{nchan_e2e_p99_ms} = $nchan->{heavy}{e2e_p99_ms};
$fig{nchan_e2e_rate} = $nchan->{heavy}{rate};
$fig{nchan_e2e_missing} = $nchan->{heavy}{missing_frames};
$fig{nchan_fanout_all_delivered_ms} = $nchan->{fanout}{all_delivered_median_ms};
$fig{nchan_kb_per_conn} = $nchan->{fanout}{relay_kb_per_conn};
$fig{e2e_missing} = $e2e->{missing_frames};
# Each of mailhooks' over nchan's, measured in this run.
for my $k (qw(e2e_light_p50_ms e2e_light_p99_ms e2e_p50_ms e2e_p99_ms e2e_rate)) {
	$fig{"${k}_to_nchan"} = $fig{$k} && $fig{"nchan_$k"} ? $fig{$k} / $fig{"nchan_$k"} : undef;
}
$fig{fanout_to_nchan} = $fig{fanout_all_delivered_ms} && $fig{nchan_fanout_all_delivered_ms}
    ? $fig{fanout_all_delivered_ms} / $fig{nchan_fanout_all_delivered_ms} : undef;
$fig{kb_per_conn_to_nchan} = $fig{relay_kb_per_conn} && $fig{nchan_kb_per_conn}
    ? $fig{relay_kb_per_conn} / $fig{nchan_kb_per_conn} : undef;

# Notifications: stored one a POST with an API token, as fast as they
# are answered (over the same users as the end-to-end run, so that no
# user's count grows without bound); then delivered, at a steady rate to
# random users each listening on their own channel, at the relay itself.
my ($token_rc, $token) = $stack->admin(qw(token add bench --scope notifications:write));
chomp $token;
problem('no token for the notifications') if $token_rc != 0;
my $notify = loadgen('notify', 'notify', $common, "-A $token -p notify",
    "-s $size{notify_users} -c $size{http_conns} -d $size{http_seconds}",
    "-n $size{ingest_max} ingest");
$fig{notify_rps} = $notify->{rps};
$fig{notify_ratio} = $fig{null_rps} && defined $fig{notify_rps}
    ? $fig{notify_rps} / $fig{null_rps} : undef;
my $notify_e2e = loadgen('notify_e2e', 'notify e2e', $common, "-A $token",
    '-w 127.0.0.1:' . $stack->{relay_port}, "-p notifye2e",
    "-s $size{notify_users} -r $size{notify_rate} -d $size{notify_seconds}",
    ($relay_pid ? "-P $relay_pid" : ()),
    sub { tickets($stack, $size{notify_users}) }, 'e2e');
$fig{notify_e2e_p50_ms} = $notify_e2e->{e2e_p50_ms};
$fig{notify_e2e_p99_ms} = $notify_e2e->{e2e_p99_ms};
$fig{notify_relay_kb_per_user} = $notify_e2e->{relay_kb_per_conn};

# Outgoing mail: queued one a POST with an API token, as fast as answered
# (the stack's sender has no key: they stay queued); then handed over by
# mailhooks-sender --once (concurrency 4) to the null responder playing a
# Mandrill that answers at once, beside what that responder answers alone
# at the same concurrency.
my ($mail_rc, $mail_token) = $stack->admin(qw(token add benchmail --scope mail:send));
chomp $mail_token;
problem('no token for the mail') if $mail_rc != 0;
my $mail_queue = loadgen('mail', 'mail queue', $common, "-M $mail_token -p mail",
    "-c $size{http_conns} -d $size{http_seconds} -n $size{ingest_max} ingest");
$fig{mail_queue_rps} = $mail_queue->{rps};
$fig{mail_queue_ratio} = $fig{null_rps} && defined $fig{mail_queue_rps}
    ? $fig{mail_queue_rps} / $fig{null_rps} : undef;
$fig{mail_queue_to_ingest} = $fig{ingest_rps} && defined $fig{mail_queue_rps}
    ? $fig{mail_queue_rps} / $fig{ingest_rps} : undef;

# Telling machines' opens from people's, where it is paid: deriving a
# 1000-event body with the shipped rules and with none (tests/bench/classify).
if (wanted('classify')) {
	my $out = `$ROOT/tests/bench/classify @{[ $smoke ? 3 : 200 ]}`;
	my $c = eval { decode_json($out) };
	if (!$c) {
		problem("classify: $out");
	} else {
		# The rules (deriving) and the history (folding) together.
		my $cost = $c->{classify_us_per_event} + $c->{history_us_per_event};
		$fig{classify_us_per_event} = $cost;
		$fig{classify_history_us_per_event} = $c->{history_us_per_event};
		$fig{classify_to_derive} = $c->{derive_us_per_event} > 0
		    ? ($c->{derive_classified_us_per_event} + $c->{history_us_per_event})
		    / $c->{derive_us_per_event} : undef;
		# Of a webhook's whole cost (one event each), at the ingest rate.
		$fig{classify_to_ingest} = $fig{ingest_rps}
		    ? $cost / (1e6 / $fig{ingest_rps}) : undef;
	}
}
my $mail_send = mail_send($stack, $mail_queue->{ok} // 0);
$fig{$_} = $mail_send->{$_} for keys %$mail_send;

# Hands the n queued mails to a Mandrill that answers at once, with
# mailhooks-sender --once; the figures, and a problem unless each one was
# handed over once and none failed.
sub mail_send {
	my ($stack, $n) = @_;
	return {} unless wanted('mail') && $n > 0;
	my ($pid, $port) = null_server($stack, 'mandrill');
	my $fake = loadgen('mail', 'the fake Mandrill alone',
	    "-a 127.0.0.1:$port -k $KEY -u $SIGN_URL", '-p fake -c 4',
	    "-d $size{http_seconds} -n $size{ingest_max} ingest");
	my $t0 = time;
	my $out = `MAILHOOKS_HOME=@{[$stack->home]} MANDRILL_API_KEY=bench \\
	    MANDRILL_API_URL=http://127.0.0.1:$port/api/1.0 \\
	    MAILHOOKS_SEND_CONCURRENCY=4 $ROOT/sender/mailhooks-sender --once 2>&1`;
	my $took = time - $t0;
	problem("mailhooks-sender --once exited " . ($? >> 8)) if $?;
	kill 'TERM', -$pid;
	waitpid($pid, 0);
	my ($rc, $list) = $stack->admin(qw(mail list));
	my %by;
	$by{$1}++ while $list =~ /"status":"(\w+)"/g;
	problem("mail: $by{failed} failed") if $by{failed};
	problem("mail: " . ($by{sent} // 0) . " sent and " . ($by{queued} // 0)
	    . " queued of $n") if ($by{sent} // 0) + ($by{queued} // 0) != $n;
	my $sent = $by{sent} // 0;
	return { mail_send_rps => $took > 0 ? $sent / $took : undef,
	    mail_sent => $sent, mail_fake_c4_rps => $fake->{rps},
	    mail_send_to_fake => $fake->{rps} && $took > 0
	    ? $sent / $took / $fake->{rps} : undef };
}

# Campaigns: 10 000 clients (added through the API with a token, four at
# once), one
# campaign to them all sent by mailhooks-sender --once to the null
# responder playing an API that answers at once (under /api/, where the
# null lighttpd passes requests on) (CAMPAIGN_RATE unlimited,
# 16 at once); then a second one to an API that never answers, and ingest
# measured again while its requests hang.
my ($camp_rc, $camp_token) = $stack->admin(qw(token add benchcamp --scope campaigns:write));
chomp $camp_token;
problem('no token for the campaigns') if $camp_rc != 0 && wanted('campaign');
my $camp = campaigns($stack, $camp_token);
$fig{$_} = $camp->{$_} for grep { !ref $camp->{$_} } keys %$camp;
my $hang_ingest = $camp->{ingest} // {};
my $control_ingest = $camp->{control} // {};

sub campaigns {
	my ($stack, $token) = @_;
	return {} unless wanted('campaign');
	my $http = HTTP::Tiny->new(keep_alive => 0, default_headers => {
	    Authorization => "Bearer $token", 'Content-Type' => 'application/json' });
	my $t0 = time;
	my @kids;
	for my $k (0 .. 3) {	# four at once
		my $pid = fork // die;
		if ($pid == 0) {
			for (my $i = 1 + $k; $i <= $size{campaign_clients}; $i += 4) {
				my $r = $http->post($stack->url('/api/clients'),
				    { content => encode_json({ phone => sprintf(
				    '7950%07d', $i), tag => 'bench',
				    timezone => 'Europe/Moscow' }) });
				POSIX::_exit(1) unless $r->{status} == 201;
			}
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	for (@kids) {
		waitpid($_, 0);
		problem('a client was not added') if $?;
	}
	my %f = (campaign_clients_rps => $size{campaign_clients} / (time - $t0));
	my ($pid, $port) = null_server($stack, 'campaignapi');
	my $start = time;
	my $c = campaign($http, $stack, $start);
	my $out = `MAILHOOKS_HOME=@{[$stack->home]} CAMPAIGN_API_TOKEN=bench \\
	    CAMPAIGN_API_URL=http://127.0.0.1:$port/api/v1 CAMPAIGN_RATE=0 \\
	    MAILHOOKS_SEND_CONCURRENCY=16 $ROOT/sender/mailhooks-sender --once 2>&1`;
	my $took = time - $start;
	kill 'TERM', -$pid;
	waitpid($pid, 0);
	my $st = decode_json($http->get($stack->url("/api/campaigns/$c/stats"))
	    ->{content});
	problem("campaign: $st->{counts}{sent} sent of $size{campaign_clients}: "
	    . substr($out, -2000)) if $st->{counts}{sent} != $size{campaign_clients};
	$f{campaign_10k_s} = $took;
	$f{campaign_sent_rps} = $st->{counts}{sent} / $took;
	# The API hangs: the second campaign's requests are held for the
	# whole ingest run.
	my $hang = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
	    LocalPort => 0, ReuseAddr => 1) or die;
	my $hport = $hang->sockport;
	my $hpid = fork // die;
	if ($hpid == 0) {
		my @held;
		push @held, $_ while $_ = $hang->accept;
		exit 0;
	}
	close $hang;
	# The control: ingest on the same store, nothing hanging.
	$f{control} = loadgen('campaign', 'ingest beside the campaigns',
	    $common, '-p ctl', "-c $size{http_conns} -d $size{http_seconds}",
	    "-n $size{ingest_max} ingest");
	stats($stack);
	my $c2 = campaign($http, $stack, time);
	my $spid = fork // die;
	if ($spid == 0) {
		$ENV{$_->[0]} = $_->[1] for [ MAILHOOKS_HOME => $stack->home ],
		    [ CAMPAIGN_API_TOKEN => 'bench' ], [ CAMPAIGN_RATE => 0 ],
		    [ CAMPAIGN_API_URL => "http://127.0.0.1:$hport/v1" ],
		    [ MAILHOOKS_SEND_CONCURRENCY => 16 ],
		    [ MAILHOOKS_SEND_TIMEOUT => 50 ];
		open STDOUT, '>', $stack->home . '/hang-sender.log';
		open STDERR, '>&', \*STDOUT;
		exec "$ROOT/sender/mailhooks-sender", '--daemon' or die;
	}
	# Measured once its messages are made and its requests hang.
	for (1 .. 600) {
		my $r = $http->get($stack->url("/api/campaigns/$c2/stats"));
		last if $r->{status} == 200 && decode_json($r->{content})->{counts}
		    {sending} >= 16;
		sleep 0.1;
	}
	$f{ingest} = loadgen('campaign', 'ingest while the API hangs', $common,
	    '-p hang', "-c $size{http_conns} -d $size{http_seconds}",
	    "-n $size{ingest_max} ingest");
	kill 'TERM', $spid;
	waitpid($spid, 0);
	kill 'KILL', $hpid;
	waitpid($hpid, 0);
	$f{ingest_api_hangs_rps} = $f{ingest}{rps};
	$f{ingest_api_answers_rps} = $f{control}{rps};
	$f{ingest_api_hangs_to_answers} = $f{control}{rps} && $f{ingest}{rps}
	    ? $f{ingest}{rps} / $f{control}{rps} : undef;
	stats($stack);
	return \%f;
}

# A campaign to every bench client, from start (Unix s); its id.
sub campaign {
	my ($http, $stack, $start) = @_;
	my $r = $http->post($stack->url('/api/campaigns'), { content => encode_json({
	    start_at => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($start - 1)),
	    end_at => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($start + 3600)),
	    text => 'Bench', filter => { tags => ['bench'] } }) });
	die "campaign: $r->{status} $r->{content}" unless $r->{status} == 201;
	return decode_json($r->{content})->{id};
}

# The export: every stored event as CSV, streamed, read as it comes.
if (wanted('export')) {
	my ($rc, $token) = $stack->admin(qw(token add benchexport --scope events:read));
	chomp $token;
	stats($stack);
	my ($bytes, $rows, $t0) = (0, 0, time);
	my $r = HTTP::Tiny->new(timeout => 600)->request('GET',
	    $stack->url('/api/events.csv'), { headers => {
	    Authorization => "Bearer $token" }, data_callback => sub {
		$bytes += length $_[0];
		$rows += () = $_[0] =~ /\r\n/g;
	    } });
	my $took = time - $t0;
	problem("export: HTTP $r->{status}") if $rc != 0 || $r->{status} != 200;
	$fig{export_rows} = $rows - 1;
	$fig{export_mb_s} = $took > 0 ? $bytes / 1048576 / $took : undef;
}

# Search, ranges and series on a store of a million events over a year
# (about 114 an hour), built by tests/bench/fill with the server's own
# derive and storage (commits not flushed), then served by its own stack.
if (wanted('search') || wanted('readers')) {
	my $n = $smoke ? 20000 : 1000000;
	my $home = File::Temp::tempdir('mailhooks-bench-XXXXXX', TMPDIR => 1,
	    CLEANUP => 1);
	chomp(my $took = `$ROOT/tests/bench/fill $home $n 365`);
	problem("fill: exit $?") if $?;
	$fig{search_store_events} = $n;
	$fig{fill_events_s} = $took > 0 ? $n / $took : undef;
	my $big = Stack->new(server => 'lighttpd', home => $home,
	    env => { MAILHOOKS_SENDER => 0, MANDRILL_WEBHOOK_KEY => $KEY,
	    MANDRILL_WEBHOOK_URL => $SIGN_URL, MAILHOOKS_FSYNC => 1 });
	my ($rc, $token) = $big->admin(qw(token add benchsearch --scope events:read));
	chomp $token;
	readers($big, $token) if wanted('readers');
	search($big, $token, $n) if wanted('search');
	$big->stop;
}

sub search {
	my ($big, $token, $n) = @_;
	my $http = HTTP::Tiny->new(timeout => 120, keep_alive => 1);
	my $ms = sub {
		my ($path, $want) = @_;
		my $t0 = time;
		my $r = $http->request('GET', $big->url($path),
		    { headers => { Authorization => "Bearer $token" } });
		my $t = (time - $t0) * 1000;
		problem("search: $path: HTTP $r->{status}") if $r->{status} != 200;
		my $body = eval { decode_json($r->{content}) } // {};
		problem("search: $path: $want->[1]") if $want && !$want->[0]->($body);
		return $t;
	};
	my $p50 = sub { my @s = sort { $a <=> $b } @_; $s[int($#s / 2)] };
	my $now = int(time);
	my $first = int(($now - 365 * 86400) / 3600) + 2;
	my (@search, @pair, @range, @series, @scan);
	for my $i (1 .. ($smoke ? 3 : 30)) {
		my $user = int(rand($n / 20));
		push @search, $ms->("/api/events?q=user$user%40&limit=50",
		    [ sub { @{ $_[0]{events} // [] } == 20 }, "q=user$user\@: not its 20 events" ]);
		push @search, $ms->("/api/events?q=Campaign+" . ($i % 50)
		    . "+news&limit=50", [ sub { @{ $_[0]{events} // [] } == 50 },
		    'a campaign\'s subject: not a full page' ]);
		push @pair, $ms->('/api/events?q=%7E%7E&limit=50', [ sub {
		    $_[0]{events} && !@{ $_[0]{events} } }, 'q=~~: a match' ]);
		push @pair, $ms->('/api/events?q=rP&limit=50', [ sub {
		    @{ $_[0]{events} // [] } == 50 }, 'q=rP: not a full page' ]);
		my $h = ($first + int(rand(365 * 24 - 48))) * 3600;
		push @range, $ms->("/api/events?since=$h&until=" . ($h + 3600)
		    . '&limit=500', [ sub { @{ $_[0]{events} // [] } > 0 && !$_[0]{more} },
		    'an hour: not all its events in one page' ]);
		push @series, $ms->('/api/stats/series?bucket=day&since='
		    . ($now - 30 * 86400) . "&until=$now", [ sub {
		    @{ $_[0]{start} // [] } >= 30 }, 'series: not 30 days' ]);
	}
	# What the time index spares: a window of the last 100 days holds
	# more events than it serves (MH_RANGE_MAX), so read oldest first it
	# walks the table from its first event, 73% of it before the window.
	push @scan, $ms->('/api/events?since=' . ($now - 100 * 86400)
	    . '&until=' . ($now + 86400) . '&after=0&limit=50', [ sub {
	    @{ $_[0]{events} // [] } == 50 }, 'the window: not a full page' ])
	    for 1 .. ($smoke ? 1 : 3);
	# The reports read every message's summary (250 000 here).
	my @by = map { $ms->('/api/stats/by?field=tag', [ sub {
	    @{ $_[0]{rows} // [] } == 50 }, 'by tag: not its 50 tags' ]) }
	    1 .. ($smoke ? 1 : 3);
	$fig{by_ms} = $p50->(@by);
	$fig{search_ms} = $p50->(@search);
	$fig{pair_ms} = $p50->(@pair);
	$fig{range_ms} = $p50->(@range);
	$fig{series_ms} = $p50->(@series);
	$fig{scan_ms} = $p50->(@scan);
	$fig{range_to_scan} = $fig{scan_ms} > 0 ? $fig{range_ms} / $fig{scan_ms} : undef;
}

# Webhooks beside heavy readers, on the large store: the webhooks' answer
# times at a steady rate, alone and then while four clients each repeat
# a read that grows with the store (all-time counts, a report over every
# message, a filter that walks every event, a full export). The webhooks
# have processes of their own; the readers must not slow them.
sub readers {
	my ($big, $token) = @_;
	my $addr = '127.0.0.1:' . $big->port;
	my @args = ("-a $addr -k $KEY -u $SIGN_URL", '-s 1',
	    '-r ' . ($smoke ? 50 : 100), '-d ' . ($smoke ? 1 : 10));
	my @heavy = ('/api/stats?since=0', '/api/stats/by?field=tag',
	    '/api/events?since=0&type=reject&limit=50', '/api/events.csv?q=ou');
	# The first run only warms the processes up.
	loadgen('readers', 'webhooks, warming up', @args, '-p warm',
	    sub { tickets($big, 1) }, 'e2e');
	my $alone = loadgen('readers', 'webhooks alone', @args, '-p alone',
	    sub { tickets($big, 1) }, 'e2e');
	my $stop = time + 3600;
	my @kids = map {
		my $path = $_;
		my $pid = fork // die;
		if ($pid == 0) {
			my $h = HTTP::Tiny->new(timeout => 300);
			my ($n, $bad) = (0, 0);
			while (!-e $big->home . '/readers.stop' && time < $stop) {
				my $r = $h->request('GET', $big->url($path), {
				    headers => { Authorization => "Bearer $token" },
				    data_callback => sub {} });
				$n++;
				$bad++ if $r->{status} != 200;
			}
			POSIX::_exit($bad || !$n ? 1 : 0);
		}
		$pid;
	} @heavy;
	sleep 1;	# the readers under way
	my $beside = loadgen('readers', 'webhooks beside readers', @args,
	    '-p beside', sub { tickets($big, 1) }, 'e2e');
	open my $fh, '>', $big->home . '/readers.stop' or die;
	close $fh;
	for my $i (0 .. $#kids) {
		waitpid($kids[$i], 0);
		problem("readers: $heavy[$i]: a non-200 answer, or none") if $?;
	}
	$fig{hooks_alone_p50_ms} = $alone->{http_p50_ms};
	$fig{hooks_alone_p99_ms} = $alone->{http_p99_ms};
	$fig{hooks_readers_p50_ms} = $beside->{http_p50_ms};
	$fig{hooks_readers_p99_ms} = $beside->{http_p99_ms};
	$fig{hooks_readers_p99_ratio} = $alone->{http_p99_ms}
	    ? $beside->{http_p99_ms} / $alone->{http_p99_ms} : undef;
}

# The database holds every acknowledged event, once, when the inbox has
# been drained.
my $s = stats($stack);
my $ids = stored_ids($stack);
my $checked = check_stored('ingest', $ids, 'ingest', $ingest->{ok} // 0)
    & check_stored('batch', $ids, 'batch', $batch->{ok} // 0)
    & check_stored('e2e', $ids, 'e2e', $e2e->{ok} // 0)
    & check_stored('e2e, one subscriber', $ids, 'e2eone', $e2e_one->{ok} // 0)
    & check_stored('e2e, light', $ids, 'e2elight', $e2e_light->{ok} // 0)
    & check_stored('e2e, light, at the relay', $ids, 'e2edirect',
        $e2e_direct->{ok} // 0)
    & check_stored('fanout', $ids, 'fanout', $fan->{ok} // 0)
    & check_stored('ingest while the API hangs', $ids, 'hang',
    $hang_ingest->{ok} // 0)
    & check_stored('ingest beside the campaigns', $ids, 'ctl',
    $control_ingest->{ok} // 0);
my $expect = 0;
$expect += $_->{ok} // 0 for $ingest, $batch, $e2e, $e2e_one, $e2e_light,
    $e2e_direct, $fan,
    $hang_ingest, $control_ingest;
if ($s->{events} != $expect) {
	problem("database holds $s->{events} events, $expect acknowledged");
	$checked = 0;
}
my $notified = ($notify->{ok} // 0) + ($notify_e2e->{ok} // 0);
if (($s->{notifications} // 0) != $notified) {
	problem("database holds $s->{notifications} notifications, $notified "
	    . 'acknowledged');
	$checked = 0;
}
problem("$s->{inbox_pending} inbox entries left") if $s->{inbox_pending};
problem("$s->{set_aside} inbox entries set aside") if $s->{set_aside};
$stack->stop;

# The soak: the whole stack under a mixed load for ten minutes, its
# processes' memory and descriptors after the warm-up and at the end, and
# every answer not 2xx (tests/bench/soak.pl says what it runs).
if (wanted('soak')) {
	my $out = `perl $ROOT/tests/bench/soak.pl @{[ $smoke ? '--smoke' : '' ]}`;
	my $r = eval { decode_json($out) } // { soak_problems => ['no figures'] };
	problem("soak: $_") for @{ $r->{soak_problems} };
	problem('soak: exit ' . ($? >> 8)) if $? && !@{ $r->{soak_problems} };
	$fig{$_} = $r->{$_} for grep { /^soak_/ } keys %$r;
}

$fig{events_stored} = $s->{events};
$fig{seconds} = time - $t_start;
$fig{smoke} = $smoke ? JSON::PP::true : JSON::PP::false;
$fig{checked} = !@problems && $checked ? JSON::PP::true : JSON::PP::false;
$fig{machine} = machine();
$fig{runs} = { null => $null, ingest => $ingest, batch => $batch,
    e2e => $e2e, e2e_one => $e2e_one, e2e_light => $e2e_light,
    fanout => $fan, notify => $notify, notify_e2e => $notify_e2e,
    mail_queue => $mail_queue, campaign_hang_ingest => $hang_ingest,
    campaign_control_ingest => $control_ingest };

sub machine {
	my ($cpus, $model) = (0, '?');
	if (open my $fh, '<', '/proc/cpuinfo') {
		while (<$fh>) {
			$cpus++ if /^processor\s*:/;
			$model = $1 if /^model name\s*:\s*(.*)$/;
		}
	}
	chomp(my $kernel = `uname -r`);
	return "$cpus x $model, Linux $kernel";
}

my @rows = (
	[ 'null_rps', 'empty FastCGI responder, requests/s', '(baseline)' ],
	[ 'ingest_rps', 'signed single-open webhooks/s, stored', '' ],
	[ 'ingest_ratio', 'ingest_rps / null_rps', '>= 0.6' ],
	[ 'ingest_drained_after_s', 'then all of them stored, s later', '' ],
	[ 'batch1000_p50_ms', '1000-event batch acknowledged, p50 ms', '' ],
	[ 'batch1000_p99_ms', '1000-event batch acknowledged, p99 ms', '<= 50' ],
	[ 'batch_drained_after_s', 'then all of them stored, s later', '' ],
	[ 'e2e_p50_ms', "POST -> frame, $size{e2e_rate}/s, $size{e2e_subs} subs, p50 ms", '' ],
	[ 'e2e_p99_ms', "POST -> frame, $size{e2e_rate}/s, $size{e2e_subs} subs, p99 ms", '<= 5' ],
	[ 'e2e_1sub_p99_ms', "POST -> frame, $size{e2e_rate}/s, 1 sub, p99 ms", '' ],
	[ 'e2e_light_p99_ms', "POST -> frame, $size{e2e_light_rate}/s, $size{e2e_light_subs} subs, p99 ms", '' ],
	[ 'e2e_light_p50_ms', "POST -> frame, $size{e2e_light_rate}/s, $size{e2e_light_subs} subs, p50 ms", '' ],
	[ 'e2e_relay_p50_ms', '... its subscribers on the relay itself, no proxy, p50 ms', '' ],
	[ 'e2e_relay_p99_ms', '... p99 ms', '' ],
	[ 'nchan_e2e_light_p50_ms', '... nchan\'s, p50 ms', '' ],
	[ 'nchan_e2e_light_p99_ms', '... nchan\'s, p99 ms', '' ],
	[ 'e2e_light_p50_ms_to_nchan', 'e2e_light_p50_ms / nchan\'s', '<= 1' ],
	[ 'e2e_light_p99_ms_to_nchan', 'e2e_light_p99_ms / nchan\'s', '<= 0.67' ],
	[ 'nchan_e2e_p50_ms', "nchan: POST -> frame, $size{e2e_rate}/s, $size{e2e_subs} subs, p50 ms", '' ],
	[ 'nchan_e2e_p99_ms', '... p99 ms', '' ],
	[ 'e2e_rate', "events/s mailhooks held at $size{e2e_rate}/s", '' ],
	[ 'nchan_e2e_rate', '... nchan held', '' ],
	[ 'e2e_missing', 'frames missing, mailhooks at that load', '0' ],
	[ 'nchan_e2e_missing', '... nchan', '' ],
	[ 'e2e_p99_ms_to_nchan', 'e2e_p99_ms / nchan\'s', '< 1' ],
	[ 'fanout_clients', 'subscribers in the fan-out run', '>= 10000' ],
	[ 'fanout_first_delivered_ms', 'one open -> the first of them has it, ms', '' ],
	[ 'fanout_all_delivered_ms', 'one open -> all of them have it, ms', '<= 100' ],
	[ 'relay_kb_per_conn', 'relay memory per idle subscriber, KiB', '<= 4' ],
	[ 'nchan_fanout_all_delivered_ms', 'nchan: one open -> all of them have it, ms', '' ],
	[ 'fanout_to_nchan', 'fanout_all_delivered_ms / nchan\'s', '<= 0.67' ],
	[ 'nchan_kb_per_conn', 'nchan (its workers) memory per idle subscriber, KiB', '' ],
	[ 'kb_per_conn_to_nchan', 'relay_kb_per_conn / nchan\'s', '<= 0.5' ],
	[ 'notify_rps', 'POST /api/notifications (one each)/s, stored', '' ],
	[ 'notify_ratio', 'notify_rps / null_rps', '' ],
	[ 'classify_us_per_event', 'machine or person: its cost an event (rules and history), us', '' ],
	[ 'classify_history_us_per_event', '... of which the message\'s history (burst, prefetch, trap), us', '' ],
	[ 'classify_to_derive', 'deriving and judging / deriving without the rules', '' ],
	[ 'classify_to_ingest', 'that cost / a signed webhook\'s at ingest_rps', '<= 0.02' ],
	[ 'mail_queue_rps', 'POST /api/mail (one recipient)/s, durable', '' ],
	[ 'mail_queue_to_ingest', 'mail_queue_rps / ingest_rps', '>= 0.5' ],
	[ 'mail_send_rps', 'mails handed to a fake Mandrill/s, 4 at once', '' ],
	[ 'mail_fake_c4_rps', 'that fake alone, 4 connections', '' ],
	[ 'mail_send_to_fake', 'mail_send_rps / mail_fake_c4_rps', '' ],
	[ 'campaign_clients_rps', 'POST /api/clients/s, 4 at once', '' ],
	[ 'campaign_10k_s', "a campaign to $size{campaign_clients} clients: start -> last sent, s", '' ],
	[ 'campaign_sent_rps', 'its messages sent/s, 16 at once, no rate limit', '' ],
	[ 'export_rows', 'events exported as CSV in one GET', '' ],
	[ 'export_mb_s', 'GET /api/events.csv, MB/s', '' ],
	[ 'search_store_events', 'events in the store searched', '1000000' ],
	[ 'fill_events_s', 'events stored/s building it (derive, store, index)', '' ],
	[ 'search_ms', 'GET /api/events?q= (an address, a subject), p50 ms', '<= 20' ],
	[ 'range_ms', 'GET /api/events, one hour\'s events, p50 ms', '<= 20' ],
	[ 'series_ms', 'GET /api/stats/series, 30 days by day, p50 ms', '<= 50' ],
	[ 'pair_ms', 'GET /api/events?q= of 2 characters, p50 ms', '' ],
	[ 'scan_ms', 'a window over MH_RANGE_MAX, walked, ms', '' ],
	[ 'range_to_scan', 'range_ms / scan_ms', '' ],
	[ 'by_ms', 'GET /api/stats/by?field=tag, every summary read, ms', '' ],
	[ 'hooks_alone_p50_ms', 'a webhook answered, 100/s on that store (1 subscriber), p50 ms', '' ],
	[ 'hooks_alone_p99_ms', 'a webhook answered, 100/s on that store (1 subscriber), p99 ms', '' ],
	[ 'hooks_readers_p50_ms', 'the same beside 4 heavy readers, p50 ms', '' ],
	[ 'hooks_readers_p99_ms', 'the same beside 4 heavy readers, p99 ms', '<= 50' ],
	[ 'hooks_readers_p99_ratio', 'hooks_readers_p99_ms / hooks_alone_p99_ms', '' ],
	[ 'soak_webhooks', 'soak: webhooks acknowledged, each pushed to every subscriber', '' ],
	[ 'soak_e2e_p99_ms', 'soak: POST -> frame, every subscriber, p99 ms', '' ],
	[ 'soak_non2xx', 'soak: kinds of answer not 2xx', '0' ],
	[ 'soak_anon_growth_max', 'soak: private memory, most a process grew after warm-up', '<= 0.10' ],
	[ 'soak_fds_growth_max', 'soak: descriptors, most a process grew after warm-up', '<= 0.10' ],
	[ 'ingest_api_answers_rps', 'signed webhooks/s after it, same store', '' ],
	[ 'ingest_api_hangs_rps', 'the same while a campaign\'s API hangs', '' ],
	[ 'ingest_api_hangs_to_answers', 'ingest_api_hangs_rps / ingest_api_answers_rps', '>= 0.9' ],
	[ 'notify_e2e_p50_ms', "POST -> its user's frame, $size{notify_rate}/s, $size{notify_users} users, p50 ms", '' ],
	[ 'notify_e2e_p99_ms', "POST -> its user's frame, $size{notify_rate}/s, $size{notify_users} users, p99 ms", '<= 10' ],
	[ 'notify_relay_kb_per_user', 'relay memory per connected user, KiB', '<= 4' ],
);
printf "\nmailhooks bench%s on %s\n\n", $smoke ? ' (smoke)' : '', $fig{machine};
printf "| %-25s | %-52s | %10s | %-10s |\n", 'key', 'what', 'value', 'target';
printf "|%s|%s|%s|%s|\n", '-' x 27, '-' x 54, '-' x 12, '-' x 12;
for my $r (@rows) {
	my $v = $fig{ $r->[0] };
	printf "| %-25s | %-52s | %10s | %-10s |\n", $r->[0], $r->[1],
	    defined $v ? sprintf($v =~ /\./ ? '%.3f' : '%s', $v) : 'n/a', $r->[2];
}
printf "\nchecked: %s (%d events stored, %.0f s)\n",
    $fig{checked} ? 'every acknowledged event stored once, every subscriber '
    . 'got every open' : 'NO: ' . join('; ', @problems),
    $fig{events_stored}, $fig{seconds};

if (my $file = $ENV{BENCH_JSON}) {
	open my $fh, '>', $file or die "$file: $!";
	print $fh JSON::PP->new->canonical->encode(\%fig), "\n";
	close $fh;
}
exit($fig{checked} ? 0 : 1);
