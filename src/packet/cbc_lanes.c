/* Row-wise CBC encryption of several buffers (see cbc_lanes.h). */
#include "util/compat.h"

#include <string.h>

#include "packet/cbc_lanes.h"

/* dst = a ^ b over one block, in 8-byte words: every CBC block cipher has
 * blocks of 8 or 16 bytes, and a byte loop here costs more than the AES. */
static inline void xor_block(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t blocklen) {
	for(size_t i = 0; i < blocklen; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		x ^= y;
		memcpy(dst + i, &x, 8);
	}
}

bool cbc_lanes_encrypt(EVP_CIPHER_CTX *ecb, size_t blocklen, const uint8_t *iv,
                       uint8_t *const bufs[], const size_t blocks[], int n) {
	if(n < 1 || n > CBC_LANES || !blocklen || blocklen > EVP_MAX_BLOCK_LENGTH || blocklen % 8)
		return false;
	uint8_t row[CBC_LANES * EVP_MAX_BLOCK_LENGTH];
	size_t rows = 0;
	for(int k = 0; k < n; k++)
		rows = MAX(rows, blocks[k]);

	for(size_t r = 0; r < rows; r++) {
		int lane[CBC_LANES], m = 0;
		for(int k = 0; k < n; k++) {
			if(blocks[k] <= r)
				continue;
			const uint8_t *plain = bufs[k] + r * blocklen;
			const uint8_t *chain = r ? plain - blocklen : iv;
			xor_block(row + (size_t)m * blocklen, plain, chain, blocklen);
			lane[m++] = k;
		}
		int outl = 0;
		if(!EVP_EncryptUpdate(ecb, row, &outl, row, m * (int)blocklen) ||
		   outl != m * (int)blocklen)
			return false;
		for(int j = 0; j < m; j++)
			memcpy(bufs[lane[j]] + r * blocklen, row + (size_t)j * blocklen, blocklen);
	}
	return true;
}
