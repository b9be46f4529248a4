#include "util/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include "packet/crypto.h"
#include "util/log.h"
#include "util/xalloc.h"

void crypto_init(void) {
	/* Loading the configuration is what makes OPENSSL_CONF (and with it the
	 * legacy provider needed for Blowfish) take effect. */
	if(!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS |
	                        OPENSSL_INIT_ADD_ALL_DIGESTS, NULL))
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot initialise OpenSSL: %s",
		       ERR_reason_error_string(ERR_get_error()));
}

void crypto_exit(void) {
	/* Nothing is cached here; OpenSSL releases its own state at exit. */
	ERR_clear_error();
}

void randomize(void *buf, size_t len) {
	/* Keys, nonces and challenges come from here: carrying on with weak
	 * randomness would be worse than stopping. */
	while(len > 0) {
		int chunk = len > (size_t)1 << 30 ? 1 << 30 : (int)len;
		if(RAND_bytes(buf, chunk) != 1) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "The random number generator failed: stopping rather than use weak keys");
			abort();
		}
		buf = (uint8_t *)buf + chunk;
		len -= (size_t)chunk;
	}
}

/* Fill err with a message, followed by OpenSSL's own reason if it left one. */
void crypto_error(char *err, size_t errlen, const char *fmt, ...) {
	unsigned long e = ERR_peek_last_error();
	ERR_clear_error();
	if(!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if(e && n >= 0 && (size_t)n < errlen) {
		char reason[256];
		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(err + n, errlen - (size_t)n, ": %s", reason);
	}
}

static const char legacy_hint[] =
	"it is not available from the loaded OpenSSL providers; to use it, enable OpenSSL's "
	"legacy provider (and the default one) in a configuration file named by OPENSSL_CONF";

/* ---- ciphers ---- */

static EVP_CIPHER *fetch_cipher(int nid) {
	const char *sn = OBJ_nid2sn(nid);
	return sn ? EVP_CIPHER_fetch(NULL, sn, NULL) : NULL;
}

static void describe_cipher(const EVP_CIPHER *c, cipher_info_t *out) {
	out->nid = EVP_CIPHER_get_nid(c);
	out->keylen = (size_t)EVP_CIPHER_get_key_length(c);
	out->ivlen = (size_t)EVP_CIPHER_get_iv_length(c);
	out->blocklen = (size_t)EVP_CIPHER_get_block_size(c);
}

static void cipher_none(cipher_info_t *out) {
	out->nid = 0;
	out->keylen = 0;
	out->ivlen = 0;
	out->blocklen = 1;
}

/* shown = the name the user wrote, if any, so the message names it. */
static bool cipher_lookup_nid(int nid, const char *shown, cipher_info_t *out, char *err,
                              size_t errlen) {
	if(nid == 0) {
		cipher_none(out);
		return true;
	}
	/* The NID must name a cipher OpenSSL knows at all before "not available"
	 * is the right complaint. */
	if(!EVP_get_cipherbynid(nid)) {
		crypto_error(err, errlen, "Unknown cipher NID %d", nid);
		return false;
	}
	EVP_CIPHER *c = fetch_cipher(nid);
	if(!c) {
		crypto_error(err, errlen, "Cipher %s (%s, NID %d) cannot be used: %s",
		          shown ? shown : OBJ_nid2ln(nid), OBJ_nid2sn(nid), nid, legacy_hint);
		return false;
	}
	describe_cipher(c, out);
	EVP_CIPHER_free(c);
	return true;
}

bool cipher_by_nid(int nid, cipher_info_t *out, char *err, size_t errlen) {
	return cipher_lookup_nid(nid, NULL, out, err, errlen);
}

bool cipher_by_name(const char *name, cipher_info_t *out, char *err, size_t errlen) {
	if(!strcasecmp(name, "none")) {
		cipher_none(out);
		return true;
	}
	/* OpenSSL's object table knows names such as "blowfish" even when no
	 * loaded provider implements them, which lets us say what is missing. */
	const EVP_CIPHER *known = EVP_get_cipherbyname(name);
	if(known)
		return cipher_lookup_nid(EVP_CIPHER_get_nid(known), name, out, err, errlen);
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
	if(!c || EVP_CIPHER_get_nid(c) == NID_undef) {
		EVP_CIPHER_free(c);
		crypto_error(err, errlen, "Unknown cipher %s", name);
		return false;
	}
	describe_cipher(c, out);
	EVP_CIPHER_free(c);
	return true;
}

/* ---- digests ---- */

static EVP_MD *fetch_digest(int nid) {
	const char *sn = OBJ_nid2sn(nid);
	return sn ? EVP_MD_fetch(NULL, sn, NULL) : NULL;
}

static bool digest_lookup_nid(int nid, const char *shown, digest_info_t *out, char *err,
                              size_t errlen) {
	if(nid == 0) {
		out->nid = 0;
		out->length = 0;
		return true;
	}
	if(!EVP_get_digestbynid(nid)) {
		crypto_error(err, errlen, "Unknown digest NID %d", nid);
		return false;
	}
	EVP_MD *md = fetch_digest(nid);
	if(!md) {
		crypto_error(err, errlen, "Digest %s (%s, NID %d) cannot be used: %s",
		          shown ? shown : OBJ_nid2ln(nid), OBJ_nid2sn(nid), nid, legacy_hint);
		return false;
	}
	out->nid = nid;
	out->length = (size_t)EVP_MD_get_size(md);
	EVP_MD_free(md);
	return true;
}

bool digest_by_nid(int nid, digest_info_t *out, char *err, size_t errlen) {
	return digest_lookup_nid(nid, NULL, out, err, errlen);
}

bool digest_by_name(const char *name, digest_info_t *out, char *err, size_t errlen) {
	if(!strcasecmp(name, "none")) {
		out->nid = 0;
		out->length = 0;
		return true;
	}
	const EVP_MD *known = EVP_get_digestbyname(name);
	if(known)
		return digest_lookup_nid(EVP_MD_get_type(known), name, out, err, errlen);
	EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
	if(!md || EVP_MD_get_type(md) == NID_undef) {
		EVP_MD_free(md);
		crypto_error(err, errlen, "Unknown digest %s", name);
		return false;
	}
	out->nid = EVP_MD_get_type(md);
	out->length = (size_t)EVP_MD_get_size(md);
	EVP_MD_free(md);
	return true;
}

/* out must have room for EVP_MAX_MD_SIZE (64) bytes. */
bool digest_oneshot(int nid, const void *in, size_t len, uint8_t *out, size_t *outlen) {
	if(nid == 0)
		return false;
	EVP_MD *md = fetch_digest(nid);
	if(!md) {
		ERR_clear_error();
		return false;
	}
	unsigned int n = 0;
	bool ok = EVP_Digest(in, len, out, &n, md, NULL) == 1;
	EVP_MD_free(md);
	if(!ok) {
		ERR_clear_error();
		return false;
	}
	*outlen = n;
	return true;
}

/* ---- meta connection stream cipher ---- */

struct stream_cipher {
	EVP_CIPHER_CTX *ctx;
	uint64_t budget; /* bytes this direction may still process */
};

/* protocol.md §4.3: stop before birthday-bound trouble for small-block ciphers.
 * L is the block size, or the IV length for stream modes, or 8. */
static uint64_t cipher_byte_limit(size_t blocklen, size_t ivlen) {
	size_t l = blocklen > 1 ? blocklen : ivlen > 1 ? ivlen : 8;
	size_t bits = 4 * l - 1;
	return bits < 64 ? (uint64_t)1 << bits : UINT64_MAX;
}

stream_cipher_t *stream_cipher_new(int nid, const uint8_t *material, size_t len, bool encrypt,
                                   char *err, size_t errlen) {
	if(nid == 0) {
		crypto_error(err, errlen, "Null cipher not allowed on a meta connection");
		return NULL;
	}
	if(!EVP_get_cipherbynid(nid)) {
		crypto_error(err, errlen, "Unknown cipher NID %d", nid);
		return NULL;
	}
	EVP_CIPHER *c = fetch_cipher(nid);
	if(!c) {
		crypto_error(err, errlen, "Cipher %s (%s, NID %d) cannot be used: %s", OBJ_nid2ln(nid),
		          OBJ_nid2sn(nid), nid, legacy_hint);
		return NULL;
	}
	size_t keylen = (size_t)EVP_CIPHER_get_key_length(c);
	size_t ivlen = (size_t)EVP_CIPHER_get_iv_length(c);
	size_t blocklen = (size_t)EVP_CIPHER_get_block_size(c);
	/* The meta stream is cut into lines at arbitrary points, so only a mode
	 * that turns every input byte into one output byte will do; modes with
	 * tags or tweaks have no place in tinc 1.0's unauthenticated stream. */
	int mode = EVP_CIPHER_get_mode(c);
	if(blocklen != 1 || (EVP_CIPHER_get_flags(c) & EVP_CIPH_FLAG_AEAD_CIPHER) ||
	   (mode != EVP_CIPH_CFB_MODE && mode != EVP_CIPH_OFB_MODE && mode != EVP_CIPH_CTR_MODE &&
	    mode != EVP_CIPH_STREAM_CIPHER)) {
		crypto_error(err, errlen, "Cipher %s is not a stream mode and cannot encrypt a meta connection",
		          OBJ_nid2sn(nid));
		EVP_CIPHER_free(c);
		return NULL;
	}
	if(len < keylen + ivlen) {
		crypto_error(err, errlen, "Key material too short for %s: %zu bytes, need %zu",
		          OBJ_nid2sn(nid), len, keylen + ivlen);
		EVP_CIPHER_free(c);
		return NULL;
	}
	const uint8_t *key = material + len - keylen;
	const uint8_t *iv = ivlen ? key - ivlen : NULL;

	stream_cipher_t *sc = xzalloc(sizeof(*sc));
	sc->ctx = EVP_CIPHER_CTX_new();
	if(!sc->ctx || !EVP_CipherInit_ex(sc->ctx, c, NULL, key, iv, encrypt ? 1 : 0)) {
		crypto_error(err, errlen, "Cannot set up cipher %s", OBJ_nid2sn(nid));
		EVP_CIPHER_free(c);
		stream_cipher_free(sc);
		return NULL;
	}
	EVP_CIPHER_free(c); /* the context holds its own reference */
	sc->budget = cipher_byte_limit(blocklen, ivlen);
	return sc;
}

bool stream_cipher_update(stream_cipher_t *sc, const uint8_t *in, size_t len, uint8_t *out) {
	if(len > sc->budget)
		return false;
	sc->budget -= len;
	while(len > 0) {
		int chunk = len > (size_t)1 << 30 ? 1 << 30 : (int)len;
		int outl = 0;
		if(!EVP_CipherUpdate(sc->ctx, out, &outl, in, chunk) || outl != chunk) {
			ERR_clear_error();
			return false;
		}
		in += chunk;
		out += chunk;
		len -= (size_t)chunk;
	}
	return true;
}

void stream_cipher_free(stream_cipher_t *sc) {
	if(!sc)
		return;
	EVP_CIPHER_CTX_free(sc->ctx);
	free(sc);
}

int meta_cipher_nid_for_keylen(size_t keylen) {
	if(keylen <= 16)
		return NID_aes_128_cfb128;
	if(keylen <= 24)
		return NID_aes_192_cfb128;
	return NID_aes_256_cfb128;
}
