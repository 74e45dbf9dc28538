#!/usr/bin/env perl
# A full disk: webhooks are answered 503 (the provider retries), nothing
# half-written is left, and once space returns, webhooks succeed again
# without a restart. The data directory is a small tmpfs of the test's own.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);

plan skip_all => 'mounting a small filesystem needs root' if $> != 0;

my $mnt = tempdir('mailhooks-full-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('mount', '-t', 'tmpfs', '-o', 'size=96m,mode=0755', 'tmpfs', $mnt) == 0
    or plan skip_all => 'this machine cannot mount a tmpfs';
my $s;
END {
	# The test's exit status stands: umount and waitpid set $?.
	local $?;
	$s->stop if $s;
	undef $s;
	system('umount', '-l', $mnt) if $mnt;
}

$s = Stack->new(home => $mnt);
my $r = $s->post_mandrill([Stack::event(id => 'before')]);
is($r->{status}, 200, 'a webhook before the disk fills');
$s->wait_events(1);

# Fill the disk but for a little.
sub free_bytes {
	my $out = `df -B1 --output=avail $mnt | tail -1`;
	return $out + 0;
}
my $filler = "$mnt/filler";
system('fallocate', '-l', free_bytes() - 256 * 1024, $filler) == 0
    or die 'fallocate';
cmp_ok(free_bytes(), '<', 512 * 1024, 'the disk is nearly full');

my $subject = 'x' x 4000;
my (%acked, $refused, $refused_i);
for my $i (1 .. 60) {
	my $r2 = $s->post_mandrill([map { Stack::event(id => "full-$i-$_",
	    subject => $subject) } 1 .. 10]);
	if ($r2->{status} == 200) {
		$acked{"full-$i-$_"} = 1 for 1 .. 10;
	} else {
		($refused, $refused_i) = ($r2, $i);
		last;
	}
}
ok($refused, 'once the disk is full, a webhook is refused');
is($refused->{status}, 503, 'with a 503 (the provider retries)');
is($refused->{json}{error}, 'storage_unavailable', 'and a JSON error');
is($s->get('/api/health')->{status} =~ /^(200|503)$/ ? 1 : 0, 1,
    'the service still answers');

unlink $filler;
my ($ok, $deadline) = (0, time + 20);
while (!$ok && time < $deadline) {
	$ok = $s->post_mandrill([Stack::event(id => 'after-space')])->{status}
	    == 200;
	sleep 0.2 unless $ok;
}
ok($ok, 'space back: webhooks succeed again, no restart') or diag join "\n", grep { !/status=200/ } (split /\n/, $s->log)[0..60];
my %have = map { $_->{message_id} => 1 } $s->wait_events(2 + keys %acked);
ok($have{'after-space'} && $have{before}, 'stored, with what came before');
my @lost = grep { !$have{$_} } keys %acked;
is(scalar @lost, 0, 'every event acknowledged while the disk filled is kept');
is(scalar(grep { /^full-$refused_i-/ } keys %have), 0,
    'nothing of the refused batch was stored');

done_testing;
