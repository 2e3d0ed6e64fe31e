/*
 * statuslist.c: W3C Bitstring Status List bits and their encodedList text.
 *
 * The decoder treats its input as hostile: the text is bounded before any
 * allocation, zlib inflates into a buffer that never grows past
 * STATUSLIST_MAX_BYTES + 1 (so a small GZIP of a huge run of zeros costs at
 * most that), and zlib allocates through deg_alloc, so inside the server its
 * memory belongs to the current memory context.
 */
#define ZLIB_CONST
#include "statuslist.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

/*
 * Largest GZIP member worth inflating: deflate's stored blocks add 5 bytes
 * per 16 KiB to incompressible data, plus an 18-byte header and trailer.
 */
#define STATUSLIST_MAX_COMPRESSED (STATUSLIST_MAX_BYTES + STATUSLIST_MAX_BYTES / 1024 + 64)
/* its base64url text, plus the multibase prefix */
#define STATUSLIST_MAX_TEXT (1 + (STATUSLIST_MAX_COMPRESSED / 3) * 4 + 4)

/* the pinned GZIP settings that reproduce the upstream strings */
#define GZIP_LEVEL 6
#define GZIP_WINDOW_BITS (16 + 15)
#define GZIP_MEM_LEVEL 8

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

static voidpf
zlib_alloc(voidpf opaque, uInt items, uInt size)
{
	(void) opaque;
	if (size != 0 && items > ((size_t) -1) / size)
		return Z_NULL;
	return deg_alloc((size_t) items * size);
}

static void
zlib_free(voidpf opaque, voidpf ptr)
{
	(void) opaque;
	deg_free(ptr);
}

static void
zlib_stream_init(z_stream *zs)
{
	memset(zs, 0, sizeof(*zs));
	zs->zalloc = zlib_alloc;
	zs->zfree = zlib_free;
	zs->opaque = Z_NULL;
}

/* ---------- bits ---------- */

static bool
check_index(const uint8_t *list, size_t nbytes, uint64_t index, CodecError *err)
{
	if (list == NULL || index >= statuslist_length_bits(nbytes))
		return fail(err, 0, "status list index %llu is out of range (the list has %llu entries)",
					(unsigned long long) index,
					(unsigned long long) (list ? statuslist_length_bits(nbytes) : 0));
	return true;
}

static uint8_t
bit_mask(uint64_t index)
{
	return (uint8_t) (0x80 >> (index & 7));
}

bool
statuslist_get(const uint8_t *list, size_t nbytes, uint64_t index, bool *value,
			   CodecError *err)
{
	if (!check_index(list, nbytes, index, err))
		return false;
	*value = (list[index >> 3] & bit_mask(index)) != 0;
	return true;
}

bool
statuslist_set(uint8_t *list, size_t nbytes, uint64_t index, CodecError *err)
{
	if (!check_index(list, nbytes, index, err))
		return false;
	list[index >> 3] |= bit_mask(index);
	return true;
}

bool
statuslist_clear(uint8_t *list, size_t nbytes, uint64_t index, CodecError *err)
{
	if (!check_index(list, nbytes, index, err))
		return false;
	list[index >> 3] &= (uint8_t) ~bit_mask(index);
	return true;
}

bool
statuslist_validate(uint64_t length_bits, unsigned int status_size, CodecError *err)
{
	uint64_t	entries;

	if (status_size == 0)
		return fail(err, 0, "status size must be at least 1");
	entries = length_bits / status_size;
	if (entries < STATUSLIST_MIN_ENTRIES)
		return fail(err, 0, "status list has %llu entries (at least %d required)",
					(unsigned long long) entries, STATUSLIST_MIN_ENTRIES);
	return true;
}

bool
statuslist_create(uint64_t length_bits, uint8_t **list, size_t *nbytes,
				  CodecError *err)
{
	uint8_t    *bytes = NULL;
	size_t		n = 0;

	if (length_bits % 8 != 0)
		return fail(err, 0, "status list length %llu is not a multiple of 8",
					(unsigned long long) length_bits);
	if (length_bits > statuslist_length_bits(STATUSLIST_MAX_BYTES))
		return fail(err, 0, "status list length %llu is too large (at most %llu)",
					(unsigned long long) length_bits,
					(unsigned long long) statuslist_length_bits(STATUSLIST_MAX_BYTES));
	if (!statuslist_validate(length_bits, 1, err))
		return false;
	n = (size_t) (length_bits / 8);
	bytes = deg_alloc(n);
	if (bytes == NULL)
		return fail(err, 0, "out of memory for a status list of %zu bytes", n);
	memset(bytes, 0, n);
	*list = bytes;
	*nbytes = n;
	return true;
}

/* ---------- encodedList ---------- */

bool
statuslist_encode(const uint8_t *list, size_t nbytes, StatusListFormat format,
				  DegBuf *out, CodecError *err)
{
	z_stream	zs;
	uint8_t    *gz;
	uLong		bound;
	size_t		gzlen;
	size_t		textlen;
	int			rc;

	if (out == NULL)
		return fail(err, 0, "no output buffer");
	if (list == NULL || nbytes == 0)
		return fail(err, 0, "status list is empty");
	if (nbytes > STATUSLIST_MAX_BYTES)
		return fail(err, 0, "status list of %zu bytes is too large (at most %d)",
					nbytes, STATUSLIST_MAX_BYTES);

	zlib_stream_init(&zs);
	if (deflateInit2(&zs, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
					 Z_DEFAULT_STRATEGY) != Z_OK)
		return fail(err, 0, "could not start GZIP compression");
	bound = deflateBound(&zs, (uLong) nbytes);
	gz = deg_alloc(bound);
	if (gz == NULL)
	{
		deflateEnd(&zs);
		return fail(err, 0, "out of memory for GZIP output of %lu bytes", (unsigned long) bound);
	}
	zs.next_in = list;
	zs.avail_in = (uInt) nbytes;
	zs.next_out = gz;
	zs.avail_out = (uInt) bound;
	/* deflateBound guarantees one call finishes */
	rc = deflate(&zs, Z_FINISH);
	gzlen = (size_t) zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END)
	{
		deg_free(gz);
		return fail(err, 0, "GZIP compression failed");
	}

	if (!degbuf_reserve(out, 1 + CODEC_BASE64URL_SIZE(gzlen)))
	{
		deg_free(gz);
		return fail(err, 0, "out of memory for an encodedList of %zu bytes", gzlen);
	}
	if (format == STATUSLIST_BITSTRING)
		degbuf_putc(out, 'u');
	if (!codec_base64url_encode(gz, gzlen, out->data + out->len, out->cap - out->len,
								&textlen, err))
	{
		deg_free(gz);
		return false;
	}
	out->len += textlen;
	deg_free(gz);
	return true;
}

/*
 * Inflate one complete GZIP member into a new buffer of at most
 * STATUSLIST_MAX_BYTES bytes.
 */
static bool
gunzip_bounded(const uint8_t *gz, size_t gzlen, uint8_t **result, size_t *resultlen,
			   CodecError *err)
{
	const size_t limit = (size_t) STATUSLIST_MAX_BYTES + 1;
	z_stream	zs;
	uint8_t    *buf;
	uint8_t    *bigger;
	size_t		cap;
	size_t		have = 0;
	int			rc;

	if (gzlen < 2 || gz[0] != 0x1F || gz[1] != 0x8B)
		return fail(err, 0, "encodedList is not GZIP data (it must start with bytes 1f 8b)");

	/* status lists compress well; start at a few times the input */
	cap = gzlen < limit / 8 ? gzlen * 8 : limit;
	if (cap < 16384)
		cap = 16384;
	buf = deg_alloc(cap);
	if (buf == NULL)
		return fail(err, 0, "out of memory for a status list of %zu bytes", cap);

	zlib_stream_init(&zs);
	if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK)
	{
		deg_free(buf);
		return fail(err, 0, "could not start GZIP decompression");
	}
	zs.next_in = gz;
	zs.avail_in = (uInt) gzlen;
	for (;;)
	{
		if (have == cap)
		{
			if (cap == limit)
			{
				inflateEnd(&zs);
				deg_free(buf);
				return fail(err, 0, "status list is larger than %d bytes when decompressed",
							STATUSLIST_MAX_BYTES);
			}
			cap = cap < limit / 2 ? cap * 2 : limit;
			bigger = deg_realloc(buf, cap);
			if (bigger == NULL)
			{
				inflateEnd(&zs);
				deg_free(buf);
				return fail(err, 0, "out of memory for a status list of %zu bytes", cap);
			}
			buf = bigger;
		}
		zs.next_out = buf + have;
		zs.avail_out = (uInt) (cap - have);
		rc = inflate(&zs, Z_NO_FLUSH);
		have = cap - zs.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0))
			continue;
		if (rc == Z_BUF_ERROR)
			fail(err, 0, "GZIP data is truncated");
		else
			fail(err, 0, "invalid GZIP data: %s", zs.msg ? zs.msg : "unknown error");
		inflateEnd(&zs);
		deg_free(buf);
		return false;
	}
	rc = (int) zs.avail_in;
	inflateEnd(&zs);
	if (have > STATUSLIST_MAX_BYTES)
	{
		deg_free(buf);
		return fail(err, 0, "status list is larger than %d bytes when decompressed",
					STATUSLIST_MAX_BYTES);
	}
	if (rc != 0)
	{
		deg_free(buf);
		return fail(err, 0, "encodedList has %d bytes after the end of its GZIP data", rc);
	}
	*result = buf;
	*resultlen = have;
	return true;
}

bool
statuslist_decode(const char *text, size_t len, uint8_t **list, size_t *nbytes,
				  StatusListFormat *format, CodecError *err)
{
	StatusListFormat found;
	uint8_t    *gz;
	size_t		cap;
	size_t		gzlen;
	uint8_t    *bytes = NULL;
	size_t		n = 0;
	bool		ok;

	if (text == NULL && len != 0)
		return fail(err, 0, "encodedList of %zu bytes has no data", len);
	found = (len > 0 && text[0] == 'u') ? STATUSLIST_BITSTRING : STATUSLIST_2021;
	if (len == 0 || (found == STATUSLIST_BITSTRING && len == 1))
		return fail(err, 0, "encodedList is empty");
	if (len > STATUSLIST_MAX_TEXT)
		return fail(err, 0, "encodedList of %zu characters is too long (at most %d)",
					len, STATUSLIST_MAX_TEXT);

	cap = CODEC_BASE64URL_DECODED_MAX(len);
	gz = deg_alloc(cap);
	if (gz == NULL)
		return fail(err, 0, "out of memory for an encodedList of %zu characters", len);
	/* multibase decoding keeps error positions relative to the whole text */
	if (found == STATUSLIST_BITSTRING)
		ok = codec_multibase_decode(text, len, gz, cap, &gzlen, NULL, err);
	else
		ok = codec_base64url_decode(text, len, gz, cap, &gzlen, err);
	if (ok)
		ok = gunzip_bounded(gz, gzlen, &bytes, &n, err);
	deg_free(gz);
	if (!ok)
		return false;
	if (n == 0)
	{
		deg_free(bytes);
		return fail(err, 0, "status list is empty");
	}
	*list = bytes;
	*nbytes = n;
	if (format)
		*format = found;
	return true;
}
