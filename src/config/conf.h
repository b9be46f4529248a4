/* Configuration files as tincd 1.0.36 reads them (protocol.md §2.2–2.3): an ordered
 * set of (variable, value, file, line) entries with typed getters. */
#ifndef FQTINC_CONF_H
#define FQTINC_CONF_H

#include <netdb.h>

#include "util/compat.h"
#include "util/sset.h"

struct subnet;

typedef struct config {
	char *variable;
	char *value;
	char *file;  /* NULL for command-line (-o) entries */
	int line;    /* -1 for command-line entries */
} config_t;

typedef struct config_entries {
	sset_t entries; /* by variable (case-insensitive), cmdline first, line, file */
} config_entries_t;

config_entries_t *config_entries_new(void);
void config_entries_free(config_entries_t *tree);
void config_entries_add(config_entries_t *tree, config_t *cfg);
config_t *config_new(const char *variable, const char *value, const char *file, int line);
void config_free(config_t *cfg);

/* First entry for variable (case-insensitive), or NULL. */
config_t *config_first(const config_entries_t *tree, const char *variable);
/* Next entry with the same variable after cfg, or NULL. */
config_t *config_next(const config_entries_t *tree, const config_t *cfg);

/* Typed getters: on a malformed value they log "<what> expected for <var> in
 * <file> line <n>" (or "on the command line") and return false. */
bool config_value_bool(const config_t *cfg, bool *result);
bool config_value_int(const config_t *cfg, int *result);
bool config_value_string(const config_t *cfg, char **result); /* xstrdup'd */
bool config_value_subnet(const config_t *cfg, struct subnet **result);
/* Convenience: lookup + getter; returns true if the variable was present and valid.
 * *ok is set to false if present but invalid. */
bool conf_bool(const config_entries_t *tree, const char *var, bool *result);
bool conf_int(const config_entries_t *tree, const char *var, int *result);
bool conf_string(const config_entries_t *tree, const char *var, char **result);

/* Read one file into tree. Returns false (after logging "file:line: what")
 * on a syntax error or when the file cannot be read. */
bool config_read_file(config_entries_t *tree, const char *path);
/* tinc.conf, then every conf.d/NAME.conf. */
bool config_read_server(config_entries_t *tree, const char *config_dir);
/* hosts/NAME. */
bool config_read_host(config_entries_t *tree, const char *config_dir, const char *name);

/* "-o [HOST.]KEY=VALUE": on success *host is NULL (server option) or the host name
 * (xstrdup'd) and *cfg a command-line entry (line -1). */
bool parse_cmdline_option(const char *arg, char **host, config_t **cfg);

/* Valid node name: [A-Za-z0-9_]+ */
bool node_name_is_valid(const char *name);

/* Known option table: every tinc 1.0.36 option plus fqtinc's extensions. */
typedef enum option_scope { OPT_SERVER = 1, OPT_HOST = 2, OPT_BOTH = 3 } option_scope_t;
typedef struct option_info {
	const char *name;
	option_scope_t scope;
	bool multiple;      /* may appear several times */
	bool implemented;   /* false: accepted, warned about once */
	bool extension;     /* fqtinc extension, not in tinc 1.0.36 */
} option_info_t;
const option_info_t *option_lookup(const char *name);
/* Warn once per unknown or unimplemented variable found in tree. */
void config_warn_unknown(const config_entries_t *tree);

#endif
