/* Keeping node_t.ecn_normal current (see ecn_mode.h). */
#include "util/compat.h"

#include <stdlib.h>
#include <unistd.h>

#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "datapath/ecn_probe.h"
#include "meta/ecn_mode.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "util/log.h"
#include "util/xalloc.h"

bool ecn_mode_normal(bool own_ecn, uint32_t peer_options, int host_ecn) {
	return own_ecn && (peer_options & OPTION_ECN_RFC6040) && host_ecn != NODE_ECN_NO;
}

bool ecn_mode_path_allows(uint32_t peer_options, bool direct, ecn_path_state_t path) {
	/* An older fqtinc cannot be asked: its path is trusted, as before. A
	 * node reached through a relay gets no datagram sealed for it (the
	 * relay's own mode applies), so its mode is the announcement alone. */
	return !(peer_options & OPTION_ECN_PATH_PROBES) || !direct || path == ECN_PATH_CAPABLE;
}

static void take_host_ecn(node_t *n, const config_entries_t *tree) {
	bool on;
	if(!tree || !conf_bool(tree, "ECN", &on)) {
		n->ecn_host = NODE_ECN_UNSET;
		return;
	}
	n->ecn_host = on ? NODE_ECN_YES : NODE_ECN_NO;
	if(!on)
		logger(VERBOSITY_ERRORS, LOG_INFO, "Host settings of %s say ECN = no: packets to it stay in RFC 6040 compatibility mode", n->name);
}

void ecn_mode_host_settings(node_t *n, const config_entries_t *host_config) {
	take_host_ecn(n, host_config);
}

/* hosts/NAME and -o NAME.KEY. A node without a host file was learned
 * through the mesh: that is no error, and its announcement is trusted. */
static void read_host_settings(node_t *n) {
	config_entries_t *tree = config_entries_new();
	char *path = xasprintf("%s/hosts/%s", settings.config_dir, n->name);
	bool have_file = node_name_is_valid(n->name) && access(path, R_OK) == 0;
	free(path);
	if(!have_file || config_read_host(tree, settings.config_dir, n->name)) {
		apply_cmdline_host_options(tree, n->name);
		take_host_ecn(n, tree);
	} else {
		n->ecn_host = NODE_ECN_UNSET; /* unreadable: config_read_host said why */
	}
	config_entries_free(tree);
}

void ecn_mode_update(node_t *n) {
	if(n == local_node)
		return;
	bool announced = settings.ecn && (n->options & OPTION_ECN_RFC6040);
	/* The host file matters only once the node announced decapsulation. */
	if(announced && n->ecn_host == NODE_ECN_UNREAD)
		read_host_settings(n);
	bool normal = ecn_mode_normal(settings.ecn, n->options, n->ecn_host);
	/* Validate the path only where normal mode is at stake. */
	ecn_probe_watch(n, normal && (n->options & OPTION_ECN_PATH_PROBES), ecn_mode_update);
	normal = normal && ecn_mode_path_allows(n->options, n->via == n, n->ecn_path.state);
	if(normal == n->ecn_normal)
		return;
	n->ecn_normal = normal;
	LOG(VERBOSITY_STATUS, LOG_DEBUG, "Packets to %s now go in RFC 6040 %s mode", n->name, normal ? "normal" : "compatibility");
}

void ecn_mode_update_all(void) {
	sset_foreach(node_t, n, &nodes_by_name)
		ecn_mode_update(n);
}

void ecn_mode_reload(void) {
	sset_foreach(node_t, n, &nodes_by_name)
		n->ecn_host = NODE_ECN_UNREAD;
	ecn_mode_update_all();
}
