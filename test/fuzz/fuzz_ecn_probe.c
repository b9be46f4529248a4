/* libFuzzer harness for the ECN path probe frame and the validation state
 * machine: the fuzzer's bytes are parsed as a probe frame; what parses is
 * fed to a path state machine as a reply, and a rebuilt frame must parse to
 * the same message. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "mesh/ecn_path.h"
#include "packet/ecn_probe_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	ecn_probe_msg_t m, again;
	ecn_probe_parse_t r = ecn_probe_parse(data, size, &m);
	if(r != ECN_PROBE_OK)
		return 0;
	uint8_t buf[ECN_PROBE_FRAME_LEN];
	if(ecn_probe_build(&m, buf, sizeof(buf)) != ECN_PROBE_FRAME_LEN)
		abort();
	if(ecn_probe_parse(buf, sizeof(buf), &again) != ECN_PROBE_OK || memcmp(&m, &again, sizeof(m)))
		abort();

	static ecn_path_t p;
	static uint64_t now;
	now += 100000000ULL;
	if(p.state == ECN_PATH_UNKNOWN)
		ecn_path_start(&p, now, 5000000000ULL, NULL);
	uint16_t round;
	ecn_path_due(&p, now, &round);
	m.round = size > 41 && data[41] ? round : m.round; /* let some replies match */
	ecn_path_reply(&p, now, &m);
	if(p.state > ECN_PATH_MANGLED || p.dscp > DSCP_PATH_REMAPPED)
		abort();
	bool vc;
	ecn_path_take_change(&p, &vc);
	return 0;
}
