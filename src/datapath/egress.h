/* The egress queue (FQ-CoDel plus an optional shaper) between routing and
 * the UDP sockets. See egress.c. */
#ifndef FQTINC_EGRESS_H
#define FQTINC_EGRESS_H

#include <stdint.h>

#include "util/compat.h"
#include "aqm/fq_codel.h"
#include "packet/packet.h"

struct node;

typedef struct egress_config {
	uint64_t target_ns, interval_ns;   /* 0 = default */
	uint32_t quantum, flows, limit;    /* 0 = default */
	uint64_t memory_limit;             /* 0 = default */
	bool ecn;
	uint64_t shaper_bps;               /* 0 = no shaping */
	uint32_t shaper_overhead;          /* bytes per packet beyond the inner frame */
	uint64_t ingress_ce_threshold_ns;  /* receive side, see ingress.h; 0 = off */
	uint64_t ingress_drop_threshold_ns; /* likewise */
	uint64_t ingress_target_ns;   /* receive-side CoDel; 0 = the RFC 8289 default */
	uint64_t ingress_interval_ns;
	uint64_t l4s_threshold_ns;         /* ECT(1) marking, see fq_codel.h; 0 = off */
} egress_config_t;

bool egress_init(const egress_config_t *cfg);
void egress_exit(void);
/* Queue a frame for UDP delivery to 'via': the held buffer itself, unless
 * it is shared, else a copy. */
void egress_enqueue(struct node *via, const frame_buf_t *packet);
/* A queue buffer to read a frame into, so that a frame that goes to one
 * node by UDP is queued without a copy; NULL if one is already held or no
 * buffer is free. Give it back with egress_release_held() once routed. */
frame_buf_t *egress_hold(void);
/* The held frame goes to several nodes: each gets a copy. */
void egress_share_held(void);
/* Release the held buffer unless egress_enqueue() took it. */
void egress_release_held(void);
/* Send what the sockets and the shaper allow, up to a per-turn budget;
 * true if frames are left that could go right away. */
bool egress_run(void);
/* How many frames to read from the device this turn, at most 'most'. */
int egress_read_budget(int most);
/* Once in a while: an empty queue gives back the buffers a burst made it
 * allocate (a flood must not leave the daemon big for good). */
void egress_trim(void);
/* A node is going away: drop its queued packets. */
void egress_forget_node(const struct node *n);
void egress_dump(void);
/* The queue's counters (read only); false before the queue exists. */
bool egress_get_stats(fq_codel_stats_t *st);

#endif
