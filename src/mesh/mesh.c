#include "util/compat.h"

#include "mesh/edge.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

void mesh_del_node(node_t *n) {
	while(n->subnets.count)
		subnet_del(n, n->subnets.items[n->subnets.count - 1]);
	while(n->edges.count)
		edge_del(n->edges.items[n->edges.count - 1]);
	/* Callers normally delete the edges towards n first; any left would point
	 * at freed memory, so drop them here. */
	for(size_t i = edge_weight_tree.count; i-- > 0;) {
		edge_t *e = edge_weight_tree.items[i];
		if(e->to == n)
			edge_del(e);
	}
	node_del(n);
}

void mesh_exit(void) {
	edge_table_exit();
	subnet_table_exit();
	node_table_exit();
}
