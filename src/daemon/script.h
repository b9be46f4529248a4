/* The daemon's scripts (protocol.md §2.7): tinc-up and tinc-down, and the event
 * scripts of nodes and subnets. */
#ifndef FQTINC_SCRIPT_H
#define FQTINC_SCRIPT_H

#include "util/compat.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

/* Run CONFBASE/name if it exists, with the standard variables plus extra
 * "KEY=VALUE" entries (NULL-terminated). tinc-up and tinc-down run to
 * completion; event scripts are queued and run one at a time. */
bool run_script(const char *name, char **extra_env);
/* Wait for queued event scripts (shutdown). */
void script_drain(void);

/* host-up or host-down, then hosts/NAME-up or hosts/NAME-down. */
void host_scripts(node_t *n, bool up);
/* subnet-up or subnet-down for one subnet of owner, or all of them (NULL). */
void run_subnet_scripts(node_t *owner, subnet_t *subnet, bool up);

#endif
