/*
 * ed25519.h: Ed25519 signatures and SHA-256, thin safe wrappers over libsodium.
 *
 * libsodium takes bare pointers and reads a fixed number of bytes from each,
 * so every function here takes the length of every input and refuses a wrong
 * one before libsodium sees it: an empty, truncated or over-long signature or
 * key is an error, never an over-read.
 *
 * A secret key is accepted in either of its usual forms: the 32-byte seed
 * (RFC 8032's "private key", what secretKeyMultibase carries) or libsodium's
 * 64-byte seed || public key, whose public half must match the seed.  Secret
 * temporaries are wiped with sodium_memzero on every path, and no message
 * ever contains key material.
 */
#ifndef DEG_CORE_ED25519_H
#define DEG_CORE_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED25519_PUBLIC_KEY_BYTES 32
#define ED25519_SEED_BYTES 32
#define ED25519_SECRET_KEY_BYTES 64 /* libsodium layout: seed || public key */
#define ED25519_SIGNATURE_BYTES 64
#define DEG_SHA256_BYTES 32

typedef struct Ed25519Error
{
	char		detail[128];	/* lower-case, no key material */
} Ed25519Error;

typedef enum Ed25519Verdict
{
	ED25519_MALFORMED = -1,		/* an input has the wrong length; err says which */
	ED25519_INVALID = 0,		/* well-formed, but not a valid signature */
	ED25519_VALID = 1
} Ed25519Verdict;

/*
 * Initialise libsodium once; later calls are free.  False when libsodium
 * cannot start (then randomness is unavailable).  Every function below calls
 * it, so callers need not.
 */
extern bool deg_sodium_init(void);

/*
 * A new random key pair.  The secret is written in the form secretlen asks
 * for: 32 (the seed) or 64 (seed || public key).
 */
extern bool ed25519_keypair(uint8_t pk[ED25519_PUBLIC_KEY_BYTES],
							uint8_t *secret, size_t secretlen,
							Ed25519Error *err);

/*
 * The key pair of a 32-byte seed.  sk, when not NULL, receives libsodium's
 * 64-byte secret key (the caller wipes it).
 */
extern bool ed25519_seed_keypair(const uint8_t *seed, size_t seedlen,
								 uint8_t pk[ED25519_PUBLIC_KEY_BYTES],
								 uint8_t *sk, Ed25519Error *err);

/* the public key of a secret given as a 32-byte seed or 64-byte seed || pk */
extern bool ed25519_public_key(const uint8_t *secret, size_t secretlen,
							   uint8_t pk[ED25519_PUBLIC_KEY_BYTES],
							   Ed25519Error *err);

/* detached signature of msg (msg may be NULL when msglen is 0) */
extern bool ed25519_sign(const uint8_t *secret, size_t secretlen,
						 const uint8_t *msg, size_t msglen,
						 uint8_t sig[ED25519_SIGNATURE_BYTES],
						 Ed25519Error *err);

/*
 * Verify a detached signature with libsodium's strict rules (canonical S and
 * A, small-order A and R refused).  A public key that is not 32 bytes or a
 * signature that is not 64 is ED25519_MALFORMED; callers that only need
 * yes or no test for ED25519_VALID.
 */
extern Ed25519Verdict ed25519_verify(const uint8_t *pk, size_t pklen,
									 const uint8_t *msg, size_t msglen,
									 const uint8_t *sig, size_t siglen,
									 Ed25519Error *err);

/* SHA-256 of len bytes (data may be NULL only when len is 0) */
extern bool deg_sha256(const uint8_t *data, size_t len,
					   uint8_t digest[DEG_SHA256_BYTES]);

#endif							/* DEG_CORE_ED25519_H */
