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

	/* picks: a flow whose port is not usable goes to the listener's own port
	 * (index 0), never to another extra port */
	uint64_t none[4] = {0}, all[4] = {~0ULL, ~0ULL, ~0ULL, ~0ULL}, half[4] = {0};
	half[0] = 0xffffffffULL; /* indexes 0-31 of 64 */
	int moved = 0, kept = 0, own = 0;
	for(uint32_t k = 0; k < 4096; k++) {
		uint32_t key = k * 2654435761U;
		uint32_t free_pick = port_pick_usable(key, 64, all);
		CHECK_EQ_INT(port_pick_usable(key, 64, none), 0);
		uint32_t p = port_pick_usable(key, 64, half);
		if(p == free_pick)
			kept++;
		else if(p == 0)
			own++;
		else
			moved++;
	}
	CHECK_EQ_INT(moved, 0);
	CHECK(kept > 1800 && kept < 2300); /* about half keep their port */
	CHECK(own > 1800);
	CHECK_EQ_INT(port_pick_usable(0xffffffffU, 64, all), 63);
	return unit_done();
}
