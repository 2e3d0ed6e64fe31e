/*
 * test_ed25519.c: src/core/ed25519.c against external vectors: RFC 8032,
 * the 514 BoringSSL sign.input blocks, Wycheproof (151 verify cases) and
 * ed25519-speccheck (libsodium's accept/reject row), plus the length checks
 * that keep libsodium from reading past a short buffer.
 */
#include "core/codec.h"
#include "core/ed25519.h"
#include "unit.h"
#include "vecfile.h"

#include <stdlib.h>

#define VEC_DIR "test/vectors/"
#define MAX_MSG 4096

static uint32_t rng_state = 0x9E3779B9u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static bool
unhex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	CodecError	err;

	return codec_hex_decode(hex, strlen(hex), out, cap, len, &err);
}

static bool
is_valid(const uint8_t *pk, size_t pklen, const uint8_t *msg, size_t msglen,
		 const uint8_t *sig, size_t siglen)
{
	Ed25519Error err;

	return ed25519_verify(pk, pklen, msg, msglen, sig, siglen, &err) == ED25519_VALID;
}

/*
 * The checks every known-answer vector gets: seed -> pk, the 64-byte secret,
 * deterministic re-signing from both secret forms, verification, and
 * rejection after flipping one bit of the message, the signature's R, its S,
 * or the public key.  Returns the number of failed checks.
 */
static int
check_known_answer(const uint8_t *seed, const uint8_t *pk, const uint8_t *msg,
				   size_t msglen, const uint8_t *sig, uint8_t *scratch)
{
	uint8_t		got_pk[ED25519_PUBLIC_KEY_BYTES];
	uint8_t		sk[ED25519_SECRET_KEY_BYTES];
	uint8_t		got_sig[ED25519_SIGNATURE_BYTES];
	uint8_t		bad_sig[ED25519_SIGNATURE_BYTES];
	uint8_t		bad_pk[ED25519_PUBLIC_KEY_BYTES];
	Ed25519Error err;
	int			failures = 0;
	size_t		bit;

	if (!ed25519_seed_keypair(seed, 32, got_pk, sk, &err) ||
		memcmp(got_pk, pk, 32) != 0 ||
		memcmp(sk, seed, 32) != 0 || memcmp(sk + 32, pk, 32) != 0)
		failures++;
	if (!ed25519_sign(seed, 32, msg, msglen, got_sig, &err) ||
		memcmp(got_sig, sig, 64) != 0)
		failures++;
	if (!ed25519_sign(sk, 64, msg, msglen, got_sig, &err) ||
		memcmp(got_sig, sig, 64) != 0)
		failures++;
	if (!is_valid(pk, 32, msg, msglen, sig, 64))
		failures++;

	if (msglen > 0)
	{
		memcpy(scratch, msg, msglen);
		bit = rng() % (msglen * 8);
		scratch[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		if (is_valid(pk, 32, scratch, msglen, sig, 64))
			failures++;
	}
	memcpy(bad_sig, sig, 64);
	bit = rng() % 256;			/* in R */
	bad_sig[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	if (is_valid(pk, 32, msg, msglen, bad_sig, 64))
		failures++;
	memcpy(bad_sig, sig, 64);
	bit = 256 + rng() % 256;	/* in S */
	bad_sig[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	if (is_valid(pk, 32, msg, msglen, bad_sig, 64))
		failures++;
	memcpy(bad_pk, pk, 32);
	bit = rng() % 256;
	bad_pk[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	if (is_valid(bad_pk, 32, msg, msglen, sig, 64))
		failures++;
	return failures;
}

/* RFC 8032 section 7.1, plus every single-bit flip of signature and key */
static void
test_rfc8032(void)
{
	char	   *text = vec_read_file(VEC_DIR "ed25519-rfc8032/rfc8032-ed25519.json", NULL);
	const char *cur = text;
	static char hex[2 * MAX_MSG + 1];
	char		name[64];
	int			vectors = 0;
	int			failures = 0;
	int			flips_accepted = 0;
	int			flips = 0;

	CHECK(text != NULL, "rfc8032-ed25519.json is readable");
	if (text == NULL)
		return;
	while (vec_next_string(&cur, NULL, "name", name, sizeof(name)))
	{
		uint8_t		seed[32],
					pk[32],
					sig[64];
		static uint8_t msg[MAX_MSG],
					scratch[MAX_MSG];
		size_t		seedlen = 0,
					pklen = 0,
					msglen = 0,
					siglen = 0;
		long		declared = -1;
		size_t		bit;

		if (!vec_next_string(&cur, NULL, "secret_key", hex, sizeof(hex)) ||
			!unhex(hex, seed, sizeof(seed), &seedlen) ||
			!vec_next_string(&cur, NULL, "public_key", hex, sizeof(hex)) ||
			!unhex(hex, pk, sizeof(pk), &pklen) ||
			!vec_next_string(&cur, NULL, "message", hex, sizeof(hex)) ||
			!unhex(hex, msg, sizeof(msg), &msglen) ||
			!vec_next_string(&cur, NULL, "signature", hex, sizeof(hex)) ||
			!unhex(hex, sig, sizeof(sig), &siglen) ||
			!vec_next_long(&cur, NULL, "message_len", &declared) ||
			seedlen != 32 || pklen != 32 || siglen != 64 || (long) msglen != declared)
		{
			CHECK(false, "RFC 8032 %s parses", name);
			break;
		}
		vectors++;
		failures += check_known_answer(seed, pk, msg, msglen, sig, scratch);
		for (bit = 0; bit < 512; bit++)
		{
			uint8_t		bad[64];

			memcpy(bad, sig, 64);
			bad[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			flips++;
			if (is_valid(pk, 32, msg, msglen, bad, 64))
				flips_accepted++;
		}
		for (bit = 0; bit < 256; bit++)
		{
			uint8_t		bad[32];

			memcpy(bad, pk, 32);
			bad[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			flips++;
			if (is_valid(bad, 32, msg, msglen, sig, 64))
				flips_accepted++;
		}
	}
	CHECK(vectors == 5, "RFC 8032: 5 vectors read (got %d)", vectors);
	CHECK(failures == 0, "RFC 8032: seed -> pk, re-sign byte-exact, verify, tamper (%d failures)",
		  failures);
	CHECK(flips == 5 * 768 && flips_accepted == 0,
		  "RFC 8032: every one-bit flip of signature and key is refused (%d of %d accepted)",
		  flips_accepted, flips);
	printf("# rfc8032: %d/5 vectors, %d bit flips refused\n", vectors, flips - flips_accepted);
	free(text);
}

/* the 514 blocks of BoringSSL's ed25519_tests.txt (djb's sign.input + RFC 8032) */
static void
test_boringssl(void)
{
	char	   *text = vec_read_file(VEC_DIR "ed25519-rfc8032/boringssl_ed25519_tests.txt", NULL);
	char	   *line;
	char	   *next;
	uint8_t		priv[64],
				pk[32],
				sig[64];
	static uint8_t msg[MAX_MSG],
				scratch[MAX_MSG];
	size_t		privlen = 0,
				pklen = 0,
				msglen = 0,
				siglen = 0;
	int			have = 0;		/* bit per field seen in the current block */
	int			blocks = 0;
	int			failed_blocks = 0;
	int			parse_errors = 0;

	CHECK(text != NULL, "boringssl_ed25519_tests.txt is readable");
	if (text == NULL)
		return;
	for (line = text; line != NULL && *line != '\0'; line = next)
	{
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "PRIV: ", 6) == 0)
		{
			have = unhex(line + 6, priv, sizeof(priv), &privlen) && privlen == 64 ? 1 : 0;
			parse_errors += have ? 0 : 1;
		}
		else if (strncmp(line, "PUB: ", 5) == 0)
			have |= unhex(line + 5, pk, sizeof(pk), &pklen) && pklen == 32 ? 2 : 0;
		else if (strncmp(line, "MESSAGE: ", 9) == 0 || strcmp(line, "MESSAGE:") == 0)
			have |= unhex(line + (line[8] ? 9 : 8), msg, sizeof(msg), &msglen) ? 4 : 0;
		else if (strncmp(line, "SIG: ", 5) == 0)
		{
			have |= unhex(line + 5, sig, sizeof(sig), &siglen) && siglen == 64 ? 8 : 0;
			if (have != 15)
			{
				parse_errors++;
				continue;
			}
			blocks++;
			/* the file's 64-byte PRIV is seed || pk, libsodium's layout */
			if (memcmp(priv + 32, pk, 32) != 0 ||
				check_known_answer(priv, pk, msg, msglen, sig, scratch) != 0)
				failed_blocks++;
			have = 0;
		}
	}
	CHECK(parse_errors == 0, "BoringSSL: every block parses (%d errors)", parse_errors);
	CHECK(blocks == 514, "BoringSSL: 514 blocks read (got %d)", blocks);
	CHECK(failed_blocks == 0,
		  "BoringSSL: seed -> pk, re-sign byte-exact from seed and seed||pk, verify, one-bit flips refused (%d blocks failed)",
		  failed_blocks);
	printf("# boringssl: %d/514 blocks pass\n", blocks - failed_blocks);
	free(text);
}

/* Wycheproof: verify(pk, msg, sig) == (result == "valid") for all 151 cases */
static void
test_wycheproof(void)
{
	char	   *text = vec_read_file(VEC_DIR "ed25519-wycheproof/ed25519_test.json", NULL);
	const char *cur;
	const char *group_end;
	static char hex[2 * MAX_MSG + 1];
	char		result[16];
	uint8_t		pk[32];
	static uint8_t msg[MAX_MSG],
				sig[MAX_MSG];
	size_t		pklen = 0,
				msglen,
				siglen;
	long		declared = -1;
	long		tcid;
	int			cases = 0;
	int			as_expected = 0;
	int			valid = 0;
	int			invalid = 0;
	int			malformed = 0;

	CHECK(text != NULL, "ed25519_test.json is readable");
	if (text == NULL)
		return;
	cur = text;
	vec_next_long(&cur, NULL, "numberOfTests", &declared);
	CHECK(declared == 151, "Wycheproof declares 151 tests (got %ld)", declared);

	while (vec_next_string(&cur, NULL, "pk", hex, sizeof(hex)))
	{
		CHECK(unhex(hex, pk, sizeof(pk), &pklen) && pklen == 32, "Wycheproof group key parses");
		/* the group's tests run until the next group's key */
		group_end = strstr(cur, "\"pk\"");
		while (vec_next_long(&cur, group_end, "tcId", &tcid))
		{
			Ed25519Error err;
			Ed25519Verdict v;
			bool		want;

			if (!vec_next_string(&cur, group_end, "msg", hex, sizeof(hex)) ||
				!unhex(hex, msg, sizeof(msg), &msglen) ||
				!vec_next_string(&cur, group_end, "sig", hex, sizeof(hex)) ||
				!unhex(hex, sig, sizeof(sig), &siglen) ||
				!vec_next_string(&cur, group_end, "result", result, sizeof(result)))
			{
				CHECK(false, "Wycheproof tcId %ld parses", tcid);
				continue;
			}
			cases++;
			want = strcmp(result, "valid") == 0;
			valid += want;
			invalid += !want;
			v = ed25519_verify(pk, pklen, msg, msglen, sig, siglen, &err);
			if (v == ED25519_MALFORMED)
				malformed++;
			if ((v == ED25519_VALID) == want &&
				(siglen == 64 || v == ED25519_MALFORMED))
				as_expected++;
			else
				printf("# wycheproof tcId %ld: expected %s, got %d\n", tcid, result, (int) v);
		}
	}
	CHECK(cases == 151, "Wycheproof: 151 cases read (got %d)", cases);
	CHECK(valid == 88 && invalid == 63, "Wycheproof: 88 valid and 63 invalid (got %d, %d)",
		  valid, invalid);
	CHECK(as_expected == cases && cases == 151,
		  "Wycheproof: every result as expected (%d of %d)", as_expected, cases);
	CHECK(malformed > 0, "Wycheproof: wrong-length signatures are reported as malformed (%d)",
		  malformed);
	printf("# wycheproof: %d/151 as expected (%d refused for length before libsodium)\n",
		   as_expected, malformed);
	free(text);
}

/* ed25519-speccheck: libsodium's row is X X X V X X X X X X X X */
static void
test_speccheck(void)
{
	char	   *text = vec_read_file(VEC_DIR "ed25519-speccheck/cases.json", NULL);
	const char *cur = text;
	char		hex[512];
	char		row[64] = "";
	int			cases = 0;

	CHECK(text != NULL, "speccheck cases.json is readable");
	if (text == NULL)
		return;
	while (vec_next_string(&cur, NULL, "message", hex, sizeof(hex)))
	{
		uint8_t		msg[128],
					pk[32],
					sig[64];
		size_t		msglen = 0,
					pklen = 0,
					siglen = 0;
		bool		ok;

		ok = unhex(hex, msg, sizeof(msg), &msglen) &&
			vec_next_string(&cur, NULL, "pub_key", hex, sizeof(hex)) &&
			unhex(hex, pk, sizeof(pk), &pklen) &&
			vec_next_string(&cur, NULL, "signature", hex, sizeof(hex)) &&
			unhex(hex, sig, sizeof(sig), &siglen);
		CHECK(ok, "speccheck case %d parses", cases);
		if (!ok)
			break;
		if (cases > 0)
			strcat(row, " ");
		strcat(row, is_valid(pk, pklen, msg, msglen, sig, siglen) ? "V" : "X");
		cases++;
	}
	CHECK(cases == 12, "speccheck: 12 cases read (got %d)", cases);
	CHECK_STR(row, "X X X V X X X X X X X X", "speccheck: libsodium's accept/reject row");
	printf("# speccheck: row %s\n", row);
	free(text);
}

/* wrong lengths are errors before libsodium reads anything */
static void
test_lengths(void)
{
	uint8_t		buf[128];
	uint8_t		pk[32];
	uint8_t		sig[64];
	uint8_t		seed[32];
	uint8_t		sk[64];
	Ed25519Error err;
	static const size_t bad_pk[] = {0, 1, 31, 33, 64};
	static const size_t bad_sig[] = {0, 1, 32, 63, 65, 128};
	static const size_t bad_secret[] = {0, 16, 31, 33, 48, 63, 65, 128};
	size_t		i;

	memset(buf, 0x42, sizeof(buf));
	CHECK(ed25519_keypair(pk, seed, 32, &err), "random key pair (seed form)");
	CHECK(ed25519_sign(seed, 32, (const uint8_t *) "m", 1, sig, &err), "sign with the seed");
	CHECK(ed25519_verify(pk, 32, (const uint8_t *) "m", 1, sig, 64, &err) == ED25519_VALID,
		  "a fresh signature verifies");

	for (i = 0; i < sizeof(bad_pk) / sizeof(bad_pk[0]); i++)
	{
		memcpy(buf, pk, 32);
		err.detail[0] = '\0';
		CHECK(ed25519_verify(buf, bad_pk[i], (const uint8_t *) "m", 1, sig, 64, &err) ==
			  ED25519_MALFORMED && strstr(err.detail, "public key has") != NULL,
			  "verify refuses a %zu-byte public key (%s)", bad_pk[i], err.detail);
	}
	for (i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
	{
		memcpy(buf, sig, 64);
		err.detail[0] = '\0';
		CHECK(ed25519_verify(pk, 32, (const uint8_t *) "m", 1, buf, bad_sig[i], &err) ==
			  ED25519_MALFORMED && strstr(err.detail, "signature has") != NULL,
			  "verify refuses a %zu-byte signature (%s)", bad_sig[i], err.detail);
	}
	for (i = 0; i < sizeof(bad_secret) / sizeof(bad_secret[0]); i++)
	{
		err.detail[0] = '\0';
		CHECK(!ed25519_sign(buf, bad_secret[i], (const uint8_t *) "m", 1, sig, &err) &&
			  strstr(err.detail, "secret key has") != NULL,
			  "sign refuses a %zu-byte secret key (%s)", bad_secret[i], err.detail);
		CHECK(!ed25519_public_key(buf, bad_secret[i], pk, &err),
			  "public_key refuses a %zu-byte secret key", bad_secret[i]);
		CHECK(!ed25519_seed_keypair(buf, bad_secret[i], pk, NULL, &err),
			  "seed_keypair refuses a %zu-byte seed", bad_secret[i]);
	}
	CHECK(!ed25519_seed_keypair(buf, 64, pk, NULL, &err), "seed_keypair refuses 64 bytes");
	CHECK(ed25519_verify(NULL, 32, (const uint8_t *) "m", 1, sig, 64, &err) == ED25519_MALFORMED,
		  "verify refuses a NULL public key");
	CHECK(ed25519_verify(pk, 32, (const uint8_t *) "m", 1, NULL, 64, &err) == ED25519_MALFORMED,
		  "verify refuses a NULL signature");
	CHECK(ed25519_verify(pk, 32, NULL, 5, sig, 64, &err) == ED25519_MALFORMED,
		  "verify refuses a NULL message with a length");
	CHECK(!ed25519_sign(seed, 32, NULL, 5, sig, &err), "sign refuses a NULL message with a length");
	CHECK(!ed25519_keypair(pk, sk, 33, &err), "keypair refuses a 33-byte secret buffer");

	/* an empty message may be NULL */
	CHECK(ed25519_sign(seed, 32, NULL, 0, sig, &err) &&
		  ed25519_verify(pk, 32, NULL, 0, sig, 64, &err) == ED25519_VALID &&
		  ed25519_verify(pk, 32, (const uint8_t *) "", 0, sig, 64, &err) == ED25519_VALID,
		  "an empty message signs and verifies, NULL or not");

	/* the 64-byte form must carry the seed's own public key */
	CHECK(ed25519_keypair(pk, sk, 64, &err), "random key pair (seed || pk form)");
	CHECK(memcmp(sk + 32, pk, 32) == 0, "the 64-byte secret ends with the public key");
	CHECK(ed25519_public_key(sk, 32, buf, &err) && memcmp(buf, pk, 32) == 0,
		  "public key from the seed half");
	CHECK(ed25519_public_key(sk, 64, buf, &err) && memcmp(buf, pk, 32) == 0,
		  "public key from seed || pk");
	sk[40] ^= 1;
	err.detail[0] = '\0';
	CHECK(!ed25519_sign(sk, 64, (const uint8_t *) "m", 1, sig, &err) &&
		  strstr(err.detail, "does not match") != NULL,
		  "sign refuses seed || pk whose pk half is not the seed's (%s)", err.detail);
	CHECK(!ed25519_public_key(sk, 64, buf, &err), "public_key refuses a mismatched pk half");
	CHECK(strstr(err.detail, "0x") == NULL, "the mismatch error shows no key bytes");
}

/* SHA-256 known answers (FIPS 180-2 examples) */
static void
test_sha256(void)
{
	uint8_t		digest[DEG_SHA256_BYTES];
	char		hex[2 * DEG_SHA256_BYTES + 1];
	static const char two_blocks[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	CHECK(deg_sha256(NULL, 0, digest) && codec_hex_encode(digest, 32, hex, sizeof(hex)),
		  "sha256 of nothing");
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			  "sha256(\"\")");
	CHECK(deg_sha256((const uint8_t *) "abc", 3, digest) &&
		  codec_hex_encode(digest, 32, hex, sizeof(hex)), "sha256 of abc");
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			  "sha256(\"abc\")");
	CHECK(deg_sha256((const uint8_t *) two_blocks, strlen(two_blocks), digest) &&
		  codec_hex_encode(digest, 32, hex, sizeof(hex)), "sha256 of two blocks");
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
			  "sha256 of the 448-bit FIPS message");
	CHECK(!deg_sha256(NULL, 3, digest), "sha256 refuses NULL data with a length");
}

int
main(void)
{
	CHECK(deg_sodium_init() && deg_sodium_init(), "libsodium initialises, twice");
	test_rfc8032();
	test_boringssl();
	test_wycheproof();
	test_speccheck();
	test_lengths();
	test_sha256();
	return unit_done("ed25519");
}
