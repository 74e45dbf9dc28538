#!/usr/bin/env perl
# www/openapi.json lints clean under Redocly's recommended rules
# (tests/spec/redocly.yaml), and the lint can fail: copies with an
# operation that has no success answer, a reference to no schema, or an example
# its schema refuses do not pass.
use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $redocly = "$FindBin::Bin/node_modules/.bin/redocly";
my $config = "$FindBin::Bin/redocly.yaml";
my $spec = "$root/www/openapi.json";

sub lint {
	my ($file) = @_;
	my $out = `"$redocly" lint --config "$config" "$file" 2>&1`;
	return ($? == 0, $out);
}

ok(-x $redocly, 'redocly is installed (make test: tests/spec/node_modules)')
    or BAIL_OUT('no redocly');
my ($clean, $out) = lint($spec);
ok($clean, 'www/openapi.json lints clean') or diag $out;

my $json = JSON::PP->new->canonical->pretty;
my $dir = tempdir(CLEANUP => 1);
open my $fh, '<', $spec or die $!;
my $text = do { local $/; <$fh> };
close $fh;

my $broken = decode_json($text);
delete $broken->{paths}{'/api/health'}{get}{responses}{200};
open $fh, '>', "$dir/no-answers.json" or die $!;
print $fh $json->encode($broken);
close $fh;
ok(!(lint("$dir/no-answers.json"))[0],
    'self-check: an operation without its success fails the lint');

$broken = decode_json($text);
$broken->{paths}{'/api/health'}{get}{responses}{200}{content}
    {'application/json'}{schema} = { '$ref' => '#/components/schemas/Nowhere' };
open $fh, '>', "$dir/bad-ref.json" or die $!;
print $fh $json->encode($broken);
close $fh;
ok(!(lint("$dir/bad-ref.json"))[0],
    'self-check: a reference to no schema fails the lint');

$broken = decode_json($text);
$broken->{paths}{'/api/health'}{get}{responses}{200}{content}
    {'application/json'}{example}{last_seq} = 'many';
open $fh, '>', "$dir/bad-example.json" or die $!;
print $fh $json->encode($broken);
close $fh;
ok(!(lint("$dir/bad-example.json"))[0],
    'self-check: an example its schema refuses fails the lint');

done_testing;
