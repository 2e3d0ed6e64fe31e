/*
 * codec.h: the text encodings of W3C Verifiable Credentials, without
 * PostgreSQL: hex, base58btc (Bitcoin alphabet), base64url without padding,
 * multibase ("z" base58btc, "u" base64url), multicodec varint prefixes,
 * Multikey (publicKeyMultibase / secretKeyMultibase) and did:key.
 *
 * Every function writes into a caller's buffer of a stated capacity and
 * fails, rather than writes past it, when the result does not fit.  Decoders
 * are strict: one text per byte string (no padding, no non-canonical
 * trailing bits, no alternative alphabets), so a signature or key has exactly
 * one accepted spelling.  Any bytes are safe input.
 *
 * Names carry the codec_ prefix: the PostgreSQL server itself exports
 * hex_encode and hex_decode, which would otherwise capture our calls.
 */
#ifndef DEG_CORE_CODEC_H
#define DEG_CORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CodecError
{
	size_t		position;		/* 1-based byte position in the input, 0 when
								 * the error is about the input as a whole */
	char		detail[160];	/* lower-case, no trailing period */
} CodecError;

/*
 * base58 is quadratic, and only keys and signatures are written in it, so
 * its inputs are bounded: at most 1024 bytes, or the 1399 characters that
 * encode them.
 */
#define CODEC_BASE58_MAX_BYTES 1024
#define CODEC_BASE58_MAX_TEXT 1399

/* capacities, including the terminating NUL, of encoder output */
#define CODEC_HEX_SIZE(n) (2 * (n) + 1)
#define CODEC_BASE58_SIZE(n) ((n) * 138 / 100 + 2)
#define CODEC_BASE64URL_SIZE(n) (((n) / 3) * 4 + 4)
/* bytes a decoder may write for a text of n characters */
#define CODEC_BASE64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/* multicodec codes (unsigned varint in front of the key bytes) */
#define MULTICODEC_ED25519_PUB 0xed		/* ed 01 */
#define MULTICODEC_X25519_PUB 0xec		/* ec 01 */
#define MULTICODEC_ED25519_PRIV 0x1300	/* 80 26 */
#define MULTICODEC_SECP256K1_PUB 0xe7	/* e7 01 */
#define MULTICODEC_P256_PUB 0x1200		/* 80 24 */
#define CODEC_VARINT_MAX 9				/* multiformats caps varints at 9 bytes */

/* room for an Ed25519 key text, "z" + base58btc(2-byte prefix || key), and NUL */
#define CODEC_MULTIKEY_SIZE 128
#define CODEC_DIDKEY_PREFIX "did:key:"
#define CODEC_DIDKEY_SIZE (8 + CODEC_MULTIKEY_SIZE)

/* hex: lower-case out; decode accepts either case, an even number of digits */
extern bool codec_hex_encode(const uint8_t *in, size_t len,
							 char *out, size_t outcap);
extern bool codec_hex_decode(const char *text, size_t len,
							 uint8_t *out, size_t outcap, size_t *outlen,
							 CodecError *err);

/* base58btc: each leading zero byte is a leading "1" */
extern bool codec_base58_encode(const uint8_t *in, size_t len,
								char *out, size_t outcap, size_t *outlen,
								CodecError *err);
extern bool codec_base58_decode(const char *text, size_t len,
								uint8_t *out, size_t outcap, size_t *outlen,
								CodecError *err);

/* base64url (RFC 4648 section 5) without padding */
extern bool codec_base64url_encode(const uint8_t *in, size_t len,
								   char *out, size_t outcap, size_t *outlen,
								   CodecError *err);
extern bool codec_base64url_decode(const char *text, size_t len,
								   uint8_t *out, size_t outcap, size_t *outlen,
								   CodecError *err);

/*
 * multibase: base is 'z' (base58btc) or 'u' (base64url, no padding); the
 * decoder reads it from the first character and reports it in *base when
 * base is not NULL.
 */
extern bool codec_multibase_encode(char base, const uint8_t *in, size_t len,
								   char *out, size_t outcap, size_t *outlen,
								   CodecError *err);
extern bool codec_multibase_decode(const char *text, size_t len,
								   uint8_t *out, size_t outcap, size_t *outlen,
								   char *base, CodecError *err);

/*
 * multicodec: an unsigned varint, minimally encoded.  write returns the
 * number of bytes, 0 for a code of 2^63 or more (which nine bytes cannot hold).
 */
extern size_t codec_multicodec_write(uint64_t code, uint8_t out[CODEC_VARINT_MAX]);
extern bool codec_multicodec_read(const uint8_t *in, size_t len,
								  uint64_t *code, size_t *prefixlen,
								  CodecError *err);
/* "ed25519-pub", ... for the codes above; NULL for others */
extern const char *codec_multicodec_name(uint64_t code);

/*
 * Ed25519 Multikey texts.  The public key is 32 bytes ("z6Mk...").  The
 * secret is written as its 32-byte seed ("z3u2..."); the decoder accepts a
 * 32-byte seed or a 64-byte seed || public key (older Ed25519VerificationKey2020
 * keys) and reports which in *secretlen.  Errors about secret texts never
 * quote their characters.
 */
extern bool codec_ed25519_public_encode(const uint8_t *pk, size_t pklen,
										char out[CODEC_MULTIKEY_SIZE],
										CodecError *err);
extern bool codec_ed25519_public_decode(const char *text, size_t len,
										uint8_t pk[32], CodecError *err);
extern bool codec_ed25519_secret_encode(const uint8_t *secret, size_t secretlen,
										char out[CODEC_MULTIKEY_SIZE],
										CodecError *err);
extern bool codec_ed25519_secret_decode(const char *text, size_t len,
										uint8_t secret[64], size_t *secretlen,
										CodecError *err);

/*
 * any key as "z" + base58btc(varint(code) || key), e.g. an X25519
 * keyAgreement key (MULTICODEC_X25519_PUB, "z6LS...")
 */
extern bool codec_multikey_encode(uint64_t code, const uint8_t *key, size_t keylen,
								  char *out, size_t outcap, CodecError *err);

/*
 * did:key for an Ed25519 public key: "did:key:z6Mk...".  The decoder accepts
 * the DID and the verification method id "did:key:z6Mk...#z6Mk...", whose
 * fragment must repeat the key exactly.
 */
extern bool codec_didkey_encode(const uint8_t *pk, size_t pklen,
								char out[CODEC_DIDKEY_SIZE], CodecError *err);
extern bool codec_didkey_decode(const char *text, size_t len,
								uint8_t pk[32], CodecError *err);

#endif							/* DEG_CORE_CODEC_H */
