#!/usr/bin/env perl
# tools/mailhooks-db against a live stack: stats, dump, verify, a hot backup
# taken under load that restores to a working environment holding every
# event acknowledged before it began, drain, reprocess and the set-aside
# list, and its errors.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Copy ();
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $s = Stack->new;
my $home = $s->home;
# A copy the stack's user can run, wherever the checkout is.
File::Copy::copy("$Stack::ROOT/tests/lib/inbox-put", "$home/inbox-put") or die;
chmod 0755, "$home/inbox-put";

sub tool { $s->admin(@_) }

my $r = $s->post_mandrill([map { Stack::event(id => "a-$_", ts => 1700000000 + $_) }
    1 .. 20]);
is($r->{status}, 200, 'twenty events');
$s->wait_events(20);

my ($rc, $out) = tool('stats');
is($rc, 0, 'stats');
my $stats = decode_json($out);
is($stats->{events}, 20, 'stats: events');
is($stats->{last_seq}, 20, 'stats: last seq');
is($stats->{raw_bodies}, 1, 'stats: one raw body kept');
ok($stats->{db_bytes} > 0 && $stats->{log_files} >= 1, 'stats: disk use and logs');

($rc, $out) = tool('dump', 15);
is($rc, 0, 'dump');
my @lines = map { decode_json($_) } split /\n/, $out;
is_deeply([map { $_->{seq} } @lines], [16 .. 20], 'dump from a seq, as JSON lines');

($rc, $out) = tool('verify');
is($rc, 0, 'verify: every file sound, while the server runs');
like($out, qr/every database is sound \(checked on a hot copy\)/, 'and says so');
is(scalar(() = glob("$home/verify-*")), 0, 'the copy it checked is gone');

# A backup under load: batches of 20, so that the server checkpoints (and
# removes the logs it no longer needs) while the copy is made. Copied
# pages then predate the last checkpoint, and the copy's recovery must
# replay every log it holds (it failed in 14 backups of 34 under such load
# when it started at that checkpoint, or a log went mid-copy).
my $until = time + 4;
my $pid = fork // die;
if ($pid == 0) {
	open my $log, '>', "$home/acked" or die;
	$log->autoflush(1);
	my $n = 0;
	while (time < $until) {
		my @ids = map { 'load-' . ++$n } 1 .. 20;
		next if $s->post_mandrill([ map { Stack::event(id => $_) } @ids ])
		    ->{status} != 200;
		print $log time, " $_\n" for @ids;
	}
	POSIX::_exit(0);
}
sleep 1.5;
my $backup = tempdir('mailhooks-backup-XXXXXX', TMPDIR => 1, CLEANUP => 1);
rmdir $backup;
my $began = time;
($rc) = tool('backup', $backup);
is($rc, 0, 'backup while clients post')
    or diag(do { local (@ARGV, $/) = ("$home/admin.out.err"); <> });
waitpid($pid, 0);
open my $fh, '<', "$home/acked" or die;
my @before = map { (split)[1] } grep { (split)[0] < $began } <$fh>;
cmp_ok(scalar @before, '>', 10, scalar(@before) . ' acknowledged before it began');

my $rhome = tempdir('mailhooks-test-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $res = system("$home/mailhooks-db", '-h', $rhome, 'restore', $backup);
is($res, 0, 'restore into an empty data directory');
# Its accounts are the backed-up ones: the first stack's admin.
my $t = Stack->new(home => $rhome,
    env => { MAILHOOKS_ADMIN_PASSWORD => $s->admin_password });
my ($st, $h) = $t->get_json('/api/health');
is($st, 200, 'the restored environment serves');
sleep 0.5;
my %have = map { $_->{message_id} => 1 } $t->all_events;
my @missing = grep { !$have{$_} } @before;
is(scalar @missing, 0, 'holding every event acknowledged before the backup')
    or diag "missing: @missing[0 .. ($#missing < 5 ? $#missing : 5)]";
$r = $t->post_mandrill([Stack::event(id => 'after-restore')]);
is($r->{status}, 200, 'and taking new ones');
$t->stop;
is(system("$home/mailhooks-db -h $rhome restore $backup 2>/dev/null") >> 8, 1,
    'restore refuses a data directory that already has a database');

# drain and rejected: entries put behind the server's back.
$s->stop;
open my $b, '>', "$home/good" or die;
print $b 'mandrill_events=' . Stack::form_encode(encode_json([Stack::event(
    id => 'drained')]));
close $b;
open $b, '>', "$home/bad" or die;
print $b 'not a form %zz';
close $b;
for my $body (qw(good bad)) {
	my $put = fork // die;
	if ($put == 0) {
		open STDOUT, '>', '/dev/null' or die;
		exec $s->as_stack_user("$home/inbox-put", $home, "$home/$body")
		    or die;
	}
	waitpid($put, 0);
}
($rc) = tool('drain');
is($rc, 0, 'drain');
($rc, $out) = tool('dump');
ok((grep { /"drained"/ } split /\n/, $out), 'the waiting entry became an event');
($rc, $out) = tool('rejected');
is($rc, 0, 'rejected');
my @aside = map { decode_json($_) } split /\n/, $out;
is(scalar @aside, 1, 'lists the entry that could not be processed');
like($aside[0]{reason}, qr/form/, 'with why');
($rc, $out) = tool('stats');
my $count = decode_json($out)->{events};
($rc) = tool('reprocess');
is($rc, 0, 'reprocess');
($rc, $out) = tool('stats');
is(decode_json($out)->{events}, $count, 'stores nothing twice');

# The tool cannot take the service down. Its output cut short (| head -1)
# ends it cleanly: killed by SIGPIPE, it left the environment to recovery
# and every webhook got 503. It creates nothing where no environment is,
# and writes as the data's owner.
$s = Stack->new(home => $home);
$r = $s->post_mandrill([map { Stack::event(id => "many-$_",
    subject => 'x' x 300) } 1 .. 600]);
$s->wait_events(1, 'message_id=many-600');
my $first = `$home/mailhooks-db -h $home dump | head -1`;
like($first, qr/^\{"seq":1,/, 'dump | head -1: the first line');
my $status = `bash -c '$home/mailhooks-db -h $home dump 2>$home/dump.err | head -1 >/dev/null; echo \${PIPESTATUS[0]}'`;
is($status + 0, 0, 'and dump ends cleanly, exit 0');
is(-s "$home/dump.err", 0, 'saying nothing');
($rc, $out) = tool('stats');
is($rc, 0, 'the tool runs again, no recovery needed');
is($s->post_mandrill([Stack::event(id => 'after-head')])->{status}, 200,
    'and the server takes webhooks');
unlike($s->log, qr/PANIC|run database recovery/, 'with no panic in its log');
my $nowhere = "$home/not-a-home";
my ($nrc) = system("$home/mailhooks-db -h $nowhere stats 2>$home/nowhere.err") >> 8;
is($nrc, 1, 'a path with no environment: exit 1');
like(do { local (@ARGV, $/) = "$home/nowhere.err"; <> },
    qr/holds no mailhooks data/, 'said so');
ok(!-e $nowhere, 'and nothing created there');
is(system("$home/mailhooks-db -h $home backup /nonexistent/a/db "
    . "2>$home/backup.err") >> 8, 1, 'a backup it cannot write: exit 1');
like(do { local (@ARGV, $/) = "$home/backup.err"; <> },
    qr{/nonexistent/a/db: No such file or directory}, 'saying why');
# A folder that holds anything is left as it was.
my $full = tempdir('mailhooks-full-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $other, '>', "$full/users.db" or die;
print $other "someone's\n";
close $other;
chmod 0777, $full;
is(system("$home/mailhooks-db -h $home backup $full 2>$home/backup.err") >> 8,
    1, 'a backup into a folder holding a file: exit 1');
like(do { local (@ARGV, $/) = "$home/backup.err"; <> }, qr/not empty/,
    'saying it is not empty');
opendir my $dh, $full or die;
is_deeply([sort grep { !/^\./ } readdir $dh], ['users.db'],
    'nothing written there');
is(do { local (@ARGV, $/) = "$full/users.db"; <> }, "someone's\n",
    'its file untouched');
my $empty = tempdir('mailhooks-empty-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $empty;
is(system("$home/mailhooks-db -h $home backup $empty >/dev/null 2>&1"), 0,
    'an empty folder takes a backup');
ok(-e "$empty/events.db", 'which is there');
SKIP: {
	my $owner = (stat "$home/db")[4];
	skip 'the data is not another user\'s here', 2 unless $> == 0 && $owner;
	# As root, as an operator would be, on the web server's data.
	is(system("$home/mailhooks-db -h $home drain >/dev/null 2>&1"), 0,
	    'drain as root');
	my @roots = grep { (stat $_)[4] == 0 } glob("$home/db/*");
	is(scalar @roots, 0, 'left no file owned by root') or diag "@roots";
}

# Errors.
($rc) = tool('bogus');
is($rc, 2, 'an unknown command: exit 2');
like(do { local (@ARGV, $/) = "$home/admin.out.err"; <> }, qr/unknown command/,
    'said on stderr');
($rc) = tool('dump', 'x');
is($rc, 2, 'a bad argument: exit 2');
is(system("$home/mailhooks-db --help >/dev/null"), 0, '--help');
my $help = `$home/mailhooks-db -h $home mail --help`;
is($? >> 8, 0, '--help after -h HOME and a command: exit 0');
like($help, qr/-h names HOME: it is not help/, '... the usage, saying -h is HOME');
like($help, qr/client list \[--tag TAG\].*campaign show ID/s, '... with client and campaign');

# Clients and campaigns from the shell.
my $cl = $s->post_json('/api/clients', { phone => '+1 212 555 0100', timezone => 'UTC', tags => ['vip'] })->{json};
$s->post_json('/api/clients', { phone => '+7 900 555 12 34', timezone => 'UTC', tag => 'other' });
my $cp = $s->post_json('/api/campaigns', { start_at => '2030-01-01T00:00:00Z',
    end_at => '2030-01-02T00:00:00Z', text => 'Hi', filter => { tags => ['vip'] } })->{json};
my ($crc, $cout) = tool('client', 'list');
is($crc, 0, 'client list: exit 0');
my @cls = map { decode_json($_) } split /\n/, $cout;
is(scalar @cls, 2, '... a line a client');
is($cls[0]{phone}, '12125550100', '... oldest first');
($crc, $cout) = tool('client', 'list', '--tag', 'vip');
is(scalar(split /\n/, $cout), 1, 'client list --tag vip: one');
($crc, $cout) = tool('client', 'show', $cl->{id});
is(decode_json($cout)->{region}, 'US', 'client show ID: the client');
($crc) = tool('client', 'show', 999);
is($crc, 1, 'client show of no client: exit 1');
($crc, $cout) = tool('campaign', 'list');
is(decode_json((split /\n/, $cout)[0])->{status}, 'scheduled', 'campaign list: with the status');
($crc, $cout) = tool('campaign', 'show', $cp->{id});
my $shown = decode_json($cout);
is_deeply([ $shown->{id}, $shown->{status}, ref $shown->{messages} ], [ $cp->{id}, 'scheduled', 'HASH' ],
    'campaign show ID: the campaign, its status and its messages counted');
($crc) = tool('campaign', 'show', 'x');
is($crc, 2, 'campaign show x: a usage error');

done_testing;
