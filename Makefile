# aws-account-operator in C: build, test, lint, run.
#
# Sources are discovered, not listed: every pkg/**/*.c goes into one static
# library, every test/unit/check_*.c is its own Check suite binary, every
# test/fuzz/fuzz_*.c a libFuzzer target. Adding a module or a suite needs no
# edit here.
#
# Variants live under their own build directory so they never mix objects:
#   build/        normal build (-O2 -g)
#   build/asan/   AddressSanitizer + UndefinedBehaviorSanitizer (-O1)

SHELL      := /bin/bash
CC         ?= cc
BUILD      ?= build
SAN        ?=
PY         := /usr/bin/python3
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo 0.0.0)

PKGS       := libuv libcurl jansson yaml-0.1 libxml-2.0 libssl libcrypto
# Debian's libhttp-parser-dev ships no pkg-config file; it is linked directly.
EXTRA_LIBS := -lhttp_parser -lm
CHECK_PC   := check

CSTD       := -std=c11 -D_GNU_SOURCE
WARN       := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
              -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(SAN),1)
OPT        := -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN      := -fsanitize=address,undefined
else
OPT        := -O2 -g
LDSAN      :=
endif
# libFuzzer coverage instrumentation for the fuzz build (must precede CFLAGS).
ifeq ($(FUZZ),1)
OPT        += -fsanitize=fuzzer-no-link
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHK_CFLAGS := $(shell pkg-config --cflags $(CHECK_PC) 2>/dev/null)
CHK_LIBS   := $(shell pkg-config --libs $(CHECK_PC) 2>/dev/null)

CPPFLAGS   := -Ipkg -I. -DAAO_VERSION='"$(VERSION)"'
CFLAGS     := $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) -MMD -MP
LDLIBS     := $(PKG_LIBS) $(EXTRA_LIBS)

LIB_SRCS   := $(shell find pkg -name '*.c' | sort)
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB        := $(BUILD)/libaao.a

CMD_SRCS   := $(wildcard cmd/aws-account-operator/*.c)
CMD_OBJS   := $(CMD_SRCS:%.c=$(BUILD)/obj/%.o)
BIN        := bin/aws-account-operator

TSUP_SRCS  := $(wildcard test/unit/support/*.c)
TSUP_OBJS  := $(TSUP_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS  := $(sort $(wildcard test/unit/check_*.c))
TEST_BINS  := $(TEST_SRCS:test/unit/%.c=$(BUILD)/test/%)

# Small C programs the e2e suite drives against the stand-ins, one binary
# each: build/drivers/NAME from test/e2e/drivers/NAME.c, or from every .c of
# the folder test/e2e/drivers/NAME/.
DRV_SRCS   := $(sort $(wildcard test/e2e/drivers/*.c test/e2e/drivers/*/*.c))
DRV_NAMES  := $(sort $(notdir $(basename $(wildcard test/e2e/drivers/*.c)) \
                $(patsubst %/,%,$(dir $(wildcard test/e2e/drivers/*/*.c)))))
DRV_BINS   := $(DRV_NAMES:%=$(BUILD)/drivers/%)
drv_objs    = $(patsubst %.c,$(BUILD)/obj/%.o,\
                $(wildcard test/e2e/drivers/$(1).c test/e2e/drivers/$(1)/*.c))

bench_objs  = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard test/bench/$(1)/*.c))

FUZZ_SRCS  := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:test/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 20
# make run KUBE=envtest: the demo against a genuine kube-apiserver.
KUBE       ?=


# Keep test objects (they are intermediates of the suite binaries).
.SECONDARY:

.PHONY: all deps test test-unit test-unit-run test-asan test-asan-run \
        test-valgrind test-valgrind-run test-e2e test-e2e-run test-e2e-asan \
        test-e2e-asan-run peers need-pkgs lint fmt run run-local clean \
        distclean fuzz fuzz-run fuzz-smoke bench test-monitoring \
        monitoring-rules
.DEFAULT_GOAL := all

all: need-pkgs $(BIN)

deps:
	@hack/install-deps.sh

$(BIN): $(CMD_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/test/%.o: test/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itest/unit $(CFLAGS) $(CHK_CFLAGS) -c -o $@ $<

$(BUILD)/test/%: $(BUILD)/obj/test/unit/%.o $(TSUP_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS) $(CHK_LIBS)

# check_cmd tests the daemon's own modules (cmd/, not in the library).
$(BUILD)/test/check_cmd: $(BUILD)/obj/cmd/aws-account-operator/ccs_access.o \
                         $(BUILD)/obj/cmd/aws-account-operator/devmode.o

# A driver's objects depend on its name (the stem): expanded a second time.
.SECONDEXPANSION:
$(BUILD)/drivers/%: $$(call drv_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# Benchmark drivers: build/bench/NAME from every .c of test/bench/NAME/.
$(BUILD)/bench/%: $$(call bench_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/test/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# ---- tests ---------------------------------------------------------------
#
# The entry points a user types (test, test-*, run) install what is missing
# first and only then start a second make: that one parses this file anew,
# so pkg-config is asked once the packages are there (a fresh machine's
# first `make run` or `make test` works).

# After lint, the build and the unit suites, three lanes run side by side
# (test/stages.sh prints each lane's output whole as it ends): the e2e
# runner, which mostly waits on timers; the ASan+UBSan tree (unit suites,
# then one e2e scenario with the operator built from it); valgrind, then the
# fuzz smoke run.
test: deps
	$(MAKE) lint
	$(MAKE) -j2 all $(TEST_BINS) $(DRV_BINS)
	$(MAKE) test-unit-run
	$(MAKE) test-monitoring
	@test/stages.sh "e2e=$(MAKE) test-e2e-run" \
	  "asan=$(MAKE) test-asan-run && $(MAKE) test-e2e-asan-run" \
	  "valgrind=$(MAKE) UNIT_JOBS=2 test-valgrind-run && $(MAKE) fuzz-smoke"
	@echo "make test: all stages passed"

test-unit: deps
	$(MAKE) test-unit-run

# Alert rules (deploy/monitoring): promtool's check and unit tests, the
# PrometheusRule generated from rules.yml unchanged, runbooks and tests for
# every alert (seconds). The dashboard and the rules against a live
# Prometheus: test/e2e/test_dashboard.py.
PROMTOOL ?= /usr/bin/promtool
test-monitoring:
	$(PROMTOOL) check rules deploy/monitoring/rules.yml
	$(PROMTOOL) test rules test/monitoring/*.test.yml
	$(PY) hack/gen-prometheusrule.py --check
	$(PY) test/monitoring/check_rules.py

# Regenerate deploy/monitoring/prometheusrule.yaml after editing rules.yml.
monitoring-rules:
	$(PY) hack/gen-prometheusrule.py

test-unit-run: need-pkgs $(TEST_BINS)
	@test/unit/run.sh $(BUILD)/test $(TEST_BINS)

test-asan: deps
	$(MAKE) test-asan-run

test-asan-run:
	$(MAKE) -j2 BUILD=build/asan SAN=1 test-unit-run

test-valgrind: deps
	$(MAKE) test-valgrind-run

test-valgrind-run: need-pkgs $(TEST_BINS)
	@VALGRIND=1 test/unit/run.sh $(BUILD)/test $(TEST_BINS)

# One e2e scenario (E2E_ASAN_MODULES) with the operator built under ASan and
# UBSan; conftest.py fails the module on any sanitizer report in the
# operator's output, leaks at its exit included.
E2E_ASAN_MODULES ?= test_claim_lifecycle
ASAN_BIN   := build/asan/bin/aws-account-operator
test-e2e-asan: deps
	$(MAKE) test-e2e-asan-run

test-e2e-asan-run: need-pkgs $(DRV_BINS) peers
	$(MAKE) -j2 BUILD=build/asan SAN=1 BIN=$(ASAN_BIN) $(ASAN_BIN)
	AAO_OPERATOR_BIN=$(CURDIR)/$(ASAN_BIN) \
	  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(PY) test/e2e/run.py --only $(E2E_ASAN_MODULES) --timeout 600 test/e2e

test-e2e: deps
	$(MAKE) test-e2e-run

# The genuine peers (kube-apiserver, etcd and kubectl built from pinned Go
# modules; moto in a pinned virtualenv) are built once and cached under
# .cache/ (AAO_CACHE); the scripts rebuild only when a pin changes.
peers:
	@hack/envtest.sh install >/dev/null
	@hack/venv.sh >/dev/null

# Drivers are found by the tests under build/drivers/. Every pytest module
# of the stand-ins' own tests (and their parity with the genuine server) and
# of the scenarios is one process of test/e2e/run.py, E2E_JOBS at a time,
# longest first (test/e2e/durations.json); each starts its own peers on free
# ports. A skip counts as a failure (test/e2e/noskip.py and the runner).
# E2E_ONLY=a,b runs only the modules whose path contains one of the words;
# PYTEST_ARGS go to every module's pytest.
E2E_JOBS   ?= 4
test-e2e-run: need-pkgs $(BIN) $(DRV_BINS) peers
	$(PY) test/e2e/run.py -j $(E2E_JOBS) test/fakes/tests test/e2e \
	  $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

# A build without the -dev packages fails on a missing header far from the
# cause; say what is missing and how to get it instead.
need-pkgs:
	@pkg-config --exists $(PKGS) $(CHECK_PC) || { \
	  echo "missing build dependencies (pkg-config: $(PKGS) $(CHECK_PC));" \
	       "run: make deps" >&2; exit 1; }

# The operator against its peers, measured (docs/benchmarks.md); not part of
# `make test`. Overrides: make bench BENCH_ARGS="--fill 200 --fleet 1000,5000"
# (hack/bench.py --help).
bench: need-pkgs $(BIN) peers
	$(PY) hack/bench.py $(BENCH_ARGS)

# ---- quality -------------------------------------------------------------

C_FILES = $(shell find cmd pkg test -name '*.[ch]' | sort)

lint:
	@hack/lint.sh

fmt:
	clang-format -i $(C_FILES)

# ---- run -----------------------------------------------------------------

run: deps
	$(MAKE) run-local

# KUBE=envtest runs the demo against a genuine kube-apiserver and etcd.
run-local: need-pkgs $(BIN)
	@KUBE=$(KUBE) hack/run-local.sh

# libFuzzer targets for every parser fed by the network, built with clang
# into their own tree; each runs FUZZ_SECONDS (a smoke run, not a campaign).
fuzz: deps
	$(MAKE) BUILD=build/fuzz CC=clang SAN=1 FUZZ=1 fuzz-run

fuzz-run: $(FUZZ_BINS)
	@hack/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# make test's share: every target for FUZZ_SMOKE_SECONDS.
FUZZ_SMOKE_SECONDS ?= 10
fuzz-smoke:
	$(MAKE) -j2 BUILD=build/fuzz CC=clang SAN=1 FUZZ=1 \
	  FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) fuzz-run

clean:
	rm -rf build bin

# The cached peers (Go builds, virtualenv) take minutes to rebuild.
distclean: clean
	rm -rf .cache

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(TSUP_OBJS:.o=.d) \
         $(TEST_SRCS:test/unit/%.c=$(BUILD)/obj/test/unit/%.d) \
         $(DRV_SRCS:%.c=$(BUILD)/obj/%.d) \
         $(FUZZ_SRCS:test/fuzz/%.c=$(BUILD)/obj/test/fuzz/%.d)
