/* libFuzzer harness for the pure parts of outer port spreading: the flow key
 * of any frame (no read past its end: ASan watches) and the port probe frame (what parses rebuilds to the same message). */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/flow_key.h"
#include "packet/port_probe_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	/* a copy of exactly size bytes, so a read past the end is caught */
	uint8_t *frame = malloc(size ? size : 1);
	if(!frame)
		return 0;
	memcpy(frame, data, size);
	uint32_t key = flow_key(frame, size, 0x5eed);
	if(flow_key(frame, size, 0x5eed) != key)
		abort(); /* a key is a function of the frame */

	port_probe_msg_t m, again;
	if(port_probe_parse(frame, size, &m) == PORT_PROBE_OK) {
		uint8_t buf[PORT_PROBE_FRAME_LEN];
		if(port_probe_build(&m, buf, sizeof(buf)) != PORT_PROBE_FRAME_LEN)
			abort();
		if(port_probe_parse(buf, sizeof(buf), &again) != PORT_PROBE_OK || memcmp(&m, &again, sizeof(m)))
			abort();
		if(port_probe_is_request(frame, size) == m.reply)
			abort();
	}
	free(frame);
	return 0;
}
