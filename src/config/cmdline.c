/* The -o entries of the command line, kept for the daemon's lifetime. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "util/xalloc.h"

static config_entries_t *server_options;

typedef struct host_option {
	char *host;
	config_t *cfg;
} host_option_t;
static host_option_t *host_options;
static size_t n_host_options;

bool cmdline_option_add(const char *arg) {
	char *host = NULL;
	config_t *cfg = NULL;
	if(!parse_cmdline_option(arg, &host, &cfg))
		return false;
	if(host) {
		host_options = xrealloc(host_options, (n_host_options + 1) * sizeof(*host_options));
		host_options[n_host_options++] = (host_option_t){host, cfg};
	} else {
		if(!server_options)
			server_options = config_entries_new();
		config_entries_add(server_options, cfg);
	}
	return true;
}

void apply_cmdline_host_options(config_entries_t *tree, const char *name) {
	for(size_t i = 0; i < n_host_options; i++) {
		if(strcmp(host_options[i].host, name))
			continue;
		const config_t *c = host_options[i].cfg;
		config_entries_add(tree, config_new(c->variable, c->value, NULL, -1));
	}
}

bool reload_server_config(void) {
	config_entries_t *tree = config_entries_new();
	for(size_t i = 0; server_options && i < server_options->entries.count; i++) {
		const config_t *c = server_options->entries.items[i];
		config_entries_add(tree, config_new(c->variable, c->value, NULL, -1));
	}
	if(!config_read_server(tree, settings.config_dir)) {
		config_entries_free(tree);
		return false;
	}
	if(settings.config)
		config_entries_free(settings.config);
	settings.config = tree;
	return true;
}
