/* Nodes: every tinc daemon in the VPN we know of, keyed by name. */
#ifndef FQTINC_NODE_H
#define FQTINC_NODE_H

#include <stdint.h>

#include "util/compat.h"
#include "util/event.h"
#include "mesh/ecn_path.h"
#include "packet/packet_codec.h"
#include "packet/replay.h"
#include "util/sockaddr.h"
#include "util/sset.h"

struct connection;
struct edge;
struct node;

typedef struct node_flags {
	bool tx_key_valid;       /* we hold a valid key for sending to this node (its ANS_KEY) */
	bool key_requested;  /* REQ_KEY sent, no answer yet */
	bool visited;        /* BFS scratch */
	bool reachable;
	bool indirect;       /* reached only through an INDIRECT edge */
	bool udp_verified;  /* a UDP packet from it was authenticated */
	bool back_edge_check; /* a DEL_EDGE took an edge to it: if the next graph run finds it
	                       * unreachable, its own edge to us goes too */
	bool subnet_limit_logged; /* it reached MaxSubnetsPerNode (logged once) */
	bool edge_limit_logged;   /* it reached MaxEdgesPerNode (logged once) */
} node_flags_t;

/* Status bits as tinc prints them in USR2 dumps (protocol.md §6.1). */
unsigned node_status_bits(const struct node *n);

#define NODE_PORT_BITS 256

typedef struct node_stats {
	uint64_t in_packets, in_bytes, out_packets, out_bytes;
	uint64_t udp_in, tcp_in, udp_out, tcp_out;
	uint64_t bad_mac, decrypt_failed, decompress_failed;
	/* the egress queue, for frames sent by UDP to this node */
	uint32_t q_backlog;
	uint64_t q_sent, q_sojourn_sum_ns, q_sojourn_max_ns;
	uint64_t q_drop_codel, q_drop_limit, q_ce;
	/* the receive-side CoDel, for datagrams from this node */
	uint64_t rx_ce, rx_drop;
	/* bit per outer port index our datagrams to it left from (UDPPorts) */
	uint64_t tx_ports_used[NODE_PORT_BITS / 64];
} node_stats_t;

/* node_t.ecn_host: the ECN option of hosts/NAME and -o NAME.ECN. "ECN = no"
 * keeps packets to NAME in RFC 6040 compatibility mode even when it
 * announced correct decapsulation; no file or no line counts as yes. */
#define NODE_ECN_UNREAD 0 /* not read yet */
#define NODE_ECN_UNSET 1  /* no host file, or no ECN line in it */
#define NODE_ECN_YES 2
#define NODE_ECN_NO 3

typedef struct node {
	char *name;
	char *hostname;        /* "ADDR port PORT" of address, for logs */
	node_flags_t status;
	uint32_t options;      /* options of the edge through which BFS reached us */

	sockaddr_u address;    /* UDP address; family 0 = unknown */
	int sock;              /* index of the listen socket we last heard it on */

	struct node *nexthop;  /* neighbour carrying meta traffic for it */
	struct node *via;      /* node UDP packets for it are sent to */
	struct edge *parent_edge;
	struct connection *connection; /* direct meta connection, if any */

	sset_t subnets;        /* its subnets, subnet_cmp order (set by subnet.c) */
	sset_t edges;          /* its outgoing edges, by destination name (set by edge.c) */

	/* keys: tx_key protects what we send to it (it chose it, we got it in its
	 * ANS_KEY); rx_key protects what it sends to us (we chose it). */
	packet_key_t tx_key;
	packet_key_t rx_key;
	uint32_t tx_seqno;
	replay_window_t replay;
	uint64_t req_key_sent_at; /* ns; REQ_KEY rate limit */
	uint64_t rx_key_made_at;  /* ns; when we made rx_key (an ANS_KEY soon after repeats it) */

	/* path MTU discovery (protocol.md §5.10); frame lengths */
	int mtu, mtu_floor, mtu_ceiling, pmtu_probe_count;
	ev_timer_t mtutimer;

	uint8_t ecn_host;      /* its host file's ECN option: NODE_ECN_* */
	/* Packets to it go in RFC 6040 normal mode (else compatibility mode).
	 * Kept current by the meta layer (meta/ecn_mode.c) whenever it can
	 * change: ACK, ADD_EDGE and the other graph changes, SIGHUP. The data
	 * path only reads it. */
	bool ecn_normal;
	/* what the path to it does to ECN and DSCP (datapath/ecn_probe.c) */
	ecn_path_t ecn_path;
	ev_timer_t ecn_probe_timer;
	/* extra outer ports (datapath/port_spread.c): those a port probe proved
	 * to get through to it, those answered in the current and the last round */
	uint64_t ports_ok[NODE_PORT_BITS / 64], ports_answered[NODE_PORT_BITS / 64];
	uint64_t ports_answered_before[NODE_PORT_BITS / 64];
	uint64_t port_round_at; /* ns; 0: no round since the path was confirmed */
	uint32_t port_round;
	node_stats_t stats;
} node_t;

extern node_t *local_node;
extern sset_t nodes_by_name;     /* by name */

void node_table_init(void);
/* Every node goes; their edges and subnets must be gone already (mesh_exit
 * in mesh/mesh.h tears the tables down in the right order). */
void node_table_exit(void);
node_t *node_new(const char *name);
void node_free(node_t *n);
void node_register(node_t *n);
/* Unlink n from the node tables and free it. Only for a node without
 * subnets and without edges from or to it: mesh_del_node (mesh/mesh.h)
 * takes those first. */
void node_unregister(node_t *n);
node_t *node_find(const char *name);
/* UDP address index. */
node_t *node_find_by_udp(const sockaddr_u *sa);
void node_set_udp_address(node_t *n, const sockaddr_u *sa); /* sa NULL clears */

#endif
