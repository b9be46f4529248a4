/* Bringing the VPN up and down in tinc's order (spec §2.8) and re-reading
 * the configuration on SIGHUP (spec §2.9). */
#ifndef FQTINC_NETSETUP_H
#define FQTINC_NETSETUP_H

#include "util/compat.h"

/* Full path of CONFBASE/rel (xasprintf'd). */
char *confpath(const char *rel);
bool setup_network(void);
void close_network(void);
/* SIGHUP: re-read configuration. */
bool reload_configuration(void);

#endif
