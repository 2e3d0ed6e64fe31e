/*
 * credential.c: the deg.credential type (a W3C Verifiable Credential),
 * eddsa-jcs-2022 signing and verification, RFC 8785 canonicalization,
 * Ed25519 keys and did:key, and Bitstring Status List coding.
 *
 * A credential is parsed once, on input, with the strict JSON parser of
 * src/core/json.c: the fields queries need (issuer, subject, types, validity,
 * status entry, claims) and the 64 bytes a verifier hashes are kept in the
 * datum, so that verifying is one Ed25519 check and filtering reads no JSON.
 * The text form is the credential's RFC 8785 canonical JSON.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include <sodium.h>

#include "core/codec.h"
#include "core/ed25519.h"
#include "core/jcs.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/offer.h"
#include "core/statuslist.h"
#include "core/vc.h"
#include "era.h"

#define CREDENTIAL_FORMAT_VERSION 1
#define VCDM2_CONTEXT "https://www.w3.org/ns/credentials/v2"
#define VCDM11_CONTEXT "https://www.w3.org/2018/credentials/v1"

#define CF_HAS_VALID_FROM 0x01
#define CF_HAS_VALID_UNTIL 0x02
#define CF_HAS_STATUS 0x04

/*
 * Everything verification needs comes first, so that a verifier can fetch a
 * slice of a toasted credential instead of all of it.
 */
typedef struct CredentialDatum
{
	int32		vl_len_;
	uint8		version;
	uint8		proof_state;	/* VcProofState */
	uint8		has_key;		/* public_key is the did:key of the proof */
	uint8		vcdm;			/* 1 (VCDM 1.1) or 2 */
	uint8		hash_data[VC_HASH_DATA_BYTES];
	uint8		signature[ED25519_SIGNATURE_BYTES];
	uint8		public_key[ED25519_PUBLIC_KEY_BYTES];
	/* the rest */
	uint32		flags;
	uint32		n_types;
	int64		valid_from;
	int64		valid_until;
	int64		status_index;
	uint32		json_off,
				json_len;		/* the canonical JSON text */
	uint32		id_off,
				id_len;
	uint32		issuer_off,
				issuer_len;
	uint32		subject_id_off,
				subject_id_len;
	uint32		subject_era_off,
				subject_era_len;	/* an era key, or 0 */
	uint32		types_off;		/* NUL-terminated names, without VerifiableCredential */
	uint32		status_list_off,
				status_list_len;
	uint32		status_purpose_off,
				status_purpose_len;
	uint32		reason_off,
				reason_len;		/* why the proof cannot be verified */
	uint32		claims_off;		/* a Jsonb, MAXALIGNed */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CredentialDatum;

#define VERIFY_PREFIX offsetof(CredentialDatum, flags)

#define DatumGetCredentialP(X) ((CredentialDatum *) PG_DETOAST_DATUM(X))

static text *
field_text(const CredentialDatum *c, uint32 off, uint32 len)
{
	return cstring_to_text_with_len((const char *) c + off, (int) len);
}

/* ---------- parsing ---------- */

static void
credential_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid verifiable credential: %s", detail)));
}

static JsonNode *
parse_json_text(const char *text, size_t len, const char *what)
{
	JsonError	err;
	JsonNode   *doc = json_parse(text, len, &err);

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s: %s", what, err.message)));
	return doc;
}

static char *
canonical_text(const JsonNode *node, size_t *len)
{
	DegBuf		buf;
	JsonError	err;

	degbuf_init(&buf);
	if (!jcs_serialize(node, &buf, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot canonicalize JSON: %s", err.message)));
	*len = buf.len;
	return buf.data;
}

static const JsonNode *
string_member(const JsonNode *obj, const char *key)
{
	const JsonNode *v = json_get(obj, key);

	if (v != NULL && v->kind != JSON_STRING)
		credential_error(psprintf("\"%s\" must be a string, not %s", key, json_kind_name(v->kind)));
	return v;
}

static void
field_error_context(void *arg)
{
	errcontext("field \"%s\" of a verifiable credential", (const char *) arg);
}

static int64
json_datetime(const JsonNode *v, const char *key)
{
	ErrorContextCallback errcb;
	int64		ts;

	if (v->kind != JSON_STRING)
		credential_error(psprintf("\"%s\" must be a date-time string", key));
	errcb.callback = field_error_context;
	errcb.arg = (void *) key;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(v->text),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	error_context_stack = errcb.previous;
	return ts;
}

typedef struct Parts
{
	StringInfoData buf;
} Parts;

static uint32
parts_add(Parts *p, const void *bytes, size_t len, bool maxalign)
{
	uint32		off;

	if (maxalign)
		while ((offsetof(CredentialDatum, data) + p->buf.len) % MAXIMUM_ALIGNOF != 0)
			appendStringInfoChar(&p->buf, '\0');
	off = (uint32) (offsetof(CredentialDatum, data) + p->buf.len);
	appendBinaryStringInfo(&p->buf, bytes, (int) len);
	return off;
}

static CredentialDatum *
credential_from_document(JsonNode *doc)
{
	const JsonNode *ctx = json_get(doc, "@context");
	const JsonNode *first_ctx;
	const JsonNode *types = json_get(doc, "type");
	const JsonNode *issuer = json_get(doc, "issuer");
	const JsonNode *id = string_member(doc, "id");
	const JsonNode *subject = json_get(doc, "credentialSubject");
	const JsonNode *status = json_get(doc, "credentialStatus");
	const JsonNode *issuer_id;
	const JsonNode *subject_id = NULL;
	const JsonNode *subject_era = NULL;
	const JsonNode *v;
	JsonNode   *claims = NULL;
	VcProof		proof;
	Parts		parts;
	uint8		vcdm;
	uint32		flags = 0;
	int64		valid_from = 0,
				valid_until = 0,
				status_index = 0;
	struct varlena *era = NULL;
	char	   *json;
	size_t		json_len;
	Jsonb	   *claims_jsonb;
	int			n_types = 0;
	size_t		i;
	CredentialDatum *c;
	uint32		offs[12] = {0};
	const char *purpose_text = "revocation";

	if (doc->kind != JSON_OBJECT)
		credential_error("a credential is a JSON object");
	first_ctx = (ctx && ctx->kind == JSON_ARRAY && ctx->count > 0) ? ctx->items[0] : ctx;
	if (first_ctx && first_ctx->kind == JSON_STRING && strcmp(first_ctx->text, VCDM2_CONTEXT) == 0)
		vcdm = 2;
	else if (first_ctx && first_ctx->kind == JSON_STRING && strcmp(first_ctx->text, VCDM11_CONTEXT) == 0)
		vcdm = 1;
	else
		credential_error("\"@context\" must start with " VCDM2_CONTEXT " (VCDM 2.0) or " VCDM11_CONTEXT " (1.1)");

	/* type: VerifiableCredential and the credential's own types */
	if (types == NULL || (types->kind != JSON_ARRAY && types->kind != JSON_STRING))
		credential_error("\"type\" must list VerifiableCredential");
	{
		bool		is_vc = false;
		size_t		n = types->kind == JSON_ARRAY ? types->count : 1;

		for (i = 0; i < n; i++)
		{
			const JsonNode *t = types->kind == JSON_ARRAY ? types->items[i] : types;

			if (t->kind != JSON_STRING)
				credential_error("\"type\" must be an array of strings");
			if (strcmp(t->text, "VerifiableCredential") == 0)
				is_vc = true;
		}
		if (!is_vc)
			credential_error("\"type\" must include VerifiableCredential");
	}

	/* issuer: a string or an object with an id */
	if (issuer == NULL)
		credential_error("\"issuer\" is required");
	issuer_id = issuer->kind == JSON_OBJECT ? json_get(issuer, "id") : issuer;
	if (issuer_id == NULL || issuer_id->kind != JSON_STRING || issuer_id->len == 0)
		credential_error("\"issuer\" must be a string or an object with an \"id\" string");

	/* validity: VCDM 2.0 names first, then 1.1's */
	v = json_get(doc, "validFrom") ? json_get(doc, "validFrom") : json_get(doc, "issuanceDate");
	if (v)
	{
		valid_from = json_datetime(v, json_get(doc, "validFrom") ? "validFrom" : "issuanceDate");
		flags |= CF_HAS_VALID_FROM;
	}
	v = json_get(doc, "validUntil") ? json_get(doc, "validUntil") : json_get(doc, "expirationDate");
	if (v)
	{
		valid_until = json_datetime(v, json_get(doc, "validUntil") ? "validUntil" : "expirationDate");
		flags |= CF_HAS_VALID_UNTIL;
	}
	if ((flags & CF_HAS_VALID_FROM) && (flags & CF_HAS_VALID_UNTIL) && valid_until < valid_from)
		credential_error("\"validUntil\" is before \"validFrom\"");

	/* the subject: one object; its id, its ERA, and the rest as claims */
	if (subject != NULL && subject->kind == JSON_ARRAY)
	{
		if (subject->count != 1)
			credential_error("credentials with several subjects are not supported");
		subject = subject->items[0];
	}
	if (subject == NULL || subject->kind != JSON_OBJECT)
		credential_error("\"credentialSubject\" must be an object");
	subject_id = string_member(subject, "id");
	subject_era = string_member(subject, "era");
	if (subject_era != NULL)
	{
		ErrorContextCallback errcb;

		errcb.callback = field_error_context;
		errcb.arg = (void *) "credentialSubject.era";
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		era = DatumGetEraPP(era_datum_from_text(subject_era->text, subject_era->len));
		error_context_stack = errcb.previous;
	}
	else if (subject_id != NULL)
	{
		uint8		key[ERA_MAX_KEY];
		size_t		keylen;
		EraError	eerr;

		/* a subject id that is an ERA (a DID is one) names the resource */
		if (era_parse(subject_id->text, subject_id->len, key, &keylen, &eerr))
			era = DatumGetEraPP(era_datum_from_key(key, keylen));
	}
	claims = json_copy(subject);
	if (claims == NULL)
		elog(ERROR, "out of memory");
	json_free(json_object_remove(claims, "id", 2));
	json_free(json_object_remove(claims, "era", 3));

	/* status entry (Bitstring Status List / StatusList2021) */
	if (status != NULL && status->kind == JSON_ARRAY)
		status = status->count > 0 ? status->items[0] : NULL;
	if (status != NULL)
	{
		const JsonNode *index;
		const JsonNode *list;

		if (status->kind != JSON_OBJECT)
			credential_error("\"credentialStatus\" must be an object");
		index = json_get(status, "statusListIndex");
		list = json_get(status, "statusListCredential");
		if (index != NULL && list != NULL && list->kind == JSON_STRING)
		{
			char	   *end;
			long long	n;

			errno = 0;
			n = index->kind == JSON_STRING ? strtoll(index->text, &end, 10)
				: (index->kind == JSON_NUMBER ? (long long) index->number : -1);
			if ((index->kind == JSON_STRING && (*end != '\0' || index->len == 0)) || errno != 0 || n < 0 ||
				(index->kind == JSON_NUMBER && (double) n != index->number))
				credential_error("\"credentialStatus.statusListIndex\" must be a non-negative integer");
			status_index = n;
			flags |= CF_HAS_STATUS;
		}
	}

	if (!vc_prepare(doc, &proof))
		elog(ERROR, "out of memory");

	/* assemble */
	json = canonical_text(doc, &json_len);
	{
		size_t		claims_len;
		char	   *claims_text = canonical_text(claims, &claims_len);

		claims_jsonb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(claims_text)));
	}
	initStringInfo(&parts.buf);
	offs[0] = parts_add(&parts, json, json_len, false);
	offs[1] = id ? parts_add(&parts, id->text, id->len, false) : 0;
	offs[2] = parts_add(&parts, issuer_id->text, issuer_id->len, false);
	offs[3] = subject_id ? parts_add(&parts, subject_id->text, subject_id->len, false) : 0;
	offs[4] = era ? parts_add(&parts, era_datum_key(era), era_datum_keylen(era), false) : 0;
	offs[5] = (uint32) (offsetof(CredentialDatum, data) + parts.buf.len);
	if (types->kind == JSON_ARRAY)
		for (i = 0; i < types->count; i++)
			if (strcmp(types->items[i]->text, "VerifiableCredential") != 0)
			{
				appendBinaryStringInfo(&parts.buf, types->items[i]->text, (int) types->items[i]->len + 1);
				n_types++;
			}
	if (flags & CF_HAS_STATUS)
	{
		const JsonNode *list = json_get(status, "statusListCredential");
		const JsonNode *purpose = json_get(status, "statusPurpose");

		if (purpose && purpose->kind == JSON_STRING)
			purpose_text = purpose->text;
		offs[6] = parts_add(&parts, list->text, list->len, false);
		offs[7] = parts_add(&parts, purpose_text, strlen(purpose_text), false);
	}
	offs[8] = parts_add(&parts, proof.reason, strlen(proof.reason), false);
	offs[9] = parts_add(&parts, claims_jsonb, VARSIZE(claims_jsonb), true);

	c = palloc0(offsetof(CredentialDatum, data) + parts.buf.len);
	SET_VARSIZE(c, offsetof(CredentialDatum, data) + parts.buf.len);
	memcpy(c->data, parts.buf.data, parts.buf.len);
	c->version = CREDENTIAL_FORMAT_VERSION;
	c->proof_state = (uint8) proof.state;
	c->has_key = proof.has_key;
	c->vcdm = vcdm;
	memcpy(c->hash_data, proof.hash_data, sizeof(c->hash_data));
	memcpy(c->signature, proof.signature, sizeof(c->signature));
	memcpy(c->public_key, proof.public_key, sizeof(c->public_key));
	c->flags = flags;
	c->n_types = (uint32) n_types;
	c->valid_from = valid_from;
	c->valid_until = valid_until;
	c->status_index = status_index;
	c->json_off = offs[0];
	c->json_len = (uint32) json_len;
	c->id_off = offs[1];
	c->id_len = id ? (uint32) id->len : 0;
	c->issuer_off = offs[2];
	c->issuer_len = (uint32) issuer_id->len;
	c->subject_id_off = offs[3];
	c->subject_id_len = subject_id ? (uint32) subject_id->len : 0;
	c->subject_era_off = offs[4];
	c->subject_era_len = era ? (uint32) era_datum_keylen(era) : 0;
	c->types_off = offs[5];
	if (flags & CF_HAS_STATUS)
	{
		c->status_list_off = offs[6];
		c->status_list_len = (uint32) json_get(status, "statusListCredential")->len;
		c->status_purpose_off = offs[7];
		c->status_purpose_len = (uint32) strlen(purpose_text);
	}
	c->reason_off = offs[8];
	c->reason_len = (uint32) strlen(proof.reason);
	c->claims_off = offs[9];
	json_free(claims);
	return c;
}

static CredentialDatum *
credential_from_text(const char *text, size_t len)
{
	JsonNode   *doc = parse_json_text(text, len, "verifiable credential");
	CredentialDatum *c = credential_from_document(doc);

	json_free(doc);
	return c;
}

/* ---------- SQL: I/O ---------- */

PG_FUNCTION_INFO_V1(credential_in);
Datum
credential_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(credential_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(credential_out);
Datum
credential_out(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	PG_RETURN_CSTRING(pnstrdup((const char *) c + c->json_off, c->json_len));
}

/* binary: a version byte, then the canonical JSON text */
PG_FUNCTION_INFO_V1(credential_recv);
Datum
credential_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			nbytes;
	char	   *text;

	if (version != CREDENTIAL_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d of deg.credential", version)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	PG_RETURN_POINTER(credential_from_text(text, (size_t) nbytes));
}

PG_FUNCTION_INFO_V1(credential_send);
Datum
credential_send(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CREDENTIAL_FORMAT_VERSION);
	pq_sendtext(&buf, (const char *) c + c->json_off, (int) c->json_len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* from jsonb: jsonb has already dropped duplicate keys, so text input is the stricter path */
PG_FUNCTION_INFO_V1(credential_from_jsonb);
Datum
credential_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	PG_RETURN_POINTER(credential_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(credential_to_jsonb);
Datum
credential_to_jsonb(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in,
										CStringGetDatum(pnstrdup((const char *) c + c->json_off, c->json_len))));
}

PG_FUNCTION_INFO_V1(jcs_text);
Datum
jcs_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	DegBuf		buf;
	JsonError	err;
	text	   *result;

	degbuf_init(&buf);
	if (!jcs_canonicalize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &buf, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("cannot canonicalize JSON: %s", err.message)));
	result = cstring_to_text_with_len(buf.data, (int) buf.len);
	degbuf_free(&buf);
	PG_RETURN_TEXT_P(result);
}

/* ---------- SQL: keys and DIDs ---------- */

static void
init_sodium(void)
{
	if (!deg_sodium_init())
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libsodium could not be initialized")));
}

/*
 * A secret key argument: 32 bytes (seed), 64 bytes (seed || public key), or
 * the text of a multibase secret ("z3u2...", multicodec 0x1300).  Never
 * quoted in an error.  The caller wipes out with sodium_memzero.
 */
static size_t
secret_from_arg(FunctionCallInfo fcinfo, int argno, uint8 out[ED25519_SECRET_KEY_BYTES])
{
	bytea	   *b = PG_GETARG_BYTEA_PP(argno);
	const uint8 *data = (const uint8 *) VARDATA_ANY(b);
	size_t		len = VARSIZE_ANY_EXHDR(b);
	size_t		outlen = 0;
	CodecError	cerr;

	if (len == ED25519_SEED_BYTES || len == ED25519_SECRET_KEY_BYTES)
	{
		memcpy(out, data, len);
		outlen = len;
	}
	else if (len > 1 && data[0] == 'z' &&
			 codec_ed25519_secret_decode((const char *) data, len, out, &outlen, &cerr))
		;
	else
		outlen = 0;
	/* the argument's own copy, when detoasting made one */
	if ((Pointer) b != DatumGetPointer(PG_GETARG_DATUM(argno)))
	{
		sodium_memzero(b, VARSIZE(b));
		pfree(b);
	}
	if (outlen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 secret key"),
				 errdetail("A secret key is 32 bytes (a seed), 64 bytes (seed and public key) or a multibase text \"z3u2...\"; the argument has %zu bytes.", len)));
	return outlen;
}

static bytea *
bytes_to_bytea(const uint8 *b, size_t n)
{
	bytea	   *r = palloc(VARHDRSZ + n);

	SET_VARSIZE(r, VARHDRSZ + n);
	memcpy(VARDATA(r), b, n);
	return r;
}

static void
check_public_key(const bytea *pk)
{
	if (VARSIZE_ANY_EXHDR(pk) != ED25519_PUBLIC_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 public key"),
				 errdetail("A public key is 32 bytes; the argument has %zu.", (size_t) VARSIZE_ANY_EXHDR(pk))));
}

PG_FUNCTION_INFO_V1(deg_keypair);
Datum
deg_keypair(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	uint8		pk[ED25519_PUBLIC_KEY_BYTES];
	uint8		seed[ED25519_SEED_BYTES];
	Ed25519Error err;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	HeapTuple	tuple;

	init_sodium();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!ed25519_keypair(pk, seed, sizeof(seed), &err))
		elog(ERROR, "key generation failed: %s", err.detail);
	values[0] = PointerGetDatum(bytes_to_bytea(pk, sizeof(pk)));
	values[1] = PointerGetDatum(bytes_to_bytea(seed, sizeof(seed)));
	sodium_memzero(seed, sizeof(seed));
	tuple = heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

PG_FUNCTION_INFO_V1(deg_public_key);
Datum
deg_public_key(PG_FUNCTION_ARGS)
{
	uint8		secret[ED25519_SECRET_KEY_BYTES];
	uint8		pk[ED25519_PUBLIC_KEY_BYTES];
	size_t		len;
	Ed25519Error err;
	bool		ok;

	init_sodium();
	len = secret_from_arg(fcinfo, 0, secret);
	ok = ed25519_public_key(secret, len, pk, &err);
	sodium_memzero(secret, sizeof(secret));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 secret key: %s", err.detail)));
	PG_RETURN_BYTEA_P(bytes_to_bytea(pk, sizeof(pk)));
}

PG_FUNCTION_INFO_V1(deg_did_key);
Datum
deg_did_key(PG_FUNCTION_ARGS)
{
	bytea	   *pk = PG_GETARG_BYTEA_PP(0);
	char		out[CODEC_DIDKEY_SIZE];
	CodecError	cerr;

	check_public_key(pk);
	if (!codec_didkey_encode((const uint8 *) VARDATA_ANY(pk), ED25519_PUBLIC_KEY_BYTES, out, &cerr))
		elog(ERROR, "did:key encoding failed: %s", cerr.detail);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(deg_did_key_public_key);
Datum
deg_did_key_public_key(PG_FUNCTION_ARGS)
{
	text	   *did = PG_GETARG_TEXT_PP(0);
	uint8		pk[ED25519_PUBLIC_KEY_BYTES];
	CodecError	cerr;

	if (!codec_didkey_decode(VARDATA_ANY(did), VARSIZE_ANY_EXHDR(did), pk, &cerr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid did:key \"%s\"", text_to_cstring(did)),
				 errdetail("%s.", cerr.detail)));
	PG_RETURN_BYTEA_P(bytes_to_bytea(pk, sizeof(pk)));
}

/* ---------- SQL: signing and verifying ---------- */

/* "2024-10-04T10:00:00Z" of the transaction's start */
static char *
now_xsd(void)
{
	char		buf[40];

	deg_format_timestamp(GetCurrentTransactionStartTimestamp(), buf);
	buf[10] = 'T';
	return pstrdup(buf);
}

PG_FUNCTION_INFO_V1(credential_sign);
Datum
credential_sign(PG_FUNCTION_ARGS)
{
	text	   *doc_text = PG_GETARG_TEXT_PP(0);
	uint8		secret[ED25519_SECRET_KEY_BYTES];
	size_t		secretlen;
	JsonNode   *doc;
	JsonNode   *options;
	JsonNode   *signed_doc;
	char		err[200];
	CredentialDatum *c;

	init_sodium();
	doc = parse_json_text(VARDATA_ANY(doc_text), VARSIZE_ANY_EXHDR(doc_text), "document to sign");
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		text	   *opt = PG_GETARG_TEXT_PP(2);

		options = parse_json_text(VARDATA_ANY(opt), VARSIZE_ANY_EXHDR(opt), "proof options");
	}
	else
		options = json_new_object();
	if (options->kind != JSON_OBJECT)
		credential_error("the proof options must be a JSON object");
	/* a document that would not make a credential is refused before the key is read */
	pfree(credential_from_document(doc));
	secretlen = secret_from_arg(fcinfo, 1, secret);
	if (json_get(options, "created") == NULL)
	{
		char	   *created = now_xsd();

		json_object_set(options, "created", 7, json_new_string(created, strlen(created)));
	}
	if (json_get(options, "verificationMethod") == NULL)
	{
		uint8		pk[ED25519_PUBLIC_KEY_BYTES];
		char		did[CODEC_DIDKEY_SIZE];
		char	   *vm;
		Ed25519Error eerr;
		CodecError	cerr;

		if (!ed25519_public_key(secret, secretlen, pk, &eerr))
		{
			sodium_memzero(secret, sizeof(secret));
			credential_error(eerr.detail);
		}
		codec_didkey_encode(pk, sizeof(pk), did, &cerr);
		vm = psprintf("%s#%s", did, did + strlen(CODEC_DIDKEY_PREFIX));
		json_object_set(options, "verificationMethod", 18, json_new_string(vm, strlen(vm)));
	}
	signed_doc = vc_sign(doc, options, secret, secretlen, err);
	sodium_memzero(secret, sizeof(secret));
	if (signed_doc == NULL)
		credential_error(err);
	c = credential_from_document(signed_doc);
	json_free(signed_doc);
	json_free(doc);
	json_free(options);
	PG_RETURN_POINTER(c);
}

/*
 * The verification fields of a credential.  They come first in the datum, so
 * a toasted credential is fetched only that far.
 */
static CredentialDatum *
credential_verify_fields(Datum d)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTENDED(raw))
		return (CredentialDatum *) PG_DETOAST_DATUM_SLICE(d, 0, VERIFY_PREFIX - VARHDRSZ);
	return (CredentialDatum *) raw;
}

static bool
verify_with(const CredentialDatum *c, const uint8 *pk)
{
	Ed25519Error err;

	if (c->version != CREDENTIAL_FORMAT_VERSION || c->proof_state != VC_PROOF_READY)
		return false;
	if (pk == NULL)
	{
		if (!c->has_key)
			return false;		/* no key given and none to resolve */
		pk = c->public_key;
	}
	return ed25519_verify(pk, ED25519_PUBLIC_KEY_BYTES, c->hash_data, sizeof(c->hash_data),
						  c->signature, sizeof(c->signature), &err) == ED25519_VALID;
}

PG_FUNCTION_INFO_V1(credential_verify);
Datum
credential_verify(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = credential_verify_fields(PG_GETARG_DATUM(0));

	init_sodium();
	PG_RETURN_BOOL(verify_with(c, NULL));
}

PG_FUNCTION_INFO_V1(credential_verify_key);
Datum
credential_verify_key(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = credential_verify_fields(PG_GETARG_DATUM(0));
	bytea	   *pk = PG_GETARG_BYTEA_PP(1);

	check_public_key(pk);
	init_sodium();
	PG_RETURN_BOOL(verify_with(c, (const uint8 *) VARDATA_ANY(pk)));
}

/* ---------- SQL: accessors and operators ---------- */

PG_FUNCTION_INFO_V1(credential_id);
Datum
credential_id(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (c->id_len == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(field_text(c, c->id_off, c->id_len));
}

/* the id, or "sha256:" and the hash of the canonical text for credentials without one */
PG_FUNCTION_INFO_V1(credential_key);
Datum
credential_key(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	uint8		digest[DEG_SHA256_BYTES];
	char		hex[CODEC_HEX_SIZE(DEG_SHA256_BYTES)];

	if (c->id_len > 0)
		PG_RETURN_TEXT_P(field_text(c, c->id_off, c->id_len));
	deg_sha256((const uint8 *) c + c->json_off, c->json_len, digest);
	codec_hex_encode(digest, sizeof(digest), hex, sizeof(hex));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("sha256:%s", hex)));
}

PG_FUNCTION_INFO_V1(credential_issuer);
Datum
credential_issuer(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	PG_RETURN_TEXT_P(field_text(c, c->issuer_off, c->issuer_len));
}

PG_FUNCTION_INFO_V1(credential_subject);
Datum
credential_subject(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (c->subject_era_len == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(era_datum_from_key((const uint8 *) c + c->subject_era_off, c->subject_era_len));
}

PG_FUNCTION_INFO_V1(credential_subject_id);
Datum
credential_subject_id(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (c->subject_id_len == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(field_text(c, c->subject_id_off, c->subject_id_len));
}

PG_FUNCTION_INFO_V1(credential_types);
Datum
credential_types(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	Datum	   *elems = palloc(sizeof(Datum) * (c->n_types + 1));
	const char *p = (const char *) c + c->types_off;
	uint32		i;

	for (i = 0; i < c->n_types; i++)
	{
		elems[i] = CStringGetTextDatum(p);
		p += strlen(p) + 1;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, (int) c->n_types, TEXTOID, -1, false, TYPALIGN_INT));
}

static bool
has_type(const CredentialDatum *c, const char *name, size_t len)
{
	const char *p = (const char *) c + c->types_off;
	uint32		i;

	for (i = 0; i < c->n_types; i++)
	{
		size_t		n = strlen(p);

		if (n == len && memcmp(p, name, n) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

PG_FUNCTION_INFO_V1(credential_has_type);
Datum
credential_has_type(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	text	   *t = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(has_type(c, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

static Jsonb *
claims_of(const CredentialDatum *c)
{
	return (Jsonb *) ((const char *) c + c->claims_off);
}

PG_FUNCTION_INFO_V1(credential_claims);
Datum
credential_claims(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	Jsonb	   *claims = claims_of(c);
	Jsonb	   *copy = palloc(VARSIZE(claims));

	memcpy(copy, claims, VARSIZE(claims));
	PG_RETURN_JSONB_P(copy);
}

PG_FUNCTION_INFO_V1(credential_claims_contain);
Datum
credential_claims_contain(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));
	Jsonb	   *want = PG_GETARG_JSONB_P(1);
	Jsonb	   *have = claims_of(c);
	JsonbIterator *it1,
			   *it2;

	if (JB_ROOT_IS_OBJECT(want) != JB_ROOT_IS_OBJECT(have))
		PG_RETURN_BOOL(false);
	it1 = JsonbIteratorInit(&have->root);
	it2 = JsonbIteratorInit(&want->root);
	PG_RETURN_BOOL(JsonbDeepContains(&it1, &it2));
}

PG_FUNCTION_INFO_V1(credential_valid_from);
Datum
credential_valid_from(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (!(c->flags & CF_HAS_VALID_FROM))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(c->valid_from);
}

PG_FUNCTION_INFO_V1(credential_valid_until);
Datum
credential_valid_until(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (!(c->flags & CF_HAS_VALID_UNTIL))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(c->valid_until);
}

PG_FUNCTION_INFO_V1(credential_status_list);
Datum
credential_status_list(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (!(c->flags & CF_HAS_STATUS))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(field_text(c, c->status_list_off, c->status_list_len));
}

PG_FUNCTION_INFO_V1(credential_status_index);
Datum
credential_status_index(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (!(c->flags & CF_HAS_STATUS))
		PG_RETURN_NULL();
	PG_RETURN_INT64(c->status_index);
}

PG_FUNCTION_INFO_V1(credential_status_purpose);
Datum
credential_status_purpose(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (!(c->flags & CF_HAS_STATUS))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(field_text(c, c->status_purpose_off, c->status_purpose_len));
}

/* "eddsa-jcs-2022" when the proof can be verified, otherwise why it cannot */
PG_FUNCTION_INFO_V1(credential_proof);
Datum
credential_proof(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = DatumGetCredentialP(PG_GETARG_DATUM(0));

	if (c->proof_state == VC_PROOF_READY)
		PG_RETURN_TEXT_P(cstring_to_text("eddsa-jcs-2022"));
	PG_RETURN_TEXT_P(field_text(c, c->reason_off, c->reason_len));
}

/* ---------- SQL: Bitstring Status Lists ---------- */

static void
codec_failure(const char *what, const CodecError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: %s", what, err->detail)));
}

PG_FUNCTION_INFO_V1(status_list_encode);
Datum
status_list_encode(PG_FUNCTION_ARGS)
{
	bytea	   *bits = PG_GETARG_BYTEA_PP(0);
	size_t		n = VARSIZE_ANY_EXHDR(bits);
	DegBuf		buf;
	CodecError	err;
	text	   *result;

	if (!statuslist_validate(statuslist_length_bits(n), 1, &err))
		codec_failure("status list too short to publish", &err);
	degbuf_init(&buf);
	if (!statuslist_encode((const uint8 *) VARDATA_ANY(bits), n, STATUSLIST_BITSTRING, &buf, &err))
		codec_failure("cannot encode status list", &err);
	result = cstring_to_text_with_len(buf.data, (int) buf.len);
	degbuf_free(&buf);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(status_list_decode);
Datum
status_list_decode(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	uint8	   *list;
	size_t		n;
	CodecError	err;
	bytea	   *result;

	if (!statuslist_decode(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &list, &n, NULL, &err))
		codec_failure("invalid encoded status list", &err);
	result = bytes_to_bytea(list, n);
	deg_free(list);
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(status_list_get);
Datum
status_list_get(PG_FUNCTION_ARGS)
{
	bytea	   *bits = PG_GETARG_BYTEA_PP(0);
	int64		index = PG_GETARG_INT64(1);
	bool		value;
	CodecError	err;

	if (index < 0 || !statuslist_get((const uint8 *) VARDATA_ANY(bits), VARSIZE_ANY_EXHDR(bits),
									 (uint64) index, &value, &err))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("status list index %lld is outside a list of %zu entries",
						(long long) index, (size_t) VARSIZE_ANY_EXHDR(bits) * 8)));
	PG_RETURN_BOOL(value);
}

PG_FUNCTION_INFO_V1(status_list_set);
Datum
status_list_set(PG_FUNCTION_ARGS)
{
	bytea	   *bits = PG_GETARG_BYTEA_P_COPY(0);
	int64		index = PG_GETARG_INT64(1);
	bool		value = PG_GETARG_BOOL(2);
	CodecError	err;
	bool		ok;

	ok = index >= 0 &&
		(value ? statuslist_set((uint8 *) VARDATA(bits), VARSIZE(bits) - VARHDRSZ, (uint64) index, &err)
		 : statuslist_clear((uint8 *) VARDATA(bits), VARSIZE(bits) - VARHDRSZ, (uint64) index, &err));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("status list index %lld is outside a list of %zu entries",
						(long long) index, (size_t) (VARSIZE(bits) - VARHDRSZ) * 8)));
	PG_RETURN_BYTEA_P(bits);
}

/* the 64 bytes the proof signs (SHA-256 of the proof options, then of the document) */
PG_FUNCTION_INFO_V1(credential_signing_input);
Datum
credential_signing_input(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = credential_verify_fields(PG_GETARG_DATUM(0));

	if (c->proof_state != VC_PROOF_READY)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(bytes_to_bytea(c->hash_data, sizeof(c->hash_data)));
}

PG_FUNCTION_INFO_V1(credential_signature);
Datum
credential_signature(PG_FUNCTION_ARGS)
{
	CredentialDatum *c = credential_verify_fields(PG_GETARG_DATUM(0));

	if (c->proof_state != VC_PROOF_READY)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(bytes_to_bytea(c->signature, sizeof(c->signature)));
}
