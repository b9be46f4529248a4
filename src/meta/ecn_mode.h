/* The RFC 6040 mode of the packets we send to each node (issue 4,
 * doc/protocol-ecn.md): normal mode (the inner ECN field is copied to the
 * outer header) toward a node that announced correct decapsulation, else
 * compatibility mode (outer Not-ECT).
 *
 * The mode is computed here whenever one of its inputs can change, and
 * kept in node_t.ecn_normal for the data path to read:
 *   - the node's options: ACK (a peer's own announcement), ADD_EDGE and
 *     every other graph change (the edge through which we reach a node we
 *     are not connected to), through ecn_mode_update_all();
 *   - its host settings: the connection's hosts/NAME and -o NAME.ECN at
 *     ACK, hosts/NAME read once for other nodes, all read again on SIGHUP;
 *   - our own ECN setting: SIGHUP;
 *   - the path state (datapath/ecn_probe.c), which calls back on a change. */
#ifndef FQTINC_ECN_MODE_H
#define FQTINC_ECN_MODE_H

#include <stdint.h>

#include "util/compat.h"
#include "config/conf.h"
#include "mesh/node.h"

/* The decision, pure: own_ecn is our ECN setting, peer_options the node's
 * option bits (OPTION_ECN_RFC6040 is its announcement), host_ecn the ECN
 * option of its host settings (NODE_ECN_*; unread or unset count as yes). */
bool ecn_mode_normal(bool own_ecn, uint32_t peer_options, int host_ecn);
/* The path's part of the decision (doc/protocol.md §10.4): a node that
 * answers ECN path probes and that we send to directly gets normal mode
 * only over a path found capable. */
bool ecn_mode_path_allows(uint32_t peer_options, bool direct, ecn_path_state_t path);

/* The node's host settings as a connection read them (hosts/NAME with the
 * -o NAME.KEY entries merged), at ACK. */
void ecn_mode_host_settings(node_t *n, const config_entries_t *host_config);
/* Recompute n->ecn_normal; reads hosts/NAME first if it is needed and was
 * not read yet. */
void ecn_mode_update(node_t *n);
/* Every node, after the graph changed (options come from the edges). */
void ecn_mode_update_all(void);
/* SIGHUP: host files, -o and our own ECN setting may have changed. */
void ecn_mode_reload(void);

#endif
