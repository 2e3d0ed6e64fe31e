/*
 * era.c: the deg.era type: I/O, comparison, hashing, hierarchy functions and
 * the planner support that turns containment into btree range scans.
 *
 * The grammar and the sort key live in src/core/era.c; this file converts
 * between datums and keys and reports errors.
 */
#include "postgres.h"

#include "access/hash.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "lib/hyperloglog.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/sortsupport.h"

#include "era.h"

/* the longest input shown in full in an error message */
#define ERA_SHOWN_MAX 96

Datum
era_datum_from_key(const uint8 *key, size_t keylen)
{
	struct varlena *v = (struct varlena *) palloc(VARHDRSZ + 1 + keylen);

	SET_VARSIZE(v, VARHDRSZ + 1 + keylen);
	((uint8 *) VARDATA(v))[0] = ERA_FORMAT_VERSION;
	memcpy((uint8 *) VARDATA(v) + 1, key, keylen);
	return PointerGetDatum(v);
}

static void
report_parse_error(const char *text, size_t len, const EraError *err)
{
	char	   *shown;

	if (len > ERA_SHOWN_MAX)
	{
		int			cut = pg_mbcliplen(text, (int) len, ERA_SHOWN_MAX - 32);

		shown = psprintf("%.*s...", cut, text);
	}
	else
		shown = pnstrdup(text, len);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid energy resource address \"%s\"", shown),
			 errdetail("Expected %s: %s.", err->form, err->detail)));
}

Datum
era_datum_from_text(const char *text, size_t len)
{
	uint8		key[ERA_MAX_KEY];
	size_t		keylen;
	EraError	err;

	if (!era_parse(text, len, key, &keylen, &err))
		report_parse_error(text, len, &err);
	return era_datum_from_key(key, keylen);
}

char *
era_datum_to_cstring(const struct varlena *v)
{
	char	   *out = palloc(ERA_MAX_FORMAT);

	era_format(era_datum_key(v), era_datum_keylen(v), out);
	return out;
}

/* ---------- I/O ---------- */

PG_FUNCTION_INFO_V1(era_in);
Datum
era_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_DATUM(era_datum_from_text(str, strlen(str)));
}

PG_FUNCTION_INFO_V1(era_out);
Datum
era_out(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_CSTRING(era_datum_to_cstring(v));
}

/* binary form: a version byte, then the canonical text */
PG_FUNCTION_INFO_V1(era_recv);
Datum
era_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	char	   *text;
	int			nbytes;

	if (version != ERA_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d of deg.era", version),
				 errdetail("This version of deg reads version %d.", ERA_FORMAT_VERSION)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	PG_RETURN_DATUM(era_datum_from_text(text, (size_t) nbytes));
}

PG_FUNCTION_INFO_V1(era_send);
Datum
era_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	char	   *text = era_datum_to_cstring(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, ERA_FORMAT_VERSION);
	pq_sendtext(&buf, text, strlen(text));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(era_from_text);
Datum
era_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_DATUM(era_datum_from_text(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

PG_FUNCTION_INFO_V1(era_to_text);
Datum
era_to_text(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(era_datum_to_cstring(v)));
}

PG_FUNCTION_INFO_V1(era_from_jsonb);
Datum
era_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	JsonbValue	v;

	if (!JsonbExtractScalar(&j->root, &v) || v.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot cast jsonb to deg.era"),
				 errdetail("An energy resource address in JSON is a string.")));
	PG_RETURN_DATUM(era_datum_from_text(v.val.string.val, v.val.string.len));
}

PG_FUNCTION_INFO_V1(era_to_jsonb);
Datum
era_to_jsonb(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	JsonbValue	jv;

	jv.type = jbvString;
	jv.val.string.val = era_datum_to_cstring(v);
	jv.val.string.len = (int) strlen(jv.val.string.val);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&jv));
}

/* ---------- comparison ---------- */

static int
era_cmp_internal(struct varlena *a, struct varlena *b)
{
	return era_compare(era_datum_key(a), era_datum_keylen(a),
					   era_datum_key(b), era_datum_keylen(b));
}

/* compare two argument datums, freeing detoasted copies as btree expects */
static int
era_cmp_args(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_ERA_PP(0);
	struct varlena *b = PG_GETARG_ERA_PP(1);
	int			c = era_cmp_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return c;
}

PG_FUNCTION_INFO_V1(era_cmp);
Datum
era_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(era_cmp_args(fcinfo));
}

PG_FUNCTION_INFO_V1(era_eq);
Datum
era_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) == 0);
}

PG_FUNCTION_INFO_V1(era_ne);
Datum
era_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) != 0);
}

PG_FUNCTION_INFO_V1(era_lt);
Datum
era_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) < 0);
}

PG_FUNCTION_INFO_V1(era_le);
Datum
era_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) <= 0);
}

PG_FUNCTION_INFO_V1(era_gt);
Datum
era_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) > 0);
}

PG_FUNCTION_INFO_V1(era_ge);
Datum
era_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(era_cmp_args(fcinfo) >= 0);
}

PG_FUNCTION_INFO_V1(era_hash);
Datum
era_hash(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	Datum		h = hash_any(era_datum_key(v), (int) era_datum_keylen(v));

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_DATUM(h);
}

PG_FUNCTION_INFO_V1(era_hash_extended);
Datum
era_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	Datum		h = hash_any_extended(era_datum_key(v), (int) era_datum_keylen(v),
									  PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_DATUM(h);
}

/* ---------- sort support with abbreviated keys ---------- */

/*
 * The abbreviated key is the first 8 key bytes, big-endian, zero padded; keys
 * never contain a zero byte, so padding keeps the order.  Addresses under one
 * domain share their first bytes (the labels are reversed), so abbreviation
 * is abandoned when it stops telling keys apart, as varlena.c does for text.
 */
typedef struct EraSortState
{
	hyperLogLogState abbr_card;
	hyperLogLogState full_card;
	int			next_check;
} EraSortState;

static int
era_fastcmp(Datum x, Datum y, SortSupport ssup pg_attribute_unused())
{
	struct varlena *a = DatumGetEraPP(x);
	struct varlena *b = DatumGetEraPP(y);
	int			c = era_cmp_internal(a, b);

	if ((Pointer) a != DatumGetPointer(x))
		pfree(a);
	if ((Pointer) b != DatumGetPointer(y))
		pfree(b);
	return c;
}

static Datum
era_abbrev_convert(Datum original, SortSupport ssup)
{
	EraSortState *st = (EraSortState *) ssup->ssup_extra;
	struct varlena *v = DatumGetEraPP(original);
	const uint8 *key = era_datum_key(v);
	size_t		keylen = era_datum_keylen(v);
	uint64		abbr = 0;
	size_t		i;

	for (i = 0; i < 8; i++)
		abbr = (abbr << 8) | (i < keylen ? key[i] : 0);
	addHyperLogLog(&st->abbr_card, DatumGetUInt32(hash_uint32((uint32) (abbr ^ (abbr >> 32)))));
	addHyperLogLog(&st->full_card, DatumGetUInt32(hash_any(key, (int) keylen)));
	if ((Pointer) v != DatumGetPointer(original))
		pfree(v);
	return UInt64GetDatum(abbr);
}

static bool
era_abbrev_abort(int memtupcount, SortSupport ssup)
{
	EraSortState *st = (EraSortState *) ssup->ssup_extra;
	double		abbr_card;
	double		full_card;

	if (memtupcount < st->next_check)
		return false;
	st->next_check = memtupcount * 2;
	abbr_card = estimateHyperLogLog(&st->abbr_card);
	full_card = estimateHyperLogLog(&st->full_card);
	/* keep abbreviating while it separates a fair share of the distinct keys */
	return abbr_card < full_card * 0.05 && abbr_card < 1000.0;
}

PG_FUNCTION_INFO_V1(era_sortsupport);
Datum
era_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = era_fastcmp;
	if (ssup->abbreviate && SIZEOF_DATUM >= 8)
	{
		MemoryContext old = MemoryContextSwitchTo(ssup->ssup_cxt);
		EraSortState *st = palloc0(sizeof(EraSortState));

		initHyperLogLog(&st->abbr_card, 10);
		initHyperLogLog(&st->full_card, 10);
		st->next_check = 2000;
		ssup->ssup_extra = st;
		ssup->abbrev_full_comparator = era_fastcmp;
		ssup->comparator = ssup_datum_unsigned_cmp;
		ssup->abbrev_converter = era_abbrev_convert;
		ssup->abbrev_abort = era_abbrev_abort;
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_VOID();
}

/* ---------- hierarchy ---------- */

static Datum
era_prefix_datum(struct varlena *v, size_t prefixlen)
{
	return era_datum_from_key(era_datum_key(v), prefixlen);
}

PG_FUNCTION_INFO_V1(era_contained_by);
Datum
era_contained_by(PG_FUNCTION_ARGS)
{
	struct varlena *a = PG_GETARG_ERA_PP(0);
	struct varlena *b = PG_GETARG_ERA_PP(1);

	PG_RETURN_BOOL(era_contains(era_datum_key(b), era_datum_keylen(b),
								era_datum_key(a), era_datum_keylen(a)));
}

PG_FUNCTION_INFO_V1(era_contains_fn);
Datum
era_contains_fn(PG_FUNCTION_ARGS)
{
	struct varlena *a = PG_GETARG_ERA_PP(0);
	struct varlena *b = PG_GETARG_ERA_PP(1);

	PG_RETURN_BOOL(era_contains(era_datum_key(a), era_datum_keylen(a),
								era_datum_key(b), era_datum_keylen(b)));
}

PG_FUNCTION_INFO_V1(era_scope_fn);
Datum
era_scope_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(era_is_local(era_datum_key(v), era_datum_keylen(v))
									 ? "local" : "global"));
}

PG_FUNCTION_INFO_V1(era_kind_fn);
Datum
era_kind_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(era_kind_name(era_kind(era_datum_key(v),
															era_datum_keylen(v)))));
}

PG_FUNCTION_INFO_V1(era_parent_fn);
Datum
era_parent_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	size_t		n = era_parent_len(era_datum_key(v), era_datum_keylen(v));

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(era_prefix_datum(v, n));
}

PG_FUNCTION_INFO_V1(era_root_fn);
Datum
era_root_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_DATUM(era_prefix_datum(v, era_root_len(era_datum_key(v), era_datum_keylen(v))));
}

PG_FUNCTION_INFO_V1(era_global_fn);
Datum
era_global_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);
	size_t		n = era_global_len(era_datum_key(v), era_datum_keylen(v));

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(era_prefix_datum(v, n));
}

PG_FUNCTION_INFO_V1(era_depth_fn);
Datum
era_depth_fn(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_ERA_PP(0);

	PG_RETURN_INT32(era_depth(era_datum_key(v), era_datum_keylen(v)));
}

/* the upper bound of a namespace: sorts after every member and before the rest */
static Datum
era_namespace_end_datum(struct varlena *v)
{
	size_t		keylen = era_datum_keylen(v);
	uint8	   *key = palloc(keylen + 1);

	memcpy(key, era_datum_key(v), keylen);
	key[keylen] = ERA_NAMESPACE_END;
	return era_datum_from_key(key, keylen + 1);
}

PG_FUNCTION_INFO_V1(era_namespace_end);
Datum
era_namespace_end(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(era_namespace_end_datum(PG_GETARG_ERA_PP(0)));
}

/* ---------- planner support: containment as btree conditions ---------- */

/*
 * "col <@ ns" is exactly "col >= ns AND col < namespace_end(ns)", because a
 * namespace is one range of the sort order.  "col @> x" is exactly
 * "col = ANY(ancestors of x, and x)".  Both become conditions on an ordinary
 * btree index over the column, so the primary key of a table of ERAs answers
 * namespace queries too.
 */

static Oid
namespace_end_funcoid(Oid eratype)
{
	static Oid	cached = InvalidOid;

	if (!OidIsValid(cached))
		cached = LookupFuncName(list_make2(makeString("deg"), makeString("era_namespace_end")),
								1, &eratype, false);
	return cached;
}

static Expr *
make_cmp(Oid opfamily, Oid eratype, int16 strategy, Expr *left, Expr *right)
{
	Oid			opno = get_opfamily_member(opfamily, eratype, eratype, strategy);

	if (!OidIsValid(opno))
		elog(ERROR, "missing operator %d(%u,%u) in opfamily %u",
			 strategy, eratype, eratype, opfamily);
	return make_opclause(opno, BOOLOID, false, left, right, InvalidOid, InvalidOid);
}

/* index conditions for "indexed <@ ns" */
static List *
namespace_range_conditions(Oid opfamily, Oid eratype, Expr *indexed, Expr *ns)
{
	Expr	   *upper;

	if (IsA(ns, Const))
	{
		Const	   *c = (Const *) ns;

		if (c->constisnull)
			return NIL;
		upper = (Expr *) makeConst(eratype, -1, InvalidOid, -1,
								   era_namespace_end_datum(DatumGetEraPP(c->constvalue)),
								   false, false);
	}
	else
		upper = (Expr *) makeFuncExpr(namespace_end_funcoid(eratype), eratype,
									  list_make1(ns), InvalidOid, InvalidOid,
									  COERCE_EXPLICIT_CALL);
	return list_make2(make_cmp(opfamily, eratype, BTGreaterEqualStrategyNumber, indexed, ns),
					  make_cmp(opfamily, eratype, BTLessStrategyNumber, indexed, upper));
}

/* index condition for "indexed @> x": indexed is x or one of its ancestors */
static List *
ancestor_conditions(Oid opfamily, Oid eratype, Expr *indexed, Expr *x)
{
	struct varlena *v;
	const uint8 *key;
	size_t		len;
	Datum	   *elems;
	int			n = 0;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ScalarArrayOpExpr *saop;

	if (!IsA(x, Const) || ((Const *) x)->constisnull)
		return NIL;
	v = DatumGetEraPP(((Const *) x)->constvalue);
	key = era_datum_key(v);
	len = era_datum_keylen(v);
	elems = palloc(sizeof(Datum) * (era_depth(key, len) + 1));
	while (len > 0)
	{
		elems[n++] = era_datum_from_key(key, len);
		len = era_parent_len(key, len);
	}
	get_typlenbyvalalign(eratype, &typlen, &typbyval, &typalign);
	saop = makeNode(ScalarArrayOpExpr);
	saop->opno = get_opfamily_member(opfamily, eratype, eratype, BTEqualStrategyNumber);
	saop->opfuncid = get_opcode(saop->opno);
	saop->useOr = true;
	saop->inputcollid = InvalidOid;
	saop->args = list_make2(indexed,
							makeConst(get_array_type(eratype), -1, InvalidOid, -1,
									  PointerGetDatum(construct_array(elems, n, eratype,
																	  typlen, typbyval, typalign)),
									  false, false));
	saop->location = -1;
	return list_make1(saop);
}

/*
 * Support for deg.era_contained_by(a, b) (a <@ b) and, with the arguments
 * swapped, deg.era_contains(a, b) (a @> b).
 */
static Node *
containment_support(Node *rawreq, bool contains)
{
	SupportRequestIndexCondition *req;
	List	   *args;
	Expr	   *indexed;
	Expr	   *other;
	Oid			eratype;
	bool		indexed_is_inner;

	if (!IsA(rawreq, SupportRequestIndexCondition))
		return NULL;
	req = (SupportRequestIndexCondition *) rawreq;
	if (req->index->relam != BTREE_AM_OID)
		return NULL;
	if (is_opclause(req->node))
		args = ((OpExpr *) req->node)->args;
	else if (is_funcclause(req->node))
		args = ((FuncExpr *) req->node)->args;
	else
		return NULL;
	if (list_length(args) != 2 || req->indexarg > 1)
		return NULL;

	indexed = (Expr *) list_nth(args, req->indexarg);
	other = (Expr *) list_nth(args, 1 - req->indexarg);
	eratype = exprType((Node *) indexed);
	if (!OidIsValid(get_opfamily_member(req->opfamily, eratype, eratype, BTLessStrategyNumber)))
		return NULL;

	/* is the indexed column the one inside (a of a <@ b, b of a @> b)? */
	indexed_is_inner = contains ? (req->indexarg == 1) : (req->indexarg == 0);
	req->lossy = false;
	if (indexed_is_inner)
		return (Node *) namespace_range_conditions(req->opfamily, eratype, indexed, other);
	return (Node *) ancestor_conditions(req->opfamily, eratype, indexed, other);
}

PG_FUNCTION_INFO_V1(era_contained_by_support);
Datum
era_contained_by_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(containment_support((Node *) PG_GETARG_POINTER(0), false));
}

PG_FUNCTION_INFO_V1(era_contains_support);
Datum
era_contains_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(containment_support((Node *) PG_GETARG_POINTER(0), true));
}

/* restriction selectivity of <@ and @>: the operator applied to the column's statistics */
PG_FUNCTION_INFO_V1(era_containment_sel);
Datum
era_containment_sel(PG_FUNCTION_ARGS)
{
	PlannerInfo *root = (PlannerInfo *) PG_GETARG_POINTER(0);
	Oid			operator = PG_GETARG_OID(1);
	List	   *args = (List *) PG_GETARG_POINTER(2);
	int			varRelid = PG_GETARG_INT32(3);

	PG_RETURN_FLOAT8(generic_restriction_selectivity(root, operator, InvalidOid,
													 args, varRelid, 0.005));
}
