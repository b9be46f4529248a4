/* ADD_EDGE and DEL_EDGE (protocol.md §3.5): flooding the graph's edges. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "meta/connection.h"
#include "mesh/edge.h"
#include "util/log.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "meta/meta.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "util/xalloc.h"

int add_edge_contradictions;
int del_edge_contradictions;
static int edge_storm_pause_s = EDGE_STORM_PAUSE_MIN;

int edge_storm_tick(int window_s) {
	edge_storm_verdict_t v = edge_storm_decide(add_edge_contradictions, del_edge_contradictions,
	                                           edge_storm_pause_s);
	if(v.pause_s)
		logger(VERBOSITY_ERRORS, LOG_WARNING,
		       "Another daemon seems to use our Name %s: %d ADD_EDGE and %d DEL_EDGE contradicted our "
		       "edges within %d s, so we handle no network for %d s (%d s if it goes on); make sure "
		       "only one daemon runs as %s",
		       local_node->name, add_edge_contradictions, del_edge_contradictions, window_s, v.pause_s,
		       v.next_pause_s, local_node->name);
	edge_storm_pause_s = v.next_pause_s;
	add_edge_contradictions = 0;
	del_edge_contradictions = 0;
	return v.pause_s;
}

/* The address fields of an edge as they go on the wire. */
static void edge_address_strings(const edge_t *e, char *host, size_t hostlen, char *port,
                                 size_t portlen, const char **hostp, const char **portp) {
	if(sockaddr_format(&e->address, host, hostlen, port, portlen)) {
		*hostp = host;
		*portp = port;
	} else if(e->address_str && e->port_str) {
		/* An address that was never numeric (protocol.md §3.7): pass it on as is. */
		*hostp = e->address_str;
		*portp = e->port_str;
	} else {
		*hostp = "unknown";
		*portp = "unknown";
	}
}

bool send_add_edge_request(connection_t *c, const edge_t *e) {
	char host[SOCKADDR_STRLEN], port[16];
	const char *h, *p;
	edge_address_strings(e, host, sizeof(host), port, sizeof(port), &h, &p);
	return request_send(c, "%d %x %s %s %s %s %x %d", REQ_ADD_EDGE, request_nonce(), e->from->name,
	                    e->to->name, h, p, e->options, e->weight);
}

bool send_del_edge_request(connection_t *c, const edge_t *e) {
	return request_send(c, "%d %x %s %s", REQ_DEL_EDGE, request_nonce(), e->from->name, e->to->name);
}

/* A received ADDRESS PORT pair: numeric (sa filled in) or opaque strings. */
typedef struct wire_address {
	bool numeric;
	sockaddr_u sa;
	const char *host, *port;
} wire_address_t;

static bool edge_address_equal(const edge_t *e, const wire_address_t *a) {
	if(a->numeric)
		return e->address.sa.sa_family != AF_UNSPEC && !sockaddr_cmp(&e->address, &a->sa);
	return e->address.sa.sa_family == AF_UNSPEC && e->address_str && e->port_str &&
	       !strcmp(e->address_str, a->host) && !strcmp(e->port_str, a->port);
}

static void edge_set_address(edge_t *e, const wire_address_t *a) {
	free(e->address_str);
	free(e->port_str);
	e->address_str = e->port_str = NULL;
	if(a->numeric) {
		e->address = a->sa;
	} else {
		memset(&e->address, 0, sizeof(e->address));
		e->address_str = xstrdup(a->host);
		e->port_str = xstrdup(a->port);
	}
}

/* The TunnelServer filter (protocol.md §6.8): only edges touching us or the
 * announcing neighbour are of interest. */
static bool tunnelserver_ignores(const connection_t *c, const node_t *from, const node_t *to) {
	return settings.tunnelserver && from != local_node && from != c->node && to != local_node &&
	       to != c->node;
}

static node_t *lookup_or_add_node(const char *name) {
	node_t *n = node_find(name);
	if(!n) {
		n = node_new(name);
		node_register(n);
	}
	return n;
}

/* Bounded memory and graph work whatever an authenticated peer announces:
 * once a node has MaxEdgesPerNode edges, ADD_EDGEs for further edges of it
 * are neither stored nor passed on, nor even remembered as seen. Changes
 * to its known edges still count. */
static bool over_edge_limit(const connection_t *c, const char *from_name, const char *to_name) {
	node_t *from = node_find(from_name);
	if(!from || from == local_node || from->edges.count < (size_t)settings.max_edges_per_node)
		return false;
	node_t *to = node_find(to_name);
	if(to && edge_find(from, to))
		return false;
	if(!from->status.edge_limit_logged) {
		from->status.edge_limit_logged = true;
		logger(VERBOSITY_ERRORS, LOG_WARNING,
		       "%s from %s (%s): node %s already has %d edges, as many as MaxEdgesPerNode allows: "
		       "ignoring its further edges (said once); raise MaxEdgesPerNode if they are real",
		       "ADD_EDGE", c->name, c->hostname, from->name, settings.max_edges_per_node);
	}
	return true;
}

bool handle_add_edge_request(connection_t *c, request_fields_t *rf, const char *line) {
	uint32_t nonce, options;
	int weight;
	if(rf->count < 8 || !parse_hex32_field(rf->f[1], &nonce) || !parse_hex32_field(rf->f[6], &options) ||
	   !parse_int_field(rf->f[7], &weight))
		return bad_request(c, REQ_ADD_EDGE, NULL);
	const char *from_name = rf->f[2], *to_name = rf->f[3];
	if(!node_name_is_valid(from_name) || !node_name_is_valid(to_name) || !strcmp(from_name, to_name))
		return bad_request(c, REQ_ADD_EDGE, "invalid name");

	if(over_edge_limit(c, from_name, to_name))
		return true;
	if(request_seen_before(line))
		return true;

	node_t *from = node_find(from_name);
	node_t *to = node_find(to_name);
	if(tunnelserver_ignores(c, from, to)) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s) about other nodes", "ADD_EDGE", c->name,
		    c->hostname);
		return true;
	}
	from = lookup_or_add_node(from_name);
	to = lookup_or_add_node(to_name);

	wire_address_t addr = {.host = rf->f[4], .port = rf->f[5]};
	addr.numeric = sockaddr_parse(addr.host, addr.port, &addr.sa);

	edge_t *e = edge_find(from, to);
	if(e) {
		if(e->weight == weight && e->options == options && edge_address_equal(e, &addr))
			return true;
		if(from == local_node) {
			LOG(VERBOSITY_REQUESTS, LOG_WARNING,
			    "%s from %s (%s) misstates one of our own edges: sending the right one back", "ADD_EDGE",
			    c->name, c->hostname);
			send_add_edge_request(c, e);
			return true;
		}
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) changes a known edge: updating it",
		    "ADD_EDGE", c->name, c->hostname);
		e->options = options;
		if(!edge_address_equal(e, &addr))
			edge_set_address(e, &addr);
		if(e->weight != weight) {
			/* The weight is part of the table's order: re-file the edge. */
			sset_remove(&edges_by_weight, e);
			e->weight = weight;
			sset_insert(&edges_by_weight, e);
		}
	} else if(from == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) adds an edge of ours we do not have: denying it",
		    "ADD_EDGE", c->name, c->hostname);
		add_edge_contradictions++;
		request_send(c, "%d %x %s %s", REQ_DEL_EDGE, request_nonce(), from->name, to->name);
		return true;
	} else {
		e = edge_new();
		e->from = from;
		e->to = to;
		edge_set_address(e, &addr);
		e->options = options;
		e->weight = weight;
		edge_link(e);
	}

	if(!settings.tunnelserver)
		request_forward(c, line);
	graph_mark_dirty();
	return true;
}

bool handle_del_edge_request(connection_t *c, request_fields_t *rf, const char *line) {
	uint32_t nonce;
	if(rf->count < 4 || !parse_hex32_field(rf->f[1], &nonce))
		return bad_request(c, REQ_DEL_EDGE, NULL);
	const char *from_name = rf->f[2], *to_name = rf->f[3];
	if(!node_name_is_valid(from_name) || !node_name_is_valid(to_name) || !strcmp(from_name, to_name))
		return bad_request(c, REQ_DEL_EDGE, "invalid name");

	if(request_seen_before(line))
		return true;

	node_t *from = node_find(from_name);
	node_t *to = node_find(to_name);
	if(tunnelserver_ignores(c, from, to)) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s) about other nodes", "DEL_EDGE", c->name,
		    c->hostname);
		return true;
	}
	edge_t *e = edge_find(from, to);
	if(!e) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) removes an edge we do not know: ignored",
		    "DEL_EDGE", c->name, c->hostname);
		return true;
	}
	if(from == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) removes one of our own edges: announcing it again", "DEL_EDGE", c->name,
		    c->hostname);
		del_edge_contradictions++;
		send_add_edge_request(c, e);
		return true;
	}

	if(!settings.tunnelserver)
		request_forward(c, line);
	edge_unlink(e);
	/* If TO is gone from our view after the graph runs, its edge to us
	 * goes as well (topology.c). */
	to->status.back_edge_check = true;
	graph_mark_dirty();
	return true;
}
