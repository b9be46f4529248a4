/* Small meshes built in memory, shared by the unit tests and fuzzers of the
 * mesh and route layers: nodes, edges and subnets registered in the global
 * tables the way the meta protocol would register them. */
#ifndef FQTINC_MESH_FIXTURES_H
#define FQTINC_MESH_FIXTURES_H

#include "mesh/edge.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

/* A registered node; mtu 0 leaves the node's default. */
static inline node_t *fixture_node(const char *name, bool reachable, int mtu) {
	node_t *n = node_new(name);
	n->status.reachable = reachable;
	if(mtu)
		n->mtu = mtu;
	node_register(n);
	return n;
}

/* A linked edge FROM -> TO. */
static inline edge_t *fixture_edge(node_t *from, node_t *to, uint32_t options, int weight) {
	edge_t *e = edge_new();
	e->from = from;
	e->to = to;
	e->options = options;
	e->weight = weight;
	edge_link(e);
	return e;
}

/* The subnet STR, attached to OWNER; NULL (nothing attached) if STR is not
 * a subnet. */
static inline subnet_t *fixture_subnet(node_t *owner, const char *str) {
	subnet_t *s = subnet_new();
	if(!subnet_parse(s, str)) {
		subnet_free(s);
		return NULL;
	}
	subnet_attach(owner, s);
	return s;
}

#endif
