#include "util/compat.h"

#include "packet/ecn.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"

uint8_t ecn_encap(uint8_t inner_ecn, bool normal_mode) {
	return normal_mode ? (inner_ecn & ECN_MASK) : ECN_NOT_ECT;
}

/* Severity order of RFC 6040 §4.2 for ECN-capable inner packets. */
static int ecn_severity(uint8_t ecn) {
	switch(ecn) {
	case ECN_ECT0:
		return 1;
	case ECN_ECT1:
		return 2;
	case ECN_CE:
		return 3;
	default:
		return 0;
	}
}

ecn_decap_result_t ecn_decap(uint8_t inner_ecn, uint8_t outer_ecn) {
	uint8_t inner = inner_ecn & ECN_MASK, outer = outer_ecn & ECN_MASK;
	ecn_decap_result_t r = {.ecn = inner, .action = ECN_FORWARD, .legit_unusual = false};

	if(inner == ECN_NOT_ECT) {
		/* The inner transport does not understand ECN: never hand it
		 * a codepoint, and a congestion mark can only become a loss. */
		if(outer == ECN_CE)
			r.action = ECN_DROP;
		else if(outer != ECN_NOT_ECT)
			r.action = ECN_FORWARD_LOG;
		return r;
	}

	if(ecn_severity(outer) > ecn_severity(inner))
		r.ecn = outer;

	/* Neither the ingress nor the path should produce these two. */
	if(inner == ECN_CE && outer == ECN_ECT1)
		r.action = ECN_FORWARD_LOG;
	else if(inner == ECN_ECT1 && outer == ECN_ECT0)
		r.legit_unusual = true;

	return r;
}

uint8_t outer_tos(uint8_t inner_tos, bool priority_inheritance, bool normal_mode) {
	uint8_t dscp_bits = priority_inheritance ? (uint8_t)(inner_tos & ~ECN_MASK) : 0;
	return (uint8_t)(dscp_bits | ecn_encap(inner_tos & ECN_MASK, normal_mode));
}

/* Where the IP header starts, and which version it is, or 0 if the frame
 * holds no complete IPv4/IPv6 fixed header. */
static size_t ip_offset(const uint8_t *frame, size_t len, int *version) {
	if(!frame || len < ETH_HLEN)
		return 0;

	size_t off = ETH_HLEN;
	uint16_t type = be16_get(frame + 12);
	if(type == ETHERTYPE_VLAN) {
		if(len < ETH_HLEN + 4)
			return 0;
		type = be16_get(frame + 16);
		off += 4;
	}

	if(type == ETHERTYPE_IP) {
		if(len < off + 20 || frame[off] >> 4 != 4 || (frame[off] & 0x0f) < 5)
			return 0;
		*version = 4;
	} else if(type == ETHERTYPE_IPV6) {
		if(len < off + 40 || frame[off] >> 4 != 6)
			return 0;
		*version = 6;
	} else {
		return 0;
	}
	return off;
}

bool ecn_frame_tos(const uint8_t *frame, size_t len, uint8_t *tos) {
	int version;
	size_t off = ip_offset(frame, len, &version);
	if(!off)
		return false;

	const uint8_t *ip = frame + off;
	if(version == 4)
		*tos = ip[1];
	else
		*tos = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
	return true;
}

bool ecn_frame_read(const uint8_t *frame, size_t len, uint8_t *dscp, uint8_t *ecn) {
	uint8_t tos;
	if(!ecn_frame_tos(frame, len, &tos))
		return false;
	*dscp = tos >> 2;
	*ecn = tos & ECN_MASK;
	return true;
}

bool ecn_frame_set(uint8_t *frame, size_t len, uint8_t ecn) {
	int version;
	size_t off = ip_offset(frame, len, &version);
	if(!off)
		return false;

	uint8_t *ip = frame + off;
	ecn &= ECN_MASK;

	if(version == 4) {
		uint16_t old_word = be16_get(ip);
		ip[1] = (uint8_t)((ip[1] & ~ECN_MASK) | ecn);
		csum_replace2_field(ip + 10, old_word, be16_get(ip));
	} else {
		/* The traffic class straddles bytes 0 and 1; its ECN bits are
		 * bits 5-4 of byte 1. IPv6 has no header checksum. */
		ip[1] = (uint8_t)((ip[1] & ~(ECN_MASK << 4)) | ecn << 4);
	}
	return true;
}

ecn_decap_result_t ecn_decap_frame(uint8_t *frame, size_t len, uint8_t outer_tos_byte) {
	uint8_t tos;
	if(!ecn_frame_tos(frame, len, &tos))
		return (ecn_decap_result_t){.ecn = ECN_NOT_ECT, .action = ECN_FORWARD, .legit_unusual = false};

	ecn_decap_result_t r = ecn_decap(tos & ECN_MASK, outer_tos_byte & ECN_MASK);
	if(r.action != ECN_DROP && r.ecn != (tos & ECN_MASK))
		ecn_frame_set(frame, len, r.ecn);
	return r;
}

bool ecn_mark_ce(uint8_t *frame, size_t len) {
	uint8_t tos;
	if(!ecn_frame_tos(frame, len, &tos) || (tos & ECN_MASK) == ECN_NOT_ECT)
		return false;
	if((tos & ECN_MASK) != ECN_CE)
		ecn_frame_set(frame, len, ECN_CE);
	return true;
}
