/*
 * telemetry.h: what a contract is billed on, without PostgreSQL.
 *
 * A telemetry set holds series of observations.  A series is named by the
 * reference formulas use for it ("telemetrySources.meter-1",
 * "inputSignals.tou-price", "deliveredQuantity") and has named fields
 * ("importedKWh", "exportedKWh" ...); an observation is a time range
 * [from, to) with a value, or none, per field.  Billing feeds a contract's
 * rows into a set (an aggregate: sets from parallel workers are merged),
 * then bins them into settlement intervals:
 *
 *  - telemetry: an observation belongs to the interval that contains its
 *    start; per interval a field is summed, except startTime (the earliest)
 *    and endTime (the latest);
 *  - signals: the value in force at an interval's start is that of the
 *    observation covering the instant with the latest start (the latest
 *    added among equal starts).
 *
 * Values are kept in numeric's binary wire format (decimal.h dec_send), so
 * that adding an observation copies bytes and converting happens once, when
 * the set is binned.  The serialized form is the same records behind a
 * small header; telemetry_deserialize checks every byte, since the bytes
 * may come from a client.
 *
 * Times are int64 microseconds (PostgreSQL timestamps); the core only
 * compares them.
 */
#ifndef DEG_CORE_TELEMETRY_H
#define DEG_CORE_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "mem.h"

#define TELEMETRY_MAX_FIELDS 32
#define TELEMETRY_MAX_NAME 256		/* bytes of a reference or field name */
#define TELEMETRY_MAX_SERIES 65536
#define TELEMETRY_FORMAT_VERSION 1

/* the last compact record of a series: the next one is counted from it */
typedef struct TelemetryCompactTail
{
	int64_t		end;			/* 0 before the first record */
	int64_t		length;			/* to - from; 0 before the first record */
} TelemetryCompactTail;

typedef struct TelemetrySeries
{
	char	   *ref;
	int			nfields;
	char	   *fields[TELEMETRY_MAX_FIELDS];
	size_t		nobs;
	DegBuf		obs;			/* records: from, to, then per field a present byte,
								 * and if present a uint16 length and the wire bytes;
								 * or compact records (below) */
	bool		compact;		/* obs holds compact records */
	TelemetryCompactTail compact_tail;	/* compact: the last record's end and length */
} TelemetrySeries;

typedef struct TelemetrySet
{
	int			nseries;
	int			capacity;
	TelemetrySeries *series;
	int			last;			/* the series last looked up (rows come in runs) */
	bool		compact;		/* series added to the set keep compact records */
} TelemetrySet;

typedef struct TelemetryError
{
	char		message[320];
} TelemetryError;

typedef enum TelemetryRule
{
	TELEMETRY_SUM,
	TELEMETRY_MIN,
	TELEMETRY_MAX
} TelemetryRule;

extern void telemetry_init(TelemetrySet *set);
extern void telemetry_free(TelemetrySet *set);	/* set is empty again */

/*
 * The series named ref (reflen bytes), added with these fields when it is
 * new.  An existing series must have the same fields in the same order.
 * NULL with err filled on a mismatch, a bad name or out of memory.
 */
extern TelemetrySeries *telemetry_series(TelemetrySet *set, const char *ref, size_t reflen,
										 const char *const *fields, const size_t *fieldlens,
										 int nfields, TelemetryError *err);
/* the checks telemetry_series makes of a new series' names; false with err filled */
extern bool telemetry_check_names(const char *ref, size_t reflen, const char *const *fields,
								  const size_t *fieldlens, int nfields, TelemetryError *err);
/* the series named ref, or NULL */
extern const TelemetrySeries *telemetry_find(const TelemetrySet *set, const char *ref);
/* the index of a field of a series, or -1 */
extern int	telemetry_field_index(const TelemetrySeries *s, const char *field);

/*
 * Add an observation [from, to) (from < to).  wire[i] holds field i's value
 * in dec_send format (lens[i] bytes), or NULL when the value is absent.
 * telemetry_add trusts the bytes (the caller made them with dec_send or an
 * equivalent); telemetry_add_decimals encodes decimals.
 */
extern bool telemetry_add(TelemetrySeries *s, int64_t from, int64_t to,
						  const uint8_t *const *wire, const size_t *lens, TelemetryError *err);
extern bool telemetry_add_decimals(TelemetrySeries *s, int64_t from, int64_t to,
								   const Decimal *values, const bool *present, TelemetryError *err);

/* append every observation of src to dst (series matched by name) */
extern bool telemetry_merge(TelemetrySet *dst, const TelemetrySet *src, TelemetryError *err);

/*
 * The serialized form (version 1) of any set, compact series included.  False
 * when out of memory (out->oom), or when a compact series does not hold as
 * many records as it counts.
 */
extern bool telemetry_serialize(const TelemetrySet *set, DegBuf *out);
extern bool telemetry_deserialize(const uint8_t *data, size_t len, TelemetrySet *set,
								  TelemetryError *err);

/*
 * Compact records, for sets built in memory from many rows (the billing
 * aggregate keeps one per contract, so every byte counts):
 *
 *   head           varint: start << 3 | flags, start being zigzag(from -
 *                  the previous record's end, or 0 before the first);
 *                  flags 1: as long as the previous record (no length
 *                  follows), 2: start and length in whole seconds (else
 *                  microseconds), 4: start does not fit, and follows in a
 *                  varint of its own (the head is then the flags alone)
 *   length         varint: to - from (> 0), unless flag 1
 *   per field      a tag byte: 0 absent; 1..127 a value of dscale tag - 1,
 *                  then its digits (value * 10^dscale) as a zigzag varint;
 *                  128..254 a value of dscale tag - 128 whose last z places
 *                  are zeros: a byte z, then the digits (value * 10^(dscale
 *                  - z)); 255 a uint16 length and the value in dec_send
 *                  format (more than 16 significant digits, or dscale above
 *                  126).  Digits are below 10^16 in magnitude.
 *
 * A quarter-hour reading of 1.234 kWh after the previous one takes six
 * bytes instead of the forty-two of version 1.  Varints are little-endian
 * base 128.  Compact records are read by telemetry_next like any others;
 * telemetry_serialize writes them as version 1.
 *
 * telemetry_compact_add encodes one (wire as for telemetry_add) after
 * *tail, and moves it; telemetry_compact_append appends a whole buffer of
 * records that were counted from nothing (another series', with the same
 * fields, whose last record is src_tail) after *tail.  Whoever reads
 * compact records checks every bound as it goes.
 */
extern bool telemetry_compact_add(DegBuf *buf, TelemetryCompactTail *tail, int nfields, int64_t from,
								  int64_t to, const uint8_t *const *wire, const size_t *lens,
								  TelemetryError *err);

/*
 * The same on memory the caller keeps: telemetry_compact_bound is the most
 * bytes a record of these values takes; telemetry_compact_encode writes one
 * at out (the caller checks from < to and lens[i] <= UINT16_MAX) and
 * returns its length.  telemetry_compact_rebase gives what appending src
 * after *tail takes: head (headlen bytes, at most
 * TELEMETRY_COMPACT_TIMES_MAX) in place of src's first skip bytes, the
 * rest of src as it is; it moves *tail past the first record only (the
 * caller sets it to src's tail after copying).
 */
#define TELEMETRY_COMPACT_TIMES_MAX 30
extern size_t telemetry_compact_bound(int nfields, const uint8_t *const *wire, const size_t *lens);
extern size_t telemetry_compact_encode(uint8_t *out, TelemetryCompactTail *tail, int nfields, int64_t from,
									   int64_t to, const uint8_t *const *wire, const size_t *lens);
extern bool telemetry_compact_rebase(const uint8_t *src, size_t len, TelemetryCompactTail *tail,
									 uint8_t *head, size_t *headlen, size_t *skip, TelemetryError *err);
extern bool telemetry_compact_append(DegBuf *buf, TelemetryCompactTail *tail, const uint8_t *src, size_t len,
									 const TelemetryCompactTail *src_tail, TelemetryError *err);

/* reading a series in the order observations were added */
typedef struct TelemetryCursor
{
	const TelemetrySeries *series;
	size_t		pos;
	TelemetryCompactTail tail;	/* compact records: the one before */
} TelemetryCursor;

extern void telemetry_cursor_init(TelemetryCursor *c, const TelemetrySeries *s);
/*
 * The next observation: values[] and present[] have room for the series'
 * fields (values initialized Decimals).  false at the end, or on error with
 * err->message set (only for bytes that telemetry_add was given unchecked).
 */
extern bool telemetry_next(TelemetryCursor *c, int64_t *from, int64_t *to,
						   Decimal *values, bool *present, TelemetryError *err);

/* how a field is combined inside an interval */
extern TelemetryRule telemetry_field_rule(const char *field);

/*
 * Bin a telemetry series into intervals [starts[i], starts[i+1]), the last
 * ending at end; starts strictly increasing.  out has nbins * nfields
 * initialized decimals (row per bin), present as many flags, counts nbins
 * observation counts.  Observations starting outside [starts[0], end) are
 * left out.
 */
extern bool telemetry_bin(const TelemetrySeries *s, const int64_t *starts, int nbins, int64_t end,
						  Decimal *out, bool *present, int64_t *counts, TelemetryError *err);

/*
 * telemetry_bin for one field: out and present have nbins entries (out
 * initialized decimals), counts (if not NULL) nbins observation counts.
 * Only that field's values are decoded.
 */
extern bool telemetry_bin_field(const TelemetrySeries *s, int field, const int64_t *starts, int nbins,
								int64_t end, Decimal *out, bool *present, int64_t *counts,
								TelemetryError *err);

/*
 * A signal's value in force at each of n instants (ascending): field's
 * value of the covering observation with the latest start.  out and
 * present have n entries.
 */
extern bool telemetry_at(const TelemetrySeries *s, int field, const int64_t *instants, int n,
						 Decimal *out, bool *present, TelemetryError *err);

#endif							/* DEG_CORE_TELEMETRY_H */
