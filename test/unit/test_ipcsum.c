/* The Internet checksum (packet/ipcsum): the word-at-a-time sum agrees with
 * a byte-pair reference for every length, alignment and starting sum, and
 * partial sums chain over even-length pieces. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/ipcsum.h"
#include "frames.h"
#include "unit.h"

/* The same value class: one's-complement sums are equal modulo 0xffff. */
static bool same_sum(unsigned a, unsigned b) {
	return a % 0xffff == b % 0xffff;
}

static void test_against_reference(void) {
	static uint8_t buf[600];
	srand(7);
	for(size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	unsigned bad = 0;
	for(size_t off = 0; off < 8; off++)
		for(size_t len = 0; len + off <= sizeof(buf) && len <= 520; len++) {
			uint32_t start = (uint32_t)rand() & 0xffff;
			if(!same_sum(csum_partial(buf + off, len, start), ref_sum(buf + off, len, start)))
				bad++;
			if(csum_partial(buf + off, len, start) > 0xffff)
				bad++;
		}
	CHECK_EQ_INT(bad, 0);
	/* all ones and all zeros, where the two zeros of one's complement meet */
	memset(buf, 0xff, sizeof(buf));
	CHECK(same_sum(csum_partial(buf, sizeof(buf), 0), 0));
	CHECK_EQ_INT(csum_finish(csum_partial(buf, 64, 0)), 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(csum_partial(buf, 64, 0), 0);
	CHECK_EQ_INT(csum_finish(csum_partial(buf, 64, 0)), 0xffff);
}

static void test_chaining(void) {
	static uint8_t buf[1500];
	for(size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 17);
	uint32_t whole = csum_partial(buf, sizeof(buf), 0);
	for(size_t cut = 0; cut <= sizeof(buf); cut += 2)
		CHECK(same_sum(csum_partial(buf + cut, sizeof(buf) - cut, csum_partial(buf, cut, 0)), whole));
	/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ_INT(csum_partial(ex, sizeof(ex), 0), 0xddf2);
	CHECK_EQ_INT(inet_checksum(ex, sizeof(ex), 0), 0x220d);
}

int main(void) {
	test_against_reference();
	test_chaining();
	return unit_done();
}
