/* Packet compression levels of tinc 1.0 (protocol.md §5.6):
 * 0 none, 1..9 zlib at that level, 10 LZO1X-1, 11 LZO1X-999. */
#ifndef FQTINC_COMPRESS_H
#define FQTINC_COMPRESS_H

#include <stdint.h>

#include "util/compat.h"

#define COMPRESS_MAX_LEVEL 11

bool compress_init(void);
bool compression_level_valid(int level);
/* Return the output length, or 0 on failure (the packet is then dropped). */
size_t compress_frame(int level, const uint8_t *in, size_t len, uint8_t *out, size_t outsize);
size_t decompress_frame(int level, const uint8_t *in, size_t len, uint8_t *out, size_t outsize);

#endif
