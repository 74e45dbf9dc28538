#!/usr/bin/env perl
# The accounts, managed with mailhooks-db user while the server runs:
# added (viewer unless said), listed, a password changed, disabled and
# enabled, a role changed, deleted. Bad input is a clear error that
# changes nothing; only a yescrypt hash of a password is kept.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new;
my $home = $s->home;
my $password = 'not-in-any-file-7q';
my $pwfile = "$home/pw";
open my $fh, '>', $pwfile or die $!;
print $fh "$password\n";
close $fh;
chmod 0644, $pwfile;
open $fh, '>', "$home/short" or die $!;
print $fh "short\n";
close $fh;
chmod 0644, "$home/short";

sub users {
	my ($rc, $out) = $s->admin('user', 'list');
	return undef unless $rc == 0;
	return { map { my $u = decode_json($_); ($u->{name} => $u) }
	    split /\n/, $out };
}
sub said {
	open my $e, '<', "$home/admin.out.err" or return '';
	local $/;
	return <$e> // '';
}

is(($s->admin(qw(user add alice --role admin --password-file), $pwfile))[0], 0,
    'user add alice as admin');
is(($s->admin(qw(user add bob --password-file), $pwfile))[0], 0, 'user add bob');
my $u = users();
is_deeply([sort keys %$u], ['admin', 'alice', 'bob'],
    'both listed, with the first admin the stack made');
is($u->{alice}{role}, 'admin', 'alice is an admin');
is($u->{bob}{role}, 'viewer', 'bob a viewer, as by default');
ok(!$u->{bob}{disabled}, 'enabled');
like($u->{bob}{created}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'with when');
ok(!grep({ exists $_->{hash} || exists $_->{password} } values %$u),
    'the list shows no hash');

is(($s->admin(qw(user add alice --password-file), $pwfile))[0], 1,
    'a name taken: 1');
like(said(), qr/exists already/, 'said so');
is(($s->admin(qw(user add carol --password-file), "$home/short"))[0], 1,
    'a password under 8 characters: 1');
like(said(), qr/at least 8/, 'said so');
is(($s->admin('user', 'add', 'bad name', '--password-file', $pwfile))[0], 2,
    'a name with a space: a usage error');
is(($s->admin(qw(user add dave --role root --password-file), $pwfile))[0], 2,
    'a role that is none');
is(($s->admin(qw(user frob bob)))[0], 2, 'a subcommand that is none');
is(($s->admin(qw(user add eve --password-file), "$home/none"))[0], 1,
    'a password file that is not there');
is_deeply([sort keys %{ users() }], ['admin', 'alice', 'bob'],
    'none of it added anyone');

is(($s->admin(qw(user disable bob)))[0], 0, 'user disable bob');
ok(users()->{bob}{disabled}, 'bob is disabled');
is(($s->admin(qw(user enable bob)))[0], 0, 'user enable bob');
ok(!users()->{bob}{disabled}, 'and enabled again');
is(($s->admin(qw(user role bob --role admin)))[0], 0, 'user role bob');
is(users()->{bob}{role}, 'admin', 'bob is an admin now');
is(($s->admin(qw(user passwd bob --password-file), $pwfile))[0], 0,
    'user passwd bob');
is(($s->admin(qw(user del bob)))[0], 0, 'user del bob');
is_deeply([sort keys %{ users() }], ['admin', 'alice'], 'bob is gone');
is(($s->admin(qw(user del bob)))[0], 1, 'deleting him again: 1');
like(said(), qr/no user bob/, 'no such user, said');

# What is kept: the hash, never the password.
open $fh, '<:raw', "$home/db/users.db" or die $!;
my $db = do { local $/; <$fh> };
close $fh;
ok(index($db, '$y$') >= 0, 'users.db holds a yescrypt hash');
ok(index($db, $password) < 0, 'and not the password');
my @owners = map { (stat $_)[4] } "$home/db/users.db", "$home/db/events.db";
is($owners[0], $owners[1], 'users.db belongs to the server\'s user');
is($s->get('/api/health')->{status}, 200, 'the server runs on');
done_testing;
