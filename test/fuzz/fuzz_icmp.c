/* libFuzzer harness for the router's packet helpers: every parser and
 * builder in icmp, mss, fragment, neighbor and ecn runs over the fuzzer's
 * bytes taken as an Ethernet frame. The first input byte picks the
 * parameters (type/code, MTU, ECN) so they vary too.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -I/tmp/fqcfg -Isrc \
 *       test/fuzz/fuzz_icmp.c src/ipcsum.c src/icmp.c src/mss.c \
 *       src/fragment.c src/neighbor.c src/ecn.c -o fuzz_icmp */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/ecn.h"
#include "packet/fragment.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/mss.h"
#include "packet/neighbor.h"
#include "packet/packet.h"

#define FRAME_MAX 4096

static void check_fragment(void *ctx, const uint8_t *frag, size_t fraglen) {
	size_t maxlen = *(const size_t *)ctx;
	/* Every fragment fits and carries a valid IPv4 header checksum. */
	if(fraglen > maxlen || fraglen < 34 || ipv4_header_checksum(frag + 14, 20) != be16_get(frag + 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if(size < 1)
		return 0;
	uint8_t knob = data[0];
	data++;
	size--;
	if(size > FRAME_MAX)
		size = FRAME_MAX;

	/* Exact-size heap copies so ASan sees any read past the frame. */
	uint8_t *frame = malloc(size ? size : 1);
	uint8_t out[ICMP6_ERROR_MAXLEN + 64];
	uint8_t addr[16];
	memcpy(frame, data, size);

	static const uint8_t local4[4] = {192, 0, 2, 1};
	static const uint8_t local6[16] = {0xfe, 0x80, [15] = 1};
	size_t outsize = (knob & 0x80) ? sizeof(out) : (size_t)(knob & 0x7f);

	size_t r = icmp4_error(out, outsize, frame, size, knob & 0x0f, knob >> 4, (uint16_t)(knob * 13),
	                       (knob & 1) ? local4 : NULL);
	if(r > outsize || (r && r < 42))
		abort();
	r = icmp6_error(out, outsize, frame, size, knob & 0x07, knob >> 5, knob * 1000u, (knob & 2) ? local6 : NULL);
	if(r > outsize || (r && r < 62))
		abort();

	/* In-place building must be safe too. */
	uint8_t *inplace = malloc(ICMP6_ERROR_MAXLEN + size);
	memcpy(inplace, data, size);
	icmp4_error(inplace, ICMP6_ERROR_MAXLEN + size, inplace, size, 3, 4, 1400, NULL);
	memcpy(inplace, data, size);
	icmp6_error(inplace, ICMP6_ERROR_MAXLEN + size, inplace, size, 2, 0, 1280, NULL);
	free(inplace);

	if(arp_request_target(frame, size, addr) != (arp_build_reply(out, outsize, frame, size) != 0) && outsize >= ARP_REPLY_LEN)
		abort();
	if(ndp_solicitation_target(frame, size, addr) != (ndp_build_advertisement(out, outsize, frame, size) != 0) && outsize >= NDP_ADVERT_LEN)
		abort();

	size_t maxlen = 34 + (size_t)knob * 8;
	fragment_ipv4(frame, size, maxlen, check_fragment, &maxlen);

	clamp_mss(frame, size, (uint16_t)(500 + knob * 4));

	uint8_t tos, dscp, ecn;
	ecn_frame_tos(frame, size, &tos);
	ecn_frame_read(frame, size, &dscp, &ecn);
	ecn_decap_frame(frame, size, knob);
	ecn_frame_set(frame, size, knob & 3);
	ecn_mark_ce(frame, size);
	ecn_decap(knob, knob >> 2);
	outer_tos(knob, knob & 1, knob & 2);

	free(frame);
	return 0;
}
