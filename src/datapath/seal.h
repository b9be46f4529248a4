/* The last stage of sending: compress and encrypt a frame for one node,
 * straight into a slot of the socket's send batch, with the outer TOS the
 * frame asks for. */
#ifndef FQTINC_SEAL_H
#define FQTINC_SEAL_H

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* Seal and queue one frame for n's UDP address (no relay, no queue: the
 * egress queue and PMTU probes call this). */
void seal_and_send(node_t *n, const frame_buf_t *packet);
/* The same with an outer TOS byte chosen by the caller (ECN path probes). */
void seal_and_send_tos(node_t *n, const frame_buf_t *packet, uint8_t tos);

#endif
