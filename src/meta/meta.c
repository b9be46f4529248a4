/* The meta connection byte stream (protocol.md §3.2): queued, encrypted output and
 * line-by-line input with in-place decryption and PACKET payloads. */
#include "util/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/clock.h"
#include "meta/connection.h"
#include "packet/crypto.h"
#include "util/event.h"
#include "util/log.h"
#include "config/settings.h"
#include "datapath/receive.h"
#include "packet/packet.h"
#include "meta/meta.h"
#include "meta/protocol.h"
#include "meta/proxy.h"
#include "meta/topology.h"
#include "util/xalloc.h"

/* ---- output ---- */

static void update_io_events(connection_t *c) {
	if(c->status.connecting || c->socket < 0)
		return;
	fd_watch_set_events(&c->io, c->outlen ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Write as much as the socket takes. False only on a real socket error. */
static bool meta_flush(connection_t *c) {
	while(c->outlen) {
		ssize_t n = send(c->socket, c->outbound_buf + c->outstart, c->outlen, MSG_NOSIGNAL);
		if(n < 0) {
			if(errno == EINTR)
				continue;
			if(errno == EAGAIN || errno == EWOULDBLOCK) {
				LOG(VERBOSITY_REQUEST_DETAIL, LOG_DEBUG, "%zu bytes for %s (%s) wait: the socket is full",
				    c->outlen, c->name, c->hostname);
				break;
			}
			if(errno == EPIPE || errno == ECONNRESET)
				LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
			else
				logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot send to %s (%s): %s", c->name,
				       c->hostname, strerror(errno));
			return false;
		}
		c->outstart += (size_t)n;
		c->outlen -= (size_t)n;
	}
	if(!c->outlen) {
		c->outstart = 0;
		c->last_flushed_ns = now_ns;
	}
	update_io_events(c);
	return true;
}

/* Make room for len more bytes at the end of the output queue. */
static uint8_t *outbuf_reserve(connection_t *c, size_t len) {
	if(c->outstart + c->outlen + len > c->outcap) {
		if(c->outstart) {
			memmove(c->outbound_buf, c->outbound_buf + c->outstart, c->outlen);
			c->outstart = 0;
		}
		if(c->outlen + len > c->outcap) {
			size_t cap = c->outcap ? c->outcap : 4096;
			while(cap < c->outlen + len)
				cap *= 2;
			c->outbound_buf = xrealloc(c->outbound_buf, cap);
			c->outcap = cap;
		}
	}
	return c->outbound_buf + c->outstart + c->outlen;
}

static bool queue_meta(connection_t *c, const uint8_t *data, size_t len) {
	if(c->status.dead || c->socket < 0)
		return false;
	if(!len)
		return true;
	if(!c->outlen)
		c->last_flushed_ns = now_ns;
	uint8_t *dst = outbuf_reserve(c, len);
	if(c->status.encrypt_out) {
		if(!stream_cipher_update(c->meta_cipher_out, data, len, dst)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot encrypt the meta stream to %s (%s)", c->name,
			       c->hostname);
			return false;
		}
	} else {
		memcpy(dst, data, len);
	}
	c->outlen += len;

	/* Written when the loop next sees the socket writable, that is after
	 * the events of this turn are handled: the requests one event causes
	 * (a new connection's whole graph, a flood of edges) leave in a few
	 * full segments instead of one segment each, which with TCP_NODELAY
	 * more than doubled the meta traffic. Socket errors show up there
	 * too, and on_meta_io closes the connection. */
	update_io_events(c);
	return true;
}

/* Send to every active connection but 'from'. */
static void meta_broadcast(const connection_t *from, const uint8_t *data, size_t len) {
	sset_foreach(connection_t, other, &connection_set) {
		if(other != from && other->status.active && !other->status.dead)
			queue_meta(other, data, len);
	}
}

bool meta_send_bytes(connection_t *c, const uint8_t *data, size_t len) {
	if(!c)
		return false;
	if(c == broadcast_conn) {
		meta_broadcast(NULL, data, len);
		return true;
	}
	return queue_meta(c, data, len);
}

/* The request number at the start of a line we format ourselves. */
static int leading_request(const char *line) {
	int r = 0;
	for(const char *p = line; *p >= '0' && *p <= '9' && r < 1000; p++)
		r = r * 10 + (*p - '0');
	return r;
}

bool request_send(connection_t *c, const char *fmt, ...) {
	if(!c) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Bug: a request was sent without a connection");
		return false;
	}
	char buf[META_INBUF_SIZE];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The line plus its '\n' must fit the peer's receive buffer (protocol.md §3.2). */
	if(len < 0 || (size_t)len > sizeof(buf) - 1) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Request to %s (%s) does not fit in the send buffer",
		       c->name, c->hostname);
		return false;
	}
	if(debug_level >= VERBOSITY_REQUEST_DETAIL)
		logger(VERBOSITY_REQUEST_DETAIL, LOG_DEBUG, "Sending %s to %s (%s): %s", request_name(leading_request(buf)),
		       c->name, c->hostname, buf);
	else
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "Sending %s to %s (%s)", request_name(leading_request(buf)),
		    c->name, c->hostname);
	buf[len++] = '\n';
	return meta_send_bytes(c, (const uint8_t *)buf, (size_t)len);
}

void request_forward(connection_t *from, const char *line) {
	int request = leading_request(line);
	if(debug_level >= VERBOSITY_REQUEST_DETAIL)
		logger(VERBOSITY_REQUEST_DETAIL, LOG_DEBUG, "Forwarding %s from %s (%s): %s", request_name(request),
		       from ? from->name : "us", from ? from->hostname : "local", line);
	else
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "Forwarding %s from %s (%s)", request_name(request),
		    from ? from->name : "us", from ? from->hostname : "local");
	size_t len = strlen(line);
	if(len > META_INBUF_SIZE - 1)
		return;
	char buf[META_INBUF_SIZE];
	memcpy(buf, line, len);
	buf[len++] = '\n';
	meta_broadcast(from, (const uint8_t *)buf, len);
}

/* A small PRNG for the early-drop decision; no security role. */
static double drop_random(void) {
	static uint64_t state;
	if(!state) {
		randomize(&state, sizeof(state));
		state |= 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (double)((state * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

bool meta_send_frame(connection_t *c, const frame_buf_t *packet) {
	if(!c || c->status.dead)
		return false;
	/* Random early drop (protocol.md §5.9): never below half full, always when full. */
	double limit = settings.max_output_buffer_size > 0 ? (double)settings.max_output_buffer_size : 10.0 * MTU;
	double p = 2.0 * (double)c->outlen / limit - 1.0;
	if(p > 0 && (p >= 1.0 || drop_random() < p)) {
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Dropping a packet for %s (%s): %zu bytes already wait to be sent",
		    c->name, c->hostname, c->outlen);
		return true;
	}
	if(!request_send(c, "%d %d", REQ_PACKET, packet->len))
		return false;
	return meta_send_bytes(c, packet->data, packet->len);
}

/* ---- input ---- */

typedef enum input_result {
	INPUT_OK,
	INPUT_BAD,  /* the peer misbehaved: drop it into the tarpit */
	INPUT_GONE, /* the connection was closed while handling the input */
} input_result_t;

static bool decrypt_in_place(connection_t *c, size_t from, size_t len) {
	if(!len)
		return true;
	if(!stream_cipher_update(c->meta_cipher_in, c->inbound_buf + from, len, c->inbound_buf + from)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot decrypt the meta stream from %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	return true;
}

/* Edge and subnet changes, and pings, do not look at reachability: a run of
 * them is applied with one graph run at its end. Everything else (keys,
 * PACKET, a new peer's ACK) must see the graph as those changes left it. */
static bool needs_settled_graph(int request) {
	switch(request) {
	case REQ_ADD_EDGE:
	case REQ_DEL_EDGE:
	case REQ_ADD_SUBNET:
	case REQ_DEL_SUBNET:
	case REQ_PING:
	case REQ_PONG:
		return false;
	default:
		return true;
	}
}

/* Handle every complete line and PACKET payload in the input buffer.
 * Invariant between calls: every byte in inbound_buf is plaintext. */
static input_result_t process_input(connection_t *c) {
	size_t pos = 0;
	for(;;) {
		if(c->status.dead)
			return INPUT_GONE;
		if(c->pending_frame_len > 0) {
			size_t need = (size_t)c->pending_frame_len;
			if(c->inlen - pos < need)
				break;
			const uint8_t *payload = c->inbound_buf + pos;
			bool discard = c->tcp_discard;
			pos += need;
			c->pending_frame_len = 0;
			c->tcp_discard = false;
			if(!discard)
				receive_meta_frame(c->node, c->options & OPTION_TCPONLY, payload, need);
			continue;
		}
		uint8_t *nl = memchr(c->inbound_buf + pos, '\n', c->inlen - pos);
		if(!nl)
			break;
		*nl = '\0';
		char *line = (char *)c->inbound_buf + pos;
		size_t linelen = (size_t)(nl - (c->inbound_buf + pos));
		pos += linelen + 1;
		if(memchr(line, '\0', linelen)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Unreadable data from %s (%s): not a request line", c->name, c->hostname);
			return INPUT_BAD;
		}
		bool was_decrypting = c->status.decrypt_in;
		if(needs_settled_graph(leading_request(line)))
			graph_settle();
		if(!request_dispatch(c, line))
			return c->status.dead ? INPUT_GONE : INPUT_BAD;
		if(c->status.dead)
			return INPUT_GONE;
		/* The peer encrypts everything after its METAKEY line, including
		 * what arrived with that line in the same read. */
		if(!was_decrypting && c->status.decrypt_in && !decrypt_in_place(c, pos, c->inlen - pos))
			return INPUT_BAD;
	}
	if(pos) {
		memmove(c->inbound_buf, c->inbound_buf + pos, c->inlen - pos);
		c->inlen -= pos;
	}
	if(c->inlen >= META_INBUF_SIZE) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Line from %s (%s) is too long for the receive buffer", c->name,
		       c->hostname);
		return INPUT_BAD;
	}
	return INPUT_OK;
}

static void drop_misbehaving(connection_t *c) {
	if(c->status.dead)
		return;
	c->status.tarpit = true;
	connection_shutdown(c, c->status.active);
}

/* n new bytes were appended at inbound_buf + inlen: decrypt and handle them. */
static void input_arrived(connection_t *c, size_t n) {
	size_t old = c->inlen;
	c->inlen += n;
	/* A proxy's answer comes first, in the clear (proxy.c). */
	if(c->proxy && !proxy_receive(c))
		return;
	if(c->status.decrypt_in && !decrypt_in_place(c, old, n)) {
		drop_misbehaving(c);
		return;
	}
	if(process_input(c) == INPUT_BAD)
		drop_misbehaving(c);
}

static void meta_read(connection_t *c) {
	if(c->inlen >= META_INBUF_SIZE) {
		drop_misbehaving(c);
		return;
	}
	ssize_t n = recv(c->socket, c->inbound_buf + c->inlen, META_INBUF_SIZE - c->inlen, 0);
	if(n < 0) {
		if(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if(errno == ECONNRESET)
			LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
		else
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read from %s (%s): %s", c->name,
			       c->hostname, strerror(errno));
		connection_shutdown(c, c->status.active);
		return;
	}
	if(n == 0) {
		LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
		connection_shutdown(c, c->status.active);
		return;
	}
	input_arrived(c, (size_t)n);
}

bool meta_feed(connection_t *c, const uint8_t *data, size_t len) {
	while(len && !c->status.dead) {
		if(c->inlen >= META_INBUF_SIZE) {
			drop_misbehaving(c);
			break;
		}
		size_t n = MIN(len, META_INBUF_SIZE - c->inlen);
		memcpy(c->inbound_buf + c->inlen, data, n);
		input_arrived(c, n);
		data += n;
		len -= n;
	}
	return !c->status.dead;
}

void on_meta_io(void *data, uint32_t events) {
	connection_t *c = data;
	/* A socket still connecting has the callback of net_socket.c. */
	if(c->status.dead || c->status.connecting)
		return;
	if(events & EPOLLOUT) {
		if(!meta_flush(c)) {
			connection_shutdown(c, c->status.active);
			return;
		}
	}
	if(events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		meta_read(c);
}
