# An HTTP::Tiny that writes down every answer it gets, when MAILHOOKS_ANSWERS
# names a directory: one JSON line per answer (method, path, status, the
# headers, the body) in a file of this process's. tests/spec/answers.t then
# checks each against www/openapi.json. Without the variable, it is
# HTTP::Tiny.
package Answers;

use strict;
use warnings;
use parent 'HTTP::Tiny';
use JSON::PP;

my $JSON = JSON::PP->new->canonical->ascii;	# bodies are bytes: \u00XX
my %fh;	# by process: forked test helpers write their own files

# Where the site is installed below the root (a test of shared hosting
# sets '/hooks'): taken off each path. With it, only the program's answers
# are checked (Apache's own errors under an .htaccess are its HTML pages:
# docs/deploy.md says why).
our $BASE = '';

# Writes down one answer: the request's method and URL, and what came.
sub note_answer {
	my ($method, $url, $status, $headers, $body) = @_;
	my $dir = $ENV{MAILHOOKS_ANSWERS} or return;
	my ($path) = $url =~ m{^https?://[^/]+([^?#]*)};
	return unless defined $path;
	unless ($fh{$$}) {
		(my $script = $0) =~ s{.*/}{};
		open($fh{$$}, '>>', "$dir/$script-$$.jsonl") or return;
	}
	my $installed = length $BASE && $path =~ s{^\Q$BASE\E(?=/)}{};
	my $text = $JSON->encode({ method => $method, path => $path,
	    status => $status + 0, headers => $headers // {},
	    body => substr($body // '', 0, 1 << 20), script => $0,
	    ($installed ? (program_only => JSON::PP::true) : ()) }) . "\n";
	syswrite($fh{$$}, $text);
}

sub request {
	my ($self, $method, $url, @rest) = @_;
	my $r = $self->SUPER::request($method, $url, @rest);
	# 599 is HTTP::Tiny's own: nothing came.
	note_answer($method, $url, $r->{status}, $r->{headers}, $r->{content})
	    if $r->{status} != 599;
	return $r;
}

1;
