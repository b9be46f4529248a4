/* The control dumps write subnets as tinc 1.1's `tinc` prints and parses
 * them (doc/protocol.md §12.4). */
#include "util/compat.h"

#include <string.h>

#include "control/dump_mesh.h"
#include "mesh/subnet.h"
#include "unit.h"

static const char *text(const char *str) {
	static char out[SUBNET_TEXT_MAX + 16];
	subnet_t s;
	memset(&s, 0, sizeof(s));
	if(!subnet_parse(&s, str))
		return "(unparsable)";
	if(!control_subnet_text(out, sizeof(out), &s))
		return "(no text)";
	return out;
}

int main(void) {
	/* host prefixes and the default weight are left out */
	CHECK_EQ_STR(text("10.10.0.3/32"), "10.10.0.3");
	CHECK_EQ_STR(text("10.10.0.3/32#10"), "10.10.0.3");
	CHECK_EQ_STR(text("10.10.0.0/24"), "10.10.0.0/24");
	CHECK_EQ_STR(text("10.10.0.0/24#5"), "10.10.0.0/24#5");
	/* IPv6: the first longest run of zero groups, at least two, is "::" */
	CHECK_EQ_STR(text("fd10:0:0:0:0:0:0:3/128"), "fd10::3");
	CHECK_EQ_STR(text("fd10::/64"), "fd10::/64");
	CHECK_EQ_STR(text("::1/128"), "::1");
	CHECK_EQ_STR(text("::/0"), "::/0");
	CHECK_EQ_STR(text("1:0:0:2:0:0:0:3/128"), "1:0:0:2::3");
	CHECK_EQ_STR(text("1:0:0:2:3:0:0:4/128"), "1::2:3:0:0:4");
	CHECK_EQ_STR(text("1:2:3:4:5:6:7:0/128"), "1:2:3:4:5:6:7:0");
	CHECK_EQ_STR(text("1:2:3:4:5:6:0:0/128#3"), "1:2:3:4:5:6::#3");
	CHECK_EQ_STR(text("1:0:3:4:5:6:7:8/128"), "1:0:3:4:5:6:7:8");
	/* MAC */
	CHECK_EQ_STR(text("00:11:22:aa:bb:cc"), "00:11:22:aa:bb:cc");
	return unit_done();
}
