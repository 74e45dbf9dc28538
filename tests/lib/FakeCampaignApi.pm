# A fake of the campaigns' external API (POST /v1/send/{id}, the seed's
# test service) for the tests (a FakeRemote): driven through the modes it
# is told, one per request in order (the last one stays); refuse() and
# resume() take it down and up on its port.
#
#   my $api = FakeCampaignApi->new;       # $api->url for CAMPAIGN_API_URL
#   $api->modes('status 500', 'ok');
#   my @reqs = $api->requests;   # {path, auth, body, raw, mode, at}
#
# Modes:
#   ok                  200 {"code": 0, "message": "OK"}
#   slow SECONDS        as ok, after that long
#   status CODE [S]     an empty answer of that status (Retry-After S)
#   wrong               200 {"code": 1, "message": "busy"}
#   garbage             200 with an HTML page
#   hang                reads the request, never answers
#   reset               closes the connection without an answer
package FakeCampaignApi;

use strict;
use warnings;
use parent 'FakeRemote';
use JSON::PP;
use Time::HiRes qw(sleep);

sub url { "http://127.0.0.1:$_[0]{port}/v1" }

sub logged {
	my ($self, $path, $headers, $req, $raw) = @_;
	return (auth => $headers->{authorization}, body => $req, raw => $raw);
}

sub serve {
	my ($self, $c, $mode) = @_;
	my ($verb, @arg) = split ' ', $mode;
	if ($verb eq 'hang') { sleep 3600 }
	elsif ($verb eq 'reset') { return }
	elsif ($verb eq 'slow') { sleep $arg[0]; $verb = 'ok' }
	if ($verb eq 'ok') {
		FakeRemote::answer($c, 200, '{"code":0,"message":"OK"}');
	} elsif ($verb eq 'status') {
		FakeRemote::answer($c, $arg[0], '', defined $arg[1] ?
		    ("Retry-After: $arg[1]") : ());
	} elsif ($verb eq 'wrong') {
		FakeRemote::answer($c, 200, '{"code":1,"message":"busy"}');
	} elsif ($verb eq 'garbage') {
		FakeRemote::answer($c, 200, '<html><body>Maintenance</body></html>');
	}
}

1;
