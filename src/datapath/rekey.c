/* Receive keys (see rekey.h). */
#include "util/compat.h"

#include "datapath/rekey.h"
#include "datapath/uplink.h"
#include "mesh/node.h"
#include "packet/packet_codec.h"
#include "util/log.h"

bool keyexpire_requested;

void keyexpire_now(void) {
	LOG(VERBOSITY_STATUS, LOG_INFO, "Dropping all receive keys; new ones go out to every node");
	keyexpire_requested = false;
	sset_foreach(node_t, n, &nodes_by_name)
		if(n != local_node)
			packet_key_clear(&n->rx_key);
	uplink_keys_dropped();
}
