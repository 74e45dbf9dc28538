#!/bin/sh
# The browser test campaigns.t, with the page served by Apache (its name
# is taken by the integration test of campaigns).
MAILHOOKS_TEST_SERVER=apache exec node "$(dirname "$0")/../browser/campaigns.t"
