/*
 * unit.h: a minimal TAP-style harness for the src/core unit tests.
 *
 * CHECK(cond, fmt, ...) records one assertion and prints it when it fails;
 * unit_done() prints the plan and returns the exit status.  Each test
 * program is built with AddressSanitizer and UBSan by `make unit`.
 */
#ifndef DEG_TEST_UNIT_H
#define DEG_TEST_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int	unit_run;
static int	unit_failed;

#define CHECK(cond, ...) \
	do { \
		unit_run++; \
		if (!(cond)) \
		{ \
			unit_failed++; \
			printf("not ok %d - ", unit_run); \
			printf(__VA_ARGS__); \
			printf("  (%s:%d)\n", __FILE__, __LINE__); \
		} \
	} while (0)

/* CHECK that two NUL-terminated strings are equal, showing both when not */
#define CHECK_STR(got, want, ...) \
	do { \
		const char *got_ = (got); \
		const char *want_ = (want); \
		unit_run++; \
		if (strcmp(got_, want_) != 0) \
		{ \
			unit_failed++; \
			printf("not ok %d - ", unit_run); \
			printf(__VA_ARGS__); \
			printf("\n#   got:  \"%s\"\n#   want: \"%s\"  (%s:%d)\n", got_, want_, __FILE__, __LINE__); \
		} \
	} while (0)

/* a fixed-seed generator for property tests (xorshift64; *state must not be 0) */
static inline uint64_t
unit_rng(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static inline int
unit_done(const char *name)
{
	printf("1..%d\n# %s: %d assertions, %d failed\n", unit_run, name, unit_run, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif
