/* Path MTU discovery with probe frames, per node. */
#ifndef FQTINC_PMTU_H
#define FQTINC_PMTU_H

#include <stddef.h>

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* Forget what discovery found out and stop probing (reachability changed). */
void pmtu_reset(node_t *n);
/* Start probing n (we have its key). */
void pmtu_start(node_t *n);
/* A probe frame from n arrived by UDP; len is its length as the sender
 * meant it. Requests are echoed back, answers move the MTU window. */
void pmtu_probe_received(node_t *n, frame_buf_t *packet, size_t len);

#endif
