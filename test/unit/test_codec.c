/*
 * test_codec.c: hex, base58btc, base64url, multibase, multicodec, Multikey
 * and did:key in src/core/codec.c, against published known answers, the
 * did:key vectors, and the W3C vc-di-eddsa key pair.
 */
#include "core/codec.h"
#include "core/ed25519.h"
#include "unit.h"
#include "vecfile.h"

#include <sodium.h>
#include <stdlib.h>

#define VEC_DIR "test/vectors/"

static uint32_t rng_state = 0x2545F491u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	CodecError	err;
	size_t		n = 0;

	if (!codec_hex_decode(hex, strlen(hex), out, cap, &n, &err))
		return (size_t) -1;
	return n;
}

/* hex of bytes, in a rotating static buffer, for CHECK_STR */
static const char *
tohex(const uint8_t *bytes, size_t len)
{
	static char bufs[4][2 * 1100 + 1];
	static int	which;
	char	   *out = bufs[which++ % 4];

	if (!codec_hex_encode(bytes, len, out, sizeof(bufs[0])))
		return "(too long)";
	return out;
}

/* decode text with fn and return hex, or "ERROR@pos: detail" */
typedef bool (*DecodeFn) (const char *, size_t, uint8_t *, size_t, size_t *, CodecError *);

static const char *
decoded(DecodeFn fn, const char *text)
{
	static char out[2 * 1100 + 256];
	uint8_t		bytes[1100];
	size_t		n = 0;
	CodecError	err;

	if (!fn(text, strlen(text), bytes, sizeof(bytes), &n, &err))
	{
		snprintf(out, sizeof(out), "ERROR@%zu: %s", err.position, err.detail);
		return out;
	}
	snprintf(out, sizeof(out), "%s", tohex(bytes, n));
	return out;
}

static const char *
b58(const char *hex)
{
	static char out[2048];
	uint8_t		bytes[1100];
	size_t		n = unhex(hex, bytes, sizeof(bytes));
	size_t		len;
	CodecError	err;

	if (n == (size_t) -1 || !codec_base58_encode(bytes, n, out, sizeof(out), &len, &err))
		return "ERROR";
	return out;
}

static const char *
b64(const char *hex)
{
	static char out[2048];
	uint8_t		bytes[1100];
	size_t		n = unhex(hex, bytes, sizeof(bytes));
	size_t		len;
	CodecError	err;

	if (n == (size_t) -1 || !codec_base64url_encode(bytes, n, out, sizeof(out), &len, &err))
		return "ERROR";
	return out;
}

static void
test_hex(void)
{
	uint8_t		b[4];
	char		out[9];
	size_t		n;
	CodecError	err;

	CHECK(codec_hex_encode((const uint8_t *) "\x00\x9f\xff\x10", 4, out, sizeof(out)),
		  "hex encode");
	CHECK_STR(out, "009fff10", "hex is lower-case");
	CHECK(!codec_hex_encode((const uint8_t *) "\x00\x9f\xff\x10", 4, out, 8),
		  "hex encode refuses a buffer without room for the NUL");
	CHECK_STR(decoded(codec_hex_decode, "009FfF10"), "009fff10", "hex decode accepts either case");
	CHECK_STR(decoded(codec_hex_decode, ""), "", "empty hex");
	CHECK_STR(decoded(codec_hex_decode, "abc"),
			  "ERROR@0: hex text has an odd number of digits (3)", "odd hex");
	CHECK_STR(decoded(codec_hex_decode, "00g0"),
			  "ERROR@3: invalid hex character \"g\" at position 3", "bad hex digit");
	CHECK(!codec_hex_decode("00112233", 8, b, 3, &n, &err) && strstr(err.detail, "at most 3"),
		  "hex decode refuses more bytes than fit");
}

static void
test_base58(void)
{
	/* Bitcoin Core src/test/data/base58_encode_decode.json and draft-msporny-base58 */
	static const char *const known[][2] = {
		{"", ""},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"636363", "aPEr"},
		{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
		{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
		{"516b6fcd0f", "ABnLTmg"},
		{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
		{"572e4794", "3EFU7m"},
		{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
		{"10c8511e", "Rt5zm"},
		{"00000000000000000000", "1111111111"},
		{"0000287fb4cd", "11233QC4"},
		{"48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"},
		{"54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672e",
		"USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"},
	};
	uint8_t		buf[CODEC_BASE58_MAX_BYTES + 8];
	static char text[CODEC_BASE58_MAX_TEXT + 64];
	uint8_t		back[CODEC_BASE58_MAX_BYTES + 8];
	size_t		n,
				m,
				i,
				k;
	int			bad = 0;
	CodecError	err;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	{
		CHECK_STR(b58(known[i][0]), known[i][1], "base58 encode %s", known[i][0]);
		CHECK_STR(decoded(codec_base58_decode, known[i][1]), known[i][0],
				  "base58 decode %s", known[i][1]);
	}

	CHECK_STR(decoded(codec_base58_decode, "12340"),
			  "ERROR@5: invalid base58 character \"0\" at position 5", "base58 refuses 0");
	CHECK_STR(decoded(codec_base58_decode, "O"),
			  "ERROR@1: invalid base58 character \"O\" at position 1", "base58 refuses O");
	CHECK_STR(decoded(codec_base58_decode, "abIc"),
			  "ERROR@3: invalid base58 character \"I\" at position 3", "base58 refuses I");
	CHECK_STR(decoded(codec_base58_decode, "l"),
			  "ERROR@1: invalid base58 character \"l\" at position 1", "base58 refuses l");
	CHECK_STR(decoded(codec_base58_decode, "2g\xc3\xa9"),
			  "ERROR@3: invalid base58 byte 0xc3 at position 3", "base58 refuses non-ASCII");
	CHECK_STR(decoded(codec_base58_decode, "2g "),
			  "ERROR@3: invalid base58 character \" \" at position 3", "base58 refuses a space");
	CHECK(!codec_base58_decode("2g\0", 3, buf, sizeof(buf), &n, &err) && err.position == 3,
		  "base58 refuses an embedded NUL");

	/* capacities: the exact size fits, one less does not */
	CHECK(codec_base58_decode("a3gV", 4, buf, 3, &n, &err) && n == 3, "base58 decode into 3 bytes");
	CHECK(!codec_base58_decode("a3gV", 4, buf, 2, &n, &err), "base58 decode refuses a short buffer");
	CHECK(codec_base58_encode((const uint8_t *) "bbb", 3, text, 5, &n, &err) && n == 4,
		  "base58 encode into exactly 5 bytes");
	CHECK(!codec_base58_encode((const uint8_t *) "bbb", 3, text, 4, &n, &err),
		  "base58 encode refuses a buffer without room for the NUL");

	/* limits */
	memset(buf, 0xFF, sizeof(buf));
	CHECK(codec_base58_encode(buf, CODEC_BASE58_MAX_BYTES, text, sizeof(text), &n, &err) &&
		  n == CODEC_BASE58_MAX_TEXT,
		  "1024 bytes of 0xff take the maximum %d characters (got %zu)", CODEC_BASE58_MAX_TEXT, n);
	CHECK(codec_base58_decode(text, n, back, sizeof(back), &m, &err) && m == CODEC_BASE58_MAX_BYTES &&
		  memcmp(back, buf, m) == 0, "the longest input round-trips");
	CHECK(!codec_base58_encode(buf, CODEC_BASE58_MAX_BYTES + 1, text, sizeof(text), &n, &err),
		  "base58 encode refuses more than %d bytes", CODEC_BASE58_MAX_BYTES);
	memset(text, 'z', CODEC_BASE58_MAX_TEXT + 1);
	CHECK(!codec_base58_decode(text, CODEC_BASE58_MAX_TEXT + 1, back, sizeof(back), &m, &err) &&
		  strstr(err.detail, "too long"), "base58 decode refuses more than %d characters",
		  CODEC_BASE58_MAX_TEXT);
	CHECK(!codec_base58_decode(text, CODEC_BASE58_MAX_TEXT, back, CODEC_BASE58_MAX_BYTES, &m, &err) &&
		  strstr(err.detail, "decodes to 1025 bytes"),
		  "base58 decode reports a result too big for the buffer (%s)", err.detail);

	/* random round trips, with runs of leading zeros */
	for (i = 0; i < 2000; i++)
	{
		size_t		len = rng() % 80;
		size_t		zeros = (i % 3 == 0) ? rng() % 6 : 0;

		for (k = 0; k < len; k++)
			buf[k] = (k < zeros) ? 0 : (uint8_t) rng();
		if (!codec_base58_encode(buf, len, text, sizeof(text), &n, &err) ||
			strlen(text) != n ||
			!codec_base58_decode(text, n, back, sizeof(back), &m, &err) ||
			m != len || memcmp(back, buf, len) != 0)
			bad++;
		for (k = 0; k < len && buf[k] == 0; k++)
			if (text[k] != '1')
				bad++;
	}
	CHECK(bad == 0, "base58: 2000 random byte strings round-trip, zeros as leading 1s (%d bad)", bad);
}

static void
test_base64url(void)
{
	/* RFC 4648 section 10, without padding */
	static const char *const known[][2] = {
		{"", ""},
		{"66", "Zg"},
		{"666f", "Zm8"},
		{"666f6f", "Zm9v"},
		{"666f6f62", "Zm9vYg"},
		{"666f6f6261", "Zm9vYmE"},
		{"666f6f626172", "Zm9vYmFy"},
		{"fbff", "-_8"},
		{"fbefff", "--__"},
		{"1f8b0800000000000003", "H4sIAAAAAAAAAw"},
	};
	uint8_t		buf[300],
				back[300];
	char		text[512];
	size_t		n,
				m,
				i,
				k;
	int			bad = 0;
	CodecError	err;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	{
		CHECK_STR(b64(known[i][0]), known[i][1], "base64url encode %s", known[i][0]);
		CHECK_STR(decoded(codec_base64url_decode, known[i][1]), known[i][0],
				  "base64url decode %s", known[i][1]);
	}
	CHECK_STR(decoded(codec_base64url_decode, "Zg=="),
			  "ERROR@3: base64url padding \"=\" at position 3 is not allowed", "padding refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zm8="),
			  "ERROR@4: base64url padding \"=\" at position 4 is not allowed", "one pad refused");
	CHECK_STR(decoded(codec_base64url_decode, "+_8"),
			  "ERROR@1: invalid base64url character \"+\" at position 1", "standard alphabet + refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zm9v/w"),
			  "ERROR@5: invalid base64url character \"/\" at position 5", "standard alphabet / refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zm9vY"),
			  "ERROR@5: base64url text of 5 characters has an impossible length", "length 4k+1 refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zh"),
			  "ERROR@2: base64url text has non-zero unused bits in its last character at position 2",
			  "non-canonical trailing bits (2 chars) refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zm8"), "666f", "canonical 3-character group");
	CHECK_STR(decoded(codec_base64url_decode, "Zm9"),
			  "ERROR@3: base64url text has non-zero unused bits in its last character at position 3",
			  "non-canonical trailing bits (3 chars) refused");
	CHECK_STR(decoded(codec_base64url_decode, "Zm 9"),
			  "ERROR@3: invalid base64url character \" \" at position 3", "whitespace refused");
	CHECK(!codec_base64url_decode("Zm9vYmFy", 8, buf, 5, &n, &err), "decode refuses a short buffer");
	CHECK(codec_base64url_decode("Zm9vYmFy", 8, buf, 6, &n, &err) && n == 6, "decode into exactly 6");
	CHECK(!codec_base64url_encode((const uint8_t *) "foo", 3, text, 4, &n, &err),
		  "encode refuses a buffer without room for the NUL");
	CHECK(CODEC_BASE64URL_DECODED_MAX(7) >= 5 && CODEC_BASE64URL_SIZE(5) >= 8,
		  "size macros cover the extremes");

	for (i = 0; i < 3000; i++)
	{
		size_t		len = rng() % 200;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t) rng();
		if (!codec_base64url_encode(buf, len, text, CODEC_BASE64URL_SIZE(len), &n, &err) ||
			!codec_base64url_decode(text, n, back, CODEC_BASE64URL_DECODED_MAX(n), &m, &err) ||
			m != len || memcmp(back, buf, len) != 0)
			bad++;
	}
	CHECK(bad == 0, "base64url: 3000 random byte strings round-trip in exact-size buffers (%d bad)", bad);
}

/* whatever a strict decoder accepts, the encoder spells the same way */
static void
test_canonical(void)
{
	static const char b58_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl+";
	static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/";
	char		text[200],
				again[400];
	uint8_t		bytes[200];
	size_t		n,
				m,
				i,
				k;
	int			accepted = 0,
				bad = 0;
	CodecError	err;

	for (i = 0; i < 20000; i++)
	{
		size_t		len = rng() % 40;
		bool		base58 = (i % 2 == 0);

		for (k = 0; k < len; k++)
			text[k] = base58 ? b58_alpha[rng() % (sizeof(b58_alpha) - 1)]
				: b64_alpha[rng() % (sizeof(b64_alpha) - 1)];
		err.detail[0] = '\0';
		if (base58 ? codec_base58_decode(text, len, bytes, sizeof(bytes), &n, &err)
			: codec_base64url_decode(text, len, bytes, sizeof(bytes), &n, &err))
		{
			accepted++;
			if (!(base58 ? codec_base58_encode(bytes, n, again, sizeof(again), &m, &err)
				  : codec_base64url_encode(bytes, n, again, sizeof(again), &m, &err)) ||
				m != len || memcmp(again, text, len) != 0)
				bad++;
		}
		else if (err.detail[0] == '\0' || err.position > len)
			bad++;
	}
	CHECK(bad == 0 && accepted > 1000,
		  "random texts: every accepted one re-encodes to itself, every refusal has a detail (%d bad, %d accepted)",
		  bad, accepted);
}

static void
test_multibase(void)
{
	uint8_t		buf[64];
	char		text[128];
	char		base = 0;
	size_t		n;
	CodecError	err;

	CHECK(codec_multibase_encode('z', (const uint8_t *) "bbb", 3, text, sizeof(text), &n, &err) &&
		  n == 5, "multibase z");
	CHECK_STR(text, "za3gV", "multibase z is base58btc");
	CHECK(codec_multibase_encode('u', (const uint8_t *) "foob", 4, text, sizeof(text), &n, &err),
		  "multibase u");
	CHECK_STR(text, "uZm9vYg", "multibase u is base64url without padding");
	CHECK(!codec_multibase_encode('m', (const uint8_t *) "f", 1, text, sizeof(text), &n, &err) &&
		  strcmp(err.detail, "multibase prefix \"m\" is not supported") == 0,
		  "multibase m refused on encode (%s)", err.detail);

	CHECK(codec_multibase_decode("za3gV", 5, buf, sizeof(buf), &n, &base, &err) &&
		  n == 3 && memcmp(buf, "bbb", 3) == 0 && base == 'z', "multibase decode z");
	CHECK(codec_multibase_decode("uZm9vYg", 7, buf, sizeof(buf), &n, &base, &err) &&
		  n == 4 && memcmp(buf, "foob", 4) == 0 && base == 'u', "multibase decode u");
	CHECK(!codec_multibase_decode("mZm9vYg", 7, buf, sizeof(buf), &n, NULL, &err) &&
		  err.position == 1, "multibase m refused");
	CHECK_STR(err.detail, "multibase prefix \"m\" is not supported", "multibase m message");
	CHECK(!codec_multibase_decode("", 0, buf, sizeof(buf), &n, NULL, &err) &&
		  strcmp(err.detail, "multibase text is empty") == 0, "empty multibase refused");
	CHECK(!codec_multibase_decode("z12340", 6, buf, sizeof(buf), &n, NULL, &err) &&
		  err.position == 6, "multibase positions count the prefix (%zu)", err.position);
	CHECK_STR(err.detail, "invalid base58 character \"0\" at position 6", "multibase error text");
	CHECK(!codec_multibase_decode("uZg==", 5, buf, sizeof(buf), &n, NULL, &err) && err.position == 4,
		  "multibase u refuses padding");
	CHECK(!codec_multibase_decode("\x01xyz", 4, buf, sizeof(buf), &n, NULL, &err) &&
		  strcmp(err.detail, "multibase prefix byte 0x01 is not supported") == 0,
		  "multibase control prefix refused");
}

static void
test_multicodec(void)
{
	uint8_t		out[CODEC_VARINT_MAX];
	uint64_t	code = 0;
	size_t		n = 0;
	CodecError	err;
	static const uint8_t nonminimal[] = {0xED, 0x81, 0x00};
	static const uint8_t toolong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	static const uint8_t nine[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};

	n = codec_multicodec_write(MULTICODEC_ED25519_PUB, out);
	CHECK_STR(tohex(out, n), "ed01", "ed25519-pub is ed 01");
	n = codec_multicodec_write(MULTICODEC_ED25519_PRIV, out);
	CHECK_STR(tohex(out, n), "8026", "ed25519-priv 0x1300 is 80 26");
	n = codec_multicodec_write(MULTICODEC_X25519_PUB, out);
	CHECK_STR(tohex(out, n), "ec01", "x25519-pub is ec 01");
	n = codec_multicodec_write(0, out);
	CHECK_STR(tohex(out, n), "00", "code 0 is one byte");
	CHECK(codec_multicodec_write(UINT64_C(1) << 63, out) == 0, "2^63 cannot be written");

	CHECK(codec_multicodec_read((const uint8_t *) "\xed\x01\xaa", 3, &code, &n, &err) &&
		  code == 0xed && n == 2, "read ed 01");
	CHECK(codec_multicodec_read((const uint8_t *) "\x80\x26", 2, &code, &n, &err) &&
		  code == 0x1300 && n == 2, "read 80 26");
	CHECK(codec_multicodec_read(nine, sizeof(nine), &code, &n, &err) &&
		  code == (UINT64_C(1) << 63) - 1 && n == 9, "nine bytes hold 63 bits");
	CHECK(!codec_multicodec_read(nonminimal, sizeof(nonminimal), &code, &n, &err) &&
		  strstr(err.detail, "minimally"), "non-minimal varint refused");
	CHECK(!codec_multicodec_read(toolong, sizeof(toolong), &code, &n, &err) &&
		  strstr(err.detail, "longer than 9"), "ten-byte varint refused");
	CHECK(!codec_multicodec_read((const uint8_t *) "\xed", 1, &code, &n, &err) &&
		  strstr(err.detail, "truncated"), "truncated varint refused");
	CHECK(!codec_multicodec_read(NULL, 0, &code, &n, &err), "empty varint refused");
	CHECK_STR(codec_multicodec_name(0xed), "ed25519-pub", "name of 0xed");
	CHECK_STR(codec_multicodec_name(0xec), "x25519-pub", "name of 0xec");
	CHECK(codec_multicodec_name(0x55) == NULL, "no name for unknown codes");
}

/* seed -> did:key, and back, for the five did-key vectors; X25519 as well */
static void
test_didkey_vectors(void)
{
	char	   *text = vec_read_file(VEC_DIR "did-key/ed25519-x25519.json", NULL);
	const char *cur = text;
	int			entries = 0;
	int			x25519_checked = 0;

	CHECK(text != NULL, "ed25519-x25519.json is readable");
	if (text == NULL)
		return;
	for (;;)
	{
		char		did[128],
					seedhex[80],
					field[128],
					got[CODEC_DIDKEY_SIZE],
					mk[CODEC_MULTIKEY_SIZE];
		uint8_t		seed[32],
					pk[32],
					sk[64],
					back[32],
					raw[64],
					xpk[32],
					xsk[32];
		const char *entry_end;
		const char *seedpos;
		const char *k;
		size_t		n;
		CodecError	err;
		Ed25519Error eerr;

		/* an entry is "did:key:...": { "seed": ..., ... } up to the next seed */
		seedpos = strstr(cur, "\"seed\"");
		if (seedpos == NULL)
			break;
		for (k = seedpos; k > text && strncmp(k, "\"did:key:", 9) != 0; k--)
			;
		cur = seedpos;
		if (k == text || sscanf(k, "\"%127[^\"]\"", did) != 1 ||
			!vec_next_string(&cur, NULL, "seed", seedhex, sizeof(seedhex)))
		{
			CHECK(false, "did-key entry %d parses", entries + 1);
			break;
		}
		entry_end = strstr(cur, "\"seed\"");
		entries++;

		CHECK(unhex(seedhex, seed, sizeof(seed)) == 32, "%s: seed parses", did);
		CHECK(ed25519_seed_keypair(seed, 32, pk, sk, &eerr), "%s: seed -> key pair", did);
		CHECK(codec_didkey_encode(pk, 32, got, &err), "%s: did:key encodes", did);
		CHECK_STR(got, did, "seed %s -> did:key", seedhex);
		CHECK(codec_didkey_decode(did, strlen(did), back, &err) && memcmp(back, pk, 32) == 0,
			  "%s -> the seed's public key", did);

		if (vec_next_string(&cur, entry_end, "publicKeyBase58", field, sizeof(field)))
		{
			/* raw keys, no multicodec: the 2018 suite's publicKeyBase58 */
			CHECK(codec_base58_decode(field, strlen(field), raw, sizeof(raw), &n, &err) &&
				  n == 32 && memcmp(raw, pk, 32) == 0, "%s: publicKeyBase58 is the key", did);
			CHECK(vec_next_string(&cur, entry_end, "id", field, sizeof(field)),
				  "%s: keyAgreement id", did);
			CHECK(crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0 &&
				  codec_multikey_encode(MULTICODEC_X25519_PUB, xpk, 32, mk, sizeof(mk), &err),
				  "%s: X25519 key", did);
			CHECK(field[0] == '#' && strcmp(field + 1, mk) == 0,
				  "%s: X25519 multikey %s is the keyAgreement id %s", did, mk, field);
			CHECK(vec_next_string(&cur, entry_end, "publicKeyBase58", field, sizeof(field)) &&
				  codec_base58_decode(field, strlen(field), raw, sizeof(raw), &n, &err) &&
				  n == 32 && memcmp(raw, xpk, 32) == 0, "%s: X25519 publicKeyBase58", did);
			CHECK(vec_next_string(&cur, entry_end, "privateKeyBase58", field, sizeof(field)) &&
				  codec_base58_decode(field, strlen(field), raw, sizeof(raw), &n, &err) &&
				  crypto_sign_ed25519_sk_to_curve25519(xsk, sk) == 0 &&
				  n == 32 && memcmp(raw, xsk, 32) == 0, "%s: X25519 privateKeyBase58", did);
			x25519_checked++;
		}
		else
		{
			/* the JsonWebKey2020 entry: base64url x (public) and d (seed) */
			CHECK(vec_next_string(&cur, entry_end, "x", field, sizeof(field)) &&
				  codec_base64url_decode(field, strlen(field), raw, sizeof(raw), &n, &err) &&
				  n == 32 && memcmp(raw, pk, 32) == 0, "%s: publicKeyJwk x is the key", did);
			CHECK(vec_next_string(&cur, entry_end, "d", field, sizeof(field)) &&
				  codec_base64url_decode(field, strlen(field), raw, sizeof(raw), &n, &err) &&
				  n == 32 && memcmp(raw, seed, 32) == 0, "%s: privateKeyJwk d is the seed", did);
			CHECK(vec_next_string(&cur, entry_end, "id", field, sizeof(field)) &&
				  crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0 &&
				  codec_multikey_encode(MULTICODEC_X25519_PUB, xpk, 32, mk, sizeof(mk), &err) &&
				  strstr(field, mk) != NULL && field[strlen(field) - strlen(mk) - 1] == '#',
				  "%s: keyAgreement id ends in the X25519 multikey %s", did, mk);
			x25519_checked++;
		}
		sodium_memzero(sk, sizeof(sk));
		sodium_memzero(xsk, sizeof(xsk));
		if (entry_end == NULL)
			break;
		cur = entry_end;
	}
	CHECK(entries == 5, "did-key: 5 entries read (got %d)", entries);
	CHECK(x25519_checked == 5, "did-key: X25519 keys of all 5 match (got %d)", x25519_checked);
	printf("# did-key: %d/5 seeds -> did:key -> pk, %d X25519 keys\n", entries, x25519_checked);
	free(text);
}

static void
test_didkey_spec(void)
{
	char	   *text = vec_read_file(VEC_DIR "did-key/did-key-spec-examples.json", NULL);
	const char *cur = text;
	char		did[128],
				vm[256],
				mb[128],
				xmb[128];
	char		again[CODEC_DIDKEY_SIZE],
				mk[CODEC_MULTIKEY_SIZE];
	uint8_t		pk[32],
				pk2[32],
				xpk[32];
	CodecError	err;
	int			examples = 0;

	CHECK(text != NULL, "did-key-spec-examples.json is readable");
	if (text == NULL)
		return;
	while (vec_next_string(&cur, NULL, "did", did, sizeof(did)))
	{
		const char *probe = cur;
		const char *end = strstr(cur, "\"did\"");

		examples++;
		CHECK(codec_didkey_decode(did, strlen(did), pk, &err), "spec %s decodes", did);
		CHECK(codec_didkey_encode(pk, 32, again, &err) && strcmp(again, did) == 0,
			  "spec %s re-encodes", did);
		if (vec_next_string(&probe, end, "verificationMethod_id", vm, sizeof(vm)))
			CHECK(codec_didkey_decode(vm, strlen(vm), pk2, &err) && memcmp(pk, pk2, 32) == 0,
				  "verification method %s gives the same key", vm);
		probe = cur;
		CHECK(vec_next_string(&probe, end, "publicKeyMultibase", mb, sizeof(mb)) &&
			  codec_ed25519_public_decode(mb, strlen(mb), pk2, &err) && memcmp(pk, pk2, 32) == 0,
			  "publicKeyMultibase %s gives the same key", mb);
		probe = cur;
		if (vec_next_string(&probe, end, "x25519_multibase", xmb, sizeof(xmb)))
		{
			CHECK(crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0 &&
				  codec_multikey_encode(MULTICODEC_X25519_PUB, xpk, 32, mk, sizeof(mk), &err),
				  "X25519 key of %s", did);
			CHECK_STR(mk, xmb, "X25519 multikey of %s", did);
		}
	}
	CHECK(examples == 2, "did-key spec: 2 examples (got %d)", examples);
	free(text);
}

static const char *
didkey_error(const char *text)
{
	static char out[256];
	uint8_t		pk[32];
	CodecError	err;

	if (codec_didkey_decode(text, strlen(text), pk, &err))
		return "OK";
	snprintf(out, sizeof(out), "@%zu: %s", err.position, err.detail);
	return out;
}

static void
test_didkey_invalid(void)
{
	static const char good[] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
	char		text[256];
	char		mk[CODEC_MULTIKEY_SIZE];
	uint8_t		key[40];
	CodecError	err;

	memset(key, 7, sizeof(key));
	CHECK_STR(didkey_error(good), "OK", "the spec DID decodes");
	snprintf(text, sizeof(text), "%s#%s", good, good + 8);
	CHECK_STR(didkey_error(text), "OK", "DID#key verification method decodes");
	snprintf(text, sizeof(text), "%s#z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP", good);
	CHECK_STR(didkey_error(text), "@58: did:key fragment at position 58 does not match the key",
			  "a fragment naming another key is refused");
	snprintf(text, sizeof(text), "%s#", good);
	CHECK_STR(didkey_error(text), "@58: did:key fragment at position 58 does not match the key",
			  "an empty fragment is refused");
	snprintf(text, sizeof(text), "%s#%sx", good, good + 8);
	CHECK_STR(didkey_error(text), "@58: did:key fragment at position 58 does not match the key",
			  "a longer fragment is refused");
	CHECK_STR(didkey_error("did:kex:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
			  "@7: not a did:key (expected \"did:key:\" at the start)", "wrong method");
	CHECK_STR(didkey_error("DID:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
			  "@1: not a did:key (expected \"did:key:\" at the start)", "upper-case scheme");
	CHECK_STR(didkey_error("did:key"), "@8: not a did:key (expected \"did:key:\" at the start)",
			  "truncated prefix");
	CHECK_STR(didkey_error("did:key:"), "@9: did:key has no key after \"did:key:\"", "no key");
	CHECK_STR(didkey_error("did:key:u7QHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7Q"),
			  "@9: did:key public key must be multibase base58btc (start with \"z\")",
			  "base64url did:key refused");
	CHECK_STR(didkey_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do0"),
			  "@56: invalid base58 character \"0\" at position 56", "bad character, DID position");
	CHECK_STR(didkey_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK/path"),
			  "@57: invalid base58 character \"/\" at position 57", "a path is refused");
	CHECK_STR(didkey_error("did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"),
			  "@9: did:key public key is x25519-pub (multicodec 0xec), expected ed25519-pub (0xed)",
			  "an X25519 did:key is recognised and refused");

	/* exact length: 31 and 33 bytes after ed 01 */
	strcpy(text, "did:key:");
	CHECK(codec_multikey_encode(MULTICODEC_ED25519_PUB, key, 31, text + 8, sizeof(text) - 8, &err),
		  "31-byte multikey");
	CHECK_STR(didkey_error(text), "@9: did:key public key has 31 bytes (expected 32)",
			  "a 31-byte did:key key is refused");
	CHECK(codec_multikey_encode(MULTICODEC_ED25519_PUB, key, 33, text + 8, sizeof(text) - 8, &err),
		  "33-byte multikey");
	CHECK_STR(didkey_error(text), "@9: did:key public key has 33 bytes (expected 32)",
			  "a 33-byte did:key key is refused");
	CHECK(codec_multikey_encode(0x1200, key, 33, text + 8, sizeof(text) - 8, &err),
		  "p256 multikey");
	CHECK_STR(didkey_error(text),
			  "@9: did:key public key is p256-pub (multicodec 0x1200), expected ed25519-pub (0xed)",
			  "a P-256 did:key is refused");
	CHECK(codec_multikey_encode(0x55, key, 32, text + 8, sizeof(text) - 8, &err), "unknown multikey");
	CHECK_STR(didkey_error(text),
			  "@9: did:key public key has multicodec 0x55, expected ed25519-pub (0xed)",
			  "an unknown multicodec is refused");
	CHECK_STR(didkey_error("did:key:z"),
			  "@9: multicodec prefix is missing or truncated", "an empty key is refused");
	CHECK(!codec_didkey_encode(key, 31, text, &err) && text[0] == '\0' &&
		  strcmp(err.detail, "public key has 31 bytes (expected 32)") == 0,
		  "did:key encode refuses a 31-byte key");
	CHECK(!codec_ed25519_public_encode(key, 33, mk, &err), "public multibase refuses 33 bytes");
}

/* the W3C vc-di-eddsa key pair: multibase keys -> pk and seed; seed -> pk */
static void
test_vc_keypair(void)
{
	char	   *text = vec_read_file(VEC_DIR "vc-di-eddsa/keyPair.json", NULL);
	const char *cur = text;
	char		pubmb[128],
				privmb[128],
				again[CODEC_MULTIKEY_SIZE];
	uint8_t		pk[32],
				derived[32],
				secret[64],
				full[64];
	size_t		secretlen = 0;
	CodecError	err;
	Ed25519Error eerr;

	CHECK(text != NULL, "keyPair.json is readable");
	if (text == NULL)
		return;
	CHECK(vec_next_string(&cur, NULL, "publicKeyMultibase", pubmb, sizeof(pubmb)), "publicKeyMultibase");
	cur = text;
	CHECK(vec_next_string(&cur, NULL, "privateKeyMultibase", privmb, sizeof(privmb)),
		  "privateKeyMultibase");
	free(text);

	CHECK(strncmp(pubmb, "z6Mk", 4) == 0 && strncmp(privmb, "z3u2", 4) == 0, "z6Mk / z3u2 prefixes");
	CHECK(codec_ed25519_public_decode(pubmb, strlen(pubmb), pk, &err), "public key decodes");
	CHECK_STR(tohex(pk, 32), "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f",
			  "vc-di-eddsa public key");
	CHECK(codec_ed25519_secret_decode(privmb, strlen(privmb), secret, &secretlen, &err) &&
		  secretlen == 32, "secret key decodes to a 32-byte seed");
	CHECK_STR(tohex(secret, 32), "c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6",
			  "vc-di-eddsa seed");
	CHECK(ed25519_seed_keypair(secret, 32, derived, full, &eerr) && memcmp(derived, pk, 32) == 0,
		  "crypto_sign_seed_keypair(seed) gives the documented public key");
	CHECK(codec_ed25519_public_encode(pk, 32, again, &err), "public key re-encodes");
	CHECK_STR(again, pubmb, "publicKeyMultibase round-trips");
	CHECK(codec_ed25519_secret_encode(secret, 32, again, &err), "seed re-encodes");
	CHECK_STR(again, privmb, "secretKeyMultibase round-trips");
	CHECK(codec_ed25519_secret_encode(full, 64, again, &err) && strcmp(again, privmb) == 0,
		  "a 64-byte secret is written as its seed");

	/* the older 64-byte (seed || pk) form is accepted too */
	CHECK(codec_multikey_encode(MULTICODEC_ED25519_PRIV, full, 64, again, sizeof(again), &err),
		  "64-byte ed25519-priv multikey");
	CHECK(codec_ed25519_secret_decode(again, strlen(again), secret, &secretlen, &err) &&
		  secretlen == 64 && memcmp(secret, full, 64) == 0, "64-byte secret multikey decodes");

	/* wrong kinds and lengths; no secret characters in any message */
	CHECK(!codec_ed25519_secret_decode(pubmb, strlen(pubmb), secret, &secretlen, &err) &&
		  strcmp(err.detail,
				 "secret key is ed25519-pub (multicodec 0xed), expected ed25519-priv (0x1300)") == 0,
		  "a public key is not a secret key (%s)", err.detail);
	CHECK(!codec_ed25519_public_decode(privmb, strlen(privmb), pk, &err) &&
		  strcmp(err.detail,
				 "public key is ed25519-priv (multicodec 0x1300), expected ed25519-pub (0xed)") == 0,
		  "a secret key is not a public key (%s)", err.detail);
	CHECK(codec_multikey_encode(MULTICODEC_ED25519_PRIV, full, 31, again, sizeof(again), &err) &&
		  !codec_ed25519_secret_decode(again, strlen(again), secret, &secretlen, &err) &&
		  strcmp(err.detail, "secret key has 31 bytes (expected 32 or 64)") == 0,
		  "a 31-byte secret is refused (%s)", err.detail);
	strcpy(again, privmb);
	again[20] = '0';
	CHECK(!codec_ed25519_secret_decode(again, strlen(again), secret, &secretlen, &err) &&
		  strcmp(err.detail, "invalid base58 character at position 21") == 0,
		  "a bad secret character is located but not quoted (%s)", err.detail);
	again[0] = 'u';
	CHECK(!codec_ed25519_secret_decode(again, strlen(again), secret, &secretlen, &err) &&
		  strstr(err.detail, "must be multibase base58btc") != NULL, "a base64url secret is refused");
	CHECK(!codec_ed25519_secret_encode(full, 48, again, &err), "a 48-byte secret is not encoded");
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(full, sizeof(full));
}

int
main(void)
{
	test_hex();
	test_base58();
	test_base64url();
	test_canonical();
	test_multibase();
	test_multicodec();
	test_didkey_vectors();
	test_didkey_spec();
	test_didkey_invalid();
	test_vc_keypair();
	return unit_done("codec");
}
