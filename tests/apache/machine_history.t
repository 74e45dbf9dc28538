#!/usr/bin/env perl
# The integration test of the same name, under Apache with mod_fcgid.
use strict;
use warnings;
use FindBin;
$ENV{MAILHOOKS_TEST_SERVER} = 'apache';
my $test = "$FindBin::Bin/../integration/$FindBin::Script";
do $test;
die $@ if $@;
