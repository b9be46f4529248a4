/* Path MTU discovery with probe frames (spec §5.10). The state machine and
 * its counter values follow tinc 1.0.36 so that both ends settle on the same
 * MTU for the same path. */
#include "compat.h"

#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "net.h"
#include "node.h"

#define PROBE_MIN 64

static void pmtu_timer(void *data);

void pmtu_reset(node_t *n) {
	n->mtuprobes = 0;
	n->minmtu = 0;
	n->maxmtu = MTU;
	timer_del(&n->mtutimer);
}

static void send_probe(node_t *n, int len) {
	static vpn_packet_t probe;
	if(len < PROBE_MIN)
		len = PROBE_MIN;
	if(len > MTU)
		len = MTU;
	memset(probe.data, 0, 14);
	randomize(probe.data + 14, (size_t)len - 14);
	probe.len = (uint16_t)len;
	probe.priority = 0;
	probe.tcp = false;
	LOG(DEBUG_TRAFFIC, LOG_INFO, "Sending MTU probe length %d to %s (%s)", len, n->name, n->hostname);
	send_udppacket(n, &probe);
}

static void pmtu_step(node_t *n) {
	n->mtuprobes++;
	if(!n->status.reachable || !n->outkey.valid) {
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Trying to send MTU probe to unreachable node %s (%s)", n->name, n->hostname);
		n->mtuprobes = 0;
		return;
	}
	if(n->mtuprobes > 32) {
		if(!n->minmtu) {
			n->mtuprobes = 31;
			timer_set(&n->mtutimer, sec_to_ns((uint64_t)settings.pinginterval), pmtu_timer, n);
			return;
		}
		LOG(DEBUG_TRAFFIC, LOG_INFO, "%s (%s) did not respond to UDP ping, restarting PMTU discovery", n->name, n->hostname);
		n->mtuprobes = 1;
		n->minmtu = 0;
		n->maxmtu = MTU;
	}
	if(n->mtuprobes >= 10 && n->mtuprobes < 32 && !n->minmtu) {
		LOG(DEBUG_TRAFFIC, LOG_INFO, "No response to MTU probes from %s (%s)", n->name, n->hostname);
		n->mtuprobes = 31;
	}
	if(n->mtuprobes == 30 || (n->mtuprobes < 30 && n->minmtu >= n->maxmtu)) {
		if(n->minmtu > n->maxmtu)
			n->minmtu = n->maxmtu;
		else
			n->maxmtu = n->minmtu;
		n->mtu = n->minmtu;
		LOG(DEBUG_TRAFFIC, LOG_INFO, "Fixing MTU of %s (%s) to %d after %d probes", n->name, n->hostname, n->mtu, n->mtuprobes);
		n->mtuprobes = 31;
	}
	uint64_t delay;
	if(n->mtuprobes == 31) {
		timer_set(&n->mtutimer, sec_to_ns((uint64_t)settings.pinginterval), pmtu_timer, n);
		return;
	} else if(n->mtuprobes == 32) {
		delay = sec_to_ns((uint64_t)settings.pingtimeout);
	} else {
		delay = NSEC_PER_SEC;
	}

	for(int i = 0; i < 4; i++) {
		int len;
		if(i == 0) {
			if(n->mtuprobes < 30 || n->maxmtu + 8 >= MTU)
				continue;
			len = n->maxmtu + 8;
		} else if(n->maxmtu <= n->minmtu) {
			len = n->maxmtu;
		} else {
			uint32_t r;
			randomize(&r, sizeof(r));
			len = n->minmtu + 1 + (int)(r % (uint32_t)(n->maxmtu - n->minmtu));
		}
		send_probe(n, len);
	}
	timer_set(&n->mtutimer, delay, pmtu_timer, n);
}

static void pmtu_timer(void *data) {
	pmtu_step(data);
}

void pmtu_start(node_t *n) {
	n->mtuprobes = 0;
	pmtu_step(n);
}

void pmtu_probe_received(node_t *n, vpn_packet_t *packet, size_t len) {
	LOG(DEBUG_TRAFFIC, LOG_INFO, "Got MTU probe length %zu from %s (%s)", len, n->name, n->hostname);
	if(!packet->data[0]) {
		/* a request: echo it back, same length, directly to the sender */
		packet->data[0] = 1;
		if(n->outkey.valid && n->address.sa.sa_family) {
			send_udppacket(n, packet);
		} else if(n->nexthop && n->nexthop->connection) {
			send_tcppacket(n->nexthop->connection, packet);
		}
		return;
	}
	if(n->mtuprobes > 30) {
		if((int)len == n->maxmtu + 8) {
			LOG(DEBUG_TRAFFIC, LOG_INFO, "Increase in PMTU to %s (%s) detected, restarting PMTU discovery", n->name, n->hostname);
			n->maxmtu = MTU;
			n->mtuprobes = 10;
			return;
		}
		n->mtuprobes = n->minmtu ? 30 : 1;
	}
	int l = (int)len;
	if(l > n->maxmtu)
		l = n->maxmtu;
	if(n->minmtu < l)
		n->minmtu = l;
}
