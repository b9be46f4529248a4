/* The receive stage (see receive.h), in the order a datagram takes:
 * socket batch and control messages, receive-side CoDel, sender lookup,
 * authentication and decryption, replay window, decompression, PMTU probes,
 * RFC 6040 decapsulation, routing. */
#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "aqm/ingress.h"
#include "datapath/counters.h"
#include "datapath/ecn_probe.h"
#include "datapath/egress.h"
#include "datapath/pmtu.h"
#include "datapath/port_probe.h"
#include "datapath/receive.h"
#include "datapath/rekey.h"
#include "datapath/rx_backlog.h"
#include "datapath/sender_cache.h"
#include "datapath/transmit.h"
#include "io/gro_split.h"
#include "io/sockets.h"
#include "io/udp_offload.h"
#include "io/udp_tx.h"
#include "mesh/edge.h"
#include "mesh/node.h"
#include "packet/compress.h"
#include "packet/crypto.h"
#include "packet/ecn.h"
#include "packet/packet_codec.h"
#include "packet/port_probe_frame.h"
#include "util/clock.h"
#include "util/log.h"

#define RX_BATCH 64
#define SEQNO_REKEY_THRESHOLD 0x40000000U /* 2^30: force a new key */

static void parse_cmsgs(struct msghdr *msg, frame_buf_t *packet);
static void deliver_datagram(frame_buf_t *p, ingress_verdict_t v, void *data);
static node_t *find_sender(const sockaddr_u *from, const uint8_t *data, size_t len);
static void open_datagram(node_t *n, const uint8_t *data, size_t len, frame_buf_t *packet,
                          const sockaddr_u *learn, const sockaddr_u *cached);
static bool decapsulate_ecn(node_t *from, frame_buf_t *packet);
static void accept_frame(node_t *n, frame_buf_t *packet);

static bool rate_limit_ok(uint64_t *last, uint64_t interval_ns);

/* ---- the socket batch ---- */

/* One backlog per listening socket: the sojourn CoDel sees at its head is
 * that of one FIFO. */
static rx_backlog_t backlogs[MAX_LISTENERS];
static uint32_t backlogged; /* bit per socket whose backlog is not empty */

/* Each ring's bucket hash gets its own secret seed, so that a sender
 * cannot choose source ports that share a bucket with someone else's. */
static uint32_t backlog_seed(void) {
	uint32_t seed;
	randomize(&seed, sizeof(seed));
	return seed;
}

/* With UDP_GRO (udp_offload.h) one read may return up to 64 datagrams of
 * one sender (64 KiB), with their size in a control message. Each read
 * lands in a ring slot with a bounce area behind it for the rest; a read of
 * one datagram stays where it is, coalesced ones are cut back into
 * datagrams (rx_backlog_spread), each in a slot of its own with the read's kernel timestamp,
 * outer TOS and TTL and sender, so the receive-side AQM, MAC, replay window
 * and ECN decapsulation still see every datagram.
 * One outer TOS for all is exact: the kernel ends a coalesced packet when a
 * datagram's IPv4 TOS or TTL (IPv6 traffic class or hop limit) differs from
 * the ones it holds, and a GSO message that arrives whole (from this host,
 * or over veth) left its sender with one TOS and was marked as one. */
#define GRO_READS 8           /* reads with a bounce area: 512 KiB of them */
#define GRO_READ_MAX 65536
#define GRO_SEGMENTS_MAX 64   /* the most datagrams the kernel coalesces */

/* Room for coalescing costs system calls: with 64 slots kept per read, a
 * backlog with less than 128 free slots takes one datagram per recvmmsg,
 * and under load it seldom has more (64-byte flood: a recvmmsg for every
 * tun write). Most paths never coalesce (a NIC without UDP GRO, a veth),
 * so a socket that has not returned a coalesced read for a second is read
 * RX_BATCH datagrams at a time, the first GRO_READS with a bounce area.
 * A coalesced read that comes anyway is cut up as usual if it lands in one
 * of those (what finds no free slot is lost and counted), and is truncated
 * and counted as one lost read in a later one; the socket is then read with
 * room for coalescing again. */
#define GRO_QUIET_NS NSEC_PER_SEC
static uint64_t coalesced_at[MAX_LISTENERS]; /* now_ns of the last coalesced read */

/* How many reads one recvmmsg may make with room free slots. */
static uint32_t gro_reads(int sock, uint32_t room) {
	if(now_ns - coalesced_at[sock] < GRO_QUIET_NS)
		return MIN(room / GRO_SEGMENTS_MAX, (uint32_t)GRO_READS);
	return MIN(room, (uint32_t)RX_BATCH);
}

/* The segment size of a coalesced read; 0: one datagram. */
static int gro_segment_size(struct msghdr *msg) {
	for(struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm))
		if(cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int size;
			memcpy(&size, CMSG_DATA(cm), sizeof(size));
			return size;
		}
	return 0;
}

static void drain_socket_gro(int sock, rx_backlog_t *b) {
	static uint8_t bounce[GRO_READS][GRO_READ_MAX];
	static uint8_t cbufs[RX_BATCH][256];
	static struct iovec iov[RX_BATCH][2];
	static struct mmsghdr msgs[RX_BATCH];
	uint8_t *overflow[RX_BATCH];
	gro_split_t split[RX_BATCH];
	for(int i = 0; i < RX_BATCH; i++)
		overflow[i] = i < GRO_READS ? bounce[i] : NULL; /* NULL: no read goes past its slot */
	for(;;) {
		uint32_t room = b->capacity - b->count;
		/* nearly full: the rest waits in the kernel */
		uint32_t reads = gro_reads(sock, room);
		if(!reads)
			return;
		for(uint32_t i = 0; i < reads; i++) {
			rx_slot_t *s = rx_backlog_at(b, b->count + i);
			iov[i][0] = (struct iovec){s->frame.data, PACKET_BUF_MAX};
			iov[i][1] = (struct iovec){overflow[i], GRO_READ_MAX};
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &s->from, .msg_namelen = sizeof(s->from),
				.msg_iov = iov[i], .msg_iovlen = overflow[i] ? 2 : 1,
				.msg_control = cbufs[i], .msg_controllen = sizeof(cbufs[i]),
			};
		}
		int n = recvmmsg(listener[sock].udp.fd, msgs, reads, MSG_DONTWAIT, NULL);
		if(n <= 0) {
			if(n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read datagrams from %s: %s",
				       sockaddr_describe(&listener[sock].sa), strerror(errno));
			return;
		}
		uint32_t placed = 0;
		for(int i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			parse_cmsgs(m, &rx_backlog_at(b, b->count + (uint32_t)i)->frame);
			int size = gro_segment_size(m);
			if(size > 0)
				coalesced_at[sock] = now_ns;
			if((m->msg_flags & MSG_TRUNC) || !gro_split(msgs[i].msg_len, size, PACKET_BUF_MAX, &split[i])) {
				/* larger than any valid datagram: kept as an empty slot, skipped */
				if(size > 0)
					datapath_stats.udp_gro_lost++;
				split[i] = (gro_split_t){.count = 1};
			}
			if(split[i].count > 1) {
				datapath_stats.udp_gro_reads++;
				datapath_stats.udp_gro_datagrams += split[i].count;
			}
			if(split[i].count > room - placed) {
				/* more than the kernel's usual 64: what does not fit is lost */
				datapath_stats.udp_gro_lost += split[i].count - (room - placed);
				split[i].count = room - placed;
				split[i].last = split[i].segment;
			}
			placed += split[i].count;
		}
		rx_backlog_spread(b, (uint32_t)n, split, overflow);
		rx_backlog_commit(b, placed);
		backlogged |= 1U << sock;
		if((uint32_t)n < reads)
			return; /* the socket is empty */
	}
}

/* Does the kernel coalesce reads of this socket? Asked once per socket. */
static bool socket_coalesces(int sock) {
	static int asked_fd[MAX_LISTENERS]; /* 1 + the socket asked; 0: none yet */
	static bool coalesces[MAX_LISTENERS];
	int fd = listener[sock].udp.fd;
	if(asked_fd[sock] != fd + 1) {
		asked_fd[sock] = fd + 1;
		coalesces[sock] = udp_offload_gro_enabled(fd);
		coalesced_at[sock] = now_ns; /* a new socket starts with room for coalescing */
	}
	return coalesces[sock];
}

/* Read what the socket holds into its backlog, until the socket is empty or
 * the backlog full. */
static void drain_socket(int sock, rx_backlog_t *b) {
	if(socket_coalesces(sock)) {
		drain_socket_gro(sock, b);
		return;
	}
	static uint8_t cbufs[RX_BATCH][256];
	static struct iovec iov[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];
	for(;;) {
		uint32_t room;
		rx_slot_t *slots = rx_backlog_tail(b, RX_BATCH, &room);
		if(!room)
			return; /* full: the rest waits in the kernel */
		for(uint32_t i = 0; i < room; i++) {
			iov[i] = (struct iovec){slots[i].frame.data, PACKET_BUF_MAX};
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &slots[i].from, .msg_namelen = sizeof(slots[i].from),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = cbufs[i], .msg_controllen = sizeof(cbufs[i]),
			};
		}
		int n = recvmmsg(listener[sock].udp.fd, msgs, room, MSG_DONTWAIT, NULL);
		if(n <= 0) {
			if(n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read datagrams from %s: %s",
				       sockaddr_describe(&listener[sock].sa), strerror(errno));
			return;
		}
		for(int i = 0; i < n; i++) {
			/* larger than any valid datagram: kept as an empty slot, skipped */
			slots[i].frame.len = msgs[i].msg_hdr.msg_flags & MSG_TRUNC ? 0 : (uint16_t)msgs[i].msg_len;
			parse_cmsgs(&msgs[i].msg_hdr, &slots[i].frame);
		}
		rx_backlog_commit(b, (uint32_t)n);
		backlogged |= 1U << sock;
		if((uint32_t)n < room)
			return; /* the socket is empty */
	}
}

/* Open at most RX_BATCH datagrams of sock's backlog, fairly by flow bucket,
 * each through its bucket's receive-side AQM. */
static void serve_backlog(int sock, rx_backlog_t *b) {
	uint64_t now = clock_now_ns();
	for(int served = 0; served < RX_BATCH; served++) {
		rx_flow_t *flow;
		rx_slot_t *s = rx_backlog_next(b, &flow);
		if(!s)
			break;
		frame_buf_t *one = &s->frame;
		ingress_run(&flow->aqm, &one, 1, flow->bytes, b->bytes + s->frame.len, now, deliver_datagram, &sock);
		rx_backlog_done(b, s);
	}
	if(!b->waiting)
		backlogged &= ~(1U << sock);
}

void udp_socket_readable(void *data, uint32_t events) {
	listener_t *ls = data;
	int sock = (int)(ls - listener);
	/* the socket took what waited: the egress queue may go on */
	if((events & EPOLLOUT) && udp_tx_writable(sock))
		egress_run();
	if(!(events & EPOLLIN))
		return;
	rx_backlog_t *b = &backlogs[sock];
	if(!rx_backlog_ready(b, RX_BACKLOG_SLOTS, backlog_seed())) {
		/* tried again on every event: said once a second at most */
		static uint64_t last_log;
		if(rate_limit_ok(&last_log, NSEC_PER_SEC))
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot allocate the receive queue of %s (%zu bytes); datagrams wait in the kernel",
			       sockaddr_describe(&ls->sa), (size_t)RX_BACKLOG_SLOTS * sizeof(rx_slot_t));
		return;
	}
	drain_socket(sock, b);
	serve_backlog(sock, b);
}

bool receive_backlog_run(void) {
	for(int sock = 0; sock < MAX_LISTENERS; sock++) {
		if(!(backlogged & (1U << sock)))
			continue;
		/* keep the kernel's buffer empty: what arrived meanwhile joins the tail */
		drain_socket(sock, &backlogs[sock]);
		serve_backlog(sock, &backlogs[sock]);
	}
	return backlogged != 0;
}

void receive_backlog_free(void) {
	for(int sock = 0; sock < MAX_LISTENERS; sock++)
		rx_backlog_free(&backlogs[sock]);
	backlogged = 0;
}


static void parse_cmsgs(struct msghdr *msg, frame_buf_t *packet) {
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

/* One received datagram, in order, after the receive-side CoDel. */
static void deliver_datagram(frame_buf_t *p, ingress_verdict_t v, void *data) {
	static frame_buf_t packet;
	int sock = *(int *)data;
	sockaddr_u *from = &rx_slot_of(p)->from;
	if(v == INGRESS_DROP) {
		sockaddr_unmap(from);
		node_t *n = node_find_by_udp(from);
		if(n)
			n->stats.rx_drop++;
		return;
	}
	packet.outer_tos = p->outer_tos;
	packet.outer_ttl = p->outer_ttl;
	packet.tstamp_ns = p->tstamp_ns;
	packet.congested = v == INGRESS_MARK ? PACKET_SIGNAL_MARK_OR_DROP
	                   : v == INGRESS_MARK_ONLY ? PACKET_SIGNAL_MARK_ONLY : PACKET_SIGNAL_NONE;
	receive_datagram(sock, from, p->data, p->len, &packet);
}

/* ---- the sender, authentication, decryption ---- */

void receive_datagram(int sock, sockaddr_u *from, const uint8_t *data, size_t len, frame_buf_t *packet) {
	static uint64_t last_unknown_log;
	sockaddr_unmap(from);
	node_t *node = node_find_by_udp(from);
	const sockaddr_u *learn = NULL, *cached = NULL;
	if(!node) {
		/* another port of a peer that spreads its flows (port_spread.h) */
		node = sender_cache_find(from);
		if(node && !node->status.reachable) {
			sender_cache_drop(from);
			node = NULL;
		}
		cached = node ? from : NULL;
	}
	if(!node) {
		node = find_sender(from, data, len);
		learn = from;
	}
	if(!node) {
		datapath_stats.udp_unknown_source++;
		if(debug_level >= VERBOSITY_REQUESTS && rate_limit_ok(&last_unknown_log, NSEC_PER_SEC))
			logger(VERBOSITY_REQUESTS, LOG_WARNING, "Datagram from %s, which is no node's address and no node's key opens", sockaddr_describe(from));
		return;
	}
	node->sock = sock;
	open_datagram(node, data, len, packet, learn, cached);
}

/* A datagram from an address no node has: find the sender by trying
 * each node's MAC on it. */
static node_t *find_sender(const sockaddr_u *from, const uint8_t *data, size_t len) {
	static time_t last_full_try;
	time_t now = time(NULL);
	bool full = now != last_full_try;
	last_full_try = now;
	sset_foreach(edge_t, e, &edges_by_weight) {
		node_t *n = e->to;
		if(n == local_node || !n->rx_key.valid || !n->status.reachable)
			continue;
		if(!full && sockaddr_cmp_host(&e->address, from))
			continue;
		if(packet_mac_ok(&n->rx_key, data, len))
			return n;
	}
	return NULL;
}

/* 'learn' is the sender's address when n was found by MAC trial: it becomes
 * n's UDP address only once the datagram has proven fresh, so a replayed
 * datagram from elsewhere cannot redirect our traffic for n; and, for a peer
 * that spreads its flows over ports, only if it came from its own port
 * (sender_address_follows). Otherwise it goes into the sender cache.
 * 'cached' is the sender's address when the cache named n. */
static void open_datagram(node_t *n, const uint8_t *data, size_t len, frame_buf_t *packet,
                          const sockaddr_u *learn, const sockaddr_u *cached) {
	if(!n->rx_key.valid) {
		datapath_stats.udp_no_key++;
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Datagram from %s (%s) dropped: we gave it no key yet", n->name, n->hostname);
		return;
	}
	/* Decrypt straight into the frame, unless it still has to be
	 * decompressed from a scratch buffer. */
	static uint8_t compressed[PACKET_BUF_MAX];
	uint8_t *plain = n->rx_key.compression ? compressed : packet->data;
	size_t plainlen = 0;
	uint32_t seqno = 0;
	packet_open_result_t r = packet_open(&n->rx_key, data, len, &seqno, plain, PACKET_BUF_MAX, &plainlen);
	if(r != PACKET_OK) {
		if(r == PACKET_DECRYPT_FAILED) {
			datapath_stats.udp_decrypt_failed++;
			n->stats.decrypt_failed++;
		} else {
			datapath_stats.udp_bad_mac++;
			n->stats.bad_mac++;
		}
		if(cached)
			sender_cache_drop(cached); /* rekeyed, or the port went to someone else */
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Datagram from %s (%s) dropped: %s", n->name, n->hostname,
		    r == PACKET_DECRYPT_FAILED ? "it does not decrypt" : "its MAC is wrong");
		return;
	}

	replay_verdict_t v = replay_check(&n->replay, seqno);
	if(v != REPLAY_ACCEPT) {
		if(v == REPLAY_LATE)
			datapath_stats.udp_replay_late++;
		else if(v == REPLAY_REPLAYED)
			datapath_stats.udp_replay_replayed++;
		else
			datapath_stats.udp_replay_far_ahead++;
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Datagram from %s (%s) dropped: sequence number %u is %s (highest so far %u)",
		    n->name, n->hostname, seqno, v == REPLAY_FARFUTURE ? "too far ahead" : "old or seen before", n->replay.received);
		return;
	}
	if(n->replay.received > SEQNO_REKEY_THRESHOLD)
		keyexpire_requested = true;

	if(n->rx_key.compression) {
		size_t l = decompress_frame(n->rx_key.compression, plain, plainlen, packet->data, MTU);
		if(!l) {
			datapath_stats.udp_decompress_failed++;
			n->stats.decompress_failed++;
			LOG(VERBOSITY_TRAFFIC, LOG_ERR, "Datagram from %s (%s) dropped: it does not decompress", n->name, n->hostname);
			return;
		}
		packet->len = (uint16_t)l;
	} else {
		if(plainlen > MTU) {
			LOG(VERBOSITY_TRAFFIC, LOG_ERR, "Datagram from %s (%s) dropped: its %zu-byte frame exceeds %d bytes",
			    n->name, n->hostname, plainlen, MTU);
			return;
		}
		packet->len = (uint16_t)plainlen;
	}
	if(learn) {
		/* PMTU and ECN probes come from the sender's own port; port probe
		 * requests from its extra ones */
		bool probe = packet->len >= ETH_HLEN && packet->data[12] == 0 && packet->data[13] == 0 &&
		             !port_probe_is_request(packet->data, packet->len);
		if(sender_address_follows(n->options, probe)) {
			LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Node %s now sends from %s; replies go there", n->name, sockaddr_describe(learn));
			node_set_udp_address(n, learn);
		} else {
			sender_cache_put(learn, n);
			port_probe_nudge(n, learn);
		}
	}
	n->status.udp_verified = true;
	n->stats.udp_in++;
	packet->tcp = false;

	if(ecn_probe_received(n, packet) || port_probe_received(n, packet))
		return;
	if(packet->len >= 14 && packet->data[12] == 0 && packet->data[13] == 0) {
		size_t l = packet->len;
		/* with compression the probe length is only approximate */
		if(n->rx_key.compression)
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
	accept_frame(n, packet);
}

/* ---- after decryption ---- */

/* RFC 6040 §4.2 decapsulation; false when the packet must be dropped. */
static bool decapsulate_ecn(node_t *from, frame_buf_t *packet) {
	uint8_t inner_tos;
	if(!ecn_frame_tos(packet->data, packet->len, &inner_tos))
		return true; /* not IP: nothing to combine */
	ecn_decap_result_t r = ecn_decap_frame(packet->data, packet->len, packet->outer_tos);
	if(r.action == ECN_DROP) {
		static uint64_t last_log;
		datapath_stats.ecn_ce_drops++;
		if(rate_limit_ok(&last_log, NSEC_PER_SEC))
			logger(VERBOSITY_ERRORS, LOG_WARNING, "Frame from %s (%s) dropped: outer ECN CE over inner Not-ECT (RFC 6040), %llu such drops so far",
			       from->name, from->hostname, (unsigned long long)datapath_stats.ecn_ce_drops);
		return false;
	}
	if(r.action == ECN_FORWARD_LOG) {
		static uint64_t last_log;
		datapath_stats.ecn_unexpected++;
		if(rate_limit_ok(&last_log, NSEC_PER_SEC))
			LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Unexpected ECN combination from %s: outer %u over inner %u (RFC 6040 currently-unused)",
			    from->name, packet->outer_tos & ECN_MASK, inner_tos & ECN_MASK);
	}
	if(r.ecn == ECN_CE && (inner_tos & ECN_MASK) != ECN_CE)
		datapath_stats.ecn_ce_propagated++;
	return true;
}

static void accept_frame(node_t *n, frame_buf_t *packet) {
	n->stats.in_packets++;
	n->stats.in_bytes += packet->len;
	forward_frame(n, packet);
}

/* ---- frames from meta connections ---- */

void receive_meta_frame(node_t *from, bool tcponly, const uint8_t *data, size_t len) {
	static frame_buf_t packet;
	if(!from || len > MTU || len < ETH_HLEN)
		return;
	memcpy(packet.data, data, len);
	packet.len = (uint16_t)len;
	packet.outer_tos = 0;
	packet.outer_ttl = 0;
	packet.congested = PACKET_SIGNAL_NONE;
	packet.tstamp_ns = now_ns;
	/* Frames that came over a meta connection go on over meta connections,
	 * unless the link is TCP-only anyway. */
	packet.tcp = !tcponly;
	from->stats.tcp_in++;
	if(packet.data[12] == 0 && packet.data[13] == 0) {
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "PMTU probe from %s came over the meta connection; ignored", from->name);
		return;
	}
	accept_frame(from, &packet);
}

static bool rate_limit_ok(uint64_t *last, uint64_t interval_ns) {
	if(now_ns - *last < interval_ns)
		return false;
	*last = now_ns;
	return true;
}
