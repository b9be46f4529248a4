/* The port probe frame (doc/protocol.md §10.3): a 32-byte frame shaped like
 * a PMTU probe (EtherType 0) whose first byte says request or reply. A
 * request leaves from one of our extra UDP ports; the peer answers it to
 * our own port, so an answer proves that the extra port gets through.
 * Pure: building and parsing only. */
#ifndef FQTINC_PORT_PROBE_FRAME_H
#define FQTINC_PORT_PROBE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

#define PORT_PROBE_FRAME_LEN 32
#define PORT_PROBE_VERSION 1
#define PORT_PROBE_KIND_REQUEST 0x50
#define PORT_PROBE_KIND_REPLY 0x70

typedef struct port_probe_msg {
	bool reply;
	uint16_t index;   /* the sender's port index the request left from */
	uint32_t round;   /* the sender's round: late answers of an old one are ignored */
} port_probe_msg_t;

typedef enum port_probe_parse {
	PORT_PROBE_NOT_PROBE, /* some other frame: not ours to judge */
	PORT_PROBE_MALFORMED, /* marked as ours but unusable: drop it */
	PORT_PROBE_OK,
} port_probe_parse_t;

/* Writes the frame into buf; returns its length, 0 if buf is too small. */
size_t port_probe_build(const port_probe_msg_t *m, uint8_t *buf, size_t size);
/* Reads a frame after decryption and decompression. */
port_probe_parse_t port_probe_parse(const uint8_t *frame, size_t len, port_probe_msg_t *m);
/* True if the frame is a port probe request: it may come from any of the
 * sender's ports, so it must not move the sender's UDP address. */
bool port_probe_is_request(const uint8_t *frame, size_t len);

#endif
