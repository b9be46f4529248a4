/* Everything fqtinc asks of OpenSSL libcrypto, behind small types:
 * randomness, cipher/digest lookup by NID, the meta-connection stream
 * cipher, raw RSA and key files. (Packet sealing lives in packet_codec.h.) */
#ifndef FQTINC_CRYPTO_H
#define FQTINC_CRYPTO_H

#include <stdint.h>

#include "util/compat.h"

void crypto_init(void);
/* Fill err with a message, followed by OpenSSL's own reason if it left one. */
void crypto_error(char *err, size_t errlen, const char *fmt, ...) ATTR_PRINTF(3, 4);
void crypto_exit(void);
void randomize(void *buf, size_t len);

/* ---- algorithm descriptions by name and NID ---- */

typedef struct cipher_info {
	int nid;          /* 0 = none */
	size_t keylen;
	size_t ivlen;
	size_t blocklen;
} cipher_info_t;

typedef struct digest_info {
	int nid;          /* 0 = none */
	size_t length;    /* digest output bytes */
} digest_info_t;

/* "aes-256-cbc", "none", "blowfish" ... false with a message in err if unknown
 * or not available in the loaded OpenSSL providers (names the legacy provider). */
bool cipher_by_name(const char *name, cipher_info_t *out, char *err, size_t errlen);
bool cipher_by_nid(int nid, cipher_info_t *out, char *err, size_t errlen);
bool digest_by_name(const char *name, digest_info_t *out, char *err, size_t errlen);
bool digest_by_nid(int nid, digest_info_t *out, char *err, size_t errlen);

/* One-shot digest (challenge replies). Returns false if nid is unusable. */
bool digest_oneshot(int nid, const void *in, size_t len, uint8_t *out, size_t *outlen);

/* ---- meta connection stream cipher (protocol.md §4.2–4.3) ---- */

typedef struct stream_cipher stream_cipher_t; /* opaque */

/* Key = the last keylen bytes of material, IV = the ivlen bytes before it. */
stream_cipher_t *stream_cipher_new(int nid, const uint8_t *material, size_t len, bool encrypt,
                                   char *err, size_t errlen);
/* In-place or out-of-place; false when the byte budget (protocol.md §4.3) is exceeded. */
bool stream_cipher_update(stream_cipher_t *sc, const uint8_t *in, size_t len, uint8_t *out);
void stream_cipher_free(stream_cipher_t *sc);
/* The meta cipher NID 1.0.36 picks from its packet cipher key length. */
int meta_cipher_nid_for_keylen(size_t keylen);

/* ---- RSA ---- */

typedef struct rsa_key rsa_key_t; /* opaque */

/* PEM PKCS#1 "RSA PRIVATE KEY" (or PKCS#8). Warns if mode has bits outside 0700. */
rsa_key_t *rsa_read_private(const char *path, char *err, size_t errlen);
/* From a host file or PublicKeyFile: PKCS#1 "RSA PUBLIC KEY", else SPKI "PUBLIC KEY";
 * other lines in the file are ignored. */
rsa_key_t *rsa_read_public(const char *path, char *err, size_t errlen);
/* Obsolete PublicKey/PrivateKey hex options; exponent forced to 0xFFFF.
 * d_hex may be NULL for a public key. */
rsa_key_t *rsa_from_hex(const char *n_hex, const char *d_hex, char *err, size_t errlen);
size_t rsa_size(const rsa_key_t *key); /* modulus bytes */
/* Textbook RSA on exactly rsa_size() bytes (no padding), as tinc 1.0 does. */
bool rsa_public_encrypt_raw(const rsa_key_t *key, const uint8_t *in, uint8_t *out);
bool rsa_private_decrypt_raw(const rsa_key_t *key, const uint8_t *in, uint8_t *out);
void rsa_free(rsa_key_t *key);

/* tincd -K: write a new key pair (protocol.md §2.6), disabling earlier PEM blocks
 * ("BEGIN RSA" -> "BEGIN OLD") in both files first. */
bool rsa_generate_keyfiles(int bits, const char *private_path, const char *public_path,
                           char *err, size_t errlen);

#endif
