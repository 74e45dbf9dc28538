#!/usr/bin/env perl
# Behind a proxy that ends TLS (the browser on https://mail.example.com,
# the program reached over plain HTTP), MAILHOOKS_PUBLIC_URL names the
# site: its origin is the one the same-site check wants, the session
# cookie is Secure, the relay takes the page's WebSocket, and Mandrill's
# signature is checked against that URL. Without it, the browser's https
# Origin is another site's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use Test::More;

my $public = 'https://mail.example.com';
my $key = 'public-url-key';
my $s = Stack->new(env => { MAILHOOKS_PUBLIC_URL => $public,
    MANDRILL_WEBHOOK_KEY => $key });

# Stack->new signed in with the public origin already.
ok($s->{cookie}, 'signed in from a page on the public https origin');
my $r = $s->sign_in(undef, undef, keep => 0);
is($r->{status}, 200, 'the sign-in is a 200');
like($r->{headers}{'set-cookie'} // '', qr/;\s*Secure/i, 'its cookie is Secure');
$r = $s->send_json('POST', '/api/tokens', { name => 'p', scopes => ['events:read'] });
is($r->{status}, 201, 'a change from the public origin is taken');
$r = $s->send_json('POST', '/api/tokens', { name => 'q', scopes => ['events:read'] },
    Origin => "http://127.0.0.1:${\ $s->port}");
is($r->{status}, 403, 'the address the proxy reaches is not the site');
$r = $s->send_json('POST', '/api/tokens', { name => 'q', scopes => ['events:read'] },
    Origin => 'http://mail.example.com');
is($r->{status}, 403, 'nor is the public host over plain http');

# Mandrill signs the URL it was given: the public one.
my $ev = [Stack::event(id => 'behind-tls')];
$r = $s->post_mandrill($ev, key => $key, url => "$public/webhooks/mandrill");
is($r->{status}, 200, 'a webhook signed for the public URL is taken');
$r = $s->post_mandrill($ev, key => $key);
is($r->{status}, 403, 'one signed for the address the proxy reaches is not');
$r = $s->post_mandrill($ev, key => $key, path => '/webhooks/mandrill?x=1',
    url => "$public/webhooks/mandrill?x=1");
is($r->{status}, 200, 'the query the provider was given counts');

# The relay: the page's WebSocket from the public origin.
my $ticket = $s->ws_ticket;
my $ws = $s->ws_client(ticket => $ticket, origin => $public);
ok($ws->wait_connected, 'the WebSocket opens from the public origin');

# Without the setting the same browser is another site.
my $plain = Stack->new;
$r = $plain->send_json('POST', '/api/tokens', { name => 'p', scopes => ['events:read'] },
    Origin => $public);
is($r->{status}, 403, 'without MAILHOOKS_PUBLIC_URL the https origin is refused');
unlike($plain->sign_in(undef, undef, keep => 0)->{headers}{'set-cookie'} // '',
    qr/Secure/i, 'and the cookie over plain http is not Secure');

done_testing;
