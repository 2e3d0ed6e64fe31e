/*
 * guard_palloc.c: exact bounds for deg's own palloc calls under
 * AddressSanitizer (test/memory/run.sh links it into the ASan build only).
 *
 * ASan sees malloc blocks, not palloc chunks: a write past the end of a
 * small palloc'd chunk lands in the next chunk of the same 8 kB block and
 * goes unnoticed.  The ASan build links deg with
 * -Wl,--wrap=palloc,--wrap=palloc0,... so that every allocation deg (and
 * src/core through deg_alloc) makes comes here.  Each one asks AllocSet
 * for more than its chunk limit (8 kB in PostgreSQL 15), which AllocSet
 * always serves with a block of its own straight from malloc, so that:
 *   - the bytes after the requested size are poisoned here and any access
 *     to them is reported (heap-buffer-overflow / use-after-poison);
 *   - pfree, repalloc and a context reset or delete free() the block,
 *     so a later access is a heap-use-after-free with both stacks.
 * ASan's allocator clears the poison when it hands the memory out again,
 * so PostgreSQL's own later allocations never inherit it.  Chunks of other
 * context types (not used by deg) are left unpoisoned.
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/memnodes.h"
#include "utils/memutils.h"

#include <sanitizer/asan_interface.h>
#include <string.h>

/* more than the largest AllocSet chunk limit (ALLOC_CHUNK_LIMIT, 8192) */
#define GUARD_FLOOR		((Size) 8192 + 1)

/* size of an AllocSet chunk header in a build without assertions */
#define ALLOCSET_CHUNK_HEADER	(2 * sizeof(void *))

extern void *__real_palloc(Size size);
extern void *__real_palloc0(Size size);
extern void *__real_repalloc(void *pointer, Size size);
extern void *__real_MemoryContextAlloc(MemoryContext context, Size size);
extern void *__real_MemoryContextAllocZero(MemoryContext context, Size size);
extern char *__real_pstrdup(const char *in);
extern char *__real_pnstrdup(const char *in, Size len);

extern void *__wrap_palloc(Size size);
extern void *__wrap_palloc0(Size size);
extern void *__wrap_repalloc(void *pointer, Size size);
extern void *__wrap_MemoryContextAlloc(MemoryContext context, Size size);
extern void *__wrap_MemoryContextAllocZero(MemoryContext context, Size size);
extern char *__wrap_pstrdup(const char *in);
extern char *__wrap_pnstrdup(const char *in, Size len);

/* the size to ask for: never less than GUARD_FLOOR, never past MaxAllocSize */
static Size
padded(Size size)
{
	if (size >= GUARD_FLOOR || size > MaxAllocSize - GUARD_FLOOR)
		return size;
	return GUARD_FLOOR;
}

/* poison the chunk's bytes from size to its end, if it has a block of its own */
static void *
guard_tail(void *pointer, Size size, Size asked)
{
	if (IsA(GetMemoryChunkContext(pointer), AllocSetContext))
		ASAN_POISON_MEMORY_REGION((char *) pointer + size, MAXALIGN(asked) - size);
	return pointer;
}

void *
__wrap_palloc(Size size)
{
	Size		asked = padded(size);

	return guard_tail(__real_palloc(asked), size, asked);
}

void *
__wrap_palloc0(Size size)
{
	Size		asked = padded(size);
	void	   *pointer = __real_palloc(asked);

	memset(pointer, 0, size);
	return guard_tail(pointer, size, asked);
}

void *
__wrap_MemoryContextAlloc(MemoryContext context, Size size)
{
	Size		asked = padded(size);

	return guard_tail(__real_MemoryContextAlloc(context, asked), size, asked);
}

void *
__wrap_MemoryContextAllocZero(MemoryContext context, Size size)
{
	Size		asked = padded(size);
	void	   *pointer = __real_MemoryContextAlloc(context, asked);

	memset(pointer, 0, size);
	return guard_tail(pointer, size, asked);
}

void *
__wrap_repalloc(void *pointer, Size size)
{
	Size		asked = padded(size);

	/* PostgreSQL copies the whole old chunk: let it, then guard the new one */
	if (IsA(GetMemoryChunkContext(pointer), AllocSetContext))
		ASAN_UNPOISON_MEMORY_REGION(pointer,
									GetMemoryChunkSpace(pointer) - ALLOCSET_CHUNK_HEADER);
	return guard_tail(__real_repalloc(pointer, asked), size, asked);
}

char *
__wrap_pstrdup(const char *in)
{
	Size		len = strlen(in);
	char	   *out = __wrap_palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

char *
__wrap_pnstrdup(const char *in, Size len)
{
	Size		n = strnlen(in, len);
	char	   *out = __wrap_palloc(n + 1);

	memcpy(out, in, n);
	out[n] = '\0';
	return out;
}

/*
 * deg_memcheck_probe(i int) reads byte i of a 10-byte palloc and shifts an
 * unsigned 32-bit 1 left by i + 22: test/memory/run.sh calls it with 9
 * (nothing wrong) and 10 (an overread and a shift past the type's width),
 * and expects exactly those two reports, which shows that both sanitizers
 * run in the server and that the guard above bounds chunks exactly.  (A
 * signed overflow would not do: PostgreSQL builds with -fwrapv.)
 */
PG_FUNCTION_INFO_V1(deg_memcheck_probe);

Datum
deg_memcheck_probe(PG_FUNCTION_ARGS)
{
	int32		i = PG_GETARG_INT32(0);
	volatile char *bytes = palloc0(10);
	uint32		top = (uint32) 1 << (i + 22);

	PG_RETURN_INT32(bytes[i] == 0 ? (int32) (top >> 16) : 0);
}
