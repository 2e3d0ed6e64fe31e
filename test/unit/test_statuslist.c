/*
 * test_statuslist.c: src/core/statuslist.c against the W3C and Digital Bazaar
 * encodedList strings (decoded bits and byte-exact re-encoding), plus
 * round trips, bounds, malformed input and a decompression bomb.
 */
#define ZLIB_CONST
#include "core/statuslist.h"
#include "unit.h"
#include "vecfile.h"

#include <stdlib.h>
#include <zlib.h>

#define VEC_DIR "test/vectors/"

static uint32_t rng_state = 0x61C88647u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* indexes of the set bits, up to cap of them; returns how many are set */
static size_t
set_bits(const uint8_t *list, size_t nbytes, long *out, size_t cap)
{
	size_t		count = 0;
	uint64_t	i;

	for (i = 0; i < statuslist_length_bits(nbytes); i++)
	{
		bool		v = false;

		statuslist_get(list, nbytes, i, &v, NULL);
		if (v)
		{
			if (count < cap)
				out[count] = (long) i;
			count++;
		}
	}
	return count;
}

/* every vector: decodes to its length and exactly its set indexes, and re-encodes */
static void
test_vectors(void)
{
	char	   *text = vec_read_file(VEC_DIR "status-list/status-list-vectors.json", NULL);
	const char *cur = text;
	char		id[128];
	static char encoded[4096];
	int			vectors = 0,
				decoded_ok = 0,
				refused_ok = 0,
				reencoded = 0;

	CHECK(text != NULL, "status-list-vectors.json is readable");
	if (text == NULL)
		return;
	while (vec_next_string(&cur, NULL, "id", id, sizeof(id)))
	{
		const char *end = strstr(cur, "\"id\"");
		bool		decodes = false;
		bool		meets_min = false;
		long		length_bits = -1;
		long		want[16];
		long		got[16];
		size_t		nwant = 0;
		size_t		ngot;
		uint8_t    *list = NULL;
		size_t		nbytes = 0;
		StatusListFormat format;
		CodecError	err;
		DegBuf		out;
		bool		ok;
		size_t		i;

		vectors++;
		if (!vec_next_string(&cur, end, "encodedList", encoded, sizeof(encoded)) ||
			!vec_next_bool(&cur, end, "decodes", &decodes))
		{
			CHECK(false, "%s parses", id);
			continue;
		}
		err.detail[0] = '\0';
		ok = statuslist_decode(encoded, strlen(encoded), &list, &nbytes, &format, &err);
		if (!decodes)
		{
			CHECK(!ok && err.detail[0] != '\0', "%s is refused cleanly (%s)", id, err.detail);
			CHECK(strstr(err.detail, "impossible length") != NULL,
				  "%s: the error names the base64url length (%s)", id, err.detail);
			refused_ok += !ok;
			if (ok)
				deg_free(list);
			continue;
		}
		if (!vec_next_long(&cur, end, "length_bits", &length_bits) ||
			!vec_next_long_array(&cur, end, "set_indexes", want, 16, &nwant) ||
			!vec_next_bool(&cur, end, "meets_spec_minimum_131072", &meets_min))
		{
			CHECK(false, "%s: expectations parse", id);
			continue;
		}
		CHECK(ok, "%s decodes (%s)", id, ok ? "" : err.detail);
		if (!ok)
			continue;
		CHECK(format == (encoded[0] == 'u' ? STATUSLIST_BITSTRING : STATUSLIST_2021),
			  "%s: format from the multibase prefix", id);
		CHECK((long) statuslist_length_bits(nbytes) == length_bits,
			  "%s: %ld bits (got %llu)", id, length_bits,
			  (unsigned long long) statuslist_length_bits(nbytes));
		ngot = set_bits(list, nbytes, got, 16);
		CHECK(ngot == nwant && memcmp(got, want, nwant * sizeof(long)) == 0,
			  "%s: exactly the documented set indexes (%zu set, first %ld)",
			  id, ngot, ngot ? got[0] : -1L);
		for (i = 0; i < nwant; i++)
		{
			bool		v = false;

			CHECK(statuslist_get(list, nbytes, (uint64_t) want[i], &v, &err) && v,
				  "%s: status(%ld) is set", id, want[i]);
		}
		CHECK(statuslist_validate(statuslist_length_bits(nbytes), 1, &err) == meets_min,
			  "%s: spec minimum %s", id, meets_min ? "met" : "not met");
		if (ngot == nwant && (long) statuslist_length_bits(nbytes) == length_bits)
			decoded_ok++;

		/* zlib with the pinned settings reproduces every upstream string */
		degbuf_init(&out);
		CHECK(statuslist_encode(list, nbytes, format, &out, &err), "%s: encodes", id);
		if (out.data && strcmp(out.data, encoded) == 0)
			reencoded++;
		else
			CHECK_STR(out.data ? out.data : "(none)", encoded, "%s: re-encodes byte for byte", id);
		degbuf_free(&out);
		deg_free(list);
	}
	CHECK(vectors == 10, "10 status list vectors read (got %d)", vectors);
	CHECK(decoded_ok == 9 && refused_ok == 1,
		  "9 vectors decode to their documented bits, the malformed one is refused (%d, %d)",
		  decoded_ok, refused_ok);
	CHECK(reencoded == 9, "all 9 re-encode to the upstream string (%d)", reencoded);
	printf("# status-list: %d/9 decode exactly, %d/9 re-encode byte for byte, %d/1 malformed refused\n",
		   decoded_ok, reencoded, refused_ok);
	free(text);
}

static void
test_bits(void)
{
	uint8_t    *list = NULL;
	size_t		nbytes = 0;
	CodecError	err;
	bool		v = true;

	CHECK(!statuslist_create(131064, &list, &nbytes, &err) &&
		  strcmp(err.detail, "status list has 131064 entries (at least 131072 required)") == 0,
		  "a list below the minimum is not created (%s)", err.detail);
	CHECK(!statuslist_create(131073, &list, &nbytes, &err) && strstr(err.detail, "multiple of 8"),
		  "a length that is not whole bytes is refused");
	CHECK(!statuslist_create((uint64_t) STATUSLIST_MAX_BYTES * 8 + 8, &list, &nbytes, &err) &&
		  strstr(err.detail, "too large"), "a list past the maximum is refused");
	CHECK(statuslist_create(STATUSLIST_MIN_ENTRIES, &list, &nbytes, &err) && nbytes == 16384,
		  "a minimal list is 16 KiB");

	CHECK(statuslist_get(list, nbytes, 0, &v, &err) && !v, "new lists are all zero");
	CHECK(statuslist_set(list, nbytes, 0, &err) && list[0] == 0x80,
		  "index 0 is the most significant bit of byte 0");
	CHECK(statuslist_set(list, nbytes, 7, &err) && list[0] == 0x81,
		  "index 7 is the least significant bit of byte 0");
	CHECK(statuslist_set(list, nbytes, 50000, &err) && list[6250] == 0x80,
		  "index 50000 is the top bit of byte 6250");
	CHECK(statuslist_get(list, nbytes, 50000, &v, &err) && v, "get reads what set wrote");
	CHECK(statuslist_get(list, nbytes, 50007, &v, &err) && !v, "no bit-order mix-up with 50007");
	CHECK(statuslist_clear(list, nbytes, 0, &err) && list[0] == 0x01, "clear removes one bit");
	CHECK(statuslist_clear(list, nbytes, 0, &err) && list[0] == 0x01, "clearing twice is harmless");
	CHECK(statuslist_set(list, nbytes, 131071, &err) && list[16383] == 0x01, "the last index");
	CHECK(!statuslist_set(list, nbytes, 131072, &err) &&
		  strcmp(err.detail, "status list index 131072 is out of range (the list has 131072 entries)") == 0,
		  "set past the end is refused (%s)", err.detail);
	CHECK(!statuslist_get(list, nbytes, UINT64_MAX, &v, &err), "get of a huge index is refused");
	CHECK(!statuslist_clear(list, nbytes, 131072, &err), "clear past the end is refused");
	CHECK(!statuslist_get(NULL, 0, 0, &v, &err), "get on no list is refused");
	CHECK(statuslist_validate(131072, 1, &err), "131072 one-bit entries meet the minimum");
	CHECK(!statuslist_validate(131072, 2, &err) && strstr(err.detail, "65536 entries"),
		  "131072 bits of two-bit entries do not");
	CHECK(statuslist_validate(262144, 2, &err), "262144 bits of two-bit entries do");
	CHECK(!statuslist_validate(131072, 0, &err), "status size 0 is refused");
	deg_free(list);
}

/* a 131072-entry list with random bits set survives encode and decode, both formats */
static void
test_roundtrip(void)
{
	uint8_t    *list = NULL;
	uint8_t    *back = NULL;
	size_t		nbytes = 0,
				nback = 0;
	CodecError	err;
	DegBuf		out;
	StatusListFormat format;
	int			i;
	size_t		k;
	size_t		count = 0;

	CHECK(statuslist_create(STATUSLIST_MIN_ENTRIES, &list, &nbytes, &err), "create");
	for (i = 0; i < 3000; i++)
		statuslist_set(list, nbytes, rng() % STATUSLIST_MIN_ENTRIES, &err);
	for (k = 0; k < statuslist_length_bits(nbytes); k++)
		count += (list[k >> 3] >> (7 - (k & 7))) & 1;
	CHECK(count > 2900, "about 3000 random entries are set (%zu)", count);

	degbuf_init(&out);
	CHECK(statuslist_encode(list, nbytes, STATUSLIST_BITSTRING, &out, &err), "encode");
	CHECK(out.len > 20 && strncmp(out.data, "uH4sIAAAAAAAAA", 14) == 0 &&
		  strlen(out.data) == out.len,
		  "BitstringStatusList text starts with u + the GZIP header (mtime 0)");
	CHECK(statuslist_decode(out.data, out.len, &back, &nback, &format, &err) &&
		  format == STATUSLIST_BITSTRING && nback == nbytes && memcmp(back, list, nbytes) == 0,
		  "BitstringStatusList round trip");
	deg_free(back);
	back = NULL;
	degbuf_free(&out);

	CHECK(statuslist_encode(list, nbytes, STATUSLIST_2021, &out, &err) &&
		  strncmp(out.data, "H4sI", 4) == 0, "StatusList2021 has no prefix");
	CHECK(statuslist_decode(out.data, out.len, &back, &nback, &format, &err) &&
		  format == STATUSLIST_2021 && nback == nbytes && memcmp(back, list, nbytes) == 0,
		  "StatusList2021 round trip");
	deg_free(back);
	degbuf_free(&out);

	/* appending keeps what the buffer held */
	degbuf_init(&out);
	degbuf_puts(&out, "encodedList=");
	CHECK(statuslist_encode(list, 1, STATUSLIST_BITSTRING, &out, &err) &&
		  strncmp(out.data, "encodedList=uH4sI", 17) == 0, "encode appends to the buffer");
	degbuf_free(&out);

	CHECK(!statuslist_encode(list, 0, STATUSLIST_BITSTRING, &out, &err), "an empty list is not encoded");
	CHECK(!statuslist_encode(NULL, 5, STATUSLIST_BITSTRING, &out, &err), "no list is not encoded");
	deg_free(list);
}

/* GZIP (windowBits 31) of n bytes of value fill, as multibase base64url */
static char *
gzip_text(const uint8_t *data, size_t n, size_t *textlen)
{
	z_stream	zs;
	uLong		bound;
	uint8_t    *gz;
	char	   *text;
	size_t		cap;
	CodecError	err;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&zs, (uLong) n);
	gz = malloc(bound);
	zs.next_in = data;
	zs.avail_in = (uInt) n;
	zs.next_out = gz;
	zs.avail_out = (uInt) bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		free(gz);
		return NULL;
	}
	cap = 1 + CODEC_BASE64URL_SIZE(zs.total_out);
	text = malloc(cap);
	text[0] = 'u';
	if (!codec_base64url_encode(gz, zs.total_out, text + 1, cap - 1, textlen, &err))
	{
		free(text);
		text = NULL;
	}
	*textlen += 1;
	deflateEnd(&zs);
	free(gz);
	return text;
}

static const char *
decode_error(const char *text, size_t len)
{
	static CodecError err;
	uint8_t    *list = NULL;
	size_t		nbytes = 0;

	if (statuslist_decode(text, len, &list, &nbytes, NULL, &err))
	{
		deg_free(list);
		return "OK";
	}
	return err.detail;
}

static void
test_malformed(void)
{
	uint8_t    *zeros = calloc(STATUSLIST_MAX_BYTES + 1024 * 1024, 1);
	char	   *text;
	size_t		len = 0;
	uint8_t    *list = NULL;
	size_t		nbytes = 0;
	CodecError	err;
	static const char empty_gzip[] = "uH4sIAAAAAAAAAwMAAAAAAAAAAAA";	/* 20 bytes */
	char		buf[256];

	/* a 17 MiB run of zeros compresses to a few KiB: the bomb is refused */
	text = gzip_text(zeros, STATUSLIST_MAX_BYTES + 1024 * 1024, &len);
	CHECK(text != NULL && len < 40000, "a 17 MiB bomb is %zu characters", len);
	CHECK_STR(decode_error(text, len),
			  "status list is larger than 16777216 bytes when decompressed", "the bomb is refused");
	free(text);
	/* one byte past the cap is refused, exactly the cap is accepted */
	text = gzip_text(zeros, STATUSLIST_MAX_BYTES + 1, &len);
	CHECK_STR(decode_error(text, len),
			  "status list is larger than 16777216 bytes when decompressed", "cap + 1 is refused");
	free(text);
	text = gzip_text(zeros, STATUSLIST_MAX_BYTES, &len);
	CHECK(statuslist_decode(text, len, &list, &nbytes, NULL, &err) && nbytes == STATUSLIST_MAX_BYTES,
		  "exactly 16 MiB decodes");
	deg_free(list);
	free(text);
	free(zeros);

	CHECK_STR(decode_error("", 0), "encodedList is empty", "empty text");
	CHECK_STR(decode_error("u", 1), "encodedList is empty", "a lone prefix");
	CHECK_STR(decode_error(empty_gzip, strlen(empty_gzip)), "status list is empty",
			  "GZIP of nothing");
	CHECK_STR(decode_error("uZm9vYmFy", 9),
			  "encodedList is not GZIP data (it must start with bytes 1f 8b)", "not GZIP");
	CHECK_STR(decode_error("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAA=", 68),
			  "base64url padding \"=\" at position 68 is not allowed", "padding in a list");
	CHECK_STR(decode_error("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAA+", 69),
			  "invalid base64url character \"+\" at position 69", "standard base64 in a list");
	/* truncated: the spec example without its last 6 bytes (most of CRC and size) */
	CHECK_STR(decode_error("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbS", 61),
			  "GZIP data is truncated", "a truncated GZIP member");
	/* a corrupted CRC (byte 44 of 51 is in characters 59 and 60 of the body) */
	strcpy(buf, "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA");
	buf[60] = (buf[60] == 'A') ? 'B' : 'A';
	CHECK(strncmp(decode_error(buf, strlen(buf)), "invalid GZIP data: ", 19) == 0,
		  "a corrupted trailer is refused (%s)", decode_error(buf, strlen(buf)));
	/* trailing bytes after the member */
	strcpy(buf, "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAAAAAA");
	CHECK_STR(decode_error(buf, strlen(buf)),
			  "encodedList has 3 bytes after the end of its GZIP data", "trailing data refused");
	/* zlib-wrapped data is not GZIP */
	CHECK_STR(decode_error("ueJwDAAAAAAE", 12),
			  "encodedList is not GZIP data (it must start with bytes 1f 8b)", "zlib format refused");
}

/* arbitrary text never crashes the decoder and always explains a refusal */
static void
test_garbage(void)
{
	static const char seed[] = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ u";
	char		text[128];
	int			bad = 0;
	int			i;

	for (i = 0; i < 20000; i++)
	{
		size_t		len = strlen(seed);
		int			edits = 1 + (int) (rng() % 4);
		uint8_t    *list = NULL;
		size_t		nbytes = 0;
		CodecError	err;

		memcpy(text, seed, len);
		while (edits-- > 0)
		{
			size_t		at = rng() % len;

			if (rng() % 5 == 0)
				len = at + 1;	/* truncate */
			else
				text[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
		}
		err.detail[0] = '\0';
		if (statuslist_decode(text, len, &list, &nbytes, NULL, &err))
		{
			if (nbytes == 0 || nbytes > STATUSLIST_MAX_BYTES)
				bad++;
			deg_free(list);
		}
		else if (err.detail[0] == '\0')
			bad++;
	}
	CHECK(bad == 0, "20000 mutated lists: each decodes or is refused with a reason (%d bad)", bad);
}

int
main(void)
{
	test_vectors();
	test_bits();
	test_roundtrip();
	test_malformed();
	test_garbage();
	return unit_done("statuslist");
}
