/* The egress queue: every frame that leaves by UDP waits here, in the
 * daemon's own FQ-CoDel, instead of in a kernel FIFO. Frames are encrypted
 * only when they are dequeued, i.e. when the socket can take them and the
 * optional shaper allows, so the standing queue is the one CoDel manages and
 * a CE mark lands on the inner packet before it is sealed. */
#include "util/compat.h"

#include <string.h>

#include "util/clock.h"
#include "packet/crypto.h"
#include "datapath/egress.h"
#include "util/event.h"
#include "aqm/fq_codel.h"
#include "util/log.h"
#include "mesh/node.h"
#include "datapath/seal.h"
#include "aqm/shaper.h"
#include "io/sockets.h"
#include "io/udp_tx.h"

static fq_codel_t *queue;
static shaper_t shaper;
static bool shaping;
static ev_timer_t shaper_timer;

/* Per-node accounting of what FQ-CoDel did to a node's packets. */
static void observe(void *tag, fq_codel_event_t ev, uint32_t len) {
	(void)len;
	node_t *n = tag;
	if(!n)
		return;
	if(ev == FQ_EVENT_CE_MARK) {
		n->stats.q_ce++;
		return;
	}
	if(n->stats.q_backlog)
		n->stats.q_backlog--;
	if(ev == FQ_EVENT_DROP_CODEL)
		n->stats.q_drop_codel++;
	else if(ev == FQ_EVENT_DROP_OVERLIMIT || ev == FQ_EVENT_DROP_MEMORY)
		n->stats.q_drop_limit++;
}

static void account_dequeued(node_t *to, const frame_buf_t *p) {
	uint64_t sojourn = codel_sojourn(p, now_ns);
	if(to->stats.q_backlog)
		to->stats.q_backlog--;
	to->stats.q_sent++;
	to->stats.q_sojourn_sum_ns += sojourn;
	if(sojourn > to->stats.q_sojourn_max_ns)
		to->stats.q_sojourn_max_ns = sojourn;
}

bool egress_init(const egress_config_t *cfg) {
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.quantum = MTU;
	p.mtu = MTU;
	if(cfg->target_ns)
		p.target_ns = cfg->target_ns;
	if(cfg->interval_ns)
		p.interval_ns = cfg->interval_ns;
	if(cfg->quantum)
		p.quantum = cfg->quantum;
	if(cfg->flows)
		p.flows = cfg->flows;
	if(cfg->limit)
		p.limit = cfg->limit;
	if(cfg->memory_limit)
		p.memory_limit = cfg->memory_limit;
	p.ecn = cfg->ecn;
	p.l4s_threshold_ns = cfg->l4s_threshold_ns;
	randomize(&p.hash_salt, sizeof(p.hash_salt));
	if(queue) {
		egress_release_held();
		fq_codel_free(queue); /* its packets go, and with them the backlogs */
		sset_foreach(node_t, n, &nodes_by_name)
			n->stats.q_backlog = 0;
	}
	queue = fq_codel_new(&p);
	if(!queue) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "FQ-CoDel refused its settings; check FQCoDelTarget, FQCoDelInterval, FQCoDelQuantum, FQCoDelFlows, FQCoDelLimit and FQCoDelMemoryLimit");
		return false;
	}
	fq_codel_set_observer(queue, observe);
	shaping = cfg->shaper_bps > 0;
	if(shaping) {
		shaper_init(&shaper, cfg->shaper_bps, 0);
		shaper_set_overhead(&shaper, cfg->shaper_overhead, SHAPER_FRAMING_NONE);
		logger(VERBOSITY_ERRORS, LOG_INFO, "Shaping egress to %llu bit/s (+%u bytes per packet)",
		       (unsigned long long)cfg->shaper_bps, cfg->shaper_overhead);
	}
	return true;
}

void egress_exit(void) {
	timer_del(&shaper_timer);
	egress_release_held();
	if(queue)
		fq_codel_free(queue);
	queue = NULL;
}

/* The buffer handed out by egress_hold(), while it is neither queued nor
 * released; 'shared' once it is to go to more than one node. */
static frame_buf_t *held;
static bool held_shared;

frame_buf_t *egress_hold(void) {
	if(!queue || held)
		return NULL;
	held = fq_codel_slot(queue);
	held_shared = false;
	return held;
}

void egress_share_held(void) {
	held_shared = true;
}

void egress_release_held(void) {
	if(held)
		fq_codel_release(queue, held);
	held = NULL;
}

void egress_enqueue(node_t *via, const frame_buf_t *packet) {
	frame_buf_t *slot;
	if(packet == held && !held_shared) {
		/* read straight into the queue: nothing to copy */
		slot = held;
		held = NULL;
	} else {
		/* A copy. A shared held buffer stays held until the last copy is
		 * made: queued, the limits could drop it and hand it out again. */
		slot = fq_codel_slot(queue);
		if(!slot) {
			LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "Egress queue has no free buffer: frame for %s dropped", via->name);
			return;
		}
		slot->len = packet->len;
		slot->outer_tos = packet->outer_tos;
		slot->outer_ttl = packet->outer_ttl;
		slot->tcp = packet->tcp;
		slot->tstamp_ns = packet->tstamp_ns;
		memcpy(slot->data, packet->data, packet->len);
	}
	if(!slot->tstamp_ns)
		slot->tstamp_ns = now_ns;
	via->stats.q_backlog++; /* before: the limits may drop this very packet */
	fq_codel_enqueue(queue, slot, now_ns, via);
}

static void shaper_wakeup(void *data) {
	(void)data;
	egress_run();
	udp_tx_flush_all();
}

/* Dequeue at most EGRESS_BUDGET frames per loop turn, so reading the device
 * and the sockets (cheap) keeps up with sealing (expensive) and the backlog
 * stays here, under CoDel, rather than in the tun device's kernel queue. */
#define EGRESS_BUDGET 64
/* How many frames the device may give us this turn. Everything, as long as
 * the queue is what CoDel keeps a responsive load to: a frame left in the
 * tun device waits in a FIFO, where a ping stands behind bulk frames for as
 * long as the daemon is not scheduled, and overflows it when that lasts a
 * few milliseconds. Only a queue far longer than CoDel lets responsive flows
 * keep (4096 frames, about 50 ms at 1 Gbit/s) means an unresponsive flood:
 * then twice the send budget per turn, and the flood's excess stays in the
 * device queue, where dropping it costs us nothing (reading is a system call
 * per frame, and a turn that read 1024 frames to send 64 would starve the
 * flows that behave). */
#define EGRESS_BACKLOGGED (64 * EGRESS_BUDGET)

int egress_read_budget(int most) {
	if(queue && fq_codel_backlog_packets(queue) > EGRESS_BACKLOGGED)
		return MIN(2 * EGRESS_BUDGET, most);
	return most;
}

/* Once the socket has pushed back, hand the kernel only a couple of frames
 * at a time: frames sealed into a sendmmsg batch that then has to wait form
 * a FIFO outside FQ-CoDel, which would make a sparse flow wait behind a bulk
 * one. Full batches resume once the socket has not blocked for a while. */
#define EGRESS_CONGESTED_BATCH 2
#define EGRESS_CONGESTED_HOLD_NS (100 * NSEC_PER_MSEC)

static uint64_t last_blocked_ns;

static bool any_socket_blocked(void) {
	return udp_tx_any_blocked();
}

bool egress_run(void) {
	if(!queue)
		return false;
	bool congested = last_blocked_ns && now_ns - last_blocked_ns < EGRESS_CONGESTED_HOLD_NS;
	for(int sent = 0;; sent++) {
		if(congested && sent && sent % EGRESS_CONGESTED_BATCH == 0)
			udp_tx_flush_all();
		if(any_socket_blocked()) {
			last_blocked_ns = now_ns;
			return false; /* resumed when the socket is writable again */
		}
		if(!fq_codel_backlog_packets(queue))
			return false;
		if(sent == EGRESS_BUDGET)
			return true;
		now_ns = clock_now_ns();
		if(shaping && !shaper_may_send(&shaper, now_ns, 0)) {
			if(!timer_armed(&shaper_timer))
				timer_set(&shaper_timer, shaper_next_time(&shaper, now_ns, 0) - now_ns, shaper_wakeup, NULL);
			return false;
		}
		void *tag = NULL;
		frame_buf_t *p = fq_codel_dequeue(queue, now_ns, &tag);
		if(!p)
			return false;
		node_t *to = tag;
		if(to)
			account_dequeued(to, p);
		if(to && to->status.reachable) {
			seal_and_send(to, p);
			if(shaping)
				shaper_account(&shaper, now_ns, p->len);
		}
		fq_codel_release(queue, p);
	}
}

/* Buffers an empty queue keeps: a few turns' worth. */
#define EGRESS_KEEP_SLOTS 512

void egress_trim(void) {
	if(!queue)
		return;
	size_t freed = fq_codel_trim(queue, EGRESS_KEEP_SLOTS);
	if(freed) {
		compat_release_free_memory();
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Egress queue empty: gave back %zu bytes of packet buffers", freed);
	}
}

void egress_forget_node(const node_t *n) {
	if(queue)
		fq_codel_forget_tag(queue, n);
}

bool egress_get_stats(fq_codel_stats_t *st) {
	if(!queue)
		return false;
	fq_codel_get_stats(queue, st);
	return true;
}

void egress_dump(void) {
	if(!queue)
		return;
	fq_codel_stats_t st;
	fq_codel_get_stats(queue, &st);
	logger(VERBOSITY_ERRORS, LOG_DEBUG,
	       " egress fq_codel: packets %llu bytes %llu, dropped codel %llu overlimit %llu memory %llu, CE marked %llu,"
	       " backlog %u packets %llu bytes, sojourn max %.3f ms avg %.3f ms, flows new %u old %u, buffers %u (%llu bytes)",
	       (unsigned long long)st.dequeued_packets, (unsigned long long)st.dequeued_bytes,
	       (unsigned long long)st.drop_codel, (unsigned long long)st.drop_overlimit, (unsigned long long)st.drop_memory,
	       (unsigned long long)st.ce_marks, st.backlog_packets, (unsigned long long)st.backlog_bytes,
	       st.sojourn_max_ns / 1e6, st.sojourn_avg_ns / 1e6, st.new_flows_len, st.old_flows_len,
	       st.slots_allocated, (unsigned long long)st.memory_bytes);
	if(shaping)
		logger(VERBOSITY_ERRORS, LOG_DEBUG, " shaper: %llu bit/s, %llu packets, %llu wire bytes",
		       (unsigned long long)shaper.rate_bps, (unsigned long long)shaper.packets, (unsigned long long)shaper.wire_bytes);
}
