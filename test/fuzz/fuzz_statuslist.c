/*
 * fuzz_statuslist.c: Bitstring Status List and StatusList2021 encodedList
 * texts (src/core/statuslist.c), which arrive inside credentials.
 *
 * Whatever statuslist_decode accepts (at most STATUSLIST_MAX_BYTES after
 * inflating) must encode, in the same format, to a text that decodes to
 * the same list; entries read and written at indices inside the list and
 * past its end behave.
 */
#include "core/statuslist.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *list = NULL;
	uint8_t    *again = NULL;
	size_t		nbytes = 0,
				n2 = 0;
	StatusListFormat format,
				f2;
	CodecError	err;
	DegBuf		text;
	uint64_t	bits,
				idx;
	bool		v;
	int			k;

	memset(&err, 0, sizeof(err));
	if (!statuslist_decode((const char *) data, size, &list, &nbytes, &format, &err))
	{
		FUZZ_ASSERT(err.detail[0] != '\0', "error without a message");
		return 0;
	}
	FUZZ_ASSERT(list != NULL && nbytes >= 1 && nbytes <= STATUSLIST_MAX_BYTES, "decoded %zu bytes", nbytes);
	FUZZ_ASSERT(format == (size > 0 && data[0] == 'u' ? STATUSLIST_BITSTRING : STATUSLIST_2021), "format");
	bits = statuslist_length_bits(nbytes);
	(void) statuslist_validate(bits, 1, &err);

	degbuf_init(&text);
	FUZZ_ASSERT(statuslist_encode(list, nbytes, format, &text, &err), "encode: %s", err.detail);
	FUZZ_ASSERT(statuslist_decode(text.data, text.len, &again, &n2, &f2, &err), "own text refused: %s", err.detail);
	FUZZ_ASSERT(f2 == format && n2 == nbytes && memcmp(again, list, nbytes) == 0, "own text decodes differently");
	degbuf_free(&text);
	deg_free(again);

	/* entries: a few inside, the last, and past the end */
	for (k = 0; k < 8; k++)
	{
		idx = k < 6 ? (uint64_t) (data[k % size] * 2654435761u) % bits : k == 6 ? bits - 1 : bits;
		if (idx < bits)
		{
			FUZZ_ASSERT(statuslist_get(list, nbytes, idx, &v, &err), "get %llu", (unsigned long long) idx);
			FUZZ_ASSERT(v == ((list[idx / 8] >> (7 - idx % 8)) & 1), "bit order");
			FUZZ_ASSERT(statuslist_set(list, nbytes, idx, &err) && statuslist_get(list, nbytes, idx, &v, &err) && v,
						"set");
			FUZZ_ASSERT(statuslist_clear(list, nbytes, idx, &err) && statuslist_get(list, nbytes, idx, &v, &err) && !v,
						"clear");
		}
		else
		{
			FUZZ_ASSERT(!statuslist_get(list, nbytes, idx, &v, &err), "get past the end");
			FUZZ_ASSERT(!statuslist_set(list, nbytes, idx, &err), "set past the end");
			FUZZ_ASSERT(!statuslist_clear(list, nbytes, idx, &err), "clear past the end");
		}
	}
	deg_free(list);
	return 0;
}
