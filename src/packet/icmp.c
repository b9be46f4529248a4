#include "util/compat.h"

#include <string.h>

#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"

#define IP4_HLEN 20
#define IP6_HLEN 40
#define ICMP_HLEN 8
/* RFC 1812 §4.3.2.3 / RFC 4443 §2.4 (c): the whole error stays within the
 * minimum MTU, so quote what is left of 576 bytes after our own headers. */
#define ICMP4_QUOTE_MAX (576 - IP4_HLEN - ICMP_HLEN)
#define ICMP6_QUOTE_MAX (576 - IP6_HLEN - ICMP_HLEN)

#define IPPROTO_ICMP4 1
#define IPPROTO_ICMP6 58

static void write_ethernet(uint8_t *out, const uint8_t dst[6], const uint8_t src[6], uint16_t type) {
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	be16_put(out + 12, type);
}

/* What differs between an IPv4 and an IPv6 error where their layout is
 * otherwise the same. */
typedef struct icmp_family {
	uint16_t ethertype;
	size_t ip_hlen;   /* the IP header we write, without options */
	size_t quote_max;
	size_t saddr_off; /* in the IP header; the destination follows it */
	size_t addr_len;
} icmp_family_t;

/* The addresses of the reply, read from the offending packet before its
 * bytes may be overwritten. */
typedef struct icmp_reply {
	size_t quote;
	uint8_t saddr[16]; /* ours, or the caller's src */
	uint8_t daddr[16]; /* the offending packet's sender */
} icmp_reply_t;

/* The first half of an error, the same for both families: decide how much
 * of the offending packet (avail bytes after Ethernet, of which total belong
 * to the packet) to quote, move it behind the headers to come, and write the
 * Ethernet header back to the sender. out may be frame itself, so everything
 * is read before anything is written. False when out cannot hold the
 * headers. */
static bool begin_icmp_error(const icmp_family_t *family, uint8_t *out, size_t outsize,
                             const uint8_t *frame, size_t avail, size_t total,
                             const uint8_t *src, icmp_reply_t *reply) {
	size_t head = ETH_HLEN + family->ip_hlen + ICMP_HLEN;
	if(outsize < head)
		return false;

	/* A frame cut short (e.g. truncated for "fragmentation needed") quotes
	 * what is there; Ethernet padding past the total length is not quoted. */
	reply->quote = MIN(avail, total);
	reply->quote = MIN(reply->quote, family->quote_max);
	reply->quote = MIN(reply->quote, outsize - head);

	const uint8_t *ip = frame + ETH_HLEN;
	const uint8_t *orig_saddr = ip + family->saddr_off;
	const uint8_t *orig_daddr = orig_saddr + family->addr_len;
	uint8_t orig_dmac[6], orig_smac[6];
	memcpy(orig_dmac, frame, 6);
	memcpy(orig_smac, frame + 6, 6);
	memcpy(reply->daddr, orig_saddr, family->addr_len);
	memcpy(reply->saddr, src ? src : orig_daddr, family->addr_len);

	memmove(out + head, ip, reply->quote);

	write_ethernet(out, orig_smac, orig_dmac, family->ethertype);
	return true;
}

/* The ICMP header up to the checksum, which the caller fills in last; the
 * four type-specific bytes start out zero. */
static void write_icmp_header(uint8_t *icmp, uint8_t type, uint8_t code) {
	icmp[0] = type;
	icmp[1] = code;
	memset(icmp + 2, 0, 6);
}

/* ---- IPv4 ---- */

static const icmp_family_t icmp4_family = {
	.ethertype = ETHERTYPE_IP,
	.ip_hlen = IP4_HLEN,
	.quote_max = ICMP4_QUOTE_MAX,
	.saddr_off = 12,
	.addr_len = 4,
};

/* Only these carry a quote of another datagram; answering them could start
 * an endless exchange of errors between two hosts. */
static bool icmp4_is_error_type(uint8_t type) {
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static bool ipv4_is_one_host(const uint8_t a[4]) {
	if(a[0] == 0 || a[0] == 127 || a[0] >= 224)
		return false; /* "this network", loopback, multicast, class E, broadcast */
	return true;
}

static bool ipv4_is_group_or_broadcast(const uint8_t a[4]) {
	if(a[0] >= 224 && a[0] <= 239)
		return true;
	return a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
}

size_t icmp4_error(uint8_t *out, size_t outsize, const uint8_t *frame, size_t len,
                   uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *src) {
	if(!out || !frame || len < ETH_HLEN + IP4_HLEN || be16_get(frame + 12) != ETHERTYPE_IP)
		return 0;

	const uint8_t *ip = frame + ETH_HLEN;
	size_t avail = len - ETH_HLEN;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = be16_get(ip + 2);

	if(ip[0] >> 4 != 4 || hlen < IP4_HLEN || hlen > avail || total < hlen)
		return 0;
	if(be16_get(ip + 6) & 0x1fff)
		return 0; /* only the first fragment may be answered */
	if(!ipv4_is_one_host(ip + 12) || ipv4_is_group_or_broadcast(ip + 16))
		return 0;
	if(ip[9] == IPPROTO_ICMP4) {
		/* If the type is cut off we cannot tell, so stay silent. */
		if(avail <= hlen || icmp4_is_error_type(ip[hlen]))
			return 0;
	}

	icmp_reply_t reply;
	if(!begin_icmp_error(&icmp4_family, out, outsize, frame, avail, total, src, &reply))
		return 0;
	size_t quote = reply.quote;

	uint8_t *oip = out + ETH_HLEN;
	oip[0] = 0x45;
	oip[1] = 0;
	be16_put(oip + 2, (uint16_t)(IP4_HLEN + ICMP_HLEN + quote));
	be16_put(oip + 4, 0);
	be16_put(oip + 6, 0);
	oip[8] = 255;
	oip[9] = IPPROTO_ICMP4;
	memcpy(oip + 12, reply.saddr, 4);
	memcpy(oip + 16, reply.daddr, 4);
	ipv4_set_header_checksum(oip);

	uint8_t *icmp = oip + IP4_HLEN;
	write_icmp_header(icmp, type, code);
	if(type == ICMP4_DEST_UNREACH && code == ICMP4_FRAG_NEEDED)
		be16_put(icmp + 6, mtu); /* RFC 1191 next-hop MTU */
	be16_put(icmp + 2, inet_checksum(icmp, ICMP_HLEN + quote, 0));

	return ETH_HLEN + IP4_HLEN + ICMP_HLEN + quote;
}

/* ---- IPv6 ---- */

static const icmp_family_t icmp6_family = {
	.ethertype = ETHERTYPE_IPV6,
	.ip_hlen = IP6_HLEN,
	.quote_max = ICMP6_QUOTE_MAX,
	.saddr_off = 8,
	.addr_len = 16,
};

static bool ipv6_is_unspecified(const uint8_t a[16]) {
	for(int i = 0; i < 16; i++)
		if(a[i])
			return false;
	return true;
}

/* Follows the extension header chain of the packet at ip (avail bytes) to
 * see whether it is an ICMPv6 error message. Where the chain cannot be
 * followed to the end the answer errs on the side of "yes" (no reply), except
 * for non-initial fragments and ESP, which can never reveal it. */
static bool icmp6_is_error_message(const uint8_t *ip, size_t avail) {
	uint8_t next = ip[6];
	size_t off = IP6_HLEN;

	for(int hops = 0; hops < 16; hops++) {
		switch(next) {
		case IPPROTO_ICMP6:
			return off >= avail || ip[off] < 128;
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
			if(off + 2 > avail)
				return true;
			next = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
			break;
		case 44: /* fragment */
			if(off + 8 > avail)
				return true;
			if(be16_get(ip + off + 2) >> 3)
				return false;
			next = ip[off];
			off += 8;
			break;
		case 51: /* authentication header */
			if(off + 2 > avail)
				return true;
			next = ip[off];
			off += ((size_t)ip[off + 1] + 2) * 4;
			break;
		default:
			return false; /* an upper layer that is not ICMPv6, or ESP */
		}
	}
	return true;
}

size_t icmp6_error(uint8_t *out, size_t outsize, const uint8_t *frame, size_t len,
                   uint8_t type, uint8_t code, uint32_t mtu, const uint8_t *src) {
	if(!out || !frame || len < ETH_HLEN + IP6_HLEN || be16_get(frame + 12) != ETHERTYPE_IPV6)
		return 0;

	const uint8_t *ip = frame + ETH_HLEN;
	size_t avail = len - ETH_HLEN;

	if(ip[0] >> 4 != 6)
		return 0;
	if(ipv6_is_unspecified(ip + 8) || ip[8] == 0xff)
		return 0;
	if(ip[24] == 0xff && !(type == ICMP6_PACKET_TOO_BIG || (type == ICMP6_PARAM_PROB && code == 2)))
		return 0;
	if(icmp6_is_error_message(ip, avail))
		return 0;

	size_t total = IP6_HLEN + (size_t)be16_get(ip + 4);
	icmp_reply_t reply;
	if(!begin_icmp_error(&icmp6_family, out, outsize, frame, avail, total, src, &reply))
		return 0;
	size_t quote = reply.quote;

	uint16_t icmp_len = (uint16_t)(ICMP_HLEN + quote);
	uint8_t *oip = out + ETH_HLEN;
	be32_put(oip, 0x60000000); /* version 6, traffic class 0, flow 0 */
	be16_put(oip + 4, icmp_len);
	oip[6] = IPPROTO_ICMP6;
	oip[7] = 255;
	memcpy(oip + 8, reply.saddr, 16);
	memcpy(oip + 24, reply.daddr, 16);

	uint8_t *icmp = oip + IP6_HLEN;
	write_icmp_header(icmp, type, code);
	if(type == ICMP6_PACKET_TOO_BIG || type == ICMP6_PARAM_PROB)
		be32_put(icmp + 4, mtu);
	uint32_t sum = pseudo_sum6(oip + 8, oip + 24, IPPROTO_ICMP6, icmp_len);
	be16_put(icmp + 2, inet_checksum(icmp, icmp_len, sum));

	return ETH_HLEN + IP6_HLEN + ICMP_HLEN + quote;
}
