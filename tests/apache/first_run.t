#!/bin/sh
# The browser test of the same name, with the page served by Apache.
MAILHOOKS_TEST_SERVER=apache exec node "$(dirname "$0")/../browser/$(basename "$0")"
