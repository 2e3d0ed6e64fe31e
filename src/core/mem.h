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
#include <stdint.h>

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
 * Interrupting long work.  Numbers may have 131072 digits, so one division
 * can take most of a second and a formula of such operations hours.  Core
 * code that can run long (formula evaluation, the digit loops of decimal
 * arithmetic) counts its work with deg_work_check and, every
 * DEG_INTERRUPT_INTERVAL units (about a tenth of a millisecond), calls the
 * hook installed with deg_set_interrupt_check (none by default).
 *
 * A hook that returns true stops the work: the core function releases what
 * it holds and fails ("interrupted": DEC_ERR_INTERRUPTED, or a formula
 * error).  The extension installs CHECK_FOR_INTERRUPTS, which never returns
 * true but raises PostgreSQL's error (a cancel, a statement timeout) and
 * does not return; so core calls the hook only where its own state is
 * consistent, and in decimal arithmetic only in operations that have just
 * allocated (where a palloc failure could equally raise an error): what
 * is lost is scratch memory in the current memory context.
 */
#define DEG_INTERRUPT_INTERVAL 65536

typedef bool (*DegInterruptCheck) (void);

/* install the hook (NULL: never interrupted) */
extern void deg_set_interrupt_check(DegInterruptCheck check);

/* units of work left before the hook is called; deg_interrupt_poll's state */
extern int32_t deg_work_left;
extern bool deg_interrupt_poll(void);

/*
 * Count units of work (a digit operation, an instruction) and, when the
 * interval is used up, ask the hook: true means stop.  units is at most
 * INT32_MAX / 2.  The common case is a decrement and a branch.
 */
static inline bool
deg_work_check(int32_t units)
{
	deg_work_left -= units;
	return deg_work_left <= 0 && deg_interrupt_poll();
}

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
