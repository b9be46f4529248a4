/* The port probe frame: round trip, and what is not one. */
#include "util/compat.h"

#include <string.h>

#include "packet/ecn_probe_frame.h"
#include "packet/port_probe_frame.h"
#include "unit.h"

int main(void) {
	uint8_t f[64];
	port_probe_msg_t m = {.reply = false, .index = 255, .round = 0x01020304}, out;
	CHECK_EQ_INT(port_probe_build(&m, f, 10), 0); /* too small */
	size_t len = port_probe_build(&m, f, sizeof(f));
	CHECK_EQ_INT(len, PORT_PROBE_FRAME_LEN);
	CHECK(f[12] == 0 && f[13] == 0);              /* EtherType 0, like a PMTU probe */
	CHECK_EQ_INT(port_probe_parse(f, len, &out), PORT_PROBE_OK);
	CHECK(!out.reply);
	CHECK_EQ_INT(out.index, 255);
	CHECK_EQ_INT(out.round, 0x01020304);
	CHECK(port_probe_is_request(f, len));

	m.reply = true;
	m.index = 17;
	len = port_probe_build(&m, f, sizeof(f));
	CHECK_EQ_INT(port_probe_parse(f, len, &out), PORT_PROBE_OK);
	CHECK(out.reply);
	CHECK_EQ_INT(out.index, 17);
	CHECK(!port_probe_is_request(f, len));       /* a reply comes to our own port */

	/* not ours: a PMTU probe (first byte 0 or 1), an ECN probe, data */
	memset(f, 0, sizeof(f));
	CHECK_EQ_INT(port_probe_parse(f, 40, &out), PORT_PROBE_NOT_PROBE);
	CHECK(!port_probe_is_request(f, 40));
	f[0] = 1;
	CHECK_EQ_INT(port_probe_parse(f, 40, &out), PORT_PROBE_NOT_PROBE);
	ecn_probe_msg_t e = {0};
	size_t elen = ecn_probe_build(&e, f, sizeof(f));
	CHECK_EQ_INT(port_probe_parse(f, elen, &out), PORT_PROBE_NOT_PROBE);
	/* ... and the ECN parser does not take ours */
	len = port_probe_build(&m, f, sizeof(f));
	ecn_probe_msg_t e2;
	CHECK_EQ_INT(ecn_probe_parse(f, len, &e2), ECN_PROBE_NOT_PROBE);
	f[12] = 0x08; /* an IPv4 frame whose first byte happens to be 0x50 */
	CHECK_EQ_INT(port_probe_parse(f, len, &out), PORT_PROBE_NOT_PROBE);
	CHECK(!port_probe_is_request(f, len));
	/* ours but short, or another version */
	len = port_probe_build(&m, f, sizeof(f));
	CHECK_EQ_INT(port_probe_parse(f, 20, &out), PORT_PROBE_MALFORMED);
	f[1] = 9;
	CHECK_EQ_INT(port_probe_parse(f, len, &out), PORT_PROBE_MALFORMED);
	CHECK_EQ_INT(port_probe_parse(f, 5, &out), PORT_PROBE_NOT_PROBE);
	return unit_done();
}
