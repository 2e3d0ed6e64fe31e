/*
 * mem.h: memory for src/core.
 *
 * Core code allocates through deg_alloc/deg_realloc/deg_free.  By default
 * these are malloc, realloc and free (unit tests, fuzzers); the extension
 * points them at palloc, repalloc and pfree in _PG_init, so that inside the
 * server core allocations live in the current memory context and are
 * released with it, even when an error unwinds the stack.
 *
 * Core functions report allocation failure by returning an error, never by
 * aborting: under palloc a failure raises a PostgreSQL error instead and
 * never returns.
 */
#ifndef DEG_CORE_MEM_H
#define DEG_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct DegAllocator
{
	void	   *(*alloc) (size_t size);
	void	   *(*realloc) (void *ptr, size_t size);	/* ptr is never NULL */
	void		(*free) (void *ptr);	/* ptr is never NULL */
} DegAllocator;

/* install an allocator (NULL restores malloc/realloc/free) */
extern void deg_set_allocator(const DegAllocator *allocator);

extern void *deg_alloc(size_t size);
extern void *deg_realloc(void *ptr, size_t size);	/* ptr may be NULL */
extern void deg_free(void *ptr);	/* ptr may be NULL */

/*
 * A growable byte buffer.  After a failed append the buffer is marked
 * oom and further appends do nothing, so a writer checks once at the end.
 * data is always NUL-terminated when non-NULL.
 */
typedef struct DegBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} DegBuf;

extern void degbuf_init(DegBuf *buf);
extern bool degbuf_reserve(DegBuf *buf, size_t extra);
extern bool degbuf_append(DegBuf *buf, const void *bytes, size_t n);
extern bool degbuf_putc(DegBuf *buf, char c);
extern bool degbuf_puts(DegBuf *buf, const char *s);
extern void degbuf_free(DegBuf *buf);

#endif							/* DEG_CORE_MEM_H */
