/* Events of the auxiliary UDP sockets (see aux_socket.h). */
#include "util/compat.h"

#include <errno.h>
#include <sys/socket.h>

#include "datapath/aux_socket.h"
#include "datapath/egress.h"
#include "io/udp_ports.h"
#include "io/udp_tx.h"

static uint64_t received;

uint64_t aux_socket_received(void) {
	return received;
}

/* Nothing is expected here, but an ICMP error or a stray datagram must not
 * keep the socket readable forever. Bounded per event: the loop comes back. */
static void discard_arrivals(int fd) {
	static uint8_t sink[64];
	for(int i = 0; i < 256; i++) {
		ssize_t r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC);
		if(r >= 0) {
			received++;
			continue;
		}
		/* a queued ICMP error comes back as an errno once; the next read goes on */
		if(errno == EAGAIN || errno == EWOULDBLOCK)
			return;
	}
}

void udp_aux_event(void *data, uint32_t events) {
	udp_aux_t *a = data;
	if((events & EPOLLOUT) && udp_tx_writable(a->id))
		egress_run();
	if(events & (EPOLLIN | EPOLLERR))
		discard_arrivals(a->watch.fd);
}
