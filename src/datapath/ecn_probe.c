/* ECN path validation on the wire (see ecn_probe.h). The decisions are in
 * mesh/ecn_path.c; here are the timer, the frames and the log lines. */
#include "util/compat.h"

#include "config/settings.h"
#include "datapath/ecn_probe.h"
#include "datapath/seal.h"
#include "mesh/ecn_path.h"
#include "packet/ecn_probe_frame.h"
#include "util/clock.h"
#include "util/log.h"

/* How often a watched node that cannot be probed yet is looked at again:
 * soon while its key or address is on the way, seldom while it is reached
 * only through a relay or not at all; and the longest sleep otherwise (so a
 * lost key or a new address is noticed within a second). */
#define WAIT_FOR_KEY_NS (250 * NSEC_PER_MSEC)
#define WAIT_FOR_PATH_NS NSEC_PER_SEC
#define LONGEST_SLEEP_NS NSEC_PER_SEC

static ecn_probe_changed_fn on_change;

static void tick(void *data);

/* Probes go only to the node itself, never through a relay. */
static bool can_probe(const node_t *n) {
	return n->status.reachable && n->tx_key.valid && n->address.sa.sa_family && n->via == n;
}

static void send_probe(node_t *n, const ecn_probe_msg_t *m, uint8_t tos) {
	static frame_buf_t f;
	f.len = (uint16_t)ecn_probe_build(m, f.data, sizeof(f.data));
	f.tcp = false;
	seal_and_send_tos(n, &f, tos);
}

static void send_probe_request(node_t *n, uint16_t round, uint8_t index, uint8_t tos) {
	ecn_probe_msg_t m = {.reply = false, .round = round, .index = index, .sent_tos = tos};
	send_probe(n, &m, tos);
}

/* What a path that fails validation does, for the log. */
static const char *broken_path_text(ecn_path_state_t s) {
	switch(s) {
	case ECN_PATH_BLEACHED: return "clears the ECN field";
	case ECN_PATH_BLACK_HOLED: return "drops ECN-capable datagrams";
	case ECN_PATH_CE_ERASED: return "erases CE marks";
	default: return "rewrites ECT(0) and ECT(1)";
	}
}

static void log_verdict(node_t *n, bool verdict_changed) {
	const ecn_path_t *p = &n->ecn_path;
	int next = settings.ecn_validation_interval;
	int level = verdict_changed ? VERBOSITY_ERRORS : VERBOSITY_TRAFFIC;
	const char *dscp = dscp_path_state_name(p->dscp);
	switch(p->state) {
	case ECN_PATH_UNKNOWN:
		LOG(VERBOSITY_STATUS, LOG_DEBUG, "ECN path check of %s (%s) stopped: it is unreachable or we have no key for it", n->name, n->hostname);
		break;
	case ECN_PATH_TESTING:
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Checking what the path to %s (%s) does to ECN and DSCP", n->name, n->hostname);
		break;
	case ECN_PATH_CAPABLE:
		LOG(verdict_changed ? VERBOSITY_STATUS : VERBOSITY_TRAFFIC, LOG_INFO,
		    "Path to %s (%s) carries ECN intact (DSCP %s); packets to it may go in RFC 6040 normal mode", n->name, n->hostname, dscp);
		break;
	case ECN_PATH_BLEACHED:
	case ECN_PATH_BLACK_HOLED:
	case ECN_PATH_CE_ERASED:
	case ECN_PATH_MANGLED:
		LOG(level, LOG_WARNING, "Path to %s (%s) %s (DSCP %s): packets to it go with Not-ECT outer headers; checking again in %d s",
		    n->name, n->hostname, broken_path_text(p->state), dscp, next);
		break;
	}
}

/* Log a change and let the mode be recomputed. */
static void announce_change(node_t *n) {
	bool verdict_changed;
	if(!ecn_path_take_change(&n->ecn_path, &verdict_changed))
		return;
	log_verdict(n, verdict_changed);
	if(on_change)
		on_change(n);
}

static void tick(void *data) {
	node_t *n = data;
	ecn_path_t *p = &n->ecn_path;
	uint64_t now = now_ns;
	if(!p->watched)
		return;
	if(!can_probe(n)) {
		if(p->state != ECN_PATH_UNKNOWN) {
			ecn_path_stop(p);
			announce_change(n);
			if(!p->watched)
				return;
		}
		bool direct = n->status.reachable && n->via == n;
		timer_set(&n->ecn_probe_timer, direct ? WAIT_FOR_KEY_NS : WAIT_FOR_PATH_NS, tick, n);
		return;
	}
	uint64_t interval = sec_to_ns((uint64_t)settings.ecn_validation_interval);
	if(p->state == ECN_PATH_UNKNOWN)
		ecn_path_start(p, now, interval, &n->address);
	else
		ecn_path_address(p, now, &n->address);
	p->interval_ns = interval; /* SIGHUP may have changed it: from the next verdict on */
	uint16_t round;
	ecn_path_action_t a;
	while((a = ecn_path_due(p, now, &round)) != ECN_PATH_SEND_NOTHING) {
		if(a == ECN_PATH_SEND_ROUND) {
			LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "ECN path probes, round %u, to %s (%s)", round, n->name, n->hostname);
			for(int i = 0; i < ECN_PATH_ROUND_PROBES; i++)
				send_probe_request(n, round, (uint8_t)i, ecn_path_round_tos[i]);
		} else {
			send_probe_request(n, round, ECN_PROBE_COUNT_INDEX, 0);
		}
	}
	announce_change(n);
	if(!p->watched)
		return; /* the new mode made the check pointless */
	uint64_t due = ecn_path_next_due(p);
	uint64_t delay = due > now ? due - now : 0;
	timer_set(&n->ecn_probe_timer, delay < LONGEST_SLEEP_NS ? delay : LONGEST_SLEEP_NS, tick, n);
}

void ecn_probe_watch(node_t *n, bool wanted, ecn_probe_changed_fn changed) {
	ecn_path_t *p = &n->ecn_path;
	on_change = changed;
	p->watched = wanted;
	if(wanted) {
		if(!timer_armed(&n->ecn_probe_timer))
			timer_set(&n->ecn_probe_timer, 0, tick, n);
		return;
	}
	timer_del(&n->ecn_probe_timer);
	if(p->state != ECN_PATH_UNKNOWN) {
		bool verdict_changed;
		ecn_path_stop(p);
		ecn_path_take_change(p, &verdict_changed);
		LOG(VERBOSITY_STATUS, LOG_DEBUG, "ECN path check of %s (%s) stopped: packets to it go in compatibility mode anyway", n->name, n->hostname);
	}
}

static void answer(node_t *n, const ecn_probe_msg_t *req, uint8_t arrived_tos) {
	ecn_probe_msg_t m = *req;
	m.reply = true;
	m.arrived_tos = arrived_tos;
	for(int i = 0; i < 4; i++)
		m.counts[i] = n->ecn_path.rx[i];
	/* Not-ECT and DSCP 0: the answer must get through whatever the path does to marks */
	send_probe(n, &m, 0);
}

bool ecn_probe_received(node_t *n, frame_buf_t *packet) {
	ecn_path_count_rx(&n->ecn_path, packet->outer_tos);
	ecn_probe_msg_t m;
	ecn_probe_parse_t r = ecn_probe_parse(packet->data, packet->len, &m);
	if(r == ECN_PROBE_NOT_PROBE)
		return false;
	if(r == ECN_PROBE_MALFORMED) {
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "ECN path probe of %u bytes from %s (%s) dropped: too short or of an unknown version",
		    packet->len, n->name, n->hostname);
		return true;
	}
	if(!m.reply) {
		answer(n, &m, packet->outer_tos);
		return true;
	}
	ecn_path_reply(&n->ecn_path, now_ns, &m);
	if(n->ecn_path.changed && n->ecn_path.watched) {
		announce_change(n);
		timer_set(&n->ecn_probe_timer, 0, tick, n); /* a closed round may want a count request now */
	}
	return true;
}
