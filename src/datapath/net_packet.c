/* The UDP data path (spec §5.3, §5.7, §5.8): receive batches with their
 * outer TOS/TTL and kernel timestamps, authenticate, decrypt, check replay,
 * decompress, decapsulate ECN, route; and the send side: relay choice, TCP
 * fallback, compression, sealing, per-packet outer TOS through cmsgs. */
#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/clock.h"
#include "packet/compress.h"
#include "meta/connection.h"
#include "io/device.h"
#include "packet/ecn.h"
#include "mesh/edge.h"
#include "datapath/egress.h"
#include "aqm/ingress.h"
#include "util/log.h"
#include "daemon/net.h"
#include "mesh/node.h"
#include "packet/packet_codec.h"
#include "io/udp_tx.h"
#include "util/xalloc.h"

#define RX_BATCH 64
#define SEQNO_REKEY_THRESHOLD 0x40000000U /* 2^30: force a new key (spec §5.3) */

bool keyexpire_requested;

datapath_stats_t datapath_stats;

/* ---- receive ---- */

static bool rate_limit_ok(uint64_t *last, uint64_t interval_ns) {
	if(now_ns - *last < interval_ns)
		return false;
	*last = now_ns;
	return true;
}

/* RFC 6040 §4.2 decapsulation; false when the packet must be dropped. */
static bool decapsulate_ecn(node_t *from, vpn_packet_t *packet) {
	uint8_t inner_tos;
	if(!ecn_frame_tos(packet->data, packet->len, &inner_tos))
		return true; /* not IP: nothing to combine */
	ecn_decap_result_t r = ecn_decap_frame(packet->data, packet->len, packet->outer_tos);
	if(r.action == ECN_DROP) {
		static uint64_t last_log;
		datapath_stats.ecn_ce_drops++;
		if(rate_limit_ok(&last_log, NSEC_PER_SEC))
			logger(DEBUG_ALWAYS, LOG_WARNING, "Dropping packet from %s (%s): outer ECN CE over inner Not-ECT (RFC 6040), %llu such drops so far",
			       from->name, from->hostname, (unsigned long long)datapath_stats.ecn_ce_drops);
		return false;
	}
	if(r.action == ECN_FORWARD_LOG) {
		static uint64_t last_log;
		datapath_stats.ecn_unexpected++;
		if(rate_limit_ok(&last_log, NSEC_PER_SEC))
			LOG(DEBUG_CONNECTIONS, LOG_WARNING, "Unexpected ECN combination from %s: outer %u over inner %u (RFC 6040 currently-unused)",
			    from->name, packet->outer_tos & ECN_MASK, inner_tos & ECN_MASK);
	}
	if(r.ecn == ECN_CE && (inner_tos & ECN_MASK) != ECN_CE)
		datapath_stats.ecn_ce_propagated++;
	return true;
}

static void receive_packet(node_t *n, vpn_packet_t *packet) {
	n->stats.in_packets++;
	n->stats.in_bytes += packet->len;
	route(n, packet);
}

/* 'learn' is the sender's address when n was found by MAC trial: it becomes
 * n's UDP address only once the datagram has proven fresh, so a replayed
 * datagram from elsewhere cannot redirect our traffic for n. */
static void receive_udppacket(node_t *n, const uint8_t *data, size_t len, vpn_packet_t *packet,
                              const sockaddr_u *learn) {
	if(!n->inkey.valid) {
		datapath_stats.udp_no_key++;
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Got packet from %s (%s) but we have no key for it", n->name, n->hostname);
		return;
	}
	static uint8_t plain[MAXSIZE];
	size_t plainlen = 0;
	uint32_t seqno = 0;
	packet_open_result_t r = packet_open(&n->inkey, data, len, &seqno, plain, sizeof(plain), &plainlen);
	if(r != PACKET_OK) {
		if(r == PACKET_DECRYPT_FAILED) {
			datapath_stats.udp_decrypt_failed++;
			n->stats.decrypt_failed++;
		} else {
			datapath_stats.udp_bad_mac++;
			n->stats.bad_mac++;
		}
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Got unauthenticated packet from %s (%s)", n->name, n->hostname);
		return;
	}

	replay_verdict_t v = replay_check(&n->replay, seqno);
	if(v != REPLAY_ACCEPT) {
		if(v == REPLAY_LATE)
			datapath_stats.udp_replay_late++;
		else if(v == REPLAY_REPLAYED)
			datapath_stats.udp_replay_replayed++;
		else
			datapath_stats.udp_replay_farfuture++;
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Got %s packet from %s (%s), seqno %u, last received %u",
		    v == REPLAY_FARFUTURE ? "far future" : "late or replayed", n->name, n->hostname, seqno, n->replay.received);
		return;
	}
	if(learn) {
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Learned new UDP address %s for %s", sockaddr2hostname(learn), n->name);
		update_node_udp(n, learn);
	}
	if(n->replay.received > SEQNO_REKEY_THRESHOLD)
		keyexpire_requested = true;

	if(n->inkey.compression) {
		size_t l = decompress_packet(n->inkey.compression, plain, plainlen, packet->data, MTU);
		if(!l) {
			datapath_stats.udp_decompress_failed++;
			n->stats.decompress_failed++;
			LOG(DEBUG_TRAFFIC, LOG_ERR, "Error while decompressing packet from %s (%s)", n->name, n->hostname);
			return;
		}
		packet->len = (uint16_t)l;
	} else {
		if(plainlen > MTU) {
			LOG(DEBUG_TRAFFIC, LOG_ERR, "Oversized packet (%zu bytes) from %s (%s)", plainlen, n->name, n->hostname);
			return;
		}
		memcpy(packet->data, plain, plainlen);
		packet->len = (uint16_t)plainlen;
	}
	n->status.udp_confirmed = true;
	n->stats.udp_in++;
	packet->tcp = false;
	packet->priority = 0;

	if(packet->len >= 14 && packet->data[12] == 0 && packet->data[13] == 0) {
		size_t l = packet->len;
		/* with compression the probe length is only approximate (spec §5.6) */
		if(n->inkey.compression)
			l = l > COMPRESS_SLACK ? l - COMPRESS_SLACK : 0;
		pmtu_probe_received(n, packet, l);
		return;
	}
	if(packet->len < ETH_HLEN)
		return;
	if(!decapsulate_ecn(n, packet))
		return;
	/* receive-side CoDel asked for a signal: a mark if the packet can carry one */
	if(packet->congested) {
		if(ecn_mark_ce(packet->data, packet->len)) {
			n->stats.rx_ce++;
		} else if(packet->congested == PACKET_SIGNAL_MARK_OR_DROP) {
			datapath_stats.rx_codel_drops++;
			n->stats.rx_drop++;
			return;
		}
	}
	receive_packet(n, packet);
}

/* A datagram from an address no node has: find the sender by MAC trial (spec §5.7). */
static node_t *try_harder(const sockaddr_u *from, const uint8_t *data, size_t len) {
	static time_t last_full_try;
	time_t now = time(NULL);
	bool full = now != last_full_try;
	last_full_try = now;
	sset_foreach(edge_t, e, &edge_weight_tree) {
		node_t *n = e->to;
		if(n == myself || !n->inkey.valid || !n->status.reachable)
			continue;
		if(!full && sockaddr_cmp_host(&e->address, from))
			continue;
		if(packet_mac_ok(&n->inkey, data, len))
			return n;
	}
	return NULL;
}

static void parse_cmsgs(struct msghdr *msg, vpn_packet_t *packet) {
	packet->outer_tos = 0;
	packet->outer_ttl = 0;
	packet->tstamp_ns = 0;
	for(struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if(cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS && cm->cmsg_len >= CMSG_LEN(1))
			packet->outer_tos = *(uint8_t *)CMSG_DATA(cm);
		else if(cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			packet->outer_ttl = (uint8_t)*(int *)CMSG_DATA(cm);
		else if(cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			packet->outer_tos = (uint8_t)*(int *)CMSG_DATA(cm);
		else if(cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			packet->outer_ttl = (uint8_t)*(int *)CMSG_DATA(cm);
		else if(cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS && cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			/* The kernel stamps in CLOCK_REALTIME; convert to our monotonic clock. */
			struct timespec ts, rt;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			clock_gettime(CLOCK_REALTIME, &rt);
			int64_t age = ((int64_t)rt.tv_sec - ts.tv_sec) * (int64_t)NSEC_PER_SEC + (rt.tv_nsec - ts.tv_nsec);
			if(age < 0)
				age = 0;
			packet->tstamp_ns = now_ns > (uint64_t)age ? now_ns - (uint64_t)age : 0;
		}
	}
	if(!packet->tstamp_ns)
		packet->tstamp_ns = now_ns;
}

typedef struct rx_ctx {
	int sock;
	vpn_packet_t *base;
	sockaddr_u from[RX_BATCH];
} rx_ctx_t;

/* One received datagram, in order, after the receive-side CoDel. */
static void deliver_datagram(vpn_packet_t *p, ingress_verdict_t v, void *data) {
	static vpn_packet_t packet;
	rx_ctx_t *ctx = data;
	sockaddr_u *from = &ctx->from[p - ctx->base];
	if(v == INGRESS_DROP) {
		sockaddr_unmap(from);
		node_t *n = lookup_node_udp(from);
		if(n)
			n->stats.rx_drop++;
		return;
	}
	packet.outer_tos = p->outer_tos;
	packet.outer_ttl = p->outer_ttl;
	packet.tstamp_ns = p->tstamp_ns;
	packet.congested = v == INGRESS_MARK ? PACKET_SIGNAL_MARK_OR_DROP
	                   : v == INGRESS_MARK_ONLY ? PACKET_SIGNAL_MARK_ONLY : PACKET_SIGNAL_NONE;
	receive_datagram(ctx->sock, from, p->data, p->len, &packet);
}

void handle_incoming_vpn_data(void *data, uint32_t events) {
	listen_socket_t *ls = data;
	if(events & EPOLLOUT)
		udp_tx_writable((int)(ls - listen_socket));
	if(!(events & EPOLLIN))
		return;
	static vpn_packet_t rx[RX_BATCH];
	static vpn_packet_t *batch[RX_BATCH];
	static uint8_t cbufs[RX_BATCH][256];
	static struct iovec iov[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];
	static rx_ctx_t ctx;
	ctx.sock = (int)(ls - listen_socket);

	for(int i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){rx[i].data, MAXSIZE};
		msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &ctx.from[i], .msg_namelen = sizeof(ctx.from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = cbufs[i], .msg_controllen = sizeof(cbufs[i]),
		};
	}
	int n = recvmmsg(ls->udp.fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	if(n < 0) {
		if(errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			logger(DEBUG_ALWAYS, LOG_ERR, "Receiving packet failed: %s", strerror(errno));
		return;
	}
	int k = 0;
	for(int i = 0; i < n; i++) {
		if(msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than any valid datagram */
		rx[i].len = (uint16_t)msgs[i].msg_len;
		parse_cmsgs(&msgs[i].msg_hdr, &rx[i]);
		batch[k++] = &rx[i];
	}
	ctx.base = rx;
	ingress_run(ctx.sock, batch, k, n == RX_BATCH, clock_now_ns(), deliver_datagram, &ctx);
}

void receive_datagram(int sock, sockaddr_u *from, const uint8_t *data, size_t len, vpn_packet_t *packet) {
	static uint64_t last_unknown_log;
	sockaddr_unmap(from);
	node_t *node = lookup_node_udp(from);
	const sockaddr_u *learn = NULL;
	if(!node) {
		node = try_harder(from, data, len);
		learn = from;
	}
	if(!node) {
		datapath_stats.udp_unknown_source++;
		if(debug_level >= DEBUG_PROTOCOL && rate_limit_ok(&last_unknown_log, NSEC_PER_SEC))
			logger(DEBUG_PROTOCOL, LOG_WARNING, "Received UDP packet from unknown source %s", sockaddr2hostname(from));
		return;
	}
	node->sock = sock;
	receive_udppacket(node, data, len, packet, learn);
}

void receive_tcppacket(connection_t *c, const uint8_t *data, size_t len) {
	static vpn_packet_t packet;
	if(!c->node || len > MTU || len < ETH_HLEN)
		return;
	memcpy(packet.data, data, len);
	packet.len = (uint16_t)len;
	packet.outer_tos = 0;
	packet.tstamp_ns = now_ns;
	/* Packets that came over TCP keep going over TCP unless the link is TCP-only anyway. */
	packet.tcp = !(c->options & OPTION_TCPONLY);
	packet.priority = packet.tcp ? -1 : 0;
	c->node->stats.tcp_in++;
	if(packet.data[12] == 0 && packet.data[13] == 0) {
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Dropping PMTU probe from %s that arrived over TCP", c->node->name);
		return;
	}
	receive_packet(c->node, &packet);
}

/* ---- send ---- */

/* The outer TOS byte: DSCP by PriorityInheritance, ECN by RFC 6040 §4.1 toward
 * nodes that announced correct decapsulation, Not-ECT toward everyone else. */
static uint8_t outer_tos_for(node_t *to, const vpn_packet_t *packet) {
	uint8_t tos;
	if(packet->len < ETH_HLEN || (packet->data[12] == 0 && packet->data[13] == 0))
		return 0;
	if(!ecn_frame_tos(packet->data, packet->len, &tos))
		return 0;
	bool normal = to->ecn_normal;
	return outer_tos(tos, settings.priorityinheritance, normal);
}

static int socket_for(node_t *n) {
	if(n->sock >= 0 && n->sock < listen_sockets &&
	   listen_socket[n->sock].sa.sa.sa_family == n->address.sa.sa_family)
		return n->sock;
	for(int i = 0; i < listen_sockets; i++)
		if(listen_socket[i].sa.sa.sa_family == n->address.sa.sa_family)
			return i;
	return -1;
}

/* Encrypt and send one frame by UDP to n (spec §5.3). */
void send_udppacket(node_t *n, vpn_packet_t *packet) {
	static uint8_t compressed[MAXSIZE];
	const uint8_t *data = packet->data;
	size_t len = packet->len;

	if(!n->outkey.valid || !n->address.sa.sa_family)
		return;
	if(n->outkey.compression) {
		len = compress_packet(n->outkey.compression, packet->data, packet->len, compressed, sizeof(compressed));
		if(!len) {
			LOG(DEBUG_TRAFFIC, LOG_ERR, "Error while compressing packet to %s (%s)", n->name, n->hostname);
			return;
		}
		data = compressed;
	}
	int sock = socket_for(n);
	uint8_t *slot = sock >= 0 ? udp_tx_slot(sock) : NULL;
	if(!slot) {
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "No room to send a packet to %s (%s)", n->name, n->hostname);
		return;
	}
	size_t out = packet_seal(&n->outkey, ++n->sent_seqno, data, len, slot, UDP_TX_SLOT);
	if(!out) {
		LOG(DEBUG_TRAFFIC, LOG_ERR, "Error while encrypting packet to %s (%s)", n->name, n->hostname);
		return;
	}
	udp_tx_commit(sock, n, out, outer_tos_for(n, packet), packet->len);
	n->stats.out_packets++;
	n->stats.out_bytes += packet->len;
}

static void send_via_tcp(node_t *n, vpn_packet_t *packet) {
	node_t *hop = n->nexthop;
	if(!hop || !hop->connection) {
		LOG(DEBUG_TRAFFIC, LOG_WARNING, "No meta connection to carry a packet for %s", n->name);
		return;
	}
	n->stats.tcp_out++;
	n->stats.out_packets++;
	n->stats.out_bytes += packet->len;
	if(!send_tcppacket(hop->connection, packet))
		terminate_connection(hop->connection, true);
}

void send_packet(node_t *n, vpn_packet_t *packet) {
	if(n == myself) {
		device_write_packet(packet);
		return;
	}
	if(!n->status.reachable) {
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Node %s is not reachable, dropping packet", n->name);
		return;
	}
	LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Sending packet of %d bytes to %s (%s)", packet->len, n->name, n->hostname);

	node_t *via = (packet->tcp || n->via == myself) ? n->nexthop : n->via;
	if(!via)
		return;
	if(via != n)
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Sending packet to %s via %s (%s)", n->name, via->name, via->hostname);

	for(;;) {
		if(packet->tcp || (myself->options & OPTION_TCPONLY) || (via->options & OPTION_TCPONLY)) {
			send_via_tcp(via, packet);
			return;
		}
		if(!via->outkey.valid) {
			if(!via->status.waitingforkey || now_ns - via->last_req_key >= REQ_KEY_INTERVAL_NS)
				send_req_key(via);
			LOG(DEBUG_TRAFFIC, LOG_DEBUG, "No valid key known yet for %s (%s), forwarding via TCP", via->name, via->hostname);
			send_via_tcp(via, packet);
			return;
		}
		if((via->options & OPTION_PMTU_DISCOVERY) && packet->len > via->minmtu) {
			if(via != via->nexthop) {
				LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Packet for %s (%d bytes) larger than minimum MTU of %s, forwarding via %s",
				    n->name, packet->len, via->name, via->nexthop->name);
				via = via->nexthop;
				continue;
			}
			LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Packet for %s (%d bytes) larger than minimum MTU, forwarding via TCP", via->name, packet->len);
			send_via_tcp(via, packet);
			return;
		}
		egress_enqueue(via, packet);
		return;
	}
}

/* ---- broadcast (spec §6.4) ---- */

void broadcast_packet(const node_t *from, vpn_packet_t *packet) {
	if(from != myself)
		device_write_packet(packet);
	if(settings.tunnelserver || settings.broadcast_mode == BMODE_NONE)
		return;
	LOG(DEBUG_TRAFFIC, LOG_INFO, "Broadcasting packet of %d bytes from %s", packet->len, from->name);
	if(settings.broadcast_mode == BMODE_MST) {
		const node_t *back = from->nexthop;
		sset_foreach(connection_t, c, &connection_list) {
			if(c->status.active && c->status.mst && c->node && c->node != back && c->node != from)
				send_packet(c->node, packet);
		}
	} else if(from == myself) {
		sset_foreach(node_t, n, &node_tree) {
			if(n != myself && n->status.reachable &&
			   ((n->via == myself && n->nexthop == n) || n->via == n))
				send_packet(n, packet);
		}
	}
}

void device_write_packet(vpn_packet_t *packet) {
	LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Writing packet of %d bytes to device", packet->len);
	device_write(packet);
}

/* ---- keys ---- */

void keyexpire_now(void) {
	LOG(DEBUG_STATUS, LOG_INFO, "Expiring symmetric keys");
	keyexpire_requested = false;
	sset_foreach(node_t, n, &node_tree)
		if(n != myself)
			packet_key_clear(&n->inkey);
	send_key_changed();
	sset_foreach(node_t, n, &node_tree)
		if(n != myself && n->status.reachable && n->connection && n->connection->status.active)
			send_ans_key(n);
}
