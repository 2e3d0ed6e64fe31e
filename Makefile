# deg: the Digital Energy Grid inside PostgreSQL.
#
#   make            build the extension
#   make install    install it into the PostgreSQL that pg_config names
#   make deps       install the Debian packages the build and tests need
#   make test       deps, build, install, throwaway cluster, every test suite
#   make demo       deps, build, install, throwaway cluster, the main job
#   make bench      deps, build, install, throwaway cluster, the benchmarks
#   make memcheck   deps, build; every cluster suite against an AddressSanitizer
#                   and UBSan build, then memory growth over a million rows

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
               libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron

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

test/unit/test_%: test/unit/test_%.c $(CORE_SRCS) $(wildcard src/core/*.h) $(wildcard test/unit/*.h)
	$(UNIT_CC) $(UNIT_FLAGS) -o $@ $< $(CORE_SRCS) $(UNIT_LIBS)

.PHONY: unit
unit: $(UNIT_BINS)
	@status=0; for t in $(UNIT_BINS); do \
	  ASAN_OPTIONS=detect_leaks=1 ./$$t > $$t.log 2>&1 && tail -1 $$t.log || { cat $$t.log; status=1; }; \
	  rm -f $$t.log; \
	done; exit $$status

# ---------- suites that need a server: run inside a throwaway cluster ----------

PGTAP_TESTS = $(sort $(wildcard test/pgtap/*.sql))

.PHONY: test demo bench memcheck pgtap cluster-tests
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@test/cluster.sh $(MAKE) --no-print-directory cluster-tests

# run by test/cluster.sh with PGHOST/PGPORT/PGUSER set
cluster-tests:
	@status=0; \
	$(MAKE) --no-print-directory installcheck || { status=1; test -f regression.diffs && cat regression.diffs; }; \
	$(MAKE) --no-print-directory pgtap || status=1; \
	test/dump/run.sh || status=1; \
	RACE_SECONDS=$${RACE_SECONDS:-30} test/race/run.sh || status=1; \
	test/garbage/run.sh || status=1; \
	test/demo/smoke.sh || status=1; \
	test/crash/run.sh || status=1; \
	test/memory/growth.sh short || status=1; \
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
