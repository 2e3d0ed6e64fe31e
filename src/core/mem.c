/*
 * mem.c: the pluggable allocator, the interrupt hook and the growable
 * buffer of mem.h.
 */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static void *
libc_alloc(size_t size)
{
	return malloc(size == 0 ? 1 : size);
}

static void *
libc_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size == 0 ? 1 : size);
}

static const DegAllocator libc_allocator = {libc_alloc, libc_realloc, free};
static const DegAllocator *current = &libc_allocator;

void
deg_set_allocator(const DegAllocator *allocator)
{
	current = allocator ? allocator : &libc_allocator;
}

void *
deg_alloc(size_t size)
{
	return current->alloc(size);
}

void *
deg_realloc(void *ptr, size_t size)
{
	return ptr ? current->realloc(ptr, size) : current->alloc(size);
}

void
deg_free(void *ptr)
{
	if (ptr)
		current->free(ptr);
}

/* ---------- interrupting long work ---------- */

static DegInterruptCheck interrupt_check = NULL;
int32_t		deg_work_left = DEG_INTERRUPT_INTERVAL;

void
deg_set_interrupt_check(DegInterruptCheck check)
{
	interrupt_check = check;
	deg_work_left = DEG_INTERRUPT_INTERVAL;
}

bool
deg_interrupt_poll(void)
{
	deg_work_left = DEG_INTERRUPT_INTERVAL;
	return interrupt_check != NULL && interrupt_check();
}

/* ---------- growable buffer ---------- */

void
degbuf_init(DegBuf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->oom = false;
}

bool
degbuf_reserve(DegBuf *buf, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *data;

	if (buf->oom)
		return false;
	if (extra > ((size_t) -1) / 2 - buf->len)
	{
		buf->oom = true;
		return false;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return true;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap *= 2;
	data = deg_realloc(buf->data, cap);
	if (data == NULL)
	{
		buf->oom = true;
		return false;
	}
	buf->data = data;
	buf->cap = cap;
	return true;
}

bool
degbuf_append(DegBuf *buf, const void *bytes, size_t n)
{
	if (!degbuf_reserve(buf, n))
		return false;
	if (n > 0)
		memcpy(buf->data + buf->len, bytes, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return true;
}

bool
degbuf_putc(DegBuf *buf, char c)
{
	return degbuf_append(buf, &c, 1);
}

bool
degbuf_puts(DegBuf *buf, const char *s)
{
	return degbuf_append(buf, s, strlen(s));
}

void
degbuf_free(DegBuf *buf)
{
	deg_free(buf->data);
	degbuf_init(buf);
}
