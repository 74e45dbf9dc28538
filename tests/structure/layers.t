#!/usr/bin/perl
# The structure the code keeps, checked on the objects the compiler makes
# (what each file defines and calls) and on the sources' shape:
#  - no two files of db/ call each other, directly or round a circle;
#  - the storage layer reads no JSON and knows no FastCGI;
#  - the core (cgi-bin/core.h's files) needs neither FastCGI nor storage;
#  - the sender knows no FastCGI and no HTTP side of the program;
#  - no file under cgi-bin/, db/, ws-relay/, sender/ over 400 lines, no
#    function over 80.
use strict;
use warnings;
use File::Basename qw(basename dirname);
use File::Temp qw(tempdir);
use Cwd qw(abs_path);
use Test::More;

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "$root: $!";

# The file lists, as the Makefile has them.
sub make_list {
	my ($name) = @_;
	my $text = do { local (@ARGV, $/) = 'Makefile'; <> };
	$text =~ s/\\\n/ /g;
	my ($list) = $text =~ /^\Q$name\E\s*=\s*(.*)$/m or die "no $name";
	return split ' ', $list;
}
my @db = make_list('DB_SRC');
my @core = make_list('CORE_SRC');

my $cflags = `pkg-config --cflags json-c fcgi 2>/dev/null`;
chomp $cflags;
my $tmp = tempdir(CLEANUP => 1);

# What each file defines and what it needs from elsewhere.
my (%defines, %needs);
my @admin = glob('db/admin*.c');
my @sender = glob('sender/*.c');
my $curl = `pkg-config --cflags libcurl 2>/dev/null`;
chomp $curl;
$cflags .= " $curl";
for my $src (@db, @core, @admin, @sender) {
	(my $obj = "$tmp/$src") =~ s{/}{_}g;
	$obj = "$tmp/" . basename($obj) . '.o';
	system("cc -std=c11 -D_GNU_SOURCE $cflags -c -o $obj $src") == 0
	    or BAIL_OUT("cannot compile $src");
	for (`nm $obj`) {
		my ($kind, $sym) = /^\s*\S*\s+([A-Za-z])\s+(\S+)$/ or next;
		if ($kind eq 'U') {
			push @{$needs{$src}}, $sym;
		} elsif ($kind =~ /[TDBR]/) {
			$defines{$sym} = $src;
		}
	}
}

# File-level calls within db/, and a circle among them.
my %calls;
for my $src (@db) {
	for my $sym (@{$needs{$src} || []}) {
		my $to = $defines{$sym} or next;
		$calls{$src}{$to} = 1 if $to ne $src && $to =~ m{^db/};
	}
}
my (%state, @circle);
sub visit {
	my ($f, @path) = @_;
	return if @circle;
	if (($state{$f} // 0) == 1) {
		my @from = @path;
		shift @from while @from && $from[0] ne $f;
		@circle = (@from, $f);
		return;
	}
	return if ($state{$f} // 0) == 2;
	$state{$f} = 1;
	visit($_, @path, $f) for sort keys %{$calls{$f} || {}};
	$state{$f} = 2;
}
visit($_) for @db;
ok(!@circle, 'no circle of calls between the files of db/')
    or diag('circle: ' . join(' -> ', @circle));

# What each layer may not reach.
sub reaches {
	my ($files, $re) = @_;
	my @bad;
	for my $src (@$files) {
		push @bad, map { "$src: $_" } grep { /$re/ } @{$needs{$src} || []};
	}
	return @bad;
}
my @bad = reaches(\@db, qr/^(json_|FCGX_|mh_json_|mh_config_)/);
ok(!@bad, 'the storage layer reads no JSON and knows no FastCGI')
    or diag(join("\n", @bad));
@bad = reaches(\@core, qr/^(FCGX_|db_|mh_store_|mh_txn_)/);
ok(!@bad, 'the core needs neither FastCGI nor the storage layer')
    or diag(join("\n", @bad));
@bad = reaches(\@admin, qr/^(FCGX_|mh_serve|mh_respond|mh_api_|mh_hook_)/);
ok(!@bad, 'the admin tool links no HTTP side') or diag(join("\n", @bad));
@bad = reaches(\@sender, qr/^(FCGX_|mh_serve|mh_respond|mh_api_|mh_hook_|db_)/);
ok(!@bad, 'the sender links no HTTP side and reaches storage through its '
    . 'layer') or diag(join("\n", @bad));

# Sizes: files, and functions (from a line opening a definition at the
# left margin to its closing brace there).
my (@long_files, @long_functions);
for my $src (glob('cgi-bin/*.[ch] db/*.[ch] ws-relay/*.[ch] sender/*.[ch]')) {
	open my $fh, '<', $src or die "$src: $!";
	my @lines = <$fh>;
	push @long_files, "$src: " . scalar(@lines) if @lines > 400;
	my ($name, $start);
	for my $i (0 .. $#lines) {
		if ($lines[$i] =~ /^([a-z_][a-z0-9_]*)\(/) {
			$name = $1;
		} elsif (defined $name && $lines[$i] =~ /^\{/) {
			$start = $i;
		} elsif (defined $start && $lines[$i] =~ /^\}/) {
			my $len = $i - $start - 1;
			push @long_functions, "$src: $name ($len lines)" if $len > 80;
			undef $name;
			undef $start;
		}
	}
}
ok(!@long_files, 'no file under cgi-bin/, db/, ws-relay/, sender/ over 400 '
    . 'lines')
    or diag(join("\n", @long_files));
ok(!@long_functions, 'no function over 80 lines')
    or diag(join("\n", @long_functions));

# The checks can fail: a circle and a long function made up here are seen.
%calls = ('a' => { 'b' => 1 }, 'b' => { 'a' => 1 });
(%state, @circle) = ();
visit('a');
is(join(' -> ', @circle), 'a -> b -> a', 'self-check: a circle is found');

done_testing();
