/* Cutting a coalesced UDP GRO read into datagrams: equal segments and a
 * shorter last one, a read without segment size is one datagram, a negative
 * or too large segment size or an oversized single datagram is refused, and
 * copying across the slot/bounce boundary gives the right bytes. Also the
 * kernel-release check for UDP GSO. */
#include "util/compat.h"

#include "io/gro_split.h"
#include "io/udp_offload.h"
#include "unit.h"

int main(void) {
	gro_split_t s;
	/* 3 datagrams of 1451 and one of 300 */
	CHECK(gro_split(3 * 1451 + 300, 1451, 1699, &s));
	CHECK_EQ_INT(s.count, 4);
	CHECK_EQ_INT(s.segment, 1451);
	CHECK_EQ_INT(s.last, 300);
	CHECK_EQ_INT(gro_split_offset(&s, 3), 3 * 1451);
	CHECK_EQ_INT(gro_split_len(&s, 2), 1451);
	CHECK_EQ_INT(gro_split_len(&s, 3), 300);

	/* all equal: the last is full size */
	CHECK(gro_split(64 * 100, 100, 1699, &s));
	CHECK_EQ_INT(s.count, 64);
	CHECK_EQ_INT(s.last, 100);

	/* no control message: one datagram */
	CHECK(gro_split(1200, 0, 1699, &s));
	CHECK_EQ_INT(s.count, 1);
	CHECK_EQ_INT(s.last, 1200);
	/* a segment size the read does not exceed: one datagram */
	CHECK(gro_split(800, 1451, 1699, &s));
	CHECK_EQ_INT(s.count, 1);
	CHECK_EQ_INT(s.last, 800);
	/* empty read */
	CHECK(gro_split(0, 0, 1699, &s));
	CHECK_EQ_INT(s.count, 1);
	CHECK_EQ_INT(s.last, 0);

	/* garbage */
	CHECK(!gro_split(3000, -1, 1699, &s));
	CHECK(!gro_split(3000, 1700, 1699, &s));
	CHECK(!gro_split(65000, 65000, 1699, &s));
	CHECK(!gro_split(2000, 0, 1699, &s)); /* a single datagram too long */
	/* a tiny segment size is valid, if silly */
	CHECK(gro_split(10, 1, 1699, &s));
	CHECK_EQ_INT(s.count, 10);
	CHECK_EQ_INT(s.last, 1);

	/* copying from a slot of 8 bytes followed by a bounce area */
	uint8_t head[8], tail[32], dst[16];
	for(int i = 0; i < 8; i++)
		head[i] = (uint8_t)i;
	for(int i = 0; i < 32; i++)
		tail[i] = (uint8_t)(8 + i);
	CHECK(gro_split(20, 6, 8, &s));
	CHECK_EQ_INT(s.count, 4);
	bool ok = true;
	for(uint32_t k = 0; k < s.count; k++) {
		memset(dst, 0xff, sizeof(dst));
		size_t off = gro_split_offset(&s, k), len = gro_split_len(&s, k);
		gro_split_copy(dst, head, sizeof(head), tail, off, len);
		for(size_t j = 0; j < len; j++)
			ok = ok && dst[j] == off + j;
		ok = ok && dst[len] == 0xff;
	}
	CHECK(ok);
	/* wholly in the bounce area */
	gro_split_copy(dst, head, sizeof(head), tail, 12, 4);
	CHECK(dst[0] == 12 && dst[3] == 15);

	/* kernels known to mangle UDP GSO */
	CHECK(udp_offload_kernel_gso_ok("6.18.44-fc-v1252"));
	CHECK(!udp_offload_kernel_gso_ok("7.0.3"));
	CHECK(!udp_offload_kernel_gso_ok("7.1.4-arch1"));
	CHECK(!udp_offload_kernel_gso_ok("7.1"));
	CHECK(udp_offload_kernel_gso_ok("7.1.5"));
	CHECK(udp_offload_kernel_gso_ok("7.2.0"));
	CHECK(udp_offload_kernel_gso_ok("garbage"));
	return unit_done();
}
