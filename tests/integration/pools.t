#!/usr/bin/env perl
# The webhooks have FastCGI processes of their own: with every process that
# answers the API frozen (as four viewers' long reads would hold them), a
# webhook is still acknowledged at once, and its events are stored. Under
# lighttpd, Apache's mod_fcgid, and (tests/apache/pools_proxy_fcgi.t) its
# mod_proxy_fcgi.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use Test::More;
use Time::HiRes qw(time);

my $key = 'pools-key';
my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => $key,
    MAILHOOKS_APACHE_PROXY_FCGI => $ENV{MAILHOOKS_TEST_PROXY_FCGI} // 0 });
is(($s->get_json('/api/events'))[0], 200, 'the API answers');
my @api = $s->api_pids;
ok(scalar @api, scalar(@api) . ' processes answer the API');
kill 'STOP', @api;
my $t0 = time;
my $r = $s->post_mandrill([ map { Stack::event(id => "pool-$_") } 1 .. 100 ],
    key => $key);
my $took = time - $t0;
is($r->{status}, 200, 'a webhook with every API process stopped: 200')
    or diag $r->{content};
cmp_ok($took, '<', 5, sprintf('answered in %.2f s', $took));
kill 'CONT', @api;
is(scalar($s->wait_events(100)), 100, 'its events are stored');
done_testing;
