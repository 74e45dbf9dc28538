#!/bin/sh
# Runs mailhooks in the foreground: lighttpd (which spawns mailhooks.fcgi)
# and the relay, restarted when it dies. Ctrl-C or SIGTERM stops them all.
#
# Environment: PORT (8080), MAILHOOKS_HOME (./var), MAILHOOKS_RELAY_PORT
# (PORT + 1), and what the components read (see README.md).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
MAILHOOKS_HOME=${MAILHOOKS_HOME:-$ROOT/var}
mkdir -p "$MAILHOOKS_HOME/run"
MAILHOOKS_HOME=$(cd "$MAILHOOKS_HOME" && pwd)
MAILHOOKS_RELAY_PORT=${MAILHOOKS_RELAY_PORT:-$((PORT + 1))}
export MAILHOOKS_HOME MAILHOOKS_RELAY_PORT

conf=$MAILHOOKS_HOME/run/lighttpd.conf
sed -e "s|@ROOT@|$ROOT|g" -e "s|@HOME@|$MAILHOOKS_HOME|g" \
    -e "s|@PORT@|$PORT|g" -e "s|@RELAY_PORT@|$MAILHOOKS_RELAY_PORT|g" \
    "$ROOT/lighttpd/mailhooks.conf.in" > "$conf"
lighttpd -tt -f "$conf" >/dev/null

lighttpd_pid=
relay_pid=
stop() {
	trap - INT TERM
	echo "mailhooks: stopping"
	for pid in $relay_pid $lighttpd_pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait || true
	exit "${1:-0}"
}
trap 'stop 0' INT TERM

start_relay() {
	"$ROOT/ws-relay/mailhooks-relay" &
	relay_pid=$!
}

lighttpd -D -f "$conf" &
lighttpd_pid=$!
start_relay
echo "mailhooks: http://127.0.0.1:$PORT/ (data in $MAILHOOKS_HOME); Ctrl-C stops"

while :; do
	sleep 1 &
	wait $! || true
	if ! kill -0 "$lighttpd_pid" 2>/dev/null; then
		# Ctrl-C reaches lighttpd too, and it stops cleanly (status 0)
		# perhaps before this shell runs its trap.
		rc=0
		wait "$lighttpd_pid" || rc=$?
		lighttpd_pid=
		[ "$rc" -eq 0 ] || echo "mailhooks: lighttpd exited ($rc)" >&2
		stop "$rc"
	fi
	if ! kill -0 "$relay_pid" 2>/dev/null; then
		wait "$relay_pid" 2>/dev/null || true
		echo "mailhooks: relay exited; starting it again" >&2
		start_relay
	fi
done
