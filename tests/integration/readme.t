#!/usr/bin/env perl
# The examples people copy: README's signed webhook, and docs/api.md's
# campaign, run as written (with this stack's address, and a token made
# through the API in place of the admin tool's) against a real stack. The
# webhook is accepted and its event dated now; the campaign, dated from
# `date`, is running, not finished (as one dated in the past was).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new(env => { MANDRILL_WEBHOOK_KEY => 'test-key' });
my $base = $s->url('');

# The first ```sh block after $after in $file.
sub block {
	my ($file, $after) = @_;
	open my $fh, '<', "$Stack::ROOT/$file" or die "$file: $!";
	local $/;
	my $text = <$fh>;
	my $at = index($text, $after);
	die "$file: no $after" if $at < 0;
	my ($code) = substr($text, $at) =~ /```sh\n(.*?)```/s or die;
	$code =~ s{http://127\.0\.0\.1:8080}{$base}g;
	return $code;
}
sub run {
	my ($code) = @_;
	my $file = $s->home . '/example.sh';
	open my $fh, '>', $file or die;
	print $fh "set -e\n$code";
	close $fh;
	my $out = `bash $file 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = run(block('README.md', 'Send it a webhook'));
is($rc, 0, "README's webhook example runs");
like($out, qr/\{"accepted":1,"receipt":"\d+"\}/, '... accepted, as it says');
my $ev;
ok(Stack::wait_for(10, sub { ($ev) = @{ ($s->get_json('/api/events'))[1]{events} // [] }; $ev }),
    '... its event stored');
cmp_ok(abs(($ev->{ts} // 0) - time), '<', 120, '... dated now, not in 2023');

my $t = $s->post_json('/api/tokens', { name => 'crm', scopes => ['campaigns:write', 'events:read'] });
my $code = block('docs/api.md', '**Running a campaign.**');
$code =~ s{^TOKEN=.*$}{TOKEN=$t->{json}{token}}m or die 'no TOKEN line';
($rc, $out) = run($code);
is($rc, 0, "docs/api.md's campaign example runs");
my @answers = map { eval { decode_json($_) } // () } grep { /^\{/ } split /\n/, $out;
is($answers[0]{phone}, '79001234567', 'its client is added, its phone as written');
is($answers[1]{status}, 'running', 'its campaign is running now, not finished')
    or diag $out;
ok(exists $answers[2]{counts}, 'and its statistics read');

done_testing();
