/* ECN path validation on the wire (doc/protocol.md §10.4): sends the
 * probes mesh/ecn_path asks for, answers and counts what arrives. */
#ifndef FQTINC_ECN_PROBE_H
#define FQTINC_ECN_PROBE_H

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* Called when the path state of n changed, so that its RFC 6040 mode can be
 * recomputed (never from within ecn_probe_watch). */
typedef void (*ecn_probe_changed_fn)(node_t *n);

/* Validate the path to n (it announced ECN_PATH_PROBES and normal mode would
 * otherwise be used) or stop doing so. */
void ecn_probe_watch(node_t *n, bool wanted, ecn_probe_changed_fn changed);

/* Every authenticated datagram from n, after decompression: counted by its
 * outer ECN; true if it was a probe (answered or taken in), which the
 * caller then drops. */
bool ecn_probe_received(node_t *n, frame_buf_t *packet);

#endif
