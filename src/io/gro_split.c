/* GRO read splitting (see gro_split.h). */
#include "util/compat.h"

#include <string.h>

#include "io/gro_split.h"

bool gro_split(size_t total, int gso_size, size_t max_datagram, gro_split_t *out) {
	if(gso_size < 0 || (size_t)gso_size > max_datagram)
		return false;
	if(!gso_size || total <= (size_t)gso_size) {
		if(total > max_datagram)
			return false;
		*out = (gro_split_t){.count = 1, .segment = (uint32_t)total, .last = (uint32_t)total};
		return true;
	}
	size_t count = (total + (size_t)gso_size - 1) / (size_t)gso_size;
	if(count > UINT32_MAX)
		return false;
	out->count = (uint32_t)count;
	out->segment = (uint32_t)gso_size;
	out->last = (uint32_t)(total - (count - 1) * (size_t)gso_size);
	return true;
}

void gro_split_copy(uint8_t *dst, const uint8_t *head, size_t head_len, const uint8_t *tail,
                    size_t off, size_t len) {
	if(off < head_len) {
		size_t n = head_len - off < len ? head_len - off : len;
		memcpy(dst, head + off, n);
		dst += n;
		len -= n;
		off = head_len;
	}
	if(len)
		memcpy(dst, tail + (off - head_len), len);
}
