/* MAC learning and aging (see mac_learning.h); which MAC to learn and which
 * expired is route.c's decision. */
#include "util/compat.h"

#include <string.h>

#include "config/settings.h"
#include "datapath/mac_learning.h"
#include "datapath/uplink.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "util/clock.h"
#include "util/log.h"

static uint64_t expiry_time(void) {
	return now_ns + sec_to_ns((uint64_t)settings.macexpire);
}

void mac_learn(const route_verdict_t *v, const uint8_t mac[6]) {
	if(v->learn == ROUTE_LEARN_REFRESH) {
		v->learned->expires = expiry_time();
		return;
	}
	if(v->learn != ROUTE_LEARN_NEW)
		return;
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "MAC address %02x:%02x:%02x:%02x:%02x:%02x appeared on our device; announcing it",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	subnet_t *s = subnet_new();
	s->type = SUBNET_MAC;
	s->weight = DEFAULT_WEIGHT;
	memcpy(s->net.mac.address, mac, 6);
	s->expires = expiry_time();
	subnet_attach(local_node, s);
	uplink_subnet_learned(s);
}

void expire_learned_macs(void) {
	subnet_t *s;
	while((s = route_expired_mac(local_node, now_ns))) {
		char str[SUBNET_TEXT_MAX];
		subnet_format(str, sizeof(str), s);
		LOG(VERBOSITY_TRAFFIC, LOG_INFO, "MAC address %s not seen for MacExpire seconds; withdrawing it", str);
		uplink_subnet_expiring(s);
		subnet_detach(local_node, s);
	}
}
