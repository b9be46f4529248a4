/* When datagrams to a peer may leave from several ports. */
#include "util/compat.h"

#include "datapath/port_spread.h"
#include "mesh/options.h"
#include "unit.h"

int main(void) {
	uint32_t capable = 0xc | OPTION_UDP_PORTS;
	CHECK(port_spread_allowed(64, capable, true, true, false));
	CHECK(!port_spread_allowed(1, capable, true, true, false));          /* UDPPorts = 1: off */
	CHECK(!port_spread_allowed(64, 0xc, true, true, false));             /* tinc, older fqtinc */
	CHECK(!port_spread_allowed(64, 0xc | OPTION_ECN_RFC6040 | OPTION_ECN_PATH_PROBES, true, true, false));
	CHECK(!port_spread_allowed(64, capable, false, true, false));        /* through a relay */
	CHECK(!port_spread_allowed(64, capable, true, false, false));        /* it has not answered our own port yet */
	CHECK(!port_spread_allowed(64, capable, true, true, true));          /* PMTU and ECN probes */
	CHECK(!port_spread_allowed(64, capable | OPTION_TCPONLY, true, true, false));

	/* rounds of port probes: a port stays while it answered in one of the
	 * last two rounds */
	uint64_t ok[4] = {0x0f, 0, 0, 1ULL << 63}, answered[4] = {0x05, 0, 0, 1ULL << 63}, before[4] = {0x0f, 0, 0, 0};
	port_round_close(ok, answered, before, 4);      /* ports 1 and 3 missed once */
	CHECK(ok[0] == 0x0f && ok[3] == 1ULL << 63);
	CHECK(answered[0] == 0 && answered[3] == 0);
	CHECK(before[0] == 0x05 && before[3] == 1ULL << 63);
	answered[0] = 0x04;                             /* port 0 misses once, 1 and 3 twice; 255 once */
	port_round_close(ok, answered, before, 4);
	CHECK_EQ_INT(ok[0], 0x05);
	CHECK(ok[3] == 1ULL << 63);
	port_round_close(ok, answered, before, 4);      /* nothing answers: port 2 had answered last round */
	CHECK_EQ_INT(ok[0], 0x04);
	CHECK_EQ_INT(ok[3], 0);

	/* picks: each new flow the next usable port in turn; a flow keeps its port */
	static flow_ports_t t;
	uint64_t all[4] = {~0ULL, ~0ULL, ~0ULL, ~0ULL}, none[4] = {0};
	uint64_t now = 1000;
	bool seen[64] = {false};
	int distinct = 0;
	for(uint32_t f = 0; f < 64; f++) {
		uint32_t p = flow_ports_pick(&t, 0x1000 + f, 64, all, now);
		CHECK(p < 64);
		if(!seen[p])
			distinct++;
		seen[p] = true;
	}
	CHECK_EQ_INT(distinct, 64);                               /* 64 flows, 64 ports: none shared */
	uint32_t p5 = flow_ports_pick(&t, 0x1005, 64, all, now + 1);
	CHECK_EQ_INT(flow_ports_pick(&t, 0x1005, 64, all, now + 2 * NSEC_PER_SEC), p5); /* it keeps it */
	/* its port unusable: it moves, to a usable one */
	uint64_t some[4] = {0};
	some[0] = 0x0f0; /* indexes 4-7 */
	uint32_t moved = flow_ports_pick(&t, 0x1005, 64, some, now + 3 * NSEC_PER_SEC);
	CHECK(moved == 0 || (moved >= 4 && moved <= 7));
	CHECK(moved != p5 || (p5 >= 4 && p5 <= 7));
	/* nothing usable: the own port */
	CHECK_EQ_INT(flow_ports_pick(&t, 0x2001, 64, none, now), 0);
	CHECK_EQ_INT(flow_ports_pick(&t, 0x2002, 1, all, now), 0); /* one port: always the own */
	/* fewer ports than the slot remembers (another peer): within range */
	uint32_t big = flow_ports_pick(&t, 0x3003, 64, all, now);
	CHECK(flow_ports_pick(&t, 0x3003, 8, all, now) < 8);
	(void)big;
	/* idle long enough: a new turn, not necessarily the old port */
	static flow_ports_t u;
	uint32_t first = flow_ports_pick(&u, 7, 16, all, now);
	uint32_t second = flow_ports_pick(&u, 8, 16, all, now);
	CHECK(first != second);
	CHECK(flow_ports_pick(&u, 7, 16, all, now + FLOW_PORT_IDLE_NS + 1) != first); /* the turn moved on */
	/* two active flows in one slot (keys equal modulo the table): both get a port, in range */
	uint32_t a1 = flow_ports_pick(&u, 100, 16, all, now);
	uint32_t a2 = flow_ports_pick(&u, 100 + FLOW_PORT_SLOTS, 16, all, now);
	CHECK(a1 < 16 && a2 < 16);
	return unit_done();
}
