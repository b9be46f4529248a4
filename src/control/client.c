/* Control clients: buffered, non-blocking output, so a slow `tinc log`
 * reader never stalls the daemon; a client that lets more than
 * CONTROL_OUT_MAX bytes pile up is dropped. */
#include "util/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/client.h"
#include "util/xalloc.h"

#define CONTROL_OUT_MAX (4u << 20)

static int by_pointer(const void *a, const void *b) {
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return x < y ? -1 : x > y;
}

sset_t control_clients = {.cmp = by_pointer};

control_client_t *control_client_new(int fd) {
	control_client_t *cl = xzalloc(sizeof(*cl));
	cl->fd = fd;
	cl->io.fd = -1; /* not watched until the caller starts it */
	cl->log_level = -1;
	cl->pcap_snaplen = -1;
	sset_insert(&control_clients, cl);
	return cl;
}

bool control_client_write(control_client_t *cl, const void *data, size_t len) {
	if(cl->dead)
		return false;
	if(cl->outlen + len > CONTROL_OUT_MAX) {
		control_client_close(cl);
		return false;
	}
	if(cl->outlen + len > cl->outcap) {
		cl->outcap = MAX(cl->outlen + len, cl->outcap * 2 + 4096);
		cl->out = xrealloc(cl->out, cl->outcap);
	}
	memcpy(cl->out + cl->outlen, data, len);
	cl->outlen += len;
	return control_client_flush(cl);
}

bool control_client_printf(control_client_t *cl, const char *fmt, ...) {
	char line[CONTROL_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if(n < 0)
		return false;
	if((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return control_client_write(cl, line, (size_t)n);
}

bool control_client_flush(control_client_t *cl) {
	if(cl->dead)
		return false;
	size_t done = 0;
	while(done < cl->outlen) {
		ssize_t r = send(cl->fd, cl->out + done, cl->outlen - done, MSG_NOSIGNAL);
		if(r < 0 && errno == EINTR)
			continue;
		if(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if(r <= 0) {
			control_client_close(cl);
			return false;
		}
		done += (size_t)r;
	}
	memmove(cl->out, cl->out + done, cl->outlen - done);
	cl->outlen -= done;
	if(!cl->outlen && cl->closing) {
		control_client_close(cl);
		return false;
	}
	fd_watch_set_events(&cl->io, EPOLLIN | (cl->outlen ? EPOLLOUT : 0));
	return true;
}

static void client_free(void *p) {
	control_client_t *cl = p;
	free(cl->out);
	free(cl);
}

void control_client_close(control_client_t *cl) {
	if(cl->dead)
		return;
	cl->dead = true;
	fd_watch_stop(&cl->io);
	close(cl->fd);
	sset_remove(&control_clients, cl);
	event_defer(client_free, cl);
}

void control_clients_close_all(void) {
	while(control_clients.count)
		control_client_close(control_clients.items[0]);
}
