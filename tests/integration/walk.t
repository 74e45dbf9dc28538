#!/usr/bin/env perl
# A busy process drains its own entries by key and walks the rest of the
# inbox (for what a dead process left behind) at most once a second; a
# drain that skipped the walk owes one, which comes a second after the last
# even when no request follows. One process, started by spawn-fcgi, spoken
# to in FastCGI by this test, so that nothing else drains.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use FastCGI;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::More;

my $fcgi = FastCGI->start;
ok($fcgi->listening, 'one FastCGI process listens') or BAIL_OUT('no process');
my $home = $fcgi->home;

sub webhook {
	my ($id) = @_;
	my $body = 'mandrill_events='
	    . Stack::form_encode(encode_json([Stack::event(id => $id)]));
	my $answer = $fcgi->request('POST', '/webhooks/mandrill', $body);
	return FastCGI::status_of($answer // '') == 200;
}

sub admin {
	my $out = `$Stack::ROOT/db/mailhooks-db -h $home @_`;
	return ($? >> 8, $out);
}

sub pending {
	my ($rc, $out) = admin('stats');
	return $rc == 0 ? decode_json($out)->{inbox_pending} : -1;
}

# The first drain walks.
ok(webhook('first'), 'a webhook is acknowledged');

# An entry behind the program's back, as a process killed between its
# answer and its drain leaves one; then a webhook of the program's own at
# once, whose drain skips the walk (the last was under a second ago).
open my $fh, '>', "$home/body" or die;
print $fh 'mandrill_events='
    . Stack::form_encode(encode_json([Stack::event(id => 'left-behind')]));
close $fh;
my $receipt = `$Stack::ROOT/tests/lib/inbox-put $home $home/body`;
is($?, 0, 'an entry is put in the inbox behind the program\'s back');
my $t0 = time;
ok(webhook('own'), 'the program acknowledges one of its own');

# No request from here on: only the walk the drain owes takes the entry.
my $left = -1;
my $deadline = time + 10;
while (time < $deadline) {
	last if ($left = pending()) == 0;
	sleep 0.05;
}
my $took = time - $t0;
is($left, 0, sprintf('the owed walk drained it, with no request coming '
    . '(%.2f s after the last answer)', $took));
cmp_ok($took, '<', 5, 'a second or so after the last walk');

my ($rc, $dump) = admin('dump');
my %ids = map { /"message_id":"([^"]+)"/ ? ($1 => 1) : () } split /\n/, $dump;
ok($ids{'left-behind'} && $ids{own} && $ids{first},
    'all three events are stored') or diag $dump;
done_testing;
