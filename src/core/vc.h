/*
 * vc.h: W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite.
 *
 * Verifying a credential is an Ed25519 check of 64 bytes: SHA-256 of the
 * canonical (RFC 8785) proof options, then SHA-256 of the canonical document
 * without its proof.  vc_prepare computes those bytes once, when a
 * credential is stored, so that verification later needs no JSON at all.
 *
 * Since January 2025 the proof options carry the document's "@context"; a
 * verifier checks that the document's @context starts with the proof's and
 * hashes the document with the proof's @context.  Proofs without it (the
 * earlier form) verify as they were made.
 */
#ifndef DEG_CORE_VC_H
#define DEG_CORE_VC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed25519.h"
#include "json.h"

#define VC_HASH_DATA_BYTES 64

typedef enum VcProofState
{
	VC_PROOF_NONE,				/* the document has no proof */
	VC_PROOF_READY,				/* eddsa-jcs-2022, prepared for verification */
	VC_PROOF_UNSUPPORTED,		/* another proof type or cryptosuite */
	VC_PROOF_MALFORMED,			/* e.g. a proofValue that is not 64 bytes */
	VC_PROOF_CONTEXT_MISMATCH	/* document @context does not start with the proof's */
} VcProofState;

typedef struct VcProof
{
	VcProofState state;
	char		reason[200];	/* why, when not READY */
	uint8_t		hash_data[VC_HASH_DATA_BYTES];
	uint8_t		signature[ED25519_SIGNATURE_BYTES];
	bool		has_key;		/* the verificationMethod is a did:key */
	uint8_t		public_key[ED25519_PUBLIC_KEY_BYTES];
} VcProof;

/*
 * Read the proof of a secured document.  Returns false only when out of
 * memory; a document whose proof cannot be verified gets a state and a
 * reason instead.
 */
extern bool vc_prepare(const JsonNode *secured, VcProof *proof);

/*
 * Verify a prepared proof with pk, or with the did:key of its verification
 * method when pk is NULL.  ED25519_MALFORMED when pk has the wrong length or
 * no key is known.
 */
extern Ed25519Verdict vc_verify(const VcProof *proof, const uint8_t *pk, size_t pklen);

/*
 * Sign an unsecured document: returns a new document with a proof built from
 * options (type and cryptosuite are set when absent; the document's @context
 * is copied into the proof, and an @context in options dropped when the
 * document has none), or NULL with a message in err.
 */
extern JsonNode *vc_sign(const JsonNode *unsecured, const JsonNode *options,
						 const uint8_t *secret, size_t secretlen,
						 char err[200]);

/* the canonical hashes of a proof configuration and a document (for tests and explain) */
extern bool vc_hash_data(const JsonNode *proof_config, const JsonNode *document,
						 uint8_t out[VC_HASH_DATA_BYTES]);

#endif							/* DEG_CORE_VC_H */
