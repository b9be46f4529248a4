#include "util/compat.h"

#include <string.h>

#include "packet/gro_coalesce.h"
#include "packet/ipcsum.h"

#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* What gro_offer needs to know about a frame. */
typedef struct tcp_seg {
	bool v6;
	size_t l4, hdr, payload;
	uint8_t flags;
	uint32_t seq;
	uint16_t id;
} tcp_seg_t;

/* A TCP segment with data, ACK (and perhaps PSH) as its only flags, no IP
 * options or extension headers, exact lengths and valid checksums. */
static bool parse_segment(const uint8_t *f, size_t len, size_t l3, tcp_seg_t *s) {
	if(l3 + 40 > len)
		return false;
	const uint8_t *ip = f + l3;
	uint32_t pseudo;
	if(ip[0] == 0x45) {
		if(be16_get(ip + 2) != len - l3 || (be16_get(ip + 6) & 0x3fff) || ip[9] != 6)
			return false;
		if(inet_checksum(ip, 20, 0) != 0)
			return false;
		s->v6 = false;
		s->l4 = l3 + 20;
		s->id = be16_get(ip + 4);
		pseudo = pseudo_sum4(ip + 12, ip + 16, 6, (uint16_t)(len - s->l4));
	} else if(ip[0] >> 4 == 6) {
		if(l3 + 60 > len || be16_get(ip + 4) != len - l3 - 40 || ip[6] != 6)
			return false;
		s->v6 = true;
		s->l4 = l3 + 40;
		s->id = 0;
		pseudo = pseudo_sum6(ip + 8, ip + 24, 6, (uint32_t)(len - s->l4));
	} else {
		return false;
	}
	const uint8_t *tcp = f + s->l4;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if(doff < 20 || s->l4 + doff >= len) /* no payload: nothing to join */
		return false;
	s->flags = tcp[13];
	if((s->flags & ~TCP_PSH) != TCP_ACK || (tcp[12] & 0x0f))
		return false;
	s->hdr = s->l4 + doff;
	s->payload = len - s->hdr;
	s->seq = be32_get(tcp + 4);
	return inet_checksum(tcp, len - s->l4, pseudo) == 0;
}

/* Everything but lengths, IDs, checksums, sequence number and PSH equal. */
static bool same_flow(const gro_batch_t *b, const uint8_t *f, const tcp_seg_t *s) {
	const uint8_t *a = b->buf;
	if(s->v6 != b->v6 || s->l4 != b->l4 || s->hdr != b->hdr)
		return false;
	if(memcmp(a, f, b->l3)) /* Ethernet header on tap */
		return false;
	const uint8_t *ia = a + b->l3, *ib = f + b->l3;
	if(b->v6) {
		if(memcmp(ia, ib, 4) || memcmp(ia + 6, ib + 6, 34))
			return false;
	} else {
		if(memcmp(ia, ib, 2) || memcmp(ia + 6, ib + 6, 4) || memcmp(ia + 12, ib + 12, 8))
			return false;
		if(s->id != b->next_id)
			return false;
	}
	const uint8_t *ta = a + b->l4, *tb = f + b->l4;
	return !memcmp(ta, tb, 4)                                /* ports */
	       && !memcmp(ta + 8, tb + 8, 5)                     /* ack, data offset */
	       && !memcmp(ta + 14, tb + 14, 2)                   /* window */
	       && !memcmp(ta + 18, tb + 18, b->hdr - b->l4 - 18) /* urgent pointer, options */
	       && s->seq == b->next_seq;
}

void gro_reset(gro_batch_t *b) {
	b->len = 0;
	b->count = 0;
	b->closed = false;
}

static void start(gro_batch_t *b, const uint8_t *f, size_t len, size_t l3, const tcp_seg_t *s) {
	memcpy(b->buf, f, len);
	b->len = len;
	b->l3 = l3;
	b->l4 = s->l4;
	b->hdr = s->hdr;
	b->mss = s->payload;
	b->count = 1;
	b->v6 = s->v6;
	b->closed = s->flags & TCP_PSH;
	b->next_seq = s->seq + (uint32_t)s->payload;
	b->next_id = (uint16_t)(s->id + 1);
}

bool gro_offer(gro_batch_t *b, const uint8_t *frame, size_t len, size_t l3) {
	tcp_seg_t s;
	if(len > GRO_MAX_LEN || !parse_segment(frame, len, l3, &s))
		return false;
	if(!b->len) {
		start(b, frame, len, l3, &s);
		return true;
	}
	if(b->closed || b->count >= GRO_MAX_SEGMENTS || l3 != b->l3 || s.payload > b->mss)
		return false;
	/* The joined packet's IP length field must still hold it. */
	if(b->len + s.payload - b->l3 - (b->v6 ? 40 : 0) > 65535 || b->len + s.payload > GRO_MAX_LEN)
		return false;
	if(!same_flow(b, frame, &s))
		return false;
	memcpy(b->buf + b->len, frame + s.hdr, s.payload);
	b->len += s.payload;
	b->count++;
	b->next_seq += (uint32_t)s.payload;
	b->next_id++;
	if(s.flags & TCP_PSH) {
		b->buf[b->l4 + 13] |= TCP_PSH; /* the kernel puts it back on the last segment only */
		b->closed = true;
	}
	if(s.payload < b->mss)
		b->closed = true;
	return true;
}

bool gro_joinable(const uint8_t *frame, size_t len, size_t l3) {
	tcp_seg_t s;
	return len <= GRO_MAX_LEN && parse_segment(frame, len, l3, &s);
}

/* IPv6 next-header values that may stand between the header and TCP. */
static bool ipv6_extension(uint8_t nh) {
	switch(nh) {
	case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140: case 253: case 254:
		return true;
	default:
		return false;
	}
}

gro_conn_t gro_connection_of(const gro_batch_t *b, const uint8_t *frame, size_t len, size_t l3) {
	if(!b->len || l3 != b->l3 || l3 + 20 > len)
		return GRO_CONN_OTHER;
	const uint8_t *ip = frame + l3, *held = b->buf + b->l3;
	size_t l4;
	if(ip[0] >> 4 == 4) {
		if(b->v6 || ip[9] != 6)
			return GRO_CONN_OTHER;
		if(be16_get(ip + 6) & 0x1fff)
			return GRO_CONN_UNKNOWN; /* a later fragment: no ports */
		l4 = l3 + (size_t)(ip[0] & 0x0f) * 4;
		if(memcmp(ip + 12, held + 12, 8))
			return GRO_CONN_OTHER;
	} else if(ip[0] >> 4 == 6) {
		if(l3 + 40 > len || !b->v6)
			return GRO_CONN_OTHER;
		if(ip[6] != 6)
			return ipv6_extension(ip[6]) ? GRO_CONN_UNKNOWN : GRO_CONN_OTHER;
		l4 = l3 + 40;
		if(memcmp(ip + 8, held + 8, 32))
			return GRO_CONN_OTHER;
	} else {
		return GRO_CONN_OTHER;
	}
	if(l4 + 4 > len)
		return GRO_CONN_UNKNOWN;
	return memcmp(frame + l4, b->buf + b->l4, 4) ? GRO_CONN_OTHER : GRO_CONN_SAME;
}

size_t gro_finish(gro_batch_t *b, vnet_hdr_t *h) {
	memset(h, 0, sizeof(*h));
	if(b->count <= 1)
		return b->len;
	uint8_t *ip = b->buf + b->l3;
	uint8_t *tcp = b->buf + b->l4;
	size_t l4len = b->len - b->l4;
	uint32_t pseudo;
	if(b->v6) {
		be16_put(ip + 4, (uint16_t)(b->len - b->l3 - 40));
		pseudo = pseudo_sum6(ip + 8, ip + 24, 6, (uint32_t)l4len);
		h->gso_type = VNET_GSO_TCPV6;
	} else {
		be16_put(ip + 2, (uint16_t)(b->len - b->l3));
		ipv4_set_header_checksum(ip);
		pseudo = pseudo_sum4(ip + 12, ip + 16, 6, (uint16_t)l4len);
		h->gso_type = VNET_GSO_TCPV4;
	}
	/* A partial checksum: the pseudo-header sum, which the kernel completes
	 * per segment should it cut the packet again. */
	be16_put(tcp + 16, (uint16_t)pseudo);
	h->flags = VNET_F_NEEDS_CSUM;
	h->hdr_len = (uint16_t)b->hdr;
	h->gso_size = (uint16_t)b->mss;
	h->csum_start = (uint16_t)b->l4;
	h->csum_offset = 16;
	return b->len;
}
