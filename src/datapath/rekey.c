/* Receive keys (see rekey.h). */
#include "util/compat.h"

#include "datapath/rekey.h"
#include "datapath/uplink.h"
#include "mesh/node.h"
#include "packet/packet_codec.h"
#include "util/log.h"

bool keyexpire_requested;

void keyexpire_now(void) {
	LOG(DEBUG_STATUS, LOG_INFO, "Dropping all receive keys; new ones go out to every node");
	keyexpire_requested = false;
	sset_foreach(node_t, n, &node_tree)
		if(n != myself)
			packet_key_clear(&n->inkey);
	uplink_keys_dropped();
}
