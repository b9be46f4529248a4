#include "util/compat.h"

#include "mesh/edge.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

void mesh_del_node(node_t *n) {
	while(n->subnets.count)
		subnet_detach(n, n->subnets.items[n->subnets.count - 1]);
	while(n->edges.count)
		edge_unlink(n->edges.items[n->edges.count - 1]);
	/* Callers normally delete the edges towards n first; any left would point
	 * at freed memory, so drop them here. */
	for(size_t i = edges_by_weight.count; i-- > 0;) {
		edge_t *e = edges_by_weight.items[i];
		if(e->to == n)
			edge_unlink(e);
	}
	node_unregister(n);
}

void mesh_exit(void) {
	edge_table_exit();
	subnet_table_exit();
	node_table_exit();
}
