#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "util/xalloc.h"

node_t *myself;
sset_t node_tree;

/* Nodes with a known UDP address, ordered by address then name, so that the
 * sender of a datagram can be found in O(log n). The name breaks ties because
 * stale information can briefly give two nodes the same address. */
static sset_t node_udp_tree;

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
	sset_init(&node_tree, node_name_cmp);
	sset_init(&node_udp_tree, node_udp_cmp);
}

void node_table_exit(void) {
	while(node_tree.count)
		node_del(node_tree.items[node_tree.count - 1]);
	sset_clear(&node_tree, NULL);
	sset_clear(&node_udp_tree, NULL);
	myself = NULL;
}

node_t *node_new(const char *name) {
	node_t *n = xzalloc(sizeof(*n));
	n->name = xstrdup(name);
	n->hostname = xstrdup(sockaddr2hostname(&n->address));
	n->mtu = MTU;
	n->maxmtu = MTU;
	n->minmtu = 0;
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
	packet_key_clear(&n->outkey);
	packet_key_clear(&n->inkey);
	replay_free(&n->replay);
	timer_del(&n->mtutimer);
	sset_clear(&n->subnets, NULL);
	sset_clear(&n->edges, NULL);
	free(n->name);
	free(n->hostname);
	free(n);
}

void node_add(node_t *n) {
	if(!sset_insert(&node_tree, n))
		logger(DEBUG_ALWAYS, LOG_ERR, "Bug: node %s was added twice", n->name);
}

/* Remove n from the UDP index. The comparator reads n->address, so if some
 * code changed the address behind our back the ordered removal misses; fall
 * back to a scan rather than leave a dangling pointer in the index. */
static void udp_index_remove(node_t *n) {
	if(sset_remove(&node_udp_tree, n))
		return;
	for(size_t i = 0; i < node_udp_tree.count; i++) {
		if(node_udp_tree.items[i] == n) {
			memmove(&node_udp_tree.items[i], &node_udp_tree.items[i + 1],
			        (node_udp_tree.count - i - 1) * sizeof(void *));
			node_udp_tree.count--;
			return;
		}
	}
}

void node_del(node_t *n) {
	udp_index_remove(n);
	sset_remove(&node_tree, n);
	if(n == myself)
		myself = NULL;
	node_free(n);
}

node_t *lookup_node(const char *name) {
	if(!name)
		return NULL;
	size_t lo = 0, hi = node_tree.count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(((node_t *)node_tree.items[mid])->name, name);
		if(r == 0)
			return node_tree.items[mid];
		if(r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

node_t *lookup_node_udp(const sockaddr_u *sa) {
	if(!sa || (sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6))
		return NULL;
	/* First entry with this address: names only break ties, so search on
	 * the address alone. */
	size_t lo = 0, hi = node_udp_tree.count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(sockaddr_cmp(&((node_t *)node_udp_tree.items[mid])->address, sa) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if(lo < node_udp_tree.count) {
		node_t *n = node_udp_tree.items[lo];
		if(!sockaddr_cmp(&n->address, sa))
			return n;
	}
	return NULL;
}

void update_node_udp(node_t *n, const sockaddr_u *sa) {
	if(n == myself) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Not setting a UDP address for ourselves");
		return;
	}
	udp_index_remove(n);
	if(sa && (sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6)) {
		n->address = *sa;
		sset_insert(&node_udp_tree, n);
	} else {
		memset(&n->address, 0, sizeof(n->address));
	}
	free(n->hostname);
	n->hostname = xstrdup(sockaddr2hostname(&n->address));
	if(n->address.sa.sa_family)
		LOG(DEBUG_PROTOCOL, LOG_DEBUG, "%s is now reached by UDP at %s", n->name, n->hostname);
	else
		LOG(DEBUG_PROTOCOL, LOG_DEBUG, "%s has no known UDP address now", n->name);
}

unsigned node_status_bits(const node_t *n) {
	/* Bit 0 is unused in tinc 1.0's layout. */
	return (unsigned)n->status.validkey << 1 |
	       (unsigned)n->status.waitingforkey << 2 |
	       (unsigned)n->status.visited << 3 |
	       (unsigned)n->status.reachable << 4 |
	       (unsigned)n->status.indirect << 5;
}
