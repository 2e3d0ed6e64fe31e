/*
 * test_vc.c: eddsa-jcs-2022 signing and verification (src/core/vc.c) against
 * the W3C vc-di-eddsa test vectors, byte for byte, and tampering.
 */
#include "core/codec.h"
#include "core/jcs.h"
#include "core/mem.h"
#include "core/vc.h"
#include "unit.h"
#include "vecfile.h"

#include <stdlib.h>

#define VEC "test/vectors/vc-di-eddsa/"

static char *
read_trimmed(const char *path)
{
	size_t		len;
	char	   *s = vec_read_file(path, &len);

	if (s == NULL)
		return NULL;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

static JsonNode *
parse_file(const char *path)
{
	size_t		len;
	char	   *s = vec_read_file(path, &len);
	JsonError	err;
	JsonNode   *n = s ? json_parse(s, len, &err) : NULL;

	free(s);
	return n;
}

static char *
canonical(const JsonNode *n)
{
	DegBuf		buf;
	JsonError	err;

	degbuf_init(&buf);
	if (!jcs_serialize(n, &buf, &err))
	{
		degbuf_free(&buf);
		return NULL;
	}
	return buf.data;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	codec_hex_encode(b, n, out, n * 2 + 1);
}

static bool
verifies(const JsonNode *doc)
{
	VcProof		p;

	return vc_prepare(doc, &p) && p.state == VC_PROOF_READY && vc_verify(&p, NULL, 0) == ED25519_VALID;
}

static void
test_sign_reproduces_vector(void)
{
	JsonNode   *unsigned_doc = parse_file(VEC "unsigned.json");
	JsonNode   *config = parse_file(VEC "eddsa-jcs-2022/proofConfigJCS.json");
	JsonNode   *expected = parse_file(VEC "eddsa-jcs-2022/signedJCS.json");
	char	   *canon_doc = read_trimmed(VEC "eddsa-jcs-2022/canonDocJCS.txt");
	char	   *canon_proof = read_trimmed(VEC "eddsa-jcs-2022/proofCanonJCS.txt");
	char	   *doc_hash = read_trimmed(VEC "eddsa-jcs-2022/docHashJCS.txt");
	char	   *proof_hash = read_trimmed(VEC "eddsa-jcs-2022/proofHashJCS.txt");
	char	   *combined = read_trimmed(VEC "eddsa-jcs-2022/combinedHashJCS.txt");
	char	   *sig_hex = read_trimmed(VEC "eddsa-jcs-2022/sigHexJCS.txt");
	char	   *sig_b58 = read_trimmed(VEC "eddsa-jcs-2022/sigBTC58JCS.txt");
	uint8_t		secret[64];
	size_t		secretlen = 0;
	CodecError	cerr;
	JsonNode   *options;
	JsonNode   *signed_doc;
	char		errbuf[200];
	uint8_t		hash_data[VC_HASH_DATA_BYTES];
	char		h[2 * VC_HASH_DATA_BYTES + 1];
	char	   *c1,
			   *c2;
	VcProof		p;

	CHECK(unsigned_doc && config && expected && canon_doc && canon_proof && doc_hash && proof_hash &&
		  combined && sig_hex && sig_b58, "vector files load");
	if (!(unsigned_doc && config && expected))
		return;
	CHECK(codec_ed25519_secret_decode("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq", 48, secret, &secretlen, &cerr),
		  "the vector's secret key decodes");

	/* intermediates */
	c1 = canonical(unsigned_doc);
	CHECK_STR(c1, canon_doc, "canonical document");
	c2 = canonical(config);
	CHECK_STR(c2, canon_proof, "canonical proof options");
	CHECK(vc_hash_data(config, unsigned_doc, hash_data), "hashes computed");
	hex(hash_data, 32, h);
	CHECK_STR(h, proof_hash, "proof options hash");
	hex(hash_data + 32, 32, h);
	CHECK_STR(h, doc_hash, "document hash");
	hex(hash_data, 64, h);
	CHECK_STR(h, combined, "combined hash (proof hash first)");

	/* signing with the proof options without @context: the document's is copied in */
	options = json_copy(config);
	json_free(json_object_remove(options, "@context", 8));
	signed_doc = vc_sign(unsigned_doc, options, secret, secretlen, errbuf);
	CHECK(signed_doc != NULL, "signing succeeds: %s", errbuf);
	if (signed_doc)
	{
		const JsonNode *pv = json_get(json_get(signed_doc, "proof"), "proofValue");

		CHECK(pv && strcmp(pv->text, sig_b58) == 0, "proofValue reproduced byte for byte: %s", pv ? pv->text : "-");
		CHECK(json_equal(signed_doc, expected), "the signed document equals signedJCS.json");
		CHECK(vc_prepare(signed_doc, &p) && p.state == VC_PROOF_READY, "prepared");
		hex(p.signature, 64, h);
		CHECK_STR(h, sig_hex, "signature bytes");
		CHECK(vc_verify(&p, NULL, 0) == ED25519_VALID, "our signature verifies");
		json_free(signed_doc);
	}
	/* a 64-byte seed||pk secret signs the same */
	{
		uint8_t		pk[32];
		uint8_t		sk64[64];
		Ed25519Error eerr;

		ed25519_public_key(secret, 32, pk, &eerr);
		memcpy(sk64, secret, 32);
		memcpy(sk64 + 32, pk, 32);
		signed_doc = vc_sign(unsigned_doc, options, sk64, 64, errbuf);
		CHECK(signed_doc && json_equal(signed_doc, expected), "a 64-byte secret key signs identically");
		json_free(signed_doc);
	}
	CHECK(vc_sign(unsigned_doc, options, secret, 31, errbuf) == NULL && strstr(errbuf, "31") != NULL,
		  "a 31-byte secret is refused: %s", errbuf);
	CHECK(vc_sign(expected, options, secret, 32, errbuf) == NULL, "a signed document is not signed again");
	json_free(options);
	free(c1);
	free(c2);
	json_free(unsigned_doc);
	json_free(config);
	json_free(expected);
	free(canon_doc);
	free(canon_proof);
	free(doc_hash);
	free(proof_hash);
	free(combined);
	free(sig_hex);
	free(sig_b58);
}

static void
test_verify_vectors_and_tampering(void)
{
	size_t		len;
	char	   *text = vec_read_file(VEC "eddsa-jcs-2022/signedJCS.json", &len);
	JsonNode   *signed_doc = text ? json_parse(text, len, NULL) : NULL;
	JsonNode   *legacy = parse_file(VEC "legacy-eddsa-jcs-2022-no-proof-context/signedJCS.json");
	char	   *canon;
	size_t		clen,
				i;
	int			tampered = 0,
				still_valid = 0;
	JsonNode   *t;

	CHECK(signed_doc && legacy, "signed vectors load");
	if (!signed_doc || !legacy)
		return;
	CHECK(verifies(signed_doc), "the current signed vector verifies");
	CHECK(verifies(legacy), "the legacy signed vector (no proof @context) verifies");

	/* every one-character change of the canonical signed document */
	canon = canonical(signed_doc);
	clen = strlen(canon);
	for (i = 0; i < clen; i++)
	{
		char		saved = canon[i];
		char		repl = (saved == 'a') ? 'b' : (saved == '1' ? '2' : 'a');
		JsonNode   *doc;
		JsonError	err;

		canon[i] = repl;
		doc = json_parse(canon, clen, &err);
		if (doc != NULL)
		{
			tampered++;
			if (verifies(doc))
				still_valid++;
			json_free(doc);
		}
		canon[i] = saved;
	}
	CHECK(tampered > 300, "tampered documents that still parse: %d", tampered);
	CHECK(still_valid == 0, "no one-character tampering verifies (%d did)", still_valid);

	/* specific tamperings named by the vectors README */
	t = json_copy(signed_doc);
	json_free(json_object_remove(json_get(t, "proof"), "@context", 8));
	CHECK(!verifies(t), "deleting proof.@context breaks the proof");
	json_free(t);

	t = json_copy(signed_doc);
	{
		JsonNode   *ctx = json_get(t, "@context");
		JsonNode   *tmp = ctx->items[0];

		ctx->items[0] = ctx->items[1];
		ctx->items[1] = tmp;
	}
	{
		VcProof		p;

		CHECK(vc_prepare(t, &p) && p.state == VC_PROOF_CONTEXT_MISMATCH, "reordered document @context is a context mismatch");
	}
	json_free(t);

	t = json_copy(signed_doc);
	json_object_set(json_get(t, "proof"), "created", 7, json_new_string("2023-02-24T23:36:39Z", 20));
	CHECK(!verifies(t), "changing proof.created breaks the proof");
	json_free(t);

	t = json_copy(signed_doc);
	json_object_set(json_get(t, "credentialSubject"), "alumniOf", 8, json_new_string("Another School", 14));
	CHECK(!verifies(t), "a tampered claim breaks the proof");
	json_free(t);

	/* a document may add contexts after the proof's: still verifies */
	t = json_copy(signed_doc);
	json_array_append(json_get(t, "@context"), json_new_string("https://example.org/extra/v1", 28));
	CHECK(verifies(t), "extra document contexts after the proof's are allowed");
	json_free(t);

	/* wrong key */
	{
		VcProof		p;
		uint8_t		other[32] = {1};

		vc_prepare(signed_doc, &p);
		CHECK(vc_verify(&p, other, 32) == ED25519_INVALID, "a wrong key does not verify");
		CHECK(vc_verify(&p, other, 31) == ED25519_MALFORMED, "a 31-byte key is malformed");
		CHECK(vc_verify(&p, p.public_key, 32) == ED25519_VALID, "the right key verifies");
	}
	free(canon);
	free(text);
	json_free(signed_doc);
	json_free(legacy);
}

static void
test_unsupported_and_malformed(void)
{
	static const struct
	{
		const char *json;
		VcProofState state;
	}			cases[] = {
		{"{\"a\": 1}", VC_PROOF_NONE},
		{"{\"proof\": [{}]}", VC_PROOF_UNSUPPORTED},
		{"{\"proof\": 5}", VC_PROOF_MALFORMED},
		{"{\"proof\": {\"type\": \"Ed25519Signature2020\", \"proofValue\": \"z58DAdFfa9SkqZMVPxAQpic7ndSayn1PzZs6ZjWp1CktyGesjuTSwRdoWhAfGFCF5bppETSTojQCrfFPP2oumHKtz\"}}", VC_PROOF_UNSUPPORTED},
		{"{\"proof\": {\"type\": \"DataIntegrityProof\", \"cryptosuite\": \"eddsa-rdfc-2022\"}}", VC_PROOF_UNSUPPORTED},
		{"{\"proof\": {\"type\": \"DataIntegrityProof\", \"cryptosuite\": \"eddsa-jcs-2022\", \"proofValue\": \"zabc\"}}", VC_PROOF_MALFORMED},
		{"{\"proof\": {\"type\": \"DataIntegrityProof\", \"cryptosuite\": \"eddsa-jcs-2022\", \"proofValue\": \"u1234\"}}", VC_PROOF_MALFORMED},
		{"{\"proof\": {\"type\": \"DataIntegrityProof\", \"cryptosuite\": \"eddsa-jcs-2022\", \"created\": \"yesterday\", \"proofValue\": \"zabc\"}}", VC_PROOF_MALFORMED},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		JsonNode   *doc = json_parse(cases[i].json, strlen(cases[i].json), NULL);
		VcProof		p;

		CHECK(doc && vc_prepare(doc, &p) && p.state == cases[i].state && (p.state == VC_PROOF_READY || p.reason[0]),
			  "state of %s: %d (%s)", cases[i].json, doc ? (int) p.state : -1, doc ? p.reason : "");
		CHECK(vc_verify(&p, NULL, 0) != ED25519_VALID, "does not verify: %s", cases[i].json);
		json_free(doc);
	}
}

/*
 * Found by fuzz_vc: proof options with an @context and a document without
 * one gave a proof that vc_prepare refused (CONTEXT_MISMATCH).  The proof's
 * @context is the document's, so the options' is dropped.
 */
static void
test_sign_options_context_without_document_context(void)
{
	static const char doc_json[] = "{\"@contkxt\": [\"https://www.w3.org/ns/credentials/v2\"], \"id\": \"urn:x\"}";
	static const char opt_json[] = "{\"created\": \"2023-02-24T23:36:38Z\", "
		"\"@context\": [\"https://www.w3.org/ns/credentials/v2\"]}";
	static const uint8_t seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
	JsonNode   *doc = json_parse(doc_json, strlen(doc_json), NULL);
	JsonNode   *options = json_parse(opt_json, strlen(opt_json), NULL);
	JsonNode   *signed_doc;
	char		errbuf[200];
	uint8_t		pk[32];
	Ed25519Error eerr;
	VcProof		p;

	CHECK(doc && options && ed25519_public_key(seed, 32, pk, &eerr), "setup");
	signed_doc = vc_sign(doc, options, seed, 32, errbuf);
	CHECK(signed_doc != NULL, "signs: %s", errbuf);
	if (signed_doc)
	{
		CHECK(json_get(json_get(signed_doc, "proof"), "@context") == NULL,
			  "no proof @context when the document has none");
		CHECK(vc_prepare(signed_doc, &p) && p.state == VC_PROOF_READY, "prepares: %s", p.reason);
		CHECK(vc_verify(&p, pk, 32) == ED25519_VALID, "verifies");
		json_free(signed_doc);
	}
	json_free(doc);
	json_free(options);
}

int
main(void)
{
	test_sign_reproduces_vector();
	test_verify_vectors_and_tampering();
	test_unsupported_and_malformed();
	test_sign_options_context_without_document_context();
	return unit_done("vc");
}
