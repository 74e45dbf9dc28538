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

# A copy of the description that $break spoils must fail the lint.
sub spoiled_fails {
	my ($name, $break) = @_;
	my $copy = decode_json($text);
	$break->($copy->{paths}{'/api/health'}{get}{responses});
	open my $out, '>', "$dir/spoiled.json" or die $!;
	print $out $json->encode($copy);
	close $out;
	ok(!(lint("$dir/spoiled.json"))[0], "self-check: $name fails the lint");
}

spoiled_fails('an operation without its success', sub { delete $_[0]{200} });
spoiled_fails('a reference to no schema', sub {
	$_[0]{200}{content}{'application/json'}{schema} =
	    { '$ref' => '#/components/schemas/Nowhere' };
});
spoiled_fails('an example its schema refuses', sub {
	$_[0]{200}{content}{'application/json'}{example}{last_seq} = 'many';
});

done_testing;
