#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "aqm/sndbuf_sizing.h"
#include "util/clock.h"
#include "util/log.h"
#include "io/sockets.h"
#include "io/udp_ports.h"
#include "util/xalloc.h"
#include "mesh/node.h"
#include "io/udp_tx.h"

typedef struct tx_batch {
	struct mmsghdr msgs[UDP_TX_BATCH];
	struct iovec iov[UDP_TX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control[UDP_TX_BATCH];
	uint8_t data[UDP_TX_BATCH][UDP_TX_SLOT];
	sockaddr_u addr[UDP_TX_BATCH]; /* copied: the node may go away while we wait */
	node_t *to[UDP_TX_BATCH];      /* NULL once forgotten */
	size_t framelen[UDP_TX_BATCH];
	int head;       /* first message not yet sent */
	int count;      /* messages queued */
	bool blocked;   /* the socket said EAGAIN/ENOBUFS: wait for EPOLLOUT */
	uint64_t full_since_ns; /* when a send found the buffer full; 0: not so */
	int sized_fd;   /* the socket the sizing belongs to */
	sndbuf_sizing_t sizing;
} tx_batch_t;

/* by send-socket id (io/udp_ports.h): listeners first, then auxiliary ports */
static tx_batch_t *batches[UDP_TX_SOCKETS];
static int blocked_count; /* batches with blocked set */

static uint64_t send_errors;

static tx_batch_t *batch_for(int sock) {
	if(!udp_tx_watch(sock))
		return NULL;
	if(!batches[sock]) {
		batches[sock] = xzalloc(sizeof(tx_batch_t));
		batches[sock]->sized_fd = -1;
	}
	return batches[sock];
}

static void flush(int sock);

/* The send buffer follows the uplink's drain rate (see sndbuf_sizing.h). */
static void sizing_start(tx_batch_t *b, int fd) {
	int size = 0;
	socklen_t len = sizeof(size);
	if(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0 || size <= 0)
		size = 0;
	sndbuf_sizing_init(&b->sizing, (uint32_t)size);
	b->sized_fd = fd;
	b->full_since_ns = 0;
}

static void sizing_drained(tx_batch_t *b, int sock) {
	int fd = udp_tx_watch(sock)->fd;
	if(!b->full_since_ns)
		return;
	uint64_t elapsed = clock_now_ns() - b->full_since_ns;
	b->full_since_ns = 0;
	uint32_t want = sndbuf_sizing_sample(&b->sizing, elapsed);
	if(want == b->sizing.current)
		return;
	/* the kernel doubles what it is given, for its own overhead */
	int half = (int)(want / 2), size = 0;
	socklen_t len = sizeof(size);
	if(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof(half)) < 0 ||
	   getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0 || size <= 0)
		return;
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Send buffer of %s now %d bytes (uplink drains about %llu kB/s)",
	    sockaddr_describe(&listener[sock % MAX_LISTENERS].sa), size, (unsigned long long)b->sizing.rate / 1000);
	sndbuf_sizing_applied(&b->sizing, (uint32_t)size);
}

uint8_t *udp_tx_slot(int sock) {
	tx_batch_t *b = batch_for(sock);
	if(!b)
		return NULL;
	if(b->count == UDP_TX_BATCH) {
		if(b->blocked)
			return NULL;
		flush(sock);
		if(b->count == UDP_TX_BATCH)
			return NULL;
	}
	return b->data[b->count];
}

void udp_tx_commit(int sock, node_t *to, size_t len, uint8_t tos, size_t framelen) {
	tx_batch_t *b = batch_for(sock);
	int i = b->count++;
	b->iov[i] = (struct iovec){b->data[i], len};
	b->addr[i] = to->address;
	struct msghdr *m = &b->msgs[i].msg_hdr;
	*m = (struct msghdr){
		.msg_name = &b->addr[i], .msg_namelen = sockaddr_len(&to->address),
		.msg_iov = &b->iov[i], .msg_iovlen = 1,
		.msg_control = b->control[i].buf, .msg_controllen = sizeof(b->control[i].buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);
	if(to->address.sa.sa_family == AF_INET) {
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_TOS;
	} else {
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_TCLASS;
	}
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	int v = tos;
	memcpy(CMSG_DATA(cm), &v, sizeof(v));
	b->to[i] = to;
	b->framelen[i] = framelen;
	if(b->count == UDP_TX_BATCH)
		flush(sock);
}

/* The kernel refused a datagram as larger than the local path MTU (DF is set):
 * shrink the node's PMTU window as tinc does. */
static void too_big(node_t *n, size_t framelen) {
	if(n->mtu_ceiling >= (int)framelen)
		n->mtu_ceiling = (int)framelen - 1;
	if(n->mtu >= (int)framelen)
		n->mtu = (int)framelen - 1;
	LOG(VERBOSITY_TRAFFIC, LOG_INFO, "Kernel refused a %zu-byte frame for %s (%s) as too big for the path; its MTU is now at most %d",
	    framelen, n->name, n->hostname, n->mtu_ceiling);
}

static void flush(int sock) {
	tx_batch_t *b = batch_for(sock);
	if(!b || b->blocked)
		return;
	while(b->head < b->count) {
		int r = sendmmsg(udp_tx_watch(sock)->fd, &b->msgs[b->head], (unsigned)(b->count - b->head), MSG_DONTWAIT);
		if(r > 0) {
			for(int i = b->head; i < b->head + r; i++)
				if(b->to[i])
					b->to[i]->stats.udp_out++;
			b->head += r;
			continue;
		}
		if(errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			/* keep the rest; the local queue is full (send buffer or qdisc) */
			b->blocked = true;
			blocked_count++;
			if(errno != ENOBUFS) {
				if(b->sized_fd != udp_tx_watch(sock)->fd)
					sizing_start(b, udp_tx_watch(sock)->fd);
				b->full_since_ns = clock_now_ns();
			}
			fd_watch_set_events(udp_tx_watch(sock), EPOLLIN | EPOLLOUT);
			return;
		}
		if(errno == EINTR)
			continue;
		node_t *n = b->to[b->head];
		if(errno == EMSGSIZE && n) {
			too_big(n, b->framelen[b->head]);
		} else if(errno != EMSGSIZE) {
			send_errors++;
			LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "Cannot send a datagram to %s: %s", sockaddr_describe(&b->addr[b->head]), strerror(errno));
		}
		b->head++; /* drop this one, send the rest */
	}
	b->head = b->count = 0;
}

void udp_tx_flush_all(void) {
	for(int s = 0, end = udp_tx_id_end(); s < end; s++)
		if(batches[s] && batches[s]->count)
			flush(s);
}

bool udp_tx_blocked(int sock) {
	tx_batch_t *b = batch_for(sock);
	return b && b->blocked;
}

bool udp_tx_writable(int sock) {
	tx_batch_t *b = batch_for(sock);
	if(!b)
		return false;
	if(b->blocked)
		blocked_count--;
	b->blocked = false;
	if(b->sized_fd == udp_tx_watch(sock)->fd)
		sizing_drained(b, sock);
	fd_watch_set_events(udp_tx_watch(sock), EPOLLIN);
	flush(sock);
	return !b->blocked;
}

bool udp_tx_any_blocked(void) {
	return blocked_count > 0;
}

uint64_t udp_tx_send_errors(void) {
	return send_errors;
}

void udp_tx_forget_node(const node_t *n) {
	for(int s = 0; s < UDP_TX_SOCKETS; s++)
		if(batches[s])
			for(int i = batches[s]->head; i < batches[s]->count; i++)
				if(batches[s]->to[i] == n)
					batches[s]->to[i] = NULL;
}
