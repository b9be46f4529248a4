/* Path MTU discovery with probe frames (see pmtu.h). The state machine and
 * its counter values follow tinc 1.0.36 so that both ends settle on the same
 * MTU for the same path. */
#include "util/compat.h"

#include <string.h>

#include "util/clock.h"
#include "packet/crypto.h"
#include "mesh/edge.h"
#include "util/log.h"
#include "config/settings.h"
#include "datapath/pmtu.h"
#include "datapath/seal.h"
#include "datapath/uplink.h"
#include "io/sockets.h"
#include "mesh/node.h"

#define PROBE_MIN 64

static void pmtu_timer(void *data);

void pmtu_reset(node_t *n) {
	n->pmtu_probe_count = 0;
	n->mtu_floor = 0;
	n->mtu_ceiling = MTU;
	timer_del(&n->mtutimer);
}

static void send_probe(node_t *n, int len) {
	static frame_buf_t probe;
	if(len < PROBE_MIN)
		len = PROBE_MIN;
	if(len > MTU)
		len = MTU;
	memset(probe.data, 0, 14);
	randomize(probe.data + 14, (size_t)len - 14);
	probe.len = (uint16_t)len;
	probe.tcp = false;
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "MTU probe of %d bytes to %s (%s)", len, n->name, n->hostname);
	seal_and_send(n, &probe);
}

/* LocalDiscovery: a probe sent as a LAN broadcast from a
 * randomly chosen listening socket, to the UDP port of the edge through
 * which we reach n.  A peer on the same LAN recognises us by the MAC and
 * from then on uses our LAN address, and its answers teach us its own. */
static void send_local_probe(node_t *n, int len) {
	if(!listener_count || !n->parent_edge)
		return;
	uint16_t port = sockaddr_port(&n->parent_edge->address);
	if(!port)
		return;
	uint32_t r;
	randomize(&r, sizeof(r));
	int sock = (int)(r % (uint32_t)listener_count);
	const sockaddr_u *local = &listener[sock].sa;
	sockaddr_u dest;
	memset(&dest, 0, sizeof(dest));
	if(local->sa.sa_family == AF_INET) {
		dest.in.sin_family = AF_INET;
		dest.in.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	} else if(local->sa.sa_family == AF_INET6) {
		dest.in6.sin6_family = AF_INET6;
		dest.in6.sin6_addr.s6_addr[0] = 0xff; /* ff02::1, all nodes on the link */
		dest.in6.sin6_addr.s6_addr[1] = 0x02;
		dest.in6.sin6_addr.s6_addr[15] = 0x01;
		dest.in6.sin6_scope_id = local->in6.sin6_scope_id;
	} else {
		return;
	}
	sockaddr_set_port(&dest, port);
	/* The send path takes n's address and socket: lend it the broadcast
	 * ones for this one datagram (the UDP address index is not touched). */
	sockaddr_u address = n->address;
	int nsock = n->sock;
	n->address = dest;
	n->sock = sock;
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Local discovery probe of %d bytes for %s to %s", len, n->name, sockaddr_describe(&dest));
	send_probe(n, len);
	n->address = address;
	n->sock = nsock;
}

/* The length of probe k (1 to 3) of a batch: at k quarters of the window
 * between what was answered and what may pass. tinc picks the three at
 * random; spread evenly, each second shrinks the window to a quarter, and
 * sizes above the local link shrink the ceiling at once (EMSGSIZE), so the
 * MTU settles in about five seconds instead of ten or more, while frames
 * larger than the floor still go over TCP. */
static int probe_length(int floor, int ceiling, int k) {
	if(ceiling <= floor)
		return ceiling;
	int len = floor + (ceiling - floor) * k / 4;
	return len > floor ? len : floor + 1;
}

static void pmtu_step(node_t *n) {
	n->pmtu_probe_count++;
	if(!n->status.reachable || !n->tx_key.valid) {
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "MTU probing of %s (%s) stopped: unreachable, or no key to send with", n->name, n->hostname);
		n->pmtu_probe_count = 0;
		return;
	}
	if(n->pmtu_probe_count > 32) {
		if(!n->mtu_floor) {
			n->pmtu_probe_count = 31;
			timer_set(&n->mtutimer, sec_to_ns((uint64_t)settings.pinginterval), pmtu_timer, n);
			return;
		}
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "%s (%s) stopped answering UDP probes; path MTU discovery starts over", n->name, n->hostname);
		n->pmtu_probe_count = 1;
		n->mtu_floor = 0;
		n->mtu_ceiling = MTU;
	}
	if(n->pmtu_probe_count >= 10 && n->pmtu_probe_count < 32 && !n->mtu_floor) {
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "No answer to any MTU probe from %s (%s)", n->name, n->hostname);
		n->pmtu_probe_count = 31;
	}
	if(n->pmtu_probe_count == 30 || (n->pmtu_probe_count < 30 && n->mtu_floor >= n->mtu_ceiling)) {
		if(n->mtu_floor > n->mtu_ceiling)
			n->mtu_floor = n->mtu_ceiling;
		else
			n->mtu_ceiling = n->mtu_floor;
		n->mtu = n->mtu_floor;
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Path MTU to %s (%s) settled at %d after %d probes", n->name, n->hostname, n->mtu, n->pmtu_probe_count);
		n->pmtu_probe_count = 31;
	}
	uint64_t delay;
	if(n->pmtu_probe_count == 31) {
		timer_set(&n->mtutimer, sec_to_ns((uint64_t)settings.pinginterval), pmtu_timer, n);
		return;
	} else if(n->pmtu_probe_count == 32) {
		delay = sec_to_ns((uint64_t)settings.pingtimeout);
	} else {
		delay = NSEC_PER_SEC;
	}

	int batch = settings.localdiscovery && n->pmtu_probe_count <= 10 ? 5 : 4;
	for(int i = 0; i < batch; i++) {
		int len;
		if(i == 0) {
			if(n->pmtu_probe_count < 30 || n->mtu_ceiling + 8 >= MTU)
				continue;
			len = n->mtu_ceiling + 8;
		} else {
			len = probe_length(n->mtu_floor, n->mtu_ceiling, i == 4 ? 2 : i);
		}
		if(i == 4)
			send_local_probe(n, len);
		else
			send_probe(n, len);
	}
	timer_set(&n->mtutimer, delay, pmtu_timer, n);
}

static void pmtu_timer(void *data) {
	pmtu_step(data);
}

void pmtu_start(node_t *n) {
	n->pmtu_probe_count = 0;
	pmtu_step(n);
}

void pmtu_probe_received(node_t *n, frame_buf_t *packet, size_t len) {
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "MTU probe of %zu bytes from %s (%s)", len, n->name, n->hostname);
	if(!packet->data[0]) {
		/* A request: echo it back, same length, directly to the sender.
		 * Without a key to send with, no answer: an echo over the meta
		 * connection tells the prober nothing about its UDP path (the
		 * peer takes a PACKET as data, not as a probe answer) and costs
		 * a full frame of meta traffic per probe. Ask for the key
		 * instead; the prober tries again within a second. */
		packet->data[0] = 1;
		if(n->tx_key.valid && n->address.sa.sa_family) {
			seal_and_send(n, packet);
		} else {
			LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "MTU probe from %s (%s) not answered: no key to send with yet", n->name, n->hostname);
			if(!n->tx_key.valid)
				uplink_want_key(n);
		}
		return;
	}
	if(n->pmtu_probe_count > 30) {
		if((int)len == n->mtu_ceiling + 8) {
			LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Path to %s (%s) carries larger frames now; path MTU discovery starts over", n->name, n->hostname);
			n->mtu_ceiling = MTU;
			n->pmtu_probe_count = 10;
			return;
		}
		n->pmtu_probe_count = n->mtu_floor ? 30 : 1;
	}
	int l = (int)len;
	if(l > n->mtu_ceiling)
		l = n->mtu_ceiling;
	if(n->mtu_floor < l)
		n->mtu_floor = l;
}
