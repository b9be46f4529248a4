#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include <lzo/lzo1x.h>
#include <zlib.h>

#include "packet/compress.h"
#include "util/log.h"
#include "util/xalloc.h"

/* zlib streams are kept per level and reset between packets: compress2()
 * and uncompress() would set up (and allocate) a fresh stream every time,
 * while a reset stream produces exactly the same bytes. */
static z_stream deflaters[10];
static bool deflater_ready[10];
static z_stream inflater;
static bool inflater_ready;

/* LZO work memory, big enough for both LZO1X-1 and LZO1X-999. */
static void *lzo_work;
/* Where LZO compresses when the caller's buffer is smaller than LZO's
 * worst case, since the LZO compressors do not check output space. */
static uint8_t *lzo_scratch;
static size_t lzo_scratch_size;

bool compress_init(void) {
	if(lzo_init() != LZO_E_OK) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot initialise the LZO library");
		return false;
	}
	if(!lzo_work)
		lzo_work = xmalloc(MAX(LZO1X_1_MEM_COMPRESS, LZO1X_999_MEM_COMPRESS));
	return true;
}

bool compression_level_valid(int level) {
	return level >= 0 && level <= COMPRESS_MAX_LEVEL;
}

static size_t zlib_compress(int level, const uint8_t *in, size_t len, uint8_t *out,
                            size_t outsize) {
	z_stream *zs = &deflaters[level];
	if(!deflater_ready[level]) {
		memset(zs, 0, sizeof(*zs));
		if(deflateInit(zs, level) != Z_OK)
			return 0;
		deflater_ready[level] = true;
	} else if(deflateReset(zs) != Z_OK) {
		return 0;
	}
	if(len > UINT32_MAX || outsize > UINT32_MAX)
		return 0;
	zs->next_in = (Bytef *)in;
	zs->avail_in = (uInt)len;
	zs->next_out = out;
	zs->avail_out = (uInt)outsize;
	/* Anything short of a finished stream means it did not fit. */
	if(deflate(zs, Z_FINISH) != Z_STREAM_END)
		return 0;
	return (size_t)zs->total_out;
}

static size_t zlib_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t outsize) {
	if(!inflater_ready) {
		memset(&inflater, 0, sizeof(inflater));
		if(inflateInit(&inflater) != Z_OK)
			return 0;
		inflater_ready = true;
	} else if(inflateReset(&inflater) != Z_OK) {
		return 0;
	}
	if(len > UINT32_MAX || outsize > UINT32_MAX)
		return 0;
	inflater.next_in = (Bytef *)in;
	inflater.avail_in = (uInt)len;
	inflater.next_out = out;
	inflater.avail_out = (uInt)outsize;
	if(inflate(&inflater, Z_FINISH) != Z_STREAM_END)
		return 0;
	return (size_t)inflater.total_out;
}

static size_t lzo_compress(int level, const uint8_t *in, size_t len, uint8_t *out,
                           size_t outsize) {
	if(!lzo_work && !compress_init())
		return 0;
	/* LZO1X's documented worst case for incompressible input. */
	size_t bound = len + len / 16 + 64 + 3;
	uint8_t *dst = out;
	if(outsize < bound) {
		if(lzo_scratch_size < bound) {
			free(lzo_scratch);
			lzo_scratch = xmalloc(bound);
			lzo_scratch_size = bound;
		}
		dst = lzo_scratch;
	}
	lzo_uint outlen = 0;
	int r = level == 10 ? lzo1x_1_compress(in, len, dst, &outlen, lzo_work)
	                    : lzo1x_999_compress(in, len, dst, &outlen, lzo_work);
	if(r != LZO_E_OK || outlen > outsize)
		return 0;
	if(dst != out)
		memcpy(out, dst, outlen);
	return outlen;
}

/* Level 0 both ways: the payload travels as it is. */
static size_t copy_uncompressed(const uint8_t *in, size_t len, uint8_t *out, size_t outsize) {
	if(len > outsize)
		return 0;
	memcpy(out, in, len);
	return len;
}

size_t compress_frame(int level, const uint8_t *in, size_t len, uint8_t *out, size_t outsize) {
	if(level == 0)
		return copy_uncompressed(in, len, out, outsize);
	if(level >= 1 && level <= 9)
		return zlib_compress(level, in, len, out, outsize);
	if(level == 10 || level == 11)
		return lzo_compress(level, in, len, out, outsize);
	return 0;
}

size_t decompress_frame(int level, const uint8_t *in, size_t len, uint8_t *out, size_t outsize) {
	if(level == 0)
		return copy_uncompressed(in, len, out, outsize);
	if(level >= 1 && level <= 9)
		return zlib_decompress(in, len, out, outsize);
	if(level == 10 || level == 11) {
		lzo_uint outlen = outsize;
		if(lzo1x_decompress_safe(in, len, out, &outlen, NULL) != LZO_E_OK)
			return 0;
		return outlen;
	}
	return 0;
}
