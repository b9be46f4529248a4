/* ECN and DSCP path validation, the decisions (see ecn_path.h). */
#include "util/compat.h"

#include <string.h>

#include "mesh/ecn_path.h"

#define NOT_ECT 0
#define ECT1 1
#define ECT0 2
#define CE 3

/* Two of each ECN codepoint with DSCP 0, so that one lost datagram does not
 * make a verdict; then three DSCPs (CS1, AF41, EF) with Not-ECT. */
const uint8_t ecn_path_round_tos[ECN_PATH_ROUND_PROBES] = {
	NOT_ECT, NOT_ECT, ECT0, ECT0, ECT1, ECT1, CE, CE, 8 << 2, 34 << 2, 46 << 2,
};

/* The requests sent Not-ECT: an answer to one proves the path works at all. */
#define CONTROL_MASK ((1u << 0) | (1u << 1) | (1u << 8) | (1u << 9) | (1u << 10))
#define ALL_MASK ((1u << ECN_PATH_ROUND_PROBES) - 1)

const char *ecn_path_state_name(ecn_path_state_t s) {
	switch(s) {
	case ECN_PATH_UNKNOWN: return "unknown";
	case ECN_PATH_TESTING: return "testing";
	case ECN_PATH_CAPABLE: return "capable";
	case ECN_PATH_BLEACHED: return "bleached";
	case ECN_PATH_BLACK_HOLED: return "black-holed";
	case ECN_PATH_CE_ERASED: return "CE-erased";
	case ECN_PATH_MANGLED: return "mangled";
	}
	return "?";
}

const char *dscp_path_state_name(dscp_path_state_t s) {
	switch(s) {
	case DSCP_PATH_UNKNOWN: return "unknown";
	case DSCP_PATH_KEPT: return "kept";
	case DSCP_PATH_BLEACHED: return "bleached";
	case DSCP_PATH_REMAPPED: return "remapped";
	}
	return "?";
}

static void set_state(ecn_path_t *p, ecn_path_state_t s) {
	if(s == p->state)
		return;
	p->state = s;
	p->changed = true;
	if(s != ECN_PATH_TESTING && s != p->verdict) {
		p->verdict = s;
		p->verdict_changed = true;
	}
}

bool ecn_path_take_change(ecn_path_t *p, bool *verdict_changed) {
	bool c = p->changed;
	*verdict_changed = p->verdict_changed;
	p->changed = p->verdict_changed = false;
	return c;
}

static void forget_counts(ecn_path_t *p) {
	p->count_open = false;
	p->have_base = false;
}

void ecn_path_start(ecn_path_t *p, uint64_t now, uint64_t interval_ns, const sockaddr_u *address) {
	p->interval_ns = interval_ns ? interval_ns : 1;
	if(address)
		p->address = *address;
	p->round_open = false;
	p->failed_rounds = 0;
	p->next_round_ns = now;
	forget_counts(p);
	set_state(p, ECN_PATH_TESTING);
}

void ecn_path_stop(ecn_path_t *p) {
	p->round_open = false;
	forget_counts(p);
	set_state(p, ECN_PATH_UNKNOWN);
	p->dscp = DSCP_PATH_UNKNOWN;
}

void ecn_path_address(ecn_path_t *p, uint64_t now, const sockaddr_u *address) {
	if(p->state == ECN_PATH_UNKNOWN || !sockaddr_cmp(&p->address, address))
		return;
	ecn_path_start(p, now, p->interval_ns, address);
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
	return a < b ? a : b;
}

static bool answered(const ecn_path_t *p, int i) {
	return p->answered & (1u << i);
}

/* The ECN verdict of a round whose control requests were answered. */
static ecn_path_state_t judge_ecn(const ecn_path_t *p) {
	static const uint8_t kinds[] = {ECT0, ECT1, CE};
	bool any_ect_arrived = false;
	for(int k = 0; k < 3; k++) {
		int a = 2 + 2 * k, b = a + 1;
		if(!answered(p, a) && !answered(p, b))
			return ECN_PATH_BLACK_HOLED;
		for(int i = a; i <= b; i++)
			if(answered(p, i) && (p->arrived[i] & 3) != NOT_ECT)
				any_ect_arrived = true;
	}
	if(!any_ect_arrived)
		return ECN_PATH_BLEACHED;
	bool mangled = false;
	for(int k = 0; k < 3; k++) {
		for(int i = 2 + 2 * k; i <= 3 + 2 * k; i++) {
			if(!answered(p, i))
				continue;
			uint8_t got = p->arrived[i] & 3;
			if(kinds[k] == CE && got != CE)
				return ECN_PATH_CE_ERASED;
			/* a congested router may turn ECT into CE: that is the point */
			if(got != kinds[k] && got != CE)
				mangled = true;
		}
	}
	return mangled ? ECN_PATH_MANGLED : ECN_PATH_CAPABLE;
}

static dscp_path_state_t judge_dscp(const ecn_path_t *p) {
	int n = 0, kept = 0, zero = 0;
	for(int i = 8; i < ECN_PATH_ROUND_PROBES; i++) {
		if(!answered(p, i))
			continue;
		n++;
		uint8_t got = p->arrived[i] >> 2;
		if(got == ecn_path_round_tos[i] >> 2)
			kept++;
		else if(!got)
			zero++;
	}
	if(!n)
		return DSCP_PATH_UNKNOWN;
	if(kept == n)
		return DSCP_PATH_KEPT;
	if(zero == n)
		return DSCP_PATH_BLEACHED;
	return DSCP_PATH_REMAPPED;
}

static void close_round(ecn_path_t *p, uint64_t now) {
	p->round_open = false;
	if(!(p->answered & CONTROL_MASK)) {
		/* no answer at all: the path, the peer or the key is down; try again, less often */
		unsigned shift = p->failed_rounds < 16 ? p->failed_rounds : 16;
		p->failed_rounds++;
		p->next_round_ns = now + min_u64(ECN_PATH_RETRY_NS << shift, p->interval_ns > ECN_PATH_RETRY_NS ? p->interval_ns : ECN_PATH_RETRY_NS);
		return;
	}
	p->failed_rounds = 0;
	p->dscp = judge_dscp(p);
	p->next_round_ns = now + p->interval_ns;
	forget_counts(p);
	p->next_count_ns = now; /* the first count reply is the base to compare with */
	set_state(p, judge_ecn(p));
}

/* Counting (RFC 9000 §13.4.2): what arrived since the last reply against
 * what we sent in the same window. */
static void take_base(ecn_path_t *p, const uint32_t got[4]) {
	memcpy(p->base_tx, p->count_tx, sizeof(p->base_tx));
	memcpy(p->base_rx, got, sizeof(p->base_rx));
	p->have_base = true;
}

static void judge_counts(ecn_path_t *p, uint64_t now, const uint32_t got[4]) {
	uint32_t s[4], a[4];
	if(!p->have_base || p->state != ECN_PATH_CAPABLE) {
		take_base(p, got);
		return;
	}
	for(int i = 0; i < 4; i++) {
		s[i] = p->count_tx[i] - p->base_tx[i];
		a[i] = got[i] - p->base_rx[i];
	}
	/* Too little to judge yet: the window grows until it is enough, so
	 * that slow traffic into a black hole is found too. */
	if((uint64_t)s[ECT0] + s[ECT1] + s[CE] < ECN_PATH_COUNT_MIN_ECT && s[CE] < ECN_PATH_COUNT_MIN_CE)
		return;
	take_base(p, got);
	uint64_t sent_ect = (uint64_t)s[ECT0] + s[ECT1] + s[CE];
	uint64_t got_ect = (uint64_t)a[ECT0] + a[ECT1] + a[CE];
	ecn_path_state_t v = ECN_PATH_CAPABLE;
	if(sent_ect >= ECN_PATH_COUNT_MIN_ECT && got_ect == 0)
		v = (uint64_t)a[NOT_ECT] >= (uint64_t)s[NOT_ECT] + sent_ect / 2 ? ECN_PATH_BLEACHED : ECN_PATH_BLACK_HOLED;
	else if(s[CE] >= ECN_PATH_COUNT_MIN_CE && a[CE] == 0 && (uint64_t)a[ECT0] + a[ECT1] > (uint64_t)s[ECT0] + s[ECT1])
		v = ECN_PATH_CE_ERASED;
	if(v != ECN_PATH_CAPABLE) {
		p->next_round_ns = now + p->interval_ns;
		set_state(p, v);
	}
}

static uint32_t ect_total(const uint32_t c[4]) {
	return c[ECT0] + c[ECT1] + c[CE];
}

ecn_path_action_t ecn_path_due(ecn_path_t *p, uint64_t now, uint16_t *round) {
	if(p->state == ECN_PATH_UNKNOWN)
		return ECN_PATH_SEND_NOTHING;
	if(p->round_open) {
		if(now < p->round_deadline_ns)
			return ECN_PATH_SEND_NOTHING;
		close_round(p, now);
	}
	if(now >= p->next_round_ns) {
		p->round++;
		p->round_open = true;
		p->round_deadline_ns = now + ECN_PATH_ROUND_TIMEOUT_NS;
		p->answered = 0;
		memset(p->arrived, 0, sizeof(p->arrived));
		forget_counts(p);
		set_state(p, ECN_PATH_TESTING);
		*round = p->round;
		return ECN_PATH_SEND_ROUND;
	}
	if(p->state != ECN_PATH_CAPABLE || now < p->next_count_ns)
		return ECN_PATH_SEND_NOTHING;
	p->next_count_ns = now + ECN_PATH_COUNT_EVERY_NS;
	/* an unanswered count request is simply lost; the base stays */
	p->count_open = false;
	if(p->have_base && ect_total(p->tx) == ect_total(p->count_tx))
		return ECN_PATH_SEND_NOTHING; /* nothing ECN-capable went out since the last request */
	p->count_open = true;
	p->count_seq++;
	memcpy(p->count_tx, p->tx, sizeof(p->count_tx));
	p->count_tx[NOT_ECT]++; /* the count request itself */
	*round = p->count_seq;
	return ECN_PATH_SEND_COUNT;
}

uint64_t ecn_path_next_due(const ecn_path_t *p) {
	if(p->state == ECN_PATH_UNKNOWN)
		return 0;
	if(p->round_open)
		return p->round_deadline_ns;
	uint64_t t = p->next_round_ns;
	if(p->state == ECN_PATH_CAPABLE)
		t = min_u64(t, p->next_count_ns);
	return t;
}

void ecn_path_reply(ecn_path_t *p, uint64_t now, const ecn_probe_msg_t *m) {
	if(!m->reply || p->state == ECN_PATH_UNKNOWN)
		return;
	if(m->index == ECN_PROBE_COUNT_INDEX) {
		if(p->count_open && m->round == p->count_seq) {
			p->count_open = false;
			judge_counts(p, now, m->counts);
		}
		return;
	}
	if(!p->round_open || m->round != p->round || m->index >= ECN_PATH_ROUND_PROBES ||
	   m->sent_tos != ecn_path_round_tos[m->index])
		return;
	p->answered |= (uint16_t)(1u << m->index);
	p->arrived[m->index] = m->arrived_tos;
	if((p->answered & ALL_MASK) == ALL_MASK)
		close_round(p, now);
}
