/*
 * vecfile.h: reading the conformance vector files in test/vectors.
 *
 * The vector files are JSON or line-based text written by others.  The tests
 * need only flat "key": value pairs from them, in file order, so this is a
 * scanner for exactly that, not a JSON parser: it finds the next occurrence
 * of a key and returns its string or number value.  Values with escapes are
 * refused (none of the vectors has one where it is read).
 *
 * Paths are relative to the repository root, where the tests run.
 */
#ifndef DEG_TEST_VECFILE_H
#define DEG_TEST_VECFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the whole file, NUL-terminated, or NULL (with a message) when unreadable */
static inline char *
vec_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *data = NULL;
	size_t		cap = 0;
	size_t		n = 0;

	if (f == NULL)
	{
		printf("# cannot open %s (run the tests from the repository root)\n", path);
		return NULL;
	}
	for (;;)
	{
		size_t		got;

		if (cap - n < 65536)
		{
			char	   *bigger = realloc(data, cap + 65536 + 1);

			if (bigger == NULL)
			{
				free(data);
				fclose(f);
				return NULL;
			}
			data = bigger;
			cap += 65536;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

/*
 * Find "key" followed by a colon at or after *cursor and before end (NULL:
 * the end of the text).  On success *cursor points just past the colon and
 * any blanks after it.
 */
static inline bool
vec_find_key(const char **cursor, const char *end, const char *key)
{
	char		pattern[128];
	const char *p = *cursor;

	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	while ((p = strstr(p, pattern)) != NULL && (end == NULL || p < end))
	{
		const char *q = p + strlen(pattern);

		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (*q == ':')
		{
			q++;
			while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
			*cursor = q;
			return true;
		}
		p = q;
	}
	return false;
}

/* the next string value of key, copied into out; cursor moves past it */
static inline bool
vec_next_string(const char **cursor, const char *end, const char *key,
				char *out, size_t cap)
{
	const char *p = *cursor;
	const char *q;

	if (!vec_find_key(&p, end, key) || *p != '"')
		return false;
	p++;
	for (q = p; *q != '"'; q++)
		if (*q == '\0' || *q == '\\')
			return false;
	if ((size_t) (q - p) + 1 > cap)
		return false;
	memcpy(out, p, (size_t) (q - p));
	out[q - p] = '\0';
	*cursor = q + 1;
	return true;
}

/* the next integer value of key */
static inline bool
vec_next_long(const char **cursor, const char *end, const char *key, long *value)
{
	const char *p = *cursor;
	char	   *stop;

	if (!vec_find_key(&p, end, key))
		return false;
	*value = strtol(p, &stop, 10);
	if (stop == p)
		return false;
	*cursor = stop;
	return true;
}

/* the next literal (true, false, null) value of key */
static inline bool
vec_next_bool(const char **cursor, const char *end, const char *key, bool *value)
{
	const char *p = *cursor;

	if (!vec_find_key(&p, end, key))
		return false;
	if (strncmp(p, "true", 4) == 0)
		*value = true;
	else if (strncmp(p, "false", 5) == 0)
		*value = false;
	else
		return false;
	*cursor = p;
	return true;
}

/* the next array of integers of key, up to cap values */
static inline bool
vec_next_long_array(const char **cursor, const char *end, const char *key,
					long *values, size_t cap, size_t *count)
{
	const char *p = *cursor;

	if (!vec_find_key(&p, end, key) || *p != '[')
		return false;
	p++;
	*count = 0;
	for (;;)
	{
		char	   *stop;
		long		v;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')
			p++;
		if (*p == ']')
			break;
		v = strtol(p, &stop, 10);
		if (stop == p || *count == cap)
			return false;
		values[(*count)++] = v;
		p = stop;
	}
	*cursor = p + 1;
	return true;
}

#endif							/* DEG_TEST_VECFILE_H */
