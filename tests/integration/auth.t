#!/usr/bin/env perl
# Accounts and access control, through the web server: every route the
# description protects is a 401 to nobody and answers a session and a
# token of its scope; a wrong scope or role is a 403; a change with the
# session cookie from another site's page is a 403; signing out, disabling
# a user or changing its password ends its sessions at once; failed
# sign-ins slow down; the WebSocket takes only a good ticket, once, from
# the site's own pages. Under Apache, REMOTE_USER counts when trusted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use Digest::SHA qw(hmac_sha256);
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use Test::More;
use Time::HiRes qw(sleep time);

my $s = Stack->new;
my $home = $s->home;
my $spec = decode_json(do { local (@ARGV, $/) = "$Stack::ROOT/www/openapi.json"; <> });

# A route's path with its parameter filled in.
sub concrete { my ($p) = @_; $p =~ s/\{[^}]+\}/nothing-here/g; $p }

# Requests as a client that is none of the stack's: no cookie, or these
# headers only.
sub request {
	my ($method, $path, %h) = @_;
	my $body = delete $h{body};
	my $r = $s->{http}->request($method, $s->url($path), { headers => \%h,
	    (defined $body ? (content => $body) : ()) });
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}

# --- Nobody: every protected operation is a 401 with a JSON error.
my @protected;
for my $path (sort keys %{ $spec->{paths} }) {
	for my $m (sort keys %{ $spec->{paths}{$path} }) {
		my $op = $spec->{paths}{$path}{$m};
		next unless ref $op eq 'HASH' && $op->{security} &&
		    grep { exists $_->{session} } @{ $op->{security} };
		next if $path eq '/api/session';
		push @protected, [uc $m, $path, $op];
	}
}
cmp_ok(scalar @protected, '>=', 9, 'the description protects the API');
for my $p (@protected) {
	my ($m, $path) = @$p;
	my $r = request($m, concrete($path), 'Content-Type' => 'application/json',
	    body => $m eq 'GET' ? undef : '{}');
	is($r->{status}, 401, "$m $path: 401 to nobody");
	is($r->{json}{error}, 'unauthorized', "$m $path: a JSON error");
}
my $r = request('GET', '/api/health');
is_deeply($r->{json}, { status => 'ok' }, 'health tells nobody only that it is up');
($r) = $s->get_json('/api/health');
ok(defined((($s->get_json('/api/health'))[1])->{last_seq}), 'and a signed-in user more');

# --- A session of each role; the admin's works everywhere.
is(($s->admin_with_password('viewer-password', qw(user add vera)))[0], 0,
    'a viewer is added');
my $admin = $s->{cookie};
my $vera = $s->sign_in('vera', 'viewer-password', keep => 0);
is($vera->{status}, 200, 'the viewer signs in');
is_deeply($vera->{json}, { user => 'vera', role => 'viewer', via => 'session' },
    'answered with who and what');
like($vera->{headers}{'set-cookie'}, qr/^mh_session=[A-Za-z0-9_-]{43}; /,
    'a session id of 256 bits in the cookie');
like($vera->{headers}{'set-cookie'}, qr/HttpOnly/, 'HttpOnly');
like($vera->{headers}{'set-cookie'}, qr/SameSite=Strict/, 'SameSite=Strict');
like($vera->{headers}{'set-cookie'}, qr/Path=\//, 'for the whole site');
my $vc = $vera->{cookie};
for my $p (@protected) {
	my ($m, $path, $op) = @$p;
	my $admin_only = !grep { exists $_->{bearerToken} } @{ $op->{security} };
	next if $m ne 'GET';
	my $as_admin = $s->get(concrete($path));
	isnt($as_admin->{status}, 401, "GET $path: the admin's session answers");
	my $as_vera = $s->get(concrete($path), Cookie => $vc);
	my $scoped = (grep { exists $_->{bearerToken} } @{ $op->{security} })[0];
	my $needs = $scoped ? join(',', @{ $scoped->{bearerToken} }) : '';
	if ($admin_only || $needs eq 'metrics:read') {
		is($as_vera->{status}, 403, "GET $path: 403 to a viewer");
	} else {
		isnt($as_vera->{status}, 401, "GET $path: a viewer's session answers");
		isnt($as_vera->{status}, 403, "GET $path: a viewer may read it");
	}
}
$r = $s->send_json('POST', '/api/test-event', {}, Cookie => $vc);
is($r->{status}, 403, 'a viewer may not post a test event');
$r = $s->send_json('POST', '/api/tokens', { name => 'x', scopes => ['events:read'] },
    Cookie => $vc);
is($r->{status}, 403, 'nor make a token');

# --- Tokens: made by the admin tool and by the API, each of its scopes.
my ($rc, $out) = $s->admin(qw(token add reader --scope events:read));
is($rc, 0, 'mailhooks-db token add');
chomp(my $reader = $out);
like($reader, qr/^mhk_[A-Za-z0-9_-]{43}$/, 'prints the token, with its prefix');
$r = $s->send_json('POST', '/api/tokens',
    { name => 'scraper', scopes => ['metrics:read'] });
is($r->{status}, 201, 'POST /api/tokens by the admin');
my $scraper = $r->{json}{token};
like($scraper // '', qr/^mhk_/, 'answers the token once');
$r = $s->send_json('POST', '/api/tokens', { name => 'scraper', scopes => 'events:read' });
is($r->{status}, 409, 'a name taken: 409');
$r = $s->send_json('POST', '/api/tokens', { name => 'bad', scopes => ['root'] });
is($r->{status}, 400, 'a scope that is none: 400');
my $list = $s->get('/api/tokens');
my @names = sort map { $_->{name} } @{ decode_json($list->{content})->{tokens} };
is_deeply(\@names, ['reader', 'scraper'], 'GET /api/tokens lists both');
unlike($list->{content}, qr/mhk_/, 'never their text');
ok(!grep({ index($_, $reader) >= 0 } map { `cat $_` } glob("$home/db/*.db")),
    'no database file holds a token');
my %bearer = (reader => "Bearer $reader", scraper => "Bearer $scraper");
is(request('GET', '/api/events', Authorization => $bearer{reader})->{status}, 200,
    'events:read reads the events');
is(request('GET', '/metrics', Authorization => $bearer{reader})->{status}, 403,
    'but not the metrics');
is(request('GET', '/metrics', Authorization => $bearer{scraper})->{status}, 200,
    'metrics:read reads the metrics');
is(request('GET', '/api/events', Authorization => $bearer{scraper})->{status}, 403,
    'but not the events');
is(request('GET', '/api/tokens', Authorization => $bearer{reader})->{status}, 403,
    'a token never has the admin role');
$r = request('POST', '/api/ws-tickets', Authorization => $bearer{reader},
    'Content-Type' => 'application/json', body => '{"count":3}');
is($r->{status}, 201, 'a token may ask for tickets, without an Origin');
is(scalar @{ $r->{json}{tickets} // [] }, 3, 'as many as asked');
(my $flipped = $reader) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;
is(request('GET', '/api/events', Authorization => "Bearer $flipped")->{status}, 401,
    'a token one character off: 401');
is(request('GET', '/api/events', Authorization => 'Bearer mhk_short')->{status}, 401,
    'a token of the wrong shape: 401');
($rc) = $s->admin(qw(token revoke reader));
is($rc, 0, 'mailhooks-db token revoke');
is(request('GET', '/api/events', Authorization => $bearer{reader})->{status}, 401,
    'revoked: 401 at once');
is($s->send_json('DELETE', '/api/tokens/scraper', undef)->{status}, 200,
    'DELETE /api/tokens/{name}');
is(request('GET', '/metrics', Authorization => $bearer{scraper})->{status}, 401,
    'revoked through the API: 401 at once');
is($s->send_json('DELETE', '/api/tokens/scraper', undef)->{status}, 404,
    'revoking it again: 404');

# --- CSRF: a change with the cookie must come from a page of the site.
my %make = (name => 'csrf', scopes => ['events:read']);
$r = $s->send_json('POST', '/api/tokens', \%make, Origin => 'http://evil.example');
is($r->{status}, 403, 'another site\'s Origin: 403');
$r = $s->send_json('POST', '/api/tokens', \%make, Origin => '');
is($r->{status}, 403, 'no Origin and no Referer: 403');
$r = $s->send_json('POST', '/api/tokens', \%make, Origin => '',
    Referer => 'http://evil.example/' . $s->url('/'));
is($r->{status}, 403, 'another site\'s Referer: 403');
$r = $s->send_json('POST', '/api/tokens', \%make, Origin => 'null');
is($r->{status}, 403, 'an opaque Origin: 403');
@names = map { $_->{name} } @{ decode_json($s->get('/api/tokens')->{content})->{tokens} };
ok(!grep({ $_ eq 'csrf' } @names), 'none of them made a token');
$r = $s->send_json('POST', '/api/tokens', \%make, Origin => '',
    Referer => $s->url('/?type=open'));
is($r->{status}, 201, 'the site\'s own Referer is enough');
$r = $s->send_json('POST', '/api/tokens', { name => 'form', scopes => 'events:read' },
    'Content-Type' => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'never a form post');
# A route that takes no body: another site's form still posts one.
$r = $s->send_json('POST', '/api/notifications/admin/read-all', 'a=1',
    'Content-Type' => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'a form post to a route without a body: 415');
$r = $s->send_json('POST', '/api/notifications/admin/read-all', '',
    'Content-Type' => 'text/plain');
is($r->{status}, 415, 'an empty text/plain post: 415');
$r = $s->send_json('POST', '/api/notifications/admin/read-all', undef,
    'Content-Type' => '');
is($r->{status}, 200, 'with no body and no type named: done');
$r = $s->send_json('POST', '/api/session', { user => 'admin', password => 'x' x 9 },
    Origin => 'http://evil.example', Cookie => '');
is($r->{status}, 403, 'another site cannot sign its visitor in');

# --- Bad sign-ins: each a clear 4xx, nothing made.
for my $case (['{"user":"","password":"abcdefgh"}', 400, 'an empty user name'],
    ['{"user":"admin","password":""}', 400, 'an empty password'],
    ['{"user":"' . ('a' x 65) . '","password":"abcdefgh"}', 400, 'a user name too long'],
    ['{"user":"admin","password":"' . ('p' x 1025) . '"}', 400, 'a password too long'],
    ['{"user":"a b","password":"abcdefgh"}', 400, 'a user name with a space'],
    ['{"user":7,"password":"abcdefgh"}', 400, 'a user name not a string'],
    ['not json', 400, 'not JSON'],
    ['["admin","x"]', 400, 'not an object'],
    ['{"user":"admin","password":"' . ('p' x 5000) . '"}', 413, 'a body too large']) {
	$r = $s->send_json('POST', '/api/session', $case->[0], Cookie => '');
	is($r->{status}, $case->[1], "$case->[2]: $case->[1]");
	ok(!$r->{headers}{'set-cookie'}, "$case->[2]: no session");
}
for my $cookie ('mh_session=' . ('A' x 43), 'mh_session=short', 'mh_session=',
    "mh_session=$admin; mh_session=x") {
	is(request('GET', '/api/events', Cookie => $cookie)->{status}, 401,
	    "a cookie $cookie: 401");
}

# --- Sessions end at once: signing out, disabling, a new password.
my $carl_pw = 'carl-password';
is(($s->admin_with_password($carl_pw, qw(user add carl)))[0], 0, 'carl is added');
my $carl = $s->sign_in('carl', $carl_pw, keep => 0)->{cookie};
is($s->get('/api/events', Cookie => $carl)->{status}, 200, 'carl reads');
$r = $s->send_json('DELETE', '/api/session', undef, Cookie => $carl);
is($r->{status}, 200, 'carl signs out');
like($r->{headers}{'set-cookie'}, qr/^mh_session=; Max-Age=0/, 'the cookie is cleared');
is($s->get('/api/events', Cookie => $carl)->{status}, 401, 'that session is over');
is($s->get('/api/session', Cookie => $carl)->{status}, 401, 'nobody is signed in');
$carl = $s->sign_in('carl', $carl_pw, keep => 0)->{cookie};
$s->admin(qw(user disable carl));
is($s->get('/api/events', Cookie => $carl)->{status}, 401, 'disabled: over at once');
is($s->sign_in('carl', $carl_pw, keep => 0)->{status}, 401, 'and no new one');
$s->admin(qw(user enable carl));
$carl = $s->sign_in('carl', $carl_pw, keep => 0)->{cookie};
$s->admin_with_password('carl-new-password', qw(user passwd carl));
is($s->get('/api/events', Cookie => $carl)->{status}, 401,
    'a new password: over at once');
$carl = $s->sign_in('carl', 'carl-new-password', keep => 0)->{cookie};
$s->admin(qw(user del carl));
$s->admin_with_password('carl-new-password', qw(user add carl));
is($s->get('/api/events', Cookie => $carl)->{status}, 401,
    'deleted and made again: the old session is not the new user\'s');

# --- A user's sessions are capped at 20: a sign-in past them ends the
# oldest (one viewer made 13 500 in three minutes).
# (Oldest by the second a session began: three, then twenty a second on.)
my @many = map { $s->sign_in('carl', 'carl-new-password', keep => 0)->{cookie} }
    1 .. 3;
sleep 1.1;
push @many, map { $s->sign_in('carl', 'carl-new-password', keep => 0)->{cookie} }
    1 .. 20;
my @live = map { $s->get('/api/events', Cookie => $_)->{status} } @many;
is_deeply([@live[0 .. 2]], [401, 401, 401], 'the three oldest of 23 sessions ended');
is(scalar(grep { $_ == 200 } @live[3 .. 22]), 20, 'the newest 20 live') or diag "@live";
is($s->get('/api/events')->{status}, 200, 'another user\'s session is left alone');

# --- The WebSocket: a good ticket once, from the site's own pages.
my $ws = $s->ws_client(types => 'all', count => 1);
ok($ws, 'a good ticket subscribes');
is($s->post_mandrill([Stack::event(id => 'seen-live')])->{status}, 200, 'an open');
is($ws->wait, 0, 'is pushed to it');
# Whether a subscription with these options is refused: the handshake
# fails rather than the client saying it connected (a loaded Apache may
# take its time to answer either way).
sub refused {
	my (%o) = @_;
	my $c = $s->ws_client(types => 'all', count => 1, timeout => 15,
	    no_wait => 1, %o);
	$c->wait;
	open my $fh, '<', "$c->{out}.err" or die;
	my $err = do { local $/; <$fh> } // '';
	diag $err if $ENV{TEST_VERBOSE};
	return $err =~ /connection failed/ && $err !~ /^connected$/m;
}
ok(refused(ticket => undef), 'no ticket: refused');
ok(refused(ticket => 'x.y'), 'a ticket that is none: refused');
my $t = $s->ws_ticket;
my ($payload, $mac) = split /\./, $t;
(my $tampered = $payload) =~ s/^(.)/$1 eq 'd' ? 'e' : 'd'/e;
ok(refused(ticket => "$tampered.$mac"), 'a ticket with one bit changed: refused');
ok(refused(ticket => $t, origin => 'http://evil.example'),
    'another site\'s page: refused');
my $once = $s->ws_ticket;
my $first = $s->ws_client(types => 'all', count => 1, ticket => $once);
ok($first, 'a ticket used once');
ok(refused(ticket => $once), 'used again: refused');
# Tickets the key signs, made here as the program would: expired, or for
# another channel.
open my $kf, '<:raw', "$home/ticket.key" or die;
my $key = do { local $/; <$kf> };
is(length $key, 32, 'the ticket key is 256 bits');
is((stat "$home/ticket.key")[2] & 0777, 0600, 'readable by its owner alone');
sub ticket {
	my ($user, $channels, $expires) = @_;
	$expires = int $expires;
	my $p = encode_base64url("v1\n$user\nadmin\n$channels\n$expires\n"
	    . join('', map { sprintf '%02x', int rand 256 } 1 .. 16));
	return "$p." . encode_base64url(hmac_sha256($p, $key));
}
ok(!refused(ticket => ticket('admin', 'events', time + 30), timeout => 3),
    'a ticket signed with the key subscribes (the format is as described)');
ok(refused(ticket => ticket('admin', 'events', time - 5)), 'an expired ticket: refused');
ok(refused(ticket => ticket('admin', 'user:admin', time + 30)),
    'a ticket for another channel: refused');
my $h = $s->raw("GET /ws?ticket=x.y HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
is($h->{status}, 401, 'a refused handshake is a 401, not an upgrade');
is($h->{json}{error}, 'unauthorized', 'with a JSON error');

# --- Failed sign-ins slow down, per address and per user from an address,
# and never say whether the user exists. From an address of their own (127.0.0.7), so
# that the rest of the test is not slowed.
my $far = HTTP::Tiny->new(local_address => '127.0.0.7', timeout => 30);
sub try_sign_in {
	my ($user, $pw, $http) = @_;
	my $r = ($http // $far)->request('POST', $s->url('/api/session'), {
	    headers => { 'Content-Type' => 'application/json', $s->origin },
	    content => encode_json({ user => $user, password => $pw }) });
	$r->{json} = eval { decode_json($r->{content}) };
	return $r;
}
my $unknown = try_sign_in('nobody-at-all', 'whatever-1');
my $wrong = try_sign_in('vera', 'whatever-1');
is($unknown->{status}, 401, 'an unknown user: 401');
is_deeply($unknown->{json}, $wrong->{json}, 'the same answer as a wrong password');
try_sign_in('vera', 'whatever-1') for 1 .. 3;
$r = try_sign_in('vera', 'viewer-password');
is($r->{status}, 429, 'after 5 failures from an address even the right password waits');
like($r->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/, 'told how long (Retry-After)');
is($r->{json}{error}, 'too_many_attempts', 'with a JSON error');
is(try_sign_in('someone-else', 'whatever-1')->{status}, 429,
    'the address waits too, for any user');
my $other = HTTP::Tiny->new(local_address => '127.0.0.8');
try_sign_in('vera', 'whatever-1', $other) for 1 .. 4;
is(try_sign_in('vera', 'whatever-1', $other)->{status}, 401,
    'another address may try for the user (its own five failures)');
is(try_sign_in('vera', 'viewer-password', $other)->{status}, 429,
    'then it waits for that user');
# Nobody can lock a user out: ten failures from two addresses, and the
# right password from an address with none gets in.
is(try_sign_in('vera', 'viewer-password', HTTP::Tiny->new(local_address => '127.0.0.9'))
    ->{status}, 200, 'the right password from a clean address gets in');
$r = try_sign_in('vera', 'viewer-password');
sleep(($r->{headers}{'retry-after'} // 0) + 0.2);
is(try_sign_in('vera', 'whatever-1')->{status}, 401, 'after the wait: one more try');
$r = try_sign_in('vera', 'viewer-password');
is($r->{status}, 429, 'then the wait doubles');
like($r->{headers}{'retry-after'} // '', qr/^[12]$/,
    'said so (what is left of 2 s, in whole seconds)');

# --- Logged: each sign-in, failure and sign-out, with user and address;
# never a password.
my $log = $s->log;
like($log, qr/sign-in user=vera addr=127\.0\.0\.1/, 'a sign-in is logged');
like($log, qr/sign-in failed user=vera addr=127\.0\.0\.7/, 'a failure');
like($log, qr/sign-out user=carl addr=127\.0\.0\.1/, 'a sign-out');
unlike($log, qr/viewer-password|carl-password|\Q$reader\E/, 'no password or token');
(my $session_id = $vc) =~ s/^mh_session=//;
unlike($log, qr/\Q$session_id\E/, 'no session id');
unlike($log, qr/\Q$payload\E/, 'no ticket');

# --- Under Apache: the web server's user, when trusted.
SKIP: {
	skip 'REMOTE_USER is the Apache variant\'s', 10 unless Stack::server() eq 'apache';
	my $pwfile = "$home/htpasswd";
	system('htpasswd', '-bc', $pwfile, 'hank', 'hank-password') == 0 or die;
	system('htpasswd', '-b', $pwfile, 'vera', 'other-password') == 0 or die;
	chmod 0644, $pwfile;
	my $b = Stack->new(auth => 'hank:hank-password', env => {
	    MAILHOOKS_HTPASSWD => $pwfile, MAILHOOKS_TRUST_REMOTE_USER => 1,
	    MAILHOOKS_REMOTE_USER_CREATE => 1 });
	delete $b->{cookie};	# the admin's session the stack began
	my ($st, $who) = $b->get_json('/api/session');
	is($st, 200, 'a user the web server authenticated');
	is_deeply($who, { user => 'hank', role => 'viewer', via => 'remote_user' },
	    'is a viewer made on first sight');
	my $nobody = HTTP::Tiny->new->get($b->url('/api/events'));
	is($nobody->{status}, 401, 'without credentials the web server refuses');
	my $plain = Stack->new(auth => 'hank:hank-password',
	    env => { MAILHOOKS_HTPASSWD => $pwfile });
	delete $plain->{cookie};
	($st) = $plain->get_json('/api/events');
	is($st, 401, 'not trusted unless told: REMOTE_USER is ignored');
	($st) = $plain->get_json('/api/health');
	is($st, 200, 'the public routes answer');
	is($plain->post_mandrill([Stack::event(id => 'behind-auth')])->{status}, 200,
	    'and the webhooks stay public');

	# The web server's credentials are ambient as a cookie is: another
	# site's page cannot change anything with them.
	my $r = $b->send_json('POST', '/api/notifications/hank/read-all', 'a=1',
	    Origin => 'http://evil.example',
	    'Content-Type' => 'application/x-www-form-urlencoded');
	is($r->{status}, 403, 'REMOTE_USER: another site\'s form post is a 403');
	$r = $b->send_json('POST', '/api/notifications/hank/read-all', undef,
	    Origin => 'http://evil.example', 'Content-Type' => '');
	is($r->{status}, 403, 'and so is its bodiless fetch');
	$r = $b->send_json('POST', '/api/notifications/hank/read-all', 'a=1',
	    'Content-Type' => 'application/x-www-form-urlencoded');
	is($r->{status}, 415, 'a form post from the site itself: 415');
	$r = $b->send_json('POST', '/api/notifications/hank/read-all', undef,
	    'Content-Type' => '');
	is($r->{status}, 200, 'the site\'s own request: done');
}

done_testing;
