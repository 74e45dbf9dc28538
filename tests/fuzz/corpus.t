#!/usr/bin/perl
# Each fuzz target over its kept corpus, every input once: a crash that
# make fuzz found once, and whose input was kept here, stays fixed.
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More;

my $dir = abs_path(dirname(__FILE__));
my @targets = map { m{/(\w+)\.c$} ? $1 : () } glob("$dir/*.c");
ok(@targets >= 9, scalar(@targets) . ' fuzz targets');
for my $t (@targets) {
	my @inputs = glob("$dir/corpus/$t/*");
	ok(@inputs > 0, "$t: a corpus to start from");
	my $out = `$dir/$t.fuzz -runs=0 $dir/corpus/$t 2>&1`;
	my $rc = $? >> 8;
	is($rc, 0, "$t: every input of its corpus runs clean") or diag $out;
	like($out, qr/INITED|DONE/, "$t: the corpus was read") or diag $out;
}
done_testing;
