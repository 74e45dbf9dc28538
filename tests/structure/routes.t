#!/usr/bin/perl
# Routing is declared: the route table (cgi-bin/route.c) names each
# (method, path) with who may call it, and the dispatcher enforces both
# before a handler runs. So no file of the program compares the request's
# method as text (r->verb is its bit, set once by the router), and no
# answer's status is chosen by matching an error's text.
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More;

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "$root: $!";

my (@method, @text);
# The router turns the method's name into its bit, once.
for my $src (grep { $_ ne 'cgi-bin/route.c' } glob('cgi-bin/*.c')) {
	open my $fh, '<', $src or die "$src: $!";
	while (my $line = <$fh>) {
		push @method, "$src:$.: $line"
		    if $line =~ /str(?:n?case)?cmp\s*\(\s*(?:r->)?method\b/
		    || $line =~ /->method\s*,\s*"(?:GET|HEAD|POST|PUT|PATCH|DELETE)"/;
		push @text, "$src:$.: $line"
		    if $line =~ /strstr\s*\([^)]*\b(?:why|detail|error)\b/;
	}
}
is(scalar @method, 0, 'no handler compares the method as text')
    or diag @method;
is(scalar @text, 0, "no status is chosen by an error's text") or diag @text;

# The table itself: each row one method, rows of one path together.
open my $fh, '<', 'cgi-bin/route.c' or die $!;
my $table = do { local $/; <$fh> };
my ($rows) = $table =~ /mh_routes\[\] = \{(.*?)\n\};/s or die 'no table';
my @paths = $rows =~ /\{\s*MH_\w+,\s*"([^"]+)"/g;
cmp_ok(scalar @paths, '>=', 50, scalar(@paths) . ' rows, one method each');
my (%seen, @apart);
for my $i (0 .. $#paths) {
	push @apart, $paths[$i] if $seen{$paths[$i]}++ && $paths[$i - 1] ne $paths[$i];
}
is(scalar @apart, 0, "a path's rows are together") or diag "@apart";
done_testing;
