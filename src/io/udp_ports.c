/* Send-socket ids to sockets (see udp_ports.h). */
#include "util/compat.h"

#include "io/udp_ports.h"

udp_aux_t *udp_aux[MAX_LISTENERS];
int udp_aux_count[MAX_LISTENERS];

fd_watch_t *udp_tx_watch(int id) {
	if(id < 0 || id >= UDP_TX_SOCKETS)
		return NULL;
	int l = id % MAX_LISTENERS, port = id / MAX_LISTENERS;
	if(l >= listener_count)
		return NULL;
	if(!port)
		return &listener[l].udp;
	if(port > udp_aux_count[l] || !udp_aux[l])
		return NULL;
	return &udp_aux[l][port - 1].watch;
}

int udp_tx_id_end(void) {
	int most = 0;
	for(int l = 0; l < listener_count; l++)
		most = MAX(most, udp_aux_count[l]);
	return MAX_LISTENERS * (most + 1);
}
