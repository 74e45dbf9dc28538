#!/usr/bin/env perl
# Users' notifications through the web server: stored one at a time or in
# batches (all or none), retried safely with an Idempotency-Key, listed
# with cursors and filters, each user seeing only their own, marked read
# and unread with the unread count in every answer, and bad input refused
# with nothing stored.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $s = Stack->new;

sub post { $s->post_json('/api/notifications', @_) }
sub status_of { my ($st) = list(@_); $st }
sub list {
	my ($path, %h) = @_;
	my $r = $s->get($path, %h);
	return ($r->{status}, eval { decode_json($r->{content}) });
}

# --- One, as the seed sends it: the user's id a number.
my $r = post({ title => 'New Message Received', description => 'From John',
    identifier => 'MESSAGE', user_id => 123 });
is($r->{status}, 201, 'one notification stored: 201');
my $first = $r->{json};
ok($first->{id} >= 1, 'with its id');
is($first->{user_id}, '123', 'a number for user_id is kept as its decimal text');
is($first->{read_at}, undef, 'unread');
like($first->{created_at} // '', qr/^\d{4}-\d\d-\d\dT/, 'with when');

# --- A batch: all or none.
my @batch = map { { title => "note $_", identifier => ($_ % 2 ? 'ODD' : 'EVEN'),
    user_id => 'alice', link => "/?message=m$_", data => { n => $_ } } } 1 .. 5;
$r = post({ notifications => [ @batch, { title => 'bad', user_id => 'alice' } ] });
is($r->{status}, 400, 'a batch with one bad notification: 400');
like($r->{json}{detail} // '', qr/notifications\[5\].*identifier/, 'naming it');
my ($st, $page) = list('/api/notifications/alice');
is(scalar @{ $page->{notifications} }, 0, 'and none of the batch was stored');
$r = post({ notifications => \@batch });
is($r->{status}, 201, 'the batch without it: 201');
my @ids = map { $_->{id} } @{ $r->{json}{notifications} };
is(scalar @ids, 5, 'five stored');
is_deeply(\@ids, [ map { $ids[0] + $_ } 0 .. 4 ], 'with increasing ids');
is($r->{json}{notifications}[4]{data}{n}, 5, 'their data as sent');

# --- Idempotency: a retry gets the first answer, stores nothing again.
my $body = { title => 'pay', identifier => 'BILL', user_id => 'bob' };
$r = post($body, 'Idempotency-Key' => 'order-77');
is($r->{status}, 201, 'with an Idempotency-Key');
my $again = post($body, 'Idempotency-Key' => 'order-77');
is($again->{status}, 201, 'the same request again: 201');
is($again->{headers}{'idempotent-replayed'}, 'true', 'said to be a replay');
is_deeply($again->{json}, $r->{json}, 'the first answer, the same id');
($st, $page) = list('/api/notifications/bob');
is(scalar @{ $page->{notifications} }, 1, 'stored once');
$r = post({ %$body, title => 'other' }, 'Idempotency-Key' => 'order-77');
is($r->{status}, 422, 'the key with another body: 422');
is($r->{json}{error}, 'idempotency_key_reused', 'with a JSON error');
is(post($body, 'Idempotency-Key' => 'bad key!')->{status}, 400,
    'a malformed key: 400');

# --- Listing: cursors, filters, the unread count.
($st, $page) = list('/api/notifications/alice?limit=2');
is($st, 200, 'a user\'s, a page of 2');
is_deeply([ map { $_->{id} } @{ $page->{notifications} } ], [ @ids[4, 3] ],
    'newest first');
is($page->{unread}, 5, 'with the unread count');
ok($page->{more}, 'more to come');
($st, $page) = list("/api/notifications/alice?limit=2&before=$page->{next_before}");
is_deeply([ map { $_->{id} } @{ $page->{notifications} } ], [ @ids[2, 1] ],
    'the next page');
($st, $page) = list("/api/notifications/alice?after=$ids[1]");
is_deeply([ map { $_->{id} } @{ $page->{notifications} } ], [ @ids[2 .. 4] ],
    'after a cursor: oldest first, for a catch-up');
($st, $page) = list('/api/notifications?identifier=odd');
is_deeply([ sort map { $_->{id} } @{ $page->{notifications} } ],
    [ sort @ids[0, 2, 4] ], 'by identifier, without case');
is(status_of('/api/notifications?unread=2'), 400, 'unread is 1 or nothing');

# --- Marking read and unread.
$r = $s->send_json('PUT', "/api/notifications/$ids[0]", undef);
is($r->{status}, 200, 'PUT marks read');
ok($r->{json}{notification}{read_at}, 'read_at is set');
is($r->{json}{unread}, 4, 'the unread count follows');
($st, $page) = list('/api/notifications/alice?unread=1');
is(scalar @{ $page->{notifications} }, 4, 'unread=1 leaves it out');
$r = $s->send_json('PUT', "/api/notifications/$ids[0]", { read => JSON::PP::false });
is($r->{json}{notification}{read_at}, undef, '{"read": false}: unread again');
is($r->{json}{unread}, 5, 'counted again');
is($s->send_json('PUT', "/api/notifications/$ids[0]", { read => 'yes' })->{status},
    400, 'read is a boolean');
is($s->send_json('PUT', '/api/notifications/999999', undef)->{status}, 404,
    'an unknown id: 404');
$r = $s->send_json('POST', "/api/notifications/alice/read-all?before=$ids[3]", '');
is($r->{status}, 200, 'read-all before an id');
is_deeply($r->{json}, { read => 3, unread => 2 }, 'marks the older ones');
$r = $s->send_json('POST', '/api/notifications/alice/read-all', '');
is_deeply($r->{json}, { read => 2, unread => 0 }, 'then all');
$r = $s->send_json('DELETE', "/api/notifications/$ids[4]", undef);
is_deeply($r->{json}, { deleted => $ids[4], unread => 0 }, 'DELETE');
is($s->send_json('DELETE', "/api/notifications/$ids[4]", undef)->{status}, 404,
    'deleting it again: 404');

# --- Privacy: a viewer sees and changes their own only; a token needs
# notifications:write to write.
$s->admin_with_password('alice-password', qw(user add alice));
my $alice = $s->sign_in('alice', 'alice-password', keep => 0)->{cookie};
post({ title => 'for alice', identifier => 'X', user_id => 'alice' });
my $bobs = post({ title => 'for bob', identifier => 'X', user_id => 'bob' })->{json}{id};
($st, $page) = list('/api/notifications', Cookie => $alice);
ok(@{ $page->{notifications} } && !grep({ $_->{user_id} ne 'alice' }
    @{ $page->{notifications} }), 'a viewer lists their own only');
is(status_of('/api/notifications/bob', Cookie => $alice), 404,
    'another user\'s list: 404');
is(status_of('/api/notifications?user_id=bob', Cookie => $alice), 404,
    'asked by user_id: 404');
is($s->send_json('PUT', "/api/notifications/$bobs", undef, Cookie => $alice)->{status},
    404, 'another user\'s notification: 404, as if not there');
is($s->send_json('DELETE', "/api/notifications/$bobs", undef, Cookie => $alice)->{status},
    404, 'nor deleted');
is($s->send_json('POST', '/api/notifications/bob/read-all', '', Cookie => $alice)->{status},
    404, 'nor read-all');
($st, $page) = list('/api/notifications/bob');
is($page->{unread}, 2, 'bob\'s are as they were');
is($s->send_json('POST', '/api/notifications', $body, Cookie => $alice)->{status},
    403, 'a viewer may not store notifications');
my (undef, $tok) = $s->admin(qw(token add backend --scope notifications:write));
chomp $tok;
my (undef, $reader) = $s->admin(qw(token add reader --scope events:read));
chomp $reader;
is(post($body, Cookie => '', Origin => '', Authorization => "Bearer $tok")->{status},
    201, 'a token with notifications:write stores them');
is(post($body, Cookie => '', Origin => '', Authorization => "Bearer $reader")->{status},
    403, 'a token without it may not');
is(status_of('/api/notifications/bob', Cookie => '',
    Authorization => "Bearer $reader"), 403, 'nor read others\'');
(undef, my $named) = $s->admin(qw(token add alice --scope events:read));
chomp $named;
is(status_of('/api/notifications', Cookie => '',
    Authorization => "Bearer $named"), 403,
    'a token named as a user is not that user');
is(status_of('/api/notifications', Cookie => ''), 401, 'nobody: 401');

# --- Live, on each user's own channel: only their own, with the unread
# count in every frame.
my $t_alice = $s->sign_in('alice', 'alice-password', keep => 0)->{cookie};
my ($tst, $tk) = list('/api/ws-ticket', Cookie => $t_alice);
ok(grep({ $_ eq 'user:alice' } @{ $tk->{channels} }),
    'a user\'s ticket names their channel');
my $mine = $s->ws_client(path => '/ws/notifications/alice', count => 3,
    ticket => $tk->{ticket});
post({ title => 'to bob', identifier => 'X', user_id => 'bob' });
my $new = post({ title => 'to alice', identifier => 'X', user_id => 'alice' })->{json};
$s->send_json('PUT', "/api/notifications/$new->{id}", undef);
$s->send_json('DELETE', "/api/notifications/$new->{id}", undef);
is($mine->wait, 0, 'alice\'s channel got three frames');
my @frames = $mine->events;
is_deeply([ map { $_->{kind} } @frames ], [qw(notification read deleted)],
    'the new one, its reading, its deletion; nothing of bob\'s');
is($frames[0]{title}, 'to alice', 'the notification itself');
($st, $page) = list('/api/notifications/alice');
is($frames[2]{unread}, $page->{unread}, 'the count in the last frame is the count');
is($frames[1]{unread}, $frames[0]{unread} - 1, 'and it fell when one was read');
($tst, $tk) = list('/api/ws-ticket', Cookie => $t_alice);
my $theirs = $s->ws_client(path => '/ws/notifications/bob', count => 1,
    ticket => $tk->{ticket}, timeout => 15, no_wait => 1);
is($theirs->wait, 1, 'alice\'s ticket does not open bob\'s channel');
$r = $s->post_json('/api/ws-tickets', { user_id => 'bob', count => 2 },
    Cookie => '', Origin => '', Authorization => "Bearer $tok");
is($r->{status}, 201, 'a backend\'s token asks tickets for its user');
is_deeply($r->{json}{channels}, ['user:bob'], 'for that user\'s channel only');
my $bob_ws = $s->ws_client(path => '/ws/notifications/bob', count => 1,
    ticket => $r->{json}{tickets}[0]);
post({ title => 'to bob, live', identifier => 'X', user_id => 'bob' });
is($bob_ws->wait, 0, 'and its client gets bob\'s');
is(($bob_ws->events)[0]{title}, 'to bob, live', 'that one');
is($s->post_json('/api/ws-tickets', { user_id => 'bob' }, Cookie => '',
    Origin => '', Authorization => "Bearer $reader")->{status}, 403,
    'a token without notifications:write asks none');
is($s->post_json('/api/ws-tickets', { user_id => "b,ob" })->{status}, 400,
    'a user_id a ticket cannot name: 400');
# An admin's ticket made for bob is bob's, not a key to every channel.
$r = $s->post_json('/api/ws-tickets', { user_id => 'bob' });
is_deeply($r->{json}{channels}, ['user:bob'], 'an admin asks one for bob');
my $wrong = $s->ws_client(path => '/ws/notifications/alice', count => 1,
    ticket => $r->{json}{tickets}[0], timeout => 15, no_wait => 1);
is($wrong->wait, 1, 'it does not open alice\'s channel');
$r = $s->post_json('/api/ws-tickets', { user_id => 42 });
is($r->{status}, 201, 'a numeric user_id, as notifications take it');
is_deeply($r->{json}{channels}, ['user:42'], 'names user 42');
is($s->post_json('/api/ws-tickets', { user_id => 4.5 })->{status}, 400,
    'a user_id of another type: 400');

# --- A relay restart: what came while it was down is caught up with
# ?after=ID, as the page does on reconnecting.
($st, $page) = list('/api/notifications/alice?limit=1');
my $seen = $page->{notifications}[0]{id};
my ($relay) = $s->pids_named('mailhooks-relay');
kill 'KILL', $relay;
my $while_down = post({ title => 'while the relay was down', identifier => 'X',
    user_id => 'alice' });
is($while_down->{status}, 201, 'stored while the relay is down: 201');
my $deadline = time + 10;
sleep 0.1 while time < $deadline && !grep({ $_ != $relay }
    $s->pids_named('mailhooks-relay'));
my $back = $s->ws_client(path => '/ws/notifications/alice', count => 1,
    ticket => (list('/api/ws-ticket', Cookie => $t_alice))[1]{ticket});
($st, $page) = list("/api/notifications/alice?after=$seen");
is_deeply([ map { $_->{id} } @{ $page->{notifications} } ],
    [ $while_down->{json}{id} ], 'the catch-up after the restart holds it');
post({ title => 'after the restart', identifier => 'X', user_id => 'alice' });
is($back->wait, 0, 'and the channel is live again');

# --- Mail activity: an open or a click of a message whose metadata names a
# user becomes that user's notification, in the transaction that stores
# the event: once, however often the batch is retried.
my $carol_ws = $s->ws_client(path => '/ws/notifications/carol', count => 2,
    ticket => $s->ws_ticket);
my @mail = (Stack::event(id => 'inv-1', email => 'dave@example.com',
    subject => 'Your invoice'), Stack::event(id => 'inv-1', type => 'click',
    email => 'dave@example.com', subject => 'Your invoice', ts => 1700000100),
    Stack::event(id => 'inv-2', type => 'send'));
$_->{msg}{metadata} = { user_id => 'carol' } for @mail;
is($s->post_mandrill(\@mail)->{status}, 200, 'a batch with carol\'s mail');
is($s->post_mandrill(\@mail)->{status}, 200, 'retried');
$s->wait_events(3, 'email=dave%40example.com');
($st, $page) = list('/api/notifications/carol');
is(scalar @{ $page->{notifications} }, 2, 'two notifications: the open and the click, once each');
my ($clicked, $opened) = @{ $page->{notifications} };
is($opened->{identifier}, 'EMAIL_OPENED', 'the open\'s');
is($opened->{title}, 'dave@example.com opened "Your invoice"', 'said plainly');
is($opened->{link}, '/?message=inv-1', 'linked to the message\'s timeline');
is($clicked->{identifier}, 'EMAIL_CLICKED', 'the click\'s');
is($page->{unread}, 2, 'both unread');
is($carol_ws->wait, 0, 'both pushed live to carol\'s channel');
is_deeply([ map { $_->{unread} } $carol_ws->events ], [1, 2], 'each with the count');

# --- The admin tool: a quick one, and the counts.
my ($rc, $out) = $s->admin('notify', 'erin', 'From the shell', '--identifier', 'OPS');
is($rc, 0, 'mailhooks-db notify');
my $made = eval { decode_json($out) } // {};
is($made->{user_id}, 'erin', 'prints what it stored');
($st, $page) = list('/api/notifications/erin');
is($page->{notifications}[0]{title}, 'From the shell', 'as the API would have');
is(($s->admin('notify', 'erin', 'x', '--identifier', 'bad id'))[0], 2,
    'checked as the API checks');
($rc, $out) = $s->admin('stats');
my $stats = eval { decode_json($out) } // {};
ok($stats->{notifications} >= 10 && defined $stats->{notifications_unread},
    'stats counts the notifications and the unread');
($rc, $out) = $s->admin('dump', '--notifications', $made->{id} - 1);
is((eval { decode_json((split /\n/, $out)[0]) } // {})->{id}, $made->{id},
    'dump --notifications after an id');

# --- Bad input: a clear 400, nothing stored.
($st, $page) = list('/api/notifications?limit=500');
my $before = scalar @{ $page->{notifications} };
my %good = (title => 't', identifier => 'I', user_id => 'u');
for my $case ([{ %good, title => undef }, 'a null title'],
    [{ identifier => 'I', user_id => 'u' }, 'no title'],
    [{ %good, color => 'red' }, 'an unknown field'],
    [{ %good, title => 7 }, 'a title not a string'],
    [{ %good, title => 'x' x 201 }, 'a title over 200 characters'],
    [{ %good, description => 'x' x 2001 }, 'a description over 2000'],
    [{ %good, identifier => 'has space' }, 'an identifier with a space'],
    [{ %good, user_id => "a\tb" }, 'a user_id with a control character'],
    [{ %good, user_id => 'x' x 129 }, 'a user_id over 128 bytes'],
    [{ %good, user_id => '' }, 'an empty user_id'],
    [{ %good, data => [1] }, 'data not an object'],
    [{ %good, data => { x => 'y' x 5000 } }, 'data over 4 KiB'],
    [{ %good, link => 'javascript:alert(1)' }, 'a link that is not http(s) or a path'],
    [{ %good, link => '//evil.example/' }, 'a link to another host without a scheme'],
    [{ notifications => [] }, 'an empty batch'],
    [{ notifications => [ map { {%good} } 1 .. 1001 ] }, 'a batch over 1000']) {
	$r = post($case->[0]);
	is($r->{status}, 400, "$case->[1]: 400");
	ok($r->{json}{error} && $r->{json}{detail}, "$case->[1]: a JSON error");
}
is(post("{\"title\":\"\xff\",\"identifier\":\"I\",\"user_id\":\"u\"}")->{status}, 400,
    'invalid UTF-8: 400');
is(post('title=x', 'Content-Type' => 'application/x-www-form-urlencoded')->{status},
    415, 'a form: 415');
($st, $page) = list('/api/notifications?limit=500');
is(scalar @{ $page->{notifications} }, $before, 'none of it stored anything');
$r = post({ %good, title => '<img src=x onerror=alert(1)>' });
is($r->{json}{title}, '<img src=x onerror=alert(1)>', 'a hostile title is kept as text');

done_testing;
