/* libFuzzer harness for joining several flows at once toward the device
 * (packet/gro_table over packet/gro_coalesce): the fuzzer's bytes are a
 * sequence of frames, offered one by one as decapsulation hands them over.
 * Every frame must come out again exactly once (held ones when their batch
 * is emitted and cut back as the kernel would, refused ones at once), and
 * two frames of one TCP connection must come out in the order they went in.
 *
 * Input: one byte of l3 offset choice (0: tun, 14: tap), then records of
 * [length high, length low, flags] + frame; flags bit 0 asks the harness to
 * make the IPv4 header and TCP checksums right, so that frames can join. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/gro_table.h"
#include "packet/gso_segment.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"

#define FRAMES_MAX 64
#define FRAME_LEN_MAX 1600

static uint8_t in[FRAMES_MAX][FRAME_LEN_MAX];
static size_t in_len[FRAMES_MAX];
static uint8_t out[FRAMES_MAX][FRAME_LEN_MAX];
static size_t out_len[FRAMES_MAX];
static size_t n_out;
static gro_table_t table;

static void put_out(const uint8_t *f, size_t len) {
	if(n_out >= FRAMES_MAX || len > FRAME_LEN_MAX)
		abort(); /* more came out than went in, or a frame grew */
	memcpy(out[n_out], f, len);
	out_len[n_out++] = len;
}

static void emit(gro_batch_t *b, void *ctx) {
	(void)ctx;
	vnet_hdr_t h;
	size_t len = gro_finish(b, &h);
	if(h.gso_type == VNET_GSO_NONE) {
		put_out(b->buf, len);
		return;
	}
	gso_cursor_t c;
	static uint8_t seg[FRAME_LEN_MAX];
	if(gso_begin(&c, &h, b->buf, len, b->l3, sizeof(seg)) != GSO_OK)
		abort();
	size_t n;
	while((n = gso_next(&c, seg)))
		put_out(seg, n);
}

/* The harness's own reading of a frame's TCP connection: 1 and the bytes
 * of IP version, addresses and ports; 2 and the IP version and addresses:
 * TCP whose ports cannot be read (may be any connection between those
 * addresses); 0: not TCP. */
static int connection(const uint8_t *f, size_t len, size_t l3, uint8_t key[37]) {
	if(len < l3 + 20)
		return 0;
	const uint8_t *ip = f + l3;
	memset(key, 0, 37);
	if(ip[0] >> 4 == 4) {
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		if(ip[9] != 6)
			return 0;
		key[0] = 4;
		memcpy(key + 1, ip + 12, 8);
		if(((ip[6] & 0x1f) << 8 | ip[7]) || len < l3 + ihl + 4)
			return 2;
		memcpy(key + 33, f + l3 + ihl, 4);
		return 1;
	}
	if(ip[0] >> 4 == 6 && len >= l3 + 40) {
		key[0] = 6;
		memcpy(key + 1, ip + 8, 32);
		if(ip[6] != 6) {
			/* only extension headers may stand before a TCP header */
			static const uint8_t ext[] = {0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254};
			return memchr(ext, ip[6], sizeof(ext)) ? 2 : 0;
		}
		if(len < l3 + 44)
			return 2;
		memcpy(key + 33, ip + 40, 4);
		return 1;
	}
	return 0;
}

static void fix_sums(uint8_t *f, size_t len, size_t l3) {
	uint8_t *ip = f + l3;
	if(len < l3 + 40)
		return;
	size_t l4;
	uint32_t pseudo;
	if(ip[0] == 0x45) {
		be16_put(ip + 2, (uint16_t)(len - l3));
		ipv4_set_header_checksum(ip);
		l4 = l3 + 20;
		pseudo = pseudo_sum4(ip + 12, ip + 16, ip[9], (uint16_t)(len - l4));
	} else if(ip[0] >> 4 == 6 && len >= l3 + 60) {
		be16_put(ip + 4, (uint16_t)(len - l3 - 40));
		l4 = l3 + 40;
		pseudo = pseudo_sum6(ip + 8, ip + 24, ip[6], (uint32_t)(len - l4));
	} else {
		return;
	}
	be16_put(f + l4 + 16, 0);
	be16_put(f + l4 + 16, inet_checksum(f + l4, len - l4, pseudo));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if(size < 1)
		return 0;
	size_t l3 = data[0] & 1 ? ETH_HLEN : 0;
	data++;
	size--;
	size_t n_in = 0;
	while(size >= 3 && n_in < FRAMES_MAX) {
		size_t len = (size_t)(data[0] << 8 | data[1]) % (FRAME_LEN_MAX + 1);
		uint8_t flags = data[2];
		data += 3;
		size -= 3;
		if(len > size)
			len = size;
		memcpy(in[n_in], data, len);
		if(flags & 1)
			fix_sums(in[n_in], len, l3);
		in_len[n_in++] = len;
		data += len;
		size -= len;
	}

	n_out = 0;
	gro_table_init(&table, emit, NULL);
	for(size_t i = 0; i < n_in; i++)
		if(!gro_table_offer(&table, in[i], in_len[i], l3))
			put_out(in[i], in_len[i]);
	gro_table_flush(&table);
	if(gro_table_held(&table) || n_out != n_in)
		abort();

	/* where each frame came out: the first unused identical one */
	static size_t pos[FRAMES_MAX];
	static bool used[FRAMES_MAX];
	memset(used, 0, sizeof(used));
	for(size_t i = 0; i < n_in; i++) {
		size_t k = 0;
		while(k < n_out && (used[k] || out_len[k] != in_len[i] || memcmp(out[k], in[i], in_len[i])))
			k++;
		if(k == n_out)
			abort(); /* a frame was lost or changed */
		used[k] = true;
		pos[i] = k;
	}
	/* one connection's frames in order; a frame whose ports cannot be read
	 * is ordered against every TCP frame between the same addresses */
	uint8_t ki[37], kj[37];
	for(size_t i = 0; i < n_in; i++) {
		int ci = connection(in[i], in_len[i], l3, ki);
		if(!ci)
			continue;
		for(size_t j = i + 1; j < n_in; j++) {
			int cj = connection(in[j], in_len[j], l3, kj);
			size_t compared = ci == 1 && cj == 1 ? sizeof(ki) : 33;
			if(!cj || memcmp(ki, kj, compared))
				continue;
			/* identical frames may trade places unseen */
			if(pos[i] > pos[j] && (in_len[i] != in_len[j] || memcmp(in[i], in[j], in_len[i])))
				abort();
		}
	}
	return 0;
}
