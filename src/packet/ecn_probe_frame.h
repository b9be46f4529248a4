/* The ECN path probe frame (doc/protocol.md §10.4): a 40-byte frame shaped
 * like a PMTU probe (ethertype 0) whose first byte says request or reply.
 * Pure: building and parsing only. */
#ifndef FQTINC_ECN_PROBE_FRAME_H
#define FQTINC_ECN_PROBE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

#define ECN_PROBE_FRAME_LEN 40
#define ECN_PROBE_VERSION 1
#define ECN_PROBE_KIND_REQUEST 0x45
#define ECN_PROBE_KIND_REPLY 0x65
/* The index of a count request: not part of a validation round. */
#define ECN_PROBE_COUNT_INDEX 255

typedef struct ecn_probe_msg {
	bool reply;
	uint16_t round;
	uint8_t index;
	uint8_t sent_tos;     /* the outer TOS the request left with */
	uint8_t arrived_tos;  /* reply: the outer TOS the request arrived with */
	uint32_t counts[4];   /* reply: datagrams received from the requester, by outer ECN codepoint */
} ecn_probe_msg_t;

typedef enum ecn_probe_parse {
	ECN_PROBE_NOT_PROBE, /* some other frame (a PMTU probe, data): not ours to judge */
	ECN_PROBE_MALFORMED, /* marked as ours but unusable: drop it */
	ECN_PROBE_OK,
} ecn_probe_parse_t;

/* Writes the frame into buf; returns its length, 0 if buf is too small. */
size_t ecn_probe_build(const ecn_probe_msg_t *m, uint8_t *buf, size_t size);
/* Reads a frame after decryption and decompression. */
ecn_probe_parse_t ecn_probe_parse(const uint8_t *frame, size_t len, ecn_probe_msg_t *m);

#endif
