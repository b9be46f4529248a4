#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "util/xalloc.h"

node_t *local_node;
sset_t nodes_by_name;

/* Nodes with a known UDP address, ordered by address then name, so that the
 * sender of a datagram can be found in O(log n). The name breaks ties because
 * stale information can briefly give two nodes the same address. */
static sset_t nodes_by_udp_address;

static int node_name_cmp(const void *a, const void *b) {
	const node_t *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static int node_udp_cmp(const void *a, const void *b) {
	const node_t *x = a, *y = b;
	int r = sockaddr_cmp(&x->address, &y->address);
	return r ? r : strcmp(x->name, y->name);
}

void node_table_init(void) {
	sset_init(&nodes_by_name, node_name_cmp);
	sset_init(&nodes_by_udp_address, node_udp_cmp);
}

void node_table_exit(void) {
	while(nodes_by_name.count)
		node_unregister(nodes_by_name.items[nodes_by_name.count - 1]);
	sset_clear(&nodes_by_name, NULL);
	sset_clear(&nodes_by_udp_address, NULL);
	local_node = NULL;
}

node_t *node_new(const char *name) {
	node_t *n = xzalloc(sizeof(*n));
	n->name = xstrdup(name);
	n->hostname = xstrdup(sockaddr_describe(&n->address));
	n->mtu = MTU;
	n->mtu_ceiling = MTU;
	n->mtu_floor = 0;
	n->sock = 0;
	/* The orders of these two belong to subnet.c and edge.c, which set
	 * them when they file the first item. */
	sset_init(&n->subnets, NULL);
	sset_init(&n->edges, NULL);
	/* Window size comes from the configuration; the daemon re-initialises it. */
	replay_init(&n->replay, 0);
	return n;
}

void node_free(node_t *n) {
	if(!n)
		return;
	packet_key_clear(&n->tx_key);
	packet_key_clear(&n->rx_key);
	replay_free(&n->replay);
	timer_del(&n->mtutimer);
	timer_del(&n->ecn_probe_timer);
	sset_clear(&n->subnets, NULL);
	sset_clear(&n->edges, NULL);
	free(n->name);
	free(n->hostname);
	free(n);
}

void node_register(node_t *n) {
	if(!sset_insert(&nodes_by_name, n))
		logger(VERBOSITY_ERRORS, LOG_ERR, "Bug: node %s was added twice", n->name);
}

/* Remove n from the UDP index. The comparator reads n->address, so if some
 * code changed the address behind our back the ordered removal misses; fall
 * back to a scan rather than leave a dangling pointer in the index. */
static void udp_index_remove(node_t *n) {
	if(sset_remove(&nodes_by_udp_address, n))
		return;
	for(size_t i = 0; i < nodes_by_udp_address.count; i++) {
		if(nodes_by_udp_address.items[i] == n) {
			memmove(&nodes_by_udp_address.items[i], &nodes_by_udp_address.items[i + 1],
			        (nodes_by_udp_address.count - i - 1) * sizeof(void *));
			nodes_by_udp_address.count--;
			return;
		}
	}
}

void node_unregister(node_t *n) {
	udp_index_remove(n);
	sset_remove(&nodes_by_name, n);
	if(n == local_node)
		local_node = NULL;
	node_free(n);
}

node_t *node_find(const char *name) {
	if(!name)
		return NULL;
	size_t lo = 0, hi = nodes_by_name.count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(((node_t *)nodes_by_name.items[mid])->name, name);
		if(r == 0)
			return nodes_by_name.items[mid];
		if(r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

node_t *node_find_by_udp(const sockaddr_u *sa) {
	if(!sa || (sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6))
		return NULL;
	/* First entry with this address: names only break ties, so search on
	 * the address alone. */
	size_t lo = 0, hi = nodes_by_udp_address.count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(sockaddr_cmp(&((node_t *)nodes_by_udp_address.items[mid])->address, sa) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if(lo < nodes_by_udp_address.count) {
		node_t *n = nodes_by_udp_address.items[lo];
		if(!sockaddr_cmp(&n->address, sa))
			return n;
	}
	return NULL;
}

void node_set_udp_address(node_t *n, const sockaddr_u *sa) {
	if(n == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "Not setting a UDP address for ourselves");
		return;
	}
	udp_index_remove(n);
	if(sa && (sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6)) {
		n->address = *sa;
		sset_insert(&nodes_by_udp_address, n);
	} else {
		memset(&n->address, 0, sizeof(n->address));
	}
	free(n->hostname);
	n->hostname = xstrdup(sockaddr_describe(&n->address));
	if(n->address.sa.sa_family)
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "%s is now reached by UDP at %s", n->name, n->hostname);
	else
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "%s has no known UDP address now", n->name);
}

unsigned node_status_bits(const node_t *n) {
	/* Bit 0 is unused in tinc 1.0's layout. */
	return (unsigned)n->status.tx_key_valid << 1 |
	       (unsigned)n->status.key_requested << 2 |
	       (unsigned)n->status.visited << 3 |
	       (unsigned)n->status.reachable << 4 |
	       (unsigned)n->status.indirect << 5;
}
