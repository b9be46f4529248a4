/* The daemon's shared state and the calls between its parts:
 * settings (netsetup.c), meta connections (meta.c, protocol*.c),
 * sockets and the data path (net_*.c, route.c, pmtu.c), scripts (script.c). */
#ifndef FQTINC_NET_H
#define FQTINC_NET_H

#include <stdint.h>

#include "util/compat.h"
#include "config/conf.h"
#include "config/settings.h"
#include "meta/connection.h"
#include "packet/crypto.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "util/sockaddr.h"
#include "mesh/subnet.h"

/* ---- settings: config/settings.h ---- */


/* Merge "-o NAME.Key=Value" options given on the command line into a host's tree. */
void apply_cmdline_host_options(config_tree_t *tree, const char *name);
/* Full path of CONFBASE/rel (xasprintf'd). */
char *confpath(const char *rel);
bool setup_network(void);
void close_network(void);
/* SIGHUP: re-read configuration (spec §2.9). */
bool reload_configuration(void);
/* Whether packets to n go in RFC 6040 normal mode (else compatibility). */
bool node_ecn_normal(node_t *n);
/* tincd.c: rebuild settings.config from tinc.conf, conf.d and -o. */
bool reload_server_config(void);
void dump_connections(void);
void dump_nodes_edges_subnets(void);

/* ---- meta connections (meta.c) ---- */

/* Format, encrypt once METAKEY is sent, queue. False (and the connection is
 * dropped) if the line is too long. Logged at DEBUG_META. */
bool send_request(connection_t *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Send a line verbatim to every active connection except 'from'. */
void forward_request(connection_t *from, const char *line);
/* Queue raw bytes (after encryption if on). */
bool send_meta_raw(connection_t *c, const uint8_t *data, size_t len);
/* epoll callbacks for a meta socket. */
void handle_meta_io(void *data, uint32_t events);
/* Handle bytes as if they had been read from c's socket (fuzzers, tests).
 * False once c has been closed. */
bool meta_feed(connection_t *c, const uint8_t *data, size_t len);
/* "17 LEN" + bytes, with the random early drop of spec §5.9. */
bool send_tcppacket(connection_t *c, const vpn_packet_t *packet);

/* ---- protocol (protocol*.c) ---- */

/* Parse and dispatch one received line; false means "drop the connection". */
bool receive_request(connection_t *c, char *line);
bool send_id(connection_t *c);                 /* initiator: after connect() completes */
bool send_add_edge(connection_t *c, const struct edge *e);
bool send_del_edge(connection_t *c, const struct edge *e);
bool send_add_subnet(connection_t *c, const subnet_t *s);
bool send_del_subnet(connection_t *c, const subnet_t *s);
bool send_req_key(node_t *to);
bool send_ans_key(node_t *to);                 /* new inkey for 'to', sent to its nexthop */
void send_key_changed(void);
bool send_ping(connection_t *c);
/* Active connection lost: DEL_EDGE broadcast, graph, reconnect (spec §3.9). */
void terminate_connection(connection_t *c, bool report);
/* Called when a connection object is freed: forget its cached state. */
void past_request_init(void);
void past_request_age(void);  /* housekeeping */
void past_request_exit(void);

/* ---- outgoing connections and sockets (net_socket.c) ---- */

typedef struct outgoing {
	char *name;
	int timeout;              /* current back-off, seconds */
	ev_timer_t ev;
	config_tree_t *config_tree;
	struct addrinfo *ai, *aip;
	void *cfg;                /* current Address entry */
} outgoing_t;

extern sset_t outgoing_list;

void setup_outgoing_connection(outgoing_t *o);
void retry_outgoing(outgoing_t *o);
void do_outgoing_connection(outgoing_t *o);
void try_outgoing_connections(void);       /* (re)read ConnectTo, start them */
void cancel_pending_connects(void);        /* HUP: give up connects in progress */
void finish_connecting(connection_t *c);
/* First PONG on an outgoing connection: reset back-off and address list. */
void outgoing_reset_backoff(outgoing_t *o);
/* An outgoing connection ended: try the next address now or schedule a retry. */
void outgoing_connection_lost(outgoing_t *o);

typedef struct listen_socket {
	io_t tcp;
	io_t udp;
	sockaddr_u sa;
	bool bindto;              /* from BindToAddress (not the wildcard) */
	int priority;             /* 1.0.36 compatibility: last TOS set; unused with cmsgs */
} listen_socket_t;

#define MAXSOCKETS 8
/* SO_SNDBUF of UDP sockets unless UDPSndBuf is set (the kernel doubles it). */
#define UDP_SNDBUF_DEFAULT (12 * 1024)
/* SO_RCVBUF of UDP sockets unless UDPRcvBuf is set. */
#define UDP_RCVBUF_DEFAULT (1024 * 1024)
extern listen_socket_t listen_socket[MAXSOCKETS];
extern int listen_sockets;

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
