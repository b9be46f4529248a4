#include "util/compat.h"

#include <string.h>

#include "packet/gso_segment.h"
#include "packet/ipcsum.h"

#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

void vnet_hdr_parse(vnet_hdr_t *h, const uint8_t raw[VNET_HDR_LEN]) {
	h->flags = raw[0];
	h->gso_type = raw[1];
	memcpy(&h->hdr_len, raw + 2, 2);
	memcpy(&h->gso_size, raw + 4, 2);
	memcpy(&h->csum_start, raw + 6, 2);
	memcpy(&h->csum_offset, raw + 8, 2);
}

void vnet_hdr_build(uint8_t raw[VNET_HDR_LEN], const vnet_hdr_t *h) {
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	memcpy(raw + 2, &h->hdr_len, 2);
	memcpy(raw + 4, &h->gso_size, 2);
	memcpy(raw + 6, &h->csum_start, 2);
	memcpy(raw + 8, &h->csum_offset, 2);
}

const char *gso_status_text(gso_status_t s) {
	switch(s) {
	case GSO_OK: return "ok";
	case GSO_BAD_TYPE: return "unsupported segmentation type";
	case GSO_BAD_CSUM: return "checksum offsets outside the frame";
	case GSO_BAD_L3: return "no usable IP header";
	case GSO_BAD_L4: return "no usable TCP or UDP header";
	case GSO_BAD_SIZE: return "segment size zero";
	case GSO_TOO_BIG: return "segment larger than a frame";
	case GSO_STATUS_COUNT: break;
	}
	return "unknown";
}

bool vnet_complete_checksum(const vnet_hdr_t *h, uint8_t *frame, size_t len) {
	size_t start = h->csum_start;
	size_t field = start + h->csum_offset;
	if(start > len || field + 2 > len)
		return false;
	uint16_t sum = csum_finish(csum_partial(frame + start, len - start, 0));
	/* 0 would mean "no checksum" to UDP over IPv4; all ones is the same
	 * value in one's complement for every other user. */
	be16_put(frame + field, sum ? sum : 0xffff);
	return true;
}

/* The L4 header offset and protocol of an IPv4 or IPv6 packet at l3. */
static gso_status_t find_l4(gso_cursor_t *c, const vnet_hdr_t *h, uint8_t want_proto) {
	const uint8_t *ip = c->frame + c->l3;
	size_t room = c->len - c->l3;
	if(c->v6) {
		if(room < 40 || ip[0] >> 4 != 6)
			return GSO_BAD_L3;
		if(ip[6] == want_proto) {
			c->l4 = c->l3 + 40;
		} else if((h->flags & VNET_F_NEEDS_CSUM) && h->csum_start > c->l3 + 40) {
			/* Extension headers: the kernel tells where the transport header is. */
			c->l4 = h->csum_start;
		} else {
			return GSO_BAD_L4;
		}
	} else {
		if(room < 20 || ip[0] >> 4 != 4)
			return GSO_BAD_L3;
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		if(ihl < 20 || ihl > room)
			return GSO_BAD_L3;
		if((be16_get(ip + 6) & 0x3fff) != 0) /* MF or a fragment offset */
			return GSO_BAD_L3;
		if(ip[9] != want_proto)
			return GSO_BAD_L4;
		c->l4 = c->l3 + ihl;
	}
	if((h->flags & VNET_F_NEEDS_CSUM) && h->csum_start != c->l4)
		return GSO_BAD_CSUM;
	if(c->l4 > c->len)
		return GSO_BAD_L4;
	return GSO_OK;
}

gso_status_t gso_begin(gso_cursor_t *c, const vnet_hdr_t *h, uint8_t *frame, size_t len, size_t l3, size_t max_segment) {
	memset(c, 0, sizeof(*c));
	c->frame = frame;
	c->len = len;
	c->l3 = l3;

	uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	if(type == VNET_GSO_NONE) {
		if(len == 0) /* would read as "no more segments" */
			return GSO_BAD_L3;
		if(len > max_segment)
			return GSO_TOO_BIG;
		if((h->flags & VNET_F_NEEDS_CSUM) && !vnet_complete_checksum(h, frame, len))
			return GSO_BAD_CSUM;
		c->count = 1;
		return GSO_OK;
	}

	uint8_t proto;
	switch(type) {
	case VNET_GSO_TCPV4:
		c->v6 = false;
		proto = IPPROTO_TCP_NUM;
		break;
	case VNET_GSO_TCPV6:
		c->v6 = true;
		proto = IPPROTO_TCP_NUM;
		break;
	case VNET_GSO_UDP_L4:
		if(l3 >= len)
			return GSO_BAD_L3;
		c->v6 = frame[l3] >> 4 == 6;
		proto = IPPROTO_UDP_NUM;
		break;
	default:
		return GSO_BAD_TYPE;
	}
	if(l3 >= len)
		return GSO_BAD_L3;
	c->tcp = proto == IPPROTO_TCP_NUM;

	gso_status_t s = find_l4(c, h, proto);
	if(s != GSO_OK)
		return s;

	if(c->tcp) {
		if(c->len - c->l4 < 20)
			return GSO_BAD_L4;
		size_t doff = (size_t)(frame[c->l4 + 12] >> 4) * 4;
		if(doff < 20 || doff > c->len - c->l4)
			return GSO_BAD_L4;
		c->hdr = c->l4 + doff;
		c->tcp_seq = be32_get(frame + c->l4 + 4);
	} else {
		if(c->len - c->l4 < 8)
			return GSO_BAD_L4;
		c->hdr = c->l4 + 8;
	}

	if(h->gso_size == 0)
		return GSO_BAD_SIZE;
	size_t payload = c->len - c->hdr;
	c->mss = h->gso_size;
	if(c->hdr + MIN(c->mss, payload) > max_segment)
		return GSO_TOO_BIG;
	c->count = payload ? (uint32_t)((payload + c->mss - 1) / c->mss) : 1;
	if(!c->v6)
		c->ipv4_id = be16_get(frame + l3 + 4);
	c->next = c->hdr;
	c->segment = true;
	return GSO_OK;
}

/* Lengths, IDs, sequence numbers, flags and checksums of segment c->index
 * that has been copied to out (seglen bytes). */
static void fix_segment(const gso_cursor_t *c, uint8_t *out, size_t seglen, bool first, bool last) {
	uint8_t *ip = out + c->l3;
	uint8_t *l4 = out + c->l4;
	size_t l4len = seglen - c->l4;
	uint32_t pseudo;
	uint8_t proto = c->tcp ? IPPROTO_TCP_NUM : IPPROTO_UDP_NUM;

	if(c->v6) {
		be16_put(ip + 4, (uint16_t)(seglen - c->l3 - 40));
		pseudo = pseudo_sum6(ip + 8, ip + 24, proto, (uint32_t)l4len);
	} else {
		be16_put(ip + 2, (uint16_t)(seglen - c->l3));
		be16_put(ip + 4, (uint16_t)(c->ipv4_id + c->index)); /* one ID per segment, as the kernel does */
		ipv4_set_header_checksum(ip);
		pseudo = pseudo_sum4(ip + 12, ip + 16, proto, (uint16_t)l4len);
	}

	uint8_t *check;
	if(c->tcp) {
		be32_put(l4 + 4, c->tcp_seq + (uint32_t)(c->next - c->hdr));
		if(!last)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if(!first)
			l4[13] &= (uint8_t)~TCP_CWR;
		check = l4 + 16;
	} else {
		be16_put(l4 + 4, (uint16_t)l4len);
		check = l4 + 6;
	}
	check[0] = check[1] = 0;
	uint16_t sum = csum_finish(csum_partial(l4, l4len, pseudo));
	be16_put(check, sum || c->tcp ? sum : 0xffff);
}

size_t gso_next(gso_cursor_t *c, uint8_t *out) {
	if(c->index >= c->count)
		return 0;
	if(!c->segment) {
		memcpy(out, c->frame, c->len);
		c->index++;
		return c->len;
	}
	size_t chunk = MIN(c->mss, c->len - c->next);
	memcpy(out, c->frame, c->hdr);
	memcpy(out + c->hdr, c->frame + c->next, chunk);
	size_t seglen = c->hdr + chunk;
	bool first = c->index == 0;
	bool last = c->index + 1 == c->count;
	fix_segment(c, out, seglen, first, last);
	c->next += chunk;
	c->index++;
	return seglen;
}
