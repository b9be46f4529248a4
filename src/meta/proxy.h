/* Outgoing meta connections through a proxy (proxy.c, protocol.md §3.1). */
#ifndef FQTINC_PROXY_H
#define FQTINC_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "util/sockaddr.h"

struct connection;
struct proxy_state;

/* Parse the Proxy option of the server configuration; false if invalid. */
bool proxy_read_config(void);
bool proxy_enabled(void);
/* A SOCKS or HTTP proxy speaks first; exec hands over a clean stream. */
bool proxy_needs_handshake(void);
/* A socket towards host/port of node through the proxy: a connect() in
 * progress to the proxy (*connecting, proxy_sa filled in), or for exec a
 * socketpair whose other end is the command's stdin/stdout.  -1 on error. */
int proxy_open(const char *node, const char *host, const char *port, int af, bool *connecting, sockaddr_u *proxy_sa);
/* The longest request proxy_start builds. */
#define PROXY_REQUEST_MAX 1024
/* Connected to the proxy: build the request for host/port into buf (at
 * least PROXY_REQUEST_MAX bytes, *len set) for the caller to send, and mark
 * the connection as waiting for the answer (c->proxy). */
bool proxy_start(struct connection *c, const char *host, const char *port, uint8_t *buf, size_t *len);
/* Input arrived while c->proxy is set: consume the proxy's answer.  Once
 * it granted the connection, send ID and return true (the rest of the input
 * is the peer's); false while waiting, or after closing the connection
 * because the proxy refused. */
bool proxy_receive(struct connection *c);
void proxy_free(struct proxy_state *st);

#endif
