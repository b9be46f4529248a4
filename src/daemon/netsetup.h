/* Bringing the VPN up and down in tinc's order (protocol.md §2.8) and re-reading
 * the configuration on SIGHUP (protocol.md §2.9). */
#ifndef FQTINC_NETSETUP_H
#define FQTINC_NETSETUP_H

#include "util/compat.h"

/* Full path of CONFBASE/rel (xasprintf'd). */
char *confpath(const char *rel);
bool network_init(void);
void close_network(void);
/* SIGHUP: re-read configuration. */
bool reload_settings(void);

#endif
