/* ADD_SUBNET and DEL_SUBNET (protocol.md §3.5): flooding who owns which address. */
#include "util/compat.h"

#include <string.h>

#include "util/clock.h"
#include "meta/connection.h"
#include "util/log.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "meta/meta.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "mesh/subnet.h"

static bool send_subnet(connection_t *c, int request, const subnet_t *s) {
	char netstr[SUBNET_TEXT_MAX];
	if(!s->owner || !subnet_format(netstr, sizeof(netstr), s))
		return false;
	return request_send(c, "%d %x %s %s", request, request_nonce(), s->owner->name, netstr);
}

bool send_add_subnet_request(connection_t *c, const subnet_t *s) {
	return send_subnet(c, REQ_ADD_SUBNET, s);
}

bool send_del_subnet_request(connection_t *c, const subnet_t *s) {
	return send_subnet(c, REQ_DEL_SUBNET, s);
}

/* What ADD_SUBNET and DEL_SUBNET both carry: "NN NONCE OWNER SUBNET". */
typedef struct subnet_request {
	const char *owner_name;
	const char *subnet_text;
	node_t *owner; /* NULL while the owner is not in our node tree */
	subnet_t subnet;
} subnet_request_t;

typedef enum subnet_request_verdict {
	SUBNET_REQUEST_BAD,  /* malformed: drop the connection */
	SUBNET_REQUEST_DONE, /* already seen, or not ours to act on */
	SUBNET_REQUEST_ACT,  /* go on with the request */
} subnet_request_verdict_t;

/* Parse and validate the fields. */
static bool parse_subnet_request(connection_t *c, int request, request_fields_t *rf,
                                 subnet_request_t *req) {
	uint32_t nonce;
	if(rf->count < 4 || !parse_hex32_field(rf->f[1], &nonce))
		return bad_request(c, request, NULL);
	req->owner_name = rf->f[2];
	if(!node_name_is_valid(req->owner_name))
		return bad_request(c, request, "invalid name");
	req->subnet_text = rf->f[3];
	memset(&req->subnet, 0, sizeof(req->subnet));
	if(!subnet_parse(&req->subnet, req->subnet_text))
		return bad_request(c, request, "invalid subnet string");
	return true;
}

/* Bounded memory whatever an authenticated peer announces: once a node has
 * MaxSubnetsPerNode subnets, its further ADD_SUBNETs are neither stored nor
 * passed on, nor even remembered as seen. */
static bool over_subnet_limit(const connection_t *c, const subnet_request_t *req) {
	node_t *owner = node_find(req->owner_name);
	if(!owner || owner == local_node || owner->subnets.count < (size_t)settings.max_subnets_per_node)
		return false;
	if(!owner->status.subnet_limit_logged) {
		owner->status.subnet_limit_logged = true;
		logger(VERBOSITY_ERRORS, LOG_WARNING,
		       "%s from %s (%s): node %s already has %d subnets, as many as MaxSubnetsPerNode allows: "
		       "ignoring its further subnets (said once); raise MaxSubnetsPerNode if they are real",
		       "ADD_SUBNET", c->name, c->hostname, owner->name, settings.max_subnets_per_node);
	}
	return true;
}

/* The steps both handlers take before they differ: parse, drop a request we
 * have already seen, look up the owner, and as a tunnel server ignore
 * requests about nodes other than us and the peer (they would leak the
 * topology a tunnel server is meant to hide). */
static subnet_request_verdict_t begin_subnet_request(connection_t *c, int request,
                                                     request_fields_t *rf, const char *line,
                                                     subnet_request_t *req) {
	if(!parse_subnet_request(c, request, rf, req))
		return SUBNET_REQUEST_BAD;
	if(request == REQ_ADD_SUBNET && over_subnet_limit(c, req))
		return SUBNET_REQUEST_DONE;
	if(request_seen_before(line))
		return SUBNET_REQUEST_DONE;

	req->owner = node_find(req->owner_name);
	if(settings.tunnelserver && req->owner != local_node && req->owner != c->node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s) for %s",
		    request_name(request), c->name, c->hostname, req->subnet_text);
		return SUBNET_REQUEST_DONE;
	}
	return SUBNET_REQUEST_ACT;
}

bool handle_add_subnet_request(connection_t *c, request_fields_t *rf, const char *line) {
	subnet_request_t req;
	subnet_request_verdict_t verdict = begin_subnet_request(c, REQ_ADD_SUBNET, rf, line, &req);
	if(verdict != SUBNET_REQUEST_ACT)
		return verdict == SUBNET_REQUEST_DONE;
	node_t *owner = req.owner;

	if(!owner) {
		owner = node_new(req.owner_name);
		node_register(owner);
	}

	if(subnet_find(owner, &req.subnet))
		return true;

	/* Nobody but us can tell what we own: contradict. */
	if(owner == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) gives us a subnet we do not have: denying it", "ADD_SUBNET", c->name,
		    c->hostname);
		req.subnet.owner = local_node;
		send_del_subnet_request(c, &req.subnet);
		return true;
	}

	if(settings.tunnelserver) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "TunnelServer: ignoring %s from %s (%s): %s", "ADD_SUBNET",
		       c->name, c->hostname, req.subnet_text);
		return true;
	}
	if(settings.strictsubnets) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "StrictSubnets: ignoring %s from %s (%s): %s is not in our host files", "ADD_SUBNET",
		       c->name, c->hostname, req.subnet_text);
		request_forward(c, line);
		return true;
	}

	subnet_t *added = subnet_new();
	*added = req.subnet;
	added->owner = NULL;
	subnet_attach(owner, added);
	if(owner->status.reachable)
		meta_subnet_up_down(owner, added, true);

	request_forward(c, line);

	/* Switch mode: a MAC we learned locally now lives behind another node;
	 * let our copy expire at the next aging pass (fast handoff). */
	if(req.subnet.type == SUBNET_MAC) {
		subnet_t *old = subnet_find(local_node, &req.subnet);
		if(old && old->expires)
			old->expires = now_ns ? now_ns : 1;
	}
	return true;
}

bool handle_del_subnet_request(connection_t *c, request_fields_t *rf, const char *line) {
	subnet_request_t req;
	subnet_request_verdict_t verdict = begin_subnet_request(c, REQ_DEL_SUBNET, rf, line, &req);
	if(verdict != SUBNET_REQUEST_ACT)
		return verdict == SUBNET_REQUEST_DONE;
	node_t *owner = req.owner;

	if(!owner) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) is about the unknown node %s: ignored",
		    "DEL_SUBNET", c->name, c->hostname, req.owner_name);
		return true;
	}

	subnet_t *found = subnet_find(owner, &req.subnet);
	if(!found) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING,
		    "%s from %s (%s) removes a subnet %s does not have: ignored", "DEL_SUBNET",
		    c->name, c->hostname, req.owner_name);
		if(settings.strictsubnets)
			request_forward(c, line);
		return true;
	}

	if(owner == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "%s from %s (%s) removes one of our own subnets: announcing it again", "DEL_SUBNET", c->name,
		    c->hostname);
		send_add_subnet_request(c, found);
		return true;
	}

	if(settings.tunnelserver)
		return true;

	request_forward(c, line);
	if(settings.strictsubnets)
		return true;

	if(owner->status.reachable)
		meta_subnet_up_down(owner, found, false);
	subnet_detach(owner, found);
	return true;
}
