/* CBC encryption of several buffers at once under one key.
 *
 * CBC encryption is serial within a buffer: each block waits for the one
 * before it, so AES-NI's pipeline runs a quarter full (AES-256-CBC encrypts
 * at a fifth of ECB's speed here). Blocks of different buffers do not wait
 * for each other: taking block r of every buffer, chaining each with its own
 * previous ciphertext and encrypting the row in one ECB call fills the
 * pipeline. The result is exactly what CBC over each buffer alone gives. */
#ifndef FQTINC_CBC_LANES_H
#define FQTINC_CBC_LANES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "util/compat.h"

#define CBC_LANES 8

/* Encrypt n (1..CBC_LANES) buffers in place, buffer k holding blocks[k]
 * whole blocks of blocklen bytes, each starting from the same iv. ecb is an
 * encrypting ECB context of the key, without padding. False if OpenSSL
 * failed (the buffers then hold garbage). */
bool cbc_lanes_encrypt(EVP_CIPHER_CTX *ecb, size_t blocklen, const uint8_t *iv,
                       uint8_t *const bufs[], const size_t blocks[], int n);

#endif
