/* Nodes: every tinc daemon in the VPN we know of, keyed by name. */
#ifndef FQTINC_NODE_H
#define FQTINC_NODE_H

#include <stdint.h>

#include "util/compat.h"
#include "util/event.h"
#include "packet/packet_codec.h"
#include "packet/replay.h"
#include "util/sockaddr.h"
#include "util/sset.h"

struct connection;
struct edge;
struct node;

typedef struct node_status {
	bool validkey;       /* we hold a valid key for sending to this node (its ANS_KEY) */
	bool waitingforkey;  /* REQ_KEY sent, no answer yet */
	bool visited;        /* BFS scratch */
	bool reachable;
	bool indirect;       /* reached only through an INDIRECT edge */
	bool udp_confirmed;  /* a UDP packet from it was authenticated */
} node_status_t;

/* Status bits as tinc prints them in USR2 dumps (spec §6.1). */
unsigned node_status_bits(const struct node *n);

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
} node_stats_t;

/* node_t.ecn_host: "ECN = no" in hosts/NAME keeps packets to NAME in RFC
 * 6040 compatibility mode even when it announced correct decapsulation. */
#define NODE_ECN_UNREAD 0
#define NODE_ECN_YES 1
#define NODE_ECN_NO 2

typedef struct node {
	char *name;
	char *hostname;        /* "ADDR port PORT" of address, for logs */
	node_status_t status;
	uint32_t options;      /* options of the edge through which BFS reached us */

	sockaddr_u address;    /* UDP address; family 0 = unknown */
	int sock;              /* index of the listen socket we last heard it on */

	struct node *nexthop;  /* neighbour carrying meta traffic for it */
	struct node *via;      /* node UDP packets for it are sent to */
	struct edge *prevedge;
	struct connection *connection; /* direct meta connection, if any */

	sset_t subnets;        /* its subnets, subnet_compare order */
	sset_t edges;          /* its outgoing edges, by destination name */

	/* keys: outkey protects what we send to it (it chose it, we got it in its
	 * ANS_KEY); inkey protects what it sends to us (we chose it). */
	packet_key_t outkey;
	packet_key_t inkey;
	uint32_t sent_seqno;
	replay_window_t replay;
	uint64_t last_req_key; /* ns; REQ_KEY rate limit */

	/* path MTU discovery (spec §5.10); frame lengths */
	int mtu, minmtu, maxmtu, mtuprobes;
	ev_timer_t mtutimer;

	uint8_t ecn_host;      /* its host file's ECN option: NODE_ECN_* (read on first use) */
	node_stats_t stats;
} node_t;

extern node_t *myself;
extern sset_t node_tree;     /* by name */

void node_table_init(void);
void node_table_exit(void);
node_t *node_new(const char *name);
void node_free(node_t *n);
void node_add(node_t *n);
void node_del(node_t *n);    /* removes its subnets and edges too, then frees */
node_t *lookup_node(const char *name);
/* UDP address index. */
node_t *lookup_node_udp(const sockaddr_u *sa);
void update_node_udp(node_t *n, const sockaddr_u *sa); /* sa NULL clears */

#endif
