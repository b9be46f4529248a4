/* The meta connection byte stream (spec §3.2): queued, encrypted output and
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
#include "util/xalloc.h"

/* ---- output ---- */

static void update_io_events(connection_t *c) {
	if(c->status.connecting || c->socket < 0)
		return;
	io_set(&c->io, c->outlen ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Write as much as the socket takes. False only on a real socket error. */
static bool flush_meta(connection_t *c) {
	while(c->outlen) {
		ssize_t n = send(c->socket, c->outbuf + c->outstart, c->outlen, MSG_NOSIGNAL);
		if(n < 0) {
			if(errno == EINTR)
				continue;
			if(errno == EAGAIN || errno == EWOULDBLOCK) {
				LOG(DEBUG_META, LOG_DEBUG, "%zu bytes for %s (%s) wait: the socket is full",
				    c->outlen, c->name, c->hostname);
				break;
			}
			if(errno == EPIPE || errno == ECONNRESET)
				LOG(DEBUG_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
			else
				logger(DEBUG_ALWAYS, LOG_ERR, "Cannot send to %s (%s): %s", c->name,
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
			memmove(c->outbuf, c->outbuf + c->outstart, c->outlen);
			c->outstart = 0;
		}
		if(c->outlen + len > c->outcap) {
			size_t cap = c->outcap ? c->outcap : 4096;
			while(cap < c->outlen + len)
				cap *= 2;
			c->outbuf = xrealloc(c->outbuf, cap);
			c->outcap = cap;
		}
	}
	return c->outbuf + c->outstart + c->outlen;
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
		if(!stream_cipher_update(c->outcipher, data, len, dst)) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Cannot encrypt the meta stream to %s (%s)", c->name,
			       c->hostname);
			return false;
		}
	} else {
		memcpy(dst, data, len);
	}
	c->outlen += len;

	/* Write at once for low latency. A socket error is not acted upon here
	 * (callers may be walking the connection list); the loop will see the
	 * socket's error condition and close it from handle_meta_io. */
	if(!c->status.connecting && !flush_meta(c))
		io_set(&c->io, EPOLLIN | EPOLLOUT);
	return true;
}

/* Send to every active connection but 'from'. */
static void broadcast_meta(const connection_t *from, const uint8_t *data, size_t len) {
	sset_foreach(connection_t, other, &connection_list) {
		if(other != from && other->status.active && !other->status.dead)
			queue_meta(other, data, len);
	}
}

bool send_meta_raw(connection_t *c, const uint8_t *data, size_t len) {
	if(!c)
		return false;
	if(c == everyone) {
		broadcast_meta(NULL, data, len);
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

bool send_request(connection_t *c, const char *fmt, ...) {
	if(!c) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Bug: a request was sent without a connection");
		return false;
	}
	char buf[MAXBUFSIZE];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The line plus its '\n' must fit the peer's receive buffer (spec §3.2). */
	if(len < 0 || (size_t)len > sizeof(buf) - 1) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Request to %s (%s) does not fit in the send buffer",
		       c->name, c->hostname);
		return false;
	}
	if(debug_level >= DEBUG_META)
		logger(DEBUG_META, LOG_DEBUG, "Sending %s to %s (%s): %s", request_name(leading_request(buf)),
		       c->name, c->hostname, buf);
	else
		LOG(DEBUG_PROTOCOL, LOG_DEBUG, "Sending %s to %s (%s)", request_name(leading_request(buf)),
		    c->name, c->hostname);
	buf[len++] = '\n';
	return send_meta_raw(c, (const uint8_t *)buf, (size_t)len);
}

void forward_request(connection_t *from, const char *line) {
	int request = leading_request(line);
	if(debug_level >= DEBUG_META)
		logger(DEBUG_META, LOG_DEBUG, "Forwarding %s from %s (%s): %s", request_name(request),
		       from ? from->name : "us", from ? from->hostname : "local", line);
	else
		LOG(DEBUG_PROTOCOL, LOG_DEBUG, "Forwarding %s from %s (%s)", request_name(request),
		    from ? from->name : "us", from ? from->hostname : "local");
	size_t len = strlen(line);
	if(len > MAXBUFSIZE - 1)
		return;
	char buf[MAXBUFSIZE];
	memcpy(buf, line, len);
	buf[len++] = '\n';
	broadcast_meta(from, (const uint8_t *)buf, len);
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

bool send_tcppacket(connection_t *c, const vpn_packet_t *packet) {
	if(!c || c->status.dead)
		return false;
	/* Random early drop (spec §5.9): never below half full, always when full. */
	double limit = settings.maxoutbufsize > 0 ? (double)settings.maxoutbufsize : 10.0 * MTU;
	double p = 2.0 * (double)c->outlen / limit - 1.0;
	if(p > 0 && (p >= 1.0 || drop_random() < p)) {
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Dropping a packet for %s (%s): %zu bytes already wait to be sent",
		    c->name, c->hostname, c->outlen);
		return true;
	}
	if(!send_request(c, "%d %d", REQ_PACKET, packet->len))
		return false;
	return send_meta_raw(c, packet->data, packet->len);
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
	if(!stream_cipher_update(c->incipher, c->inbuf + from, len, c->inbuf + from)) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot decrypt the meta stream from %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	return true;
}

/* Handle every complete line and PACKET payload in the input buffer.
 * Invariant between calls: every byte in inbuf is plaintext. */
static input_result_t process_input(connection_t *c) {
	size_t pos = 0;
	for(;;) {
		if(c->status.dead)
			return INPUT_GONE;
		if(c->tcplen > 0) {
			size_t need = (size_t)c->tcplen;
			if(c->inlen - pos < need)
				break;
			const uint8_t *payload = c->inbuf + pos;
			bool discard = c->tcp_discard;
			pos += need;
			c->tcplen = 0;
			c->tcp_discard = false;
			if(!discard)
				receive_meta_frame(c->node, c->options & OPTION_TCPONLY, payload, need);
			continue;
		}
		uint8_t *nl = memchr(c->inbuf + pos, '\n', c->inlen - pos);
		if(!nl)
			break;
		*nl = '\0';
		char *line = (char *)c->inbuf + pos;
		size_t linelen = (size_t)(nl - (c->inbuf + pos));
		pos += linelen + 1;
		if(memchr(line, '\0', linelen)) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Unreadable data from %s (%s): not a request line", c->name, c->hostname);
			return INPUT_BAD;
		}
		bool was_decrypting = c->status.decrypt_in;
		if(!receive_request(c, line))
			return c->status.dead ? INPUT_GONE : INPUT_BAD;
		if(c->status.dead)
			return INPUT_GONE;
		/* The peer encrypts everything after its METAKEY line, including
		 * what arrived with that line in the same read. */
		if(!was_decrypting && c->status.decrypt_in && !decrypt_in_place(c, pos, c->inlen - pos))
			return INPUT_BAD;
	}
	if(pos) {
		memmove(c->inbuf, c->inbuf + pos, c->inlen - pos);
		c->inlen -= pos;
	}
	if(c->inlen >= MAXBUFSIZE) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Line from %s (%s) is too long for the receive buffer", c->name,
		       c->hostname);
		return INPUT_BAD;
	}
	return INPUT_OK;
}

static void drop_misbehaving(connection_t *c) {
	if(c->status.dead)
		return;
	c->status.tarpit = true;
	terminate_connection(c, c->status.active);
}

/* n new bytes were appended at inbuf + inlen: decrypt and handle them. */
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

static void receive_meta(connection_t *c) {
	if(c->inlen >= MAXBUFSIZE) {
		drop_misbehaving(c);
		return;
	}
	ssize_t n = recv(c->socket, c->inbuf + c->inlen, MAXBUFSIZE - c->inlen, 0);
	if(n < 0) {
		if(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if(errno == ECONNRESET)
			LOG(DEBUG_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
		else
			logger(DEBUG_ALWAYS, LOG_ERR, "Cannot read from %s (%s): %s", c->name,
			       c->hostname, strerror(errno));
		terminate_connection(c, c->status.active);
		return;
	}
	if(n == 0) {
		LOG(DEBUG_CONNECTIONS, LOG_NOTICE, "%s (%s) closed the connection", c->name, c->hostname);
		terminate_connection(c, c->status.active);
		return;
	}
	input_arrived(c, (size_t)n);
}

bool meta_feed(connection_t *c, const uint8_t *data, size_t len) {
	while(len && !c->status.dead) {
		if(c->inlen >= MAXBUFSIZE) {
			drop_misbehaving(c);
			break;
		}
		size_t n = MIN(len, MAXBUFSIZE - c->inlen);
		memcpy(c->inbuf + c->inlen, data, n);
		input_arrived(c, n);
		data += n;
		len -= n;
	}
	return !c->status.dead;
}

void handle_meta_io(void *data, uint32_t events) {
	connection_t *c = data;
	/* A socket still connecting has the callback of net_socket.c. */
	if(c->status.dead || c->status.connecting)
		return;
	if(events & EPOLLOUT) {
		if(!flush_meta(c)) {
			terminate_connection(c, c->status.active);
			return;
		}
	}
	if(events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		receive_meta(c);
}
