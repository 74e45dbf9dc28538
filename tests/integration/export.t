#!/usr/bin/env perl
# GET /api/events.csv and /api/events.ndjson: every event the filters of
# /api/events keep, oldest first, whole (past any page size), as RFC 4180
# CSV (quotes doubled, line breaks and commas quoted, a formula led by a
# quote mark) and as NDJSON equal to what /api/events gives; a download;
# HEAD; a bad filter a clear 400; who may.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new;
my @batch = map { Stack::event(type => $_ % 3 ? 'send' : 'open', id => "x-$_",
    email => "r$_\@example.com", subject => "Issue $_", ts => 1700000000 + $_) }
    1 .. 1200;
my $odd = Stack::event(type => 'click', id => 'x-odd', email => 'odd@example.com',
    subject => "=HYPERLINK(\"http://evil\"), \"quoted\"\nnext line",
    ts => 1700009999);
$odd->{url} = 'https://example.com/a,b';
$odd->{msg}{tags} = [ 'weekly', 'vip' ];
is($s->post_mandrill([ @batch[0 .. 599] ])->{status}, 200, '600 events posted')
    or diag $s->post_mandrill([ $batch[0] ])->{content};
is($s->post_mandrill([ @batch[600 .. 1199], $odd ])->{status}, 200, 'and 601');
$s->wait_events(1201);

my $r = $s->get('/api/events.csv');
is($r->{status}, 200, 'CSV: 200');
like($r->{headers}{'content-type'}, qr{^text/csv}, 'as text/csv');
like($r->{headers}{'content-disposition'}, qr/attachment; filename="events\.csv"/,
    'a download named events.csv');
my $csv = $r->{content};
my @lines = split /\r\n/, $csv;
is($lines[0], 'seq,received_at,time,provider,type,email,subject,message_id,url,tags,city,country',
    'its header');
is(scalar(grep { /^\d+,/ } @lines), 1201, 'every event, past a page of 1000');
like($lines[1], qr/^1,[^,]+,2023-11-14T22:13:21\.000Z,mandrill,send,r1\@example\.com,Issue 1,x-1,/,
    'the oldest first, its values in their columns');
like($csv, qr/,"'=HYPERLINK\(""http:\/\/evil""\), ""quoted""\nnext line",/,
    'a formula led by a quote mark, quotes doubled, the line break quoted');
like($csv, qr/,"https:\/\/example\.com\/a,b",weekly vip,/, 'a comma quoted; the tags');

$r = $s->get('/api/events.ndjson?type=open');
is($r->{status}, 200, 'NDJSON: 200');
like($r->{headers}{'content-type'}, qr{^application/x-ndjson}, 'as application/x-ndjson');
my @nd = map { decode_json($_) } grep { length } split /\n/, $r->{content};
is(scalar @nd, 400, 'the filter of /api/events kept: 400 opens');
is(scalar(grep { $_->{type} ne 'open' } @nd), 0, 'opens only');
my (undef, $page) = $s->get_json('/api/events?type=open&after=0&limit=3');
is_deeply([ @nd[0 .. 2] ], $page->{events}, 'each line as /api/events gives it');

$r = $s->get('/api/events.csv?email=odd@example.com');
is(scalar(grep { /^\d+,/ } split /\r\n/, $r->{content}), 1, 'filtered by recipient');
$r = $s->get('/api/events.csv?type=nope');
is($r->{status}, 400, 'an unknown type: 400');
is(eval { decode_json($r->{content})->{error} }, 'bad_parameter', 'said in JSON');
$r = $s->{http}->request('HEAD', $s->url('/api/events.csv'),
    { headers => { Cookie => $s->{cookie} } });
is($r->{status}, 200, 'HEAD: 200');
is($r->{content} // '', '', 'and no body');
is($s->get_anon('/api/events.ndjson')->{status}, 401, 'nobody: 401');
done_testing;
