#!/usr/bin/env perl
# Shared hosting: a host's Apache that lets a folder's .htaccess do what it
# may (AllowOverride FileInfo Options AuthConfig) and nothing else: no Fcgid*
# directive, no relay. mailhooks installed as docs/deploy.md says, under a
# sub-path, with apache/htaccess as its .htaccess.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX qw(setsid WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

my $root = $Stack::ROOT;
my $home = tempdir('mailhooks-test-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{MAILHOOKS_KEEP});
my $site = "$home/public_html/hooks";
my $key = 'shared-key';
make_path($site, "$home/data");

# What docs/deploy.md tells a user to copy.
copy("$root/www/$_", "$site/$_") or die $_
    for qw(index.html signin.js bell.js outgoing.js app.js style.css favicon.svg);
make_path("$site/hooks");
for my $to ("$site/mailhooks.fcgi", "$site/hooks/mailhooks.fcgi") {
	copy("$root/cgi-bin/mailhooks.fcgi", $to) or die;
	chmod 0755, $to;
}
open my $in, '<', "$root/apache/htaccess" or die;
open my $out, '>', "$site/.htaccess" or die;
while (<$in>) {
	s{/home/USER/mailhooks-data}{$home/data};
	s{^# (SetEnv MANDRILL_WEBHOOK_KEY) .*}{$1 "$key"};
	s{^# (SetEnv INFOBIP_WEBHOOK_TOKEN) .*}{$1 "tok"};
	print $out $_;
}
close $out;

# The host's own configuration: the server mailhooks uses for make run,
# plus mod_rewrite, and a vhost that only allows the overrides.
my $port = Stack::free_port();
make_path("$home/run/apache/fcgid");
open $in, '<', "$root/apache/server.conf.in" or die;
open $out, '>', "$home/run/apache/apache2.conf" or die;
while (<$in>) {
	s/\@ROOT\@/$root/g;
	s/\@HOME\@/$home/g;
	s/\@PORT\@/$port/g;
	s/\@RELAY_PORT\@/1/g;
	print $out $_;
}
print $out <<"CONF";
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
<VirtualHost 127.0.0.1:$port>
    DocumentRoot "$home/public_html"
    <Directory "$home/public_html">
        AllowOverride FileInfo Options AuthConfig
        Require all granted
    </Directory>
</VirtualHost>
CONF
close $out;
my @as = $> == 0 ? ('setpriv', '--reuid=www-data', '--regid=www-data',
    '--init-groups', '--') : ();
system('chown', '-R', 'www-data:', $home) if $> == 0;

my $pid = fork // die;
if ($pid == 0) {
	setsid();
	open STDOUT, '>>', "$home/apache.log" or die;
	open STDERR, '>&', \*STDOUT or die;
	exec @as, 'apache2', '-DFOREGROUND', '-f', "$home/run/apache/apache2.conf";
	die "exec: $!";
}
END {
	# The test's exit status stands: umount and waitpid set $?.
	local $?;
	if ($pid) {
		kill 'TERM', -$pid;
		waitpid($pid, 0);
	}
}
my $s = Stack->attach(port => $port, home => "$home/data");
$Answers::BASE = '/hooks';
my $deadline = time + 15;
sleep 0.1 while time < $deadline && $s->get('/hooks/')->{status} != 200;

my $r = $s->get('/hooks/');
is($r->{status}, 200, 'the page is served from the folder');
like($r->{headers}{'content-security-policy'} // '', qr/script-src 'self'/,
    'with the CSP the .htaccess sets');
is($s->get('/hooks/.htaccess')->{status}, 403, 'the .htaccess is not served');

$r = $s->post_mandrill([Stack::event(id => 'shared-1')], key => $key,
    path => '/hooks/webhooks/mandrill');
is($r->{status}, 200, 'a signed webhook under the sub-path is accepted')
    or diag $r->{content};
# Which file each pool of FastCGI processes runs.
sub runs {
	my ($file) = @_;
	return grep { (readlink($_) // '') eq $file } glob '/proc/[0-9]*/exe';
}
ok(scalar(runs("$site/hooks/mailhooks.fcgi")),
    'the webhooks run the copy in hooks/, a pool of their own');
is(scalar(runs("$site/mailhooks.fcgi")), 0, 'not the API\'s program');
is($s->post_mandrill([Stack::event(id => 'x')], key => 'wrong',
    path => '/hooks/webhooks/mandrill')->{status}, 403,
    'the key set with SetEnv is checked');

# The first request made the first admin, its password in the data
# directory (no MAILHOOKS_ADMIN_PASSWORD here): sign in with it.
my $first = "$home/data/initial-admin-password";
ok(-s $first, 'the first admin\'s password is in the data directory');
is((stat $first)[2] & 0777, 0600, 'readable by its owner alone');
chomp(my $password = do { local (@ARGV, $/) = $first; <> } // '');
is(($s->get_json('/hooks/api/events'))[0], 401, 'the events need a session');
is($s->sign_in('admin', $password, path => '/hooks/api/session')->{status}, 200,
    'signed in as admin under the sub-path');
my ($st, $page);
$deadline = time + 10;
do {
	($st, $page) = $s->get_json('/hooks/api/events');
} while ((!$page || !@{ $page->{events} }) && time < $deadline && sleep 0.1);
is($st, 200, 'the API under the sub-path');
is($page->{events}[0]{message_id}, 'shared-1', 'holds the event');
ok(scalar(runs("$site/mailhooks.fcgi")), 'the API runs the program itself');
ok(-d "$home/data/db", 'the data lives where SetEnv MAILHOOKS_HOME says');

$r = $s->post_infobip('{"notificationType":"OPENED","messageId":"ib-1"}',
    basic => 'tok', path => '/hooks/email');
is($r->{status}, 200, 'Infobip with the token as basic-auth password '
    . '(CGIPassAuth)') or diag $r->{content};
($st, my $h) = $s->get_json('/hooks/api/health');
is($h->{relay}, 'down', 'no relay on shared hosting: the page polls');

# The host's FcgidMaxRequestLen (128 KiB by default) still applies.
my @batch = map { Stack::event(id => "big-$_", subject => 'x' x 300) }
    1 .. 500;
$r = $s->post_mandrill(\@batch, key => $key, path => '/hooks/webhooks/mandrill');
isnt($r->{status}, 200, "a batch over the host's request limit is refused "
    . "($r->{status}), as docs/deploy.md warns");

done_testing;
