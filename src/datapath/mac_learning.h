/* Switch mode: the MAC addresses seen on our device become our subnets for
 * MacExpire seconds after they were last seen, announced to every node. */
#ifndef FQTINC_MAC_LEARNING_H
#define FQTINC_MAC_LEARNING_H

#include <stdint.h>

#include "util/compat.h"
#include "route/route.h"

/* Act on a routing verdict's learning part for the frame's source MAC. */
void mac_learn(const route_verdict_t *v, const uint8_t source_mac[6]);
/* Housekeeping: withdraw the learned MACs whose time is up. */
void expire_learned_macs(void);

#endif
