/*
 * fuzz_vc.c: eddsa-jcs-2022 Data Integrity proofs (src/core/vc.c) on
 * untrusted credentials.
 *
 * Input: a JSON document, optionally a NUL and proof options (JSON).  The
 * document goes through vc_prepare (as a stored credential does) and, when
 * prepared, vc_verify.  Then the round trip: the document without its
 * proof, signed with a fixed key and the options (or, without them, the
 * document's own proof less its value), must prepare to READY and verify
 * with that key, through the did:key of its verification method too; and a
 * changed document must no longer verify.
 */
#include "core/codec.h"
#include "core/ed25519.h"
#include "core/json.h"
#include "core/vc.h"
#include "fuzz.h"

static const uint8_t seed[32] = {
	0x9b, 0x93, 0x7b, 0x81, 0x32, 0x2d, 0x81, 0x6c, 0xfa, 0xb9, 0xd5, 0xa3, 0xba, 0xac, 0xc9, 0xb2,
	0xa5, 0xfe, 0xbe, 0x4b, 0x14, 0x9f, 0x12, 0x6b, 0x36, 0x30, 0xf9, 0x3a, 0x29, 0x52, 0x70, 0x17
};

static void
check_prepared(const JsonNode *doc)
{
	VcProof		p;

	FUZZ_ASSERT(vc_prepare(doc, &p), "vc_prepare out of memory");
	if (p.state != VC_PROOF_READY)
	{
		FUZZ_ASSERT(p.reason[0] != '\0', "state %d without a reason", (int) p.state);
		FUZZ_ASSERT(vc_verify(&p, NULL, 0) != ED25519_VALID, "an unprepared proof verifies");
		return;
	}
	if (p.has_key)
		(void) vc_verify(&p, NULL, 0);
	else
		FUZZ_ASSERT(vc_verify(&p, NULL, 0) == ED25519_MALFORMED, "no key, yet not malformed");
}

static void
round_trip(const JsonNode *doc, const JsonNode *options_in)
{
	JsonNode   *unsecured;
	JsonNode   *options = NULL;
	JsonNode   *signed_doc;
	uint8_t		pk[32];
	char		did[CODEC_DIDKEY_SIZE];
	char		err[200];
	Ed25519Error eerr;
	CodecError	cerr;
	VcProof		p;

	if (doc->kind != JSON_OBJECT)
		return;
	unsecured = json_copy(doc);
	FUZZ_ASSERT(unsecured != NULL, "copy");
	json_free(json_object_remove(unsecured, "proof", 5));
	if (options_in != NULL)
		options = json_copy(options_in);
	else if (json_get(doc, "proof") != NULL && json_get(doc, "proof")->kind == JSON_OBJECT)
	{
		options = json_copy(json_get(doc, "proof"));
		json_free(json_object_remove(options, "proofValue", 10));
	}
	FUZZ_ASSERT(ed25519_seed_keypair(seed, 32, pk, NULL, &eerr), "keypair");
	FUZZ_ASSERT(codec_didkey_encode(pk, 32, did, &cerr), "did:key");

	/* with the did:key as the verification method, when the options name none */
	if (options != NULL && options->kind == JSON_OBJECT && json_get(options, "verificationMethod") == NULL)
		FUZZ_ASSERT(json_object_set(options, "verificationMethod", 18, json_new_string(did, strlen(did))), "set");

	signed_doc = vc_sign(unsecured, options, seed, 32, err);
	if (signed_doc == NULL)
	{
		FUZZ_ASSERT(err[0] != '\0', "signing failed without a reason");
		json_free(unsecured);
		json_free(options);
		return;
	}
	FUZZ_ASSERT(vc_prepare(signed_doc, &p), "prepare");
	FUZZ_ASSERT(p.state == VC_PROOF_READY, "a document deg signed does not prepare: %s", p.reason);
	FUZZ_ASSERT(vc_verify(&p, pk, 32) == ED25519_VALID, "a document deg signed does not verify");
	if (p.has_key && memcmp(p.public_key, pk, 32) == 0)
		FUZZ_ASSERT(vc_verify(&p, NULL, 0) == ED25519_VALID, "does not verify through its did:key");

	/* the same document changed: no longer valid */
	FUZZ_ASSERT(json_object_set(signed_doc, "fuzzTampered", 12, json_new_bool(true)), "tamper");
	FUZZ_ASSERT(vc_prepare(signed_doc, &p), "prepare tampered");
	FUZZ_ASSERT(p.state != VC_PROOF_READY || vc_verify(&p, pk, 32) != ED25519_VALID,
				"a changed document still verifies");

	json_free(signed_doc);
	json_free(unsecured);
	json_free(options);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len1,
				restlen;
	const uint8_t *rest;
	JsonNode   *doc;
	JsonNode   *options = NULL;

	fuzz_split(data, size, &len1, &rest, &restlen);
	doc = json_parse((const char *) data, len1, NULL);
	if (doc == NULL)
		return 0;
	if (len1 < size)
	{
		options = json_parse((const char *) rest, restlen, NULL);
		if (options == NULL)
		{
			json_free(doc);
			return 0;
		}
	}
	check_prepared(doc);
	round_trip(doc, options);
	json_free(doc);
	json_free(options);
	return 0;
}
