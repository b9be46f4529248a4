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
	return unit_done();
}
