/* IPv4 fragmentation in router mode (protocol.md §6.5 IPv4 step 9): a frame too long
 * for the next hop and without DF is cut into fragments that each fit. */
#ifndef FQTINC_FRAGMENT_H
#define FQTINC_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*fragment_emit_t)(void *ctx, const uint8_t *frag, size_t fraglen);

/* Splits the untagged IPv4 frame (len bytes) into frames of at most maxlen
 * bytes (Ethernet header included) and calls emit once per fragment, in
 * order; the frag buffer is only valid during the call. Only a 20-byte IP
 * header whose total length matches the frame is handled. Each fragment
 * keeps the Ethernet header, the IP id and the DF/RF bits; MF is set on all
 * but the last, and on the last too if the original had it; offsets count
 * on from the original offset. Returns the number of fragments emitted, or
 * 0 if the frame cannot be fragmented (nothing is emitted then). */
size_t fragment_ipv4(const uint8_t *frame, size_t len, size_t maxlen, fragment_emit_t emit, void *ctx);

#endif
