/* The port probe frame (see port_probe_frame.h). */
#include "util/compat.h"

#include <string.h>

#include "packet/port_probe_frame.h"

size_t port_probe_build(const port_probe_msg_t *m, uint8_t *buf, size_t size) {
	if(size < PORT_PROBE_FRAME_LEN)
		return 0;
	memset(buf, 0, PORT_PROBE_FRAME_LEN);
	buf[0] = m->reply ? PORT_PROBE_KIND_REPLY : PORT_PROBE_KIND_REQUEST;
	buf[1] = PORT_PROBE_VERSION;
	/* bytes 12 and 13, the EtherType, stay 0 */
	buf[16] = (uint8_t)(m->index >> 8);
	buf[17] = (uint8_t)m->index;
	buf[18] = (uint8_t)(m->round >> 24);
	buf[19] = (uint8_t)(m->round >> 16);
	buf[20] = (uint8_t)(m->round >> 8);
	buf[21] = (uint8_t)m->round;
	return PORT_PROBE_FRAME_LEN;
}

port_probe_parse_t port_probe_parse(const uint8_t *frame, size_t len, port_probe_msg_t *m) {
	if(len < 14 || frame[12] || frame[13])
		return PORT_PROBE_NOT_PROBE;
	if(frame[0] != PORT_PROBE_KIND_REQUEST && frame[0] != PORT_PROBE_KIND_REPLY)
		return PORT_PROBE_NOT_PROBE;
	if(len < PORT_PROBE_FRAME_LEN || frame[1] != PORT_PROBE_VERSION)
		return PORT_PROBE_MALFORMED;
	memset(m, 0, sizeof(*m));
	m->reply = frame[0] == PORT_PROBE_KIND_REPLY;
	m->index = (uint16_t)(frame[16] << 8 | frame[17]);
	m->round = (uint32_t)frame[18] << 24 | (uint32_t)frame[19] << 16 | (uint32_t)frame[20] << 8 | frame[21];
	return PORT_PROBE_OK;
}

bool port_probe_is_request(const uint8_t *frame, size_t len) {
	return len >= 14 && !frame[12] && !frame[13] && frame[0] == PORT_PROBE_KIND_REQUEST;
}
