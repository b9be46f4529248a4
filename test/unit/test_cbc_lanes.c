/* cbc_lanes against OpenSSL's own CBC, buffer by buffer. */
#include "util/compat.h"

#include <stdlib.h>

#include <openssl/evp.h>

#include "packet/cbc_lanes.h"
#include "unit.h"

static EVP_CIPHER_CTX *ctx_for(const char *name, const uint8_t *key, const uint8_t *iv) {
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if(!c || !cipher || !EVP_EncryptInit_ex(c, cipher, NULL, key, iv) ||
	   !EVP_CIPHER_CTX_set_padding(c, 0)) {
		fprintf(stderr, "cannot set up %s\n", name);
		exit(2);
	}
	EVP_CIPHER_free(cipher);
	return c;
}

/* One CBC buffer the plain way: what every lane must equal. */
static void cbc_alone(const char *name, const uint8_t *key, const uint8_t *iv, uint8_t *buf,
                      size_t len) {
	EVP_CIPHER_CTX *c = ctx_for(name, key, iv);
	int outl = 0;
	if(len && (!EVP_EncryptUpdate(c, buf, &outl, buf, (int)len) || (size_t)outl != len)) {
		fprintf(stderr, "%s failed\n", name);
		exit(2);
	}
	EVP_CIPHER_CTX_free(c);
}

static void compare(const char *cbc, const char *ecb, size_t b) {
	uint8_t key[32], iv[16];
	for(int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 13 + 1);
	for(int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(200 - i);
	EVP_CIPHER_CTX *e = ctx_for(ecb, key, NULL);

	static uint8_t lanes[CBC_LANES][100 * 16], alone[CBC_LANES][100 * 16];
	int bad = 0;
	srand(7);
	for(int trial = 0; trial < 200; trial++) {
		int n = 1 + trial % CBC_LANES;
		uint8_t *bufs[CBC_LANES];
		size_t blocks[CBC_LANES];
		for(int k = 0; k < n; k++) {
			/* equal, unequal and empty buffers: lanes drop out as they end */
			blocks[k] = trial % 5 == 0 ? 91 : (size_t)(rand() % 100);
			for(size_t i = 0; i < blocks[k] * b; i++)
				lanes[k][i] = alone[k][i] = (uint8_t)rand();
			bufs[k] = lanes[k];
			cbc_alone(cbc, key, iv, alone[k], blocks[k] * b);
		}
		if(!cbc_lanes_encrypt(e, b, iv, bufs, blocks, n)) {
			bad++;
			continue;
		}
		for(int k = 0; k < n; k++)
			if(memcmp(lanes[k], alone[k], blocks[k] * b) && !bad++)
				fprintf(stderr, "%s: lane %d of %d (%zu blocks) differs in trial %d\n", cbc, k, n,
				        blocks[k], trial);
	}
	CHECK_EQ_INT(bad, 0);

	/* Out of range: no lanes, too many, a block larger than OpenSSL's. */
	uint8_t *one[CBC_LANES + 1] = {lanes[0]};
	size_t nb[CBC_LANES + 1] = {1};
	CHECK(!cbc_lanes_encrypt(e, b, iv, one, nb, 0));
	CHECK(!cbc_lanes_encrypt(e, b, iv, one, nb, CBC_LANES + 1));
	CHECK(!cbc_lanes_encrypt(e, EVP_MAX_BLOCK_LENGTH + 1, iv, one, nb, 1));
	EVP_CIPHER_CTX_free(e);
}

int main(void) {
	compare("AES-256-CBC", "AES-256-ECB", 16);
	compare("AES-128-CBC", "AES-128-ECB", 16);
	compare("DES-EDE3-CBC", "DES-EDE3-ECB", 8);
	return unit_done();
}
