/* The UDP datagram codec of tinc 1.0: receiver-chosen cipher in
 * its normal mode with the IV reset per packet, a 4-byte sequence number
 * inside the ciphertext, and a truncated HMAC over the ciphertext. */
#ifndef FQTINC_PACKET_CODEC_H
#define FQTINC_PACKET_CODEC_H

#include <stdint.h>

#include "util/compat.h"

#define PACKET_KEY_MAX 128 /* key + IV material bytes */

typedef struct packet_key {
	bool valid;
	int cipher_nid;        /* 0 = none */
	int digest_nid;        /* 0 = none */
	int maclength;         /* truncated MAC bytes on the wire */
	int compression;       /* level the key's owner wants (0..11) */
	size_t material_len;
	uint8_t material[PACKET_KEY_MAX];
	void *impl;            /* OpenSSL contexts, owned by packet_codec.c */
} packet_key_t;

/* Fresh random material for our own cipher/digest (for an ANS_KEY we send). */
bool packet_key_generate(packet_key_t *key, int cipher_nid, int digest_nid, int maclength,
                         int compression, char *err, size_t errlen);
/* Install material received in an ANS_KEY; validates lengths, NIDs, MAC length,
 * compression level. On failure the key is left invalid and err says why. */
bool packet_key_set(packet_key_t *key, const uint8_t *material, size_t len, int cipher_nid,
                    int digest_nid, int maclength, int compression, char *err, size_t errlen);
void packet_key_clear(packet_key_t *key); /* wipes material, frees contexts */

/* Largest datagram for a plaintext of len bytes (without the seqno). */
size_t packet_sealed_size(const packet_key_t *key, size_t len);
/* out = ENC(seqno || data) || MAC. Returns the datagram length, or 0 on error. */
size_t packet_seal(const packet_key_t *key, uint32_t seqno, const uint8_t *data, size_t len,
                   uint8_t *out, size_t outsize);
/* The same datagram, but for CBC ciphers the encryption and MAC are left for
 * packet_seal_complete(), which encrypts several datagrams at once
 * (cbc_lanes.h): until then out holds the plaintext. Other ciphers are
 * sealed at once. The caller must call packet_seal_complete() before out is
 * sent, read or reused; clearing the key completes its datagrams first. */
size_t packet_seal_deferred(const packet_key_t *key, uint32_t seqno, const uint8_t *data,
                            size_t len, uint8_t *out, size_t outsize);
/* Encrypt and MAC every deferred datagram. Returns how many failed in
 * OpenSSL; those are overwritten with zeros, which the receiver's MAC check
 * refuses (without a MAC, its padding check almost always). */
int packet_seal_complete(void);

typedef enum packet_open_result {
	PACKET_OK = 0,
	PACKET_TOO_SHORT,
	PACKET_BAD_MAC,
	PACKET_DECRYPT_FAILED,
} packet_open_result_t;

/* Verify the MAC (constant time) and decrypt. On PACKET_OK *seqno and
 * out[0..*outlen) hold the plaintext after the sequence number. */
packet_open_result_t packet_open(const packet_key_t *key, const uint8_t *in, size_t inlen,
                                 uint32_t *seqno, uint8_t *out, size_t outsize, size_t *outlen);
/* MAC check only (used to identify the sender of an unknown-source datagram). */
bool packet_mac_ok(const packet_key_t *key, const uint8_t *in, size_t inlen);

#endif
