/* The daemon's shared state and the calls between its parts:
 * settings (netsetup.c), meta connections (meta.c, protocol*.c),
 * sockets (net_socket.c), scripts (script.c); the data path's own calls
 * are in datapath/. */
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
#include "io/sockets.h"
#include "datapath/datapath.h"
#include "datapath/pmtu.h"
#include "datapath/receive.h"
#include "datapath/rekey.h"

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


/* ---- the data path's link to the daemon (datapath_link.c) ---- */

/* Connect the data path's calls upward (datapath/uplink.h). */
void datapath_link_start(void);

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
