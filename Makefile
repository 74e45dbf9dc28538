# mailhooks: make (all), make deps, make run [SERVER=apache], make test,
# make bench [BENCH_JSON=FILE], make fuzz [FUZZ_SECONDS=300], make clean
.SUFFIXES:

CC      ?= cc
PKGS    := fcgi json-c libwebsockets libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_CORE  = $(shell pkg-config --libs json-c libcrypto 2>/dev/null) -ldb -lcrypt
LDLIBS_FCGI  = -lfcgi $(LDLIBS_CORE)
LDLIBS_RELAY = $(shell pkg-config --libs libwebsockets json-c libcrypto 2>/dev/null)
SAN     = -fsanitize=address,undefined,float-cast-overflow \
          -fno-sanitize-recover=all -fno-omit-frame-pointer

SERVER         ?= lighttpd
PORT           ?= 8080
MAILHOOKS_HOME ?= $(CURDIR)/var
export SERVER PORT MAILHOOKS_HOME

# The storage layer; what every program links (core.h: settings, the
# providers, deriving events, the relay datagram); the HTTP side.
DB_SRC   = db/env.c db/tables.c db/txn.c db/codec.c db/process.c \
           db/entry.c db/inbox.c db/drain.c db/set_aside.c db/events.c \
           db/messages.c db/query.c db/stats.c db/retention.c \
           db/refused.c db/reprocess.c db/backup.c db/tallies.c \
           db/users.c db/keyed.c db/sessions.c db/tokens.c db/signin.c \
           db/idempotency.c db/notifications.c db/indexed.c \
           db/outbox.c db/queued.c db/lease.c db/clients.c db/records.c \
           db/campaign_messages.c db/event_index.c db/search.c \
           db/erase.c db/series.c db/reindex.c db/grams.c db/chunk.c \
           db/claim.c
CORE_SRC = cgi-bin/alloc.c cgi-bin/buf.c cgi-bin/config.c cgi-bin/form.c \
           cgi-bin/signature.c cgi-bin/json.c cgi-bin/json_check.c \
           cgi-bin/shape.c cgi-bin/event_types.c cgi-bin/isotime.c \
           cgi-bin/mandrill.c cgi-bin/infobip.c cgi-bin/infobip_normal.c \
           cgi-bin/providers.c \
           cgi-bin/pyrepr.c cgi-bin/derive.c cgi-bin/summary.c \
           cgi-bin/notify.c cgi-bin/number.c cgi-bin/identity.c \
           cgi-bin/counters.c cgi-bin/password.c cgi-bin/secrets.c \
           cgi-bin/ticket.c cgi-bin/credentials.c cgi-bin/notification.c \
           cgi-bin/mail.c cgi-bin/mail_state.c cgi-bin/client.c \
           cgi-bin/campaign.c cgi-bin/fields.c cgi-bin/campaign_plan.c \
           cgi-bin/cmessage.c cgi-bin/logvalue.c
# What the program and the admin tool both do to the accounts.
ACCOUNT_SRC = cgi-bin/accounts.c
HTTP_LIB = cgi-bin/request.c cgi-bin/respond.c cgi-bin/route.c \
           cgi-bin/ingest.c cgi-bin/hook_mandrill.c cgi-bin/hook_infobip.c \
           cgi-bin/api_test_event.c cgi-bin/page.c cgi-bin/api_events.c \
           cgi-bin/api_stats.c cgi-bin/api_messages.c cgi-bin/api_health.c \
           cgi-bin/app.c cgi-bin/drain.c cgi-bin/worker.c cgi-bin/worker_start.c \
           cgi-bin/checkpointer.c cgi-bin/trace.c cgi-bin/api_metrics.c \
           cgi-bin/auth.c cgi-bin/throttle.c cgi-bin/api_session.c \
           cgi-bin/api_tokens.c cgi-bin/api_ws_ticket.c $(ACCOUNT_SRC) \
           cgi-bin/api_notifications.c cgi-bin/api_notification.c \
           cgi-bin/api_mail.c cgi-bin/api_mail_one.c cgi-bin/api_clients.c \
           cgi-bin/api_campaigns.c cgi-bin/api_campaign_stats.c \
           cgi-bin/api_series.c cgi-bin/api_reports.c cgi-bin/api_recipients.c \
           cgi-bin/api_refused.c cgi-bin/api_raw.c cgi-bin/watchdog.c
HTTP_SRC = $(HTTP_LIB) cgi-bin/main.c
RELAY_SRC = ws-relay/main.c ws-relay/shard.c ws-relay/clients.c \
            ws-relay/ring.c ws-relay/peers.c cgi-bin/event_types.c \
            cgi-bin/config.c cgi-bin/number.c cgi-bin/alloc.c \
            cgi-bin/json.c cgi-bin/json_check.c cgi-bin/counters.c \
            cgi-bin/secrets.c cgi-bin/ticket.c cgi-bin/credentials.c \
            ws-relay/tickets.c ws-relay/users.c ws-relay/frame.c
DB_HDRS  = db/store.h db/store-private.h db/store-index.h db/drain.h
CORE_HDRS = cgi-bin/core.h cgi-bin/providers.h cgi-bin/logvalue.h cgi-bin/access.h cgi-bin/records.h cgi-bin/counters.h db/store.h \
            db/store_accounts.h db/store_notifications.h db/store_outbox.h \
            db/store_campaigns.h db/store_events.h cgi-bin/accounts.h
HDRS     = cgi-bin/mailhooks.h cgi-bin/page.h cgi-bin/worker.h cgi-bin/watchdog.h $(CORE_HDRS) $(DB_HDRS)

BIN_FCGI   = cgi-bin/mailhooks.fcgi
# The same program for Apache's webhooks: mod_fcgid keeps a pool of
# processes per file, and the webhooks have a pool of their own.
BIN_FCGI_HOOKS = cgi-bin/hooks/mailhooks.fcgi
BIN_RELAY  = ws-relay/mailhooks-relay
BIN_WS     = ws-relay/mailhooks-ws
BIN_ADMIN  = db/mailhooks-db
BIN_SENDER = sender/mailhooks-sender
UNIT_TESTS = tests/unit/form.t tests/unit/signature.t tests/unit/mandrill.t \
             tests/unit/store.t tests/unit/infobip.t tests/unit/pyrepr.t \
             tests/unit/json.t tests/unit/shape.t tests/unit/config.t \
             tests/unit/derive.t tests/unit/request.t tests/unit/restore.t \
             tests/unit/peers.t tests/unit/openapi.t tests/unit/password.t \
             tests/unit/access.t tests/unit/replay.t tests/unit/notification.t \
             tests/unit/outbox.t tests/unit/mail.t \
             tests/unit/sender.t tests/unit/campaign_send.t \
             tests/unit/cmessages.t tests/unit/grams.t \
             tests/unit/idempotency.t tests/unit/runs.t tests/unit/watchdog.t \
             tests/unit/counters.t

# Swagger UI for /docs/ and uPlot for the page's chart, from npm
# (vendor/package.json): copied beside their pages, never committed. No
# install script (Swagger UI's: analytics) is run.
DOCS_UI = www/docs/swagger-ui-bundle.js www/docs/swagger-ui.css
CHART_UI = www/vendor/uPlot.iife.min.js www/vendor/uPlot.min.css

all: $(BIN_FCGI) $(BIN_FCGI_HOOKS) $(BIN_RELAY) $(BIN_WS) $(BIN_ADMIN) $(BIN_SENDER) $(DOCS_UI) \
     $(CHART_UI)
vendor/node_modules: vendor/package.json vendor/package-lock.json
	cd vendor && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit \
	    --no-fund --loglevel=error
	touch $@

$(DOCS_UI): vendor/node_modules
	cp vendor/node_modules/swagger-ui-dist/$(@F) $@

$(CHART_UI): vendor/node_modules
	mkdir -p www/vendor
	cp vendor/node_modules/uplot/dist/$(@F) $@

$(BIN_FCGI): $(HTTP_SRC) $(CORE_SRC) $(DB_SRC) $(HDRS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -pthread -o $@ $(HTTP_SRC) $(CORE_SRC) \
	    $(DB_SRC) $(LDLIBS_FCGI)

$(BIN_FCGI_HOOKS): $(BIN_FCGI)
	mkdir -p $(@D)
	cp $(BIN_FCGI) $@

# The admin tool links the storage layer and the core, not the HTTP side.
ADMIN_SRC = db/admin.c db/admin_commands.c db/admin_restore.c \
            db/admin_users.c db/admin_tokens.c db/admin_notify.c \
            db/admin_mail.c \
            $(ACCOUNT_SRC)
$(BIN_ADMIN): $(ADMIN_SRC) db/admin.h $(CORE_SRC) $(DB_SRC) $(CORE_HDRS) \
    $(DB_HDRS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(ADMIN_SRC) $(CORE_SRC) $(DB_SRC) \
	    $(LDLIBS_CORE)

$(BIN_RELAY): $(RELAY_SRC) ws-relay/relay.h cgi-bin/core.h cgi-bin/access.h cgi-bin/records.h \
    cgi-bin/counters.h
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -pthread -o $@ $(RELAY_SRC) $(LDLIBS_RELAY) -lev

# The sender: outgoing HTTP (libcurl) on the storage layer and the core.
SENDER_LIB = sender/send.c sender/record.c sender/http.c sender/mandrill.c \
             sender/attempt.c sender/campaign_api.c sender/cm_step.c \
             sender/breaker.c sender/tzwin.c sender/schedule.c \
             sender/campaigns.c sender/campaign_end.c sender/own_mail.c \
             sender/report.c
SENDER_SRC = sender/main.c $(SENDER_LIB)
LDLIBS_SENDER = $(LDLIBS_CORE) $(shell pkg-config --libs libcurl 2>/dev/null)
$(BIN_SENDER): $(SENDER_SRC) sender/sender.h sender/campaigns.h $(CORE_SRC) \
    $(DB_SRC) \
    $(CORE_HDRS) $(DB_HDRS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(SENDER_SRC) $(CORE_SRC) $(DB_SRC) \
	    $(LDLIBS_SENDER)

$(BIN_WS): ws-relay/client.c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ ws-relay/client.c $(LDLIBS_RELAY)

# Unit tests: TAP programs built with the sanitizers, run by prove. What
# they link is compiled once, into build/san/ (each object depends on
# every header: a header changed rebuilds them all).
SAN_OBJ = $(patsubst %.c,build/san/%.o,$(1))
build/san/%.o: %.c $(HDRS) sender/sender.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -c -o $@ $<
UNIT_LIB = $(call SAN_OBJ,$(CORE_SRC) $(DB_SRC))

tests/unit/%.t: tests/unit/%.c tests/unit/tap.h $(UNIT_LIB)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $< $(UNIT_LIB) \
	    $(LDLIBS_CORE)

# The request's test, and the route table's against the API's description,
# reach the HTTP side too.
tests/unit/request.t tests/unit/openapi.t tests/unit/watchdog.t: \
    tests/unit/%.t: tests/unit/%.c \
    tests/unit/tap.h $(call SAN_OBJ,$(HTTP_LIB)) $(UNIT_LIB)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< \
	    $(call SAN_OBJ,$(HTTP_LIB)) $(UNIT_LIB) $(LDLIBS_FCGI)

# The sender's pure parts: an answer's meaning, retries, attempts.
tests/unit/sender.t: tests/unit/sender.c tests/unit/tap.h \
    $(call SAN_OBJ,sender/mandrill.c sender/attempt.c) $(UNIT_LIB)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $< \
	    $(call SAN_OBJ,sender/mandrill.c sender/attempt.c) $(UNIT_LIB) \
	    $(LDLIBS_CORE)

# Sending campaigns' pure parts: windows, the breaker, the API, steps.
CAMPAIGN_SEND_OBJ = $(call SAN_OBJ,sender/campaign_api.c sender/cm_step.c \
    sender/breaker.c sender/tzwin.c sender/attempt.c sender/mandrill.c)
tests/unit/campaign_send.t: tests/unit/campaign_send.c tests/unit/tap.h \
    $(CAMPAIGN_SEND_OBJ) $(UNIT_LIB)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $< $(CAMPAIGN_SEND_OBJ) \
	    $(UNIT_LIB) $(LDLIBS_CORE) $(shell pkg-config --libs libcurl)

# The restore's file copy, reached by including its file.
tests/unit/restore.t: tests/unit/restore.c tests/unit/tap.h db/admin_restore.c \
    db/admin.h
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $<

# The relay's count by address, reached by including its file.
tests/unit/peers.t: tests/unit/peers.c tests/unit/tap.h ws-relay/peers.c \
    ws-relay/relay.h
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< $(LDLIBS_RELAY)

# The relay's memory of used tickets, reached by including its file.
tests/unit/replay.t: tests/unit/replay.c tests/unit/tap.h ws-relay/tickets.c \
    ws-relay/relay.h $(call SAN_OBJ,$(CORE_SRC))
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< \
	    $(call SAN_OBJ,$(CORE_SRC)) $(LDLIBS_RELAY) $(LDLIBS_CORE)

# Fuzzing: a libFuzzer target for each parser of untrusted input, built
# with clang. make fuzz runs each for FUZZ_SECONDS (new inputs go to a
# scratch folder, findings to tests/fuzz/findings); make test runs each
# kept corpus once (tests/fuzz/corpus.t), so a crash found once stays fixed.
FUZZ_TARGETS = form signature json mandrill infobip pyrepr query \
               admin_args relay_types credentials mail campaign
FUZZ_BINS    = $(FUZZ_TARGETS:%=tests/fuzz/%.fuzz)
FUZZ_SECONDS ?= 300
FUZZ_FLAGS   = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
               -fsanitize=address,undefined,float-cast-overflow \
               -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_CFLAGS  = $(FUZZ_FLAGS) -fsanitize=fuzzer
# What the targets link, compiled once into build/fuzz/, instrumented for
# the fuzzer but without its main.
FUZZ_OBJ = $(patsubst %.c,build/fuzz/%.o,$(1))
build/fuzz/%.o: %.c $(HDRS) sender/sender.h db/admin.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
FUZZ_CORE = $(call FUZZ_OBJ,$(CORE_SRC))
FUZZ_DB   = $(call FUZZ_OBJ,$(DB_SRC))

tests/fuzz/%.fuzz: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_CORE)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE) $(LDLIBS_CORE)

tests/fuzz/admin_args.fuzz: tests/fuzz/admin_args.c \
    $(call FUZZ_OBJ,$(filter-out db/admin.c,$(ADMIN_SRC))) $(FUZZ_CORE) \
    $(FUZZ_DB)
	clang $(FUZZ_CFLAGS) -o $@ $< \
	    $(call FUZZ_OBJ,$(filter-out db/admin.c,$(ADMIN_SRC))) \
	    $(FUZZ_CORE) $(FUZZ_DB) $(LDLIBS_CORE)

tests/fuzz/mail.fuzz: tests/fuzz/mail.c tests/fuzz/fuzz.h \
    $(call FUZZ_OBJ,sender/mandrill.c) $(FUZZ_CORE) $(FUZZ_DB)
	clang $(FUZZ_CFLAGS) -o $@ $< $(call FUZZ_OBJ,sender/mandrill.c) \
	    $(FUZZ_CORE) $(FUZZ_DB) $(LDLIBS_CORE)

tests/fuzz/campaign.fuzz: tests/fuzz/campaign.c tests/fuzz/fuzz.h \
    $(call FUZZ_OBJ,sender/campaign_api.c) $(FUZZ_CORE)
	clang $(FUZZ_CFLAGS) -o $@ $< $(call FUZZ_OBJ,sender/campaign_api.c) \
	    $(FUZZ_CORE) $(LDLIBS_CORE) $(shell pkg-config --libs libcurl)

tests/fuzz/relay_types.fuzz: tests/fuzz/relay_types.c ws-relay/ring.c \
    ws-relay/peers.c ws-relay/users.c ws-relay/frame.c ws-relay/relay.h \
    $(FUZZ_CORE)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE) $(LDLIBS_RELAY) \
	    $(LDLIBS_CORE)

fuzz: deps
	$(MAKE) $(FUZZ_BINS)
	mkdir -p tests/fuzz/findings
	for t in $(FUZZ_TARGETS); do \
	    scratch=$$(mktemp -d) && \
	    tests/fuzz/$$t.fuzz -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=tests/fuzz/findings/$$t- -print_final_stats=1 \
	        $$scratch tests/fuzz/corpus/$$t 2>&1 | \
	        grep -E '^(stat::number_of_executed_units|==|SUMMARY|#[0-9]+ *DONE)' \
	        | sed "s|^|$$t: |"; rm -rf $$scratch; \
	done

# Debian packages the build, make run and the tests need.
DEB_PKGS = pkg-config libfcgi-dev libjson-c-dev libdb-dev libwebsockets-dev \
           libwebsockets-evlib-ev libev-dev \
           libssl-dev lighttpd apache2 apache2-utils libapache2-mod-fcgid spawn-fcgi \
           db5.3-util chromium perl clang libclang-rt-14-dev \
           python3-prometheus-client libcrypt-dev libcurl4-openssl-dev tzdata
SUDO = $$( [ "$$(id -u)" = 0 ] || echo sudo )

TEST_TOOLS = tests/lib/inbox-put tests/lib/panic
BENCH_TOOLS = tests/bench/loadgen tests/bench/null tests/bench/fill

tests/lib/inbox-put: tests/lib/inbox-put.c $(DB_SRC) $(DB_HDRS)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $< $(DB_SRC) -ldb

tests/lib/panic: tests/lib/panic.c
	$(CC) $(CFLAGS) -o $@ $< -ldb

# The bench's tools, optimised like the programs they measure.
tests/bench/loadgen: tests/bench/loadgen.c
	$(CC) $(CFLAGS) -o $@ $< $$(pkg-config --libs libcrypto)

tests/bench/null: tests/bench/null.c
	$(CC) $(CFLAGS) -o $@ $< -lfcgi

tests/bench/fill: tests/bench/fill.c $(CORE_SRC) $(DB_SRC) $(HDRS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(CORE_SRC) $(DB_SRC) \
	    $$(pkg-config --libs json-c libcrypto) -ldb -lcrypt

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	        --no-install-recommends $$missing; \
	fi

tests/browser/node_modules: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tests/spec/node_modules: tests/spec/package.json tests/spec/package-lock.json
	cd tests/spec && npm ci --ignore-scripts --no-audit --no-fund \
	    --loglevel=error
	touch $@

run: deps
	$(MAKE) all
	@sh run.sh

# The suites write down every answer they get (MAILHOOKS_ANSWERS); once
# they are done, tests/spec/answers.t checks each against the description.
# A failed test's line and its comments are printed, so that CI's log says
# why.
test: deps
	$(MAKE) -j2 all $(UNIT_TESTS) $(TEST_TOOLS) $(BENCH_TOOLS) $(FUZZ_BINS) \
	    tests/browser/node_modules tests/spec/node_modules
	answers=$$(mktemp -d) && ulimit -n $$(ulimit -Hn) && \
	{ MAILHOOKS_ANSWERS=$$answers prove -j2 --failures --comments --exec '' \
	    tests/unit/*.t tests/structure/*.t tests/fuzz/*.t tests/spec/lint.t \
	    tests/integration/*.t tests/apache/*.t tests/browser/*.t \
	    tests/bench/*.t; suites=$$?; \
	  MAILHOOKS_ANSWERS=$$answers prove --exec '' tests/spec/answers.t; \
	  spec=$$?; rm -rf "$$answers"; [ $$suites = 0 ] && [ $$spec = 0 ]; }

# Subscribers by the thousand: as many descriptors as the hard limit allows.
bench: deps
	$(MAKE) all $(BENCH_TOOLS)
	ulimit -n $$(ulimit -Hn) && perl tests/bench/bench.pl

clean:
	rm -f $(BIN_FCGI) $(BIN_RELAY) $(BIN_WS) $(BIN_ADMIN) $(BIN_SENDER) \
	    $(UNIT_TESTS) $(TEST_TOOLS) $(BENCH_TOOLS) $(FUZZ_BINS)
	rm -rf build

.PHONY: all deps run test bench fuzz clean
