/* The auxiliary UDP sockets: besides its own UDP socket, every listener may
 * have up to UDP_PORTS_MAX - 1 more, bound to the same address on ports the
 * kernel picks, from which datagrams to capable peers leave, one inner flow
 * per port (datapath/port_spread.h, protocol.md §10.3). They are for
 * sending: peers answer the listener's own port (datapath/aux_socket.h).
 *
 * Send-socket ids (io/udp_tx.h) name both kinds: listener index plus
 * MAX_LISTENERS times the port index, port index 0 being the listener's
 * own socket, so the ids below MAX_LISTENERS are the listeners as before. */
#ifndef FQTINC_UDP_PORTS_H
#define FQTINC_UDP_PORTS_H

#include "util/compat.h"
#include "util/event.h"
#include "io/sockets.h"

/* UDPPorts: at most this many ports per listener, its own included. */
#define UDP_PORTS_MAX 256
#define UDP_TX_SOCKETS (MAX_LISTENERS * UDP_PORTS_MAX)

typedef struct udp_aux {
	fd_watch_t watch;
	int id;           /* its send-socket id */
} udp_aux_t;

/* Per listener: its auxiliary sockets, aux_count[l] of them (port indexes
 * 1 to aux_count[l]). The meta layer opens and closes them. */
extern udp_aux_t *udp_aux[MAX_LISTENERS];
extern int udp_aux_count[MAX_LISTENERS];

static inline int udp_tx_id(int listener_index, int port_index) {
	return listener_index + MAX_LISTENERS * port_index;
}
/* The watch of send-socket id, NULL if no such socket is open. */
fd_watch_t *udp_tx_watch(int id);
/* One more than the highest send-socket id that may be open. */
int udp_tx_id_end(void);

#endif
