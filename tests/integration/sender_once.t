#!/usr/bin/env perl
# mailhooks-sender --once, as cron runs it on shared hosting (the stack
# runs no sender): it works off what is due and exits 0; a second copy
# started meanwhile exits at once (flock), so no mail goes twice; without
# MANDRILL_API_KEY mail stays queued and the health says why; a bad
# argument or setting is a usage error.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FakeMandrill;
use File::Copy qw(copy);
use POSIX ();
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $fake = FakeMandrill->new;
my $s = Stack->new(env => { MAILHOOKS_SENDER => 0 });
my $home = $s->home;
my $sender = "$home/mailhooks-sender";	# where the stack's user reaches it
copy("$Stack::ROOT/sender/mailhooks-sender", $sender) or die $!;
chmod 0755, $sender;

# Starts mailhooks-sender with these arguments and settings as the stack's
# user; its pid, its output in $home/once.N.
my $runs = 0;
sub start_once {
	my ($env, @args) = @_;
	my $out = "$home/once." . ++$runs;
	my $pid = fork // die;
	if ($pid == 0) {
		%ENV = (PATH => $ENV{PATH}, MAILHOOKS_HOME => $home, %$env);
		open STDOUT, '>', $out or die;
		open STDERR, '>&', \*STDOUT or die;
		exec $s->as_stack_user($sender, @args) or die;
	}
	return ($pid, $out);
}
sub finish {
	my ($pid, $secs) = @_;
	my $deadline = time + $secs;
	while (time < $deadline) {
		return $? >> 8 if waitpid($pid, POSIX::WNOHANG()) == $pid;
		sleep 0.05;
	}
	kill 'KILL', $pid;
	waitpid $pid, 0;
	return -1;
}
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; <$fh> }
sub mail {
	my ($subject) = @_;
	my $r = $s->post_json('/api/mail', { from_email => 'shop@example.com',
	    subject => $subject, text => 'Hello',
	    to => [ { email => 'alice@example.com' } ] });
	return $r->{json}{id};
}
sub status_of { my ($st, $m) = $s->get_json("/api/mail/$_[0]"); $m->{status} }
my %key = (MANDRILL_API_KEY => 'cron-key', MANDRILL_API_URL => $fake->url);

my ($st, $health) = $s->get_json('/api/health');
is($health->{sender}{state}, 'not_running', 'no sender ran yet: the health says so');
like($health->{sender}{detail}, qr/--once from cron/, 'and how to run one');

my @ids = map { mail("cron $_") } 1 .. 3;
is(status_of($ids[0]), 'queued', 'mail waits with no sender');

# Without a key: nothing goes, and it says why.
my ($pid, $out) = start_once({ MANDRILL_API_URL => $fake->url }, '--once');
is(finish($pid, 20), 0, '--once without MANDRILL_API_KEY exits 0');
like(slurp($out), qr/MANDRILL_API_KEY is not set/, 'saying the key is not set');
is(status_of($ids[0]), 'queued', 'the mail stays queued');
($st, $health) = $s->get_json('/api/health');
is($health->{sender}{state}, 'no_key', 'the health says no key');
is($health->{sender}{outbox_queued}, 3, 'and how many wait');

# Two copies at once: one sends, the other exits at once.
$fake->modes('slow 1');
my $t0 = time;
my ($p1, $o1) = start_once(\%key, '--once');
sleep 0.3;
my ($p2, $o2) = start_once(\%key, '--once');
is(finish($p2, 5), 0, 'a second --once exits 0');
ok(time - $t0 < 1.2, 'at once, while the first works');
like(slurp($o2), qr/another --once runs/, 'saying another one runs');
is(finish($p1, 30), 0, 'the first works off what is due and exits 0');
is_deeply([ map { status_of($_) } @ids ], [qw(sent sent sent)], 'all sent');
my @reqs = $fake->requests;
is(scalar @reqs, 3, 'each mail sent once');
ok(time - $t0 < 4, sprintf 'the requests went together (concurrency 4): '
    . '%.1f s for three of a second each', time - $t0);
($st, $health) = $s->get_json('/api/health');
is($health->{sender}{state}, 'running', 'the health has heard of the sender');

# Nothing due: it exits at once.
$t0 = time;
($pid, $out) = start_once(\%key, '--once');
is(finish($pid, 10), 0, 'nothing due: exits 0');
ok(time - $t0 < 2, 'at once');

# Usage and settings.
($pid, $out) = start_once(\%key, '--sometimes');
is(finish($pid, 5), 2, 'an unknown argument: exit 2');
like(slurp($out), qr/usage: mailhooks-sender --daemon \| --once/, 'with the usage');
($pid, $out) = start_once({ %key, MAILHOOKS_SEND_CONCURRENCY => 'many' },
    '--once');
is(finish($pid, 5), 2, 'a malformed setting: exit 2');
like(slurp($out), qr/MAILHOOKS_SEND_CONCURRENCY/, 'naming it');
($pid, $out) = start_once({ %key, MANDRILL_API_URL => 'ftp://x' }, '--once');
is(finish($pid, 5), 2, 'an API URL that is not http(s): exit 2');
unlike(join('', map { slurp("$home/once.$_") } 1 .. $runs), qr/cron-key/,
    'the key is never printed');

done_testing;
