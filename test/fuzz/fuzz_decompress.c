/* libFuzzer: the first byte picks a compression level (0..11), the rest is
 * fed to the decompressor as a received packet would be. Whatever
 * decompresses is compressed again at that level and must round-trip. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/compress.h"
#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	if(!ready) {
		if(!compress_init())
			abort();
		ready = true;
	}
	if(size < 1)
		return 0;
	int level = data[0] % (COMPRESS_MAX_LEVEL + 1);
	static uint8_t frame[MTU], again[MTU + COMPRESS_SLACK], back[MTU];
	size_t n = decompress_frame(level, data + 1, size - 1, frame, sizeof(frame));
	if(n > sizeof(frame))
		abort();
	if(n == 0)
		return 0;
	size_t c = compress_frame(level, frame, n, again, sizeof(again));
	if(c == 0)
		abort(); /* MTU + slack must always be enough */
	if(decompress_frame(level, again, c, back, sizeof(back)) != n || memcmp(back, frame, n) != 0)
		abort();
	return 0;
}
