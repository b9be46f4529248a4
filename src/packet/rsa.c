#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "packet/crypto.h"
#include "util/log.h"
#include "util/xalloc.h"

struct rsa_key {
	EVP_PKEY *pkey;
	size_t size; /* modulus bytes */
};

static rsa_key_t *wrap_pkey(EVP_PKEY *pkey, const char *what, char *err, size_t errlen) {
	if(!EVP_PKEY_is_a(pkey, "RSA")) {
		crypto_error(err, errlen, "%s is not an RSA key", what);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	int size = EVP_PKEY_get_size(pkey);
	if(size <= 0) {
		crypto_error(err, errlen, "%s has no usable modulus", what);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	rsa_key_t *key = xzalloc(sizeof(*key));
	key->pkey = pkey;
	key->size = (size_t)size;
	return key;
}

/* ---- reading PEM blocks out of files that hold other things too ---- */

/* Whole file as a NUL-terminated string (NULL + errno on failure). */
static char *read_file(const char *path, size_t *lenp) {
	FILE *f = fopen(path, "r");
	if(!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	size_t n;
	while((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if(cap - len - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	int failed = ferror(f);
	fclose(f);
	if(failed) {
		xfree_secret(buf, cap);
		errno = EIO;
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Does the line [p, end) read exactly "-----BEGIN <label>-----" (or END),
 * ignoring trailing blanks and a CR? */
static bool is_pem_line(const char *p, const char *end, const char *kind, const char *label) {
	while(end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	char want[96];
	int n = snprintf(want, sizeof(want), "-----%s %s-----", kind, label);
	return n > 0 && (size_t)n == (size_t)(end - p) && !memcmp(p, want, (size_t)n);
}

/* Find the first block labelled exactly `label`. Host files carry
 * "Key = value" lines and disabled "OLD" blocks around it, which a label
 * match skips. Returns [*start, *stop) covering BEGIN through END. */
static bool find_pem_block(const char *text, const char *label, const char **start,
                           const char **stop) {
	const char *begin = NULL;
	for(const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		if(!begin) {
			if(is_pem_line(p, end, "BEGIN", label))
				begin = p;
		} else if(is_pem_line(p, end, "END", label)) {
			*start = begin;
			*stop = eol ? eol + 1 : end;
			return true;
		}
		if(!eol)
			break;
		p = eol + 1;
	}
	return false;
}

/* DER contents of one PEM block; *der is freed with OPENSSL_free. */
static bool pem_block_der(const char *start, const char *stop, unsigned char **der, long *derlen) {
	BIO *bio = BIO_new_mem_buf(start, (int)(stop - start));
	char *name = NULL, *header = NULL;
	bool ok = bio && PEM_read_bio(bio, &name, &header, der, derlen) == 1;
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return ok;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u) {
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

rsa_key_t *rsa_read_private(const char *path, char *err, size_t errlen) {
	struct stat st;
	if(stat(path, &st) == 0 && (st.st_mode & 07777 & ~(mode_t)0700))
		logger(VERBOSITY_ERRORS, LOG_WARNING, "Private key file %s is open to group or others (mode %04o); run chmod 600 on it",
		       path, (unsigned)(st.st_mode & 07777));

	size_t len;
	char *text = read_file(path, &len);
	if(!text) {
		crypto_error(err, errlen, "Cannot read private key file %s: %s", path, strerror(errno));
		return NULL;
	}
	const char *start, *stop;
	EVP_PKEY *pkey = NULL;
	if(find_pem_block(text, "RSA PRIVATE KEY", &start, &stop) ||
	   find_pem_block(text, "PRIVATE KEY", &start, &stop)) {
		BIO *bio = BIO_new_mem_buf(start, (int)(stop - start));
		if(bio)
			pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
		if(!pkey)
			crypto_error(err, errlen, "Private key file %s holds no readable RSA key", path);
	} else if(find_pem_block(text, "ENCRYPTED PRIVATE KEY", &start, &stop)) {
		crypto_error(err, errlen, "Private key file %s is protected by a passphrase, which the daemon cannot ask for",
		          path);
	} else {
		crypto_error(err, errlen, "No RSA private key found in %s", path);
	}
	xfree_secret(text, len + 1);
	if(!pkey)
		return NULL;
	return wrap_pkey(pkey, path, err, errlen);
}

rsa_key_t *rsa_read_public(const char *path, char *err, size_t errlen) {
	size_t len;
	char *text = read_file(path, &len);
	if(!text) {
		crypto_error(err, errlen, "Cannot read public key file %s: %s", path, strerror(errno));
		return NULL;
	}
	const char *start, *stop;
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	long derlen = 0;
	bool found = false;
	/* PKCS#1 first, as tinc writes it; SubjectPublicKeyInfo if that is
	 * absent or unreadable. */
	if(find_pem_block(text, "RSA PUBLIC KEY", &start, &stop)) {
		found = true;
		if(pem_block_der(start, stop, &der, &derlen)) {
			const unsigned char *p = der;
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, derlen);
		}
		OPENSSL_free(der);
		der = NULL;
	}
	if(!pkey && find_pem_block(text, "PUBLIC KEY", &start, &stop)) {
		found = true;
		if(pem_block_der(start, stop, &der, &derlen)) {
			const unsigned char *p = der;
			pkey = d2i_PUBKEY(NULL, &p, derlen);
		}
		OPENSSL_free(der);
	}
	free(text);
	if(!pkey) {
		crypto_error(err, errlen, found ? "The public key in %s is not readable"
		                             : "No public key found in %s", path);
		return NULL;
	}
	return wrap_pkey(pkey, path, err, errlen);
}

/* ---- obsolete hex keys ---- */

static BIGNUM *parse_hex_bn(const char *hex) {
	size_t n = strlen(hex);
	if(n == 0 || n > 4096)
		return NULL;
	for(size_t i = 0; i < n; i++)
		if(!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f') ||
		     (hex[i] >= 'A' && hex[i] <= 'F')))
			return NULL;
	BIGNUM *bn = NULL;
	if(BN_hex2bn(&bn, hex) != (int)n) {
		BN_free(bn);
		return NULL;
	}
	return bn;
}

rsa_key_t *rsa_from_hex(const char *n_hex, const char *d_hex, char *err, size_t errlen) {
	BIGNUM *n = parse_hex_bn(n_hex);
	BIGNUM *d = d_hex ? parse_hex_bn(d_hex) : NULL;
	BIGNUM *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if(!n || (d_hex && !d)) {
		crypto_error(err, errlen, "The RSA %s is not valid hexadecimal", !n ? "modulus" : "private exponent");
		goto out;
	}
	/* 1.0.36 fixes the public exponent of inline keys at 0xFFFF, not 65537. */
	if(!e || !bld || !BN_set_word(e, 0xFFFF) ||
	   !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	   !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	   (d && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d)) ||
	   !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	   !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	   EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		crypto_error(err, errlen, "The hexadecimal values do not form an RSA key");
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	BN_clear_free(d);
	return pkey ? wrap_pkey(pkey, "inline key", err, errlen) : NULL;
}

/* ---- raw RSA ---- */

size_t rsa_size(const rsa_key_t *key) {
	return key->size;
}

static bool raw_op(const rsa_key_t *key, const uint8_t *in, uint8_t *out, bool encrypt) {
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	size_t outlen = key->size;
	bool ok = ctx && (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
	          EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
	          (encrypt ? EVP_PKEY_encrypt(ctx, out, &outlen, in, key->size)
	                   : EVP_PKEY_decrypt(ctx, out, &outlen, in, key->size)) > 0 &&
	          outlen == key->size;
	EVP_PKEY_CTX_free(ctx);
	if(!ok)
		ERR_clear_error();
	return ok;
}

bool rsa_public_encrypt_raw(const rsa_key_t *key, const uint8_t *in, uint8_t *out) {
	return raw_op(key, in, out, true);
}

bool rsa_private_decrypt_raw(const rsa_key_t *key, const uint8_t *in, uint8_t *out) {
	return raw_op(key, in, out, false);
}

void rsa_free(rsa_key_t *key) {
	if(!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* ---- key generation (tincd -K) ---- */

/* Rename earlier key blocks ("BEGIN RSA ..." -> "BEGIN OLD ...") so that the
 * key appended next is the one found when the file is read. The rewrite goes
 * through a temporary file so a crash cannot leave half a file behind. */
static bool retire_old_key_blocks(const char *path, char *err, size_t errlen) {
	size_t len;
	char *text = read_file(path, &len);
	if(!text) {
		if(errno == ENOENT)
			return true;
		crypto_error(err, errlen, "Cannot read %s: %s", path, strerror(errno));
		return false;
	}
	bool changed = false;
	for(char *p = text; *p;) {
		if(!strncmp(p, "-----BEGIN RSA", 14)) {
			memcpy(p + 11, "OLD", 3);
			changed = true;
		} else if(!strncmp(p, "-----END RSA", 12)) {
			memcpy(p + 9, "OLD", 3);
			changed = true;
		}
		char *eol = strchr(p, '\n');
		if(!eol)
			break;
		p = eol + 1;
	}
	if(!changed) {
		xfree_secret(text, len + 1);
		return true;
	}

	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0600;
	char *tmp = xasprintf("%s.tmp", path);
	bool ok = false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if(fd < 0) {
		crypto_error(err, errlen, "Cannot write %s: %s", tmp, strerror(errno));
	} else {
		ssize_t w = write(fd, text, len);
		if(w != (ssize_t)len || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
			crypto_error(err, errlen, "Cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
		} else if(close(fd) != 0 || rename(tmp, path) != 0) {
			crypto_error(err, errlen, "Cannot replace %s: %s", path, strerror(errno));
			unlink(tmp);
		} else {
			ok = true;
		}
	}
	free(tmp);
	xfree_secret(text, len + 1);
	return ok;
}

static bool append_all(const char *path, mode_t create_mode, bool force_mode, const char *data,
                       size_t len, char *err, size_t errlen) {
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, create_mode);
	if(fd < 0) {
		crypto_error(err, errlen, "Cannot open %s: %s", path, strerror(errno));
		return false;
	}
	/* An existing private key file may have been created loosely. */
	if(force_mode && fchmod(fd, create_mode) != 0) {
		crypto_error(err, errlen, "Cannot set permissions of %s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	while(len > 0) {
		ssize_t w = write(fd, data, len);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0) {
			crypto_error(err, errlen, "Cannot write %s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		data += w;
		len -= (size_t)w;
	}
	if(close(fd) != 0) {
		crypto_error(err, errlen, "Cannot write %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/* Append "\n" + the PEM text held in bio to path. */
static bool append_pem(const char *path, mode_t mode, bool force_mode, BIO *bio, char *err,
                       size_t errlen) {
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	if(n <= 0 || !data) {
		crypto_error(err, errlen, "Cannot encode the key for %s", path);
		return false;
	}
	return append_all(path, mode, force_mode, "\n", 1, err, errlen) &&
	       append_all(path, mode, force_mode, data, (size_t)n, err, errlen);
}

bool rsa_generate_keyfiles(int bits, const char *private_path, const char *public_path,
                           char *err, size_t errlen) {
	if(bits < 512) {
		crypto_error(err, errlen, "RSA key size %d is too small (minimum 512 bits)", bits);
		return false;
	}
	bits &= ~7; /* whole bytes */

	EVP_PKEY *pkey = EVP_RSA_gen((unsigned int)bits);
	if(!pkey) {
		crypto_error(err, errlen, "Generating a %d-bit RSA key failed", bits);
		return false;
	}

	bool ok = false;
	BIO *priv = BIO_new(BIO_s_secmem());
	BIO *pub = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	int derlen = i2d_PublicKey(pkey, &der); /* PKCS#1 RSAPublicKey for RSA */

	if(!priv || !pub || derlen <= 0 ||
	   !PEM_write_bio_PrivateKey_traditional(priv, pkey, NULL, NULL, 0, NULL, NULL) ||
	   !PEM_write_bio(pub, "RSA PUBLIC KEY", "", der, derlen)) {
		crypto_error(err, errlen, "Cannot encode the new RSA key");
		goto out;
	}
	if(!retire_old_key_blocks(private_path, err, errlen) || !retire_old_key_blocks(public_path, err, errlen))
		goto out;
	if(!append_pem(private_path, 0600, true, priv, err, errlen) ||
	   !append_pem(public_path, 0644, false, pub, err, errlen))
		goto out;
	ok = true;
out:
	OPENSSL_free(der);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	return ok;
}
