#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>

#include <lzo/lzo1x.h>
#include <zlib.h>

#include "packet/compress.h"
#include "unit.h"

/* A frame like a ping through a TUN-mode node: 12 zero bytes, ethertype,
 * an IPv4 header and a repetitive payload. */
static size_t make_frame(uint8_t *f, size_t len) {
	memset(f, 0, len);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	for(size_t i = 34; i < len; i++)
		f[i] = (uint8_t)(0x10 + (i - 34) % 48);
	return len;
}

/* xorshift: reproducible incompressible bytes */
static void noise(uint8_t *p, size_t len, uint32_t seed) {
	uint32_t x = seed ? seed : 1;
	for(size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void test_round_trips(void) {
	static uint8_t frame[1518], comp[1518 + 64], back[1518];
	make_frame(frame, sizeof(frame));
	for(int level = 0; level <= 11; level++) {
		size_t n = compress_frame(level, frame, sizeof(frame), comp, sizeof(comp));
		CHECK(n > 0);
		if(level > 0)
			CHECK(n < sizeof(frame) / 2);
		size_t m = decompress_frame(level, comp, n, back, sizeof(back));
		CHECK_EQ_INT(m, sizeof(frame));
		CHECK(!memcmp(back, frame, sizeof(frame)));
		/* Exactly the room needed is enough; one byte less is not. */
		CHECK_EQ_INT(decompress_frame(level, comp, n, back, sizeof(frame)), sizeof(frame));
		CHECK_EQ_INT(decompress_frame(level, comp, n, back, sizeof(frame) - 1), 0);
	}
	/* Small and odd sizes, repeated (the zlib streams are reused). */
	int bad = 0;
	for(int level = 1; level <= 11; level++) {
		for(size_t len = 1; len < 200; len += 3) {
			noise(frame, len, (uint32_t)(len * 7 + (size_t)level));
			if(len > 20)
				memset(frame + 10, 0xAA, 10);
			size_t n = compress_frame(level, frame, len, comp, sizeof(comp));
			if(!n || decompress_frame(level, comp, n, back, sizeof(back)) != len ||
			   memcmp(back, frame, len) != 0)
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
}

/* Our output must be what tinc's peers produce and expect: a plain zlib
 * stream as compress2() makes it, and raw LZO1X blocks. */
static void test_wire_format(void) {
	static uint8_t frame[1000], ours[1200], ref[1200];
	make_frame(frame, sizeof(frame));

	size_t n = compress_frame(9, frame, sizeof(frame), ours, sizeof(ours));
	CHECK(n > 2);
	CHECK_EQ_INT(ours[0], 0x78);
	CHECK_EQ_INT(ours[1], 0xDA);
	for(int level = 1; level <= 9; level++) {
		uLongf reflen = sizeof(ref);
		CHECK(compress2(ref, &reflen, frame, sizeof(frame), level) == Z_OK);
		n = compress_frame(level, frame, sizeof(frame), ours, sizeof(ours));
		CHECK_EQ_INT(n, reflen);
		CHECK(!memcmp(ours, ref, reflen));
		/* And a second time, through the reset stream. */
		n = compress_frame(level, frame, sizeof(frame), ours, sizeof(ours));
		CHECK(n == reflen && !memcmp(ours, ref, reflen));
	}
	CHECK_EQ_INT(ours[1], 0xDA);
	/* compress2 at level 1 writes 78 01. */
	n = compress_frame(1, frame, sizeof(frame), ours, sizeof(ours));
	CHECK(n > 2 && ours[0] == 0x78 && ours[1] == 0x01);

	static uint8_t work[LZO1X_999_MEM_COMPRESS];
	lzo_uint reflen = 0;
	CHECK(lzo1x_1_compress(frame, sizeof(frame), ref, &reflen, work) == LZO_E_OK);
	n = compress_frame(10, frame, sizeof(frame), ours, sizeof(ours));
	CHECK(n == reflen && !memcmp(ours, ref, reflen));
	CHECK(lzo1x_999_compress(frame, sizeof(frame), ref, &reflen, work) == LZO_E_OK);
	n = compress_frame(11, frame, sizeof(frame), ours, sizeof(ours));
	CHECK(n == reflen && !memcmp(ours, ref, reflen));
	/* LZO1X-999 squeezes harder than LZO1X-1 on this frame. */
	CHECK(n <= compress_frame(10, frame, sizeof(frame), ours, sizeof(ours)));

	/* A stream made by zlib itself decodes at any zlib level. */
	uLongf zlen = sizeof(ref);
	CHECK(compress2(ref, &zlen, frame, sizeof(frame), 6) == Z_OK);
	CHECK_EQ_INT(decompress_frame(3, ref, zlen, ours, sizeof(ours)), sizeof(frame));
	CHECK(!memcmp(ours, frame, sizeof(frame)));
}

static void test_failures(void) {
	static uint8_t in[1518], out[1600], junk[600], back[1600];
	noise(in, sizeof(in), 42);

	/* Incompressible data grows; with no room for that, compression fails. */
	for(int level = 1; level <= 11; level++)
		CHECK_EQ_INT(compress_frame(level, in, sizeof(in), out, sizeof(in)), 0);
	CHECK_EQ_INT(compress_frame(0, in, sizeof(in), out, sizeof(in) - 1), 0);
	/* ...but fits in MTU + the 43 bytes of slack of protocol.md §5.6. */
	for(int level = 1; level <= 11; level++)
		CHECK(compress_frame(level, in, sizeof(in), out, sizeof(in) + 1518 / 64 + 20) > 0);

	/* Garbage, truncated and empty input fail cleanly. */
	int bad = 0;
	for(uint32_t seed = 1; seed <= 200; seed++) {
		noise(junk, sizeof(junk), seed);
		for(int level = 1; level <= 11; level++)
			if(decompress_frame(level, junk, 1 + seed % sizeof(junk), out, sizeof(out)) != 0)
				bad++;
	}
	CHECK_EQ_INT(bad, 0);
	make_frame(in, 800);
	for(int level = 1; level <= 11; level++) {
		size_t n = compress_frame(level, in, 800, out, sizeof(out));
		CHECK(n > 8);
		CHECK_EQ_INT(decompress_frame(level, out, n - 3, back, sizeof(back)), 0);
		CHECK_EQ_INT(decompress_frame(level, out, 0, back, sizeof(back)), 0);
	}
	/* A valid stream whose output does not fit. */
	size_t n = compress_frame(9, in, 800, out, sizeof(out));
	CHECK_EQ_INT(decompress_frame(9, out, n, back, 799), 0);
	CHECK_EQ_INT(decompress_frame(9, out, n, back, 800), 800);
	n = compress_frame(10, in, 800, out, sizeof(out));
	CHECK_EQ_INT(decompress_frame(10, out, n, back, 799), 0);
	CHECK_EQ_INT(decompress_frame(10, out, n, back, 800), 800);

	CHECK_EQ_INT(compress_frame(12, in, 100, out, sizeof(out)), 0);
	CHECK_EQ_INT(compress_frame(-1, in, 100, out, sizeof(out)), 0);
	CHECK_EQ_INT(decompress_frame(12, in, 100, out, sizeof(out)), 0);
	CHECK(compression_level_valid(0));
	CHECK(compression_level_valid(11));
	CHECK(!compression_level_valid(12));
	CHECK(!compression_level_valid(-1));
}

int main(void) {
	CHECK(compress_init());
	CHECK(compress_init()); /* harmless twice */
	test_round_trips();
	test_wire_format();
	test_failures();
	return unit_done();
}
