/*
 * ed25519.c: Ed25519 and SHA-256 over libsodium, with every length checked
 * before libsodium reads a byte, and every secret temporary wiped.
 */
#include "ed25519.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* 0 not yet tried, 1 ready, -1 failed (sodium_init takes a lock; do it once) */
static int	sodium_state = 0;

/* a valid pointer for an empty message, since libsodium may touch it */
static const uint8_t empty_message[1] = {0};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool
fail(Ed25519Error *err, const char *fmt,...)
{
	va_list		ap;

	if (err)
	{
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
	}
	return false;
}

bool
deg_sodium_init(void)
{
	if (sodium_state == 0)
		sodium_state = (sodium_init() < 0) ? -1 : 1;
	return sodium_state == 1;
}

static bool
ready(Ed25519Error *err)
{
	if (!deg_sodium_init())
		return fail(err, "libsodium could not be initialised");
	return true;
}

static bool
check_message(const uint8_t **msg, size_t msglen, Ed25519Error *err)
{
	if (*msg == NULL)
	{
		if (msglen != 0)
			return fail(err, "message of %zu bytes has no data", msglen);
		*msg = empty_message;
	}
	return true;
}

/*
 * Build libsodium's 64-byte secret key from a secret in either form.  When
 * 64 bytes are given, the public half must be the one the seed derives, or a
 * signature would carry a public key that does not verify it.
 */
static bool
expand_secret(const uint8_t *secret, size_t secretlen,
			  uint8_t sk[ED25519_SECRET_KEY_BYTES], Ed25519Error *err)
{
	uint8_t		pk[ED25519_PUBLIC_KEY_BYTES];

	if (secret == NULL ||
		(secretlen != ED25519_SEED_BYTES && secretlen != ED25519_SECRET_KEY_BYTES))
		return fail(err, "secret key has %zu bytes (expected %d or %d)",
					secretlen, ED25519_SEED_BYTES, ED25519_SECRET_KEY_BYTES);
	if (crypto_sign_seed_keypair(pk, sk, secret) != 0)
	{
		sodium_memzero(sk, ED25519_SECRET_KEY_BYTES);
		return fail(err, "could not derive the key pair");
	}
	if (secretlen == ED25519_SECRET_KEY_BYTES &&
		sodium_memcmp(pk, secret + ED25519_SEED_BYTES, ED25519_PUBLIC_KEY_BYTES) != 0)
	{
		sodium_memzero(sk, ED25519_SECRET_KEY_BYTES);
		return fail(err, "the public half of the 64-byte secret key does not match its seed");
	}
	return true;
}

bool
ed25519_keypair(uint8_t pk[ED25519_PUBLIC_KEY_BYTES],
				uint8_t *secret, size_t secretlen, Ed25519Error *err)
{
	uint8_t		sk[ED25519_SECRET_KEY_BYTES];

	if (!ready(err))
		return false;
	if (secret == NULL ||
		(secretlen != ED25519_SEED_BYTES && secretlen != ED25519_SECRET_KEY_BYTES))
		return fail(err, "secret key buffer has %zu bytes (expected %d or %d)",
					secretlen, ED25519_SEED_BYTES, ED25519_SECRET_KEY_BYTES);
	if (crypto_sign_keypair(pk, sk) != 0)
	{
		sodium_memzero(sk, sizeof(sk));
		return fail(err, "could not generate a key pair");
	}
	/* libsodium's secret key starts with the seed */
	memcpy(secret, sk, secretlen);
	sodium_memzero(sk, sizeof(sk));
	return true;
}

bool
ed25519_seed_keypair(const uint8_t *seed, size_t seedlen,
					 uint8_t pk[ED25519_PUBLIC_KEY_BYTES],
					 uint8_t *sk, Ed25519Error *err)
{
	uint8_t		full[ED25519_SECRET_KEY_BYTES];

	if (!ready(err))
		return false;
	if (seed == NULL || seedlen != ED25519_SEED_BYTES)
		return fail(err, "seed has %zu bytes (expected %d)", seedlen, ED25519_SEED_BYTES);
	if (crypto_sign_seed_keypair(pk, full, seed) != 0)
	{
		sodium_memzero(full, sizeof(full));
		return fail(err, "could not derive the key pair");
	}
	if (sk)
		memcpy(sk, full, sizeof(full));
	sodium_memzero(full, sizeof(full));
	return true;
}

bool
ed25519_public_key(const uint8_t *secret, size_t secretlen,
				   uint8_t pk[ED25519_PUBLIC_KEY_BYTES], Ed25519Error *err)
{
	uint8_t		sk[ED25519_SECRET_KEY_BYTES];

	if (!ready(err))
		return false;
	if (!expand_secret(secret, secretlen, sk, err))
		return false;
	memcpy(pk, sk + ED25519_SEED_BYTES, ED25519_PUBLIC_KEY_BYTES);
	sodium_memzero(sk, sizeof(sk));
	return true;
}

bool
ed25519_sign(const uint8_t *secret, size_t secretlen,
			 const uint8_t *msg, size_t msglen,
			 uint8_t sig[ED25519_SIGNATURE_BYTES], Ed25519Error *err)
{
	uint8_t		sk[ED25519_SECRET_KEY_BYTES];
	int			rc;

	if (!ready(err) || !check_message(&msg, msglen, err))
		return false;
	if (!expand_secret(secret, secretlen, sk, err))
		return false;
	rc = crypto_sign_detached(sig, NULL, msg, (unsigned long long) msglen, sk);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return fail(err, "signing failed");
	return true;
}

Ed25519Verdict
ed25519_verify(const uint8_t *pk, size_t pklen,
			   const uint8_t *msg, size_t msglen,
			   const uint8_t *sig, size_t siglen, Ed25519Error *err)
{
	if (!ready(err))
		return ED25519_MALFORMED;
	if (pk == NULL || pklen != ED25519_PUBLIC_KEY_BYTES)
	{
		fail(err, "public key has %zu bytes (expected %d)",
			 pk ? pklen : 0, ED25519_PUBLIC_KEY_BYTES);
		return ED25519_MALFORMED;
	}
	if (sig == NULL || siglen != ED25519_SIGNATURE_BYTES)
	{
		fail(err, "signature has %zu bytes (expected %d)",
			 sig ? siglen : 0, ED25519_SIGNATURE_BYTES);
		return ED25519_MALFORMED;
	}
	if (!check_message(&msg, msglen, err))
		return ED25519_MALFORMED;
	if (crypto_sign_verify_detached(sig, msg, (unsigned long long) msglen, pk) != 0)
		return ED25519_INVALID;
	return ED25519_VALID;
}

bool
deg_sha256(const uint8_t *data, size_t len, uint8_t digest[DEG_SHA256_BYTES])
{
	if (data == NULL)
	{
		if (len != 0)
			return false;
		data = empty_message;
	}
	deg_sodium_init();
	return crypto_hash_sha256(digest, data, (unsigned long long) len) == 0;
}
