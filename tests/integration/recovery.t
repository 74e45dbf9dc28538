#!/usr/bin/env perl
# The environment needs recovery (as when a process dies inside the
# library): each live process fails at most the request in flight with a
# 503, reopens the environment (recovering it), and goes on; nothing
# acknowledged is lost, and no one runs db_recover by hand.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Copy ();
use Test::More;

my $s = Stack->new;
my $home = $s->home;
File::Copy::copy("$Stack::ROOT/tests/lib/panic", "$home/panic") or die;
chmod 0755, "$home/panic";

my %acked;
for my $i (1 .. 5) {
	my $r = $s->post_mandrill([Stack::event(id => "before-$i")]);
	$acked{"before-$i"} = 1 if $r->{status} == 200;
}
is(scalar keys %acked, 5, 'webhooks before');

my $procs = () = $s->pids_named('mailhooks.fcgi');
is(system($s->as_stack_user("$home/panic", $home)), 0,
    'the environment is marked as needing recovery');
my (@codes, $json_503);
for my $i (1 .. 12) {
	my $r = $s->post_mandrill([Stack::event(id => "after-$i")]);
	push @codes, $r->{status};
	$acked{"after-$i"} = 1 if $r->{status} == 200;
	$json_503 //= $r->{json} if $r->{status} == 503;
}
my $failed = grep { $_ != 200 } @codes;
cmp_ok($failed, '<=', $procs, "at most one failed request for each of the "
    . "$procs FastCGI processes (@codes)");
ok(!grep({ $_ != 200 && $_ != 503 } @codes), 'and those were 503s');
is($json_503->{error}, 'storage_unavailable', 'with a JSON error')
    if $json_503;
is_deeply([@codes[-6 .. -1]], [(200) x 6], 'then every webhook succeeds');
# The API has processes of its own, which the webhooks above did not reach:
# each fails at most the request in flight too.
my @health;
for (0 .. $procs) {
	my ($st, $h) = $s->get_json('/api/health');
	push @health, $h->{status} // $st;
	last if $health[-1] eq 'ok';
}
is($health[-1], 'ok', "healthy again (@health)");
cmp_ok(scalar(grep { $_ ne 'ok' } @health), '<=', $procs,
    'at most one answer not ok for each process');
my %have = map { $_->{message_id} => 1 } $s->wait_events(scalar keys %acked);
my @lost = grep { !$have{$_} } sort keys %acked;
is(scalar @lost, 0, 'every acknowledged event is stored') or diag "@lost";
done_testing;
