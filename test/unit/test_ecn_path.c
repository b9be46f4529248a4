/* ECN path validation (mesh/ecn_path.c) on a virtual clock, and the probe
 * frame (packet/ecn_probe_frame.c). */
#include "util/compat.h"

#include <string.h>

#include "mesh/ecn_path.h"
#include "packet/ecn_probe_frame.h"
#include "unit.h"

#define SEC 1000000000ULL
#define INTERVAL (5 * SEC)

/* What a path does to an outer TOS byte. */
typedef uint8_t (*path_fn)(uint8_t tos);
static uint8_t clean(uint8_t tos) { return tos; }
static uint8_t bleach_ecn(uint8_t tos) { return tos & 0xfc; }
static uint8_t ce_to_ect0(uint8_t tos) { return (tos & 3) == 3 ? (uint8_t)((tos & 0xfc) | 2) : tos; }
static uint8_t ect1_to_ect0(uint8_t tos) { return (tos & 3) == 1 ? (uint8_t)((tos & 0xfc) | 2) : tos; }
static uint8_t ect_to_ce(uint8_t tos) { return (tos & 3) ? (uint8_t)(tos | 3) : tos; }
static uint8_t bleach_dscp(uint8_t tos) { return tos & 3; }
static uint8_t ef_to_af41(uint8_t tos) { return (tos >> 2) == 46 ? (uint8_t)((34 << 2) | (tos & 3)) : tos; }

static ecn_probe_msg_t reply_for(uint16_t round, uint8_t index, uint8_t sent, uint8_t arrived) {
	ecn_probe_msg_t m;
	memset(&m, 0, sizeof(m));
	m.reply = true;
	m.round = round;
	m.index = index;
	m.sent_tos = sent;
	m.arrived_tos = arrived;
	return m;
}

/* One round through a path; 'lose_ect' drops every ECN-capable request. */
static void run_round(ecn_path_t *p, uint64_t *now, path_fn path, bool lose_ect) {
	uint16_t round = 0;
	CHECK_EQ_INT(ecn_path_due(p, *now, &round), ECN_PATH_SEND_ROUND);
	CHECK_EQ_INT(p->state, ECN_PATH_TESTING);
	for(int i = 0; i < ECN_PATH_ROUND_PROBES; i++) {
		uint8_t tos = ecn_path_round_tos[i];
		if(lose_ect && (tos & 3))
			continue;
		ecn_probe_msg_t m = reply_for(round, (uint8_t)i, tos, path(tos));
		ecn_path_reply(p, *now + SEC / 100, &m);
	}
	*now += SEC / 100;
	if(p->round_open) { /* not all answered: the round ends at its deadline */
		*now += ECN_PATH_ROUND_TIMEOUT_NS;
		uint16_t r;
		ecn_path_due(p, *now, &r);
	}
}

static ecn_path_t fresh(uint64_t now) {
	ecn_path_t p;
	memset(&p, 0, sizeof(p));
	ecn_path_start(&p, now, INTERVAL, NULL);
	return p;
}

static ecn_path_state_t verdict_of(path_fn path, bool lose_ect, dscp_path_state_t *dscp) {
	uint64_t now = 100 * SEC;
	ecn_path_t p = fresh(now);
	run_round(&p, &now, path, lose_ect);
	if(dscp)
		*dscp = p.dscp;
	return p.state;
}

static void test_round_verdicts(void) {
	dscp_path_state_t d;
	CHECK_EQ_INT(verdict_of(clean, false, &d), ECN_PATH_CAPABLE);
	CHECK_EQ_INT(d, DSCP_PATH_KEPT);
	CHECK_EQ_INT(verdict_of(bleach_ecn, false, &d), ECN_PATH_BLEACHED);
	CHECK_EQ_INT(d, DSCP_PATH_KEPT);
	CHECK_EQ_INT(verdict_of(clean, true, NULL), ECN_PATH_BLACK_HOLED);
	CHECK_EQ_INT(verdict_of(ce_to_ect0, false, NULL), ECN_PATH_CE_ERASED);
	CHECK_EQ_INT(verdict_of(ect1_to_ect0, false, NULL), ECN_PATH_MANGLED);
	/* a congested path marking ECT as CE is doing its job */
	CHECK_EQ_INT(verdict_of(ect_to_ce, false, NULL), ECN_PATH_CAPABLE);
	CHECK_EQ_INT(verdict_of(bleach_dscp, false, &d), ECN_PATH_CAPABLE);
	CHECK_EQ_INT(d, DSCP_PATH_BLEACHED);
	CHECK_EQ_INT(verdict_of(ef_to_af41, false, &d), ECN_PATH_CAPABLE);
	CHECK_EQ_INT(d, DSCP_PATH_REMAPPED);
}

static void test_one_lost_probe_is_no_verdict(void) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	uint16_t round;
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_ROUND);
	for(int i = 0; i < ECN_PATH_ROUND_PROBES; i++) {
		if(i == 2 || i == 7) /* one ECT(0) and one CE lost */
			continue;
		ecn_probe_msg_t m = reply_for(round, (uint8_t)i, ecn_path_round_tos[i], ecn_path_round_tos[i]);
		ecn_path_reply(&p, now, &m);
	}
	CHECK(p.round_open);
	CHECK_EQ_INT(ecn_path_due(&p, now + SEC - 1, &round), ECN_PATH_SEND_NOTHING);
	CHECK_EQ_INT(p.state, ECN_PATH_TESTING);
	ecn_path_due(&p, now + SEC, &round);
	CHECK_EQ_INT(p.state, ECN_PATH_CAPABLE);
}

static void test_no_answer_retries_with_backoff(void) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	uint16_t round;
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_ROUND);
	CHECK_EQ_INT(ecn_path_next_due(&p), now + ECN_PATH_ROUND_TIMEOUT_NS);
	now += ECN_PATH_ROUND_TIMEOUT_NS;
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_NOTHING);
	CHECK_EQ_INT(p.state, ECN_PATH_TESTING);
	CHECK_EQ_INT(ecn_path_next_due(&p), now + 2 * SEC);
	now += 2 * SEC;
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_ROUND);
	now += ECN_PATH_ROUND_TIMEOUT_NS;
	ecn_path_due(&p, now, &round);
	CHECK_EQ_INT(ecn_path_next_due(&p), now + 4 * SEC);
	/* never longer than the validation interval */
	for(int i = 0; i < 5; i++) {
		now = ecn_path_next_due(&p);
		ecn_path_due(&p, now, &round);
		now += ECN_PATH_ROUND_TIMEOUT_NS;
		ecn_path_due(&p, now, &round);
	}
	CHECK_EQ_INT(ecn_path_next_due(&p), now + INTERVAL);
	CHECK_EQ_INT(p.state, ECN_PATH_TESTING);
}

static void test_stale_replies_ignored(void) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	uint16_t round;
	ecn_path_due(&p, now, &round);
	ecn_probe_msg_t m = reply_for((uint16_t)(round + 1), 0, 0, 0);
	ecn_path_reply(&p, now, &m);
	m = reply_for(round, 2, 0, 0); /* claims another TOS than request 2 had */
	ecn_path_reply(&p, now, &m);
	m = reply_for(round, 11, 0, 0);
	ecn_path_reply(&p, now, &m);
	m = reply_for(round, 0, 0, 0);
	m.reply = false;
	ecn_path_reply(&p, now, &m);
	CHECK_EQ_INT(p.answered, 0);
}

static void test_revalidation_and_logging_once(void) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	bool vc;
	CHECK(ecn_path_take_change(&p, &vc));
	CHECK(!vc); /* testing is no verdict */
	run_round(&p, &now, clean, false);
	CHECK(ecn_path_take_change(&p, &vc));
	CHECK(vc);
	CHECK(!ecn_path_take_change(&p, &vc));
	uint16_t round;
	/* the first count request sets the base */
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_COUNT);
	CHECK(ecn_path_next_due(&p) <= now + INTERVAL);
	now += INTERVAL;
	run_round(&p, &now, clean, false);
	CHECK_EQ_INT(p.state, ECN_PATH_CAPABLE);
	CHECK(ecn_path_take_change(&p, &vc)); /* capable -> testing -> capable */
	CHECK(!vc);                           /* same verdict: no log line */
	/* the path breaks: the next round says so */
	now += INTERVAL;
	run_round(&p, &now, clean, true);
	CHECK_EQ_INT(p.state, ECN_PATH_BLACK_HOLED);
	CHECK(ecn_path_take_change(&p, &vc));
	CHECK(vc);
	/* repaired: capable again after the interval, not before */
	CHECK_EQ_INT(ecn_path_due(&p, now + INTERVAL - 1, &round), ECN_PATH_SEND_NOTHING);
	now += INTERVAL;
	run_round(&p, &now, clean, false);
	CHECK_EQ_INT(p.state, ECN_PATH_CAPABLE);
}

static void test_address_change_and_stop(void) {
	uint64_t now = SEC;
	sockaddr_u a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	sockaddr_parse("192.0.2.1", "655", &a);
	sockaddr_parse("192.0.2.2", "655", &b);
	ecn_path_t p;
	memset(&p, 0, sizeof(p));
	ecn_path_address(&p, now, &a); /* unknown: nothing starts */
	CHECK_EQ_INT(p.state, ECN_PATH_UNKNOWN);
	ecn_path_start(&p, now, INTERVAL, &a);
	run_round(&p, &now, clean, false);
	CHECK_EQ_INT(p.state, ECN_PATH_CAPABLE);
	ecn_path_address(&p, now, &a);
	CHECK_EQ_INT(p.state, ECN_PATH_CAPABLE);
	ecn_path_address(&p, now, &b);
	CHECK_EQ_INT(p.state, ECN_PATH_TESTING);
	uint16_t round;
	CHECK_EQ_INT(ecn_path_due(&p, now, &round), ECN_PATH_SEND_ROUND);
	ecn_path_stop(&p);
	CHECK_EQ_INT(p.state, ECN_PATH_UNKNOWN);
	CHECK_EQ_INT(p.dscp, DSCP_PATH_UNKNOWN);
	CHECK_EQ_INT(ecn_path_due(&p, now + 100 * SEC, &round), ECN_PATH_SEND_NOTHING);
	CHECK_EQ_INT(ecn_path_next_due(&p), 0);
}

/* Counting: a capable path, the base set; then 'sent' datagrams go out
 * (Not-ECT, ECT(1), ECT(0), CE) and 'arrived' reach the peer. */
static ecn_path_state_t counting(const uint32_t sent[4], const uint32_t arrived[4]) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	run_round(&p, &now, clean, false);
	uint32_t peer_rx[4] = {100, 0, 0, 0};
	uint16_t seq;
	CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_COUNT);
	peer_rx[0]++;
	ecn_probe_msg_t m = reply_for(seq, ECN_PROBE_COUNT_INDEX, 0, 0);
	memcpy(m.counts, peer_rx, sizeof(m.counts));
	ecn_path_reply(&p, now, &m);
	CHECK(p.have_base);
	for(int i = 0; i < 4; i++) {
		p.tx[i] += sent[i];
		peer_rx[i] += arrived[i];
	}
	now += ECN_PATH_COUNT_EVERY_NS;
	CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_COUNT);
	peer_rx[0]++;
	m = reply_for(seq, ECN_PROBE_COUNT_INDEX, 0, 0);
	memcpy(m.counts, peer_rx, sizeof(m.counts));
	ecn_path_reply(&p, now, &m);
	return p.state;
}

static void test_counting(void) {
	const uint32_t ect0_traffic[4] = {5, 0, 20, 0};
	const uint32_t all_arrived[4] = {5, 0, 20, 0};
	const uint32_t ect_vanished[4] = {5, 0, 0, 0};
	const uint32_t ect_bleached[4] = {25, 0, 0, 0};
	const uint32_t some_lost[4] = {4, 0, 3, 0};
	CHECK_EQ_INT(counting(ect0_traffic, all_arrived), ECN_PATH_CAPABLE);
	CHECK_EQ_INT(counting(ect0_traffic, ect_vanished), ECN_PATH_BLACK_HOLED);
	CHECK_EQ_INT(counting(ect0_traffic, ect_bleached), ECN_PATH_BLEACHED);
	CHECK_EQ_INT(counting(ect0_traffic, some_lost), ECN_PATH_CAPABLE);
	const uint32_t few_ect[4] = {5, 0, 7, 0};
	CHECK_EQ_INT(counting(few_ect, ect_vanished), ECN_PATH_CAPABLE); /* too few to judge */
	const uint32_t ce_traffic[4] = {0, 0, 5, 5};
	const uint32_t ce_as_ect0[4] = {0, 0, 10, 0};
	const uint32_t ce_marked_more[4] = {0, 0, 2, 8};
	CHECK_EQ_INT(counting(ce_traffic, ce_as_ect0), ECN_PATH_CE_ERASED);
	CHECK_EQ_INT(counting(ce_traffic, ce_marked_more), ECN_PATH_CAPABLE);
}

/* A slow ECN-capable flow into a black hole: three ECT(0) datagrams per
 * count window; the window grows until eight have gone out. */
static void test_counting_slow_flow(void) {
	uint64_t now = SEC;
	ecn_path_t p;
	memset(&p, 0, sizeof(p));
	ecn_path_start(&p, now, 60 * SEC, NULL); /* no re-validation meanwhile */
	run_round(&p, &now, clean, false);
	uint32_t peer_rx[4] = {50, 0, 0, 0};
	uint16_t seq;
	ecn_path_state_t seen[4];
	for(int w = 0; w < 4; w++) {
		CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_COUNT);
		peer_rx[0]++;
		ecn_probe_msg_t m = reply_for(seq, ECN_PROBE_COUNT_INDEX, 0, 0);
		memcpy(m.counts, peer_rx, sizeof(m.counts));
		ecn_path_reply(&p, now, &m);
		seen[w] = p.state;
		p.tx[2] += 3;
		now += ECN_PATH_COUNT_EVERY_NS;
	}
	CHECK_EQ_INT(seen[0], ECN_PATH_CAPABLE); /* the base */
	CHECK_EQ_INT(seen[1], ECN_PATH_CAPABLE); /* 3 sent: too few */
	CHECK_EQ_INT(seen[2], ECN_PATH_CAPABLE); /* 6 */
	CHECK_EQ_INT(seen[3], ECN_PATH_BLACK_HOLED); /* 9, none arrived */
}

static void test_counting_only_with_ect_traffic(void) {
	uint64_t now = SEC;
	ecn_path_t p = fresh(now);
	run_round(&p, &now, clean, false);
	uint16_t seq;
	CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_COUNT);
	ecn_probe_msg_t m = reply_for(seq, ECN_PROBE_COUNT_INDEX, 0, 0);
	ecn_path_reply(&p, now, &m);
	p.tx[0] += 50; /* Not-ECT traffic only */
	now += ECN_PATH_COUNT_EVERY_NS;
	CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_NOTHING);
	p.tx[2] += 1;
	now += ECN_PATH_COUNT_EVERY_NS;
	CHECK_EQ_INT(ecn_path_due(&p, now, &seq), ECN_PATH_SEND_COUNT);
	/* a reply to an older count request is ignored */
	m = reply_for((uint16_t)(seq - 1), ECN_PROBE_COUNT_INDEX, 0, 0);
	ecn_path_reply(&p, now, &m);
	CHECK(p.count_open);
}

static void test_frame(void) {
	uint8_t buf[64];
	ecn_probe_msg_t m, out;
	memset(&m, 0, sizeof(m));
	m.reply = true;
	m.round = 0x1234;
	m.index = 7;
	m.sent_tos = 3;
	m.arrived_tos = 2;
	m.counts[0] = 1;
	m.counts[3] = 0xdeadbeef;
	CHECK_EQ_INT(ecn_probe_build(&m, buf, 39), 0);
	CHECK_EQ_INT(ecn_probe_build(&m, buf, sizeof(buf)), ECN_PROBE_FRAME_LEN);
	CHECK_EQ_INT(buf[0], 0x65);
	CHECK_EQ_INT(buf[12] | buf[13], 0);
	CHECK_EQ_INT(ecn_probe_parse(buf, ECN_PROBE_FRAME_LEN, &out), ECN_PROBE_OK);
	CHECK(out.reply);
	CHECK_EQ_INT(out.round, 0x1234);
	CHECK_EQ_INT(out.index, 7);
	CHECK_EQ_INT(out.sent_tos, 3);
	CHECK_EQ_INT(out.arrived_tos, 2);
	CHECK_EQ_INT(out.counts[3], 0xdeadbeef);
	CHECK_EQ_INT(ecn_probe_parse(buf, sizeof(buf), &out), ECN_PROBE_OK); /* trailing bytes ignored */
	CHECK_EQ_INT(ecn_probe_parse(buf, 39, &out), ECN_PROBE_MALFORMED);
	buf[1] = 2;
	CHECK_EQ_INT(ecn_probe_parse(buf, ECN_PROBE_FRAME_LEN, &out), ECN_PROBE_MALFORMED);
	/* a request carries no counts on the wire */
	m.reply = false;
	ecn_probe_build(&m, buf, sizeof(buf));
	CHECK_EQ_INT(buf[0], 0x45);
	CHECK_EQ_INT(ecn_probe_parse(buf, ECN_PROBE_FRAME_LEN, &out), ECN_PROBE_OK);
	CHECK(!out.reply);
	CHECK_EQ_INT(out.counts[3], 0);
	/* PMTU probes (byte 0 = 0, 1, 2) and data frames are not ours */
	for(int k = 0; k < 3; k++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t)k;
		CHECK_EQ_INT(ecn_probe_parse(buf, 64, &out), ECN_PROBE_NOT_PROBE);
	}
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x45;
	buf[12] = 0x08;
	CHECK_EQ_INT(ecn_probe_parse(buf, 64, &out), ECN_PROBE_NOT_PROBE);
	CHECK_EQ_INT(ecn_probe_parse(buf, 13, &out), ECN_PROBE_NOT_PROBE);
}

int main(void) {
	test_round_verdicts();
	test_one_lost_probe_is_no_verdict();
	test_no_answer_retries_with_backoff();
	test_stale_replies_ignored();
	test_revalidation_and_logging_once();
	test_address_change_and_stop();
	test_counting();
	test_counting_slow_flow();
	test_counting_only_with_ect_traffic();
	test_frame();
	return unit_done();
}
