#!/usr/bin/env perl
# Campaigns under cron (mailhooks-sender --once; the stack runs no
# sender): one run starts a running campaign and sends it held to
# CAMPAIGN_RATE, staying while the rate holds messages back; the mail
# channel puts a mail to each client with an email in the outbox, which
# Mandrill (a fake) gets; the daily report reaches Mandrill once a day
# however many runs look; the campaigns' settings are checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FakeCampaignApi;
use FakeMandrill;
use File::Copy qw(copy);
use POSIX qw(strftime);
use JSON::PP;
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep time);

my $api = FakeCampaignApi->new;
my $mandrill = FakeMandrill->new;
my $s = Stack->new(env => { MAILHOOKS_SENDER => 0 });
my $home = $s->home;
my $sender = "$home/mailhooks-sender";	# where the stack's user reaches it
copy("$Stack::ROOT/sender/mailhooks-sender", $sender) or die $!;
chmod 0755, $sender;
my %env = (CAMPAIGN_API_URL => $api->url, CAMPAIGN_API_TOKEN => 'tok-1',
    CAMPAIGN_RATE => 5, MANDRILL_API_KEY => 'md-key',
    MANDRILL_API_URL => $mandrill->url,
    MAILHOOKS_MAIL_FROM => 'campaigns@example.com');
# From hour 0 UTC: whenever the test runs, today's report is due.
my %report = (MAILHOOKS_DAILY_REPORT_TO => 'ops@example.com',
    MAILHOOKS_DAILY_REPORT_HOUR => 0);

# Runs mailhooks-sender with these settings as the stack's user, waiting
# for it; its exit code and output.
sub run_sender {
	my ($env, @args) = @_;
	my $out = "$home/once.out";
	my $pid = fork // die;
	if ($pid == 0) {
		%ENV = (PATH => $ENV{PATH}, MAILHOOKS_HOME => $home, %$env);
		open STDOUT, '>', $out or die;
		open STDERR, '>&', \*STDOUT or die;
		exec $s->as_stack_user($sender, @args) or die;
	}
	local $SIG{ALRM} = sub { kill 'KILL', $pid };
	alarm 90;
	waitpid $pid, 0;
	alarm 0;
	open my $fh, '<', $out or die;
	local $/;
	return ($? >> 8, scalar <$fh>);
}
sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }
sub stats { my (undef, $j) = $s->get_json("/api/campaigns/$_[0]/stats"); $j }

my $n = 0;
for my $i (1 .. 10) {
	$s->post_json('/api/clients', { phone => sprintf('7901%07d', ++$n),
	    tag => 'rate', timezone => 'Europe/Moscow' });
}
my $c1 = $s->post_json('/api/campaigns', { start_at => iso(time - 1),
    end_at => iso(time + 600), text => 'Rated',
    filter => { tags => ['rate'] } })->{json}{id};

my $t0 = time;
my ($rc, $out) = run_sender(\%env, '--once');
is($rc, 0, '--once exits 0');
is(stats($c1)->{counts}{sent}, 10, 'one run started the campaign, sent all');
my @at = sort { $a <=> $b } map { $_->{at} } $api->requests;
is(scalar @at, 10, 'the API got 10 requests');
cmp_ok($at[-1] - $at[0], '>=', 1.5, 'at 5 a second: 10 take 1.8 s or so');
my $most = 0;
for my $i (0 .. $#at) {
	my $in = grep { $_ >= $at[$i] && $_ < $at[$i] + 1 } @at;
	$most = $in if $in > $most;
}
cmp_ok($most, '<=', 6, "never more than 5 (and one) in a second: $most");

# --- The mail channel, and the daily report.
for my $email ('ann@example.com', 'bob@example.com', undef) {
	$s->post_json('/api/clients', { phone => sprintf('7901%07d', ++$n),
	    tag => 'mail', timezone => 'Europe/Moscow',
	    defined $email ? (email => $email) : () });
}
my $r = $s->post_json('/api/campaigns', { start_at => iso(time - 1),
    end_at => iso(time + 600), text => 'now', channel => 'mail' });
is($r->{status}, 400, 'the mail channel without a subject: 400');
like($r->{json}{detail}, qr/subject is required on the mail channel/,
    '... saying so');
$r = $s->post_json('/api/campaigns', { start_at => iso(time - 1),
    end_at => iso(time + 600), text => 'now', subject => 'Hi' });
like($r->{json}{detail}, qr/subject and html are the mail channel's/,
    'a subject on the API channel: 400, saying why');
my $html = '<p>Read <b>all</b> about it</p>';
my $c2 = $s->post_json('/api/campaigns', { start_at => iso(time - 1),
    end_at => iso(time + 600), text => "Read all about it\nin our news",
    subject => 'Our news', html => $html,
    channel => 'mail', filter => { tags => ['mail'] } })->{json}{id};
my $site = $s->url('/app');	# a site under a path
$site =~ s{/app$}{/};
($rc, $out) = run_sender({ %env, %report, MAILHOOKS_PUBLIC_URL => $site,
    MAILHOOKS_TRAP_LINK => 1 }, '--once');
is($rc, 0, 'a second run exits 0');
like($out, qr/the daily report of .* is mail=\d+/, 'the daily report made')
    or diag $out;
($rc, $out) = run_sender({ %env, %report }, '--once');
is(stats($c2)->{messages}, 2, 'the mail channel: only clients with an email');
is(stats($c2)->{counts}{sent}, 2, 'each sent through the outbox');
my @mail = grep { $_->{message}{subject} eq 'Our news' } $mandrill->requests;
is_deeply([ sort map { $_->{message}{to}[0]{email} } @mail ],
    [ 'ann@example.com', 'bob@example.com' ],
    'Mandrill got a mail for each, with its subject');
is($mail[0]{message}{from_email}, 'campaigns@example.com',
    'from MAILHOOKS_MAIL_FROM');
my $trap = qq{<a href="${site}api/trap" style="display:none!important" }
    . qq{aria-hidden="true" tabindex="-1">&#8203;</a>};
is($mail[0]{message}{html}, "$html$trap",
    'its HTML, with the trap link hidden at its end (MAILHOOKS_TRAP_LINK=1)');
is_deeply($mail[0]{message}{tags}, [ "campaign-$c2" ], "tagged campaign-$c2");
is($mail[0]{message}{text}, "Read all about it\nin our news", 'its text');

# --- Unsubscribing: the links the mail carries (RFC 2369, RFC 8058).
my ($ann) = grep { $_->{message}{to}[0]{email} eq 'ann@example.com' } @mail;
my $h = $ann->{message}{headers} // {};
is($h->{'List-Unsubscribe-Post'}, 'List-Unsubscribe=One-Click',
    'List-Unsubscribe-Post: one-click');
my ($link, $mailto) = ($h->{'List-Unsubscribe'} // '') =~
    m{^<(http://[^>]+/api/unsubscribe/([^>]+))>, <mailto:campaigns\@example\.com\?subject=unsubscribe%20\2>$};
ok($link, "List-Unsubscribe: the site's signed link and a mailto: "
    . ($h->{'List-Unsubscribe'} // ''));
my ($token) = ($link // '') =~ m{/unsubscribe/(.+)$};
my ($client_id) = ($token // '') =~ /^(\d+)\./;
my (undef, $before) = $s->get_json("/api/clients/$client_id");
is($before->{email}, 'ann@example.com', 'the token names its client');
my $anon = HTTP::Tiny->new(max_redirect => 0);
my $g = $anon->get($s->url("/api/unsubscribe/$token"));
is($g->{status}, 200, 'GET the link, signed in as no one: 200');
like($g->{content}, qr/<form method=post>.*List-Unsubscribe.*One-Click/s,
    '... a page with a one-click button');
is(($s->get_json("/api/clients/$client_id"))[1]{opted_out}, JSON::PP::false,
    '... which changes nothing by itself');
my $form = { headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
    content => 'List-Unsubscribe=One-Click' };
my $forged = $token =~ s/^(\d+)\./($1 + 1) . '.'/er;
is($anon->post($s->url("/api/unsubscribe/$forged"), $form)->{status}, 404,
    'a link naming another client: 404');
my $cut = substr($token, 0, -1) . (substr($token, -1) eq 'A' ? 'B' : 'A');
is($anon->post($s->url("/api/unsubscribe/$cut"), $form)->{status}, 404,
    'a link with its signature altered: 404');
is($anon->get($s->url("/api/unsubscribe/$cut"))->{status}, 404,
    '... its page too');
is($anon->post($s->url("/api/unsubscribe/$token"), { %$form,
    content => 'List-Unsubscribe=Yes' })->{status}, 400,
    'a body that is not the one-click form: 400');
is(($s->get_json("/api/clients/$client_id"))[1]{opted_out}, JSON::PP::false,
    'none of those changed anything');
my $p = $anon->post($s->url("/api/unsubscribe/$token"), $form);
is($p->{status}, 200, 'POST List-Unsubscribe=One-Click, signed in as no '
    . 'one: 200');
like($p->{content}, qr/You are unsubscribed/, '... saying so');
is(($s->get_json("/api/clients/$client_id"))[1]{opted_out}, JSON::PP::true,
    'the client opted out');
is($anon->post($s->url("/api/unsubscribe/$token"), $form)->{status}, 200,
    'again: 200, nothing more');
like($s->log, qr/client=$client_id opted out/, 'logged with client=ID');
unlike($s->log, qr/\Q$token\E/, 'the token never in the log');
my (undef, $msgs) = $s->get_json("/api/campaigns/$c2/messages");
ok($msgs->{messages}[0]{mail_id}, 'a message names its mail');
my (undef, $m) = $s->get_json("/api/mail/$msgs->{messages}[0]{mail_id}");
is($m->{status}, 'sent', 'and that mail is sent');

# --- How its mail was met: Mandrill's webhooks about it (tagged so), a
# person's open of ann's and Apple's prefetch of bob's, counted apart.
my @hooks = map {
	my ($to, $ua, $ip) = @$_;
	{ event => 'open', ts => time, _id => "cm-$to", ip => $ip, user_agent => $ua,
	  msg => { _id => "cm-$to", email => $to, subject => 'Our news', ts => time - 5,
	      tags => [ "campaign-$c2" ], metadata => {}, state => 'sent' } }
} ([ 'ann@example.com', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
     '198.51.100.23' ], [ 'bob@example.com', 'Mozilla/5.0', '17.58.63.9' ]);
is($s->post_mandrill(\@hooks)->{status}, 200, 'opens of the campaign\'s mail');
my $met;
ok(Stack::wait_for(10, sub { $met = (stats($c2) // {})->{mail}; ($met->{delivered} // 0) == 2 }),
    "the campaign's statistics say how its mail was met");
is_deeply([ @$met{qw(unique_opens machine_opens open_rate)} ], [ 1, 1, 0.5 ],
    '... people\'s opens apart from the machines\': an open rate people can trust')
    or diag(JSON::PP::encode_json($met));

my @reports = grep { ($_->{message}{to}[0]{email} // '') eq 'ops@example.com' }
    $mandrill->requests;
is(scalar @reports, 1, 'the daily report: one mail, however many runs');
like($reports[0]{message}{subject}, qr/^mailhooks: the campaigns of \d{4}-/,
    'its subject names the day');
like($reports[0]{message}{text}, qr/Campaign $c1 \(running.*\n.*sent 10/,
    'its text: each campaign of the last 24 hours with its counts');

# --- Settings checked.
($rc, $out) = run_sender({ %env, CAMPAIGN_RATE => 'fast' }, '--once');
is($rc, 2, 'CAMPAIGN_RATE not a number: a usage error');
like($out, qr/CAMPAIGN_RATE/, 'named');
($rc, $out) = run_sender({ %env, CAMPAIGN_API_URL => 'ftp://x' }, '--once');
is($rc, 2, 'CAMPAIGN_API_URL not http(s): a usage error');
unlike($out, qr/tok-1/, 'the token never in the output');

done_testing;
