#!/usr/bin/env perl
# The soak of make bench: the whole stack under a mixed load for ten
# minutes (lighttpd, the FastCGI processes, the relay and the sender
# daemon, flushed commits), and whether any of it grows or fails:
#
#   - 1000 WebSocket subscribers through the web server: 20 viewers of
#     the live feed, and 980 users each on their own notifications;
#   - signed webhooks, single opens at a steady rate (300 a second), each
#     pushed to every viewer (loadgen e2e);
#   - notifications (POST /api/notifications, a token), 20 a second, each
#     pushed to its user (loadgen e2e -A);
#   - mail (POST /api/mail), 5 a second, sent by mailhooks-sender to a
#     fake Mandrill;
#   - a campaign to 1000 clients, sent over the run to a fake of the
#     campaigns' API (CAMPAIGN_RATE);
#   - a viewer: the page's queries (events, counts, series, reports,
#     notifications, mail, the campaign) one after the other, a few a
#     second.
#
# The resident memory (private and mapped apart: Berkeley DB's regions are
# files every process maps, and a process's share of them grows as it
# touches their pages, up to their size) and the open descriptors of every
# process of the stack are read at the start, once the run has warmed up,
# and at its end. Every answer that is not 2xx is listed.
#
#   perl tests/bench/soak.pl [--smoke] [--seconds N]
#
# Prints a table of the processes on stderr and the figures as one JSON
# object on stdout; exits 1 when something failed or grew: an answer not
# 2xx, a webhook not acknowledged or a frame missing, a mail or campaign
# message not sent, or a process whose private memory or descriptors grew
# by more than 10 % after the warm-up.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FakeMandrill;
use FakeCampaignApi;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $smoke = grep { $_ eq '--smoke' } @ARGV;
# The relay keeps the last 4096 events and the last 4096 notifications
# (ws-relay/relay.h, MH_RING) for a subscriber that comes back: at 20
# notifications a second that ring is full after 205 s, and until then
# the relay grows by design (a megabyte). The warm-up, 4 minutes, lasts
# until both are full.
my %o = $smoke ? (seconds => 12, warm => 4, rate => 50, subs => 5,
    users => 45, clients => 60, notify_rate => 5, mail_rate => 2)
    : (seconds => 600, warm => 240, rate => 300, subs => 20, users => 980,
    clients => 1000, notify_rate => 20, mail_rate => 5);
# --seconds N: a shorter (or longer) run at the same rates; under 2.5
# warm-ups, the warm-up is cut to its first fifth (growth is then judged
# before the rings are full).
for my $i (0 .. $#ARGV - 1) {
	next unless $ARGV[$i] eq '--seconds';
	$o{seconds} = $ARGV[$i + 1];
	$o{warm} = $o{seconds} / 5 if $o{warm} > $o{seconds} / 2.5;
}
my $KEY = 'soak-key';
my $SIGN_URL = 'https://hooks.example.com/webhooks/mandrill';
my $LOADGEN = "$Stack::ROOT/tests/bench/loadgen";
my @problems;
sub problem { push @problems, $_[0]; warn "soak: $_[0]\n" }

my $mandrill = FakeMandrill->new;
$mandrill->modes('ok');
my $api = FakeCampaignApi->new;
$api->modes('ok');
my $s = Stack->new(server => 'lighttpd', env => {
	MANDRILL_WEBHOOK_KEY => $KEY, MANDRILL_WEBHOOK_URL => $SIGN_URL,
	MAILHOOKS_FSYNC => 1, MAILHOOKS_RELAY_MAX_CLIENTS => 20000,
	MAILHOOKS_RELAY_MAX_PER_ADDRESS => 20000,
	MANDRILL_API_KEY => 'soak', MANDRILL_API_URL => $mandrill->url,
	CAMPAIGN_API_URL => $api->url, CAMPAIGN_API_TOKEN => 'soak',
	# The campaign's messages spread over the run.
	CAMPAIGN_RATE => int($o{clients} / ($o{seconds} * 0.8)) + 1,
});
my (undef, $token) = $s->admin('token', 'add', 'soak', '--scope',
    'events:read,notifications:write,mail:send,campaigns:write');
chomp $token;
my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 1, default_headers => {
    Authorization => "Bearer $token", 'Content-Type' => 'application/json' });

# Every answer not 2xx, by what asked; in a child, written to its file.
my %non2xx;
sub check {
	my ($what, $method, $path, $r) = @_;
	return $r if $r->{status} =~ /^2/;
	my $k = "$what: $method $path -> $r->{status}";
	$k .= " $1" if ($r->{content} // '') =~ /"error"\s*:\s*"([^"]+)"/;
	$non2xx{$k}++;
	return $r;
}
sub call {
	my ($what, $method, $path, $body) = @_;
	my $r = $http->request($method, $s->url($path),
	    defined $body ? { content => encode_json($body) } : {});
	return check($what, $method, $path =~ s/\?.*//r, $r);
}

# The campaign's audience.
for my $i (1 .. $o{clients}) {
	call('clients', 'POST', '/api/clients', { phone => sprintf('7951%07d', $i),
	    tag => 'soak', timezone => 'Europe/Moscow' });
}

# A child running $body->($deadline) until the end; its non-2xx and its
# count of requests come back in a file.
my @kids;
my $end = time + $o{seconds};
sub child {
	my ($name, $body) = @_;
	my $pid = fork // die;
	if ($pid == 0) {
		$http = HTTP::Tiny->new(timeout => 60, keep_alive => 1,
		    default_headers => $http->{default_headers});
		%non2xx = ();
		my $n = $body->();
		open my $fh, '>', $s->home . "/soak.$name" or POSIX::_exit(2);
		print $fh encode_json({ requests => $n, non2xx => \%non2xx });
		close $fh;
		POSIX::_exit(0);
	}
	push @kids, [ $name, $pid ];
}
# Calls $one->($i) $rate times a second until the end.
sub steady {
	my ($rate, $one) = @_;
	my ($t0, $i) = (time, 0);
	while (time < $end) {
		$one->($i++);
		my $due = $t0 + $i / $rate;
		sleep($due - time) if $due > time;
	}
	return $i;
}

my $before = sample();	# the stack up, no load yet
my $start = time;
my $campaign = call('campaign', 'POST', '/api/campaigns', {
    start_at => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($start - 1)),
    end_at => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($start + 86400)),
    text => 'Soak', filter => { tags => ['soak'] } })->{content};
my $cid = eval { decode_json($campaign)->{id} } // problem('no campaign');

# The webhooks and the feed's viewers, the notifications and their users:
# two loadgens, their figures on their stdout.
sub loadgen {
	my ($name, $subs, $rate, @args) = @_;
	my $tickets = $s->home . "/tickets.$name";
	open my $tf, '>', $tickets or die;
	print $tf "$_\n" for $s->ws_tickets($subs);
	close $tf;
	open my $lg, '-|', $LOADGEN, '-a', '127.0.0.1:' . $s->port,
	    '-k', $KEY, '-u', $SIGN_URL, '-p', "soak$name", '-s', $subs, '-r',
	    $rate, '-d', $o{seconds}, '-T', $tickets, @args, 'e2e' or die;
	return $lg;
}
my %lg = (webhooks => loadgen('webhooks', $o{subs}, $o{rate}),
    notifications => loadgen('notifications', $o{users}, $o{notify_rate},
    '-A', $token));
child('mail', sub { steady($o{mail_rate}, sub {
	my ($i) = @_;
	call('mail', 'POST', '/api/mail', { from_email => 'shop@example.com',
	    subject => "Your receipt $i", text => "Receipt $i",
	    to => [ { email => "buyer$i\@example.net" } ] });
}) });
my @pages = ('/api/events?limit=50', '/api/stats',
    '/api/stats/series?bucket=hour', '/api/stats/by?field=tag',
    '/api/events?q=soak&limit=50', '/api/notifications?limit=50',
    '/api/mail?limit=50', "/api/campaigns/$cid/stats",
    '/api/events?type=open&limit=50', '/api/health');
child('viewer', sub {
	my $n = 0;
	while (time < $end) {
		call('viewer', 'GET', $pages[$n++ % @pages]);
		sleep 0.2;
	}
	return $n;
});
# The web server hands a request to its first idle process, so one
# viewer reaches the API's other processes only now and then, and each
# met a page's largest answer for the first time after the warm-up (a
# step of 150 KiB, then flat). Near the warm-up's end, four viewers at
# once, each through the pages a few times, so that every process has
# served each before the growth is judged.
for my $k (1 .. 4) {
	child("warm$k", sub {
		sleep 0.2 while time < $start + $o{warm} * 0.8;
		my $n = 0;
		call('viewer', 'GET', $_), $n++ for (@pages) x ($smoke ? 1 : 5);
		return $n;
	});
}

# Memory and descriptors of every process of the stack.
sub sample {
	my %at;
	for my $p ($s->processes) {
		my ($pid, $name) = split / /, $p, 2;
		next if $name eq 'sleep';	# run.sh's, a second at a time
		my %st;
		open my $fh, '<', "/proc/$pid/status" or next;
		while (<$fh>) {
			$st{$1} = $2 if /^(VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+)/;
		}
		my $fds = () = glob "/proc/$pid/fd/*";
		$at{$pid} = { name => $name, rss_kb => $st{VmRSS},
		    anon_kb => $st{RssAnon}, file_kb => ($st{RssFile} // 0)
		    + ($st{RssShmem} // 0), fds => $fds };
	}
	return \%at;
}
# The warm-up (see %o): the subscribers' buffers, the relay's rings, the
# caches' pages and the largest answers reach their size. Then samples
# every ninth of the rest: the private memory's course, in the JSON.
sleep $o{warm};
my $warm = sample();
my @course = ($warm);
for my $k (1 .. 9) {
	my $due = $start + $o{warm} + $k * ($o{seconds} - $o{warm} - 1) / 9;
	sleep 0.2 while time < $due;
	push @course, sample();
}
my $late = $course[-1];

my %got;
for my $name (sort keys %lg) {
	my $out = do { local $/; readline $lg{$name} };
	close $lg{$name};
	problem("$name: loadgen exited " . ($? >> 8)) if $?;
	my $r = $got{$name} = eval { decode_json($out) } // {};
	problem("$name: $r->{failed} not acknowledged, $r->{missing_frames} "
	    . 'frames missing') if $r->{failed} || $r->{missing_frames}
	    || !$r->{ok};
}
my $hooks = $got{webhooks};
for (@kids) {
	my ($name, $pid) = @$_;
	waitpid($pid, 0);
	my $r = eval { decode_json(do { local (@ARGV, $/) = $s->home
	    . "/soak.$name"; <> }) } // {};
	problem("$name: no report") unless $r->{requests};
	$non2xx{$_} += $r->{non2xx}{$_} for keys %{ $r->{non2xx} // {} };
	$hooks->{"${name}_requests"} = $r->{requests};
}

# The sender catches up with what was queued in the last seconds.
my ($mail_sent, $camp_sent) = (0, 0);
for (1 .. 120) {
	my (undef, $list) = $s->admin(qw(mail list));
	$mail_sent = () = $list =~ /"status":"sent"/g;
	my $st = eval { decode_json(call('campaign', 'GET',
	    "/api/campaigns/$cid/stats")->{content}) } // {};
	$camp_sent = $st->{counts}{sent} // 0;
	last if $mail_sent >= ($hooks->{mail_requests} // 0)
	    && $camp_sent >= $o{clients};
	sleep 0.5;
}
problem("mail: $mail_sent sent of $hooks->{mail_requests}")
    if $mail_sent < ($hooks->{mail_requests} // 0);
problem("campaign: $camp_sent sent of $o{clients}") if $camp_sent < $o{clients};
problem("not 2xx: $_ (x$non2xx{$_})") for sort keys %non2xx;
$s->stop;

# Growth after the warm-up: private memory and descriptors, each process.
my ($max_anon, $max_fds, @procs) = (0, 0);
my $row = "%-8s %-16s %9s %9s %9s %9s %9s %9s %6s %6s %6s\n";
printf STDERR "\n$row", 'pid', 'process', 'anon KiB', '', '', 'mapped', '',
    '', 'fds', '', '';
printf STDERR $row, '', '', 'start', 'warm', 'end', 'start', 'warm', 'end',
    'start', 'warm', 'end';
for my $pid (sort { $a <=> $b } keys %$warm) {
	my ($w, $l) = ($warm->{$pid}, $late->{$pid});
	unless ($l) {
		problem("$w->{name} ($pid) ended during the run");
		next;
	}
	my $anon = $w->{anon_kb} ? ($l->{anon_kb} - $w->{anon_kb}) / $w->{anon_kb} : 0;
	my $fds = $w->{fds} ? ($l->{fds} - $w->{fds}) / $w->{fds} : 0;
	$max_anon = $anon if $anon > $max_anon;
	$max_fds = $fds if $fds > $max_fds;
	# A few seconds of smoke say nothing of growth: only its checks count.
	problem(sprintf('%s (%d): private memory %+.1f %%', $w->{name}, $pid,
	    100 * $anon)) if $anon > 0.10 && !$smoke;
	problem(sprintf('%s (%d): descriptors %+.1f %%', $w->{name}, $pid,
	    100 * $fds)) if $fds > 0.10 && !$smoke;
	my $b = $before->{$pid} // {};
	printf STDERR $row, $pid, $w->{name}, map({ $_->{anon_kb} // '-' }
	    $b, $w, $l), map({ $_->{file_kb} // '-' } $b, $w, $l),
	    map { $_->{fds} // '-' } $b, $w, $l;
	push @procs, { pid => 0 + $pid, name => $w->{name}, start => $b,
	    warm => $w, end => $l, anon_course_kb => [ map {
	    $_->{$pid} ? $_->{$pid}{anon_kb} : undef } @course ] };
}
print encode_json({ soak_seconds => $o{seconds}, soak_warm_s => $o{warm},
    soak_webhooks => $hooks->{ok}, soak_webhook_rate => $hooks->{rate},
    soak_subscribers => ($hooks->{subscribers} // 0)
    + ($got{notifications}{subscribers} // 0),
    soak_e2e_p99_ms => $hooks->{e2e_p99_ms},
    soak_http_p99_ms => $hooks->{http_p99_ms},
    soak_notifications => $got{notifications}{ok},
    soak_notify_e2e_p99_ms => $got{notifications}{e2e_p99_ms},
    soak_mail_sent => $mail_sent, soak_campaign_sent => $camp_sent,
    soak_viewer_requests => $hooks->{viewer_requests},
    soak_non2xx => scalar(keys %non2xx),
    soak_anon_growth_max => $max_anon, soak_fds_growth_max => $max_fds,
    soak_processes => \@procs, soak_problems => \@problems }), "\n";
exit(@problems ? 1 : 0);
