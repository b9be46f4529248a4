/* Meta connection objects: creation, the list of live connections, closing
 * (with the tarpit of protocol.md §3.9) and deferred freeing. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "meta/connection.h"
#include "packet/crypto.h"
#include "mesh/edge.h"
#include "util/event.h"
#include "util/log.h"
#include "mesh/node.h"
#include "util/xalloc.h"

static int connection_ptr_cmp(const void *a, const void *b) {
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return x < y ? -1 : x > y;
}

sset_t connection_set = {.cmp = connection_ptr_cmp};

/* request_send(broadcast_conn, ...) broadcasts to every active connection. It is a
 * real object rather than NULL so that a missing connection (a bug) can never
 * silently turn into a broadcast. It is never added, closed or freed. */
static connection_t everyone_connection = {
	.name = "everyone",
	.hostname = "BROADCAST",
	.socket = -1,
	.io = {.fd = -1},
};
connection_t *broadcast_conn = &everyone_connection;

connection_t *connection_new(void) {
	connection_t *c = xzalloc(sizeof(*c));
	c->name = xstrdup("<unknown>");
	c->hostname = xstrdup("unknown");
	c->socket = -1;
	c->io.fd = -1;
	c->state = CONN_ID;
	c->created_ns = now_ns;
	c->last_ping_ns = now_ns;
	c->last_flushed_ns = now_ns;
	return c;
}

void connection_register(connection_t *c) {
	sset_insert(&connection_set, c);
}

/* Misbehaving peers get neither FIN nor RST: their fd is parked here and
 * never read, so they have to find out by their own timeouts. */
#define TARPIT_SLOTS 10
static int tarpit_fds[TARPIT_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
static int tarpit_next;

void connection_tarpit_fd(int fd) {
	if(fd < 0)
		return;
	if(tarpit_fds[tarpit_next] >= 0)
		close(tarpit_fds[tarpit_next]);
	tarpit_fds[tarpit_next] = fd;
	tarpit_next = (tarpit_next + 1) % TARPIT_SLOTS;
}

static void connection_free_deferred(void *arg) {
	connection_free(arg);
}

void connection_close(connection_t *c) {
	if(!c || c == broadcast_conn || c->status.dead)
		return;
	fd_watch_stop(&c->io);
	if(c->socket >= 0) {
		if(c->status.tarpit)
			connection_tarpit_fd(c->socket);
		else
			close(c->socket);
		c->socket = -1;
	}
	sset_remove(&connection_set, c);
	if(c->node && c->node->connection == c)
		c->node->connection = NULL;
	/* At shutdown the edge outlives us (no DEL_EDGE is sent); it must not
	 * point at freed memory. */
	if(c->edge && c->edge->connection == c)
		c->edge->connection = NULL;
	c->edge = NULL;
	c->status.active = false;
	c->status.dead = true;
	/* An event for this connection may still be pending in the current epoll
	 * batch; free only once the batch is done. */
	event_defer(connection_free_deferred, c);
}

void connection_free(connection_t *c) {
	if(!c || c == broadcast_conn)
		return;
	if(c->socket >= 0) {
		/* Never closed through connection_close (an error path). */
		fd_watch_stop(&c->io);
		close(c->socket);
	}
	free(c->name);
	free(c->hostname);
	free(c->outbound_buf);
	if(c->meta_cipher_out)
		stream_cipher_free(c->meta_cipher_out);
	if(c->meta_cipher_in)
		stream_cipher_free(c->meta_cipher_in);
	xfree_secret(c->challenge_sent, c->challenge_sent_len);
	xfree_secret(c->challenge_received, c->challenge_received_len);
	if(c->config_entries)
		config_entries_free(c->config_entries);
	/* A proxy handshake cut short: its state is one plain allocation, freed
	 * here so that connections need not know the proxy module. */
	free(c->proxy);
	if(c->rsa)
		rsa_free(c->rsa);
	/* The input buffer holds decrypted meta traffic. */
	xfree_secret(c, sizeof(*c));
}
