/* The routing decision: where a frame goes, decided from the frame, the node
 * it came from, the node and subnet tables and a small policy. Router mode
 * routes by IP subnet, switch mode by learned MAC address, hub mode floods.
 *
 * Deciding is pure: no I/O, no logging, nothing written but the verdict (the
 * subnet lookups keep their own cache). The data path acts on the verdict:
 * route_rewrite() first, then the action. */
#ifndef FQTINC_ROUTE_H
#define FQTINC_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

/* The settings a decision depends on. */
typedef struct route_policy {
	node_t *self;                  /* our own node; frames from it come from our device */
	route_mode_t mode;
	forwarding_mode_t forwarding;
	broadcast_mode_t broadcast;
	bool direct_only;              /* DirectOnly */
	bool decrement_ttl;            /* DecrementTTL */
	bool answer_neighbors;         /* router mode on a tap device: answer ARP and NDP */
} route_policy_t;

typedef enum route_action {
	ROUTE_DROP,        /* nothing to do; 'reason' says why */
	ROUTE_TO_DEVICE,   /* write the frame to our device (the kernel forwards it) */
	ROUTE_TO_NODE,     /* send the frame to 'to' (our own node: our device) */
	ROUTE_FRAGMENT,    /* cut the IPv4 frame into frames of at most 'mtu' bytes for 'to' */
	ROUTE_BROADCAST,   /* to our device unless it came from there, and on by broadcast mode */
	ROUTE_ICMP_ERROR,  /* answer the source with the ICMP error in 'icmp'; 'reason' says why */
	ROUTE_ARP_REPLY,   /* answer the host's ARP request through our device */
	ROUTE_NDP_ADVERT,  /* answer the host's neighbor solicitation through our device */
} route_action_t;

typedef enum route_reason {
	ROUTE_OK = 0,
	ROUTE_TOO_SHORT,          /* shorter than its headers */
	ROUTE_UNKNOWN_TYPE,       /* router mode: neither IPv4, IPv6 nor ARP */
	ROUTE_NO_SUBNET,          /* no subnet holds the destination */
	ROUTE_UNREACHABLE,        /* the destination's owner is unreachable */
	ROUTE_LOOPS_BACK,         /* the destination's owner is the source */
	ROUTE_ROUTING_LOOP,       /* we would send it back the way it came */
	ROUTE_FORWARDING_OFF,     /* Forwarding = off and it is neither from nor for us */
	ROUTE_NOT_DIRECT,         /* DirectOnly and the owner is not a direct neighbour */
	ROUTE_TTL_EXCEEDED,       /* DecrementTTL and the TTL ran out */
	ROUTE_TOO_BIG,            /* larger than the path MTU and may not be fragmented */
	ROUTE_NOT_FOR_US,         /* ARP/NDP we do not answer (not from our device, no
	                           * subnet, our own address, malformed) */
} route_reason_t;

/* Switch mode: what to do with the source MAC of a frame from our device. */
typedef enum route_learn {
	ROUTE_LEARN_NOTHING,
	ROUTE_LEARN_NEW,          /* add a MAC subnet for it and tell the others */
	ROUTE_LEARN_REFRESH,      /* push 'learned''s expiry time forward */
} route_learn_t;

typedef struct route_verdict {
	route_action_t action;
	route_reason_t reason;
	node_t *to;               /* TO_NODE, FRAGMENT: the destination's owner */
	int mtu;                  /* FRAGMENT: largest frame; ICMP too big: the link's */
	struct {
		bool v6;
		uint8_t type, code;
		uint32_t mtu;         /* frag needed / packet too big: the MTU to announce */
		size_t quote_len;     /* how much of the frame the error may quote */
	} icmp;
	/* edits route_rewrite() makes before the action */
	bool decrement_ttl;
	bool clamp;               /* clamp the TCP MSS to fit frames of clamp_mtu bytes */
	uint16_t clamp_mtu;
	/* switch mode */
	route_learn_t learn;
	subnet_t *learned;        /* REFRESH: the subnet */
} route_verdict_t;

route_verdict_t route_decide(const route_policy_t *policy, node_t *source, const uint8_t *frame, size_t len);

/* The verdict's edits to the frame: TTL (with the IPv4 checksum), MSS. */
void route_rewrite(const route_verdict_t *v, uint8_t *frame, size_t len);

/* Switch mode aging: one learned MAC subnet of self whose time is up at
 * 'now' (monotonic ns), or NULL. */
subnet_t *route_expired_mac(const node_t *self, uint64_t now);

/* A short text for a reason, for logs. */
const char *route_reason_text(route_reason_t reason);

#endif
