#!/usr/bin/env perl
# The inbox and the relay's failure modes: an entry left behind by a
# process killed after its answer is processed by the next request; a
# relay that is down fails no webhook and is started again; stopping the
# stack leaves no process behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Copy ();
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $s = Stack->new;
my $home = $s->home;

# Leave an acknowledged entry in the inbox, as a process killed between
# its answer and its drain would.
is($s->stop, 0, 'stack stopped cleanly');
is_deeply([$s->processes], [], 'no process of the stack is left');
my $value = encode_json([Stack::event(id => 'left-behind', email =>
    'late@example.com')]);
open my $fh, '>', "$home/body" or die;
print $fh 'mandrill_events=' . Stack::form_encode($value);
close $fh;
# A copy the stack's user can run, wherever the checkout is.
File::Copy::copy("$Stack::ROOT/tests/lib/inbox-put", "$home/inbox-put") or die;
chmod 0755, "$home/inbox-put";
open my $put, '-|', $s->as_stack_user("$home/inbox-put", $home, "$home/body")
    or die;
my $receipt = <$put>;
close $put;
is($?, 0, 'entry put in the inbox behind the server\'s back');
chomp $receipt;

$s->start;
my ($st, $h) = $s->get_json('/api/health');
is($st, 200, 'any request');
my @ev = $s->wait_events(1);
is(scalar @ev, 1, 'the next request drained the left-behind entry');
is($ev[0]{message_id}, 'left-behind', 'its event is stored');
is($ev[0]{receipt}, $receipt, 'linked to its receipt');
($st, $h) = $s->get_json('/api/health');
is($h->{inbox_pending}, 0, 'the inbox is empty');

# The relay is down: webhooks still succeed, the relay comes back, and a
# client that reconnects catches up with after=SEQ.
my ($relay) = $s->pids_named('mailhooks-relay');
ok($relay, "relay running as $relay");
kill 'KILL', $relay;
my $r = $s->post_mandrill([Stack::event(id => 'while-down', ts => 5)]);
is($r->{status}, 200, 'webhook accepted while the relay is down');
@ev = $s->wait_events(2);
is($ev[-1]{message_id}, 'while-down', 'and stored');
# The drain logs it after storing the event, so perhaps after it is seen.
ok(Stack::wait_for(10, sub { $s->log =~ /relay not told of event/ }),
    'the missed signal is logged');

my $deadline = time + 10;
my ($again) = ();
while (time < $deadline) {
	($again) = grep { $_ != $relay } $s->pids_named('mailhooks-relay');
	($st, $h) = $s->get_json('/api/health');
	last if $again && $h->{relay} eq 'up';
	sleep 0.1;
}
ok($again, 'run.sh started the relay again');
is($h->{relay}, 'up', 'health sees it up');
my $ws = $s->ws_client(types => 'open', count => 1);
$r = $s->post_mandrill([Stack::event(id => 'after-restart', ts => 6)]);
is($ws->wait, 0, 'the restarted relay pushes new opens');
is(($ws->events)[0]{message_id}, 'after-restart', 'the right one');
my ($cs, $page) = $s->get_json("/api/events?after=$ev[0]{seq}");
is_deeply([map { $_->{message_id} } @{ $page->{events} }],
    ['while-down', 'after-restart'], 'catch-up from after=SEQ has all');

# Shutdown: SIGTERM to run.sh stops lighttpd, every mailhooks.fcgi and the
# relay.
ok(scalar($s->pids_named('mailhooks.fcgi')) >= 1, 'FastCGI processes run');
is($s->stop, 0, 'SIGTERM stops the stack');
$deadline = time + 5;
sleep 0.1 while $s->processes && time < $deadline;
is_deeply([$s->processes], [], 'no process is left');
ok(!-e "$home/relay.sock", 'the relay removed its socket');

# Ctrl-C in a terminal sends SIGINT to every process of the group.
$s->start;
is($s->stop('INT'), 0, 'Ctrl-C stops the stack with status 0');
$deadline = time + 5;
sleep 0.1 while $s->processes && time < $deadline;
is_deeply([$s->processes], [], 'no process is left after Ctrl-C');

done_testing;
