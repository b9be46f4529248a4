/* The mesh tables as a whole. A node owns its subnets and its edges, and
 * other nodes' edges point at it, so taking a node out or tearing the
 * tables down touches all three tables: that happens here, above node.c,
 * edge.c and subnet.c. */
#ifndef FQTINC_MESH_H
#define FQTINC_MESH_H

#include "util/compat.h"
#include "mesh/node.h"

/* Delete n with its subnets, its edges and the edges towards it. */
void mesh_del_node(node_t *n);
/* Empty every table: edges first (they name nodes at both ends), then
 * subnets, then nodes. */
void mesh_exit(void);

#endif
