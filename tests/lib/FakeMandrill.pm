# A fake of Mandrill's API (messages/send.json) for the tests (a
# FakeRemote): driven through the modes it is told, one per request in
# order (the last one stays): answer right, slowly, with an error,
# garbage, or hang.
#
#   my $fake = FakeMandrill->new;           # started; $fake->url for
#   $fake->modes('status 500', 'ok');       # MANDRILL_API_URL
#   my @reqs = $fake->requests;             # what it was sent, decoded
#
# Modes:
#   ok                      [{email, status: sent, _id}] for each recipient
#   reject EMAIL,...        those rejected (hard-bounce), the others sent
#   queued                  each queued (queued_reason: "attachments")
#   error NAME [STATUS]     {"status":"error","name":NAME} (STATUS 500)
#   status CODE [SECONDS]   an empty answer of that status, with Retry-After
#   garbage                 200 with an HTML page
#   truncated               200 with JSON cut short
#   empty                   200 with []
#   slow SECONDS            as ok, after that long
#   hang                    reads the request, never answers
#   reset                   closes the connection without an answer
#   redirect                302 to another host
package FakeMandrill;

use strict;
use warnings;
use parent 'FakeRemote';
use JSON::PP;
use Time::HiRes qw(sleep);

my $JSON = JSON::PP->new->canonical;

sub url { "http://127.0.0.1:$_[0]{port}/api/1.0" }

sub results {
	my ($msg, $state, %rejected) = @_;
	return $JSON->encode([ map {
		my $email = $_->{email};
		my $no = $rejected{lc $email};
		{ email => $email, status => $no ? 'rejected' : $state,
		  _id => join('', map { sprintf '%x', int rand 16 } 1 .. 32),
		  reject_reason => $no ? 'hard-bounce' : undef,
		  ($state eq 'queued' ? (queued_reason => 'attachments') : ()) }
	} @{ $msg->{to} // [] } ]);
}

# What a request's log keeps: the key and the message.
sub logged {
	my ($self, $path, $headers, $req) = @_;
	return (key => $req->{key}, message => $req->{message});
}

sub serve {
	my ($self, $c, $mode, $req) = @_;
	my ($verb, @arg) = split ' ', $mode;
	if ($verb eq 'hang') { sleep 3600 }
	elsif ($verb eq 'reset') { return }
	elsif ($verb eq 'slow') { sleep $arg[0]; $verb = 'ok' }
	if ($verb eq 'ok') { FakeRemote::answer($c, 200, results($req->{message}, 'sent')) }
	elsif ($verb eq 'queued') {
		FakeRemote::answer($c, 200, results($req->{message}, 'queued'));
	} elsif ($verb eq 'reject') {
		FakeRemote::answer($c, 200, results($req->{message}, 'sent',
		    map { lc($_) => 1 } split /,/, $arg[0] // ''));
	} elsif ($verb eq 'error') {
		FakeRemote::answer($c, $arg[1] // 500, $JSON->encode({ status => 'error',
		    code => -1, name => $arg[0], message => "fake: $arg[0]" }));
	} elsif ($verb eq 'forge') {
		# An error name that would write a line of its own into a log.
		FakeRemote::answer($c, 500, $JSON->encode({ status => 'error',
		    code => -1, name => "GeneralError\nmailhooks-sender: mail=999 "
		    . "outcome=sent http=200 ms=1", message => "fake\r\nforged" }));
	} elsif ($verb eq 'status') {
		FakeRemote::answer($c, $arg[0], '', defined $arg[1] ?
		    ("Retry-After: $arg[1]") : ());
	} elsif ($verb eq 'endless') {
		FakeRemote::endless($c);
	} elsif ($verb eq 'huge') {
		FakeRemote::answer($c, 200, '[' . (' ' x (10 << 20)) . ']');
	} elsif ($verb eq 'garbage') {
		FakeRemote::answer($c, 200, '<html><body>Service temporarily down</body></html>');
	} elsif ($verb eq 'truncated') { FakeRemote::answer($c, 200, '[{"email":"a@x.io","sta') }
	elsif ($verb eq 'empty') { FakeRemote::answer($c, 200, '[]') }
	elsif ($verb eq 'redirect') {
		FakeRemote::answer($c, 302, '', 'Location: http://elsewhere.invalid/api/1.0/');
	}
}

1;
