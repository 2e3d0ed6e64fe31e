/*
 * fuzz_codec.c: hex, base58btc, base64url, multibase, multicodec varints,
 * Multikey and did:key (src/core/codec.c).
 *
 * The input is tried as a text for every decoder.  The decoders are strict
 * (one spelling per byte string), so whatever one accepts must encode back
 * to exactly the input (hex: to its lower-case form).  The input is also
 * encoded with every encoder and must decode back to itself.  Every call
 * gets a buffer of exactly the stated capacity, so ASan catches a write
 * past it.
 */
#include "core/codec.h"
#include "fuzz.h"

#include <ctype.h>

#define MAXIN 4096

static void *
exact(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	FUZZ_ASSERT(p != NULL, "malloc");
	return p;
}

static void
decoders(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	CodecError	err;
	size_t		cap = size + 8;
	uint8_t    *bytes = exact(cap);
	size_t		n;
	char		base;
	uint64_t	code;
	size_t		prefixlen;
	uint8_t		pk[32];
	uint8_t		secret[64];

	/* hex */
	if (codec_hex_decode(text, size, bytes, cap, &n, &err))
	{
		char	   *again = exact(CODEC_HEX_SIZE(n));
		size_t		i;

		FUZZ_ASSERT(n * 2 == size, "hex: %zu bytes from %zu digits", n, size);
		FUZZ_ASSERT(codec_hex_encode(bytes, n, again, CODEC_HEX_SIZE(n)), "hex encode");
		for (i = 0; i < size; i++)
			FUZZ_ASSERT(again[i] == tolower((unsigned char) text[i]), "hex round trip at %zu", i);
		free(again);
		/* a buffer one byte short is refused, not overrun */
		if (n > 0)
		{
			uint8_t    *small = exact(n - 1);

			FUZZ_ASSERT(!codec_hex_decode(text, size, small, n - 1, &n, &err), "hex into a short buffer");
			free(small);
		}
	}

	/* base58btc */
	if (codec_base58_decode(text, size, bytes, cap, &n, &err))
	{
		size_t		ocap = CODEC_BASE58_SIZE(n);
		char	   *again = exact(ocap);
		size_t		m;

		FUZZ_ASSERT(codec_base58_encode(bytes, n, again, ocap, &m, &err), "base58 encode: %s", err.detail);
		FUZZ_ASSERT(m == size && memcmp(again, text, size) == 0, "base58 round trip");
		FUZZ_ASSERT(again[m] == '\0', "base58 NUL");
		free(again);
		if (n > 0)
		{
			uint8_t    *small = exact(n - 1);

			FUZZ_ASSERT(!codec_base58_decode(text, size, small, n - 1, &m, &err), "base58 into a short buffer");
			free(small);
		}
	}

	/* base64url */
	if (codec_base64url_decode(text, size, bytes, cap, &n, &err))
	{
		size_t		ocap = CODEC_BASE64URL_SIZE(n);
		char	   *again = exact(ocap);
		size_t		m;

		FUZZ_ASSERT(n <= CODEC_BASE64URL_DECODED_MAX(size), "base64url decoded size");
		FUZZ_ASSERT(codec_base64url_encode(bytes, n, again, ocap, &m, &err), "base64url encode: %s", err.detail);
		FUZZ_ASSERT(m == size && memcmp(again, text, size) == 0, "base64url round trip");
		free(again);
		if (n > 0)
		{
			uint8_t    *small = exact(n - 1);

			FUZZ_ASSERT(!codec_base64url_decode(text, size, small, n - 1, &m, &err), "base64url into a short buffer");
			free(small);
		}
	}

	/* multibase */
	if (codec_multibase_decode(text, size, bytes, cap, &n, &base, &err))
	{
		size_t		ocap = 1 + (base == 'z' ? CODEC_BASE58_SIZE(n) : CODEC_BASE64URL_SIZE(n));
		char	   *again = exact(ocap);
		size_t		m;

		FUZZ_ASSERT(base == 'z' || base == 'u', "multibase base %c", base);
		FUZZ_ASSERT(codec_multibase_encode(base, bytes, n, again, ocap, &m, &err),
					"multibase encode: %s", err.detail);
		FUZZ_ASSERT(m == size && memcmp(again, text, size) == 0, "multibase round trip");
		free(again);
	}

	/* multicodec varint: minimal, so writing the code gives the same prefix */
	if (codec_multicodec_read(data, size, &code, &prefixlen, &err))
	{
		uint8_t		v[CODEC_VARINT_MAX];
		size_t		m = codec_multicodec_write(code, v);

		FUZZ_ASSERT(prefixlen >= 1 && prefixlen <= CODEC_VARINT_MAX && prefixlen <= size, "varint length");
		FUZZ_ASSERT(m == prefixlen && memcmp(v, data, m) == 0, "varint round trip");
		(void) codec_multicodec_name(code);
	}

	/* Ed25519 Multikey texts and did:key */
	if (codec_ed25519_public_decode(text, size, pk, &err))
	{
		char		again[CODEC_MULTIKEY_SIZE];

		FUZZ_ASSERT(codec_ed25519_public_encode(pk, 32, again, &err), "public encode");
		FUZZ_ASSERT(strlen(again) == size && memcmp(again, text, size) == 0, "public key round trip");
	}
	if (codec_ed25519_secret_decode(text, size, secret, &n, &err))
	{
		FUZZ_ASSERT(n == 32 || n == 64, "secret length %zu", n);
		if (n == 32)
		{
			char		again[CODEC_MULTIKEY_SIZE];

			FUZZ_ASSERT(codec_ed25519_secret_encode(secret, 32, again, &err), "secret encode");
			FUZZ_ASSERT(strlen(again) == size && memcmp(again, text, size) == 0, "secret key round trip");
		}
	}
	if (codec_didkey_decode(text, size, pk, &err))
	{
		char		again[CODEC_DIDKEY_SIZE];
		size_t		m;

		FUZZ_ASSERT(codec_didkey_encode(pk, 32, again, &err), "did:key encode");
		m = strlen(again);
		FUZZ_ASSERT(m <= size && memcmp(again, text, m) == 0, "did:key round trip");
		if (m < size)
		{
			/* the verification method form: did#fragment, the fragment the key again */
			FUZZ_ASSERT(text[m] == '#' && size - m - 1 == m - 8 &&
						memcmp(text + m + 1, again + 8, m - 8) == 0, "did:key fragment");
		}
	}
	free(bytes);
}

static void
encoders(const uint8_t *data, size_t size)
{
	CodecError	err;
	char	   *text;
	uint8_t    *back;
	size_t		n,
				m;
	char		base;

	if (size > MAXIN)
		size = MAXIN;
	back = exact(size + 1);

	text = exact(CODEC_HEX_SIZE(size));
	FUZZ_ASSERT(codec_hex_encode(data, size, text, CODEC_HEX_SIZE(size)), "hex encode");
	FUZZ_ASSERT(codec_hex_decode(text, 2 * size, back, size, &m, &err) && m == size &&
				memcmp(back, data, size) == 0, "hex decode of encode");
	free(text);

	if (size <= CODEC_BASE58_MAX_BYTES)
	{
		text = exact(CODEC_BASE58_SIZE(size));
		FUZZ_ASSERT(codec_base58_encode(data, size, text, CODEC_BASE58_SIZE(size), &n, &err),
					"base58 encode: %s", err.detail);
		FUZZ_ASSERT(n <= CODEC_BASE58_MAX_TEXT, "base58 text of %zu characters", n);
		FUZZ_ASSERT(codec_base58_decode(text, n, back, size, &m, &err) && m == size &&
					memcmp(back, data, size) == 0, "base58 decode of encode: %s", err.detail);
		free(text);

		text = exact(1 + CODEC_BASE58_SIZE(size));
		FUZZ_ASSERT(codec_multibase_encode('z', data, size, text, 1 + CODEC_BASE58_SIZE(size), &n, &err),
					"multibase z encode: %s", err.detail);
		FUZZ_ASSERT(codec_multibase_decode(text, n, back, size, &m, &base, &err) && base == 'z' &&
					m == size && memcmp(back, data, size) == 0, "multibase z round trip");
		free(text);
	}

	text = exact(CODEC_BASE64URL_SIZE(size));
	FUZZ_ASSERT(codec_base64url_encode(data, size, text, CODEC_BASE64URL_SIZE(size), &n, &err),
				"base64url encode: %s", err.detail);
	FUZZ_ASSERT(codec_base64url_decode(text, n, back, size, &m, &err) && m == size &&
				memcmp(back, data, size) == 0, "base64url decode of encode: %s", err.detail);
	free(text);

	/* any key behind any code */
	if (size >= 1 && size <= 256)
	{
		uint64_t	code = data[0] | ((uint64_t) (size > 1 ? data[1] : 0) << 8);
		char		mk[1 + CODEC_BASE58_SIZE(256 + CODEC_VARINT_MAX)];

		if (codec_multikey_encode(code, data, size, mk, sizeof(mk), &err))
		{
			uint64_t	c2;
			size_t		plen;
			uint8_t		full[256 + CODEC_VARINT_MAX];

			FUZZ_ASSERT(codec_multibase_decode(mk, strlen(mk), full, sizeof(full), &m, &base, &err),
						"multikey decodes: %s", err.detail);
			FUZZ_ASSERT(codec_multicodec_read(full, m, &c2, &plen, &err) && c2 == code &&
						m - plen == size && memcmp(full + plen, data, size) == 0, "multikey round trip");
		}
	}
	if (size == 32)
	{
		char		did[CODEC_DIDKEY_SIZE];
		uint8_t		pk[32];

		FUZZ_ASSERT(codec_didkey_encode(data, 32, did, &err), "did:key encode");
		FUZZ_ASSERT(codec_didkey_decode(did, strlen(did), pk, &err) && memcmp(pk, data, 32) == 0,
					"did:key round trip");
	}
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decoders(data, size);
	encoders(data, size);
	return 0;
}
