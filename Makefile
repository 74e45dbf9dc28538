# mailhooks: make (all), make deps, make run [SERVER=apache], make test,
# make bench [BENCH_JSON=FILE], make fuzz [FUZZ_SECONDS=300], make clean
.SUFFIXES:

CC      ?= cc
PKGS    := fcgi json-c libwebsockets libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_CORE  = $(shell pkg-config --libs json-c libcrypto 2>/dev/null) -ldb -lcrypt \
               -lphonenumber -lstdc++
LDLIBS_FCGI  = -lfcgi $(LDLIBS_CORE)
LDLIBS_RELAY = $(shell pkg-config --libs libwebsockets json-c libcrypto 2>/dev/null)
# The one C++ file (core/phone.cc: libphonenumber behind a C interface).
CXX     ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -I.
SAN     = -fsanitize=address,undefined,float-cast-overflow \
          -fno-sanitize-recover=all -fno-omit-frame-pointer

SERVER         ?= lighttpd
PORT           ?= 8080
MAILHOOKS_HOME ?= $(CURDIR)/var
export SERVER PORT MAILHOOKS_HOME

# The layers: each folder is one, built into one static archive the
# programs link. core/ is pure (settings, providers, event types, deriving
# events, JSON and shapes); db/ is the storage; cgi-bin/ the FastCGI
# program; ws-relay/ the relay; sender/ the sender; tools/ mailhooks-db
# and mailhooks-ws. A folder's sources are its .c files but the ones that
# hold a program's main(). tests/structure/layers.t checks who includes
# and calls whom.
LAYERS = core db cgi-bin ws-relay sender tools
MAINS  = cgi-bin/main.c ws-relay/main.c sender/main.c tools/admin.c \
         tools/ws_client.c
layer_src = $(filter-out $(MAINS),$(wildcard $(1)/*.c $(1)/*.cc))
layer_obj = $(patsubst %,build/$(1)/%.o,$(basename $(call layer_src,$(2))))
HDRS = $(wildcard $(LAYERS:%=%/*.h))
CFLAGS += -I.

# Objects and archives in three builds: build/obj (the programs), build/san
# (the unit tests, with the sanitizers), build/fuzz (the fuzz targets).
# Each object depends on every header: a header changed rebuilds them all.
# $(call lib,BUILD,LAYERS...): those layers' archives, callers first.
lib = $(patsubst %,build/$(1)/%.a,$(2))
build/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -pthread -c -o $@ $<
build/san/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -c -o $@ $<
build/obj/%.o: %.cc $(HDRS)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -pthread -c -o $@ $<
build/san/%.o: %.cc $(HDRS)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(SAN) -pthread -c -o $@ $<
# The core's data built in: the machine rules (core/machine-rules.txt) as
# a C array, so that a program needs no file beside it.
GEN_core = gen/machine_rules
build/gen/machine_rules.c: core/machine-rules.txt
	@mkdir -p $(@D)
	perl -e 'local $$/; my $$t = <STDIN>; my @b = unpack("C*", $$t);' \
	    -e 'print "/* Made by make from core/machine-rules.txt. */\n#include <stddef.h>\n";' \
	    -e 'print "const char mh_machine_rules_default[] = {\n";' \
	    -e 'print join(",", @b), ",0\n};\nconst size_t mh_machine_rules_default_len = ", scalar(@b), ";\n";' \
	    < $< > $@
build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<
build/san/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -c -o $@ $<
build/fuzz/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

define layer_archive
build/$(1)/$(2).a: $$(call layer_obj,$(1),$(2)) $$(GEN_$(2):%=build/$(1)/%.o)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach b,obj san fuzz,$(foreach l,$(LAYERS),\
    $(eval $(call layer_archive,$(b),$(l)))))

BIN_FCGI   = cgi-bin/mailhooks.fcgi
# The same program for Apache's webhooks: mod_fcgid keeps a pool of
# processes per file, and the webhooks have a pool of their own.
BIN_FCGI_HOOKS = cgi-bin/hooks/mailhooks.fcgi
BIN_RELAY  = ws-relay/mailhooks-relay
BIN_WS     = tools/mailhooks-ws
BIN_ADMIN  = tools/mailhooks-db
BIN_SENDER = sender/mailhooks-sender
UNIT_TESTS = $(patsubst %.c,%.t,$(wildcard tests/unit/*.c))

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

$(BIN_FCGI): build/obj/cgi-bin/main.o $(call lib,obj,cgi-bin core db)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS_FCGI)

$(BIN_FCGI_HOOKS): $(BIN_FCGI)
	mkdir -p $(@D)
	cp $(BIN_FCGI) $@

$(BIN_ADMIN): build/obj/tools/admin.o $(call lib,obj,tools core db)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(BIN_RELAY): build/obj/ws-relay/main.o $(call lib,obj,ws-relay core)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS_RELAY) -lev

# The sender: outgoing HTTP (libcurl) on the storage layer and the core.
LDLIBS_CURL = $(shell pkg-config --libs libcurl 2>/dev/null)
$(BIN_SENDER): build/obj/sender/main.o $(call lib,obj,sender core db)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_CORE) $(LDLIBS_CURL)

$(BIN_WS): build/obj/tools/ws_client.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_RELAY)

# Unit tests: TAP programs built with the sanitizers, run by prove, linked
# with every layer's archive (a test takes only what it calls).
UNIT_LIBS = $(call lib,san,cgi-bin sender tools core db)
tests/unit/%.t: tests/unit/%.c tests/unit/tap.h $(UNIT_LIBS)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< $(UNIT_LIBS) \
	    $(LDLIBS_FCGI) $(LDLIBS_CURL)

# The restore's file copy, reached by including its file.
tests/unit/restore.t: tests/unit/restore.c tests/unit/tap.h \
    tools/admin_restore.c tools/admin.h
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $<

# The relay's count by address, reached by including its file.
tests/unit/peers.t: tests/unit/peers.c tests/unit/tap.h ws-relay/peers.c \
    ws-relay/relay.h
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< $(LDLIBS_RELAY)

# The relay's memory of used tickets, reached by including its file.
tests/unit/replay.t: tests/unit/replay.c tests/unit/tap.h ws-relay/tickets.c \
    ws-relay/relay.h $(call lib,san,core)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -pthread -o $@ $< \
	    $(call lib,san,core) $(LDLIBS_RELAY) $(LDLIBS_CORE)

# Fuzzing: a libFuzzer target for each parser of untrusted input, built
# with clang. make fuzz runs each for FUZZ_SECONDS (new inputs go to a
# scratch folder, findings to tests/fuzz/findings); make test runs each
# kept corpus once (tests/fuzz/corpus.t), so a crash found once stays fixed.
FUZZ_TARGETS = form signature json mandrill infobip pyrepr query \
               admin_args relay_types credentials mail campaign import
FUZZ_BINS    = $(FUZZ_TARGETS:%=tests/fuzz/%.fuzz)
FUZZ_SECONDS ?= 300
FUZZ_FLAGS   = -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror -g -O1 \
               -fsanitize=address,undefined,float-cast-overflow \
               -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_CFLAGS  = $(FUZZ_FLAGS) -fsanitize=fuzzer
# What the targets link: the layers' archives in build/fuzz/, instrumented
# for the fuzzer but without its main.
build/fuzz/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/%.o: %.cc $(HDRS)
	@mkdir -p $(@D)
	clang++ $(CXXFLAGS) -g -O1 -fsanitize=address,undefined \
	    -fno-sanitize=vptr -fno-sanitize-recover=all \
	    -fsanitize=fuzzer-no-link -c -o $@ $<
FUZZ_LIBS = $(call lib,fuzz,sender tools core db)

tests/fuzz/%.fuzz: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIBS)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIBS) $(LDLIBS_CORE) $(LDLIBS_CURL)

# The relay's parsers, reached by including their files.
tests/fuzz/relay_types.fuzz: tests/fuzz/relay_types.c ws-relay/ring.c \
    ws-relay/peers.c ws-relay/users.c ws-relay/frame.c ws-relay/relay.h \
    $(call lib,fuzz,core)
	clang $(FUZZ_CFLAGS) -o $@ $< $(call lib,fuzz,core) $(LDLIBS_RELAY) \
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
DEB_PKGS = pkg-config g++ libphonenumber-dev libfcgi-dev libjson-c-dev libdb-dev libwebsockets-dev \
           libwebsockets-evlib-ev libev-dev \
           libssl-dev lighttpd apache2 apache2-utils libapache2-mod-fcgid spawn-fcgi \
           db5.3-util chromium perl clang libclang-rt-14-dev \
           python3-prometheus-client libcrypt-dev libcurl4-openssl-dev tzdata
SUDO = $$( [ "$$(id -u)" = 0 ] || echo sudo )

TEST_TOOLS = tests/lib/inbox-put tests/lib/panic
BENCH_TOOLS = tests/bench/loadgen tests/bench/null tests/bench/fill \
              tests/bench/classify

tests/lib/inbox-put: tests/lib/inbox-put.c $(call lib,san,db)
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -o $@ $^ -ldb

tests/lib/panic: tests/lib/panic.c
	$(CC) $(CFLAGS) -o $@ $< -ldb

# The bench's tools, optimised like the programs they measure.
tests/bench/loadgen: tests/bench/loadgen.c
	$(CC) $(CFLAGS) -o $@ $< $$(pkg-config --libs libcrypto)

tests/bench/null: tests/bench/null.c
	$(CC) $(CFLAGS) -o $@ $< -lfcgi

tests/bench/classify: tests/bench/classify.c $(call lib,obj,core db)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(LDLIBS_CORE)

tests/bench/fill: tests/bench/fill.c $(call lib,obj,core db)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(LDLIBS_CORE)

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

# nchan, which make bench runs beside mailhooks (never make run or make
# test): Debian's nginx and its module, installed without starting the
# service (a policy-rc.d that refuses, when none is there).
BENCH_PKGS = nginx-light libnginx-mod-nchan

bench-deps:
	@missing=""; for p in $(BENCH_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "make bench: installing Debian packages:$$missing"; \
	    made=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	        printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d \
	            >/dev/null && $(SUDO) chmod 755 /usr/sbin/policy-rc.d && made=1; \
	    fi; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	        --no-install-recommends $$missing; rc=$$?; \
	    [ -z "$$made" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d; \
	    exit $$rc; \
	fi

# Subscribers by the thousand: as many descriptors as the hard limit allows.
bench: deps bench-deps
	$(MAKE) all $(BENCH_TOOLS)
	ulimit -n $$(ulimit -Hn) && perl tests/bench/bench.pl

clean:
	rm -f $(BIN_FCGI) $(BIN_RELAY) $(BIN_WS) $(BIN_ADMIN) $(BIN_SENDER) \
	    $(UNIT_TESTS) $(TEST_TOOLS) $(BENCH_TOOLS) $(FUZZ_BINS)
	rm -rf build

.PHONY: all deps bench-deps run test bench fuzz clean
