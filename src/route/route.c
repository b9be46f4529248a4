/* The routing decision (see route.h). Router mode looks the destination
 * address up in the subnet table and checks the way there; switch mode
 * looks the destination MAC up and floods what it does not know; hub mode
 * floods everything. Building answers (ICMP errors, ARP and NDP replies) and
 * sending is the data path's job. */
#include "util/compat.h"

#include <string.h>

#include "route/route.h"
#include "mesh/options.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/mss.h"
#include "packet/neighbor.h"
#include "packet/packet.h"

/* Offsets in an Ethernet frame. */
#define IP4_FLAGS (ETH_HLEN + 6)
#define IP4_TTL (ETH_HLEN + 8)
#define IP4_CHECKSUM (ETH_HLEN + 10)
#define IP4_DST (ETH_HLEN + 16)
#define IP6_NEXT_HEADER (ETH_HLEN + 6)
#define IP6_HOP_LIMIT (ETH_HLEN + 7)
#define IP6_DST (ETH_HLEN + 24)
#define IP4_MIN_FRAME (ETH_HLEN + 20)
#define IP6_MIN_FRAME (ETH_HLEN + 40)
#define IP4_DONT_FRAGMENT 0x40
#define ICMP6_NEIGHBOR_SOLICIT 135
#define IPPROTO_ICMP6 58

/* The smallest MTUs IPv4 and IPv6 guarantee, as frame sizes. */
#define IP4_MIN_MTU_FRAME (576 + ETH_HLEN)
#define IP6_MIN_MTU_FRAME (1280 + ETH_HLEN)

static uint16_t ethertype(const uint8_t *frame) {
	return (uint16_t)(frame[12] << 8 | frame[13]);
}

static route_verdict_t drop(route_reason_t reason) {
	return (route_verdict_t){.action = ROUTE_DROP, .reason = reason};
}

static void icmp_error(route_verdict_t *v, route_reason_t reason, bool v6, uint8_t type, uint8_t code,
                       uint32_t mtu, size_t quote_len) {
	v->action = ROUTE_ICMP_ERROR;
	v->reason = reason;
	v->icmp.v6 = v6;
	v->icmp.type = type;
	v->icmp.code = code;
	v->icmp.mtu = mtu;
	v->icmp.quote_len = quote_len;
}

/* The node UDP packets for owner go to first. */
static node_t *via_of(const route_policy_t *pol, node_t *owner) {
	return owner->via == pol->self ? owner->nexthop : owner->via;
}

/* The MSS clamp for a frame to 'owner' through 'via': the path MTU of the
 * sender bounds it also for what we receive, as tinc 1.0 does. */
static void clamp_for(const route_policy_t *pol, route_verdict_t *v, node_t *source, node_t *via) {
	if(!(via->options & OPTION_CLAMP_MSS))
		return;
	v->clamp = true;
	v->clamp_mtu = (uint16_t)(via == pol->self ? source->mtu : MIN(source->mtu, via->mtu));
}

/* ---- router mode ---- */

/* The checks IPv4 and IPv6 share once the destination subnet is known.
 * False: the verdict is final (drop or ICMP error). */
static bool router_checks(const route_policy_t *pol, route_verdict_t *v, node_t *source,
                          const uint8_t *frame, size_t len, const subnet_t *subnet, bool v6) {
	uint8_t unreach = v6 ? ICMP6_DST_UNREACH : ICMP4_DEST_UNREACH;
	if(!subnet) {
		icmp_error(v, ROUTE_NO_SUBNET, v6, unreach, v6 ? ICMP6_DST_UNREACH_ADDR : ICMP4_NET_UNKNOWN, 0, len);
		return false;
	}
	node_t *owner = subnet->owner;
	if(owner == source) {
		*v = drop(ROUTE_LOOPS_BACK);
		return false;
	}
	if(!owner->status.reachable) {
		icmp_error(v, ROUTE_UNREACHABLE, v6, unreach, v6 ? ICMP6_DST_UNREACH_NOROUTE : ICMP4_NET_UNREACH, 0, len);
		return false;
	}
	bool transit = source != pol->self && owner != pol->self;
	if(pol->forwarding == FORWARDING_OFF && transit) {
		icmp_error(v, ROUTE_FORWARDING_OFF, v6, unreach, v6 ? ICMP6_DST_UNREACH_ADMIN : ICMP4_NET_ANO, 0, len);
		return false;
	}
	if(pol->decrement_ttl && transit) {
		if(frame[v6 ? IP6_HOP_LIMIT : IP4_TTL] <= 1) {
			/* the ICMP builders never answer an ICMP error with another one */
			icmp_error(v, ROUTE_TTL_EXCEEDED, v6, v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED, 0, 0, len);
			return false;
		}
		v->decrement_ttl = true;
	}
	node_t *via = via_of(pol, owner);
	if(via == source) {
		*v = drop(ROUTE_ROUTING_LOOP);
		return false;
	}
	if(pol->direct_only && owner != via) {
		icmp_error(v, ROUTE_NOT_DIRECT, v6, unreach, v6 ? ICMP6_DST_UNREACH_ADMIN : ICMP4_NET_ANO, 0, len);
		return false;
	}
	return true;
}

static bool ipv4_broadcast(const uint8_t *dst) {
	bool multicast = (dst[0] & 0xf0) == 0xe0;
	bool limited = dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255;
	return multicast || limited;
}

static route_verdict_t decide_ipv4(const route_policy_t *pol, node_t *source, const uint8_t *frame, size_t len) {
	if(len < IP4_MIN_FRAME)
		return drop(ROUTE_TOO_SHORT);
	if(ipv4_broadcast(frame + IP4_DST) && pol->broadcast != BROADCAST_NO)
		return (route_verdict_t){.action = ROUTE_BROADCAST};
	route_verdict_t v = {.action = ROUTE_DROP};
	subnet_t *subnet = subnet_match_ipv4(frame + IP4_DST);
	if(!router_checks(pol, &v, source, frame, len, subnet, false))
		return v;
	node_t *owner = subnet->owner;
	node_t *via = via_of(pol, owner);
	int limit = MAX(via->mtu, 590);
	if(via != pol->self && len > (size_t)limit) {
		if(frame[IP4_FLAGS] & IP4_DONT_FRAGMENT) {
			icmp_error(&v, ROUTE_TOO_BIG, false, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED,
			           (uint32_t)(limit - ETH_HLEN), (size_t)limit);
			v.to = owner;
			v.mtu = limit;
			return v;
		}
		v.action = ROUTE_FRAGMENT;
		v.to = owner;
		v.mtu = limit;
		clamp_for(pol, &v, source, via);
		return v;
	}
	clamp_for(pol, &v, source, via);
	v.action = ROUTE_TO_NODE;
	v.to = owner;
	return v;
}

/* A host on our tap device asks who has an address: answer for the
 * addresses of other nodes, so their frames reach us. */
static route_verdict_t neighbor_answer(const route_policy_t *pol, node_t *source, const uint8_t *frame,
                                       size_t len, bool v6) {
	if(source != pol->self || !pol->answer_neighbors)
		return drop(ROUTE_NOT_FOR_US);
	uint8_t target[16];
	subnet_t *s;
	if(v6) {
		if(!ndp_solicitation_target(frame, len, target))
			return drop(ROUTE_NOT_FOR_US);
		s = subnet_match_ipv6(target);
	} else {
		if(!arp_request_target(frame, len, target))
			return drop(ROUTE_NOT_FOR_US);
		s = subnet_match_ipv4(target);
	}
	if(!s || s->owner == pol->self)
		return drop(ROUTE_NOT_FOR_US);
	return (route_verdict_t){.action = v6 ? ROUTE_NDP_ADVERT : ROUTE_ARP_REPLY};
}

static route_verdict_t decide_ipv6(const route_policy_t *pol, node_t *source, const uint8_t *frame, size_t len) {
	if(len < IP6_MIN_FRAME)
		return drop(ROUTE_TOO_SHORT);
	if(frame[IP6_NEXT_HEADER] == IPPROTO_ICMP6 && len > IP6_MIN_FRAME && frame[IP6_MIN_FRAME] == ICMP6_NEIGHBOR_SOLICIT)
		return neighbor_answer(pol, source, frame, len, true);
	if(frame[IP6_DST] == 0xff && pol->broadcast != BROADCAST_NO)
		return (route_verdict_t){.action = ROUTE_BROADCAST};
	route_verdict_t v = {.action = ROUTE_DROP};
	subnet_t *subnet = subnet_match_ipv6(frame + IP6_DST);
	if(!router_checks(pol, &v, source, frame, len, subnet, true))
		return v;
	node_t *owner = subnet->owner;
	node_t *via = via_of(pol, owner);
	int limit = MAX(via->mtu, 1294);
	if(via != pol->self && len > (size_t)limit) {
		icmp_error(&v, ROUTE_TOO_BIG, true, ICMP6_PACKET_TOO_BIG, 0, (uint32_t)(limit - ETH_HLEN), (size_t)limit);
		v.to = owner;
		v.mtu = limit;
		return v;
	}
	clamp_for(pol, &v, source, via);
	v.action = ROUTE_TO_NODE;
	v.to = owner;
	return v;
}

static route_verdict_t decide_by_address(const route_policy_t *pol, node_t *source, const uint8_t *frame, size_t len) {
	if(pol->forwarding == FORWARDING_KERNEL && source != pol->self)
		return (route_verdict_t){.action = ROUTE_TO_DEVICE};
	switch(ethertype(frame)) {
	case ETHERTYPE_IP:
		return decide_ipv4(pol, source, frame, len);
	case ETHERTYPE_IPV6:
		return decide_ipv6(pol, source, frame, len);
	case ETHERTYPE_ARP:
		return neighbor_answer(pol, source, frame, len, false);
	default:
		return drop(ROUTE_UNKNOWN_TYPE);
	}
}

/* ---- switch mode ---- */

static void learn(const route_policy_t *pol, route_verdict_t *v, const uint8_t *mac) {
	subnet_t *s = subnet_match_mac(pol->self, mac);
	if(!s) {
		v->learn = ROUTE_LEARN_NEW;
	} else if(s->expires) { /* a MAC from the configuration never expires */
		v->learn = ROUTE_LEARN_REFRESH;
		v->learned = s;
	}
}

static route_verdict_t decide_by_mac(const route_policy_t *pol, node_t *source, const uint8_t *frame, size_t len) {
	route_verdict_t v = {.action = ROUTE_DROP};
	if(source == pol->self)
		learn(pol, &v, frame + 6);
	subnet_t *subnet = subnet_match_mac(NULL, frame);
	if(!subnet || !subnet->owner->status.reachable) {
		v.action = ROUTE_BROADCAST;
		return v;
	}
	node_t *owner = subnet->owner;
	if(owner == source) {
		v.reason = ROUTE_LOOPS_BACK;
		return v;
	}
	if(pol->forwarding == FORWARDING_OFF && source != pol->self && owner != pol->self) {
		v.reason = ROUTE_FORWARDING_OFF;
		return v;
	}
	node_t *via = via_of(pol, owner);
	if(pol->direct_only && owner != via) {
		v.reason = ROUTE_NOT_DIRECT;
		return v;
	}
	uint16_t type = ethertype(frame);
	if(via != pol->self && len > (size_t)via->mtu) {
		if(type == ETHERTYPE_IP && len > IP4_MIN_MTU_FRAME) {
			v.to = owner;
			v.mtu = via->mtu;
			if(frame[IP4_FLAGS] & IP4_DONT_FRAGMENT)
				icmp_error(&v, ROUTE_TOO_BIG, false, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED,
				           (uint32_t)(via->mtu - ETH_HLEN), (size_t)via->mtu);
			else
				v.action = ROUTE_FRAGMENT;
			return v;
		}
		if(type == ETHERTYPE_IPV6 && len > IP6_MIN_MTU_FRAME) {
			v.to = owner;
			v.mtu = via->mtu;
			icmp_error(&v, ROUTE_TOO_BIG, true, ICMP6_PACKET_TOO_BIG, 0, (uint32_t)(via->mtu - ETH_HLEN), (size_t)via->mtu);
			return v;
		}
	}
	clamp_for(pol, &v, source, via);
	v.action = ROUTE_TO_NODE;
	v.to = owner;
	return v;
}

route_verdict_t route_decide(const route_policy_t *pol, node_t *source, const uint8_t *frame, size_t len) {
	if(len < ETH_HLEN)
		return drop(ROUTE_TOO_SHORT);
	switch(pol->mode) {
	case MODE_ROUTER:
		return decide_by_address(pol, source, frame, len);
	case MODE_SWITCH:
		return decide_by_mac(pol, source, frame, len);
	case MODE_HUB:
		break;
	}
	return (route_verdict_t){.action = ROUTE_BROADCAST};
}

void route_rewrite(const route_verdict_t *v, uint8_t *frame, size_t len) {
	if(v->decrement_ttl) {
		if(ethertype(frame) == ETHERTYPE_IP && len >= IP4_MIN_FRAME) {
			/* TTL and protocol share a 16-bit word of the header checksum */
			uint16_t old = (uint16_t)(frame[IP4_TTL] << 8 | frame[IP4_TTL + 1]);
			frame[IP4_TTL]--;
			uint16_t new = (uint16_t)(frame[IP4_TTL] << 8 | frame[IP4_TTL + 1]);
			uint16_t sum = (uint16_t)(frame[IP4_CHECKSUM] << 8 | frame[IP4_CHECKSUM + 1]);
			csum_replace2(&sum, old, new);
			frame[IP4_CHECKSUM] = (uint8_t)(sum >> 8);
			frame[IP4_CHECKSUM + 1] = (uint8_t)sum;
		} else if(ethertype(frame) == ETHERTYPE_IPV6 && len >= IP6_MIN_FRAME) {
			frame[IP6_HOP_LIMIT]--;
		}
	}
	if(v->clamp)
		clamp_mss(frame, len, v->clamp_mtu);
}

subnet_t *route_expired_mac(const node_t *self, uint64_t now) {
	sset_foreach(subnet_t, s, &self->subnets)
		if(s->type == SUBNET_MAC && s->expires && s->expires <= now)
			return s;
	return NULL;
}

const char *route_reason_text(route_reason_t reason) {
	switch(reason) {
	case ROUTE_OK:
		return "routed";
	case ROUTE_TOO_SHORT:
		return "frame too short";
	case ROUTE_UNKNOWN_TYPE:
		return "not IPv4, IPv6 or ARP";
	case ROUTE_NO_SUBNET:
		return "no subnet holds the destination address";
	case ROUTE_UNREACHABLE:
		return "the destination's owner is unreachable";
	case ROUTE_LOOPS_BACK:
		return "the destination belongs to the sender";
	case ROUTE_ROUTING_LOOP:
		return "it would go back to where it came from";
	case ROUTE_FORWARDING_OFF:
		return "forwarding is off";
	case ROUTE_NOT_DIRECT:
		return "DirectOnly and the destination is not a neighbour";
	case ROUTE_TTL_EXCEEDED:
		return "its TTL ran out";
	case ROUTE_TOO_BIG:
		return "larger than the path MTU and not to be fragmented";
	case ROUTE_NOT_FOR_US:
		return "no answer from us wanted";
	}
	return "unknown reason";
}
