/* One control client on the UNIX socket (doc/protocol.md §12): its line
 * buffer in, its byte buffer out, and what it has subscribed to (log lines). */
#ifndef FQTINC_CONTROL_CLIENT_H
#define FQTINC_CONTROL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "util/event.h"
#include "util/sset.h"

#define CONTROL_LINE_MAX 4096

typedef struct control_client {
	int fd;
	fd_watch_t io;
	bool authenticated;     /* sent the cookie */
	bool closing;           /* close once the output is flushed */
	bool dead;
	int log_level;          /* >= 0: receives log lines up to this level; -1: none */
	int pcap_snaplen;       /* >= 0: receives device frames cut to this (0: whole); -1: none */
	char in[CONTROL_LINE_MAX];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap;
} control_client_t;

extern sset_t control_clients; /* by pointer */

control_client_t *control_client_new(int fd);
/* Queue one line (a newline is added); false when the client is gone. */
bool control_client_printf(control_client_t *cl, const char *fmt, ...) ATTR_PRINTF(2, 3);
bool control_client_write(control_client_t *cl, const void *data, size_t len);
/* Write what the socket takes now; false when the client is gone. */
bool control_client_flush(control_client_t *cl);
/* Unlink and close now; the memory goes once the loop turn is over. */
void control_client_close(control_client_t *cl);
void control_clients_close_all(void);

#endif
