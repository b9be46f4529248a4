#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "packet/cbc_lanes.h"
#include "packet/compress.h"
#include "packet/crypto.h"
#include "packet/ipcsum.h" /* be32_get, be32_put: the sequence number is big-endian */
#include "packet/packet_codec.h"
#include "util/xalloc.h"

#define SEQNO_LEN 4

/* Everything a key needs per packet, set up once when the key is installed
 * so the data path does no allocation and no algorithm lookup. */
typedef struct codec_impl {
	EVP_CIPHER_CTX *enc, *dec; /* NULL with cipher none */
	EVP_CIPHER_CTX *ecb;       /* the key's ECB mode, for CBC ciphers: deferred sealing */
	EVP_MAC_CTX *mac;          /* HMAC keyed with the whole material; NULL without MAC */
	size_t blocklen;           /* 1 for stream modes and none */
	const uint8_t *iv;         /* fixed per-key IV inside key->material, or NULL */
} codec_impl_t;

static void complete_jobs_of(const codec_impl_t *impl);

static void impl_free(codec_impl_t *impl) {
	if(!impl)
		return;
	complete_jobs_of(impl);
	EVP_CIPHER_CTX_free(impl->enc);
	EVP_CIPHER_CTX_free(impl->ecb);
	EVP_CIPHER_CTX_free(impl->dec);
	EVP_MAC_CTX_free(impl->mac);
	free(impl);
}

void packet_key_clear(packet_key_t *key) {
	impl_free(key->impl);
	OPENSSL_cleanse(key->material, sizeof(key->material));
	key->impl = NULL;
	key->valid = false;
	key->material_len = 0;
	key->cipher_nid = 0;
	key->digest_nid = 0;
	key->maclength = 0;
	key->compression = 0;
}

static bool fail(char *err, size_t errlen, const char *what, const char *detail) {
	unsigned long e = ERR_peek_last_error();
	char reason[256] = "";
	if(e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if(err && errlen)
		snprintf(err, errlen, "%s%s%s%s%s", what, detail ? ": " : "", detail ? detail : "",
		         e ? ": " : "", reason);
	return false;
}

static EVP_CIPHER_CTX *new_cipher_ctx(const EVP_CIPHER *cipher, const uint8_t *k, const uint8_t *iv,
                                      int enc) {
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	/* Padding is done here rather than by OpenSSL so that decryption can
	 * write straight into the caller's buffer without room for pad bytes. */
	if(!ctx || !EVP_CipherInit_ex(ctx, cipher, NULL, k, iv, enc) ||
	   !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The ECB mode of a CBC cipher, for encrypting several packets at once
 * (cbc_lanes.h); NULL for other modes or if OpenSSL has no ECB of it, and
 * then every packet is sealed on its own. */
static EVP_CIPHER_CTX *new_ecb_ctx(int cipher_nid, const uint8_t *k, size_t keylen) {
	const EVP_CIPHER *cbc = EVP_get_cipherbynid(cipher_nid);
	const char *sn = OBJ_nid2sn(cipher_nid);
	size_t snlen = sn ? strlen(sn) : 0;
	if(!cbc || EVP_CIPHER_get_mode(cbc) != EVP_CIPH_CBC_MODE || snlen < 4 ||
	   snlen >= 64 || strcasecmp(sn + snlen - 4, "-CBC"))
		return NULL;
	char name[64];
	snprintf(name, sizeof(name), "%.*s-ECB", (int)(snlen - 4), sn);
	EVP_CIPHER *ecb = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *ctx = NULL;
	if(ecb && EVP_CIPHER_get_key_length(ecb) == (int)keylen &&
	   EVP_CIPHER_get_block_size(ecb) == EVP_CIPHER_get_block_size(cbc))
		ctx = new_cipher_ctx(ecb, k, NULL, 1);
	EVP_CIPHER_free(ecb);
	ERR_clear_error();
	return ctx;
}

static EVP_MAC_CTX *new_hmac_ctx(int digest_nid, const uint8_t *k, size_t klen) {
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if(!ctx)
		return NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)OBJ_nid2sn(digest_nid), 0),
		OSSL_PARAM_construct_end(),
	};
	if(!EVP_MAC_init(ctx, k, klen, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* tinc 1.0 runs the cipher's plain EVP mode with no tag handling, so
 * authenticated and special-purpose modes (GCM, CCM, OCB, SIV, XTS, key
 * wrap) cannot be used; both sides would fail on them anyway. */
static bool packet_mode_ok(int cipher_nid) {
	const EVP_CIPHER *c = EVP_get_cipherbynid(cipher_nid);
	if(!c || (EVP_CIPHER_get_flags(c) & EVP_CIPH_FLAG_AEAD_CIPHER))
		return false;
	switch(EVP_CIPHER_get_mode(c)) {
	case EVP_CIPH_ECB_MODE:
	case EVP_CIPH_CBC_MODE:
	case EVP_CIPH_CFB_MODE:
	case EVP_CIPH_OFB_MODE:
	case EVP_CIPH_CTR_MODE:
	case EVP_CIPH_STREAM_CIPHER:
		return true;
	default:
		return false;
	}
}

bool packet_key_set(packet_key_t *key, const uint8_t *material, size_t len, int cipher_nid,
                    int digest_nid, int maclength, int compression, char *err, size_t errlen) {
	packet_key_clear(key);

	cipher_info_t ci;
	digest_info_t di;
	char why[512];
	if(!cipher_by_nid(cipher_nid, &ci, why, sizeof(why)))
		return fail(err, errlen, why, NULL);
	size_t want = cipher_nid ? ci.keylen + ci.ivlen : 1;
	if(len != want) {
		snprintf(why, sizeof(why), "key material is %zu bytes, cipher %s needs %zu", len,
		         cipher_nid ? OBJ_nid2sn(cipher_nid) : "none", want);
		return fail(err, errlen, why, NULL);
	}
	if(len > PACKET_KEY_MAX)
		return fail(err, errlen, "key material too long", NULL);
	if(!digest_by_nid(digest_nid, &di, why, sizeof(why)))
		return fail(err, errlen, why, NULL);
	if(maclength < 0 || (digest_nid && (size_t)maclength > di.length)) {
		snprintf(why, sizeof(why), "MAC length %d out of range 0..%zu", maclength, di.length);
		return fail(err, errlen, why, NULL);
	}
	if(!compression_level_valid(compression)) {
		snprintf(why, sizeof(why), "compression level %d out of range 0..%d", compression,
		         COMPRESS_MAX_LEVEL);
		return fail(err, errlen, why, NULL);
	}

	if(cipher_nid && !packet_mode_ok(cipher_nid)) {
		snprintf(why, sizeof(why), "cipher %s uses a mode that cannot protect packets",
		         OBJ_nid2sn(cipher_nid));
		return fail(err, errlen, why, NULL);
	}

	memcpy(key->material, material, len);
	key->material_len = len;
	codec_impl_t *impl = xzalloc(sizeof(*impl));
	impl->blocklen = cipher_nid ? ci.blocklen : 1;

	if(cipher_nid) {
		const char *sn = OBJ_nid2sn(cipher_nid);
		EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, sn, NULL);
		/* Packet key = first keylen bytes, IV = the ivlen bytes after it. */
		impl->iv = ci.ivlen ? key->material + ci.keylen : NULL;
		if(cipher) {
			impl->enc = new_cipher_ctx(cipher, key->material, impl->iv, 1);
			impl->dec = new_cipher_ctx(cipher, key->material, impl->iv, 0);
		}
		EVP_CIPHER_free(cipher);
		impl->ecb = new_ecb_ctx(cipher_nid, key->material, ci.keylen);
		if(!impl->enc || !impl->dec) {
			impl_free(impl);
			packet_key_clear(key);
			return fail(err, errlen, "Cannot set up the cipher", sn);
		}
	}
	/* Digest none means no MAC at all, whatever length was announced. */
	if(!digest_nid)
		maclength = 0;
	if(maclength > 0) {
		impl->mac = new_hmac_ctx(digest_nid, key->material, len);
		if(!impl->mac) {
			impl_free(impl);
			packet_key_clear(key);
			return fail(err, errlen, "Cannot set up the HMAC",
			            OBJ_nid2sn(digest_nid));
		}
	}

	key->impl = impl;
	key->cipher_nid = cipher_nid;
	key->digest_nid = digest_nid;
	key->maclength = maclength;
	key->compression = compression;
	key->valid = true;
	return true;
}

bool packet_key_generate(packet_key_t *key, int cipher_nid, int digest_nid, int maclength,
                         int compression, char *err, size_t errlen) {
	cipher_info_t ci;
	char why[512];
	if(!cipher_by_nid(cipher_nid, &ci, why, sizeof(why))) {
		packet_key_clear(key);
		return fail(err, errlen, why, NULL);
	}
	uint8_t material[PACKET_KEY_MAX];
	size_t len = cipher_nid ? ci.keylen + ci.ivlen : 1;
	if(len > sizeof(material)) {
		packet_key_clear(key);
		return fail(err, errlen, "key material too long", NULL);
	}
	randomize(material, len);
	bool ok = packet_key_set(key, material, len, cipher_nid, digest_nid, maclength, compression,
	                         err, errlen);
	OPENSSL_cleanse(material, sizeof(material));
	return ok;
}

size_t packet_sealed_size(const packet_key_t *key, size_t len) {
	const codec_impl_t *impl = key->impl;
	size_t b = impl ? impl->blocklen : 1;
	size_t mac = key->maclength > 0 ? (size_t)key->maclength : 0;
	if(b > 1)
		return b * ((SEQNO_LEN + len) / b + 1) + mac;
	return SEQNO_LEN + len + mac;
}

/* HMAC over data; out gets EVP_MAX_MD_SIZE bytes at most. */
static bool compute_mac(codec_impl_t *impl, const uint8_t *data, size_t len, uint8_t *out) {
	size_t outl = 0;
	/* Initialising without a key reuses the key already set, so the ipad/opad
	 * work is not redone for every packet. */
	if(!EVP_MAC_init(impl->mac, NULL, 0, NULL) || !EVP_MAC_update(impl->mac, data, len) ||
	   !EVP_MAC_final(impl->mac, out, &outl, EVP_MAX_MD_SIZE)) {
		ERR_clear_error();
		return false;
	}
	return true;
}

/* Run one piece of the stream through ctx, appending at out + *done. */
static bool cipher_step(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len, uint8_t *out,
                        size_t *done) {
	if(!len)
		return true;
	int outl = 0;
	if(len > INT32_MAX || !EVP_CipherUpdate(ctx, out + *done, &outl, in, (int)len))
		return false;
	*done += (size_t)outl;
	return true;
}

/* data and out must not overlap (except with cipher none): the ciphertext
 * is written while the plaintext is still being read. */
size_t packet_seal(const packet_key_t *key, uint32_t seqno, const uint8_t *data, size_t len,
                   uint8_t *out, size_t outsize) {
	codec_impl_t *impl = key->impl;
	if(!key->valid || !impl || outsize < packet_sealed_size(key, len))
		return 0;

	uint8_t seq[SEQNO_LEN];
	be32_put(seq, seqno);
	size_t ctlen = 0;
	if(!impl->enc) {
		memcpy(out, seq, SEQNO_LEN);
		memmove(out + SEQNO_LEN, data, len);
		ctlen = SEQNO_LEN + len;
	} else {
		/* PKCS#7: always 1..b bytes, each holding the pad length. */
		uint8_t pad[EVP_MAX_BLOCK_LENGTH];
		size_t padlen = 0;
		if(impl->blocklen > 1) {
			padlen = impl->blocklen - (SEQNO_LEN + len) % impl->blocklen;
			memset(pad, (int)padlen, padlen);
		}
		/* Every packet starts from the key's fixed IV. */
		if(!EVP_CipherInit_ex(impl->enc, NULL, NULL, NULL, impl->iv, -1) ||
		   !cipher_step(impl->enc, seq, SEQNO_LEN, out, &ctlen) ||
		   !cipher_step(impl->enc, data, len, out, &ctlen) ||
		   !cipher_step(impl->enc, pad, padlen, out, &ctlen)) {
			ERR_clear_error();
			return 0;
		}
	}

	if(impl->mac) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		if(!compute_mac(impl, out, ctlen, mac))
			return 0;
		memcpy(out + ctlen, mac, (size_t)key->maclength);
		ctlen += (size_t)key->maclength;
	}
	return ctlen;
}

/* Sealing deferred to packet_seal_complete(): the datagram's plaintext
 * (seqno, frame, padding) already sits where its ciphertext will be. */
typedef struct seal_job {
	codec_impl_t *impl;
	uint8_t *buf;
	size_t blocks;    /* cipher blocks of plaintext at buf */
	size_t maclength; /* MAC bytes after them */
	bool done;
} seal_job_t;

/* Two send batches' worth: more pending jobs than that are completed early. */
#define SEAL_JOBS_MAX 128

static seal_job_t jobs[SEAL_JOBS_MAX];
static int njobs;

size_t packet_seal_deferred(const packet_key_t *key, uint32_t seqno, const uint8_t *data,
                            size_t len, uint8_t *out, size_t outsize) {
	codec_impl_t *impl = key->impl;
	if(!key->valid || !impl || !impl->ecb || impl->blocklen <= SEQNO_LEN)
		return packet_seal(key, seqno, data, len, out, outsize);
	size_t total = packet_sealed_size(key, len);
	if(outsize < total)
		return 0;
	size_t maclength = (size_t)key->maclength, ptlen = total - maclength;
	size_t padlen = ptlen - SEQNO_LEN - len; /* PKCS#7: 1..blocklen */
	be32_put(out, seqno);
	memcpy(out + SEQNO_LEN, data, len);
	memset(out + SEQNO_LEN + len, (int)padlen, padlen);
	if(njobs == SEAL_JOBS_MAX)
		packet_seal_complete();
	jobs[njobs++] = (seal_job_t){impl, out, ptlen / impl->blocklen, maclength, false};
	return total;
}

/* In place. A lone datagram takes the plain CBC context: row by row costs an
 * OpenSSL call per block, which only pays when the row has several. */
static bool encrypt_in_place(codec_impl_t *impl, uint8_t *const bufs[], const size_t blocks[],
                             int n) {
	if(n > 1)
		return cbc_lanes_encrypt(impl->ecb, impl->blocklen, impl->iv, bufs, blocks, n);
	size_t done = 0, len = blocks[0] * impl->blocklen;
	return EVP_CipherInit_ex(impl->enc, NULL, NULL, NULL, impl->iv, -1) &&
	       cipher_step(impl->enc, bufs[0], len, bufs[0], &done) && done == len;
}

int packet_seal_complete(void) {
	int failed = 0;
	for(int i = 0; i < njobs; i++) {
		if(jobs[i].done)
			continue;
		codec_impl_t *impl = jobs[i].impl;
		seal_job_t *lane[CBC_LANES];
		uint8_t *bufs[CBC_LANES];
		size_t blocks[CBC_LANES];
		int n = 0;
		for(int j = i; j < njobs && n < CBC_LANES; j++) {
			if(jobs[j].done || jobs[j].impl != impl)
				continue;
			lane[n] = &jobs[j];
			bufs[n] = jobs[j].buf;
			blocks[n++] = jobs[j].blocks;
		}
		bool ok = encrypt_in_place(impl, bufs, blocks, n);
		for(int k = 0; k < n; k++) {
			seal_job_t *job = lane[k];
			size_t ctlen = job->blocks * impl->blocklen;
			uint8_t mac[EVP_MAX_MD_SIZE];
			bool sealed = ok && (!impl->mac || compute_mac(impl, job->buf, ctlen, mac));
			if(sealed && impl->mac)
				memcpy(job->buf + ctlen, mac, job->maclength);
			if(!sealed) {
				/* Never the plaintext on the wire: zeros, which the
				 * receiver's MAC check (or without a MAC, its padding
				 * check, almost always) refuses. */
				OPENSSL_cleanse(job->buf, ctlen + job->maclength);
				failed++;
			}
			job->done = true;
		}
	}
	ERR_clear_error();
	njobs = 0;
	return failed;
}

static void complete_jobs_of(const codec_impl_t *impl) {
	for(int i = 0; i < njobs; i++)
		if(jobs[i].impl == impl && !jobs[i].done) {
			packet_seal_complete();
			return;
		}
}

bool packet_mac_ok(const packet_key_t *key, const uint8_t *in, size_t inlen) {
	codec_impl_t *impl = key->impl;
	/* Without a MAC nothing identifies the sender. */
	if(!key->valid || !impl || !impl->mac || inlen < SEQNO_LEN + (size_t)key->maclength)
		return false;
	size_t ctlen = inlen - (size_t)key->maclength;
	uint8_t mac[EVP_MAX_MD_SIZE];
	if(!compute_mac(impl, in, ctlen, mac))
		return false;
	return CRYPTO_memcmp(mac, in + ctlen, (size_t)key->maclength) == 0;
}

/* Block-cipher decryption straight into out: the first block goes through
 * a stack buffer to peel off the sequence number, the last one to find and
 * strip the padding; the blocks between land in place. */
static packet_open_result_t open_blocks(codec_impl_t *impl, const uint8_t *in, size_t ctlen,
                                        uint32_t *seqno, uint8_t *out, size_t outsize,
                                        size_t *outlen) {
	size_t b = impl->blocklen;
	if(b > EVP_MAX_BLOCK_LENGTH || b <= SEQNO_LEN || ctlen < b || ctlen % b)
		return PACKET_DECRYPT_FAILED;
	size_t nblocks = ctlen / b;
	/* The middle blocks are written before the padding is known; they end
	 * one block short of the ciphertext, minus the seqno. */
	if(nblocks > 2 && ctlen - b - SEQNO_LEN > outsize)
		return PACKET_DECRYPT_FAILED;

	uint8_t head[EVP_MAX_BLOCK_LENGTH], tail[EVP_MAX_BLOCK_LENGTH];
	size_t done = 0, mid = 0, last = 0;
	if(!EVP_CipherInit_ex(impl->dec, NULL, NULL, NULL, impl->iv, -1) ||
	   !cipher_step(impl->dec, in, b, head, &done) || done != b)
		goto fail;
	if(nblocks >= 2) {
		if(nblocks > 2 && (!cipher_step(impl->dec, in + b, (nblocks - 2) * b, out + b - SEQNO_LEN,
		                                &mid) ||
		                   mid != (nblocks - 2) * b))
			goto fail;
		if(!cipher_step(impl->dec, in + (nblocks - 1) * b, b, tail, &last) || last != b)
			goto fail;
	} else {
		memcpy(tail, head, b);
	}

	size_t pad = tail[b - 1];
	if(pad < 1 || pad > b)
		return PACKET_DECRYPT_FAILED;
	for(size_t i = b - pad; i < b; i++)
		if(tail[i] != pad)
			return PACKET_DECRYPT_FAILED;
	if(ctlen - pad < SEQNO_LEN)
		return PACKET_DECRYPT_FAILED;
	size_t payload = ctlen - pad - SEQNO_LEN;
	if(payload > outsize)
		return PACKET_DECRYPT_FAILED;

	*seqno = be32_get(head);
	if(nblocks == 1) {
		memcpy(out, head + SEQNO_LEN, payload);
	} else {
		memcpy(out, head + SEQNO_LEN, b - SEQNO_LEN);
		/* The last block's plaintext minus its padding (possibly nothing). */
		memcpy(out + ctlen - b - SEQNO_LEN, tail, b - pad);
	}
	*outlen = payload;
	return PACKET_OK;
fail:
	ERR_clear_error();
	return PACKET_DECRYPT_FAILED;
}

packet_open_result_t packet_open(const packet_key_t *key, const uint8_t *in, size_t inlen,
                                 uint32_t *seqno, uint8_t *out, size_t outsize, size_t *outlen) {
	codec_impl_t *impl = key->impl;
	if(!key->valid || !impl)
		return PACKET_DECRYPT_FAILED;
	size_t maclen = (size_t)key->maclength;
	if(inlen < SEQNO_LEN + maclen)
		return PACKET_TOO_SHORT;
	size_t ctlen = inlen - maclen;

	if(impl->mac) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		if(!compute_mac(impl, in, ctlen, mac) || CRYPTO_memcmp(mac, in + ctlen, maclen) != 0)
			return PACKET_BAD_MAC;
	}

	if(!impl->dec) {
		if(ctlen - SEQNO_LEN > outsize)
			return PACKET_DECRYPT_FAILED;
		*seqno = be32_get(in);
		memmove(out, in + SEQNO_LEN, ctlen - SEQNO_LEN);
		*outlen = ctlen - SEQNO_LEN;
		return PACKET_OK;
	}
	if(impl->blocklen > 1)
		return open_blocks(impl, in, ctlen, seqno, out, outsize, outlen);

	/* Stream modes: one output byte per input byte, no padding. */
	uint8_t head[SEQNO_LEN];
	size_t done = 0, rest = 0;
	if(ctlen - SEQNO_LEN > outsize)
		return PACKET_DECRYPT_FAILED;
	if(!EVP_CipherInit_ex(impl->dec, NULL, NULL, NULL, impl->iv, -1) ||
	   !cipher_step(impl->dec, in, SEQNO_LEN, head, &done) || done != SEQNO_LEN ||
	   !cipher_step(impl->dec, in + SEQNO_LEN, ctlen - SEQNO_LEN, out, &rest) ||
	   rest != ctlen - SEQNO_LEN) {
		ERR_clear_error();
		return PACKET_DECRYPT_FAILED;
	}
	*seqno = be32_get(head);
	*outlen = rest;
	return PACKET_OK;
}
