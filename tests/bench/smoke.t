#!/usr/bin/env perl
# make bench, short and small (--smoke), so that it cannot rot: every
# figure of the contract is produced, and the bench's own checks (each
# acknowledged event stored once, each subscriber given each open) pass.
# Nothing here asserts a speed.
use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);
use JSON::PP;

my $dir = tempdir('mailhooks-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $out = `BENCH_JSON=$dir/bench.json perl $FindBin::Bin/bench.pl --smoke 2>&1`;
my $status = $? >> 8;
my @keys = qw(null_rps ingest_rps ingest_ratio batch1000_p50_ms
    batch1000_p99_ms e2e_p50_ms e2e_p99_ms fanout_clients
    fanout_all_delivered_ms relay_kb_per_conn notify_rps notify_e2e_p50_ms
    notify_e2e_p99_ms notify_relay_kb_per_user hooks_alone_p99_ms
    hooks_readers_p99_ms soak_webhooks soak_anon_growth_max
    soak_fds_growth_max);
print '1..', 5 + @keys, "\n";
my $n = 0;
sub ok { my ($c, $name) = @_; printf "%sok %d - %s\n", $c ? '' : 'not ', ++$n, $name; $c }

ok($status == 0, 'the bench ran and its checks passed')
    or print map { "# $_\n" } split /\n/, $out;
ok($out =~ /^\| key\s+\| what/m, 'it prints the table');
my $fig = eval {
	open my $fh, '<', "$dir/bench.json" or die;
	local $/;
	decode_json(<$fh>);
} // {};
ok($fig->{checked} && $fig->{smoke}, 'BENCH_JSON says the run was checked');
for my $k (@keys) {
	ok(defined $fig->{$k} && $fig->{$k} =~ /^[0-9.e+-]+$/ && $fig->{$k} >= 0,
	    "$k is a figure (" . ($fig->{$k} // 'missing') . ')');
}
ok(abs($fig->{ingest_ratio} - $fig->{ingest_rps} / ($fig->{null_rps} || 1))
    < 1e-6, 'ingest_ratio is ingest_rps / null_rps');
ok($fig->{fanout_clients} == 200 && $fig->{events_stored} > 0,
    'all 200 subscribers of the fan-out run connected; events stored');
