/* Sealing (see seal.h): compression, the codec's encryption and MAC, the
 * outer TOS byte, and the choice of socket (and of its port, per flow:
 * datapath/port_spread.h). */
#include "util/compat.h"

#include "datapath/port_spread.h"
#include "datapath/seal.h"
#include "config/settings.h"
#include "io/sockets.h"
#include "io/udp_ports.h"
#include "io/udp_tx.h"
#include "packet/compress.h"
#include "packet/ecn.h"
#include "packet/packet_codec.h"
#include "packet/port_probe_frame.h"
#include "util/log.h"

/* The outer TOS byte: DSCP by PriorityInheritance, ECN by RFC 6040 §4.1 toward
 * nodes that announced correct decapsulation, Not-ECT toward everyone else. */
static uint8_t outer_tos_for(node_t *to, const frame_buf_t *packet) {
	uint8_t tos;
	if(packet->len < ETH_HLEN || (packet->data[12] == 0 && packet->data[13] == 0))
		return 0; /* a PMTU probe */
	if(!ecn_frame_tos(packet->data, packet->len, &tos))
		return 0;
	return outer_tos(tos, settings.priorityinheritance, to->ecn_normal);
}

/* The socket we last heard n on if it has n's address family, else the
 * first one that has. */
static int socket_for(const node_t *n) {
	if(n->sock >= 0 && n->sock < listener_count &&
	   listener[n->sock].sa.sa.sa_family == n->address.sa.sa_family)
		return n->sock;
	for(int i = 0; i < listener_count; i++)
		if(listener[i].sa.sa.sa_family == n->address.sa.sa_family)
			return i;
	return -1;
}

static void seal_with_tos(node_t *n, const frame_buf_t *packet, uint8_t tos, int forced_sock);

/* One port probe request from each extra port (see port_spread.h). */
static void probe_ports(node_t *n, int main_id, uint32_t round, int aux) {
	static frame_buf_t probe;
	for(int k = 1; k <= aux; k++) {
		port_probe_msg_t m = {.reply = false, .index = (uint16_t)k, .round = round};
		probe.len = (uint16_t)port_probe_build(&m, probe.data, sizeof(probe.data));
		seal_with_tos(n, &probe, 0, udp_tx_id(main_id, k));
	}
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Port probes from %d extra ports sent to %s (%s)", aux, n->name, n->hostname);
}

/* forced_sock: a send-socket id the datagram must leave from; -1: the
 * socket n is heard on, the port by the frame's flow. */
static void seal_with_tos(node_t *n, const frame_buf_t *packet, uint8_t tos, int forced_sock) {
	static uint8_t compressed[PACKET_BUF_MAX];
	const uint8_t *data = packet->data;
	size_t len = packet->len;

	if(!n->tx_key.valid || !n->address.sa.sa_family)
		return;
	/* before compression: probes sent from here reuse its buffer */
	int sock = forced_sock;
	if(sock < 0) {
		sock = socket_for(n);
		uint32_t round;
		int aux;
		if(sock >= 0 && port_spread_round_begin(n, sock, &round, &aux))
			probe_ports(n, sock, round, aux);
		if(sock >= 0)
			sock = port_spread_socket(n, packet, sock);
	}
	if(n->tx_key.compression) {
		len = compress_frame(n->tx_key.compression, packet->data, packet->len, compressed, sizeof(compressed));
		if(!len) {
			LOG(VERBOSITY_TRAFFIC, LOG_ERR, "Cannot compress a frame for %s (%s); frame dropped", n->name, n->hostname);
			return;
		}
		data = compressed;
	}
	uint8_t *slot = sock >= 0 ? udp_tx_slot(sock) : NULL;
	if(!slot) {
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Send batch for %s (%s) is full; frame dropped", n->name, n->hostname);
		return;
	}
	size_t out = packet_seal_deferred(&n->tx_key, ++n->tx_seqno, data, len, slot, UDP_TX_SLOT);
	if(!out) {
		LOG(VERBOSITY_TRAFFIC, LOG_ERR, "Cannot encrypt a frame for %s (%s); frame dropped", n->name, n->hostname);
		return;
	}
	udp_tx_commit(sock, n, out, tos, packet->len);
	ecn_path_count_tx(&n->ecn_path, tos);
	n->stats.out_packets++;
	n->stats.out_bytes += packet->len;
}

void seal_and_send(node_t *n, const frame_buf_t *packet) {
	seal_with_tos(n, packet, outer_tos_for(n, packet), -1);
}

void seal_and_send_tos(node_t *n, const frame_buf_t *packet, uint8_t tos) {
	seal_with_tos(n, packet, tos, -1);
}
