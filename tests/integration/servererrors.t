#!/usr/bin/env perl
# The web server's own errors are JSON {"error","detail"}, as the
# program's are: a request it cannot parse, a body or headers too large,
# a path it does not serve. lighttpd's were HTML pages. And a body over
# MAILHOOKS_MAX_BODY is refused from its Content-Length, before it is read
# (lighttpd buffered up to 64 MiB to disk for the program to refuse).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;
use JSON::PP;
use Test::More;

my $s = Stack->new(env => { MAILHOOKS_MAX_BODY => 65536 });
my $host = "Host: 127.0.0.1\r\n";

sub json_error {
	my ($r, $status, $code, $name) = @_;
	is($r->{status}, $status, "$name: $status") or diag explain $r;
	like($r->{headers}{'content-type'} // '', qr{^application/json},
	    "$name: a JSON content type");
	is(ref $r->{json}, 'HASH', "$name: a JSON body") or diag $r->{body};
	is($r->{json}{error}, $code, "$name: error $code") if $code;
	ok(length($r->{json}{detail} // '') > 0, "$name: a detail");
}

# Each case: what is sent, then the status and code each server answers.
# (Apache passes a POST without a body on: the program answers it.)
my $form = "Content-Type: application/x-www-form-urlencoded\r\n";
my @cases = (
	['a header line without a colon',
	    "GET /api/health HTTP/1.1\r\n${host}No colon here\r\n\r\n",
	    { lighttpd => [400, 'bad_request'], apache => [400, 'bad_request'] }],
	['a request line that is not HTTP', "NOT HTTP AT ALL\r\n\r\n",
	    { lighttpd => [400, 'bad_request'], apache => [400, 'bad_request'] }],
	['a POST with neither length nor chunks',
	    "POST /webhooks/mandrill HTTP/1.1\r\n$host$form\r\n",
	    { lighttpd => [411, 'length_required'], apache => [400, 'bad_form'] }],
	['headers over 64 KiB', "GET /api/health HTTP/1.1\r\n$host"
	    . 'X-Filler: ' . ('a' x 70000) . "\r\n\r\n",
	    { lighttpd => [431, 'headers_too_large'],
	      apache => [400, 'bad_request'] }],
	['a file that is not there', "GET /no-such-file.html HTTP/1.1\r\n"
	    . "${host}Connection: close\r\n\r\n",
	    { lighttpd => [404, 'not_found'], apache => [404, 'not_found'] }],
);
for (@cases) {
	my ($name, $request, $want) = @$_;
	json_error($s->raw($request), @{$want->{Stack::server()}}, $name);
}

# Only the head is sent: the answer must come without the body.
my $r = $s->raw("POST /webhooks/mandrill HTTP/1.1\r\n$host$form"
    . "Content-Length: 1000000\r\n\r\n");
json_error($r, 413, 'body_too_large',
    'a 1 MB body over the 64 KiB limit, refused from its Content-Length before it is sent');

# What the program answers stays the program's.
$r = $s->raw("GET /api/nowhere HTTP/1.1\r\n${host}Connection: close\r\n\r\n");
json_error($r, 404, 'not_found', 'an API path no route takes');

# The error files: one per status, each a JSON error, each served as JSON
# by lighttpd and named for its status by Apache.
sub slurp {
	open my $fh, '<', $_[0] or die "$_[0]: $!";
	local $/;
	return <$fh>;
}
my $dir = "$Stack::ROOT/www/errors";
my @files = sort map { m{([^/]+)$} } glob("$dir/mailhooks-error-*.html");
my $lighttpd = slurp("$Stack::ROOT/lighttpd/mailhooks.conf.in");
my $apache = slurp("$Stack::ROOT/apache/mailhooks.conf");
is_deeply([sort $lighttpd =~ /"(mailhooks-error-\d{3}\.html)" => "application\/json"/g],
    \@files, 'lighttpd types every error file, and only those, as JSON');
is_deeply([sort map { "mailhooks-error-$_->[0].html" } grep { @$_ == 2 && $_->[0] eq $_->[1] }
    map { [ /^\s*ErrorDocument (\d{3}) \/errors\/mailhooks-error-(\d{3})\.html$/ ] }
    split /\n/, $apache], \@files, 'Apache names every error file for its status');
my @bad = grep {
	my $e = eval { decode_json(slurp("$dir/$_")) };
	!(ref $e eq 'HASH' && $e->{error} && $e->{detail});
} @files;
is_deeply(\@bad, [], 'every error file is a JSON error');

done_testing();
