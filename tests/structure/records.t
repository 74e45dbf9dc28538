#!/usr/bin/perl
# Tables declare themselves: a record's header fields are named as its
# table names them (rec.client.phone), and only the storage layer reads
# them as a row (at[]), driven by the table's descriptor (db/tables.c's
# mh_tables). No source outside db/ reaches a field by its position, and
# none keeps the old unnamed fields (field[N], a query's borrowed
# .type/.email/.message_id).
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More;

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "$root: $!";

# Lines that reach a field by position, or name a filter the way a table
# other than the events would borrow it.
sub offenders {
	my (@files) = @_;
	my @hits;
	for my $src (@files) {
		open my $fh, '<', $src or die "$src: $!";
		while (my $line = <$fh>) {
			push @hits, "$src:$.: $line"
			    if $line =~ /(?:\.|->)at\[/
			    || $line =~ /(?:\.|->)field\[\d\]/
			    || $line =~ /\bq(?:\.|->)(?:type|email|message_id)\b/;
		}
	}
	return @hits;
}

my @outside = grep { !m{^db/} }
    map { glob("$_/*.[ch]") } qw(core cgi-bin ws-relay sender tools);
push @outside, glob('tests/unit/*.c'), glob('tests/fuzz/*.c');
my @hits = offenders(@outside);
is(scalar @hits, 0, 'no record field is reached by its position outside '
    . 'the storage layer') or diag @hits;

# The descriptor names each table's fields as the union does.
my $store = do { local (@ARGV, $/) = 'db/store.h'; <> };
my $tables = do { local (@ARGV, $/) = 'db/tables.c'; <> };
my %union;
while ($store =~ /struct \{ T \*([^}]*)\} (\w+)/g) {
	my ($names, $table) = ($1, $2);
	$union{$table} = [map { s/^\s*\*?//r } split /,/, $names =~ s/;\s*$//r];
}
my %declared;
while ($tables =~ /\[MH_TABLE_\w+\] = \{ \.name = "([\w-]+)",.*?\.field = \{(.*?)\} \} \}/sg) {
	my ($name, $body) = ($1, $2);
	$declared{$name} = [ $body =~ /\{ "(\w+)"/g ];
}
my %union_of = (events => 'event', callbacks => 'callback',
    notifications => 'notification', mail => 'mail', clients => 'client',
    campaigns => 'campaign', 'campaign-messages' => 'cmessage');
is(scalar keys %declared, scalar keys %union_of,
    'every indexed table is declared in mh_tables');
for my $table (sort keys %union_of) {
	is_deeply($declared{$table}, $union{$union_of{$table}},
	    "$table: the descriptor's fields are the record's names");
}

# The check can fail: a line reaching a field by position is seen.
my $tmp = "/tmp/records-t-$$.c";
open my $fh, '>', $tmp or die $!;
print $fh "x = rec.at[2];\n";
close $fh;
is(scalar offenders($tmp), 1, 'self-check: a positional field is seen');
unlink $tmp;

done_testing();
