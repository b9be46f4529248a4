#include "util/compat.h"

#include <string.h>

#include "packet/ipcsum.h"
#include "packet/neighbor.h"
#include "packet/packet.h"

/* ---- ARP (RFC 826), offsets inside the ARP packet ---- */
#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_SHA 8
#define ARP_SPA 14
#define ARP_THA 18
#define ARP_TPA 24

/* ---- IPv6 neighbour discovery (RFC 4861) ---- */
#define IP6_HLEN 40
#define NDP_NS 135
#define NDP_NA 136
#define NDP_MSG_LEN 24         /* type, code, checksum, 4 reserved/flag bytes, target */
#define NDP_OPT_SOURCE_LLADDR 1
#define NDP_OPT_TARGET_LLADDR 2
#define NDP_NA_SOLICITED 0x40
#define NDP_NA_OVERRIDE 0x20

/* The MAC we pretend the whole VPN sits behind: the requester's own address
 * with one octet changed, so it is unique on that link without configuration. */
static void fake_mac(uint8_t out[6], const uint8_t requester[6]) {
	memcpy(out, requester, 6);
	out[5] ^= 0xff;
}

static bool is_arp_request(const uint8_t *frame, size_t len) {
	if(!frame || len < ETH_HLEN + ARP_LEN || be16_get(frame + 12) != ETHERTYPE_ARP)
		return false;
	const uint8_t *arp = frame + ETH_HLEN;
	return be16_get(arp) == 1 && be16_get(arp + 2) == ETHERTYPE_IP && arp[4] == 6 && arp[5] == 4
	       && be16_get(arp + 6) == ARP_OP_REQUEST;
}

bool arp_request_target(const uint8_t *frame, size_t len, uint8_t target_ip[4]) {
	if(!is_arp_request(frame, len))
		return false;
	memcpy(target_ip, frame + ETH_HLEN + ARP_TPA, 4);
	return true;
}

size_t arp_build_reply(uint8_t *out, size_t outsize, const uint8_t *request, size_t len) {
	if(!out || outsize < ARP_REPLY_LEN || !is_arp_request(request, len))
		return 0;

	const uint8_t *arp = request + ETH_HLEN;
	uint8_t requester_mac[6], sender_mac[6], sender_ip[4], target_ip[4], fake[6];
	memcpy(requester_mac, request + 6, 6);
	memcpy(sender_mac, arp + ARP_SHA, 6);
	memcpy(sender_ip, arp + ARP_SPA, 4);
	memcpy(target_ip, arp + ARP_TPA, 4);
	fake_mac(fake, requester_mac);

	memcpy(out, requester_mac, 6);
	memcpy(out + 6, fake, 6);
	be16_put(out + 12, ETHERTYPE_ARP);

	uint8_t *rep = out + ETH_HLEN;
	be16_put(rep, 1);
	be16_put(rep + 2, ETHERTYPE_IP);
	rep[4] = 6;
	rep[5] = 4;
	be16_put(rep + 6, ARP_OP_REPLY);
	memcpy(rep + ARP_SHA, fake, 6);
	memcpy(rep + ARP_SPA, target_ip, 4);
	memcpy(rep + ARP_THA, sender_mac, 6);
	memcpy(rep + ARP_TPA, sender_ip, 4);

	return ARP_REPLY_LEN;
}

static bool ipv6_is_unspecified(const uint8_t a[16]) {
	for(int i = 0; i < 16; i++)
		if(a[i])
			return false;
	return true;
}

static bool is_neighbor_solicitation(const uint8_t *frame, size_t len) {
	if(!frame || len < ETH_HLEN + IP6_HLEN + NDP_MSG_LEN || be16_get(frame + 12) != ETHERTYPE_IPV6)
		return false;

	const uint8_t *ip = frame + ETH_HLEN;
	size_t plen = be16_get(ip + 4);
	/* Hop limit 255 proves the sender is on our link (RFC 4861 §7.1.1). */
	if(ip[0] >> 4 != 6 || ip[6] != 58 || ip[7] != 255)
		return false;
	if(plen < NDP_MSG_LEN || plen > len - ETH_HLEN - IP6_HLEN)
		return false;

	const uint8_t *ns = ip + IP6_HLEN;
	if(ns[0] != NDP_NS || ns[1] != 0)
		return false;
	if(inet_checksum(ns, plen, pseudo_sum6(ip + 8, ip + 24, 58, (uint32_t)plen)) != 0)
		return false;
	if(ns[8] == 0xff || ipv6_is_unspecified(ip + 8))
		return false;

	/* Options must tile the rest exactly; a zero length is invalid. */
	size_t off = NDP_MSG_LEN;
	while(off < plen) {
		if(off + 2 > plen)
			return false;
		size_t optlen = (size_t)ns[off + 1] * 8;
		if(!optlen || off + optlen > plen)
			return false;
		if(ns[off] == NDP_OPT_SOURCE_LLADDR && optlen != 8)
			return false; /* an Ethernet address fills exactly 8 bytes */
		off += optlen;
	}

	return true;
}

bool ndp_solicitation_target(const uint8_t *frame, size_t len, uint8_t target[16]) {
	if(!is_neighbor_solicitation(frame, len))
		return false;
	memcpy(target, frame + ETH_HLEN + IP6_HLEN + 8, 16);
	return true;
}

size_t ndp_build_advertisement(uint8_t *out, size_t outsize, const uint8_t *request, size_t len) {
	if(!out || outsize < NDP_ADVERT_LEN || !is_neighbor_solicitation(request, len))
		return 0;

	const uint8_t *ip = request + ETH_HLEN;
	uint8_t requester_mac[6], fake[6], solicitor[16], target[16];
	memcpy(requester_mac, request + 6, 6);
	memcpy(solicitor, ip + 8, 16);
	memcpy(target, ip + IP6_HLEN + 8, 16);
	fake_mac(fake, requester_mac);

	memcpy(out, requester_mac, 6);
	memcpy(out + 6, fake, 6);
	be16_put(out + 12, ETHERTYPE_IPV6);

	uint8_t *oip = out + ETH_HLEN;
	const uint16_t na_len = NDP_MSG_LEN + 8;
	be32_put(oip, 0x60000000);
	be16_put(oip + 4, na_len);
	oip[6] = 58;
	oip[7] = 255;
	memcpy(oip + 8, target, 16);
	memcpy(oip + 24, solicitor, 16);

	uint8_t *na = oip + IP6_HLEN;
	na[0] = NDP_NA;
	na[1] = 0;
	be16_put(na + 2, 0);
	na[4] = NDP_NA_SOLICITED | NDP_NA_OVERRIDE;
	na[5] = na[6] = na[7] = 0;
	memcpy(na + 8, target, 16);
	na[24] = NDP_OPT_TARGET_LLADDR;
	na[25] = 1; /* in units of 8 bytes */
	memcpy(na + 26, fake, 6);
	be16_put(na + 2, inet_checksum(na, na_len, pseudo_sum6(oip + 8, oip + 24, 58, na_len)));

	return NDP_ADVERT_LEN;
}
