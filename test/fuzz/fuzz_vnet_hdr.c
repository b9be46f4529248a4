/* libFuzzer harness for the tun offload path (packet/gso_segment): the
 * fuzzer's bytes are a virtio-net header, a knob byte and the frame the
 * kernel would hand over with it, as io/device.c passes them on. Every
 * segment must fit the caller's buffer (exact-size heap buffers, so ASan sees
 * any overrun), the count must match what was promised, and every TCP/UDP
 * segment must carry a valid checksum and consistent IP lengths. The
 * segments then go through the write side's joining (packet/gro_coalesce):
 * whatever it joins must cut back into exactly the segments it took.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -I/tmp/fqcfg -Isrc \
 *       test/fuzz/fuzz_vnet_hdr.c src/packet/gso_segment.c src/packet/ipcsum.c -o fuzz_vnet_hdr */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/gro_coalesce.h"
#include "packet/gso_segment.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"

#define FRAME_MAX (65536 + 64)

/* Segments kept for the join check: only while they fit. */
#define KEPT_MAX 64
static uint8_t kept[KEPT_MAX][MTU];
static size_t kept_len[KEPT_MAX];
static gro_batch_t batch;

/* Finishes the batch holding kept[first..first+batch.count) and checks
 * that cutting it again gives those segments back. */
static void check_batch(unsigned first, size_t l3) {
	if(!batch.len)
		return;
	unsigned count = batch.count;
	vnet_hdr_t h;
	size_t len = gro_finish(&batch, &h);
	if(len > GRO_MAX_LEN)
		abort();
	gso_cursor_t c;
	if(gso_begin(&c, &h, batch.buf, len, l3, MTU) != GSO_OK)
		abort();
	static uint8_t seg[MTU];
	for(unsigned i = 0; i < count; i++) {
		size_t n = gso_next(&c, seg);
		if(n != kept_len[first + i] || memcmp(seg, kept[first + i], n))
			abort();
	}
	if(gso_next(&c, seg))
		abort();
	gro_reset(&batch);
}

static void check_segment(const gso_cursor_t *c, const uint8_t *seg, size_t n) {
	if(n < c->hdr || n > c->hdr + c->mss)
		abort();
	const uint8_t *ip = seg + c->l3;
	size_t l4len = n - c->l4;
	uint32_t pseudo;
	uint8_t proto = c->tcp ? 6 : 17;
	if(c->v6) {
		if(be16_get(ip + 4) != n - c->l3 - 40)
			abort();
		pseudo = pseudo_sum6(ip + 8, ip + 24, proto, (uint32_t)l4len);
	} else {
		if(be16_get(ip + 2) != n - c->l3 || ipv4_header_checksum(ip, (size_t)(ip[0] & 15) * 4) != be16_get(ip + 10))
			abort();
		pseudo = pseudo_sum4(ip + 12, ip + 16, proto, (uint16_t)l4len);
	}
	if(inet_checksum(seg + c->l4, l4len, pseudo) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if(size < VNET_HDR_LEN + 1)
		return 0;
	vnet_hdr_t h;
	vnet_hdr_parse(&h, data);
	uint8_t knob = data[VNET_HDR_LEN];
	data += VNET_HDR_LEN + 1;
	size -= VNET_HDR_LEN + 1;
	if(size > FRAME_MAX)
		size = FRAME_MAX;

	/* tun (IP at 0, frames up to MTU - 14), tap (Ethernet, with or without
	 * a VLAN tag), or a small or odd buffer limit. */
	static const size_t l3s[4] = {0, ETH_HLEN, ETH_HLEN + 4, 0};
	size_t l3 = l3s[knob & 3];
	size_t max_segment = (knob & 4) ? (size_t)(knob >> 3) * 50 : MTU - (l3 ? 0 : ETH_HLEN);

	uint8_t *frame = malloc(size ? size : 1);
	memcpy(frame, data, size);
	uint8_t *out = malloc(max_segment ? max_segment : 1);

	gso_cursor_t c;
	gso_status_t s = gso_begin(&c, &h, frame, size, l3, max_segment);
	if(s >= GSO_STATUS_COUNT || !*gso_status_text(s))
		abort();
	if(s == GSO_OK) {
		uint32_t produced = 0;
		size_t n, payload = 0;
		unsigned first = 0;
		gro_reset(&batch);
		while((n = gso_next(&c, out))) {
			if(n > max_segment || ++produced > c.count)
				abort();
			if(c.segment) {
				check_segment(&c, out, n);
				payload += n - c.hdr;
			}
			unsigned k = produced - 1;
			if(k < KEPT_MAX && n <= MTU) {
				memcpy(kept[k], out, n);
				kept_len[k] = n;
				if(!gro_offer(&batch, out, n, l3)) {
					check_batch(first, l3);
					first = k;
					if(!gro_offer(&batch, out, n, l3))
						first = k + 1;
				}
			}
		}
		if(produced <= KEPT_MAX)
			check_batch(first, l3);
		gro_reset(&batch);
		if(produced != c.count || (c.segment && payload != size - c.hdr))
			abort();
	}

	/* The checksum completion alone, as the single-frame read path uses it:
	 * afterwards the range sums to all ones together with the pseudo-header
	 * sum the field held before (at an even offset a plain 16-bit word). */
	memcpy(frame, data, size);
	size_t field = (size_t)h.csum_start + h.csum_offset;
	uint16_t before = field + 2 <= size ? be16_get(frame + field) : 0;
	if(vnet_complete_checksum(&h, frame, size)) {
		if(field + 2 > size || h.csum_start > size)
			abort();
		if(h.csum_offset % 2 == 0 && inet_checksum(frame + h.csum_start, size - h.csum_start, before) != 0)
			abort();
	} else if(h.csum_start <= size && field + 2 <= size) {
		abort();
	}

	uint8_t raw[VNET_HDR_LEN];
	vnet_hdr_t back;
	vnet_hdr_build(raw, &h);
	vnet_hdr_parse(&back, raw);
	if(memcmp(&h, &back, sizeof(h)))
		abort();

	free(out);
	free(frame);
	return 0;
}
