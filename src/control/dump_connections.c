#include "util/compat.h"

#include <string.h>

#include "control/dump_connections.h"
#include "control/protocol_ids.h"
#include "meta/connection.h"

/* The status word in tinc 1.1's bit positions, so its readers agree. */
static unsigned connection_status_word(const connection_t *c) {
	return (unsigned)c->status.ping_outstanding << 0 |
	       (unsigned)c->status.active << 1 |
	       (unsigned)c->status.connecting << 2 |
	       (unsigned)c->status.encrypt_out << 6 |
	       (unsigned)c->status.decrypt_in << 7 |
	       (unsigned)c->status.on_mst << 8 |
	       (unsigned)c->status.tarpit << 14;
}

void control_dump_connections(control_client_t *cl, int request) {
	sset_foreach(connection_t, c, &connection_set) {
		if(c->status.dead)
			continue;
		const char *host = c->hostname && strstr(c->hostname, " port ") ? c->hostname : "unknown port unknown";
		control_client_printf(cl, "%d %d %s %s %x %d %x", CTL_CONTROL, request,
		                      c->name ? c->name : "<unknown>", host, c->options, c->socket,
		                      connection_status_word(c));
	}
	/* Control clients are connections too, as tinc 1.1 lists them. */
	sset_foreach(control_client_t, other, &control_clients)
		control_client_printf(cl, "%d %d <control> localhost port unix 0 %d %x", CTL_CONTROL, request,
		                      other->fd, 1u << 9 | (other->pcap_snaplen >= 0 ? 1u << 10 : 0) | (other->log_level >= 0 ? 1u << 11 : 0));
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}
