/*
 * codec.c: hex, base58btc, base64url, multibase, multicodec, Multikey and
 * did:key.
 *
 * The decoders are written for hostile input: lengths are checked before
 * any write, positions in errors are 1-based byte offsets into the text the
 * caller passed (a did:key error points into the whole DID), and working
 * buffers that may hold secret bytes are wiped before returning.  Errors
 * about a secret key's text never quote its characters.
 */
#include "codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

static const char BASE58_ALPHABET[] =
"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char BASE64URL_ALPHABET[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char HEX_DIGITS[] = "0123456789abcdef";

#define DIDKEY_PREFIX_LEN (sizeof(CODEC_DIDKEY_PREFIX) - 1)
#define ED25519_KEY_BYTES 32

/* working space of base58: digits of the largest input, bytes of the longest text */
#define BASE58_DIGITS_MAX (CODEC_BASE58_MAX_BYTES * 138 / 100 + 1)
#define BASE58_BYTES_MAX (CODEC_BASE58_MAX_TEXT * 733 / 1000 + 1)

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
fail(CodecError *err, size_t position, const char *fmt,...)
{
	va_list		ap;

	if (err)
	{
		err->position = position;
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
	}
	return false;
}

/* the character for an error message: quoted when printable, a byte otherwise */
static void
describe_char(unsigned char c, bool secret, char *buf, size_t cap)
{
	if (secret)
		snprintf(buf, cap, "character");
	else if (c == '"')
		snprintf(buf, cap, "character '\"'");
	else if (c >= 0x20 && c < 0x7F)
		snprintf(buf, cap, "character \"%c\"", c);
	else
		snprintf(buf, cap, "byte 0x%02x", c);
}

static bool
fail_char(CodecError *err, const char *codec, unsigned char c, bool secret,
		  size_t position)
{
	char		what[32];

	describe_char(c, secret, what, sizeof(what));
	return fail(err, position, "invalid %s %s at position %zu", codec, what, position);
}

static bool
check_input(const void *p, size_t len, CodecError *err)
{
	if (p == NULL && len != 0)
		return fail(err, 0, "input of %zu bytes has no data", len);
	return true;
}

/* ---------- hex ---------- */

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
codec_hex_encode(const uint8_t *in, size_t len, char *out, size_t outcap)
{
	size_t		i;

	if ((in == NULL && len != 0) || out == NULL ||
		len > (((size_t) -1) - 1) / 2 || outcap < 2 * len + 1)
		return false;
	for (i = 0; i < len; i++)
	{
		out[2 * i] = HEX_DIGITS[in[i] >> 4];
		out[2 * i + 1] = HEX_DIGITS[in[i] & 0x0F];
	}
	out[2 * len] = '\0';
	return true;
}

bool
codec_hex_decode(const char *text, size_t len, uint8_t *out, size_t outcap,
				 size_t *outlen, CodecError *err)
{
	size_t		i;

	if (!check_input(text, len, err))
		return false;
	if (len % 2 != 0)
		return fail(err, 0, "hex text has an odd number of digits (%zu)", len);
	if (len / 2 > outcap)
		return fail(err, 0, "hex text decodes to %zu bytes (at most %zu fit)",
					len / 2, outcap);
	for (i = 0; i < len; i++)
	{
		int			v = hex_value((unsigned char) text[i]);

		if (v < 0)
			return fail_char(err, "hex", (unsigned char) text[i], false, i + 1);
		if (i % 2 == 0)
			out[i / 2] = (uint8_t) (v << 4);
		else
			out[i / 2] |= (uint8_t) v;
	}
	*outlen = len / 2;
	return true;
}

/* ---------- base58btc ---------- */

static int
base58_digit(unsigned char c)
{
	const char *p;

	if (c == '\0' || c >= 0x80)
		return -1;
	p = strchr(BASE58_ALPHABET, c);
	return p ? (int) (p - BASE58_ALPHABET) : -1;
}

bool
codec_base58_encode(const uint8_t *in, size_t len, char *out, size_t outcap,
					size_t *outlen, CodecError *err)
{
	uint8_t		digits[BASE58_DIGITS_MAX];
	size_t		zeros = 0;
	size_t		size;
	size_t		length = 0;
	size_t		first;
	size_t		n;
	size_t		i;
	size_t		j;

	if (!check_input(in, len, err))
		return false;
	if (len > CODEC_BASE58_MAX_BYTES)
		return fail(err, 0, "base58 input of %zu bytes is too long (at most %d)",
					len, CODEC_BASE58_MAX_BYTES);
	while (zeros < len && in[zeros] == 0)
		zeros++;

	/* big-endian base-58 digits of the number after the leading zeros */
	size = (len - zeros) * 138 / 100 + 1;
	memset(digits, 0, size);
	for (i = zeros; i < len; i++)
	{
		unsigned int carry = in[i];

		for (j = 0; j < size && (carry != 0 || j < length); j++)
		{
			size_t		k = size - 1 - j;

			carry += 256u * digits[k];
			digits[k] = (uint8_t) (carry % 58);
			carry /= 58;
		}
		length = j;
	}
	first = size - length;
	while (first < size && digits[first] == 0)
		first++;

	n = zeros + (size - first);
	if (out == NULL || n + 1 > outcap)
	{
		sodium_memzero(digits, size);
		return fail(err, 0, "base58 text of %zu characters does not fit in %zu bytes",
					n, outcap);
	}
	memset(out, '1', zeros);
	for (i = zeros; first < size; first++, i++)
		out[i] = BASE58_ALPHABET[digits[first]];
	out[n] = '\0';
	*outlen = n;
	sodium_memzero(digits, size);
	return true;
}

/* decode, reporting positions offset + 1-based index */
static bool
base58_decode_at(const char *text, size_t len, size_t offset, bool secret,
				 uint8_t *out, size_t outcap, size_t *outlen, CodecError *err)
{
	uint8_t		bytes[BASE58_BYTES_MAX];
	size_t		zeros = 0;
	size_t		size;
	size_t		length = 0;
	size_t		first;
	size_t		n;
	size_t		i;
	size_t		j;

	if (!check_input(text, len, err))
		return false;
	if (len > CODEC_BASE58_MAX_TEXT)
		return fail(err, offset + 1, "base58 text of %zu characters is too long (at most %d)",
					len, CODEC_BASE58_MAX_TEXT);
	while (zeros < len && text[zeros] == '1')
		zeros++;

	/* big-endian base-256 digits; 733/1000 > log(58)/log(256) */
	size = (len - zeros) * 733 / 1000 + 1;
	memset(bytes, 0, size);
	for (i = zeros; i < len; i++)
	{
		int			digit = base58_digit((unsigned char) text[i]);
		unsigned int carry;

		if (digit < 0)
		{
			sodium_memzero(bytes, size);
			return fail_char(err, "base58", (unsigned char) text[i], secret,
							 offset + i + 1);
		}
		carry = (unsigned int) digit;
		for (j = 0; j < size && (carry != 0 || j < length); j++)
		{
			size_t		k = size - 1 - j;

			carry += 58u * bytes[k];
			bytes[k] = (uint8_t) (carry & 0xFF);
			carry >>= 8;
		}
		length = j;
	}
	first = size - length;
	while (first < size && bytes[first] == 0)
		first++;

	n = zeros + (size - first);
	if (n > outcap || (out == NULL && n != 0))
	{
		sodium_memzero(bytes, size);
		return fail(err, offset + 1, "base58 text decodes to %zu bytes (at most %zu fit)",
					n, outcap);
	}
	if (zeros > 0)
		memset(out, 0, zeros);
	if (size > first)
		memcpy(out + zeros, bytes + first, size - first);
	*outlen = n;
	sodium_memzero(bytes, size);
	return true;
}

bool
codec_base58_decode(const char *text, size_t len, uint8_t *out, size_t outcap,
					size_t *outlen, CodecError *err)
{
	return base58_decode_at(text, len, 0, false, out, outcap, outlen, err);
}

/* ---------- base64url ---------- */

static int
base64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool
codec_base64url_encode(const uint8_t *in, size_t len, char *out, size_t outcap,
					   size_t *outlen, CodecError *err)
{
	size_t		n;
	size_t		i;
	size_t		o = 0;

	if (!check_input(in, len, err))
		return false;
	if (len > (((size_t) -1) / 4) - 1)
		return fail(err, 0, "base64url input of %zu bytes is too long", len);
	n = (len / 3) * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
	if (out == NULL || n + 1 > outcap)
		return fail(err, 0, "base64url text of %zu characters does not fit in %zu bytes",
					n, outcap);
	for (i = 0; i + 3 <= len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = BASE64URL_ALPHABET[(v >> 18) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[(v >> 12) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[(v >> 6) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[v & 0x3F];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		out[o++] = BASE64URL_ALPHABET[(v >> 18) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[(v >> 12) & 0x3F];
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[o++] = BASE64URL_ALPHABET[(v >> 18) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[(v >> 12) & 0x3F];
		out[o++] = BASE64URL_ALPHABET[(v >> 6) & 0x3F];
	}
	out[o] = '\0';
	*outlen = o;
	return true;
}

static bool
base64url_decode_at(const char *text, size_t len, size_t offset, bool secret,
					uint8_t *out, size_t outcap, size_t *outlen, CodecError *err)
{
	size_t		n;
	size_t		o = 0;
	size_t		i;
	uint32_t	acc = 0;
	int			bits = 0;

	if (!check_input(text, len, err))
		return false;
	/* a lone character in the last group carries only 6 bits: no whole byte */
	if (len % 4 == 1)
		return fail(err, offset + len,
					"base64url text of %zu characters has an impossible length", len);
	n = (len / 4) * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (n > outcap || (out == NULL && n != 0))
		return fail(err, offset + 1, "base64url text decodes to %zu bytes (at most %zu fit)",
					n, outcap);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) text[i];
		int			v = base64url_value(c);

		if (v < 0)
		{
			if (c == '=')
				return fail(err, offset + i + 1,
							"base64url padding \"=\" at position %zu is not allowed",
							offset + i + 1);
			return fail_char(err, "base64url", c, secret, offset + i + 1);
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (uint8_t) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the bits left over in the last character must be zero */
	if (acc != 0)
		return fail(err, offset + len,
					"base64url text has non-zero unused bits in its last character at position %zu",
					offset + len);
	*outlen = o;
	return true;
}

bool
codec_base64url_decode(const char *text, size_t len, uint8_t *out, size_t outcap,
					   size_t *outlen, CodecError *err)
{
	return base64url_decode_at(text, len, 0, false, out, outcap, outlen, err);
}

/* ---------- multibase ---------- */

bool
codec_multibase_encode(char base, const uint8_t *in, size_t len,
					   char *out, size_t outcap, size_t *outlen, CodecError *err)
{
	size_t		n;
	bool		ok;

	if (base != 'z' && base != 'u')
	{
		if (base >= 0x20 && base < 0x7F && base != '"')
			return fail(err, 0, "multibase prefix \"%c\" is not supported", base);
		return fail(err, 0, "multibase prefix byte 0x%02x is not supported",
					(unsigned char) base);
	}
	if (out == NULL || outcap < 2)
		return fail(err, 0, "multibase output buffer of %zu bytes is too small", outcap);
	out[0] = base;
	if (base == 'z')
		ok = codec_base58_encode(in, len, out + 1, outcap - 1, &n, err);
	else
		ok = codec_base64url_encode(in, len, out + 1, outcap - 1, &n, err);
	if (!ok)
		return false;
	*outlen = n + 1;
	return true;
}

static bool
multibase_decode_at(const char *text, size_t len, size_t offset, bool secret,
					uint8_t *out, size_t outcap, size_t *outlen, char *base,
					CodecError *err)
{
	unsigned char prefix;

	if (!check_input(text, len, err))
		return false;
	if (len == 0)
		return fail(err, offset, "multibase text is empty");
	prefix = (unsigned char) text[0];
	if (base)
		*base = (char) prefix;
	if (prefix == 'z')
		return base58_decode_at(text + 1, len - 1, offset + 1, secret,
								out, outcap, outlen, err);
	if (prefix == 'u')
		return base64url_decode_at(text + 1, len - 1, offset + 1, secret,
								   out, outcap, outlen, err);
	if (secret)
		return fail(err, offset + 1, "multibase prefix is not supported (expected \"z\")");
	if (prefix >= 0x20 && prefix < 0x7F && prefix != '"')
		return fail(err, offset + 1, "multibase prefix \"%c\" is not supported", prefix);
	return fail(err, offset + 1, "multibase prefix byte 0x%02x is not supported", prefix);
}

bool
codec_multibase_decode(const char *text, size_t len, uint8_t *out, size_t outcap,
					   size_t *outlen, char *base, CodecError *err)
{
	return multibase_decode_at(text, len, 0, false, out, outcap, outlen, base, err);
}

/* ---------- multicodec ---------- */

size_t
codec_multicodec_write(uint64_t code, uint8_t out[CODEC_VARINT_MAX])
{
	size_t		n = 0;

	/* nine 7-bit groups hold 63 bits */
	if (code >> 63)
		return 0;
	do
	{
		uint8_t		b = (uint8_t) (code & 0x7F);

		code >>= 7;
		if (code != 0)
			b |= 0x80;
		out[n++] = b;
	} while (code != 0);
	return n;
}

bool
codec_multicodec_read(const uint8_t *in, size_t len, uint64_t *code,
					  size_t *prefixlen, CodecError *err)
{
	uint64_t	value = 0;
	size_t		i;

	if (!check_input(in, len, err))
		return false;
	for (i = 0; i < len && i < CODEC_VARINT_MAX; i++)
	{
		uint8_t		b = in[i];

		value |= (uint64_t) (b & 0x7F) << (7 * i);
		if ((b & 0x80) == 0)
		{
			/* a final zero group would make a second spelling of the same code */
			if (b == 0 && i > 0)
				return fail(err, 0, "multicodec prefix is not minimally encoded");
			*code = value;
			*prefixlen = i + 1;
			return true;
		}
	}
	if (i == CODEC_VARINT_MAX)
		return fail(err, 0, "multicodec prefix is longer than %d bytes", CODEC_VARINT_MAX);
	return fail(err, 0, "multicodec prefix is missing or truncated");
}

const char *
codec_multicodec_name(uint64_t code)
{
	switch (code)
	{
		case MULTICODEC_ED25519_PUB:
			return "ed25519-pub";
		case MULTICODEC_X25519_PUB:
			return "x25519-pub";
		case MULTICODEC_ED25519_PRIV:
			return "ed25519-priv";
		case MULTICODEC_SECP256K1_PUB:
			return "secp256k1-pub";
		case MULTICODEC_P256_PUB:
			return "p256-pub";
	}
	return NULL;
}

/* ---------- Multikey ---------- */

bool
codec_multikey_encode(uint64_t code, const uint8_t *key, size_t keylen,
					  char *out, size_t outcap, CodecError *err)
{
	uint8_t		raw[CODEC_VARINT_MAX + CODEC_BASE58_MAX_BYTES];
	size_t		prefixlen;
	size_t		n;
	bool		ok;

	if (!check_input(key, keylen, err))
		return false;
	if (keylen > CODEC_BASE58_MAX_BYTES - CODEC_VARINT_MAX)
		return fail(err, 0, "key of %zu bytes is too long", keylen);
	prefixlen = codec_multicodec_write(code, raw);
	if (prefixlen == 0)
		return fail(err, 0, "multicodec 0x%llx is too large for a varint",
					(unsigned long long) code);
	if (keylen > 0)
		memcpy(raw + prefixlen, key, keylen);
	ok = codec_multibase_encode('z', raw, prefixlen + keylen, out, outcap, &n, err);
	sodium_memzero(raw, prefixlen + keylen);
	return ok;
}

/*
 * Decode "z" + base58btc(varint(want) || key) into key, whose length must be
 * one of the two accepted (len_a or len_b; equal when only one is).  what
 * names the key in messages ("did:key public key").
 */
static bool
multikey_decode_at(const char *text, size_t len, size_t offset, bool secret,
				   const char *what, uint64_t want,
				   size_t len_a, size_t len_b,
				   uint8_t *key, size_t *keylen, CodecError *err)
{
	uint8_t		raw[CODEC_BASE58_MAX_BYTES];
	size_t		rawlen = 0;
	size_t		prefixlen;
	uint64_t	code;
	const char *name;
	size_t		n;

	if (!check_input(text, len, err))
		return false;
	if (len == 0 || text[0] != 'z')
		return fail(err, offset + 1, "%s must be multibase base58btc (start with \"z\")", what);
	if (!base58_decode_at(text + 1, len - 1, offset + 1, secret,
						  raw, sizeof(raw), &rawlen, err))
		return false;
	if (!codec_multicodec_read(raw, rawlen, &code, &prefixlen, err))
	{
		sodium_memzero(raw, rawlen);
		if (err)
			err->position = offset + 1;
		return false;
	}
	if (code != want)
	{
		sodium_memzero(raw, rawlen);
		name = codec_multicodec_name(code);
		if (name)
			return fail(err, offset + 1, "%s is %s (multicodec 0x%llx), expected %s (0x%llx)",
						what, name, (unsigned long long) code,
						codec_multicodec_name(want), (unsigned long long) want);
		return fail(err, offset + 1, "%s has multicodec 0x%llx, expected %s (0x%llx)",
					what, (unsigned long long) code,
					codec_multicodec_name(want), (unsigned long long) want);
	}
	n = rawlen - prefixlen;
	if (n != len_a && n != len_b)
	{
		sodium_memzero(raw, rawlen);
		if (len_a == len_b)
			return fail(err, offset + 1, "%s has %zu bytes (expected %zu)", what, n, len_a);
		return fail(err, offset + 1, "%s has %zu bytes (expected %zu or %zu)",
					what, n, len_a, len_b);
	}
	memcpy(key, raw + prefixlen, n);
	*keylen = n;
	sodium_memzero(raw, rawlen);
	return true;
}

bool
codec_ed25519_public_encode(const uint8_t *pk, size_t pklen,
							char out[CODEC_MULTIKEY_SIZE], CodecError *err)
{
	if (pk == NULL || pklen != ED25519_KEY_BYTES)
		return fail(err, 0, "public key has %zu bytes (expected %d)",
					pk ? pklen : 0, ED25519_KEY_BYTES);
	return codec_multikey_encode(MULTICODEC_ED25519_PUB, pk, pklen,
								 out, CODEC_MULTIKEY_SIZE, err);
}

bool
codec_ed25519_public_decode(const char *text, size_t len, uint8_t pk[32],
							CodecError *err)
{
	size_t		n;

	return multikey_decode_at(text, len, 0, false, "public key",
							  MULTICODEC_ED25519_PUB,
							  ED25519_KEY_BYTES, ED25519_KEY_BYTES, pk, &n, err);
}

bool
codec_ed25519_secret_encode(const uint8_t *secret, size_t secretlen,
							char out[CODEC_MULTIKEY_SIZE], CodecError *err)
{
	/* the seed is the secret; a 64-byte key's second half is its public key */
	if (secret == NULL || (secretlen != 32 && secretlen != 64))
		return fail(err, 0, "secret key has %zu bytes (expected 32 or 64)",
					secret ? secretlen : 0);
	return codec_multikey_encode(MULTICODEC_ED25519_PRIV, secret, 32,
								 out, CODEC_MULTIKEY_SIZE, err);
}

bool
codec_ed25519_secret_decode(const char *text, size_t len, uint8_t secret[64],
							size_t *secretlen, CodecError *err)
{
	return multikey_decode_at(text, len, 0, true, "secret key",
							  MULTICODEC_ED25519_PRIV, 32, 64,
							  secret, secretlen, err);
}

/* ---------- did:key ---------- */

bool
codec_didkey_encode(const uint8_t *pk, size_t pklen,
					char out[CODEC_DIDKEY_SIZE], CodecError *err)
{
	memcpy(out, CODEC_DIDKEY_PREFIX, DIDKEY_PREFIX_LEN);
	if (!codec_ed25519_public_encode(pk, pklen, out + DIDKEY_PREFIX_LEN, err))
	{
		out[0] = '\0';
		return false;
	}
	return true;
}

bool
codec_didkey_decode(const char *text, size_t len, uint8_t pk[32], CodecError *err)
{
	const char *id;
	const char *hash;
	size_t		idlen;
	size_t		n;
	size_t		i;

	if (!check_input(text, len, err))
		return false;
	for (i = 0; i < DIDKEY_PREFIX_LEN; i++)
		if (i >= len || text[i] != CODEC_DIDKEY_PREFIX[i])
			return fail(err, i + 1, "not a did:key (expected \"did:key:\" at the start)");
	id = text + DIDKEY_PREFIX_LEN;
	hash = memchr(id, '#', len - DIDKEY_PREFIX_LEN);
	idlen = hash ? (size_t) (hash - id) : len - DIDKEY_PREFIX_LEN;
	if (idlen == 0)
		return fail(err, DIDKEY_PREFIX_LEN + 1, "did:key has no key after \"did:key:\"");
	if (!multikey_decode_at(id, idlen, DIDKEY_PREFIX_LEN, false, "did:key public key",
							MULTICODEC_ED25519_PUB, ED25519_KEY_BYTES, ED25519_KEY_BYTES,
							pk, &n, err))
		return false;
	if (hash)
	{
		size_t		fraglen = len - DIDKEY_PREFIX_LEN - idlen - 1;

		if (fraglen != idlen || memcmp(hash + 1, id, idlen) != 0)
			return fail(err, DIDKEY_PREFIX_LEN + idlen + 2,
						"did:key fragment at position %zu does not match the key",
						DIDKEY_PREFIX_LEN + idlen + 2);
	}
	return true;
}
