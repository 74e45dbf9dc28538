#!/bin/sh
# Runs mailhooks in the foreground, as make run does: the web server
# (lighttpd, or Apache with SERVER=apache), which runs mailhooks.fcgi, the
# relay and the sender, each started again whenever it dies. Ctrl-C or
# SIGTERM stops them all.
#
# Environment: SERVER (lighttpd), PORT (8080), MAILHOOKS_HOME (./var),
# MAILHOOKS_RELAY_PORT (PORT + 1), what the components read (README.md),
# MAILHOOKS_RELAY=0 to run without the relay, as on shared hosting (the
# page then polls), MAILHOOKS_SENDER=0 to run without the sender (cron
# runs mailhooks-sender --once instead), and for Apache:
#   MAILHOOKS_APACHE_CGI=1         the program as a plain CGI program
#   MAILHOOKS_APACHE_PROXY_FCGI=1  the program started here by spawn-fcgi,
#                                  reached with mod_proxy_fcgi
#   MAILHOOKS_HTPASSWD=FILE        the vhost's basic-auth block, with FILE
#   MAILHOOKS_RUN_AS=USER          who Apache, the program and the relay
#                                  run as when started by root (www-data)
set -eu

ROOT=$(cd "$(dirname "$0")" && pwd)
SERVER=${SERVER:-lighttpd}
PORT=${PORT:-8080}
MAILHOOKS_HOME=${MAILHOOKS_HOME:-$ROOT/var}
mkdir -p "$MAILHOOKS_HOME/run"
MAILHOOKS_HOME=$(cd "$MAILHOOKS_HOME" && pwd)
# One instance per data directory: a second one took over relay.sock and,
# when it stopped, left the first one's relay orphaned for good. The lock
# is held as long as this shell or anything it started runs.
exec 9>>"$MAILHOOKS_HOME/run/instance.lock"
if ! flock -n 9; then
	echo "run.sh: another mailhooks instance runs on $MAILHOOKS_HOME;" \
	    "stop it first" >&2
	exit 1
fi
MAILHOOKS_RELAY_PORT=${MAILHOOKS_RELAY_PORT:-$((PORT + 1))}
export MAILHOOKS_HOME MAILHOOKS_RELAY_PORT
run=$MAILHOOKS_HOME/run
# What the program reads (README, Configuration); lighttpd's config lists
# the same names in bin-copy-environment.
SETTINGS="MANDRILL_WEBHOOK_KEY MANDRILL_WEBHOOK_URL INFOBIP_WEBHOOK_TOKEN
    MAILHOOKS_MAX_BODY MAILHOOKS_TEST_EVENTS MAILHOOKS_RAW_MAX_AGE_DAYS
    MAILHOOKS_RAW_MAX_MB MAILHOOKS_EVENT_MAX_AGE_DAYS MAILHOOKS_FSYNC
    MAILHOOKS_ADMIN_PASSWORD
    MAILHOOKS_SESSION_IDLE MAILHOOKS_TRUST_REMOTE_USER
    MAILHOOKS_REMOTE_USER_CREATE MAILHOOKS_METRICS_PUBLIC
    MAILHOOKS_ALLOWED_ORIGINS MAILHOOKS_NOTIFY_ON MAILHOOKS_PUBLIC_URL
    MAILHOOKS_DEFAULT_REGION MAILHOOKS_MACHINE_RULES MAILHOOKS_NOTIFY_MACHINE"

# The web server refuses a body over MAILHOOKS_MAX_BODY before reading it
# (lighttpd counts in KiB). A value the program would refuse as a setting
# leaves the default, 16 MiB.
case ${MAILHOOKS_MAX_BODY:-} in
''|*[!0-9]*|?????????????*) max_body=16777216 ;;
*) max_body=$MAILHOOKS_MAX_BODY ;;
esac
max_request_kb=$(( (max_body + 1023) / 1024 ))

SITE=$ROOT	# where the served files are read from (see below)
fill() {
	sed -e "s|@ROOT@|$SITE|g" -e "s|@HOME@|$MAILHOOKS_HOME|g" \
	    -e "s|@PORT@|$PORT|g" -e "s|@RELAY_PORT@|$MAILHOOKS_RELAY_PORT|g" \
	    -e "s|@MAX_REQUEST_KB@|$max_request_kb|g" \
	    -e "s|@MAX_BODY@|$max_body|g" "$1"
}

# Apache will not serve as root: started by root, it and the relay run as
# an ordinary user, who then owns the data. run_as replaces the (sub)shell
# it is called in, so that $! is the program itself.
run_as() { exec "$@"; }

case $SERVER in
lighttpd)
	conf=$run/lighttpd.conf
	fill "$ROOT/lighttpd/mailhooks.conf.in" > "$conf"
	lighttpd -tt -f "$conf" >/dev/null
	set -- lighttpd -D -f "$conf"
	;;
apache)
	# Apache tunnels each WebSocket in one of its workers (400 with
	# mpm_event): the relay takes fewer subscribers, so that the webhooks
	# always find one.
	MAILHOOKS_RELAY_MAX_CLIENTS=${MAILHOOKS_RELAY_MAX_CLIENTS:-300}
	export MAILHOOKS_RELAY_MAX_CLIENTS
	mkdir -p "$run/apache/fcgid"
	conf=$run/apache/apache2.conf
	if [ "$(id -u)" = 0 ]; then
		user=${MAILHOOKS_RUN_AS:-www-data}
		# A checkout the user cannot read (a folder of root's, mode 0700,
		# above it) is served from a copy in the data directory.
		if ! setpriv --reuid="$user" --regid="$user" --init-groups -- \
		    test -r "$ROOT/apache/mailhooks.conf" -a \
		    -x "$ROOT/cgi-bin/mailhooks.fcgi" -a -r "$ROOT/www/index.html"
		then
			SITE=$run/site
			rm -rf "$SITE"
			mkdir -p "$SITE/cgi-bin/hooks" "$SITE/ws-relay" "$SITE/apache" \
			    "$SITE/sender"
			cp -R "$ROOT/www" "$SITE/"
			cp "$ROOT/cgi-bin/mailhooks.fcgi" "$SITE/cgi-bin/"
			cp "$ROOT/cgi-bin/hooks/mailhooks.fcgi" "$SITE/cgi-bin/hooks/"
			cp "$ROOT/ws-relay/mailhooks-relay" "$SITE/ws-relay/"
			cp "$ROOT/sender/mailhooks-sender" "$SITE/sender/"
			cp "$ROOT/apache/mailhooks.conf" "$SITE/apache/"
			echo "mailhooks: $user cannot read $ROOT; serving a copy" \
			    "in $SITE"
		fi
	fi
	{
		fill "$ROOT/apache/server.conf.in"
		[ "${MAILHOOKS_APACHE_CGI:-}" = 1 ] && echo "Define MAILHOOKS_CGI"
		[ "${MAILHOOKS_APACHE_PROXY_FCGI:-}" = 1 ] &&
		    echo "Define MAILHOOKS_PROXY_FCGI"
		if [ -n "${MAILHOOKS_HTPASSWD:-}" ]; then
			echo "Define MAILHOOKS_BASIC_AUTH"
			echo "Define MAILHOOKS_HTPASSWD \"$MAILHOOKS_HTPASSWD\""
		fi
		# The program's settings, passed with each request.
		for v in $SETTINGS; do
			eval "[ -n \"\${$v:-}\" ]" && echo "PassEnv $v"
		done
		echo "Include \"$SITE/apache/mailhooks.conf\""
	} > "$conf"
	if [ "$(id -u)" = 0 ]; then
		chown -R "$user:" "$MAILHOOKS_HOME"
		run_as() {
			exec setpriv --reuid="$user" --regid="$user" \
			    --init-groups -- "$@"
		}
	fi
	(run_as apache2 -t -f "$conf" 2>/dev/null) || (run_as apache2 -t -f "$conf")
	# A pid file left by an Apache that was killed would stop this one
	# when its pid has been reused; a live one would hold the port anyway.
	rm -f "$run/apache/apache2.pid"
	set -- apache2 -DFOREGROUND -f "$conf"
	;;
*)
	echo "run.sh: SERVER must be lighttpd or apache, not $SERVER" >&2
	exit 2
	;;
esac

server_pid=
relay_pid=
sender_pid=
fcgi_pid=
fcgi_hooks_pid=
stop() {
	trap - INT TERM
	echo "mailhooks: stopping"
	for pid in $sender_pid $relay_pid $fcgi_pid $fcgi_hooks_pid $server_pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait || true
	exit "${1:-0}"
}
trap 'stop 0' INT TERM

start_relay() {
	[ "${MAILHOOKS_RELAY:-1}" = 0 ] && return
	(run_as "$SITE/ws-relay/mailhooks-relay") &
	relay_pid=$!
}

# The sender of the outbox's mail (MANDRILL_API_KEY...: README), run as the
# program and the relay are.
start_sender() {
	[ "${MAILHOOKS_SENDER:-1}" = 0 ] && return
	(run_as "$SITE/sender/mailhooks-sender" --daemon) &
	sender_pid=$!
}

# The mod_proxy_fcgi variant: the program runs apart, on UNIX sockets, one
# process for the API and one of its own for the webhooks.
proxy_fcgi() {
	[ "$SERVER" = apache ] && [ "${MAILHOOKS_APACHE_PROXY_FCGI:-}" = 1 ]
}
spawn_fcgi() {
	rm -f "$run/$1"
	(run_as spawn-fcgi -n -s "$run/$1" -M 0600 -- \
	    "$SITE/cgi-bin/mailhooks.fcgi") &
}
start_fcgi() {
	proxy_fcgi || return 0
	spawn_fcgi mailhooks.fcgi.sock
	fcgi_pid=$!
}
start_fcgi_hooks() {
	proxy_fcgi || return 0
	spawn_fcgi mailhooks-hooks.fcgi.sock
	fcgi_hooks_pid=$!
}

# The program makes the first admin at its first start; its password is
# shown here, once (a later run finds the file there already).
first_password="$MAILHOOKS_HOME/initial-admin-password"
password_shown=
[ -e "$first_password" ] && password_shown=1
show_first_password() {
	[ -z "$password_shown" ] && [ -s "$first_password" ] || return 0
	password_shown=1
	echo "mailhooks: first sign-in: user admin, password" \
	    "$(head -n 1 "$first_password") (also in $first_password:" \
	    "change it with mailhooks-db user passwd admin, then delete it)"
}

start_fcgi
start_fcgi_hooks
(run_as "$@") &
server_pid=$!
start_relay
start_sender
echo "mailhooks: $SERVER on http://127.0.0.1:$PORT/ (data in $MAILHOOKS_HOME); Ctrl-C stops"

while :; do
	sleep 1 &
	wait $! || true
	show_first_password
	if ! kill -0 "$server_pid" 2>/dev/null; then
		# Ctrl-C reaches the server too, and it stops cleanly (status 0)
		# perhaps before this shell runs its trap.
		rc=0
		wait "$server_pid" || rc=$?
		server_pid=
		[ "$rc" -eq 0 ] || echo "mailhooks: $SERVER exited ($rc)" >&2
		stop "$rc"
	fi
	if [ -n "$relay_pid" ] && ! kill -0 "$relay_pid" 2>/dev/null; then
		wait "$relay_pid" 2>/dev/null || true
		echo "mailhooks: relay exited; starting it again" >&2
		start_relay
	fi
	if [ -n "$sender_pid" ] && ! kill -0 "$sender_pid" 2>/dev/null; then
		wait "$sender_pid" 2>/dev/null || true
		echo "mailhooks: sender exited; starting it again" >&2
		start_sender
	fi
	if [ -n "$fcgi_pid" ] && ! kill -0 "$fcgi_pid" 2>/dev/null; then
		wait "$fcgi_pid" 2>/dev/null || true
		echo "mailhooks: mailhooks.fcgi exited; starting it again" >&2
		start_fcgi
	fi
	if [ -n "$fcgi_hooks_pid" ] && ! kill -0 "$fcgi_hooks_pid" 2>/dev/null
	then
		wait "$fcgi_hooks_pid" 2>/dev/null || true
		echo "mailhooks: the webhooks' mailhooks.fcgi exited; starting" \
		    "it again" >&2
		start_fcgi_hooks
	fi
done
