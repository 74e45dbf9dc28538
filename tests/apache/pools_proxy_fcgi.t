#!/usr/bin/env perl
# integration/pools.t under Apache with mod_proxy_fcgi: the program started
# apart, once on the API's socket and once on the webhooks'.
use strict;
use warnings;
use FindBin;
$ENV{MAILHOOKS_TEST_SERVER} = 'apache';
$ENV{MAILHOOKS_TEST_PROXY_FCGI} = 1;
do "$FindBin::Bin/../integration/pools.t";
die $@ if $@;
