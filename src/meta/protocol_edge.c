/* ADD_EDGE and DEL_EDGE (spec §3.5): flooding the graph's edges. */
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

int contradicting_add_edge;
int contradicting_del_edge;
static int edge_storm_pause_s = EDGE_STORM_PAUSE_MIN;

int edge_storm_tick(int window_s) {
	edge_storm_verdict_t v = edge_storm_decide(contradicting_add_edge, contradicting_del_edge,
	                                           edge_storm_pause_s);
	if(v.pause_s)
		logger(DEBUG_ALWAYS, LOG_WARNING,
		       "Another daemon seems to use our Name %s: %d ADD_EDGE and %d DEL_EDGE contradicted our "
		       "edges within %d s, so we handle no network for %d s (%d s if it goes on); make sure "
		       "only one daemon runs as %s",
		       myself->name, contradicting_add_edge, contradicting_del_edge, window_s, v.pause_s,
		       v.next_pause_s, myself->name);
	edge_storm_pause_s = v.next_pause_s;
	contradicting_add_edge = 0;
	contradicting_del_edge = 0;
	return v.pause_s;
}

/* The address fields of an edge as they go on the wire. */
static void edge_address_strings(const edge_t *e, char *host, size_t hostlen, char *port,
                                 size_t portlen, const char **hostp, const char **portp) {
	if(sockaddr2str(&e->address, host, hostlen, port, portlen)) {
		*hostp = host;
		*portp = port;
	} else if(e->address_str && e->port_str) {
		/* An address that was never numeric (spec §3.7): pass it on as is. */
		*hostp = e->address_str;
		*portp = e->port_str;
	} else {
		*hostp = "unknown";
		*portp = "unknown";
	}
}

bool send_add_edge(connection_t *c, const edge_t *e) {
	char host[SOCKADDR_STRLEN], port[16];
	const char *h, *p;
	edge_address_strings(e, host, sizeof(host), port, sizeof(port), &h, &p);
	return send_request(c, "%d %x %s %s %s %s %x %d", REQ_ADD_EDGE, request_nonce(), e->from->name,
	                    e->to->name, h, p, e->options, e->weight);
}

bool send_del_edge(connection_t *c, const edge_t *e) {
	return send_request(c, "%d %x %s %s", REQ_DEL_EDGE, request_nonce(), e->from->name, e->to->name);
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

/* The TunnelServer filter (spec §6.8): only edges touching us or the
 * announcing neighbour are of interest. */
static bool tunnelserver_ignores(const connection_t *c, const node_t *from, const node_t *to) {
	return settings.tunnelserver && from != myself && from != c->node && to != myself &&
	       to != c->node;
}

static node_t *lookup_or_add_node(const char *name) {
	node_t *n = lookup_node(name);
	if(!n) {
		n = node_new(name);
		node_add(n);
	}
	return n;
}

bool add_edge_h(connection_t *c, request_fields_t *rf, const char *line) {
	uint32_t nonce, options;
	int weight;
	if(rf->count < 8 || !parse_hex32_field(rf->f[1], &nonce) || !parse_hex32_field(rf->f[6], &options) ||
	   !parse_int_field(rf->f[7], &weight))
		return bad_request(c, REQ_ADD_EDGE, NULL);
	const char *from_name = rf->f[2], *to_name = rf->f[3];
	if(!check_id(from_name) || !check_id(to_name) || !strcmp(from_name, to_name))
		return bad_request(c, REQ_ADD_EDGE, "invalid name");

	if(seen_request(line))
		return true;

	node_t *from = lookup_node(from_name);
	node_t *to = lookup_node(to_name);
	if(tunnelserver_ignores(c, from, to)) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s) about other nodes", "ADD_EDGE", c->name,
		    c->hostname);
		return true;
	}
	from = lookup_or_add_node(from_name);
	to = lookup_or_add_node(to_name);

	wire_address_t addr = {.host = rf->f[4], .port = rf->f[5]};
	addr.numeric = str2sockaddr(addr.host, addr.port, &addr.sa);

	edge_t *e = lookup_edge(from, to);
	if(e) {
		if(e->weight == weight && e->options == options && edge_address_equal(e, &addr))
			return true;
		if(from == myself) {
			LOG(DEBUG_PROTOCOL, LOG_WARNING,
			    "%s from %s (%s) misstates one of our own edges: sending the right one back", "ADD_EDGE",
			    c->name, c->hostname);
			send_add_edge(c, e);
			return true;
		}
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "%s from %s (%s) changes a known edge: updating it",
		    "ADD_EDGE", c->name, c->hostname);
		e->options = options;
		if(!edge_address_equal(e, &addr))
			edge_set_address(e, &addr);
		if(e->weight != weight) {
			/* The weight is part of the table's order: re-file the edge. */
			sset_remove(&edge_weight_tree, e);
			e->weight = weight;
			sset_insert(&edge_weight_tree, e);
		}
	} else if(from == myself) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "%s from %s (%s) adds an edge of ours we do not have: denying it",
		    "ADD_EDGE", c->name, c->hostname);
		contradicting_add_edge++;
		send_request(c, "%d %x %s %s", REQ_DEL_EDGE, request_nonce(), from->name, to->name);
		return true;
	} else {
		e = edge_new();
		e->from = from;
		e->to = to;
		edge_set_address(e, &addr);
		e->options = options;
		e->weight = weight;
		edge_add(e);
	}

	if(!settings.tunnelserver)
		forward_request(c, line);
	graph_changed();
	return true;
}

bool del_edge_h(connection_t *c, request_fields_t *rf, const char *line) {
	uint32_t nonce;
	if(rf->count < 4 || !parse_hex32_field(rf->f[1], &nonce))
		return bad_request(c, REQ_DEL_EDGE, NULL);
	const char *from_name = rf->f[2], *to_name = rf->f[3];
	if(!check_id(from_name) || !check_id(to_name) || !strcmp(from_name, to_name))
		return bad_request(c, REQ_DEL_EDGE, "invalid name");

	if(seen_request(line))
		return true;

	node_t *from = lookup_node(from_name);
	node_t *to = lookup_node(to_name);
	if(tunnelserver_ignores(c, from, to)) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s) about other nodes", "DEL_EDGE", c->name,
		    c->hostname);
		return true;
	}
	edge_t *e = lookup_edge(from, to);
	if(!e) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "%s from %s (%s) removes an edge we do not know: ignored",
		    "DEL_EDGE", c->name, c->hostname);
		return true;
	}
	if(from == myself) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "%s from %s (%s) removes one of our own edges: announcing it again", "DEL_EDGE", c->name,
		    c->hostname);
		contradicting_del_edge++;
		send_add_edge(c, e);
		return true;
	}

	if(!settings.tunnelserver)
		forward_request(c, line);
	edge_del(e);
	graph_changed();

	/* TO is gone from our view, but its edge to us would keep a half link
	 * alive in everybody's graph: remove and announce that too. */
	if(!to->status.reachable) {
		edge_t *back = lookup_edge(to, myself);
		if(back) {
			if(!settings.tunnelserver)
				send_del_edge(everyone, back);
			edge_del(back);
		}
	}
	return true;
}
