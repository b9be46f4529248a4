/* The ECN path probe frame (see ecn_probe_frame.h). */
#include "util/compat.h"

#include <string.h>

#include "packet/ecn_probe_frame.h"
#include "packet/ipcsum.h" /* be32_get, be32_put */

size_t ecn_probe_build(const ecn_probe_msg_t *m, uint8_t *buf, size_t size) {
	if(size < ECN_PROBE_FRAME_LEN)
		return 0;
	memset(buf, 0, ECN_PROBE_FRAME_LEN);
	buf[0] = m->reply ? ECN_PROBE_KIND_REPLY : ECN_PROBE_KIND_REQUEST;
	buf[1] = ECN_PROBE_VERSION;
	buf[16] = (uint8_t)(m->round >> 8);
	buf[17] = (uint8_t)m->round;
	buf[18] = m->index;
	buf[19] = m->sent_tos;
	if(m->reply) {
		buf[20] = m->arrived_tos;
		for(int i = 0; i < 4; i++)
			be32_put(buf + 24 + 4 * i, m->counts[i]);
	}
	return ECN_PROBE_FRAME_LEN;
}

ecn_probe_parse_t ecn_probe_parse(const uint8_t *frame, size_t len, ecn_probe_msg_t *m) {
	/* Ethertype 0 and one of our two kinds; anything else belongs to PMTU
	 * discovery or the data path. */
	if(len < 14 || frame[12] || frame[13])
		return ECN_PROBE_NOT_PROBE;
	if(frame[0] != ECN_PROBE_KIND_REQUEST && frame[0] != ECN_PROBE_KIND_REPLY)
		return ECN_PROBE_NOT_PROBE;
	if(len < ECN_PROBE_FRAME_LEN || frame[1] != ECN_PROBE_VERSION)
		return ECN_PROBE_MALFORMED;
	memset(m, 0, sizeof(*m));
	m->reply = frame[0] == ECN_PROBE_KIND_REPLY;
	m->round = (uint16_t)(frame[16] << 8 | frame[17]);
	m->index = frame[18];
	m->sent_tos = frame[19];
	if(m->reply) {
		m->arrived_tos = frame[20];
		for(int i = 0; i < 4; i++)
			m->counts[i] = be32_get(frame + 24 + 4 * i);
	}
	return ECN_PROBE_OK;
}
