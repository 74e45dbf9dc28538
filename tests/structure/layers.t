#!/usr/bin/perl
# The layers the code keeps. Each folder is one, built into one archive
# (build/obj/FOLDER.a, made by make all):
#  - who includes whom, by folder, from the sources' #include lines: the
#    storage (db/) includes only itself; the core (core/) itself and the
#    storage's types; the relay the core; the FastCGI program, the sender
#    and the tools the core and the storage;
#  - who calls whom, from the archives' symbols: the core and the storage
#    call no other layer; the relay calls the core; the program, the
#    sender and the tools call the core and the storage, never each other;
#    no symbol is defined in two archives;
#  - what each reaches outside: the storage reads no JSON and knows no
#    FastCGI; the core needs neither FastCGI nor Berkeley DB; only the
#    program knows FastCGI; only the storage calls Berkeley DB;
#  - no two files of db/, nor of sender/, call each other, directly or
#    round a circle;
#  - no file over 600 lines (a file is split by job, not to meet a count),
#    no function over 80.
use strict;
use warnings;
use File::Basename qw(basename dirname);
use Cwd qw(abs_path);
use Test::More;

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "$root: $!";

my @layers = qw(core db cgi-bin ws-relay sender tools);
my %includes_ok = (
	'core'     => [qw(core db)],
	'db'       => [qw(db)],
	'cgi-bin'  => [qw(cgi-bin core db)],
	'ws-relay' => [qw(ws-relay core)],
	'sender'   => [qw(sender core db)],
	'tools'    => [qw(tools core db)],
);
my %calls_ok = (
	'core'     => [],
	'db'       => [],
	'cgi-bin'  => [qw(core db)],
	'ws-relay' => [qw(core)],
	'sender'   => [qw(core db)],
	'tools'    => [qw(core db)],
);

# The edges of a graph (from => { to => why }) that a table of what is
# allowed does not hold.
sub forbidden {
	my ($edges, $allowed) = @_;
	my @bad;
	for my $from (sort keys %$edges) {
		my %ok = map { $_ => 1 } $from, @{$allowed->{$from} || []};
		for my $to (sort keys %{$edges->{$from}}) {
			push @bad, "$from -> $to ($edges->{$from}{$to})"
			    unless $ok{$to};
		}
	}
	return @bad;
}

# Includes, by folder. A bare name is the including file's folder's; a
# name with a folder is from the top (the build passes -I.).
my (%includes, @unresolved);
for my $layer (@layers) {
	for my $src (glob("$layer/*.[ch] $layer/*.cc")) {
		open my $fh, '<', $src or die "$src: $!";
		while (<$fh>) {
			my ($name) = /^\s*#\s*include\s+"([^"]+)"/ or next;
			my $path = $name =~ m{/} ? $name : "$layer/$name";
			my ($to) = $path =~ m{^([^/]+)/};
			if (!-f $path || !grep { $_ eq $to } @layers) {
				push @unresolved, "$src: $name";
				next;
			}
			$includes{$layer}{$to} //= "$src includes $name";
		}
	}
}
ok(!@unresolved, 'every include names a file of a layer, from the top or '
    . 'its own folder') or diag(join("\n", @unresolved));
my @bad = forbidden(\%includes, \%includes_ok);
ok(!@bad, 'each folder includes only the layers below it')
    or diag(join("\n", @bad));

# Symbols, from the archives: what each member defines and needs.
my (%defined_in, %needs, @twice);
for my $layer (@layers) {
	my $ar = "build/obj/$layer.a";
	-f $ar or BAIL_OUT("$ar is missing: run make all first");
	for (`nm -A $ar 2>/dev/null`) {
		my ($member, $kind, $sym) =
		    /^[^:]+:([^:]+):\s*\S*\s+([A-Za-z])\s+(\S+)$/ or next;
		my $src = "$layer/" . ($member =~ s/\.o$//r);
		$src .= -f "$src.cc" ? '.cc' : '.c';
		if ($kind eq 'U') {
			push @{$needs{$src}}, $sym;
		} elsif ($kind =~ /[TDBR]/) {
			push @twice, "$sym: $defined_in{$sym} and $src"
			    if $defined_in{$sym} && $defined_in{$sym} ne $src;
			$defined_in{$sym} = $src;
		}
	}
}
ok(!@twice, 'no symbol is defined in two places') or diag(join("\n", @twice));
my %calls;
for my $src (sort keys %needs) {
	my ($from) = $src =~ m{^([^/]+)/};
	for my $sym (@{$needs{$src}}) {
		my $def = $defined_in{$sym} or next;
		my ($to) = $def =~ m{^([^/]+)/};
		$calls{$from}{$to} //= "$src calls $sym of $def" if $to ne $from;
	}
}
@bad = forbidden(\%calls, \%calls_ok);
ok(!@bad, 'each layer calls only the layers below it')
    or diag(join("\n", @bad));

# What each layer reaches outside the project.
sub reaches {
	my ($layer, $re) = @_;
	my @hits;
	for my $src (grep { m{^\Q$layer\E/} } sort keys %needs) {
		push @hits, map { "$src: $_" } grep { /$re/ } @{$needs{$src}};
	}
	return @hits;
}
@bad = reaches('db', qr/^(json_|FCGX_)/);
ok(!@bad, 'the storage layer reads no JSON and knows no FastCGI')
    or diag(join("\n", @bad));
@bad = reaches('core', qr/^(FCGX_|db_)/);
ok(!@bad, 'the core needs neither FastCGI nor Berkeley DB')
    or diag(join("\n", @bad));
@bad = map { reaches($_, qr/^FCGX_/) } grep { $_ ne 'cgi-bin' } @layers;
ok(!@bad, 'only the FastCGI program knows FastCGI') or diag(join("\n", @bad));
@bad = map { reaches($_, qr/^db_(create|env_create)$/) }
    grep { $_ ne 'db' } @layers;
ok(!@bad, 'only the storage layer opens Berkeley DB')
    or diag(join("\n", @bad));

# File-level calls within db/ and within sender/, and a circle among them.
my (%state, @circle);
sub visit {
	my ($graph, $f, @path) = @_;
	return if @circle;
	if (($state{$f} // 0) == 1) {
		my @from = @path;
		shift @from while @from && $from[0] ne $f;
		@circle = (@from, $f);
		return;
	}
	return if ($state{$f} // 0) == 2;
	$state{$f} = 1;
	visit($graph, $_, @path, $f) for sort keys %{$graph->{$f} || {}};
	$state{$f} = 2;
}
for my $layer (qw(db sender)) {
	my %file_calls;
	for my $src (grep { m{^\Q$layer\E/} } keys %needs) {
		for my $sym (@{$needs{$src}}) {
			my $to = $defined_in{$sym} or next;
			$file_calls{$src}{$to} = 1
			    if $to ne $src && $to =~ m{^\Q$layer\E/};
		}
	}
	(%state, @circle) = ();
	visit(\%file_calls, $_) for sort keys %file_calls;
	ok(!@circle, "no circle of calls between the files of $layer/")
	    or diag('circle: ' . join(' -> ', @circle));
}

# Sizes: files, and functions (from a line opening a definition at the
# left margin to its closing brace there).
my (@long_files, @long_functions);
for my $src (map { glob("$_/*.[ch] $_/*.cc") } @layers) {
	open my $fh, '<', $src or die "$src: $!";
	my @lines = <$fh>;
	push @long_files, "$src: " . scalar(@lines) if @lines > 600;
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
ok(!@long_files, 'no file of a layer over 600 lines')
    or diag(join("\n", @long_files));
ok(!@long_functions, 'no function over 80 lines')
    or diag(join("\n", @long_functions));

# The checks can fail: a circle, and an edge the tables forbid, made up
# here are seen.
(%state, @circle) = ();
visit({ 'a' => { 'b' => 1 }, 'b' => { 'a' => 1 } }, 'a');
is(join(' -> ', @circle), 'a -> b -> a', 'self-check: a circle is found');
is_deeply([forbidden({ 'db' => { 'core' => 'x' }, 'core' => { 'db' => 'y' } },
    \%includes_ok)], ['db -> core (x)'],
    'self-check: the storage including the core is seen, not the reverse');

done_testing();
