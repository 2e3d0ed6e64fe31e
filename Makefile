# deg: the Digital Energy Grid inside PostgreSQL.
#
#   make            build the extension
#   make install    install it into the PostgreSQL that pg_config names
#   make deps       install the Debian packages the build and tests need
#   make test       deps, build, install, throwaway cluster, every test suite
#   make demo       deps, build, install, throwaway cluster, the main job
#   make bench      deps, build, install, throwaway cluster, the benchmarks
#   make memcheck   deps, build; every cluster suite against an AddressSanitizer
#                   and UBSan build, pg_regress under valgrind, then memory
#                   growth over a million rows
#   make fuzz       the libFuzzer targets of src/core, FUZZ_SECONDS (60) each

EXTENSION   = deg
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

PG_CONFIG  ?= pg_config

CORE_SRCS   = $(sort $(wildcard src/core/*.c))
GLUE_SRCS   = $(sort $(wildcard src/*.c))
MODULE_big  = $(EXTENSION)
OBJS        = $(GLUE_SRCS:.c=.o) $(CORE_SRCS:.c=.o)

SQL_PARTS   = $(sort $(wildcard sql/$(EXTENSION)/*.sql))
DATA_built  = sql/$(EXTENSION)--$(EXTVERSION).sql

# pg_regress: inputs sql/<test>.sql, expected outputs expected/<test>.out
REGRESS     = era resources offers credentials contracts tariffs billing markets
REGRESS_OPTS = --inputdir=. --outputdir=.

# PostgreSQL's headers are read as system headers, so that -Wextra applies to
# deg's code and not to theirs
PG_CPPFLAGS = -I$(CURDIR)/src -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
PG_CFLAGS   = -Wall -Wextra -Werror
SHLIB_LINK  = -lsodium -lz
EXTRA_CLEAN = $(UNIT_BINS) results regression.diffs regression.out

# JIT bitcode would need clang; the extension does not need it
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Without the server headers only `make deps` (and targets that call it first) work.
all install installcheck:
	@echo "PostgreSQL server development files are missing: run 'make deps' first." >&2; exit 1
endif

$(DATA_built): $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@

# ---------- dependencies ----------

DEB_PACKAGES = postgresql-server-dev-15 libsodium-dev zlib1g-dev postgresql-15-pgtap \
               libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron \
               clang libclang-rt-dev

.PHONY: deps
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $$missing >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; \
	else \
	  echo "deg needs these Debian packages; as root, run:" >&2; \
	  echo "  apt-get install -y$$missing" >&2; \
	  exit 1; \
	fi

# ---------- C unit tests of src/core (AddressSanitizer + UBSan) ----------

UNIT_SRCS  = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS  = $(UNIT_SRCS:.c=)
UNIT_CC   ?= gcc
UNIT_FLAGS = -std=c99 -O1 -g -Wall -Wextra -Werror -Wdeclaration-after-statement \
             -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer -Isrc -Itest/unit
UNIT_LIBS  = -lsodium -lz -lm

# the core is compiled once for all the tests (with the sanitizers), not once per test
UNIT_OBJS  = $(patsubst src/core/%.c,test/unit/obj/%.o,$(CORE_SRCS))
EXTRA_CLEAN += test/unit/obj

test/unit/obj/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_FLAGS) -c -o $@ $<

test/unit/test_%: test/unit/test_%.c $(UNIT_OBJS) $(wildcard test/unit/*.h)
	$(UNIT_CC) $(UNIT_FLAGS) -o $@ $< $(UNIT_OBJS) $(UNIT_LIBS)

.PHONY: unit-build
unit-build: $(UNIT_BINS)

.PHONY: unit
unit: $(UNIT_BINS)
	@status=0; for t in $(UNIT_BINS); do \
	  ASAN_OPTIONS=detect_leaks=1 ./$$t > $$t.log 2>&1 && tail -1 $$t.log || { cat $$t.log; status=1; }; \
	  rm -f $$t.log; \
	done; exit $$status

# ---------- libFuzzer targets of src/core (test/fuzz) ----------
#
#   make fuzz                   build every target, run each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=600  (make -j2 fuzz runs two at a time)
#
# Each target runs on a scratch copy of its seed corpus (test/fuzz/corpus/
# <target>), so new inputs never land in the repository.  A crash, leak,
# timeout or failed assertion fails the run; its input is kept in
# test/fuzz/build/crashes, to replay with test/fuzz/build/<target> <file>.

FUZZ_SECONDS ?= 60
FUZZ_CC    ?= clang
FUZZ_BUILD  = test/fuzz/build
FUZZ_CFLAGS = -std=c99 -g -O1 -Wall -Wextra -Werror -Wdeclaration-after-statement \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer -Isrc -Itest/fuzz -Itest/unit
FUZZ_SRCS   = $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_NAMES  = $(notdir $(FUZZ_SRCS:.c=))
# targets make test leaves out while a crash they find waits for its fix
FUZZ_TEST_SKIP =
FUZZ_OBJS   = $(patsubst src/core/%.c,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRCS))
EXTRA_CLEAN += $(FUZZ_BUILD)

$(FUZZ_BUILD)/obj/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_OBJS) $(wildcard test/fuzz/*.h test/unit/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(UNIT_LIBS)

.PHONY: fuzz fuzz-build $(addprefix fuzz-run-,$(FUZZ_NAMES))
fuzz-build: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

$(addprefix fuzz-run-,$(FUZZ_NAMES)): fuzz-run-%: $(FUZZ_BUILD)/%
	@t=$*; d=$$(mktemp -d "$${TMPDIR:-/tmp}/deg-$$t.XXXXXX") && mkdir "$$d/corpus" && \
	cp test/fuzz/corpus/$$t/* "$$d/corpus/" 2>/dev/null; \
	if ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=60 \
	     -print_final_stats=1 -artifact_prefix="$$d/" "$$d/corpus" > "$$d/log" 2>&1; then \
	  echo "$$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' "$$d/log") runs in $(FUZZ_SECONDS) s, no crash"; \
	  rm -rf "$$d"; \
	else \
	  grep -v '^#[0-9]' "$$d/log" | tail -40; mkdir -p $(FUZZ_BUILD)/crashes; \
	  cp "$$d"/crash-* "$$d"/leak-* "$$d"/timeout-* "$$d"/oom-* $(FUZZ_BUILD)/crashes/ 2>/dev/null; \
	  echo "$$t: FAILED (input kept in $(FUZZ_BUILD)/crashes, log in $$d/log)"; exit 1; \
	fi

# ---------- suites that need a server: run inside a throwaway cluster ----------

PGTAP_TESTS = $(sort $(wildcard test/pgtap/*.sql))

.PHONY: test demo bench memcheck pgtap cluster-tests
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -j2 unit-build
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory -j2 fuzz-build
	@# the fuzz targets run 10 s each beside the cluster suites, which spend much of their
	@# time waiting (on pg_cron's minute, on locks held on purpose): the run stays short
	@status=0; mkdir -p $(FUZZ_BUILD); \
	$(MAKE) --no-print-directory -j2 FUZZ_SECONDS=10 \
	  $(addprefix fuzz-run-,$(filter-out $(FUZZ_TEST_SKIP),$(FUZZ_NAMES))) > $(FUZZ_BUILD)/make-test.log 2>&1 & fuzz=$$!; \
	test/cluster.sh $(MAKE) --no-print-directory cluster-tests || status=1; \
	wait $$fuzz || status=1; \
	cat $(FUZZ_BUILD)/make-test.log; \
	exit $$status

# run by test/cluster.sh with PGHOST/PGPORT/PGUSER set
cluster-tests:
	@status=0; \
	$(MAKE) --no-print-directory installcheck || { status=1; test -f regression.diffs && cat regression.diffs; }; \
	$(MAKE) --no-print-directory pgtap || status=1; \
	test/dump/run.sh || status=1; \
	RACE_SECONDS=$${RACE_SECONDS:-30} test/race/run.sh || status=1; \
	test/garbage/run.sh || status=1; \
	test/demo/smoke.sh || status=1; \
	test/memory/growth.sh short || status=1; \
	test/crash/run.sh || status=1; \
	exit $$status

pgtap:
	@psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS deg_pgtap WITH (FORCE)' -c 'CREATE DATABASE deg_pgtap'
	pg_prove --failures -d deg_pgtap $(PGTAP_TESTS)

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@test/cluster.sh test/demo/run.sh

bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@test/cluster.sh test/bench/run.sh

# test/memory/run.sh: builds its sanitizer copy apart and starts its own clusters
memcheck:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@test/memory/run.sh
