/* Events of the auxiliary UDP sockets (see aux_socket.h). */
#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/aux_socket.h"
#include "datapath/egress.h"
#include "datapath/receive.h"
#include "io/udp_ports.h"
#include "io/udp_tx.h"
#include "util/clock.h"

static uint64_t received;

uint64_t aux_socket_received(void) {
	return received;
}

static uint8_t outer_tos_of(struct msghdr *msg) {
	for(struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if(cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS && cm->cmsg_len >= CMSG_LEN(1))
			return *(uint8_t *)CMSG_DATA(cm);
		if(cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int v;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return (uint8_t)v;
		}
	}
	return 0;
}

/* Little is expected here: ICMP errors, and datagrams of a peer that took
 * one of our extra ports for our own (a probe of a new source, or after a
 * NAT changed its mappings). Those are opened like datagrams on the own
 * socket, past the receive-side queue (there is no standing queue here);
 * the peer then answers our own port. Bounded per event: the loop comes back. */
static void read_arrivals(udp_aux_t *a) {
	static uint8_t buf[PACKET_BUF_MAX];
	static frame_buf_t packet;
	union {
		char buf[256];
		struct cmsghdr align;
	} control;
	int l = a->id % MAX_LISTENERS;
	for(int i = 0; i < 64; i++) {
		sockaddr_u from;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
		};
		ssize_t r = recvmsg(a->watch.fd, &msg, MSG_DONTWAIT);
		if(r < 0) {
			/* a queued ICMP error comes back as an errno once; the next read goes on */
			if(errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;
		}
		received++;
		if(msg.msg_flags & MSG_TRUNC)
			continue;
		packet.outer_tos = outer_tos_of(&msg);
		packet.outer_ttl = 0;
		packet.tstamp_ns = now_ns;
		packet.congested = PACKET_SIGNAL_NONE;
		receive_datagram(l, &from, buf, (size_t)r, &packet);
	}
}

void udp_aux_event(void *data, uint32_t events) {
	udp_aux_t *a = data;
	if((events & EPOLLOUT) && udp_tx_writable(a->id))
		egress_run();
	if(events & (EPOLLIN | EPOLLERR))
		read_arrivals(a);
}
