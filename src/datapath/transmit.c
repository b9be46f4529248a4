/* The transmit stage (see transmit.h), in the order a frame takes: read
 * from the device, routed, the verdict carried out, and for a node the
 * choice of way (UDP directly or through a relay, or the meta connection)
 * up to the egress queue. */
#include "util/compat.h"

#include <string.h>
#include <time.h>

#include "config/settings.h"
#include "datapath/egress.h"
#include "datapath/mac_learning.h"
#include "datapath/transmit.h"
#include "datapath/uplink.h"
#include "io/device.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "packet/fragment.h"
#include "packet/icmp.h"
#include "packet/neighbor.h"
#include "route/route.h"
#include "util/clock.h"
#include "util/log.h"

/* Frames read from the device per turn: reading is cheap, so drain it and let
 * the backlog wait in the egress queue where CoDel sees it (fewer once that
 * queue is long, see egress_read_budget). */
#define DEVICE_BATCH 1024

static void write_to_device(frame_buf_t *packet);
static void broadcast(node_t *from, frame_buf_t *packet);

/* ---- from the device ---- */

void device_readable(void *data, uint32_t events) {
	(void)data;
	(void)events;
	static frame_buf_t spare; /* when the queue has no buffer to lend */
	int budget = egress_read_budget(DEVICE_BATCH);
	for(int i = 0; i < budget; i++) {
		frame_buf_t *packet = egress_hold();
		if(!packet)
			packet = &spare;
		if(!device_read(packet)) {
			egress_release_held();
			return;
		}
		packet->tcp = false;
		packet->outer_tos = 0;
		packet->congested = PACKET_SIGNAL_NONE;
		packet->tstamp_ns = now_ns;
		local_node->stats.in_packets++;
		local_node->stats.in_bytes += packet->len;
		forward_frame(local_node, packet);
		egress_release_held();
	}
}

/* ---- routing and the verdict ---- */

static route_policy_t current_policy(void) {
	return (route_policy_t){
		.self = local_node,
		.mode = settings.route_mode,
		.forwarding = settings.forwarding_mode,
		.broadcast = settings.broadcast_mode,
		.direct_only = settings.directonly,
		.decrement_ttl = settings.decrement_ttl,
		.answer_neighbors = device.type == DEVICE_TAP,
	};
}

/* At most 3 ICMP errors per second, both families together, so that a
 * flood of bad frames does not become a flood of answers. */
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

static void answer_with_icmp(node_t *source, const frame_buf_t *packet, const route_verdict_t *v) {
	static frame_buf_t reply;
	if(!icmp_rate_ok())
		return;
	size_t quote = MIN(v->icmp.quote_len, (size_t)packet->len);
	size_t len = v->icmp.v6
	             ? icmp6_error(reply.data, sizeof(reply.data), packet->data, quote, v->icmp.type, v->icmp.code, v->icmp.mtu, NULL)
	             : icmp4_error(reply.data, sizeof(reply.data), packet->data, quote, v->icmp.type, v->icmp.code, (uint16_t)v->icmp.mtu, NULL);
	if(!len)
		return;
	reply.len = (uint16_t)len;
	reply.tcp = packet->tcp;
	reply.outer_tos = 0;
	reply.tstamp_ns = now_ns;
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Answering a frame from %s with ICMP%s type %d code %d: %s",
	    source->name, v->icmp.v6 ? "v6" : "", v->icmp.type, v->icmp.code, route_reason_text(v->reason));
	transmit_to_node(source, &reply);
}

/* ARP reply or NDP advertisement to the host on our tap device. */
static void answer_neighbor(frame_buf_t *packet, bool v6) {
	static frame_buf_t reply;
	size_t len = v6 ? ndp_build_advertisement(reply.data, sizeof(reply.data), packet->data, packet->len)
	                : arp_build_reply(reply.data, sizeof(reply.data), packet->data, packet->len);
	if(!len)
		return;
	memcpy(device.mac, packet->data + 6, 6); /* the host's MAC, for frames we write */
	reply.len = (uint16_t)len;
	write_to_device(&reply);
}

typedef struct fragment_ctx {
	node_t *to;
	const frame_buf_t *orig;
} fragment_ctx_t;

static void send_fragment(void *ctx, const uint8_t *frag, size_t len) {
	fragment_ctx_t *f = ctx;
	static frame_buf_t p;
	memcpy(p.data, frag, len);
	p.len = (uint16_t)len;
	p.tcp = f->orig->tcp;
	p.outer_tos = f->orig->outer_tos;
	p.tstamp_ns = f->orig->tstamp_ns;
	transmit_to_node(f->to, &p);
}

static void log_drop(const node_t *source, const route_verdict_t *v) {
	if(v->reason == ROUTE_NOT_FOR_US)
		return; /* ARP and NDP for the host itself: routine */
	int level = v->reason == ROUTE_ROUTING_LOOP ? LOG_ERR : LOG_WARNING;
	LOG(VERBOSITY_TRAFFIC, level, "Dropping a frame from %s: %s", source->name, route_reason_text(v->reason));
}

void forward_frame(node_t *source, frame_buf_t *packet) {
	route_policy_t policy = current_policy();
	route_verdict_t v = route_decide(&policy, source, packet->data, packet->len);
	route_rewrite(&v, packet->data, packet->len);
	if(v.learn != ROUTE_LEARN_NOTHING)
		mac_learn(&v, packet->data + 6);
	switch(v.action) {
	case ROUTE_DROP:
		log_drop(source, &v);
		break;
	case ROUTE_TO_DEVICE:
		write_to_device(packet);
		break;
	case ROUTE_TO_NODE:
		transmit_to_node(v.to, packet);
		break;
	case ROUTE_FRAGMENT: {
		fragment_ctx_t ctx = {v.to, packet};
		if(!fragment_ipv4(packet->data, packet->len, (size_t)v.mtu, send_fragment, &ctx))
			LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "Cannot cut a %d-byte frame for %s into fragments; frame dropped",
			    packet->len, v.to->name);
		break;
	}
	case ROUTE_BROADCAST:
		broadcast(source, packet);
		break;
	case ROUTE_ICMP_ERROR:
		if(v.reason == ROUTE_TOO_BIG)
			LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Frame of %d bytes for %s exceeds the path MTU (%d bytes of IP)",
			    packet->len, v.to->name, v.mtu - ETH_HLEN);
		else if(v.reason == ROUTE_NO_SUBNET)
			LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "No subnet for the destination of a frame from %s", source->name);
		answer_with_icmp(source, packet, &v);
		break;
	case ROUTE_ARP_REPLY:
		answer_neighbor(packet, false);
		break;
	case ROUTE_NDP_ADVERT:
		answer_neighbor(packet, true);
		break;
	}
}

/* ---- broadcast ---- */

typedef struct broadcast_ctx {
	const node_t *from;
	frame_buf_t *packet;
} broadcast_ctx_t;

static void send_to_tree_neighbour(node_t *n, void *data) {
	broadcast_ctx_t *ctx = data;
	if(n != ctx->from->nexthop && n != ctx->from)
		transmit_to_node(n, ctx->packet);
}

/* To the device unless it came from there; then over the broadcast tree
 * (every node forwards) or, from us only, to each direct neighbour. */
static void broadcast(node_t *from, frame_buf_t *packet) {
	egress_share_held();
	if(from != local_node)
		write_to_device(packet);
	if(settings.tunnelserver || settings.broadcast_mode == BROADCAST_NO)
		return;
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Broadcast frame of %d bytes from %s goes on to the other nodes", packet->len, from->name);
	if(settings.broadcast_mode == BROADCAST_MST) {
		broadcast_ctx_t ctx = {from, packet};
		uplink_each_tree_neighbour(send_to_tree_neighbour, &ctx);
	} else if(from == local_node) {
		sset_foreach(node_t, n, &nodes_by_name) {
			if(n != local_node && n->status.reachable &&
			   ((n->via == local_node && n->nexthop == n) || n->via == n))
				transmit_to_node(n, packet);
		}
	}
}

/* ---- to one node ---- */

static void write_to_device(frame_buf_t *packet) {
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Frame of %d bytes to our device", packet->len);
	device_write(packet);
}

static void send_over_meta(node_t *n, const frame_buf_t *packet) {
	if(!uplink_send_over_meta(n->nexthop, packet)) {
		LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "No meta connection on the way to %s; frame dropped", n->name);
		return;
	}
	n->stats.tcp_out++;
	n->stats.out_packets++;
	n->stats.out_bytes += packet->len;
}

void transmit_to_node(node_t *n, frame_buf_t *packet) {
	if(n == local_node) {
		write_to_device(packet);
		return;
	}
	if(!n->status.reachable) {
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Frame for %s dropped: not reachable", n->name);
		return;
	}
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Frame of %d bytes for %s (%s)", packet->len, n->name, n->hostname);

	/* Frames that came over a meta connection stay on meta connections. */
	node_t *via = (packet->tcp || n->via == local_node) ? n->nexthop : n->via;
	if(!via)
		return;
	if(via != n)
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Frame for %s goes through %s (%s)", n->name, via->name, via->hostname);

	for(;;) {
		if(packet->tcp || (local_node->options & OPTION_TCPONLY) || (via->options & OPTION_TCPONLY)) {
			send_over_meta(via, packet);
			return;
		}
		if(!via->tx_key.valid) {
			uplink_want_key(via);
			LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "No key for %s (%s) yet: frame goes over the meta connection", via->name, via->hostname);
			send_over_meta(via, packet);
			return;
		}
		if((via->options & OPTION_PMTU_DISCOVERY) && packet->len > via->mtu_floor) {
			if(via != via->nexthop) {
				LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Frame of %d bytes for %s exceeds what %s is known to carry; trying %s",
				    packet->len, n->name, via->name, via->nexthop->name);
				via = via->nexthop;
				continue;
			}
			LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Frame of %d bytes exceeds what UDP to %s is known to carry: meta connection",
			    packet->len, via->name);
			send_over_meta(via, packet);
			return;
		}
		egress_enqueue(via, packet);
		return;
	}
}
