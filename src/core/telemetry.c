/*
 * telemetry.c: series of observations, merged, serialized and binned into
 * settlement intervals (see telemetry.h).
 */
#include "telemetry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOWN(len) ((int) ((len) < 64 ? (len) : 64))	/* bytes of a name quoted in errors */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool
fail(TelemetryError *err, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL)
	{
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return false;
}

/* ---------- little-endian fixed-width integers ---------- */

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---------- sets and series ---------- */

void
telemetry_init(TelemetrySet *set)
{
	memset(set, 0, sizeof(*set));
}

static void
series_free(TelemetrySeries *s)
{
	int			i;

	deg_free(s->ref);
	for (i = 0; i < s->nfields; i++)
		deg_free(s->fields[i]);
	degbuf_free(&s->obs);
}

void
telemetry_free(TelemetrySet *set)
{
	int			i;

	for (i = 0; i < set->nseries; i++)
		series_free(&set->series[i]);
	deg_free(set->series);
	telemetry_init(set);
}

static char *
copy_name(const char *name, size_t len)
{
	char	   *c = deg_alloc(len + 1);

	if (c != NULL)
	{
		memcpy(c, name, len);
		c[len] = '\0';
	}
	return c;
}

static bool
check_name(const char *name, size_t len, const char *what, TelemetryError *err)
{
	if (len == 0)
		return fail(err, "%s is empty", what);
	if (len > TELEMETRY_MAX_NAME)
		return fail(err, "%s is longer than %d bytes", what, TELEMETRY_MAX_NAME);
	if (memchr(name, '\0', len) != NULL)
		return fail(err, "%s contains a NUL byte", what);
	return true;
}

static bool
same_name(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

TelemetrySeries *
telemetry_series(TelemetrySet *set, const char *ref, size_t reflen,
				 const char *const *fields, const size_t *fieldlens, int nfields,
				 TelemetryError *err)
{
	TelemetrySeries *s = NULL;
	int			i;

	/* rows of one series come together: try the last one first */
	if (set->last < set->nseries && same_name(set->series[set->last].ref, ref, reflen))
		s = &set->series[set->last];
	for (i = 0; s == NULL && i < set->nseries; i++)
		if (same_name(set->series[i].ref, ref, reflen))
		{
			s = &set->series[i];
			set->last = i;
		}
	if (s != NULL)
	{
		bool		same = s->nfields == nfields;

		for (i = 0; same && i < nfields; i++)
			same = same_name(s->fields[i], fields[i], fieldlens[i]);
		if (!same)
		{
			fail(err, "series \"%s\" is given with different fields", s->ref);
			return NULL;
		}
		return s;
	}

	if (!check_name(ref, reflen, "a series name", err))
		return NULL;
	if (nfields < 1 || nfields > TELEMETRY_MAX_FIELDS)
	{
		fail(err, "series \"%.*s\" has %d fields; 1 to %d are allowed", SHOWN(reflen), ref,
			 nfields, TELEMETRY_MAX_FIELDS);
		return NULL;
	}
	for (i = 0; i < nfields; i++)
	{
		int			j;

		if (!check_name(fields[i], fieldlens[i], "a field name", err))
			return NULL;
		for (j = 0; j < i; j++)
			if (fieldlens[j] == fieldlens[i] && memcmp(fields[j], fields[i], fieldlens[i]) == 0)
			{
				fail(err, "field \"%.*s\" is given twice", (int) fieldlens[i], fields[i]);
				return NULL;
			}
	}
	if (set->nseries >= TELEMETRY_MAX_SERIES)
	{
		fail(err, "more than %d series", TELEMETRY_MAX_SERIES);
		return NULL;
	}
	if (set->nseries == set->capacity)
	{
		int			cap = set->capacity ? set->capacity * 2 : 4;
		TelemetrySeries *grown = deg_realloc(set->series, sizeof(TelemetrySeries) * (size_t) cap);

		if (grown == NULL)
		{
			fail(err, "out of memory");
			return NULL;
		}
		set->series = grown;
		set->capacity = cap;
	}
	s = &set->series[set->nseries];
	memset(s, 0, sizeof(*s));
	degbuf_init(&s->obs);
	s->ref = copy_name(ref, reflen);
	for (i = 0; i < nfields && s->ref != NULL; i++)
	{
		s->fields[i] = copy_name(fields[i], fieldlens[i]);
		if (s->fields[i] == NULL)
			break;
		s->nfields = i + 1;
	}
	if (s->ref == NULL || s->nfields != nfields)
	{
		series_free(s);
		fail(err, "out of memory");
		return NULL;
	}
	set->last = set->nseries++;
	return s;
}

const TelemetrySeries *
telemetry_find(const TelemetrySet *set, const char *ref)
{
	int			i;

	for (i = 0; i < set->nseries; i++)
		if (strcmp(set->series[i].ref, ref) == 0)
			return &set->series[i];
	return NULL;
}

int
telemetry_field_index(const TelemetrySeries *s, const char *field)
{
	int			i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i], field) == 0)
			return i;
	return -1;
}

/* ---------- observations ---------- */

bool
telemetry_add(TelemetrySeries *s, int64_t from, int64_t to,
			  const uint8_t *const *wire, const size_t *lens, TelemetryError *err)
{
	uint8_t		head[16];
	size_t		start = s->obs.len;
	int			i;

	if (from >= to)
		return fail(err, "an observation of \"%s\" ends before it starts", s->ref);
	for (i = 0; i < s->nfields; i++)
		if (wire[i] != NULL && lens[i] > UINT16_MAX)
			return fail(err, "a value of \"%s\" is too long", s->ref);
	put_u64(head, (uint64_t) from);
	put_u64(head + 8, (uint64_t) to);
	degbuf_append(&s->obs, head, sizeof(head));
	for (i = 0; i < s->nfields; i++)
	{
		uint8_t		flag = wire[i] != NULL;

		degbuf_append(&s->obs, &flag, 1);
		if (flag)
		{
			uint8_t		len[2];

			put_u16(len, (uint16_t) lens[i]);
			degbuf_append(&s->obs, len, 2);
			degbuf_append(&s->obs, wire[i], lens[i]);
		}
	}
	if (s->obs.oom)
	{
		/* drop the part of the record that was appended: the series stays whole */
		s->obs.len = start;
		if (s->obs.data != NULL)
			s->obs.data[start] = '\0';
		s->obs.oom = false;
		return fail(err, "out of memory");
	}
	s->nobs++;
	return true;
}

bool
telemetry_add_decimals(TelemetrySeries *s, int64_t from, int64_t to,
					   const Decimal *values, const bool *present, TelemetryError *err)
{
	const uint8_t *wire[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	uint8_t    *bytes[TELEMETRY_MAX_FIELDS];
	bool		ok = true;
	int			i;

	for (i = 0; i < s->nfields; i++)
		bytes[i] = NULL;		/* all of them: a failure stops the loop below */
	for (i = 0; i < s->nfields; i++)
	{
		wire[i] = NULL;
		lens[i] = 0;
		if (!present[i])
			continue;
		lens[i] = dec_send_size(&values[i]);
		bytes[i] = deg_alloc(lens[i]);
		if (bytes[i] == NULL)
		{
			ok = fail(err, "out of memory");
			break;
		}
		dec_send(&values[i], bytes[i]);
		wire[i] = bytes[i];
	}
	if (ok)
		ok = telemetry_add(s, from, to, wire, lens, err);
	for (i = 0; i < s->nfields; i++)
		deg_free(bytes[i]);
	return ok;
}

/*
 * Read one record at *pos of a series' buffer.  values may be NULL (skip
 * decoding); a decoded value is checked by dec_recv.
 */
static bool
read_record(const uint8_t *buf, size_t len, size_t *pos, int nfields,
			int64_t *from, int64_t *to, Decimal *values, bool *present, TelemetryError *err)
{
	size_t		p = *pos;
	int			i;

	if (len - p < 16)
		return fail(err, "truncated observation");
	*from = (int64_t) get_u64(buf + p);
	*to = (int64_t) get_u64(buf + p + 8);
	p += 16;
	if (*from >= *to)
		return fail(err, "an observation ends before it starts");
	for (i = 0; i < nfields; i++)
	{
		uint8_t		flag;

		if (len - p < 1)
			return fail(err, "truncated observation");
		flag = buf[p++];
		if (flag > 1)
			return fail(err, "invalid presence flag");
		if (present)
			present[i] = flag;
		if (flag)
		{
			size_t		n;

			if (len - p < 2)
				return fail(err, "truncated observation");
			n = get_u16(buf + p);
			p += 2;
			if (len - p < n)
				return fail(err, "truncated observation");
			if (values)
			{
				DecError	derr;

				if (dec_recv(&values[i], buf + p, n, &derr) != DEC_OK)
					return fail(err, "invalid value: %s", derr.message);
			}
			p += n;
		}
	}
	*pos = p;
	return true;
}

void
telemetry_cursor_init(TelemetryCursor *c, const TelemetrySeries *s)
{
	c->series = s;
	c->pos = 0;
}

bool
telemetry_next(TelemetryCursor *c, int64_t *from, int64_t *to,
			   Decimal *values, bool *present, TelemetryError *err)
{
	const TelemetrySeries *s = c->series;

	if (err)
		err->message[0] = '\0';
	if (c->pos >= s->obs.len)
		return false;
	return read_record((const uint8_t *) s->obs.data, s->obs.len, &c->pos, s->nfields,
					   from, to, values, present, err);
}

bool
telemetry_merge(TelemetrySet *dst, const TelemetrySet *src, TelemetryError *err)
{
	int			i,
				f;

	for (i = 0; i < src->nseries; i++)
	{
		const TelemetrySeries *s = &src->series[i];
		size_t		lens[TELEMETRY_MAX_FIELDS];
		TelemetrySeries *d;

		for (f = 0; f < s->nfields; f++)
			lens[f] = strlen(s->fields[f]);
		d = telemetry_series(dst, s->ref, strlen(s->ref), (const char *const *) s->fields, lens,
							 s->nfields, err);
		if (d == NULL)
			return false;
		/* reserve first: when src is dst, the bytes to copy move with the buffer */
		if (s->obs.len > 0 && (!degbuf_reserve(&d->obs, s->obs.len) ||
							   !degbuf_append(&d->obs, s->obs.data, s->obs.len)))
			return fail(err, "out of memory");
		d->nobs += s->nobs;
	}
	return true;
}

/* ---------- serialized form ---------- */

/*
 *   version                     1 byte
 *   nseries                     uint64
 *   per series: reflen uint16, ref, nfields 1 byte, per field: len uint16,
 *               name; nobs uint64, bytes uint64, the records
 */
bool
telemetry_serialize(const TelemetrySet *set, DegBuf *out)
{
	uint8_t		b[8];
	int			i,
				f;

	b[0] = TELEMETRY_FORMAT_VERSION;
	degbuf_append(out, b, 1);
	put_u64(b, (uint64_t) set->nseries);
	degbuf_append(out, b, 8);
	for (i = 0; i < set->nseries; i++)
	{
		const TelemetrySeries *s = &set->series[i];

		put_u16(b, (uint16_t) strlen(s->ref));
		degbuf_append(out, b, 2);
		degbuf_puts(out, s->ref);
		b[0] = (uint8_t) s->nfields;
		degbuf_append(out, b, 1);
		for (f = 0; f < s->nfields; f++)
		{
			put_u16(b, (uint16_t) strlen(s->fields[f]));
			degbuf_append(out, b, 2);
			degbuf_puts(out, s->fields[f]);
		}
		put_u64(b, (uint64_t) s->nobs);
		degbuf_append(out, b, 8);
		put_u64(b, (uint64_t) s->obs.len);
		degbuf_append(out, b, 8);
		if (s->obs.len > 0)
			degbuf_append(out, s->obs.data, s->obs.len);
	}
	return !out->oom;
}

static bool
read_name(const uint8_t *data, size_t len, size_t *pos, const char **name, size_t *namelen,
		  TelemetryError *err)
{
	if (len - *pos < 2)
		return fail(err, "truncated telemetry");
	*namelen = get_u16(data + *pos);
	*pos += 2;
	if (len - *pos < *namelen)
		return fail(err, "truncated telemetry");
	*name = (const char *) data + *pos;
	*pos += *namelen;
	return true;
}

bool
telemetry_deserialize(const uint8_t *data, size_t len, TelemetrySet *set, TelemetryError *err)
{
	size_t		pos = 9;
	uint64_t	nseries;
	uint64_t	i;

	telemetry_init(set);
	if (len < 9 || data[0] != TELEMETRY_FORMAT_VERSION)
		return fail(err, "not a telemetry value of format version %d", TELEMETRY_FORMAT_VERSION);
	nseries = get_u64(data + 1);
	if (nseries > TELEMETRY_MAX_SERIES)
		return fail(err, "more than %d series", TELEMETRY_MAX_SERIES);
	for (i = 0; i < nseries; i++)
	{
		const char *ref;
		const char *fields[TELEMETRY_MAX_FIELDS];
		size_t		reflen,
					lens[TELEMETRY_MAX_FIELDS];
		int			nfields,
					f;
		uint64_t	nobs,
					bytes,
					k;
		size_t		rec;
		TelemetrySeries *s;

		if (!read_name(data, len, &pos, &ref, &reflen, err))
			goto bad;
		if (len - pos < 1)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		nfields = data[pos++];
		if (nfields < 1 || nfields > TELEMETRY_MAX_FIELDS)
		{
			fail(err, "a series has %d fields", nfields);
			goto bad;
		}
		for (f = 0; f < nfields; f++)
			if (!read_name(data, len, &pos, &fields[f], &lens[f], err))
				goto bad;
		for (k = 0; k < (uint64_t) set->nseries; k++)
			if (same_name(set->series[k].ref, ref, reflen))
			{
				fail(err, "series \"%.*s\" appears twice", SHOWN(reflen), ref);
				goto bad;
			}
		s = telemetry_series(set, ref, reflen, fields, lens, nfields, err);
		if (s == NULL)
			goto bad;
		if (len - pos < 16)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		nobs = get_u64(data + pos);
		bytes = get_u64(data + pos + 8);
		pos += 16;
		if (bytes > len - pos)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		/* every record must decode, and there must be exactly nobs of them */
		rec = 0;
		for (k = 0; rec < bytes; k++)
		{
			int64_t		from,
						to;
			Decimal		values[TELEMETRY_MAX_FIELDS];
			bool		ok;

			for (f = 0; f < nfields; f++)
				dec_init(&values[f]);
			ok = read_record(data + pos, (size_t) bytes, &rec, nfields, &from, &to, values, NULL, err);
			for (f = 0; f < nfields; f++)
				dec_free(&values[f]);
			if (!ok)
				goto bad;
		}
		if (k != nobs)
		{
			fail(err, "series \"%s\" says %llu observations and holds %llu", s->ref,
				 (unsigned long long) nobs, (unsigned long long) k);
			goto bad;
		}
		if (bytes > 0 && !degbuf_append(&s->obs, data + pos, (size_t) bytes))
		{
			fail(err, "out of memory");
			goto bad;
		}
		s->nobs = (size_t) nobs;
		pos += (size_t) bytes;
	}
	if (pos != len)
	{
		fail(err, "%zu bytes after the last series", len - pos);
		goto bad;
	}
	return true;

bad:
	telemetry_free(set);
	return false;
}

/* ---------- binning ---------- */

TelemetryRule
telemetry_field_rule(const char *field)
{
	if (strcmp(field, "startTime") == 0)
		return TELEMETRY_MIN;
	if (strcmp(field, "endTime") == 0)
		return TELEMETRY_MAX;
	return TELEMETRY_SUM;
}

/* the bin holding t: the last start <= t, or -1 */
static int
bin_of(const int64_t *starts, int nbins, int64_t end, int64_t t)
{
	int			lo = 0,
				hi = nbins - 1;

	if (nbins == 0 || t < starts[0] || t >= end)
		return -1;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (starts[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

bool
telemetry_bin(const TelemetrySeries *s, const int64_t *starts, int nbins, int64_t end,
			  Decimal *out, bool *present, int64_t *counts, TelemetryError *err)
{
	TelemetryError local;		/* a read error is told from the end by the message */
	TelemetryCursor c;
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		has[TELEMETRY_MAX_FIELDS];
	TelemetryRule rules[TELEMETRY_MAX_FIELDS];
	int64_t		from,
				to;
	bool		ok = true;
	int			f,
				b;

	if (err == NULL)
		err = &local;
	for (f = 0; f < s->nfields; f++)
	{
		dec_init(&values[f]);
		rules[f] = telemetry_field_rule(s->fields[f]);
	}
	for (b = 0; b < nbins * s->nfields; b++)
		present[b] = false;
	for (b = 0; b < nbins; b++)
		counts[b] = 0;
	telemetry_cursor_init(&c, s);
	while (ok && telemetry_next(&c, &from, &to, values, has, err))
	{
		int			bin = bin_of(starts, nbins, end, from);

		if (bin < 0)
			continue;
		counts[bin]++;
		for (f = 0; f < s->nfields && ok; f++)
		{
			Decimal    *acc = &out[bin * s->nfields + f];
			bool	   *acc_has = &present[bin * s->nfields + f];
			DecError	derr;
			DecStatus	st = DEC_OK;

			if (!has[f])
				continue;
			if (!*acc_has)
				st = dec_copy(acc, &values[f], &derr);
			else if (rules[f] == TELEMETRY_SUM)
				st = dec_add(acc, acc, &values[f], &derr);
			else if ((rules[f] == TELEMETRY_MIN) == (dec_cmp(&values[f], acc) < 0))
				st = dec_copy(acc, &values[f], &derr);
			if (st != DEC_OK)
				ok = fail(err, "%s.%s: %s", s->ref, s->fields[f], derr.message);
			*acc_has = true;
		}
	}
	if (ok && err && err->message[0] != '\0')
		ok = false;
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	return ok;
}

typedef struct AtObservation
{
	int64_t		from;
	int64_t		to;
	size_t		seq;
	Decimal		value;
} AtObservation;

static int
at_cmp(const void *a, const void *b)
{
	const AtObservation *x = a;
	const AtObservation *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

bool
telemetry_at(const TelemetrySeries *s, int field, const int64_t *instants, int n,
			 Decimal *out, bool *present, TelemetryError *err)
{
	TelemetryError local;		/* a read error is told from the end by the message */
	AtObservation *obs = NULL;
	size_t		nobs = 0;
	TelemetryCursor c;
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		has[TELEMETRY_MAX_FIELDS];
	int64_t		from,
				to;
	bool		ok = true;
	int			f,
				i;

	if (err == NULL)
		err = &local;
	for (i = 0; i < n; i++)
		present[i] = false;
	if (s->nobs > 0)
	{
		obs = deg_alloc(sizeof(AtObservation) * s->nobs);
		if (obs == NULL)
			return fail(err, "out of memory");
	}
	for (f = 0; f < s->nfields; f++)
		dec_init(&values[f]);
	telemetry_cursor_init(&c, s);
	while (ok && telemetry_next(&c, &from, &to, values, has, err))
	{
		if (!has[field])
			continue;
		obs[nobs].from = from;
		obs[nobs].to = to;
		obs[nobs].seq = nobs;
		obs[nobs].value = values[field];
		dec_init(&values[field]);	/* moved: the observation owns its digits */
		nobs++;
	}
	if (err && err->message[0] != '\0')
		ok = false;
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	if (ok && nobs > 0)
		qsort(obs, nobs, sizeof(AtObservation), at_cmp);

	/* for each instant, walk back from the last start <= t to one that covers t */
	for (i = 0; ok && i < n; i++)
	{
		size_t		lo = 0,
					hi = nobs;
		int64_t		t = instants[i];

		while (lo < hi)
		{
			size_t		mid = lo + (hi - lo) / 2;

			if (obs[mid].from <= t)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo > 0)
		{
			const AtObservation *o = &obs[--lo];

			if (o->to > t)
			{
				DecError	derr;

				if (dec_copy(&out[i], &o->value, &derr) != DEC_OK)
					ok = fail(err, "%s: %s", s->ref, derr.message);
				present[i] = true;
				break;
			}
		}
	}
	for (i = 0; i < (int) nobs; i++)
		dec_free(&obs[i].value);
	deg_free(obs);
	return ok;
}
