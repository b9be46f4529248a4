/* The daemon's heartbeat (net.c): the device reader, housekeeping, the end
 * of every loop turn, and the USR1/USR2 dumps.
 *
 * The data path's declarations below still live here, and the data path's
 * files still find the meta layer's calls through this header; both go
 * once the data path has its own headers and interface. */
#ifndef FQTINC_NET_H
#define FQTINC_NET_H

#include <stdint.h>

#include "util/compat.h"
#include "config/conf.h"
#include "config/settings.h"
#include "daemon/script.h"
#include "io/sockets.h"
#include "meta/connection.h"
#include "meta/meta.h"
#include "meta/protocol.h"
#include "packet/crypto.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "util/sockaddr.h"
#include "mesh/subnet.h"

/* Start the device reader, housekeeping and the end-of-turn step; the
 * first graph run. */
void net_start(void);
void net_stop(void);
/* USR1 and USR2. */
void dump_connections(void);
void dump_nodes_edges_subnets(void);

/* ---- data path (net_packet.c, route.c) ---- */

/* Send a frame to node n (spec §5.8): UDP, relay, or TCP fallback. */
void send_packet(node_t *n, vpn_packet_t *packet);
/* A frame arrived on the meta connection c. */
void receive_tcppacket(connection_t *c, const uint8_t *data, size_t len);
/* Broadcast a frame from 'from' over the MST or directly (spec §6.4). */
void broadcast_packet(const node_t *from, vpn_packet_t *packet);
/* Route a frame that came from source (myself = our device). */
void route(node_t *source, vpn_packet_t *packet);
/* Write a frame to our device. */
void device_write_packet(vpn_packet_t *packet);

/* Counters for the whole daemon (dumped on USR2). */
typedef struct datapath_stats {
	uint64_t udp_unknown_source;
	uint64_t udp_no_key;
	uint64_t udp_bad_mac;
	uint64_t udp_decrypt_failed;
	uint64_t udp_replay_late;
	uint64_t udp_replay_replayed;
	uint64_t udp_replay_farfuture;
	uint64_t udp_decompress_failed;
	uint64_t ecn_ce_drops;       /* outer CE over inner Not-ECT (RFC 6040: drop) */
	uint64_t ecn_ce_propagated;  /* outer CE copied into the inner packet */
	uint64_t ecn_unexpected;     /* combinations RFC 6040 says to log */
	uint64_t udp_send_errors;
	uint64_t rx_codel_drops;     /* receive-side CoDel signal on a Not-ECT inner packet */
} datapath_stats_t;

extern datapath_stats_t datapath_stats;

/* One datagram from 'from' on listen socket 'sock', with packet's outer TOS,
 * TTL and timestamp already filled in: find the sender, authenticate,
 * decrypt, check replay, decompress, decapsulate ECN, route. */
void receive_datagram(int sock, sockaddr_u *from, const uint8_t *data, size_t len, vpn_packet_t *packet);

/* Encrypt and send one frame by UDP straight to n (probes; bypasses relays). */
void send_udppacket(node_t *n, vpn_packet_t *packet);

/* ---- keys and PMTU (net_packet.c, pmtu.c) ---- */

void keyexpire_now(void);
void pmtu_reset(node_t *n);
void pmtu_start(node_t *n);
void pmtu_probe_received(node_t *n, vpn_packet_t *packet, size_t len);

/* ---- graph side effects, purge, scripts (net.c, script.c) ---- */

void graph_changed(void);      /* run graph() and its consequences */
void purge(void);
void subnet_update(node_t *owner, subnet_t *subnet, bool up); /* subnet-up/down, NULL = all */
/* Run CONFBASE/name if it exists, with the standard variables plus extra
 * "KEY=VALUE" entries (NULL-terminated). */
bool run_script(const char *name, char **extra_env);
/* Wait for queued event scripts (shutdown). */
void script_drain(void);

/* ---- tunables shared by the protocol and the data path ---- */

#define REQ_KEY_INTERVAL_NS (10ULL * 1000000000ULL)

#endif
