#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "aqm/sndbuf_sizing.h"
#include "util/clock.h"
#include "util/log.h"
#include "io/gso_runs.h"
#include "io/sockets.h"
#include "io/udp_offload.h"
#include "io/udp_ports.h"
#include "mesh/node.h"
#include "packet/packet_codec.h"
#include "io/udp_tx.h"

typedef struct tx_batch {
	struct iovec iov[UDP_TX_BATCH];   /* a queued datagram's bytes */
	uint8_t data[UDP_TX_BATCH][UDP_TX_SLOT];
	sockaddr_u addr[UDP_TX_BATCH]; /* copied: the node may go away while we wait */
	node_t *to[UDP_TX_BATCH];      /* NULL once forgotten */
	size_t framelen[UDP_TX_BATCH];
	uint8_t tos[UDP_TX_BATCH];
	bool alone[UDP_TX_BATCH];      /* refused as part of a GSO message: goes alone */
	bool sent[UDP_TX_BATCH];       /* gone (or given up); GSO runs may send out of slot order */
	int head;       /* slots before it are all sent */
	int count;      /* slots in use */
	bool blocked;   /* the socket said EAGAIN/ENOBUFS: wait for EPOLLOUT */
	uint64_t full_since_ns; /* when a send found the buffer full; 0: not so */
	int sized_fd;   /* the socket the sizing belongs to */
	sndbuf_sizing_t sizing;
	int gso_fd;     /* 1 + the socket whose GSO support gso says; 0: not asked yet */
	bool gso;       /* UDP_SEGMENT may be used on it */
} tx_batch_t;

/* by send-socket id (io/udp_ports.h): listeners first, then auxiliary ports */
static tx_batch_t *batches[UDP_TX_SOCKETS];
static int blocked_count; /* batches with blocked set */
static uint64_t last_pushback_ns;

static uint64_t send_errors;

static tx_batch_t *batch_for(int sock) {
	if(!udp_tx_watch(sock))
		return NULL;
	if(!batches[sock]) {
		/* Fresh zero pages, not the heap: a batch costs memory only for
		 * the slots it has used, so an extra port that carries a probe now
		 * and then costs a few pages, not 100 kB. */
		void *p = mmap(NULL, sizeof(tx_batch_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if(p == MAP_FAILED) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot allocate a send batch (%zu bytes): %s", sizeof(tx_batch_t), strerror(errno));
			return NULL;
		}
		batches[sock] = p;
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
	b->tos[i] = tos;
	b->alone[i] = b->sent[i] = false;
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

/* The messages of one flush: a GSO run of datagrams, or a single one. */
typedef union tx_control {
	char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
} tx_control_t;

static struct {
	struct mmsghdr msgs[UDP_TX_BATCH];
	struct iovec iov[UDP_TX_BATCH];     /* the runs' datagrams, in sending order */
	tx_control_t control[UDP_TX_BATCH];
	gso_run_t runs[UDP_TX_BATCH];
	uint16_t order[UDP_TX_BATCH];       /* indices into slot */
	int slot[UDP_TX_BATCH];             /* the unsent datagrams' slots */
} out;

static uint64_t gso_messages, gso_datagrams;

static bool same_address(const sockaddr_u *a, const sockaddr_u *b) {
	return a->sa.sa_family == b->sa.sa_family && !memcmp(a, b, sockaddr_len(a));
}

static int run_slot(int run, int k) {
	return out.slot[out.order[out.runs[run].first + k]];
}

/* Turn b's unsent datagrams into messages (out); returns how many. */
static int plan_messages(tx_batch_t *b) {
	gso_datagram_t d[UDP_TX_BATCH];
	int distinct[UDP_TX_BATCH]; /* the first slot of each destination seen */
	int n = 0, ndistinct = 0;
	while(b->head < b->count && b->sent[b->head])
		b->head++;
	for(int i = b->head; i < b->count; i++) {
		if(b->sent[i])
			continue;
		uint32_t dest = 0;
		if(b->gso) { /* without GSO every datagram is a message of its own */
			int k = 0;
			while(k < ndistinct && !same_address(&b->addr[distinct[k]], &b->addr[i]))
				k++;
			if(k == ndistinct)
				distinct[ndistinct++] = i;
			dest = (uint32_t)k;
		}
		d[n] = (gso_datagram_t){.dest = dest, .len = (uint16_t)b->iov[i].iov_len, .tos = b->tos[i], .alone = b->alone[i]};
		out.slot[n++] = i;
	}
	/* a slow uplink (one that pushed back) gets short messages */
	uint32_t max_bytes = b->sized_fd >= 0 ? sndbuf_sizing_burst_bytes(&b->sizing, GSO_RUNS_MAX_BYTES) : GSO_RUNS_MAX_BYTES;
	int nruns = (int)gso_runs_plan(d, (size_t)n, b->gso ? GSO_RUNS_MAX_SEGMENTS : 1, max_bytes, out.order, out.runs);
	for(int r = 0; r < nruns; r++) {
		const gso_run_t *run = &out.runs[r];
		for(int k = 0; k < run->count; k++)
			out.iov[run->first + k] = b->iov[run_slot(r, k)];
		int first = run_slot(r, 0);
		struct msghdr *m = &out.msgs[r].msg_hdr;
		*m = (struct msghdr){
			.msg_name = &b->addr[first], .msg_namelen = sockaddr_len(&b->addr[first]),
			.msg_iov = &out.iov[run->first], .msg_iovlen = run->count,
			.msg_control = out.control[r].buf, .msg_controllen = CMSG_SPACE(sizeof(int)),
		};
		struct cmsghdr *cm = CMSG_FIRSTHDR(m);
		if(b->addr[first].sa.sa_family == AF_INET) {
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_TOS;
		} else {
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_TCLASS;
		}
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		int v = b->tos[first];
		memcpy(CMSG_DATA(cm), &v, sizeof(v));
		if(run->count > 1) {
			/* set by hand: CMSG_NXTHDR would read the unwritten next header */
			cm = (struct cmsghdr *)(void *)(out.control[r].buf + CMSG_SPACE(sizeof(int)));
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t segment = run->segment;
			memcpy(CMSG_DATA(cm), &segment, sizeof(segment));
			m->msg_controllen += CMSG_SPACE(sizeof(uint16_t));
		}
	}
	return nruns;
}

static void run_sent(tx_batch_t *b, int r) {
	int count = out.runs[r].count;
	for(int k = 0; k < count; k++) {
		int i = run_slot(r, k);
		b->sent[i] = true;
		if(b->to[i])
			b->to[i]->stats.udp_out++;
	}
	if(count > 1) {
		gso_messages++;
		gso_datagrams += (uint64_t)count;
	}
}

/* The kernel refused a GSO message: its datagrams go again one by one, so
 * a datagram too big for the path meets the PMTU logic on its own. EIO: the
 * outgoing device cannot checksum segments, so GSO is off for the socket. */
static void run_refused(tx_batch_t *b, int sock, int r, int err) {
	int first = run_slot(r, 0);
	if(err == EIO) {
		b->gso = false;
		logger(VERBOSITY_ERRORS, LOG_WARNING, "UDP GSO turned off on %s: sending to %s failed (%s), the outgoing device cannot checksum segments; datagrams go one by one",
		       sockaddr_describe(&listener[sock % MAX_LISTENERS].sa), sockaddr_describe(&b->addr[first]), strerror(err));
		return;
	}
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Kernel refused %u datagrams of %u bytes to %s as one GSO message: %s; sending them one by one",
	    out.runs[r].count, out.runs[r].segment, sockaddr_describe(&b->addr[first]), strerror(err));
	for(int k = 0; k < out.runs[r].count; k++)
		b->alone[run_slot(r, k)] = true;
}

static void flush(int sock) {
	/* The datagrams were sealed with their encryption deferred, so that the
	 * codec can encrypt several at once: nothing leaves before that is done. */
	int failed = packet_seal_complete();
	if(failed) {
		send_errors += (uint64_t)failed;
		LOG(VERBOSITY_TRAFFIC, LOG_ERR, "Encryption failed for %d datagrams; they were wiped and go out unreadable", failed);
	}
	tx_batch_t *b = batch_for(sock);
	if(!b || b->blocked)
		return;
	int fd = udp_tx_watch(sock)->fd;
	if(b->gso_fd != fd + 1) {
		b->gso_fd = fd + 1;
		b->gso = udp_offload_gso_usable(fd);
	}
	for(bool again = true; again;) {
		again = false;
		int nmsgs = plan_messages(b), k = 0;
		while(k < nmsgs) {
			int r = sendmmsg(fd, &out.msgs[k], (unsigned)(nmsgs - k), MSG_DONTWAIT);
			if(r > 0) {
				for(int m = k; m < k + r; m++)
					run_sent(b, m);
				k += r;
				continue;
			}
			if(errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				/* keep the rest; the local queue is full (send buffer or qdisc) */
				b->blocked = true;
				blocked_count++;
				last_pushback_ns = clock_now_ns();
				if(errno != ENOBUFS) {
					if(b->sized_fd != fd)
						sizing_start(b, fd);
					b->full_since_ns = clock_now_ns();
				}
				fd_watch_set_events(udp_tx_watch(sock), EPOLLIN | EPOLLOUT);
				return;
			}
			if(errno == EINTR)
				continue;
			if(out.runs[k].count > 1) {
				run_refused(b, sock, k, errno);
				again = true; /* what is left, planned anew */
				break;
			}
			int i = run_slot(k, 0);
			node_t *n = b->to[i];
			if(errno == EMSGSIZE && n) {
				too_big(n, b->framelen[i]);
			} else if(errno != EMSGSIZE) {
				send_errors++;
				LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "Cannot send a datagram to %s: %s", sockaddr_describe(&b->addr[i]), strerror(errno));
			}
			b->sent[i] = true; /* drop this one, send the rest */
			k++;
		}
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

uint64_t udp_tx_last_pushback_ns(void) {
	return last_pushback_ns;
}

bool udp_tx_any_blocked(void) {
	return blocked_count > 0;
}

uint64_t udp_tx_send_errors(void) {
	return send_errors;
}

void udp_tx_gso_counts(uint64_t *messages, uint64_t *datagrams) {
	*messages = gso_messages;
	*datagrams = gso_datagrams;
}

void udp_tx_forget_node(const node_t *n) {
	for(int s = 0; s < UDP_TX_SOCKETS; s++)
		if(batches[s])
			for(int i = batches[s]->head; i < batches[s]->count; i++)
				if(batches[s]->to[i] == n)
					batches[s]->to[i] = NULL;
}
