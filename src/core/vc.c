/*
 * vc.c: eddsa-jcs-2022 Data Integrity proofs: prepare, verify, sign.
 */
#include "vc.h"

#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "jcs.h"
#include "mem.h"

#define PROOF_TYPE "DataIntegrityProof"
#define CRYPTOSUITE "eddsa-jcs-2022"

static bool
string_is(const JsonNode *n, const char *s)
{
	return n != NULL && n->kind == JSON_STRING && n->len == strlen(s) &&
		memcmp(n->text, s, n->len) == 0;
}

static bool
sha256_of_canonical(const JsonNode *node, uint8_t out[DEG_SHA256_BYTES])
{
	DegBuf		buf;
	JsonError	err;
	bool		ok;

	degbuf_init(&buf);
	ok = jcs_serialize(node, &buf, &err) &&
		deg_sha256((const uint8_t *) buf.data, buf.len, out);
	degbuf_free(&buf);
	return ok;
}

bool
vc_hash_data(const JsonNode *proof_config, const JsonNode *document,
			 uint8_t out[VC_HASH_DATA_BYTES])
{
	/* the proof configuration's hash comes first */
	return sha256_of_canonical(proof_config, out) &&
		sha256_of_canonical(document, out + DEG_SHA256_BYTES);
}

/* an XML Schema dateTime with a time zone: YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm) */
static bool
valid_datetime(const JsonNode *n)
{
	const char *s;
	size_t		i = 0;
	size_t		len;
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd";

	if (n == NULL || n->kind != JSON_STRING)
		return false;
	s = n->text;
	len = n->len;
	if (len < 20)
		return false;
	for (i = 0; i < 19; i++)
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return false;
	if (s[i] == '.')
	{
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i + 1 == len && s[i] == 'Z')
		return true;
	return i + 6 == len && (s[i] == '+' || s[i] == '-') &&
		s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' && s[i + 2] <= '9' &&
		s[i + 3] == ':' && s[i + 4] >= '0' && s[i + 4] <= '9' && s[i + 5] >= '0' && s[i + 5] <= '9';
}

/* does the document's @context start with the proof's, item by item? */
static bool
context_starts_with(const JsonNode *doc_ctx, const JsonNode *proof_ctx)
{
	size_t		i;
	size_t		n;

	if (doc_ctx == NULL)
		return false;
	if (proof_ctx->kind != JSON_ARRAY)
		return doc_ctx->kind == JSON_ARRAY ? (doc_ctx->count > 0 && json_equal(doc_ctx->items[0], proof_ctx))
			: json_equal(doc_ctx, proof_ctx);
	n = proof_ctx->count;
	if (doc_ctx->kind != JSON_ARRAY)
		return n == 1 && json_equal(doc_ctx, proof_ctx->items[0]);
	if (doc_ctx->count < n)
		return false;
	for (i = 0; i < n; i++)
		if (!json_equal(doc_ctx->items[i], proof_ctx->items[i]))
			return false;
	return true;
}

static void
set_state(VcProof *p, VcProofState state, const char *reason)
{
	p->state = state;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
}

bool
vc_prepare(const JsonNode *secured, VcProof *p)
{
	const JsonNode *proof = json_get(secured, "proof");
	const JsonNode *value;
	const JsonNode *vm;
	JsonNode   *config = NULL;
	JsonNode   *document = NULL;
	const JsonNode *proof_ctx;
	size_t		siglen = 0;
	CodecError	cerr;
	bool		ok = true;

	memset(p, 0, sizeof(*p));
	if (proof == NULL)
	{
		set_state(p, VC_PROOF_NONE, "the credential has no proof");
		return true;
	}
	if (proof->kind == JSON_ARRAY)
	{
		set_state(p, VC_PROOF_UNSUPPORTED, "proof sets (an array of proofs) are not supported");
		return true;
	}
	if (proof->kind != JSON_OBJECT)
	{
		set_state(p, VC_PROOF_MALFORMED, "the proof is not an object");
		return true;
	}
	if (!string_is(json_get(proof, "type"), PROOF_TYPE) ||
		!string_is(json_get(proof, "cryptosuite"), CRYPTOSUITE))
	{
		const JsonNode *t = json_get(proof, "type");
		const JsonNode *c = json_get(proof, "cryptosuite");

		snprintf(p->reason, sizeof(p->reason),
				 "proof type %.40s%s%.40s is not supported (deg verifies DataIntegrityProof with eddsa-jcs-2022)",
				 t && t->kind == JSON_STRING ? t->text : "(none)",
				 c && c->kind == JSON_STRING ? " with cryptosuite " : "",
				 c && c->kind == JSON_STRING ? c->text : "");
		p->state = VC_PROOF_UNSUPPORTED;
		return true;
	}
	if (json_get(proof, "created") != NULL && !valid_datetime(json_get(proof, "created")))
	{
		set_state(p, VC_PROOF_MALFORMED, "proof.created is not an XML Schema dateTime");
		return true;
	}
	value = json_get(proof, "proofValue");
	if (value == NULL || value->kind != JSON_STRING || value->len < 2 || value->text[0] != 'z' ||
		!codec_base58_decode(value->text + 1, value->len - 1, p->signature,
							 sizeof(p->signature), &siglen, &cerr) ||
		siglen != ED25519_SIGNATURE_BYTES)
	{
		set_state(p, VC_PROOF_MALFORMED, "proof.proofValue is not a base58btc (z) Ed25519 signature of 64 bytes");
		return true;
	}
	vm = json_get(proof, "verificationMethod");
	if (vm != NULL && vm->kind == JSON_STRING &&
		codec_didkey_decode(vm->text, vm->len, p->public_key, &cerr))
		p->has_key = true;

	/* proof configuration: the proof without its value */
	config = json_copy(proof);
	document = json_copy(secured);
	if (config == NULL || document == NULL)
	{
		ok = false;
		goto done;
	}
	json_free(json_object_remove(config, "proofValue", 10));
	json_free(json_object_remove(document, "proof", 5));
	proof_ctx = json_get(config, "@context");
	if (proof_ctx != NULL)
	{
		JsonNode   *ctx;

		if (!context_starts_with(json_get(document, "@context"), proof_ctx))
		{
			set_state(p, VC_PROOF_CONTEXT_MISMATCH,
					  "the document's @context does not start with the proof's @context");
			goto done;
		}
		ctx = json_copy(proof_ctx);
		if (ctx == NULL || !json_object_set(document, "@context", 8, ctx))
		{
			ok = false;
			goto done;
		}
	}
	if (!vc_hash_data(config, document, p->hash_data))
	{
		ok = false;
		goto done;
	}
	p->state = VC_PROOF_READY;
done:
	json_free(config);
	json_free(document);
	return ok;
}

Ed25519Verdict
vc_verify(const VcProof *p, const uint8_t *pk, size_t pklen)
{
	Ed25519Error err;

	if (p->state != VC_PROOF_READY)
		return ED25519_INVALID;
	if (pk == NULL)
	{
		if (!p->has_key)
			return ED25519_MALFORMED;
		pk = p->public_key;
		pklen = sizeof(p->public_key);
	}
	return ed25519_verify(pk, pklen, p->hash_data, sizeof(p->hash_data),
						  p->signature, sizeof(p->signature), &err);
}

static bool
set_string(JsonNode *obj, const char *key, const char *value)
{
	JsonNode   *v = json_new_string(value, strlen(value));

	return v != NULL && json_object_set(obj, key, strlen(key), v);
}

JsonNode *
vc_sign(const JsonNode *unsecured, const JsonNode *options,
		const uint8_t *secret, size_t secretlen, char err[200])
{
	JsonNode   *config = NULL;
	JsonNode   *signed_doc = NULL;
	JsonNode   *proof = NULL;
	const JsonNode *ctx;
	uint8_t		hash_data[VC_HASH_DATA_BYTES];
	uint8_t		sig[ED25519_SIGNATURE_BYTES];
	char		value[2 + 128];
	size_t		valuelen;
	Ed25519Error eerr;
	CodecError	cerr;

	err[0] = '\0';
	if (unsecured == NULL || unsecured->kind != JSON_OBJECT)
	{
		snprintf(err, 200, "the document to sign is not a JSON object");
		return NULL;
	}
	if (json_get(unsecured, "proof") != NULL)
	{
		snprintf(err, 200, "the document already has a proof");
		return NULL;
	}
	if (options != NULL && options->kind != JSON_OBJECT)
	{
		snprintf(err, 200, "the proof options are not a JSON object");
		return NULL;
	}
	if (options != NULL &&
		((json_get(options, "type") && !string_is(json_get(options, "type"), PROOF_TYPE)) ||
		 (json_get(options, "cryptosuite") && !string_is(json_get(options, "cryptosuite"), CRYPTOSUITE))))
	{
		snprintf(err, 200, "deg signs DataIntegrityProof with cryptosuite eddsa-jcs-2022 only");
		return NULL;
	}
	if (options != NULL && json_get(options, "created") != NULL &&
		!valid_datetime(json_get(options, "created")))
	{
		snprintf(err, 200, "proof option \"created\" is not an XML Schema dateTime");
		return NULL;
	}
	config = options ? json_copy(options) : json_new_object();
	if (config == NULL)
		goto oom;
	json_free(json_object_remove(config, "proofValue", 10));
	if (!json_get(config, "type") && !set_string(config, "type", PROOF_TYPE))
		goto oom;
	if (!json_get(config, "cryptosuite") && !set_string(config, "cryptosuite", CRYPTOSUITE))
		goto oom;
	if (!json_get(config, "proofPurpose") && !set_string(config, "proofPurpose", "assertionMethod"))
		goto oom;
	/*
	 * The proof's @context is the document's: one given in the options is
	 * replaced, or dropped when the document has none (vc_prepare refuses a
	 * proof @context the document's does not start with).
	 */
	ctx = json_get(unsecured, "@context");
	if (ctx != NULL)
	{
		JsonNode   *copy = json_copy(ctx);

		if (copy == NULL || !json_object_set(config, "@context", 8, copy))
			goto oom;
	}
	else
		json_free(json_object_remove(config, "@context", 8));
	if (!vc_hash_data(config, unsecured, hash_data))
		goto oom;
	if (!ed25519_sign(secret, secretlen, hash_data, sizeof(hash_data), sig, &eerr))
	{
		snprintf(err, 200, "%s", eerr.detail);
		json_free(config);
		return NULL;
	}
	value[0] = 'z';
	if (!codec_base58_encode(sig, sizeof(sig), value + 1, sizeof(value) - 1, &valuelen, &cerr))
		goto oom;
	value[1 + valuelen] = '\0';
	proof = config;
	config = NULL;
	if (!set_string(proof, "proofValue", value))
		goto oom;
	signed_doc = json_copy(unsecured);
	if (signed_doc == NULL || !json_object_set(signed_doc, "proof", 5, proof))
	{
		proof = NULL;
		goto oom;
	}
	return signed_doc;
oom:
	json_free(config);
	json_free(proof);
	json_free(signed_doc);
	snprintf(err, 200, "out of memory");
	return NULL;
}
