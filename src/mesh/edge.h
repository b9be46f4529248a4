/* Edges: "node FROM has a meta connection to node TO" (protocol.md §6.1). */
#ifndef FQTINC_EDGE_H
#define FQTINC_EDGE_H

#include <stdint.h>

#include "util/compat.h"
#include "mesh/options.h"
#include "util/sockaddr.h"
#include "util/sset.h"

struct node;
struct connection;

typedef struct edge {
	struct node *from;
	struct node *to;
	sockaddr_u address;       /* TO's UDP address as FROM sees it; family 0 if opaque */
	char *address_str;        /* as received (kept for opaque, non-numeric addresses) */
	char *port_str;
	uint32_t options;          /* OPTION_* (mesh/options.h) */
	int weight;
	struct connection *connection; /* our connection, if FROM is us (meta's; opaque here) */
	struct edge *reverse;
	bool on_mst;                 /* in the broadcast tree (graph_mst) */
} edge_t;

extern sset_t edges_by_weight; /* by weight, from name, to name */

void edge_table_init(void);
void edge_table_exit(void);
edge_t *edge_new(void);
void edge_free(edge_t *e);
void edge_link(edge_t *e);   /* links into from->edges, weight tree, sets reverse */
void edge_unlink(edge_t *e);   /* unlinks and frees */
edge_t *edge_find(struct node *from, struct node *to);

#endif
