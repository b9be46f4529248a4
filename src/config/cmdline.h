/* Configuration given on the command line (-o [HOST.]KEY=VALUE): server
 * entries join tinc.conf in settings.config, host entries join hosts/HOST
 * wherever a host's configuration is read. */
#ifndef FQTINC_CMDLINE_H
#define FQTINC_CMDLINE_H

#include "util/compat.h"
#include "config/conf.h"

/* Keep one -o argument; false if it is not [HOST.]KEY=VALUE. */
bool cmdline_option_add(const char *arg);
/* Merge the -o NAME.KEY=VALUE entries into tree (a host's configuration). */
void apply_cmdline_host_options(config_entries_t *tree, const char *name);
/* settings.config from the server -o entries, tinc.conf and conf.d (protocol.md
 * §2.9: the daemon adds its own host file at start-up only). False, with
 * the old tree kept, if a file cannot be read. */
bool reload_server_config(void);

#endif
