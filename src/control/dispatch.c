#include "util/compat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/settings.h"
#include "control/dispatch.h"
#include "control/dump_connections.h"
#include "control/dump_mesh.h"
#include "control/dump_stats.h"
#include "control/pcap_tap.h"
#include "control/protocol_ids.h"
#include "meta/connection.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "mesh/node.h"
#include "util/log.h"

static control_actions_t actions;
static char cookie[65];

void control_set_actions(const control_actions_t *a) {
	actions = *a;
}

void control_set_cookie(const char *c) {
	snprintf(cookie, sizeof(cookie), "%s", c);
}

static bool reply(control_client_t *cl, int request, int result) {
	return control_client_printf(cl, "%d %d %d", CTL_CONTROL, request, result);
}

/* "0 ^COOKIE VERSION": our ID line, then ACK with the control version and
 * our pid, as tinc 1.1 answers. */
static bool handshake(control_client_t *cl, const char *line) {
	int id;
	char presented[80];
	if(sscanf(line, "%d ^%79s", &id, presented) != 2 || id != CTL_ID || strcmp(presented, cookie)) {
		LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Control client on the UNIX socket did not present the cookie of the pid file: closing it");
		control_client_close(cl);
		return false;
	}
	cl->authenticated = true;
	control_client_printf(cl, "%d %s %d.%d", CTL_ID, local_node ? local_node->name : "-", 17, 0);
	return control_client_printf(cl, "%d %d %d", CTL_ACK, CTL_VERSION, (int)getpid());
}

static int disconnect_node(const char *name) {
	bool found = false;
	for(size_t i = 0; i < connection_set.count;) {
		connection_t *c = connection_set.items[i];
		size_t before = connection_set.count;
		if(!c->status.dead && c->name && !strcmp(c->name, name)) {
			LOG(VERBOSITY_ERRORS, LOG_NOTICE, "Control client asked to close the connection to %s (%s)", c->name, c->hostname);
			found = true;
			if(c->status.active)
				connection_shutdown(c, true);
			else
				connection_close(c);
		}
		if(connection_set.count == before)
			i++;
	}
	return found ? 0 : -2;
}

bool control_dispatch(control_client_t *cl, const char *line) {
	if(!cl->authenticated)
		return handshake(cl, line);

	int code, request;
	if(sscanf(line, "%d %d", &code, &request) != 2 || code != CTL_CONTROL) {
		LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Control client sent a line that is no control request: closing it");
		control_client_close(cl);
		return false;
	}

	switch(request) {
	case CTL_STOP:
		LOG(VERBOSITY_ERRORS, LOG_NOTICE, "Control client asked the daemon to stop");
		if(actions.stop)
			actions.stop();
		return reply(cl, CTL_STOP, 0);
	case CTL_RELOAD: {
		LOG(VERBOSITY_ERRORS, LOG_NOTICE, "Control client asked to re-read the configuration");
		bool ok = actions.reload && actions.reload();
		return reply(cl, CTL_RELOAD, ok ? 0 : 1);
	}
	case CTL_DUMP_NODES:
		control_dump_nodes(cl, request);
		return true;
	case CTL_DUMP_EDGES:
		control_dump_edges(cl, request);
		return true;
	case CTL_DUMP_SUBNETS:
		control_dump_subnets(cl, request);
		return true;
	case CTL_DUMP_CONNECTIONS:
		control_dump_connections(cl, request);
		return true;
	case CTL_DUMP_TRAFFIC:
		control_dump_traffic(cl, request);
		return true;
	case CTL_DUMP_STATS:
		control_dump_stats(cl, request);
		return true;
	case CTL_PURGE:
		purge();
		return reply(cl, CTL_PURGE, 0);
	case CTL_SET_DEBUG: {
		int level;
		if(sscanf(line, "%*d %*d %d", &level) != 1) {
			control_client_close(cl);
			return false;
		}
		reply(cl, CTL_SET_DEBUG, debug_level);
		if(level >= 0) {
			debug_level = level;
			LOG(VERBOSITY_ERRORS, LOG_NOTICE, "Control client set the debug level to %d", level);
		}
		return true;
	}
	case CTL_RETRY:
		if(actions.retry)
			actions.retry();
		return reply(cl, CTL_RETRY, actions.retry ? 0 : 1);
	case CTL_DISCONNECT: {
		char name[256];
		if(sscanf(line, "%*d %*d %255s", name) != 1)
			return reply(cl, CTL_DISCONNECT, -1);
		return reply(cl, CTL_DISCONNECT, disconnect_node(name));
	}
	case CTL_LOG: {
		int level = debug_level;
		if(sscanf(line, "%*d %*d %d", &level) != 1 || level < 0)
			level = debug_level;
		cl->log_level = level;
		return true;
	}
	case CTL_PCAP: {
		int snaplen = 0;
		if(sscanf(line, "%*d %*d %d", &snaplen) != 1)
			snaplen = 0;
		control_pcap_subscribe(cl, snaplen);
		return true;
	}
	default:
		return control_client_printf(cl, "%d %d", CTL_CONTROL, CTL_INVALID);
	}
}
