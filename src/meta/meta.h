/* The byte stream of a meta connection (protocol.md §3.2): requests out, queued
 * and encrypted; lines and PACKET payloads in, decrypted in place. */
#ifndef FQTINC_META_H
#define FQTINC_META_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "meta/connection.h"
#include "packet/packet.h"

/* Format, encrypt once METAKEY is sent, queue. False (and the connection is
 * dropped) if the line is too long. Logged at VERBOSITY_REQUEST_DETAIL. */
bool request_send(connection_t *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Send a line verbatim to every active connection except 'from'. */
void request_forward(connection_t *from, const char *line);
/* Queue raw bytes (after encryption if on). */
bool meta_send_bytes(connection_t *c, const uint8_t *data, size_t len);
/* epoll callback of an established meta socket. */
void on_meta_io(void *data, uint32_t events);
/* Handle bytes as if they had been read from c's socket (fuzzers, tests).
 * False once c has been closed. */
bool meta_feed(connection_t *c, const uint8_t *data, size_t len);
/* "17 LEN" + bytes, with the random early drop of protocol.md §5.9. */
bool meta_send_frame(connection_t *c, const frame_buf_t *packet);

#endif
