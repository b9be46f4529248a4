/* Fuzz the config file reader, the typed getters, the unknown-option warnings
 * and -o parsing. The input is the whole file; it reaches config_read_file()
 * through a memfd opened by path, the same way a real file is read. */
#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/conf.h"
#include "util/log.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

static int memfd = -1;
static char path[64];

static void setup(void) {
	memfd = memfd_create("fuzz_config", 0);
	if(memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	/* Format every message (that is code under test too) but keep the
	 * fuzzer's output readable. */
	debug_level = VERBOSITY_ERRORS;
	log_open(LOG_TO_FILE, "fuzz_config", "/dev/null");
}

static void exercise_getters(const config_t *cfg) {
	bool b;
	int i;
	char *s = NULL;
	subnet_t *subnet = NULL;
	config_value_bool(cfg, &b);
	config_value_int(cfg, &i);
	if(config_value_string(cfg, &s))
		free(s);
	if(config_value_subnet(cfg, &subnet)) {
		if(!subnet_hostbits_zero(subnet))
			abort();
		free(subnet);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if(memfd < 0)
		setup();

	if(ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();

	config_entries_t *tree = config_entries_new();
	config_read_file(tree, path);

	/* Every entry must be reachable through lookup/lookup_next. */
	size_t seen = 0;
	for(size_t i = 0; i < tree->entries.count; i++) {
		config_t *cfg = tree->entries.items[i];
		if(i == 0 || strcasecmp(((config_t *)tree->entries.items[i - 1])->variable, cfg->variable)) {
			for(config_t *c = config_first(tree, cfg->variable); c; c = config_next(tree, c))
				seen++;
		}
		exercise_getters(cfg);
	}
	if(seen != tree->entries.count)
		abort();
	config_warn_unknown(tree);

	/* The same bytes as a -o argument. */
	char *arg = xmalloc(size + 1);
	memcpy(arg, data, size);
	arg[size] = '\0';
	char *host = NULL;
	config_t *cfg = NULL;
	if(parse_cmdline_option(arg, &host, &cfg)) {
		if(!cfg || (host && !node_name_is_valid(host)))
			abort();
		config_entries_add(tree, cfg);
	}
	free(host);
	free(arg);

	config_entries_free(tree);
	return 0;
}
