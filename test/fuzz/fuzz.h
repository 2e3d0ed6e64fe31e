/*
 * fuzz.h: helpers shared by the libFuzzer targets of src/core.
 *
 * Each target is one C file with LLVMFuzzerTestOneInput, built by
 * `make fuzz` with clang -fsanitize=fuzzer,address,undefined.  Besides
 * crashes, a target checks properties that must hold for every input (a
 * round trip, an invariant); FUZZ_ASSERT aborts when one does not, so
 * libFuzzer records the input as a crash.
 */
#ifndef DEG_TEST_FUZZ_H
#define DEG_TEST_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz assertion failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

/* a reader of fuzz bytes: past the end every read gives zeros */
typedef struct FuzzReader
{
	const uint8_t *data;
	size_t		len;
	size_t		pos;
} FuzzReader;

static inline void
fuzz_reader_init(FuzzReader *r, const uint8_t *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
}

static inline bool
fuzz_more(const FuzzReader *r)
{
	return r->pos < r->len;
}

static inline uint8_t
fuzz_u8(FuzzReader *r)
{
	return r->pos < r->len ? r->data[r->pos++] : 0;
}

static inline uint64_t
fuzz_u64(FuzzReader *r, int nbytes)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < nbytes; i++)
		v |= (uint64_t) fuzz_u8(r) << (8 * i);
	return v;
}

/* up to maxlen bytes, the length from one byte; *n set to what was available */
static inline const char *
fuzz_bytes(FuzzReader *r, size_t maxlen, size_t *n)
{
	size_t		want = fuzz_u8(r) % (maxlen + 1);
	const char *p = (const char *) r->data + r->pos;

	if (want > r->len - r->pos)
		want = r->len - r->pos;
	r->pos += want;
	*n = want;
	return p;
}

/*
 * Split data at the first NUL: the part before it, and after it (empty
 * when there is no NUL; rest is never NULL).
 */
static inline void
fuzz_split(const uint8_t *data, size_t len, size_t *len1,
		   const uint8_t **rest, size_t *restlen)
{
	const uint8_t *nul = len ? memchr(data, 0, len) : NULL;

	static const uint8_t none[1] = {0};

	if (nul == NULL)
	{
		*len1 = len;
		*rest = none;
		*restlen = 0;
		return;
	}
	*len1 = (size_t) (nul - data);
	*rest = nul + 1;
	*restlen = len - *len1 - 1;
}

/* a copy with a NUL after it, so a failed assertion can print it */
static inline char *
fuzz_strndup(const void *data, size_t len)
{
	char	   *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif							/* DEG_TEST_FUZZ_H */
