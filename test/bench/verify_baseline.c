/*
 * verify_baseline.c: the baseline of the credentials benchmark (issue 3).
 *
 *   verify_baseline FILE [PASSES]
 *
 * FILE holds one credential a line, as exported by 30_credentials.sql:
 * public key (32 bytes), signing input (64 bytes) and signature (64 bytes),
 * hex, tab-separated.  All lines are loaded first; then each pass calls
 * libsodium's crypto_sign_verify_detached on every triple in a plain loop,
 * on one thread, timed with CLOCK_MONOTONIC.
 *
 * Prints one line per pass on stdout, "<valid> <total> <verifications/s>",
 * which the benchmark reads back; a summary goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PK_BYTES crypto_sign_PUBLICKEYBYTES
#define MSG_BYTES 64
#define SIG_BYTES crypto_sign_BYTES

typedef struct
{
	unsigned char pk[PK_BYTES];
	unsigned char msg[MSG_BYTES];
	unsigned char sig[SIG_BYTES];
} Triple;

static int
hexfield(const char *hex, size_t hexlen, unsigned char *out, size_t outlen)
{
	size_t		binlen = 0;

	if (hexlen != 2 * outlen)
		return -1;
	if (sodium_hex2bin(out, outlen, hex, hexlen, NULL, &binlen, NULL) != 0 || binlen != outlen)
		return -1;
	return 0;
}

/* one "pk<TAB>msg<TAB>sig" line; 0 when well formed */
static int
parse_line(char *line, Triple *t)
{
	char	   *f[3];
	size_t		len[3];
	char	   *p = line;

	for (int i = 0; i < 3; i++)
	{
		char	   *end = p + strcspn(p, i < 2 ? "\t" : "\r\n");

		if (i < 2 && *end != '\t')
			return -1;
		f[i] = p;
		len[i] = (size_t) (end - p);
		p = end + 1;
	}
	return hexfield(f[0], len[0], t->pk, PK_BYTES) ||
		hexfield(f[1], len[1], t->msg, MSG_BYTES) ||
		hexfield(f[2], len[2], t->sig, SIG_BYTES) ? -1 : 0;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	FILE	   *in;
	Triple	   *triples = NULL;
	size_t		n = 0,
				cap = 0;
	char	   *line = NULL;
	size_t		linecap = 0;
	long		passes = 1;

	if (argc < 2 || argc > 3)
	{
		fprintf(stderr, "usage: %s FILE [PASSES]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
	{
		char	   *end;

		passes = strtol(argv[2], &end, 10);
		if (*end != '\0' || passes < 1 || passes > 100)
		{
			fprintf(stderr, "%s: PASSES must be 1..100\n", argv[0]);
			return 2;
		}
	}
	if (sodium_init() < 0)
	{
		fprintf(stderr, "%s: libsodium could not be initialized\n", argv[0]);
		return 1;
	}
	in = fopen(argv[1], "r");
	if (in == NULL)
	{
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	while (getline(&line, &linecap, in) > 0)
	{
		if (n == cap)
		{
			cap = cap ? 2 * cap : 1024;
			triples = realloc(triples, cap * sizeof(Triple));
			if (triples == NULL)
			{
				fprintf(stderr, "%s: out of memory\n", argv[0]);
				return 1;
			}
		}
		if (parse_line(line, &triples[n]) != 0)
		{
			fprintf(stderr, "%s: %s: line %zu is not pk<TAB>msg<TAB>sig in hex\n", argv[0], argv[1], n + 1);
			return 1;
		}
		n++;
	}
	free(line);
	fclose(in);
	if (n == 0)
	{
		fprintf(stderr, "%s: %s: no signatures\n", argv[0], argv[1]);
		return 1;
	}

	for (long p = 0; p < passes; p++)
	{
		size_t		valid = 0;
		double		t0,
					secs;

		t0 = now_seconds();
		for (size_t i = 0; i < n; i++)
			valid += crypto_sign_verify_detached(triples[i].sig, triples[i].msg, MSG_BYTES,
												 triples[i].pk) == 0;
		secs = now_seconds() - t0;
		printf("%zu %zu %.1f\n", valid, n, (double) n / secs);
		fprintf(stderr, "libsodium: %zu of %zu valid in %.3f s, %.0f verifications/s\n",
				valid, n, secs, (double) n / secs);
	}
	free(triples);
	return 0;
}
