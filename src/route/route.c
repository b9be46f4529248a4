/* Routing decisions (spec §6.5–6.8): router mode by IP subnet, switch mode by
 * learned MAC, hub mode by flooding. The packet surgery (ICMP errors, MSS
 * clamping, fragmentation, ARP/NDP answers) lives in its own pure files. */
#include "util/compat.h"

#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "io/device.h"
#include "packet/fragment.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "util/log.h"
#include "packet/mss.h"
#include "packet/neighbor.h"
#include "daemon/net.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

/* ICMP errors are limited to 3 per second, shared by both families (spec §6.5). */
static bool icmp_rate_ok(void) {
	static time_t second;
	static int count;
	time_t now = time(NULL);
	if(now != second) {
		second = now;
		count = 0;
	}
	return ++count <= 3;
}

static void send_icmp(node_t *source, vpn_packet_t *packet, bool v6, uint8_t type, uint8_t code, uint32_t mtu) {
	static vpn_packet_t reply;
	if(!icmp_rate_ok())
		return;
	size_t len = v6 ? icmp6_error(reply.data, sizeof(reply.data), packet->data, packet->len, type, code, mtu, NULL)
	                : icmp4_error(reply.data, sizeof(reply.data), packet->data, packet->len, type, code, (uint16_t)mtu, NULL);
	if(!len)
		return;
	reply.len = (uint16_t)len;
	reply.priority = packet->priority;
	reply.tcp = packet->tcp;
	reply.outer_tos = 0;
	reply.tstamp_ns = now_ns;
	LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Sending ICMP%s type %d code %d to %s", v6 ? "v6" : "", type, code, source->name);
	send_packet(source, &reply);
}

/* ---- router mode ---- */

typedef struct frag_ctx {
	node_t *owner;
	vpn_packet_t *orig;
} frag_ctx_t;

static void emit_fragment(void *ctx, const uint8_t *frag, size_t len) {
	frag_ctx_t *f = ctx;
	static vpn_packet_t p;
	memcpy(p.data, frag, len);
	p.len = (uint16_t)len;
	p.priority = f->orig->priority;
	p.tcp = f->orig->tcp;
	p.outer_tos = f->orig->outer_tos;
	p.tstamp_ns = f->orig->tstamp_ns;
	send_packet(f->owner, &p);
}

static node_t *via_of(node_t *owner) {
	return owner->via == myself ? owner->nexthop : owner->via;
}

/* Steps shared by IPv4 and IPv6 after the subnet lookup; false = handled/dropped. */
static bool router_checks(node_t *source, vpn_packet_t *packet, subnet_t *subnet, bool v6) {
	if(!subnet) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Cannot route packet from %s: unknown IPv%d destination", source->name, v6 ? 6 : 4);
		send_icmp(source, packet, v6, v6 ? ICMP6_DST_UNREACH : ICMP4_DEST_UNREACH, v6 ? ICMP6_DST_UNREACH_ADDR : ICMP4_NET_UNKNOWN, 0);
		return false;
	}
	node_t *owner = subnet->owner;
	if(owner == source) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Packet looping back to %s!", source->name);
		return false;
	}
	if(!owner->status.reachable) {
		send_icmp(source, packet, v6, v6 ? ICMP6_DST_UNREACH : ICMP4_DEST_UNREACH, v6 ? ICMP6_DST_UNREACH_NOROUTE : ICMP4_NET_UNREACH, 0);
		return false;
	}
	if(settings.forwarding_mode == FMODE_OFF && source != myself && owner != myself) {
		send_icmp(source, packet, v6, v6 ? ICMP6_DST_UNREACH : ICMP4_DEST_UNREACH, v6 ? ICMP6_DST_UNREACH_ADMIN : ICMP4_NET_ANO, 0);
		return false;
	}
	if(settings.decrement_ttl && source != myself && owner != myself) {
		uint8_t *ttl = &packet->data[v6 ? 21 : 22];
		if(*ttl <= 1) {
			/* icmp*_error() refuses to answer an ICMP error with another one */
			send_icmp(source, packet, v6, v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED, 0, 0);
			return false;
		}
		if(!v6) {
			uint16_t old = (uint16_t)(packet->data[22] << 8 | packet->data[23]);
			(*ttl)--;
			uint16_t new = (uint16_t)(packet->data[22] << 8 | packet->data[23]);
			uint16_t sum = (uint16_t)(packet->data[24] << 8 | packet->data[25]);
			csum_replace2(&sum, old, new);
			packet->data[24] = (uint8_t)(sum >> 8);
			packet->data[25] = (uint8_t)sum;
		} else {
			(*ttl)--;
		}
	}
	if(settings.priorityinheritance)
		packet->priority = v6 ? (int16_t)(((packet->data[14] & 0x0f) << 4) | (packet->data[15] >> 4)) : packet->data[15];
	node_t *via = via_of(owner);
	if(via == source) {
		LOG(DEBUG_TRAFFIC, LOG_ERR, "Routing loop for packet from %s!", source->name);
		return false;
	}
	if(settings.directonly && owner != via) {
		send_icmp(source, packet, v6, v6 ? ICMP6_DST_UNREACH : ICMP4_DEST_UNREACH, v6 ? ICMP6_DST_UNREACH_ADMIN : ICMP4_NET_ANO, 0);
		return false;
	}
	return true;
}

static void route_ipv4(node_t *source, vpn_packet_t *packet) {
	if(packet->len < 34) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Got too short IPv4 packet from %s", source->name);
		return;
	}
	const uint8_t *dst = &packet->data[30];
	if(((dst[0] & 0xf0) == 0xe0 || (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255)) &&
	   settings.broadcast_mode != BMODE_NONE) {
		broadcast_packet(source, packet);
		return;
	}
	subnet_t *subnet = lookup_subnet_ipv4(dst);
	if(!router_checks(source, packet, subnet, false))
		return;
	node_t *owner = subnet->owner;
	node_t *via = via_of(owner);
	int limit = MAX(via->mtu, 590);
	if(via != myself && packet->len > limit) {
		if(packet->data[20] & 0x40) {
			LOG(DEBUG_TRAFFIC, LOG_INFO, "Packet for %s (%d bytes) too long, sending frag needed (mtu %d)", owner->name, packet->len, limit - ETH_HLEN);
			packet->len = (uint16_t)limit;
			send_icmp(source, packet, false, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED, (uint32_t)(limit - ETH_HLEN));
			return;
		}
		frag_ctx_t ctx = {owner, packet};
		if(via->options & OPTION_CLAMP_MSS)
			clamp_mss(packet->data, packet->len, (uint16_t)MIN(source->mtu, via->mtu));
		if(fragment_ipv4(packet->data, packet->len, (size_t)limit, emit_fragment, &ctx))
			return;
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Could not fragment packet for %s (%d bytes)", owner->name, packet->len);
		return;
	}
	/* like 1.0.36: the sender's path MTU bounds the MSS, also for what we receive */
	if(via->options & OPTION_CLAMP_MSS)
		clamp_mss(packet->data, packet->len, (uint16_t)(via == myself ? source->mtu : MIN(source->mtu, via->mtu)));
	send_packet(owner, packet);
}

static void route_neighborsol(node_t *source, vpn_packet_t *packet) {
	uint8_t target[16];
	if(source != myself || device.type != DEVICE_TAP)
		return;
	if(!ndp_solicitation_target(packet->data, packet->len, target))
		return;
	subnet_t *s = lookup_subnet_ipv6(target);
	if(!s || s->owner == myself)
		return;
	static vpn_packet_t reply;
	size_t len = ndp_build_advertisement(reply.data, sizeof(reply.data), packet->data, packet->len);
	if(!len)
		return;
	memcpy(device.mac, packet->data + 6, 6); /* the host's MAC, for frames we write */
	reply.len = (uint16_t)len;
	device_write_packet(&reply);
}

static void route_ipv6(node_t *source, vpn_packet_t *packet) {
	if(packet->len < 54) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Got too short IPv6 packet from %s", source->name);
		return;
	}
	if(packet->data[20] == 58 && packet->len >= 55 && packet->data[54] == 135) {
		route_neighborsol(source, packet);
		return;
	}
	if(packet->data[38] == 0xff && settings.broadcast_mode != BMODE_NONE) {
		broadcast_packet(source, packet);
		return;
	}
	subnet_t *subnet = lookup_subnet_ipv6(&packet->data[38]);
	if(!router_checks(source, packet, subnet, true))
		return;
	node_t *owner = subnet->owner;
	node_t *via = via_of(owner);
	int limit = MAX(via->mtu, 1294);
	if(via != myself && packet->len > limit) {
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Packet for %s (%d bytes) too long, sending packet too big (mtu %d)", owner->name, packet->len, limit - ETH_HLEN);
		packet->len = (uint16_t)limit;
		send_icmp(source, packet, true, ICMP6_PACKET_TOO_BIG, 0, (uint32_t)(limit - ETH_HLEN));
		return;
	}
	if(via->options & OPTION_CLAMP_MSS)
		clamp_mss(packet->data, packet->len, (uint16_t)(via == myself ? source->mtu : MIN(source->mtu, via->mtu)));
	send_packet(owner, packet);
}

static void route_arp(node_t *source, vpn_packet_t *packet) {
	uint8_t target[4];
	if(source != myself || device.type != DEVICE_TAP)
		return;
	if(!arp_request_target(packet->data, packet->len, target))
		return;
	subnet_t *s = lookup_subnet_ipv4(target);
	if(!s || s->owner == myself)
		return;
	static vpn_packet_t reply;
	size_t len = arp_build_reply(reply.data, sizeof(reply.data), packet->data, packet->len);
	if(!len)
		return;
	memcpy(device.mac, packet->data + 6, 6);
	reply.len = (uint16_t)len;
	device_write_packet(&reply);
}

static void route_router(node_t *source, vpn_packet_t *packet) {
	if(settings.forwarding_mode == FMODE_KERNEL && source != myself) {
		device_write_packet(packet);
		return;
	}
	switch(packet_ethertype(packet)) {
	case ETHERTYPE_IP:
		route_ipv4(source, packet);
		break;
	case ETHERTYPE_IPV6:
		route_ipv6(source, packet);
		break;
	case ETHERTYPE_ARP:
		route_arp(source, packet);
		break;
	default:
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Cannot route packet from %s: unknown type %04x", source->name, packet_ethertype(packet));
		break;
	}
}

/* ---- switch mode (spec §6.6) ---- */

static void learn_mac(const uint8_t mac[6]) {
	subnet_t *s = lookup_subnet_mac(myself, mac);
	if(s) {
		if(s->expires)
			s->expires = now_ns + sec_to_ns((uint64_t)settings.macexpire);
		return;
	}
	LOG(DEBUG_TRAFFIC, LOG_INFO, "Learned new MAC address %x:%x:%x:%x:%x:%x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	s = subnet_new();
	s->type = SUBNET_MAC;
	s->weight = DEFAULT_WEIGHT;
	memcpy(s->net.mac.address, mac, 6);
	s->expires = now_ns + sec_to_ns((uint64_t)settings.macexpire);
	subnet_add(myself, s);
	subnet_update(myself, s, true);
	sset_foreach(connection_t, c, &connection_list)
		if(c->status.active)
			send_add_subnet(c, s);
}

/* Housekeeping: withdraw learned MACs whose time has come. */
void age_subnets(void) {
	for(size_t i = 0; i < myself->subnets.count;) {
		subnet_t *s = myself->subnets.items[i];
		if(s->type != SUBNET_MAC || !s->expires || s->expires > now_ns) {
			i++;
			continue;
		}
		char str[MAXNETSTR];
		net2str(str, sizeof(str), s);
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Subnet %s expired", str);
		sset_foreach(connection_t, c, &connection_list)
			if(c->status.active)
				send_del_subnet(c, s);
		subnet_update(myself, s, false);
		subnet_del(myself, s);
	}
}

static void route_switch(node_t *source, vpn_packet_t *packet) {
	if(packet->len < ETH_HLEN)
		return;
	if(source == myself)
		learn_mac(packet->data + 6);
	subnet_t *subnet = lookup_subnet_mac(NULL, packet->data);
	if(!subnet || !subnet->owner->status.reachable) {
		broadcast_packet(source, packet);
		return;
	}
	node_t *owner = subnet->owner;
	if(owner == source) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "Packet looping back to %s!", source->name);
		return;
	}
	if(settings.forwarding_mode == FMODE_OFF && source != myself && owner != myself)
		return;
	node_t *via = via_of(owner);
	if(settings.directonly && owner != via)
		return;
	uint16_t type = packet_ethertype(packet);
	if(settings.priorityinheritance) {
		if(type == ETHERTYPE_IP && packet->len >= 34)
			packet->priority = packet->data[15];
		else if(type == ETHERTYPE_IPV6 && packet->len >= 54)
			packet->priority = (int16_t)(((packet->data[14] & 0x0f) << 4) | (packet->data[15] >> 4));
	}
	if(via != myself && packet->len > via->mtu) {
		if(type == ETHERTYPE_IP && packet->len > 576 + ETH_HLEN) {
			if(packet->data[20] & 0x40) {
				packet->len = (uint16_t)via->mtu;
				send_icmp(source, packet, false, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED, (uint32_t)(via->mtu - ETH_HLEN));
			} else {
				frag_ctx_t ctx = {owner, packet};
				fragment_ipv4(packet->data, packet->len, (size_t)via->mtu, emit_fragment, &ctx);
			}
			return;
		}
		if(type == ETHERTYPE_IPV6 && packet->len > 1280 + ETH_HLEN) {
			packet->len = (uint16_t)via->mtu;
			send_icmp(source, packet, true, ICMP6_PACKET_TOO_BIG, 0, (uint32_t)(via->mtu - ETH_HLEN));
			return;
		}
	}
	if(via->options & OPTION_CLAMP_MSS)
		clamp_mss(packet->data, packet->len, (uint16_t)(via == myself ? source->mtu : MIN(source->mtu, via->mtu)));
	send_packet(owner, packet);
}

void route(node_t *source, vpn_packet_t *packet) {
	if(packet->len < ETH_HLEN)
		return;
	switch(settings.routing_mode) {
	case RMODE_ROUTER:
		route_router(source, packet);
		break;
	case RMODE_SWITCH:
		route_switch(source, packet);
		break;
	case RMODE_HUB:
		broadcast_packet(source, packet);
		break;
	}
}
