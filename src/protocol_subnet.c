/* ADD_SUBNET and DEL_SUBNET (spec §3.5): flooding who owns which address. */
#include "compat.h"

#include <string.h>

#include "clock.h"
#include "connection.h"
#include "log.h"
#include "net.h"
#include "node.h"
#include "protocol.h"
#include "subnet.h"

static bool send_subnet(connection_t *c, int request, const subnet_t *s) {
	char netstr[MAXNETSTR];
	if(!s->owner || !net2str(netstr, sizeof(netstr), s))
		return false;
	return send_request(c, "%d %x %s %s", request, request_nonce(), s->owner->name, netstr);
}

bool send_add_subnet(connection_t *c, const subnet_t *s) {
	return send_subnet(c, REQ_ADD_SUBNET, s);
}

bool send_del_subnet(connection_t *c, const subnet_t *s) {
	return send_subnet(c, REQ_DEL_SUBNET, s);
}

/* Parse "NN NONCE OWNER SUBNET": the owner's name and the subnet. */
static bool parse_subnet_request(connection_t *c, int request, request_fields_t *rf,
                                 const char **owner_name, subnet_t *s) {
	uint32_t nonce;
	if(rf->count < 4 || !parse_hex32_field(rf->f[1], &nonce))
		return bad_request(c, request, NULL);
	*owner_name = rf->f[2];
	if(!check_id(*owner_name))
		return bad_request(c, request, "invalid name");
	memset(s, 0, sizeof(*s));
	if(!str2net(s, rf->f[3]))
		return bad_request(c, request, "invalid subnet string");
	return true;
}

bool add_subnet_h(connection_t *c, request_fields_t *rf, const char *line) {
	const char *name;
	subnet_t s;
	if(!parse_subnet_request(c, REQ_ADD_SUBNET, rf, &name, &s))
		return false;
	const char *subnetstr = rf->f[3];

	if(seen_request(line))
		return true;

	node_t *owner = lookup_node(name);
	if(settings.tunnelserver && owner != myself && owner != c->node) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Ignoring indirect %s from %s (%s) for %s", "ADD_SUBNET",
		    c->name, c->hostname, subnetstr);
		return true;
	}
	if(!owner) {
		owner = node_new(name);
		node_add(owner);
	}

	if(lookup_subnet(owner, &s))
		return true;

	/* Nobody but us can tell what we own: contradict. */
	if(owner == myself) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Got %s from %s (%s) for ourself", "ADD_SUBNET", c->name,
		    c->hostname);
		s.owner = myself;
		send_del_subnet(c, &s);
		return true;
	}

	if(settings.tunnelserver) {
		logger(DEBUG_ALWAYS, LOG_WARNING, "Ignoring unauthorized %s from %s (%s): %s", "ADD_SUBNET",
		       c->name, c->hostname, subnetstr);
		return true;
	}
	if(settings.strictsubnets) {
		logger(DEBUG_ALWAYS, LOG_WARNING, "Ignoring unauthorized %s from %s (%s): %s", "ADD_SUBNET",
		       c->name, c->hostname, subnetstr);
		forward_request(c, line);
		return true;
	}

	subnet_t *added = subnet_new();
	*added = s;
	added->owner = NULL;
	subnet_add(owner, added);
	if(owner->status.reachable)
		subnet_update(owner, added, true);

	forward_request(c, line);

	/* Switch mode: a MAC we learned locally now lives behind another node;
	 * let our copy expire at the next aging pass (fast handoff). */
	if(s.type == SUBNET_MAC) {
		subnet_t *old = lookup_subnet(myself, &s);
		if(old && old->expires)
			old->expires = now_ns ? now_ns : 1;
	}
	return true;
}

bool del_subnet_h(connection_t *c, request_fields_t *rf, const char *line) {
	const char *name;
	subnet_t s;
	if(!parse_subnet_request(c, REQ_DEL_SUBNET, rf, &name, &s))
		return false;
	const char *subnetstr = rf->f[3];

	if(seen_request(line))
		return true;

	node_t *owner = lookup_node(name);
	if(settings.tunnelserver && owner != myself && owner != c->node) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Ignoring indirect %s from %s (%s) for %s", "DEL_SUBNET",
		    c->name, c->hostname, subnetstr);
		return true;
	}
	if(!owner) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Got %s from %s (%s) for %s which is not in our node tree",
		    "DEL_SUBNET", c->name, c->hostname, name);
		return true;
	}

	subnet_t *found = lookup_subnet(owner, &s);
	if(!found) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING,
		    "Got %s from %s (%s) for %s which does not appear in his subnet tree", "DEL_SUBNET",
		    c->name, c->hostname, name);
		if(settings.strictsubnets)
			forward_request(c, line);
		return true;
	}

	if(owner == myself) {
		LOG(DEBUG_PROTOCOL, LOG_WARNING, "Got %s from %s (%s) for ourself", "DEL_SUBNET", c->name,
		    c->hostname);
		send_add_subnet(c, found);
		return true;
	}

	if(settings.tunnelserver)
		return true;

	forward_request(c, line);
	if(settings.strictsubnets)
		return true;

	if(owner->status.reachable)
		subnet_update(owner, found, false);
	subnet_del(owner, found);
	return true;
}
