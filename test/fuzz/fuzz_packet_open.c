/* libFuzzer: arbitrary datagrams against a fixed packet key, then whatever
 * decrypts through the zlib and LZO decompressors. The key is the
 * protocol.md §11.3 key, so the corpus can start from real captured datagrams. */
#include "util/compat.h"

#include <stdlib.h>

#include "packet/compress.h"
#include "packet/crypto.h"
#include "util/hex.h"
#include "packet/packet.h"
#include "packet/packet_codec.h"

static packet_key_t keys[3];

static void setup(void) {
	static const char material_hex[] =
		"444971843628E4BE328F919F53021CD7708188997D043F91786BD88701CEAF60"
		"AD88377E776CE1616F5A750FB6BB97B9";
	uint8_t material[48];
	char err[256];
	crypto_init();
	if(!compress_init() || hex2bin(material_hex, material, sizeof(material)) != 48 ||
	   /* the default: aes-256-cbc, sha256, 4-byte MAC */
	   !packet_key_set(&keys[0], material, 48, 427, 672, 4, 0, err, sizeof(err)) ||
	   /* no MAC, so random input reaches the decryption and padding checks */
	   !packet_key_set(&keys[1], material, 48, 427, 0, 0, 0, err, sizeof(err)) ||
	   /* no cipher, no MAC: everything reaches the decompressors */
	   !packet_key_set(&keys[2], material, 1, 0, 0, 0, 0, err, sizeof(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	if(!ready) {
		setup();
		ready = true;
	}
	static uint8_t plain[PACKET_BUF_MAX], frame[PACKET_BUF_MAX];
	for(size_t k = 0; k < 3; k++) {
		uint32_t seqno;
		size_t len = 0;
		packet_open_result_t r = packet_open(&keys[k], data, size, &seqno, plain, sizeof(plain), &len);
		(void)packet_mac_ok(&keys[k], data, size);
		if(r != PACKET_OK)
			continue;
		if(len > sizeof(plain))
			abort();
		size_t n = decompress_frame(9, plain, len, frame, MTU);
		if(n > MTU)
			abort();
		n = decompress_frame(10, plain, len, frame, MTU);
		if(n > MTU)
			abort();
	}
	return 0;
}
